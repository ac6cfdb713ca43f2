//! Pieces of the screens' tables: fixed column widths, the selected row, and a selection kept in
//! view without changing state while drawing.

use crate::tui::theme::Theme;
use ratatui::layout::Constraint;
use ratatui::widgets::Row;

/// Columns of these fixed widths.
pub fn fixed<const N: usize>(widths: [usize; N]) -> [Constraint; N] {
    widths.map(|w| Constraint::Length(w as u16))
}

/// Column widths that fit in `total` columns (gaps between columns already taken off). Each
/// column is `(min, want)`: all start at `want`; while they are too wide, the column with the
/// most room above its `min` gives up a column. What is left over goes to the last column.
pub fn shrink(total: usize, cols: &[(usize, usize)]) -> Vec<usize> {
    let mut widths: Vec<usize> = cols.iter().map(|c| c.1).collect();
    while widths.iter().sum::<usize>() > total {
        let slack = widths.iter().zip(cols).enumerate().map(|(i, (w, c))| (w.saturating_sub(c.0), i)).max();
        match slack {
            Some((room, i)) if room > 0 => widths[i] -= 1,
            _ => break,
        }
    }
    let used: usize = widths.iter().sum();
    if let Some(last) = widths.last_mut() {
        *last += total.saturating_sub(used);
    }
    widths
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

    #[test]
    fn columns_shrink_down_to_their_minimum_and_the_last_takes_the_rest() {
        assert_eq!(shrink(30, &[(4, 8), (4, 10), (5, 5)]), vec![8, 10, 12]);
        assert_eq!(shrink(20, &[(4, 8), (4, 10), (5, 5)]), vec![8, 7, 5], "the one with the most room gives way first");
        assert_eq!(shrink(10, &[(4, 8), (4, 10), (5, 5)]), vec![4, 4, 5], "never below the minimum");
    }
}
