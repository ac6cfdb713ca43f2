//! The `?` help overlay: every key of the screen showing, then the global ones, from the same key
//! table as the footer.

use crate::tui::keymap::{GLOBAL, ScreenId, bindings, keys_label};
use crate::tui::theme::Theme;
use crate::tui::widgets::text::fit;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

/// Draws the help for `screen` centred over `area`.
pub fn help(f: &mut Frame<'_>, area: Rect, screen: ScreenId, theme: Theme) {
    let rows: Vec<_> = bindings(screen).iter().chain(GLOBAL).collect();
    let key_w = rows.iter().map(|b| keys_label(b).chars().count()).max().unwrap_or(4);
    let w = area.width.saturating_sub(4).min(90);
    let h = (rows.len() as u16 + 4).min(area.height);
    let popup = Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
    let mut lines = vec![Line::raw("")];
    for b in rows {
        lines.push(Line::from(vec![
            Span::styled(format!(" {:<key_w$}  ", keys_label(b)), theme.key()),
            Span::raw(fit(b.desc, (w as usize).saturating_sub(key_w + 5))),
        ]));
    }
    f.render_widget(Clear, popup);
    let block = Block::bordered().title(Span::styled(format!(" Keys: {} (Esc closes) ", screen.title()), theme.title()));
    f.render_widget(Paragraph::new(lines).block(block), popup);
}
