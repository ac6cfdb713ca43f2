//! Sign-in: username and masked passphrase.

use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, Key, ScreenId, command};
use crate::tui::screens::View;
use crate::tui::theme::Theme;
use crate::tui::widgets::text::{one_line, pop_grapheme, tail, width, wrap_indented};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use zeroize::Zeroizing;

/// Which field has the cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Username,
    Passphrase,
}

/// The sign-in form.
#[derive(Debug)]
pub struct SignIn {
    pub username: String,
    pub passphrase: Zeroizing<String>,
    pub focus: Field,
    /// Shown under the form (why the last sign-in did not work, or that the session ended).
    pub message: Option<String>,
}

impl Default for SignIn {
    fn default() -> Self {
        SignIn { username: String::new(), passphrase: Zeroizing::new(String::new()), focus: Field::Username, message: None }
    }
}

impl SignIn {
    /// Clears the passphrase (after every attempt).
    pub fn clear_passphrase(&mut self) {
        self.passphrase = Zeroizing::new(String::new());
    }

    /// After a refused sign-in: both fields are cleared (a passphrase typed into the username
    /// field by mistake does not stay on screen) and the cursor goes back to the username.
    pub fn refused(&mut self, message: String) {
        self.username.clear();
        self.clear_passphrase();
        self.focus = Field::Username;
        self.message = Some(message);
    }
}

impl View for SignIn {
    fn id(&self) -> ScreenId {
        ScreenId::SignIn
    }

    /// True while typing the passphrase, where every printable character (even `?`) is text.
    fn captures_text(&self) -> bool {
        self.focus == Field::Passphrase
    }

    /// Pasted text goes into the focused field, on one line.
    fn paste(&mut self, text: &str) -> Option<Action> {
        let clean = one_line(text);
        match self.focus {
            Field::Username => self.username.push_str(clean.trim()),
            Field::Passphrase => self.passphrase.push_str(clean.trim_end()),
        }
        None
    }

    fn handle_key(&mut self, key: Key) -> Option<Action> {
        if let Key::Char(c) = key {
            match self.focus {
                Field::Username => self.username.push(c),
                Field::Passphrase => self.passphrase.push(c),
            }
            return None;
        }
        match command(ScreenId::SignIn, key)? {
            Cmd::NextField => self.focus = Field::Passphrase,
            Cmd::PrevField => self.focus = Field::Username,
            Cmd::Erase => match self.focus {
                Field::Username => pop_grapheme(&mut self.username),
                Field::Passphrase => {
                    self.passphrase.pop();
                }
            },
            Cmd::Submit if self.focus == Field::Username => self.focus = Field::Passphrase,
            Cmd::Submit => {
                // An empty field is never sent: it could only fail, and each failure counts
                // towards the rep's lockout.
                if self.username.trim().is_empty() {
                    self.focus = Field::Username;
                    self.message = Some("Type your username first.".into());
                    return None;
                }
                if self.passphrase.is_empty() {
                    self.message = Some("Type your passphrase.".into());
                    return None;
                }
                let passphrase = std::mem::replace(&mut self.passphrase, Zeroizing::new(String::new()));
                return Some(Action::SignIn { username: self.username.trim().to_string(), passphrase });
            }
            _ => {}
        }
        None
    }

    fn render(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
        let w = area.width.min(64);
        let h = area.height.min(10);
        let form = Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
        let block = Block::bordered().title(Span::styled(" Sign in to support-desk ", theme.title()));
        let inner = block.inner(form);
        f.render_widget(block, form);
        let label_w = 12u16;
        let field_w = inner.width.saturating_sub(label_w + 1) as usize;
        let masked = "•".repeat(self.passphrase.chars().count());
        let rows = [
            ("Username", tail(&self.username, field_w.saturating_sub(1)), Field::Username),
            ("Passphrase", tail(&masked, field_w.saturating_sub(1)), Field::Passphrase),
        ];
        let mut lines = vec![Line::raw("")];
        for (label, value, field) in &rows {
            let style = if *field == self.focus { theme.focus() } else { theme.dim() };
            lines.push(Line::from(vec![
                Span::styled(format!(" {label:<width$}", width = label_w as usize - 1), style),
                Span::raw(value.clone()),
            ]));
            lines.push(Line::raw(""));
        }
        if let Some(msg) = &self.message {
            let room = (inner.height as usize).saturating_sub(lines.len());
            lines.extend(wrap_indented(msg, inner.width as usize, room, " ").into_iter().map(|l| Line::styled(l, theme.error())));
        }
        f.render_widget(Paragraph::new(lines), inner);
        let (value, row) = match self.focus {
            Field::Username => (&rows[0].1, 1),
            Field::Passphrase => (&rows[1].1, 3),
        };
        let x = inner.x + label_w + width(value) as u16;
        let y = inner.y + row;
        if x < inner.right() && y < inner.bottom() {
            f.set_cursor_position(Position { x, y });
        }
    }
}
