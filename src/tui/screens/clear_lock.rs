//! Clearing a locked Support PIN (leads only): the lead writes the reason, which is audited.

use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, Key, ScreenId, command};
use crate::tui::theme::Theme;
use crate::tui::widgets::text::{fit, one_line, pop_grapheme, tail, width};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

/// The reason form for clearing a PIN lock.
#[derive(Debug, Default)]
pub struct ClearLock {
    pub caller_name: String,
    pub reason: String,
    pub message: Option<String>,
}

impl ClearLock {
    pub fn new(caller_name: String) -> ClearLock {
        ClearLock { caller_name, ..ClearLock::default() }
    }

    pub fn paste(&mut self, text: &str) {
        self.reason.push_str(&one_line(text));
    }

    pub fn handle_key(&mut self, key: Key) -> Option<Action> {
        if let Key::Char(c) = key {
            self.reason.push(c);
            return None;
        }
        match command(ScreenId::ClearLock, key)? {
            Cmd::Erase => pop_grapheme(&mut self.reason),
            Cmd::Back => return Some(Action::Back),
            Cmd::Submit => return Some(Action::SubmitClearLock(self.reason.trim().to_string())),
            _ => {}
        }
        None
    }

    /// Shows why the reason was not accepted.
    pub fn set_message(&mut self, message: String) {
        self.message = Some(message);
    }

    pub fn render(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
        let block = Block::bordered().title(" Clear the Support PIN lock ");
        let inner = block.inner(area);
        f.render_widget(block, area);
        let w = inner.width as usize;
        let shown = tail(&self.reason, w.saturating_sub(4));
        let mut lines = vec![
            Line::raw(fit(&format!(" Caller: {}", self.caller_name), w)),
            Line::styled(
                fit(" The PIN stays as it is; the failure count starts again at 0. Audited with your reason.", w),
                theme.dim(),
            ),
            Line::raw(""),
            Line::raw(fit(" Why is the lock cleared? (e.g. \"holder identified by call-back on the number of record\")", w)),
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
