//! The caller card: who the caller is, their practice, links, lock and Support PIN status, and the
//! account's recent cases (as the caller, or as the account a request was about).

use crate::desk::{CallerCard, CaseId, CaseSummary, PinCheck, Role};
use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, Key, ScreenId, command};
use crate::tui::screens::View;
use crate::tui::screens::case_queue::age;
use crate::tui::theme::Theme;
use crate::tui::widgets::table::{first_shown, fixed, mark};
use crate::tui::widgets::notice::notice;
use crate::tui::widgets::text::{fit, width as width_of, wrap, wrap_indented};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

/// How many recent cases the card loads (as many as fit are drawn).
pub const RECENT_CASES: usize = 5;

/// The card of the caller on this call.
#[derive(Debug)]
pub struct Card {
    pub card: CallerCard,
    /// The last Support PIN check on this call, if any.
    pub last_check: Option<PinCheck>,
    /// Until when this call's PIN match verifies the caller (the core's rule, the same the verdict
    /// applies): the idle timeout after the match.
    pub matched_until: Option<DateTime<Utc>>,
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
        Card { card, last_check: None, matched_until: None, recent, selected: 0, loaded_at: now, recent_failed: None }
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
            notice(f, area, &format!("Recent cases could not be read: {why}"), " ", theme.error());
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
        let block = Block::bordered().title(Span::styled(" Caller ", theme.title()));
        let inner = block.inner(area);
        f.render_widget(block, area);
        let mut parts = self.parts(inner.width as usize, theme);
        // A short window: the parts that matter least give way first, so the Support PIN status
        // on this call and who the caller is always show.
        let height = |parts: &[(u8, Part)]| parts.iter().map(|(_, p)| p.height()).sum::<usize>();
        while height(&parts) > inner.height as usize {
            // The least important, the lowest on the card first among equals.
            let least = parts
                .iter()
                .enumerate()
                .filter(|(_, (keep, _))| *keep < ESSENTIAL)
                .min_by_key(|(i, (keep, _))| (*keep, usize::MAX - i))
                .map(|(i, _)| i);
            let Some(least) = least else { break };
            parts.remove(least);
        }
        let spare = (inner.height as usize).saturating_sub(height(&parts));
        let mut y = inner.y;
        for (_, part) in parts {
            if y >= inner.bottom() {
                break;
            }
            let rows = match &part {
                Part::Recent(min) => min + spare,
                other => other.height(),
            };
            let rect = Rect { y, height: (rows as u16).min(inner.bottom() - y), ..inner };
            match part {
                Part::Lines(lines) => f.render_widget(Paragraph::new(lines), rect),
                Part::Recent(_) => self.render_recent(f, rect, theme),
            }
            y += rect.height;
        }
    }
}

/// Parts that never give way to a short window.
const ESSENTIAL: u8 = 9;

/// A piece of the card: lines drawn as they are, or the recent cases (at least this many rows;
/// they take whatever room is left).
enum Part {
    Lines(Vec<Line<'static>>),
    Recent(usize),
}

impl Part {
    fn height(&self) -> usize {
        match self {
            Part::Lines(lines) => lines.len(),
            Part::Recent(min) => *min,
        }
    }
}

impl Card {
    /// The card's parts in the order drawn, each with how much it matters (higher stays longer
    /// in a short window; [`ESSENTIAL`] always stays). `width` is inside the border.
    fn parts(&self, width: usize, theme: Theme) -> Vec<(u8, Part)> {
        let a = &self.card.account;
        // The value column: what the label column leaves.
        let w = width.saturating_sub(19);
        let row = |label: &str, value: String, style| {
            Part::Lines(vec![Line::from(vec![
                Span::styled(format!(" {label:<17} "), theme.dim()),
                Span::styled(fit(&value, w), style),
            ])])
        };
        let plain = ratatui::style::Style::new();
        let mut parts = vec![
            (ESSENTIAL, row("Name", a.name.clone(), theme.title())),
            (7, row("Account id", a.id.to_string(), plain)),
            (2, row("Role", a.role.label().to_string(), plain)),
            (4, row("Practice", a.practice.clone(), plain)),
        ];
        let contact = format!("{} · {}", a.email, a.phone);
        if width_of(&contact) <= w {
            parts.push((5, row("Contact", contact, plain)));
        } else {
            // Both whole on their own rows rather than the phone cut off.
            parts.push((5, row("Phone", a.phone.clone(), plain)));
            parts.push((4, row("Email", a.email.clone(), plain)));
        }
        match a.role {
            Role::Staff => parts.push((
                5,
                row(
                    "Primary provider",
                    self.card
                        .primary_provider
                        .as_ref()
                        .map(|p| format!("{} ({})", p.name, p.id))
                        .unwrap_or_else(|| "none on record".into()),
                    plain,
                ),
            )),
            Role::Provider => {
                let staff = if self.card.staff.is_empty() {
                    "none".to_string()
                } else {
                    self.card.staff.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
                };
                parts.push((5, row("Staff", staff, plain)));
            }
        }
        parts.push((
            8,
            if !a.active {
                row("Account", "INACTIVE in the directory".into(), theme.error())
            } else if a.account_locked {
                row("Account", "LOCKED (u: unlock)".into(), theme.warn())
            } else {
                row("Account", "active, not locked".into(), plain)
            },
        ));
        parts.push((
            8,
            if !a.has_pin {
                row("Support PIN", "none set (the holder makes one in their settings)".into(), theme.warn())
            } else if a.pin_locked {
                row("Support PIN", "LOCKED: the holder makes a new PIN, or a lead clears it (l)".into(), theme.error())
            } else {
                row("Support PIN", "set, not locked".into(), plain)
            },
        ));
        let validated = a
            .pin_validated_at
            .as_deref()
            .and_then(crate::desk::clock::from_db)
            .map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "never".into());
        let failures_style = if a.pin_failures > 0 { theme.warn() } else { plain };
        let failures = format!(" · {} failure(s) in a row", a.pin_failures);
        parts.push((
            3,
            Part::Lines(vec![Line::from(vec![
                Span::styled(format!(" {:<17} ", "PIN validated"), theme.dim()),
                Span::raw(fit(&validated, w)),
                Span::styled(fit(&failures, w.saturating_sub(width_of(&validated))), failures_style),
            ])]),
        ));
        parts.push((1, Part::Lines(vec![Line::raw("")])));
        // This call's Support PIN status, wrapped (never cut), then what it means.
        let (status, style, then): (String, _, Option<&str>) = match &self.last_check {
            Some(PinCheck::Matched) => (
                match self.matched_until {
                    Some(until) => format!(
                        "✔ Support PIN matched on this call (it counts until {}).",
                        until.with_timezone(&chrono::Local).format("%H:%M")
                    ),
                    None => "✔ Support PIN matched on this call.".into(),
                },
                theme.good(),
                Some("It was rotated at once; nobody at the desk sees the new one."),
            ),
            Some(PinCheck::Rejected { attempts_left }) => (
                format!("✖ Support PIN did not match ({attempts_left} attempt(s) left before it locks)."),
                theme.error(),
                None,
            ),
            Some(PinCheck::Locked) => (
                "✖ Support PIN is locked: no check can match.".into(),
                theme.error(),
                Some("The holder makes a new one in their settings, or a lead clears the lock."),
            ),
            None => ("Support PIN not checked on this call yet (p).".into(), theme.dim(), None),
        };
        parts.push((ESSENTIAL, Part::Lines(hanging(&status, width, style))));
        if let Some(then) = then {
            parts.push((3, Part::Lines(wrap_indented(then, width, 3, "   ").into_iter().map(|l| Line::styled(l, theme.dim())).collect())));
        }
        // The recent cases: the heading and one case at least, before the card's lesser rows.
        parts.push((1, Part::Lines(vec![Line::raw("")])));
        if self.recent.is_empty() || self.recent_failed.is_some() {
            parts.push((6, Part::Recent(1)));
        } else {
            parts.push((6, Part::Recent(2)));
        }
        parts
    }
}

/// `text` wrapped in `width` after one space, the wrapped lines lined up after its first word
/// (the symbol).
fn hanging(text: &str, width: usize, style: ratatui::style::Style) -> Vec<Line<'static>> {
    let lines = wrap(text, width.saturating_sub(3), usize::MAX);
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| Line::styled(if i == 0 { format!(" {l}") } else { format!("   {l}") }, style))
        .collect()
}
