//! The terminal user interface. Being written: `run` is the entry point the CLI calls.

use crate::desk::Desk;
use std::fmt;

/// Why the TUI could not run.
#[derive(Debug)]
pub enum TuiError {
    /// stdin or stdout is not a terminal, or TERM=dumb.
    NoTerminal(String),
    /// The terminal failed (I/O error).
    Terminal(std::io::Error),
}

impl fmt::Display for TuiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TuiError::NoTerminal(why) => write!(f, "the support-desk screen needs a terminal: {why}"),
            TuiError::Terminal(e) => write!(f, "terminal error: {e}"),
        }
    }
}

impl std::error::Error for TuiError {}

/// Runs the TUI on `desk` until the rep quits.
pub fn run(desk: Desk) -> Result<(), TuiError> {
    let _ = desk;
    Err(TuiError::NoTerminal("the TUI is not built yet".into()))
}
