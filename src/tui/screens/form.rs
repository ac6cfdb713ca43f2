//! The text forms: one or two fields under a title line and a hint, and why the core refused what
//! was typed. An account unlock (how the caller was identified), clearing a Support PIN lock (the
//! lead's reason), a note on a case, and the provider's reply on a case (its reference and sender).

use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, Key, ScreenId, command};
use crate::tui::screens::View;
use crate::tui::theme::Theme;
use crate::tui::widgets::text::{fit, wrap_indented};
use crate::tui::widgets::text_field::{PROMPT, TextField};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

/// A form on screen: which one (`ScreenId::Unlock`, `ClearLock`, `CaseNote` or `CaseReply`), its
/// fields with their labels, and the field being typed in.
#[derive(Debug)]
pub struct Form {
    screen: ScreenId,
    /// The first line: "Caller: Carla Mendes", or the case's title.
    title: String,
    /// Under the title, dimmed: what the form does, or who must approve.
    hint: Option<String>,
    fields: Vec<(&'static str, TextField)>,
    focus: usize,
    /// Why the last submit was refused.
    message: Option<String>,
}

impl Form {
    fn new(screen: ScreenId, title: String, hint: Option<String>, labels: &[&'static str]) -> Form {
        let fields = labels.iter().map(|l| (*l, TextField::default())).collect();
        Form { screen, title, hint, fields, focus: 0, message: None }
    }

    /// Unlocking the caller's account: no PIN, a note of how the caller was identified.
    pub fn unlock(caller_name: &str) -> Form {
        Form::new(
            ScreenId::Unlock,
            format!("Caller: {caller_name}"),
            Some("Unlock needs no Support PIN. Password, two-factor and email stay as they are.".into()),
            &["How was the caller identified? (e.g. \"called back on the number of record\")"],
        )
    }

    /// Clearing the caller's locked Support PIN (leads): the reason, which is audited.
    pub fn clear_lock(caller_name: &str) -> Form {
        Form::new(
            ScreenId::ClearLock,
            format!("Caller: {caller_name}"),
            Some("The PIN stays as it is; the failure count starts again at 0. Audited with your reason.".into()),
            &["Why is the lock cleared? (e.g. \"holder identified by call-back on the number of record\")"],
        )
    }

    /// A note on the case titled `case`.
    pub fn note(case: String) -> Form {
        Form::new(ScreenId::CaseNote, case, None, &["Note (never a Support PIN)"])
    }

    /// The approving provider's reply on the case titled `case`; `hint` says who may approve.
    pub fn reply(case: String, hint: String) -> Form {
        Form::new(
            ScreenId::CaseReply,
            case,
            Some(hint),
            &["Reference (message id or ticket link)", "From (the address the reply came from)"],
        )
    }

    /// Shows why the input was not accepted.
    pub fn set_message(&mut self, message: String) {
        self.message = Some(message);
    }

    fn block_title(&self) -> &'static str {
        match self.screen {
            ScreenId::ClearLock => "Clear the Support PIN lock",
            other => other.title(),
        }
    }

    fn field(&mut self) -> &mut TextField {
        &mut self.fields[self.focus].1
    }

    fn value(&self, i: usize) -> String {
        self.fields.get(i).map(|(_, f)| f.trimmed()).unwrap_or_default()
    }

    fn submit(&mut self) -> Option<Action> {
        Some(match self.screen {
            ScreenId::CaseReply if self.focus == 0 => {
                self.focus = 1;
                return None;
            }
            ScreenId::CaseReply => Action::SubmitReply { reference: self.value(0), from: self.value(1) },
            ScreenId::Unlock => Action::SubmitUnlock(self.value(0)),
            ScreenId::ClearLock => Action::SubmitClearLock(self.value(0)),
            _ => Action::SubmitNote(self.value(0)),
        })
    }
}

impl View for Form {
    fn id(&self) -> ScreenId {
        self.screen
    }

    /// Every printable key is text here (even `?`).
    fn captures_text(&self) -> bool {
        true
    }

    fn paste(&mut self, text: &str) -> Option<Action> {
        self.field().paste(text);
        None
    }

    fn handle_key(&mut self, key: Key) -> Option<Action> {
        if let Key::Char(c) = key {
            self.field().push(c);
            return None;
        }
        match command(self.screen, key)? {
            Cmd::Erase => self.field().erase(),
            Cmd::NextField if self.fields.len() > 1 => self.focus = (self.focus + 1) % self.fields.len(),
            Cmd::Back => return Some(Action::Back),
            Cmd::Submit => return self.submit(),
            _ => {}
        }
        None
    }

    fn render(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
        let block = Block::bordered().title(format!(" {} ", self.block_title()));
        let inner = block.inner(area);
        f.render_widget(block, area);
        let w = inner.width as usize;
        let mut lines = vec![Line::raw(fit(&format!(" {}", self.title), w))];
        if let Some(h) = &self.hint {
            lines.push(Line::styled(fit(&format!(" {h}"), w), theme.dim()));
        }
        lines.push(Line::raw(""));
        let mut cursor = None;
        for (i, (label, field)) in self.fields.iter().enumerate() {
            lines.push(Line::raw(fit(&format!(" {label}"), w)));
            let style = if i == self.focus { theme.focus() } else { ratatui::style::Style::new() };
            let (line, col) = field.line(w, style);
            if i == self.focus {
                cursor = Some((lines.len() as u16, col));
            }
            lines.push(line);
        }
        lines.push(Line::raw(""));
        if let Some(msg) = &self.message {
            // Wrapped, never cut, every line inside the same margin: the rep reads why the text
            // was refused.
            let room = (inner.height as usize).saturating_sub(lines.len());
            lines.extend(wrap_indented(msg, w, room, " ").into_iter().map(|l| Line::styled(l, theme.error())));
        }
        f.render_widget(Paragraph::new(lines), inner);
        if let Some((row, col)) = cursor {
            let (x, y) = (inner.x + PROMPT + col, inner.y + row);
            if x < inner.right() && y < inner.bottom() {
                f.set_cursor_position(Position { x, y });
            }
        }
    }
}
