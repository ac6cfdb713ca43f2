//! Making a new database: created owner-only, keyed, with its first lead, whole or not at all.

use super::audit::{self, EventKind, NewEvent};
use super::error::DeskError;
use super::pin_key::PinKey;
use super::reps::{NewRep, RepRole, check_passphrase, check_username};
use super::store::{OpenMode, SCHEMA_VERSION};
use super::Desk;
use std::path::{Path, PathBuf};

/// The files that make up the database at `db`: the file itself and SQLite's `-wal`, `-shm` and
/// `-journal` companions (the key file is not one of them).
pub fn database_files(db: &Path) -> Vec<PathBuf> {
    let mut files = vec![db.to_path_buf()];
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        files.push(PathBuf::from(name));
    }
    files
}

impl Desk {
    /// Creates a new database at `path` keyed with `key`, records `database_created`, binds the
    /// key and adds `first_lead`, who must be a lead. A path that exists is refused and left
    /// untouched; if a later step fails, the new file and its companions are removed, so a
    /// database is never left half made.
    pub fn create(path: &Path, key: PinKey, first_lead: &NewRep<'_>) -> Result<Desk, DeskError> {
        if first_lead.role != RepRole::Lead {
            return Err(DeskError::Invalid("the first rep of a new database must be a lead".into()));
        }
        check_username(first_lead.username)?;
        check_passphrase(first_lead.passphrase)?;
        // create_new makes this the only process that owns the new file, even if two admins run
        // `init` at once; the 0600 mode is set at creation, never afterwards.
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        if let Err(e) = options.open(path) {
            return Err(if e.kind() == std::io::ErrorKind::AlreadyExists {
                DeskError::Invalid(format!(
                    "{} already exists; a new database is never made over an existing file",
                    path.display()
                ))
            } else {
                DeskError::Storage { path: path.to_path_buf(), cause: format!("could not create the file: {e}") }
            });
        }
        let made = Desk::open_with_key(path, OpenMode::Create, key).and_then(|mut desk| {
            desk.bind_key()?;
            let now = desk.clock.now();
            desk.store.write(|tx| {
                audit::append(tx, now, EventKind::DatabaseCreated, &NewEvent {
                    outcome: "ok".into(),
                    detail: Some(format!("new database, schema version {SCHEMA_VERSION}")),
                    ..NewEvent::default()
                })
            })?;
            desk.add_rep(first_lead, None)?;
            Ok(desk)
        });
        if made.is_err() {
            for file in database_files(path) {
                let _ = std::fs::remove_file(file);
            }
        }
        made
    }
}
