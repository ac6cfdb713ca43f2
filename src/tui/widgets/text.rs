//! Display-width-aware text for cells and lines: hazards escaped, wide glyphs and combining marks
//! measured per grapheme, truncation that never cuts a glyph in half.

use crate::desk::text::escape_hazards;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Columns `text` takes on screen.
pub fn width(text: &str) -> usize {
    text.graphemes(true).map(UnicodeWidthStr::width).sum()
}

/// `text` made safe to draw (control and bidi-override characters escaped) and cut to at most
/// `max` columns, ending in `…` when cut.
pub fn fit(text: &str, max: usize) -> String {
    let safe = escape_hazards(text);
    if width(&safe) <= max {
        return safe;
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for g in safe.graphemes(true) {
        let w = UnicodeWidthStr::width(g);
        if used + w > max - 1 {
            break;
        }
        out.push_str(g);
        used += w;
    }
    out.push('…');
    out
}

/// `text` made safe to draw and word-wrapped to lines of at most `max` columns (a word wider than
/// a line is split between graphemes), at most `max_lines` lines; the last one ends in `…` only
/// when even that many lines cannot hold it all. Messages use this so the rep reads all of them.
pub fn wrap(text: &str, max: usize, max_lines: usize) -> Vec<String> {
    if max == 0 || max_lines == 0 {
        return Vec::new();
    }
    let safe = escape_hazards(text);
    let mut lines: Vec<String> = vec![String::new()];
    let mut used = 0usize;
    for word in safe.split_whitespace() {
        let w = width(word);
        if used > 0 && used + 1 + w <= max {
            lines.last_mut().expect("never empty").push(' ');
            lines.last_mut().expect("never empty").push_str(word);
            used += 1 + w;
            continue;
        }
        if used > 0 {
            lines.push(String::new());
            used = 0;
        }
        for g in word.graphemes(true) {
            let gw = UnicodeWidthStr::width(g);
            if used + gw > max && used > 0 {
                lines.push(String::new());
                used = 0;
            }
            lines.last_mut().expect("never empty").push_str(g);
            used += gw;
        }
    }
    if lines.len() > max_lines {
        let rest = lines[max_lines - 1..].join(" ");
        lines.truncate(max_lines - 1);
        lines.push(fit(&rest, max));
    }
    lines
}

/// [`wrap`] for text inside a box: every line, the wrapped ones too, starts with `indent`, and the
/// whole fits in `max` columns.
pub fn wrap_indented(text: &str, max: usize, max_lines: usize, indent: &str) -> Vec<String> {
    let room = max.saturating_sub(width(indent));
    wrap(text, room, max_lines).into_iter().map(|l| format!("{indent}{l}")).collect()
}

/// The last `max` columns of `text` (for an input field narrower than what was typed), so the
/// cursor end stays visible.
pub fn tail(text: &str, max: usize) -> String {
    let safe = escape_hazards(text);
    let graphemes: Vec<&str> = safe.graphemes(true).collect();
    let mut used = 0;
    let mut start = graphemes.len();
    while start > 0 {
        let w = UnicodeWidthStr::width(graphemes[start - 1]);
        if used + w > max {
            break;
        }
        used += w;
        start -= 1;
    }
    graphemes[start..].concat()
}

/// Removes the last grapheme (what Backspace erases: "é" typed decomposed goes in one press).
pub fn pop_grapheme(text: &mut String) {
    if let Some((i, _)) = text.grapheme_indices(true).next_back() {
        text.truncate(i);
    }
}

/// Pasted or typed text for a one-line field: control characters and line breaks become spaces.
pub fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_wrap_by_display_width() {
        assert_eq!(wrap("one two three", 7, 5), vec!["one two", "three"]);
        assert_eq!(wrap("山田 花子 山田", 5, 5), vec!["山田", "花子", "山田"]);
        assert_eq!(wrap("abcdefgh", 3, 5), vec!["abc", "def", "gh"]);
        assert_eq!(wrap("one two three four", 7, 2), vec!["one two", "three …"]);
        assert_eq!(wrap("a\u{202E}b", 20, 1), vec!["a\\u{202E}b"]);
        assert!(wrap("x", 0, 3).is_empty());
        assert_eq!(wrap_indented("one two three", 8, 5, " "), vec![" one two", " three"]);
        assert!(wrap_indented("x", 1, 3, " ").is_empty(), "no room after the indent");
    }

    #[test]
    fn wide_glyphs_are_never_cut_in_half() {
        assert_eq!(width("山田 花子"), 9);
        assert_eq!(fit("山田 花子", 4), "山…");
        assert_eq!(fit("山田 花子", 5), "山田…");
        assert_eq!(fit("Ana 🌻 Prueba", 7), "Ana 🌻…");
        assert_eq!(fit("Ana 🌻 Prueba", 6), "Ana …", "the sunflower does not fit whole, so it is left out");
        assert_eq!(fit("Carla", 10), "Carla");
        assert_eq!(fit("Carla", 0), "");
    }

    #[test]
    fn decomposed_marks_count_once_and_erase_together() {
        let mut s = "Jose\u{301}".to_string();
        assert_eq!(width(&s), 4);
        pop_grapheme(&mut s);
        assert_eq!(s, "Jos");
    }

    #[test]
    fn bidi_override_is_escaped_before_measuring() {
        let shown = fit("Evil\u{202E}NAME 4321", 40);
        assert!(!shown.contains('\u{202E}'));
        assert!(shown.contains("\\u{202E}"));
        assert_eq!(tail("abcdef", 3), "def");
        assert_eq!(one_line("a\nb\tc"), "a b c");
    }
}
