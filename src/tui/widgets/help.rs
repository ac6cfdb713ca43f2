//! The `?` help overlay: every key of the screen showing, then the global ones, from the same key
//! table as the footer. It covers the whole body (nothing of the screen shows through), wraps
//! the descriptions, and scrolls when it does not fit.

use crate::tui::keymap::{GLOBAL, ScreenId, bindings, keys_label};
use crate::tui::theme::Theme;
use crate::tui::widgets::text::{fit, width, wrap};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

/// How the help was drawn: how far it can scroll and how many lines show at once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HelpFit {
    pub max_scroll: u16,
    pub page: u16,
}

/// The help's lines for `screen` in `columns` inside the box: each key, then its description
/// wrapped beside it.
fn lines(screen: ScreenId, columns: usize, theme: Theme) -> Vec<Line<'static>> {
    let rows: Vec<_> = bindings(screen).iter().chain(GLOBAL).collect();
    let key_w = rows.iter().map(|b| width(&keys_label(b))).max().unwrap_or(4);
    // Keys wider than a third of the box give way to the descriptions (cut with "…").
    let key_w = key_w.min(columns / 3);
    let desc_w = columns.saturating_sub(key_w + 4).max(1);
    let mut out = Vec::new();
    for b in rows {
        let key = fit(&keys_label(b), key_w);
        let pad = " ".repeat(key_w.saturating_sub(width(&key)));
        for (i, part) in wrap(b.desc, desc_w, usize::MAX).into_iter().enumerate() {
            let lead = if i == 0 {
                Span::styled(format!(" {key}{pad}  "), theme.key())
            } else {
                Span::raw(" ".repeat(key_w + 3))
            };
            out.push(Line::from(vec![lead, Span::raw(part)]));
        }
    }
    out
}

/// Draws the help for `screen` over `area` (cleared first), scrolled down `scroll` lines (at
/// most as far as there is more to see); says so when more is above or below.
pub fn help(f: &mut Frame<'_>, area: Rect, screen: ScreenId, theme: Theme, scroll: u16) -> HelpFit {
    f.render_widget(Clear, area);
    let all = lines(screen, area.width.saturating_sub(2) as usize, theme);
    let page = area.height.saturating_sub(2);
    let max_scroll = (all.len() as u16).saturating_sub(page);
    let scroll = scroll.min(max_scroll);
    let height = (all.len() as u16 + 2).min(area.height);
    let popup = Rect { height, ..area };
    let more = match (scroll > 0, scroll < max_scroll) {
        (false, true) => " ↓ more (↓/PgDn) ",
        (true, true) => " ↑ more above · ↓ more below ",
        (true, false) => " ↑ more above (↑/PgUp) ",
        (false, false) => "",
    };
    let mut block = Block::bordered().title(Span::styled(format!(" Keys: {} (Esc closes) ", screen.title()), theme.title()));
    if !more.is_empty() {
        block = block.title_bottom(Line::styled(more, theme.key()).right_aligned());
    }
    let shown: Vec<Line> = all.into_iter().skip(scroll as usize).collect();
    f.render_widget(Paragraph::new(shown).block(block), popup);
    HelpFit { max_scroll, page: page.max(1) }
}
