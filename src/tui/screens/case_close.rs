//! Closing a case: pick its outcome.

use crate::desk::CaseOutcome;
use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, Key, ScreenId, command};
use crate::tui::screens::View;
use crate::tui::theme::Theme;
use crate::tui::widgets::text::fit;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

/// The outcome picker for the case on screen.
#[derive(Debug)]
pub struct CaseClose {
    pub title: String,
    /// After `d`: the number of the case this one duplicates, being typed.
    pub duplicate_of: Option<String>,
}

impl View for CaseClose {
    fn id(&self) -> ScreenId {
        ScreenId::CaseClose
    }

    fn captures_text(&self) -> bool {
        self.duplicate_of.is_some()
    }

    fn paste(&mut self, text: &str) -> Option<Action> {
        // "#5" as the lists show a case: its digits.
        self.duplicate_of.as_mut()?.extend(text.chars().filter(char::is_ascii_digit));
        None
    }

    fn handle_key(&mut self, key: Key) -> Option<Action> {
        if let Some(number) = self.duplicate_of.as_mut() {
            match key {
                Key::Char(c) if c.is_ascii_digit() && number.len() < 12 => number.push(c),
                Key::Backspace => {
                    number.pop();
                }
                Key::Enter => return number.parse().ok().map(|n| Action::CloseDuplicate(crate::desk::CaseId(n))),
                Key::Esc => self.duplicate_of = None,
                _ => {}
            }
            return None;
        }
        Some(match command(ScreenId::CaseClose, key)? {
            Cmd::Assisted => Action::CloseCase(CaseOutcome::Assisted),
            Cmd::Refused => Action::CloseCase(CaseOutcome::Refused),
            Cmd::Abandoned => Action::CloseCase(CaseOutcome::Abandoned),
            Cmd::Duplicate => {
                self.duplicate_of = Some(String::new());
                return None;
            }
            Cmd::Back => Action::Back,
            _ => return None,
        })
    }

    fn render(&self, f: &mut Frame<'_>, area: Rect, _theme: Theme) {
        let block = Block::bordered().title(" Close the case ");
        let inner = block.inner(area);
        f.render_widget(block, area);
        let w = inner.width as usize;
        let lines = vec![
            Line::raw(fit(&format!(" {}", self.title), w)),
            Line::raw(""),
            Line::raw(" How did it end?"),
            Line::raw("   a  assisted"),
            Line::raw("   r  refused"),
            Line::raw("   b  abandoned"),
            Line::raw("   d  duplicate"),
        ];
        let mut lines = lines;
        if let Some(number) = &self.duplicate_of {
            lines.push(Line::raw(""));
            lines.push(Line::raw(fit(&format!(" Duplicate of case #{number}▏  (Enter closes, Esc goes back)"), w)));
        }
        f.render_widget(Paragraph::new(lines), inner);
    }
}
