//! Text as it arrives from people and files: normalisation, search folding, and escaping of
//! characters that could hide or reorder what a screen or export shows.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Names and other directory text are stored NFC-normalised, so composed and decomposed input are
/// the same name.
pub fn normalize(text: &str) -> String {
    text.trim().nfc().collect()
}

/// The form used for searching: decomposed, combining marks dropped, lower case. "José" (either
/// form), "jose" and "JOSE" fold alike; so do "Zoë" and "zoe".
pub fn fold(text: &str) -> String {
    text.nfd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase).collect()
}

/// Digits only, for matching phone numbers however they are written.
pub fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// True when `text` could hold a Support PIN written down: 4 or more digits in a row, counting
/// digits split only by spaces or punctuation (at most two such characters between two digits:
/// "7 6 4 8", "76-48", "7, 6, 4, 8"). A letter ends the run. Every free text the audit trail keeps
/// for ever (notes, reasons) is refused when this is true.
pub fn may_hold_pin(text: &str) -> bool {
    let (mut run, mut gap) = (0usize, 0usize);
    for c in text.chars() {
        if c.is_numeric() {
            run += 1;
            gap = 0;
            if run >= 4 {
                return true;
            }
        } else if c.is_alphabetic() || gap >= 2 {
            run = 0;
            gap = 0;
        } else if run > 0 {
            gap += 1;
        }
    }
    false
}

/// True when a text whose digits are expected (a message id, an email address) names a PIN and
/// holds a run of 4 digits: "PIN 9082", "pin was 9-0-8-2". Such fields cannot refuse every digit
/// run, but a PIN written into them would stay in the audit trail for ever.
pub fn names_a_pin(text: &str) -> bool {
    text.to_lowercase().contains("pin") && may_hold_pin(text)
}

/// The one refusal for a free text that may hold a PIN (see [`may_hold_pin`]).
pub fn refuse_pin_in_text(what: &str, text: &str) -> Result<(), super::DeskError> {
    if may_hold_pin(text) {
        return Err(super::DeskError::Invalid(format!(
            "the {what} must not contain 4 or more digits (even spaced or split): a Support PIN is never written down"
        )));
    }
    Ok(())
}

/// True for characters that must never reach a screen or export raw: control characters and the
/// bidirectional overrides, embeddings, isolates and marks that can reorder a line.
pub fn is_hazard(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Replaces every hazard character with a visible escape such as `\u{202E}`; other text is kept.
pub fn escape_hazards(text: &str) -> String {
    if !text.chars().any(is_hazard) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_hazard(c) {
            out.push_str(&format!("\\u{{{:X}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composed_and_decomposed_fold_alike() {
        assert_eq!(fold("Jose\u{301} Prueba"), fold("José Prueba"));
        assert_eq!(fold("José"), "jose");
        assert_eq!(fold("Zoë Ångström"), "zoe angstrom");
        assert_eq!(normalize("Jose\u{301}"), "José");
        assert_eq!(fold("山田 花子"), "山田 花子");
    }

    #[test]
    fn pins_are_found_however_they_are_written() {
        for text in ["1188", "PIN 7 6 4 8", "76-48", "7, 6, 4, 8", "3 3-5 6", "٧٦٤٨"] {
            assert!(may_hold_pin(text), "{text}");
        }
        for text in ["caller gave DOB 19 May, zip 021", "ticket 12 of 40", "3 pm", "1 2 3", "12   34"] {
            assert!(!may_hold_pin(text), "{text}");
        }
    }

    #[test]
    fn hazards_are_escaped_and_nothing_else() {
        assert_eq!(escape_hazards("Evil\u{202E}NAME 4321"), "Evil\\u{202E}NAME 4321");
        assert_eq!(escape_hazards("a\tb\x1b[31m"), "a\\u{9}b\\u{1B}[31m");
        assert_eq!(escape_hazards("Wei Zhang 张伟 🌻"), "Wei Zhang 张伟 🌻");
        assert_eq!(digits("+1 (555) 010-0101"), "15550100101");
    }
}
