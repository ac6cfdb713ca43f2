//! Writing results: plain tables sized by display width, and JSON. Text from the database is
//! escaped (control and bidi characters) before it reaches a terminal.

use super::exit::{CliError, Exit};
use crate::desk::text::{escape_hazards, is_hazard};
use serde::Serialize;
use std::io::Write;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Widest a table column grows before its cells are cut with `…`.
const MAX_COLUMN: usize = 48;

/// Writes `text` to stdout. A reader that went away (`| head`) is not an error.
pub fn print(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(CliError::new(Exit::Storage, format!("could not write the output: {e}")))
        }
        _ => Ok(()),
    }
}

/// Writes `value` as pretty JSON plus a newline. Characters that could reorder or hide text on a
/// terminal are written as `\uXXXX` escapes, which decode to the same data.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::new(Exit::Storage, format!("could not write JSON: {e}")))?;
    let mut safe = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        // Raw newlines are the pretty printer's own; newlines inside strings are already `\n`.
        if is_hazard(c) && c != '\n' {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                safe.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            safe.push(c);
        }
    }
    safe.push('\n');
    print(&safe)
}

/// Escapes hazards and cuts `text` to at most `width` columns, ending a cut with `…`.
pub fn fit(text: &str, width: usize) -> String {
    let text = escape_hazards(text);
    if text.width() <= width {
        return text;
    }
    let mut out = String::new();
    let mut used = 0;
    for g in text.graphemes(true) {
        let w = g.width();
        if used + w + 1 > width {
            break;
        }
        out.push_str(g);
        used += w;
    }
    out.push('…');
    out
}

/// A table with a header row; columns are as wide as their widest cell (up to a limit), the last
/// column is neither padded nor cut.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let cells: Vec<Vec<String>> = std::iter::once(headers.iter().map(|h| h.to_string()).collect())
        .chain(rows.iter().map(|r| {
            let last = r.len().saturating_sub(1);
            r.iter()
                .enumerate()
                .map(|(i, c)| if i == last { fit(c, usize::MAX) } else { fit(c, MAX_COLUMN) })
                .collect()
        }))
        .collect();
    let mut widths = vec![0; headers.len()];
    for row in &cells {
        for (i, cell) in row.iter().enumerate().take(widths.len()) {
            widths[i] = widths[i].max(cell.width());
        }
    }
    let mut out = String::new();
    for row in &cells {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 < row.len() {
                line.push_str(cell);
                line.push_str(&" ".repeat(widths[i].saturating_sub(cell.width()) + 2));
            } else {
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_counts_display_columns_and_escapes_hazards() {
        assert_eq!(fit("Wei Zhang 张伟", 20), "Wei Zhang 张伟");
        assert_eq!(fit("Wei Zhang 张伟", 12), "Wei Zhang …");
        assert!(fit("Wei Zhang 张伟", 12).width() <= 12);
        assert_eq!(fit("Evil\u{202E}x", 40), "Evil\\u{202E}x");
    }

    #[test]
    fn table_aligns_wide_glyphs() {
        let t = table(&["NAME", "ID"], &[vec!["张伟".into(), "S-2005".into()], vec!["Ada".into(), "P-1001".into()]]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "NAME  ID");
        assert_eq!(lines[1], "张伟  S-2005");
        assert_eq!(lines[2], "Ada   P-1001");
    }
}
