//! The caller card: who the caller is, their practice, links, lock and Support PIN status, and the
//! account's recent cases (as the caller, or as the account a request was about).

use crate::desk::{CallerCard, CaseId, CaseSummary, PinCheck, Role};
use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, Key, ScreenId, command};
use crate::tui::screens::View;
use crate::tui::screens::case_queue::age;
use crate::tui::theme::Theme;
use crate::tui::widgets::table::{first_shown, fixed, mark};
use crate::tui::widgets::text::{fit, wrap_indented};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

/// How many recent cases the card loads (as many as fit are drawn).
pub const RECENT_CASES: usize = 5;

/// The card of the caller on this call.
#[derive(Debug)]
pub struct Card {
    pub card: CallerCard,
    /// The last Support PIN check on this call, if any.
    pub last_check: Option<PinCheck>,
    /// The account's most recent cases, newest first.
    pub recent: Vec<CaseSummary>,
    /// Which recent case Enter opens.
    pub selected: usize,
    /// When the recent cases were loaded (ages count from here; drawing never reads a clock).
    pub loaded_at: DateTime<Utc>,
    /// Why the recent cases could not be read: shown instead of them (never as "none").
    pub recent_failed: Option<String>,
}

impl Card {
    pub fn new(card: CallerCard, recent: Vec<CaseSummary>, now: DateTime<Utc>) -> Card {
        Card { card, last_check: None, recent, selected: 0, loaded_at: now, recent_failed: None }
    }

    /// New recent cases (after a case was worked), the selection kept on the same case if it is
    /// still listed.
    pub fn set_recent(&mut self, recent: Vec<CaseSummary>, now: DateTime<Utc>) {
        let chosen = self.recent.get(self.selected).map(|c| c.id);
        self.selected = chosen.and_then(|id| recent.iter().position(|c| c.id == id)).unwrap_or(0);
        self.recent = recent;
        self.loaded_at = now;
        self.recent_failed = None;
    }

    /// The recent cases could not be read: the old list goes (a case in it may have changed) and
    /// the card says why.
    pub fn set_recent_failed(&mut self, why: String) {
        self.recent.clear();
        self.selected = 0;
        self.recent_failed = Some(why);
    }

    fn render_recent(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
        let w = area.width as usize;
        if let Some(why) = &self.recent_failed {
            let text = format!("Recent cases could not be read: {why}");
            let lines = wrap_indented(&text, w, area.height as usize, " ");
            f.render_widget(Paragraph::new(lines.into_iter().map(|l| Line::styled(l, theme.error())).collect::<Vec<_>>()), area);
            return;
        }
        if self.recent.is_empty() {
            f.render_widget(Paragraph::new(Line::styled(fit(" Recent cases: none for this account.", w), theme.dim())), area);
            return;
        }
        let rows_fit = area.height.saturating_sub(1) as usize;
        let heading = if self.recent.len() > rows_fit {
            format!(" Recent cases ({rows_fit} of {} shown; ↑/↓ choose, Enter opens)", self.recent.len())
        } else {
            " Recent cases (↑/↓ choose, Enter opens)".to_string()
        };
        f.render_widget(Paragraph::new(Line::styled(fit(&heading, w), theme.title())), Rect { height: 1, ..area });
        let me = &self.card.account.id;
        let (id_w, status_w, age_w) = (7, 18, 4);
        let request_w = w.saturating_sub(id_w + status_w + age_w + 3);
        let skip = first_shown(self.selected, rows_fit);
        let rows: Vec<Row> = self
            .recent
            .iter()
            .enumerate()
            .skip(skip)
            .take(rows_fit)
            .map(|(i, c)| {
                let status = match c.outcome {
                    Some(o) => format!("closed: {}", o.as_str()),
                    None => c.status.label().to_string(),
                };
                // On the card of the account a request was about, say who asked.
                let request = if &c.caller.id == me {
                    c.request_label()
                } else {
                    format!("for this account, asked by {} ({})", c.caller.name, c.caller.id)
                };
                let row = Row::new([
                    Cell::from(format!(" #{}", c.id)),
                    Cell::from(fit(&status, status_w)),
                    Cell::from(fit(&request, request_w)),
                    Cell::from(age(c.closed_at.as_deref().unwrap_or(&c.opened_at), self.loaded_at)),
                ]);
                mark(row, i == self.selected, theme)
            })
            .collect();
        let widths = fixed([id_w, status_w, request_w, age_w]);
        let table = Rect { y: area.y + 1, height: area.height - 1, ..area };
        f.render_widget(Table::new(rows, widths).column_spacing(1), table);
    }
}

impl View for Card {
    fn id(&self) -> ScreenId {
        ScreenId::Card
    }

    fn handle_key(&mut self, key: Key) -> Option<Action> {
        Some(match command(ScreenId::Card, key)? {
            Cmd::CheckPin => Action::StartPinEntry,
            Cmd::OwnAccount => Action::Decide(crate::desk::Request::OwnAccount),
            Cmd::OnBehalf => Action::ChooseTarget,
            Cmd::Unlock => Action::StartUnlock,
            Cmd::ClearLock => Action::StartClearLock,
            Cmd::StartCase => Action::StartCase,
            Cmd::NewCall => Action::NewCall,
            Cmd::Back => Action::Back,
            Cmd::Up => {
                self.selected = self.selected.saturating_sub(1);
                return None;
            }
            Cmd::Down => {
                self.selected = (self.selected + 1).min(self.recent.len().saturating_sub(1));
                return None;
            }
            Cmd::Submit => {
                let id: CaseId = self.recent.get(self.selected)?.id;
                Action::ViewCase(id)
            }
            _ => return None,
        })
    }

    fn render(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
        let a = &self.card.account;
        // The value column: the width inside the borders less the label column.
        let w = area.width.saturating_sub(2 + 19) as usize;
        let row = |label: &str, value: String, style| {
            Line::from(vec![Span::styled(format!(" {label:<17} "), theme.dim()), Span::styled(fit(&value, w), style)])
        };
        let plain = ratatui::style::Style::new();
        let mut lines = vec![
            row("Name", a.name.clone(), theme.title()),
            row("Account id", a.id.to_string(), plain),
            row("Role", a.role.label().to_string(), plain),
            row("Practice", a.practice.clone(), plain),
            row("Contact", format!("{} · {}", a.email, a.phone), plain),
        ];
        match a.role {
            Role::Staff => lines.push(row(
                "Primary provider",
                self.card
                    .primary_provider
                    .as_ref()
                    .map(|p| format!("{} ({})", p.name, p.id))
                    .unwrap_or_else(|| "none on record".into()),
                plain,
            )),
            Role::Provider => {
                let staff = if self.card.staff.is_empty() {
                    "none".to_string()
                } else {
                    self.card.staff.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
                };
                lines.push(row("Staff", staff, plain));
            }
        }
        lines.push(if !a.active {
            row("Account", "INACTIVE in the directory".into(), theme.error())
        } else if a.account_locked {
            row("Account", "LOCKED (u: unlock)".into(), theme.warn())
        } else {
            row("Account", "active, not locked".into(), plain)
        });
        if !a.has_pin {
            lines.push(row("Support PIN", "none set (the holder makes one in their settings)".into(), theme.warn()));
        } else if a.pin_locked {
            lines.push(row("Support PIN", "LOCKED: the holder makes a new PIN, or a lead clears it (l)".into(), theme.error()));
        } else {
            lines.push(row("Support PIN", "set, not locked".into(), plain));
        }
        let validated = a
            .pin_validated_at
            .as_deref()
            .and_then(crate::desk::clock::from_db)
            .map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "never".into());
        let failures_style = if a.pin_failures > 0 { theme.warn() } else { plain };
        let failures = format!(" · {} failure(s) in a row", a.pin_failures);
        lines.push(Line::from(vec![
            Span::styled(format!(" {:<17} ", "PIN validated"), theme.dim()),
            Span::raw(fit(&validated, w)),
            Span::styled(fit(&failures, w.saturating_sub(crate::tui::widgets::text::width(&validated))), failures_style),
        ]));
        lines.push(Line::raw(""));
        match &self.last_check {
            Some(PinCheck::Matched) => {
                lines.push(Line::styled(" ✔ Support PIN matched on this call.", theme.good()));
                lines.push(Line::styled("   It was rotated at once; nobody at the desk sees the new one.", theme.dim()));
            }
            Some(PinCheck::Rejected { attempts_left }) => lines.push(Line::styled(
                format!(" ✖ Support PIN did not match ({attempts_left} attempt(s) left before it locks)."),
                theme.error(),
            )),
            Some(PinCheck::Locked) => {
                lines.push(Line::styled(" ✖ Support PIN is locked: no check can match.", theme.error()));
                lines.push(Line::styled("   The holder makes a new one in their settings, or a lead clears the lock.", theme.dim()));
            }
            None => lines.push(Line::styled(" Support PIN not checked on this call yet (p).", theme.dim())),
        }
        let block = Block::bordered().title(Span::styled(" Caller ", theme.title()));
        let inner = block.inner(area);
        f.render_widget(block, area);
        let para = Paragraph::new(lines).wrap(Wrap { trim: false });
        let used = (para.line_count(inner.width) as u16).min(inner.height);
        f.render_widget(para, Rect { height: used, ..inner });
        // Below the status, if a blank line, the heading and one case fit: the recent cases.
        if inner.height >= used + 3 {
            let rest = Rect { y: inner.y + used + 1, height: inner.height - used - 1, ..inner };
            self.render_recent(f, rest, theme);
        }
    }
}
