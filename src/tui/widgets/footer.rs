//! The key-hint footer, drawn from the same key table as the help overlay.

use crate::tui::keymap::{Binding, GLOBAL, ScreenId, bindings, keys_label};
use crate::tui::theme::Theme;
use ratatui::text::{Line, Span};

/// The footer line for a screen: its footer keys, then the global ones.
pub fn footer(screen: ScreenId, theme: Theme) -> Line<'static> {
    let rows: Vec<&Binding> = bindings(screen).iter().chain(GLOBAL).filter(|b| b.footer).collect();
    let mut spans = Vec::with_capacity(rows.len() * 3);
    for (i, b) in rows.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled("  ", theme.dim()));
        }
        spans.push(Span::styled(keys_label(b), theme.key()));
        spans.push(Span::raw(format!(" {}", b.hint)));
    }
    Line::from(spans)
}
