//! A message drawn in place of a list: why it could not be loaded, or that nothing matches.
//! Wrapped to the area (never cut mid-sentence while rows are left), each line after `indent`.

use crate::tui::widgets::text::wrap_indented;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

/// Draws `text` over `area`, wrapped, every line starting with `indent`.
pub fn notice(f: &mut Frame<'_>, area: Rect, text: &str, indent: &str, style: Style) {
    let lines: Vec<Line> = wrap_indented(text, area.width as usize, area.height as usize, indent)
        .into_iter()
        .map(|l| Line::styled(l, style))
        .collect();
    f.render_widget(Paragraph::new(lines), area);
}
