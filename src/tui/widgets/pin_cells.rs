//! Four masked PIN cells: a filled cell shows `●`, never the digit.

use crate::tui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Widget};

/// Draws `filled` of four cells as entered, at the top-left of `area` (needs 4x5+3 by 3).
pub struct PinCells {
    pub filled: usize,
    pub theme: Theme,
}

/// Columns the cells need.
pub const WIDTH: u16 = 4 * 5 + 3;

impl Widget for PinCells {
    fn render(self, area: Rect, buf: &mut Buffer) {
        for i in 0..4u16 {
            let x = area.x.saturating_add(i * 6);
            if x + 5 > area.right() || area.height < 3 {
                break;
            }
            let cell = Rect { x, y: area.y, width: 5, height: 3 };
            let filled = usize::from(i) < self.filled;
            let style = if usize::from(i) == self.filled { self.theme.focus() } else { self.theme.dim() };
            let block = Block::bordered().border_style(if filled { self.theme.title() } else { style });
            Paragraph::new(Line::from(if filled { " ● " } else { "   " }))
                .block(block)
                .render(cell, buf);
        }
    }
}
