//! The case's text forms: a note (one field), and the provider's reply (its reference and the
//! address it came from).

use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, Key, ScreenId, command};
use crate::tui::theme::Theme;
use crate::tui::widgets::text::{fit, one_line, pop_grapheme, tail, width};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

/// A note or a reply form for the case on screen.
#[derive(Debug)]
pub struct CaseForm {
    /// `ScreenId::CaseNote` or `ScreenId::CaseReply`.
    pub screen: ScreenId,
    /// "Case #3: Carla Mendes, on behalf of ..."
    pub title: String,
    /// For a reply: who must approve and from which address.
    pub hint: Option<String>,
    /// The note, or the reply's reference.
    pub first: String,
    /// The reply's sender address.
    pub second: String,
    /// 0 = first field, 1 = second.
    pub field: usize,
    pub message: Option<String>,
}

impl CaseForm {
    pub fn note(title: String) -> CaseForm {
        CaseForm { screen: ScreenId::CaseNote, title, hint: None, first: String::new(), second: String::new(), field: 0, message: None }
    }

    pub fn reply(title: String, hint: String) -> CaseForm {
        CaseForm { screen: ScreenId::CaseReply, hint: Some(hint), ..CaseForm::note(title) }
    }

    fn current(&mut self) -> &mut String {
        if self.field == 0 { &mut self.first } else { &mut self.second }
    }

    pub fn paste(&mut self, text: &str) {
        let text = one_line(text);
        self.current().push_str(&text);
    }

    /// Shows why the input was not accepted.
    pub fn set_message(&mut self, message: String) {
        self.message = Some(message);
    }

    pub fn handle_key(&mut self, key: Key) -> Option<Action> {
        if let Key::Char(c) = key {
            self.current().push(c);
            return None;
        }
        let reply = self.screen == ScreenId::CaseReply;
        match command(self.screen, key)? {
            Cmd::Erase => pop_grapheme(self.current()),
            Cmd::NextField if reply => self.field = 1 - self.field,
            Cmd::Back => return Some(Action::Back),
            Cmd::Submit if reply && self.field == 0 => self.field = 1,
            Cmd::Submit if reply => {
                return Some(Action::SubmitReply { reference: self.first.trim().to_string(), from: self.second.trim().to_string() });
            }
            Cmd::Submit => return Some(Action::SubmitNote(self.first.trim().to_string())),
            _ => {}
        }
        None
    }

    pub fn render(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
        let block = Block::bordered().title(format!(" {} ", self.screen.title()));
        let inner = block.inner(area);
        f.render_widget(block, area);
        let w = inner.width as usize;
        let field_w = w.saturating_sub(4);
        let mut lines = vec![Line::raw(fit(&format!(" {}", self.title), w))];
        if let Some(h) = &self.hint {
            lines.push(Line::styled(fit(&format!(" {h}"), w), theme.dim()));
        }
        lines.push(Line::raw(""));
        let labels: &[&str] = if self.screen == ScreenId::CaseReply {
            &["Reference (message id or ticket link)", "From (the address the reply came from)"]
        } else {
            &["Note (never a Support PIN)"]
        };
        let mut cursor = None;
        for (i, label) in labels.iter().enumerate() {
            let value = if i == 0 { &self.first } else { &self.second };
            let shown = tail(value, field_w);
            lines.push(Line::raw(fit(&format!(" {label}"), w)));
            let style = if i == self.field { theme.focus() } else { ratatui::style::Style::new() };
            if i == self.field {
                cursor = Some((lines.len() as u16, width(&shown) as u16));
            }
            lines.push(Line::styled(format!(" > {shown}"), style));
        }
        lines.push(Line::raw(""));
        if let Some(msg) = &self.message {
            lines.push(Line::styled(fit(&format!(" {msg}"), usize::MAX), theme.error()));
        }
        f.render_widget(Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false }), inner);
        if let Some((row, col)) = cursor {
            let (x, y) = (inner.x + 3 + col, inner.y + row);
            if x < inner.right() && y < inner.bottom() {
                f.set_cursor_position(Position { x, y });
            }
        }
    }
}
