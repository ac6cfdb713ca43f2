//! Pieces of the screens' tables: fixed column widths, the selected row, and a selection kept in
//! view without changing state while drawing.

use crate::tui::theme::Theme;
use ratatui::layout::Constraint;
use ratatui::widgets::Row;

/// Columns of these fixed widths.
pub fn fixed<const N: usize>(widths: [usize; N]) -> [Constraint; N] {
    widths.map(|w| Constraint::Length(w as u16))
}

/// How many rows to leave out above so the `selected` one is among the `visible` ones.
pub fn first_shown(selected: usize, visible: usize) -> usize {
    (selected + 1).saturating_sub(visible.max(1))
}

/// `row`, drawn as the selection when it is the selected one.
pub fn mark(row: Row<'_>, selected: bool, theme: Theme) -> Row<'_> {
    if selected { row.style(theme.selected()) } else { row }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_selection_stays_in_view() {
        assert_eq!(first_shown(0, 5), 0);
        assert_eq!(first_shown(4, 5), 0);
        assert_eq!(first_shown(7, 5), 3);
        assert_eq!(first_shown(2, 0), 2, "no room: the selected row is the first one kept");
    }
}
