//! Exit codes and command failures. The codes are defined once here; `--help`, the README and
//! every command use this table.

use crate::desk::DeskError;
use crate::desk::pin_key::KeyError;
use crate::tui::TuiError;
use std::fmt::Write as _;

/// What the process exit code tells a script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Done; the Support PIN matched; the audit chain is intact.
    Ok = 0,
    /// The Support PIN did not match; the audit chain is broken.
    NoMatch = 1,
    /// Bad usage or input; nothing was recorded.
    Usage = 2,
    /// The Support PIN is locked.
    Locked = 3,
    /// The rep could not sign in, or may not do this.
    AuthFailed = 4,
    /// An account or rep named on the command line does not exist.
    NotFound = 5,
    /// Storage, key or I/O failure: nothing was decided.
    Storage = 6,
    /// The screen (TUI) needs a terminal.
    NoTerminal = 7,
}

impl Exit {
    /// Every code, in order.
    pub const ALL: [Exit; 8] = [
        Exit::Ok,
        Exit::NoMatch,
        Exit::Usage,
        Exit::Locked,
        Exit::AuthFailed,
        Exit::NotFound,
        Exit::Storage,
        Exit::NoTerminal,
    ];

    /// The number the process exits with.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// What the code means, as printed in `--help` and the README.
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Ok => "ok; Support PIN matched; audit chain intact",
            Exit::NoMatch => "Support PIN did not match; audit chain broken",
            Exit::Usage => "usage error or invalid input; nothing was recorded",
            Exit::Locked => "Support PIN locked",
            Exit::AuthFailed => "rep sign-in refused, or the rep may not do this",
            Exit::NotFound => "account or rep not found",
            Exit::Storage => "storage, key or I/O problem: could not record, nothing was decided",
            Exit::NoTerminal => "no terminal for the screen (TUI)",
        }
    }
}

/// The exit code table for `--help`.
pub fn help_table() -> String {
    let mut text = String::from("Exit codes:\n");
    for exit in Exit::ALL {
        // Writing to a String cannot fail.
        let _ = writeln!(text, "  {}  {}", exit.code(), exit.meaning());
    }
    text
}

/// A command that could not do its job: the exit code and a message for `support-desk: ...`.
/// Messages never carry a PIN, a passphrase, a hash or SQL text.
#[derive(Debug)]
pub struct CliError {
    pub exit: Exit,
    pub message: String,
}

impl CliError {
    /// A failure with this exit code.
    pub fn new(exit: Exit, message: impl Into<String>) -> CliError {
        CliError { exit, message: message.into() }
    }

    /// Bad usage or input (exit 2).
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError::new(Exit::Usage, message)
    }
}

impl From<DeskError> for CliError {
    fn from(e: DeskError) -> CliError {
        let exit = match &e {
            DeskError::Invalid(_) => Exit::Usage,
            DeskError::NotFound(_) => Exit::NotFound,
            DeskError::Refused(_) | DeskError::SessionEnded => Exit::AuthFailed,
            DeskError::NotRecorded { .. }
            | DeskError::Storage { .. }
            | DeskError::Damaged { .. }
            | DeskError::NewerSchema { .. }
            | DeskError::NoDatabase { .. }
            | DeskError::Key(_) => Exit::Storage,
        };
        CliError::new(exit, e.to_string())
    }
}

impl From<KeyError> for CliError {
    fn from(e: KeyError) -> CliError {
        CliError::from(DeskError::from(e))
    }
}

impl From<TuiError> for CliError {
    fn from(e: TuiError) -> CliError {
        CliError::new(Exit::NoTerminal, e.to_string())
    }
}
