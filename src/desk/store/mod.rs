//! Storage: one SQLite file opened with the pragmas the desk relies on, numbered migrations, and
//! write transactions that wait for other processes instead of failing.

mod environment;
mod migrations;
pub mod waiting;

use super::error::{DeskError, describe_sqlite, is_damage};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub use migrations::SCHEMA_VERSION;

/// How many times a whole write transaction is retried after a busy lock.
const WRITE_ATTEMPTS: u32 = 5;

/// Whether opening may create the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// The file must exist (every command but `init`).
    Existing,
    /// Create the file (mode 0600) if it does not exist.
    Create,
}

/// An open support-desk database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Set once SQLite has reported the file damaged (see [`Store::read_error`]).
    damaged: AtomicBool,
}

impl Store {
    /// Opens (or creates) the database at `path`, sets WAL, `synchronous=FULL`, foreign keys and a
    /// busy timeout, and brings the schema up to date in one transaction. A newer schema, or a file
    /// that is not a database, is refused without being changed.
    pub fn open(path: &Path, mode: OpenMode) -> Result<Store, DeskError> {
        refuse_directory(path)?;
        let exists = path.exists();
        if !exists && mode == OpenMode::Existing {
            return Err(DeskError::NoDatabase { path: path.to_path_buf() });
        }
        if exists {
            refuse_short_file(path, mode)?;
        } else {
            create_private_file(path)?;
        }
        environment::check(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| storage(path, &e))?;
        let mut store = Store { conn, path: path.to_path_buf(), damaged: AtomicBool::new(false) };
        store.configure(mode)?;
        migrations::migrate(&mut store.conn, path)?;
        Ok(store)
    }

    fn configure(&mut self, mode: OpenMode) -> Result<(), DeskError> {
        let path = &self.path;
        // Waits like busy_timeout(5 s), but visibly and cancellably (see `waiting`).
        self.conn.busy_handler(Some(waiting::busy_handler)).map_err(|e| storage(path, &e))?;
        // The first read of the file: a damaged or foreign file shows up here.
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| storage(path, &e))?;
        if version > SCHEMA_VERSION {
            return Err(DeskError::NewerSchema {
                path: path.clone(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        // A SQLite file made by something else must be refused before anything below (the switch
        // to WAL rewrites the file header) touches it.
        if version == 0 {
            let tables: i64 = self
                .conn
                .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
                .map_err(|e| storage(path, &e))?;
            if tables > 0 {
                return Err(migrations::not_ours(path));
            }
            // Only `init` (and the builders of the example and synthetic databases) make a
            // database; an existing file without a schema was emptied or was never ours, and is
            // never filled in.
            if mode == OpenMode::Existing {
                return Err(DeskError::Damaged { path: path.clone() });
            }
        }
        let journal: String = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| storage(path, &e))?;
        if !journal.eq_ignore_ascii_case("wal") {
            return Err(DeskError::Storage {
                path: path.clone(),
                cause: format!("could not switch to WAL journaling (got {journal})"),
            });
        }
        self.conn
            .execute_batch(
                "PRAGMA synchronous = FULL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA journal_size_limit = 67108864;
                 PRAGMA wal_autocheckpoint = 1000;",
            )
            .map_err(|e| storage(path, &e))
    }

    /// The database file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection, for reads. A read never holds a transaction open between calls.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction and commits it. When another process holds
    /// the lock past the busy timeout, the whole transaction is retried; when the write cannot
    /// happen at all (disk full, read-only), the answer is [`DeskError::NotRecorded`].
    pub fn write<T>(
        &mut self,
        work: impl FnMut(&Transaction<'_>) -> Result<T, DeskError>,
    ) -> Result<T, DeskError> {
        self.write_shared(work)
    }

    /// [`Store::write`] through a shared reference, for the one write a read may lead to: the
    /// audit event of a refused lead-only read (whose callers hold only `&Desk`). `write` takes
    /// `&mut self` so that no write starts while a read snapshot borrows the connection; a caller
    /// of this one must hold no read transaction open (SQLite would refuse the nested `BEGIN`, and
    /// the write would fail, recording nothing).
    pub(crate) fn write_shared<T>(
        &self,
        mut work: impl FnMut(&Transaction<'_>) -> Result<T, DeskError>,
    ) -> Result<T, DeskError> {
        if self.damaged.load(Ordering::Relaxed) {
            return Err(DeskError::Damaged { path: self.path.clone() });
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_write(&mut work) {
                Err(WriteFailure::Busy) if waiting::stopped() => {
                    return Err(DeskError::NotRecorded {
                        cause: "stopped waiting for the database, which another program held".into(),
                    });
                }
                Err(WriteFailure::Busy) if attempt < WRITE_ATTEMPTS => continue,
                Err(WriteFailure::Busy) => {
                    return Err(DeskError::NotRecorded {
                        cause: "another process held the database too long; try again".into(),
                    });
                }
                Err(WriteFailure::Sql(e)) if is_damage(&e) => {
                    self.damaged.store(true, Ordering::Relaxed);
                    return Err(DeskError::Damaged { path: self.path.clone() });
                }
                Err(WriteFailure::Sql(e)) => {
                    return Err(DeskError::NotRecorded { cause: describe_sqlite(&e) });
                }
                Err(WriteFailure::Desk(e)) => return Err(e),
                Ok(v) => return Ok(v),
            }
        }
    }

    fn try_write<T>(
        &self,
        work: &mut impl FnMut(&Transaction<'_>) -> Result<T, DeskError>,
    ) -> Result<T, WriteFailure> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate).map_err(WriteFailure::from_sql)?;
        let value = work(&tx).map_err(WriteFailure::Desk)?;
        tx.commit().map_err(WriteFailure::from_sql)?;
        Ok(value)
    }

    /// Maps a failed read to a desk error naming this database. Damage seen once is remembered:
    /// from then on every write is refused (fail closed), even one that would only touch pages
    /// that still read well.
    pub fn read_error(&self, e: rusqlite::Error) -> DeskError {
        if is_damage(&e) {
            self.damaged.store(true, Ordering::Relaxed);
        }
        storage(&self.path, &e)
    }
}

enum WriteFailure {
    Busy,
    Sql(rusqlite::Error),
    Desk(DeskError),
}

impl WriteFailure {
    fn from_sql(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => {
                WriteFailure::Busy
            }
            _ => WriteFailure::Sql(e),
        }
    }
}

/// A failed statement inside a write transaction. Busy locks become a retry of the whole
/// transaction; everything else ends it with nothing recorded.
pub fn sql(e: rusqlite::Error) -> DeskError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => {
            DeskError::NotRecorded { cause: "another process held the database too long; try again".into() }
        }
        _ => DeskError::NotRecorded { cause: describe_sqlite(&e) },
    }
}

fn storage(path: &Path, e: &rusqlite::Error) -> DeskError {
    if is_damage(e) {
        DeskError::Damaged { path: path.to_path_buf() }
    } else {
        DeskError::Storage { path: path.to_path_buf(), cause: describe_sqlite(e) }
    }
}

/// Refuses a path that is a directory (`--db /tmp`): it is a wrong argument, and every check after
/// it would give advice about the directory as if it were the file (its mode, the disk).
pub fn refuse_directory(path: &Path) -> Result<(), DeskError> {
    if path.is_dir() {
        return Err(DeskError::Invalid(format!(
            "{} is a directory, not a database file; give the database file's path (for example {})",
            path.display(),
            path.join("support-desk.sqlite").display()
        )));
    }
    Ok(())
}

/// Refuses a file shorter than SQLite's smallest page (512 bytes): it cannot be a database, and
/// SQLite takes an empty file (or a one-byte one, a work-around for an old file system) for a new
/// database and would write one over it. Only `Create` may start from an empty file.
fn refuse_short_file(path: &Path, mode: OpenMode) -> Result<(), DeskError> {
    let len = std::fs::metadata(path)
        .map_err(|e| DeskError::Storage { path: path.to_path_buf(), cause: format!("could not read the file: {e}") })?
        .len();
    if len < 512 && (len > 0 || mode == OpenMode::Existing) {
        return Err(DeskError::Damaged { path: path.to_path_buf() });
    }
    Ok(())
}

/// Creates an empty file readable and writable by its owner only; SQLite gives the `-wal` and
/// `-shm` files the same mode.
fn create_private_file(path: &Path) -> Result<(), DeskError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(|_| ()).map_err(|e| DeskError::Storage {
        path: path.to_path_buf(),
        cause: format!("could not create the file: {e}"),
    })
}

impl Store {
    /// Copies the database to a new file at `to` (mode 0600) with SQLite's online backup, which
    /// reads a consistent snapshot while other processes keep writing. Returns the pages copied.
    /// An existing file is refused; a failed copy is removed.
    pub fn backup_to(&self, to: &Path) -> Result<i64, DeskError> {
        create_private_file(to).map_err(|_| DeskError::Invalid(format!(
            "{} already exists or cannot be created; a backup is always a new file",
            to.display()
        )))?;
        let copy = || -> rusqlite::Result<i64> {
            let mut dst = Connection::open(to)?;
            let backup = rusqlite::backup::Backup::new(&self.conn, &mut dst)?;
            backup.run_to_completion(256, Duration::from_millis(5), None)?;
            let pages = backup.progress().pagecount as i64;
            drop(backup);
            dst.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))?;
            Ok(pages)
        };
        match copy() {
            Ok(pages) => Ok(pages),
            Err(e) => {
                let _ = std::fs::remove_file(to);
                Err(DeskError::Storage { path: to.to_path_buf(), cause: describe_sqlite(&e) })
            }
        }
    }
}
