//! Account unlock: no PIN needed, but the rep notes how the caller was identified.

use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, Key, ScreenId, command};
use crate::tui::theme::Theme;
use crate::tui::widgets::text::{fit, one_line, pop_grapheme, tail, width};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

/// The unlock note form.
#[derive(Debug, Default)]
pub struct Unlock {
    pub caller_name: String,
    pub note: String,
    pub message: Option<String>,
}

impl Unlock {
    pub fn new(caller_name: String) -> Unlock {
        Unlock { caller_name, ..Unlock::default() }
    }

    pub fn paste(&mut self, text: &str) {
        self.note.push_str(&one_line(text));
    }

    pub fn handle_key(&mut self, key: Key) -> Option<Action> {
        if let Key::Char(c) = key {
            self.note.push(c);
            return None;
        }
        match command(ScreenId::Unlock, key)? {
            Cmd::Erase => pop_grapheme(&mut self.note),
            Cmd::Back => return Some(Action::Back),
            Cmd::Submit => return Some(Action::SubmitUnlock(self.note.trim().to_string())),
            _ => {}
        }
        None
    }

    pub fn render(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
        let block = Block::bordered().title(" Account unlock ");
        let inner = block.inner(area);
        f.render_widget(block, area);
        let w = inner.width as usize;
        let field_w = w.saturating_sub(4);
        let shown = tail(&self.note, field_w);
        let mut lines = vec![
            Line::raw(fit(&format!(" Caller: {}", self.caller_name), w)),
            Line::styled(fit(" Unlock needs no Support PIN. Password, two-factor and email stay as they are.", w), theme.dim()),
            Line::raw(""),
            Line::raw(fit(" How was the caller identified? (e.g. \"called back on the number of record\")", w)),
            Line::styled(format!(" > {shown}"), theme.focus()),
            Line::raw(""),
        ];
        if let Some(msg) = &self.message {
            // Wrapped, never cut: the rep reads why the text was refused.
            lines.push(Line::styled(format!(" {msg}"), theme.error()));
        }
        f.render_widget(Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false }), inner);
        let x = inner.x + 3 + width(&shown) as u16;
        if x < inner.right() && inner.height > 4 {
            f.set_cursor_position(Position { x, y: inner.y + 4 });
        }
    }
}

impl Unlock {
    /// Shows why the note was not accepted.
    pub fn set_message(&mut self, message: String) {
        self.message = Some(message);
    }
}
