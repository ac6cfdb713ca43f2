//! The caller card: who the caller is, their practice, links, lock and Support PIN status.

use crate::desk::{CallerCard, PinCheck, Role};
use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, Key, ScreenId, command};
use crate::tui::theme::Theme;
use crate::tui::widgets::text::fit;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

/// The card of the caller on this call.
#[derive(Debug)]
pub struct Card {
    pub card: CallerCard,
    /// The last Support PIN check on this call, if any.
    pub last_check: Option<PinCheck>,
}

impl Card {
    pub fn new(card: CallerCard) -> Card {
        Card { card, last_check: None }
    }

    pub fn handle_key(&mut self, key: Key) -> Option<Action> {
        Some(match command(ScreenId::Card, key)? {
            Cmd::CheckPin => Action::StartPinEntry,
            Cmd::OwnAccount => Action::Decide(crate::desk::Request::OwnAccount),
            Cmd::OnBehalf => Action::ChooseTarget,
            Cmd::Unlock => Action::StartUnlock,
            Cmd::ClearLock => Action::StartClearLock,
            Cmd::StartCase => Action::StartCase,
            Cmd::NewCall => Action::NewCall,
            Cmd::Back => Action::Back,
            _ => return None,
        })
    }

    pub fn render(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
        let a = &self.card.account;
        let w = area.width.saturating_sub(20) as usize;
        let row = |label: &str, value: String, style| {
            Line::from(vec![Span::styled(format!(" {label:<17} "), theme.dim()), Span::styled(fit(&value, w), style)])
        };
        let plain = ratatui::style::Style::new();
        let mut lines = vec![
            row("Name", a.name.clone(), theme.title()),
            row("Account id", a.id.to_string(), plain),
            row("Role", a.role.label().to_string(), plain),
            row("Practice", a.practice.clone(), plain),
            row("Email", a.email.clone(), plain),
            row("Phone", a.phone.clone(), plain),
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
            lines.push(row("Support PIN", "LOCKED after repeated failures (holder makes a new one, or a lead clears it: l)".into(), theme.error()));
        } else {
            lines.push(row("Support PIN", "set, not locked".into(), plain));
        }
        let validated = a
            .pin_validated_at
            .as_deref()
            .and_then(crate::desk::clock::from_db)
            .map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "never".into());
        lines.push(row("PIN validated", validated, plain));
        let failures_style = if a.pin_failures > 0 { theme.warn() } else { plain };
        lines.push(row("Failures in a row", a.pin_failures.to_string(), failures_style));
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
        f.render_widget(Paragraph::new(lines).block(block).wrap(ratatui::widgets::Wrap { trim: false }), area);
    }
}
