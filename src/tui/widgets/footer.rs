//! The key-hint footer, drawn from the same key table as the help overlay.

use crate::tui::keymap::{Binding, Cmd, GLOBAL, HELP, ScreenId, bindings, keys_label};
use crate::tui::theme::Theme;
use ratatui::text::{Line, Span};

/// The footer for a screen: its footer keys, then the global ones, wrapped onto as many lines as
/// `width` needs. Each hint shows the binding's keys when short, else its first key (help shows all).
pub fn footer(screen: ScreenId, theme: Theme, width: u16) -> Vec<Line<'static>> {
    hints(bindings(screen).iter().chain(GLOBAL), theme, width)
}

/// The footer while the key help is open: its own keys, and quitting.
pub fn help_footer(theme: Theme, width: u16) -> Vec<Line<'static>> {
    hints(HELP.iter().chain(GLOBAL.iter().filter(|b| b.cmd == Cmd::Quit)), theme, width)
}

fn hints<'a>(rows: impl Iterator<Item = &'a Binding>, theme: Theme, width: u16) -> Vec<Line<'static>> {
    let rows: Vec<&Binding> = rows.filter(|b| b.footer).collect();
    let mut lines = vec![Vec::new()];
    let mut used = 0usize;
    for b in rows {
        let all = keys_label(b);
        let key = if all.chars().count() <= 5 { all } else { b.keys.first().map(|k| k.label()).unwrap_or_default() };
        let len = key.chars().count() + 1 + b.hint.chars().count();
        let sep = if used == 0 { 0 } else { 2 };
        if used > 0 && used + sep + len > width as usize {
            lines.push(Vec::new());
            used = 0;
        }
        let line = lines.last_mut().expect("lines is never empty");
        if used > 0 {
            line.push(Span::raw("  "));
            used += 2;
        }
        line.push(Span::styled(key, theme.key()));
        line.push(Span::raw(format!(" {}", b.hint)));
        used += len;
    }
    lines.into_iter().map(Line::from).collect()
}
