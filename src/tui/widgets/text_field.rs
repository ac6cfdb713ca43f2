//! A one-line text field: what the rep types or pastes, erased a grapheme at a time, drawn as
//! ` > text` with its end (where the cursor is) always in view; and the bordered input box of the
//! search and the queue's filter.

use crate::tui::theme::Theme;
use crate::tui::widgets::text::{one_line, pop_grapheme, tail, width};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

/// Columns the field's prompt (` > `) takes before the text.
pub const PROMPT: u16 = 3;

/// One line of text being typed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TextField {
    value: String,
}

impl TextField {
    /// What was typed, as typed.
    pub fn text(&self) -> &str {
        &self.value
    }

    /// What was typed without surrounding white space (what a submit sends).
    pub fn trimmed(&self) -> String {
        self.value.trim().to_string()
    }

    /// Adds one typed character.
    pub fn push(&mut self, c: char) {
        self.value.push(c);
    }

    /// Adds pasted text, on one line (control characters and line breaks become spaces).
    pub fn paste(&mut self, text: &str) {
        self.value.push_str(&one_line(text));
    }

    /// Erases the last grapheme (Backspace).
    pub fn erase(&mut self) {
        pop_grapheme(&mut self.value);
    }

    /// The field drawn in `columns` (prompt included), and the cursor's column after the prompt.
    pub fn line(&self, columns: usize, style: Style) -> (Line<'static>, u16) {
        let shown = tail(&self.value, columns.saturating_sub(PROMPT as usize + 1));
        let cursor = width(&shown) as u16;
        (Line::styled(format!(" > {shown}"), style), cursor)
    }
}

/// `text` in a bordered box titled `title` (the search, the queue's filter), its end in view and
/// the cursor after it.
pub fn input_box(f: &mut Frame<'_>, area: Rect, title: &str, text: &str, theme: Theme) {
    let block = Block::bordered().border_style(theme.focus()).title(format!(" {title} "));
    let inner = block.inner(area);
    let shown = tail(text, inner.width.saturating_sub(1) as usize);
    let cursor = Position { x: inner.x + width(&shown) as u16, y: inner.y };
    f.render_widget(Paragraph::new(shown).block(block), area);
    f.set_cursor_position(cursor);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_and_pasted_text_stays_on_one_line_and_erases_by_grapheme() {
        let mut f = TextField::default();
        f.paste("called back\non file ");
        f.push('e');
        f.push('\u{301}');
        assert_eq!(f.text(), "called back on file e\u{301}");
        f.erase();
        assert_eq!(f.trimmed(), "called back on file");
        let (line, cursor) = f.line(12, Style::new());
        assert_eq!(line.to_string(), " > on file ", "the end of the text stays in view");
        assert_eq!(cursor, 8);
    }
}
