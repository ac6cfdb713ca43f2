//! Support PIN entry: four masked cells, digits only. Pasted text keeps its digits (at most four)
//! and never submits by itself.

use crate::desk::{AccountId, CaseId, Pin};
use crate::desk::pin::PIN_LEN;
use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, Key, ScreenId, command};
use crate::tui::screens::View;
use crate::tui::theme::Theme;
use crate::tui::widgets::pin_cells::{PinCells, WIDTH};
use crate::tui::widgets::text::fit;
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};
use zeroize::Zeroizing;

/// Whose Support PIN the screen checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinFor {
    /// The caller on the card, outside any case (the quick call).
    Call,
    /// The caller of the case on screen: verification for that case.
    CaseCaller(CaseId),
    /// The provider who must approve the case on screen.
    CaseApprover(CaseId, AccountId),
}

/// The PIN field for one caller.
#[derive(Debug)]
pub struct PinEntry {
    digits: Zeroizing<String>,
    pub caller_name: String,
    /// Whose PIN this is, so the app knows which check to run.
    pub purpose: PinFor,
    /// True from submit until the result is in ("checking...").
    pub checking: bool,
    /// A short note under the cells (e.g. "digits only").
    pub note: Option<String>,
}

impl PinEntry {
    pub fn new(caller_name: String, purpose: PinFor) -> PinEntry {
        PinEntry { digits: Zeroizing::new(String::new()), caller_name, purpose, checking: false, note: None }
    }

    /// How many digits are in.
    pub fn filled(&self) -> usize {
        self.digits.len()
    }

    /// Forgets the digits (after every submit, and on leaving the screen).
    pub fn clear(&mut self) {
        self.digits = Zeroizing::new(String::new());
    }
}

impl View for PinEntry {
    fn id(&self) -> ScreenId {
        ScreenId::PinEntry
    }

    /// Adds the digits of pasted text, up to four; never submits.
    fn paste(&mut self, text: &str) -> Option<Action> {
        if self.checking {
            return None;
        }
        let room = PIN_LEN - self.digits.len();
        let digits = Pin::digits_of(text);
        self.digits.extend(digits.chars().take(room));
        self.note = if digits.is_empty() { Some("Only digits go in a Support PIN.".into()) } else { None };
        None
    }

    fn handle_key(&mut self, key: Key) -> Option<Action> {
        if self.checking {
            return None;
        }
        if let Key::Char(c) = key {
            if c.is_ascii_digit() {
                if self.digits.len() < PIN_LEN {
                    self.digits.push(c);
                }
                self.note = None;
            } else {
                self.note = Some("Only digits 0-9 go in a Support PIN.".into());
            }
            return None;
        }
        match command(ScreenId::PinEntry, key)? {
            Cmd::Erase => {
                self.digits.pop();
                self.note = None;
            }
            Cmd::Back => {
                self.clear();
                return Some(Action::Back);
            }
            Cmd::Submit => {
                if self.digits.len() < PIN_LEN {
                    self.note = Some(format!("Enter all four digits ({} so far).", self.digits.len()));
                    return None;
                }
                let pin = Pin::parse(&self.digits).ok();
                self.clear();
                let pin = pin?;
                self.checking = true;
                return Some(Action::SubmitPin(pin));
            }
            _ => {}
        }
        None
    }

    fn render(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
        let block = Block::bordered().title(" Support PIN ");
        let inner = block.inner(area);
        f.render_widget(block, area);
        let width = inner.width as usize;
        let intro = Paragraph::new(vec![
            Line::raw(fit(&format!(" Caller: {}", self.caller_name), width)),
            Line::styled(fit(" Type the four digits the caller reads out. They are never shown.", width), theme.dim()),
        ]);
        f.render_widget(intro, Rect { height: 2.min(inner.height), ..inner });
        let cells = Rect { x: inner.x + 1, y: inner.y + 3, width: WIDTH.min(inner.width), height: 3 };
        if cells.bottom() <= inner.bottom() {
            f.render_widget(PinCells { filled: self.filled(), theme }, cells);
        }
        let status_y = inner.y + 7;
        if status_y < inner.bottom() {
            let line = if self.checking {
                Line::styled(" checking...", theme.warn())
            } else if let Some(note) = &self.note {
                Line::styled(fit(&format!(" {note}"), width), theme.error())
            } else {
                Line::raw("")
            };
            f.render_widget(Paragraph::new(line), Rect { y: status_y, height: 1, ..inner });
        }
        if !self.checking && self.filled() < PIN_LEN && cells.bottom() <= inner.bottom() {
            let x = cells.x + 6 * self.filled() as u16 + 2;
            f.set_cursor_position(Position { x, y: cells.y + 1 });
        }
    }
}
