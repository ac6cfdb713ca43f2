//! The Support PIN as a value: exactly four ASCII digits, leading zeros significant, never printed.

use std::fmt;
use zeroize::Zeroize;

/// Number of digits in a Support PIN.
pub const PIN_LEN: usize = 4;

/// A Support PIN: four ASCII digits held as text. `Debug` and `Display` never show it and the
/// digits are zeroed when the value is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin([u8; PIN_LEN]);

/// Why text is not a Support PIN. The message never repeats the text it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinError {
    /// Fewer or more than four characters.
    WrongLength,
    /// A character that is not an ASCII digit.
    NotDigits,
}

impl fmt::Display for PinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PinError::WrongLength => f.write_str("a Support PIN is exactly four digits"),
            PinError::NotDigits => f.write_str("a Support PIN has digits 0-9 only"),
        }
    }
}

impl std::error::Error for PinError {}

impl Pin {
    /// Parses exactly four ASCII digits (surrounding whitespace, e.g. a line end, is ignored).
    pub fn parse(text: &str) -> Result<Pin, PinError> {
        let text = text.trim();
        if !text.chars().all(|c| c.is_ascii_digit()) {
            return Err(PinError::NotDigits);
        }
        let bytes = text.as_bytes();
        if bytes.len() != PIN_LEN {
            return Err(PinError::WrongLength);
        }
        let mut digits = [0u8; PIN_LEN];
        digits.copy_from_slice(bytes);
        Ok(Pin(digits))
    }

    /// Makes a PIN from a number 0..=9999, zero-padded (7 becomes `0007`).
    pub fn from_number(n: u16) -> Pin {
        let n = n % 10_000;
        let mut digits = [b'0'; PIN_LEN];
        let mut rest = n;
        for slot in digits.iter_mut().rev() {
            *slot = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        Pin(digits)
    }

    /// Keeps the ASCII digits of pasted or typed text, at most four: `"12 34"` gives `"1234"`.
    /// This is what a PIN field accepts; it never makes a PIN by itself.
    pub fn digits_of(text: &str) -> String {
        text.chars().filter(|c| c.is_ascii_digit()).take(PIN_LEN).collect()
    }

    /// The digits, for hashing only.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The digits as text, for the one place that may show them: the holder's own `pin new`.
    pub fn reveal_to_holder(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(****)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_keeps_leading_zeros_and_refuses_everything_else() {
        assert_eq!(Pin::parse("0071").map(|p| p.reveal_to_holder()), Ok("0071".into()));
        assert_eq!(Pin::parse("0000\n").map(|p| p.reveal_to_holder()), Ok("0000".into()));
        assert_eq!(Pin::parse("123"), Err(PinError::WrongLength));
        assert_eq!(Pin::parse("12345"), Err(PinError::WrongLength));
        assert_eq!(Pin::parse(""), Err(PinError::WrongLength));
        assert_eq!(Pin::parse("12a4"), Err(PinError::NotDigits));
        assert_eq!(Pin::parse("12 34"), Err(PinError::NotDigits));
        assert_eq!(Pin::parse("١٢٣٤"), Err(PinError::NotDigits), "non-ASCII digits are refused");
        assert_eq!(Pin::parse("-123"), Err(PinError::NotDigits));
    }

    #[test]
    fn from_number_pads() {
        assert_eq!(Pin::from_number(7).reveal_to_holder(), "0007");
        assert_eq!(Pin::from_number(9999).reveal_to_holder(), "9999");
        assert_eq!(Pin::from_number(0).reveal_to_holder(), "0000");
    }

    #[test]
    fn pasted_text_keeps_four_digits_at_most() {
        assert_eq!(Pin::digits_of("12 34"), "1234");
        assert_eq!(Pin::digits_of(" 0-0-7-1 9"), "0071");
        assert_eq!(Pin::digits_of("abc"), "");
        assert_eq!(Pin::digits_of("٣4"), "4");
    }

    #[test]
    fn debug_never_shows_digits() {
        let pin = Pin::parse("3356").expect("valid");
        assert_eq!(format!("{pin:?}"), "Pin(****)");
        assert!(!format!("{:?}", Some(pin)).contains("3356"));
    }
}
