//! Identifier newtypes, so an account id can never be passed where a rep id belongs.

use std::fmt;

/// An account id from the directory, kept as text: `00123` is never `123`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct AccountId(pub String);

impl AccountId {
    /// Wraps an account id exactly as given (surrounding whitespace trimmed).
    pub fn new(id: impl AsRef<str>) -> Self {
        AccountId(id.as_ref().trim().to_string())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A rep's (or lead's) row id in the `reps` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RepId(pub i64);

/// A case's id in the `cases` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct CaseId(pub i64);

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
