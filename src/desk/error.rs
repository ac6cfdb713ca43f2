//! Failures of the desk (as opposed to outcomes such as a wrong PIN, which are values).
//! Every message says what happened and what to do, and never carries a PIN, a hash or SQL text.

use super::pin_key::KeyError;
use std::fmt;
use std::path::PathBuf;

/// A failure of the desk itself.
#[derive(Debug)]
pub enum DeskError {
    /// A write that had to happen before an answer could be given did not happen: nothing was
    /// decided. `cause` is a plain-words reason (disk full, read-only, busy).
    NotRecorded { cause: String },
    /// The database could not be opened or read.
    Storage { path: PathBuf, cause: String },
    /// The file is not a healthy support-desk database.
    Damaged { path: PathBuf },
    /// The database was made by a newer support-desk.
    NewerSchema { path: PathBuf, found: i64, supported: i64 },
    /// There is no database at the path.
    NoDatabase { path: PathBuf },
    /// The PIN key is missing, unreadable, or belongs to another database.
    Key(String),
    /// Something named does not exist (a rep, a case).
    NotFound(String),
    /// The signed-in rep may not do this (a rep on their own account, a rep on a lead screen).
    Refused(String),
    /// The rep's session is no longer valid (disabled or locked since sign-in).
    SessionEnded,
    /// Input that cannot be used, with the reason.
    Invalid(String),
}

impl fmt::Display for DeskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeskError::NotRecorded { cause } => {
                write!(f, "could not record, nothing was decided ({cause})")
            }
            DeskError::Storage { path, cause } => {
                write!(f, "could not use the database {}: {cause}", path.display())
            }
            DeskError::Damaged { path } => write!(
                f,
                "the database {} is damaged or is not a support-desk database; nothing was changed. \
                 Run `support-desk --db {} check` and restore from a backup",
                path.display(),
                path.display()
            ),
            DeskError::NewerSchema { path, found, supported } => write!(
                f,
                "the database {} is from a newer support-desk (schema {found}, this build knows up \
                 to {supported}); it was not changed. Use the newer support-desk",
                path.display()
            ),
            DeskError::NoDatabase { path } => write!(
                f,
                "there is no database at {}; create one with `support-desk init` or try the example \
                 with `support-desk demo`",
                path.display()
            ),
            DeskError::Key(msg) => f.write_str(msg),
            DeskError::NotFound(what) => write!(f, "{what} not found"),
            DeskError::Refused(why) => write!(f, "refused: {why}"),
            DeskError::SessionEnded => {
                f.write_str("your session has ended (the rep account was disabled or locked); sign in again")
            }
            DeskError::Invalid(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for DeskError {}

impl DeskError {
    /// "account X not found", except that an id of exactly four digits is not repeated: it may be
    /// a Support PIN typed into the account field by mistake.
    pub fn account_not_found(id: &impl std::fmt::Display) -> DeskError {
        let id = id.to_string();
        if id.len() == 4 && id.chars().all(|c| c.is_ascii_digit()) {
            DeskError::NotFound("an account with that four-digit id (not repeated: it may be a Support PIN)".into())
        } else {
            DeskError::NotFound(format!("account {id}"))
        }
    }
}

impl From<KeyError> for DeskError {
    fn from(e: KeyError) -> Self {
        DeskError::Key(e.to_string())
    }
}

/// Plain words for a SQLite failure, without its SQL text.
pub fn describe_sqlite(e: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode as C;
    match e.sqlite_error_code() {
        Some(C::DiskFull) => "the disk is full".into(),
        Some(C::ReadOnly) => "the database is read-only".into(),
        Some(C::DatabaseBusy) | Some(C::DatabaseLocked) => {
            "another process held the database too long; try again".into()
        }
        Some(C::CannotOpen) => "the file could not be opened (check the path and permissions)".into(),
        Some(C::PermissionDenied) => "permission denied".into(),
        Some(C::SystemIoFailure) => "the disk could not be written or read (full, read-only or failing)".into(),
        Some(C::DatabaseCorrupt) | Some(C::NotADatabase) => "the database file is damaged".into(),
        Some(C::ConstraintViolation) => "the change broke a rule of the database".into(),
        Some(other) => format!("storage error ({other:?})"),
        None => "storage error".into(),
    }
}

/// True when a SQLite failure means the file is damaged or not a database.
pub fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt) | Some(rusqlite::ErrorCode::NotADatabase)
    )
}
