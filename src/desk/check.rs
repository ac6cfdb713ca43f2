//! `support-desk check`: a read-only health check of a database file. It opens the file read-only
//! (no WAL switch, no migration, no audit event), so it is safe on a damaged file or a copy.

use super::audit::ChainStatus;
use super::error::{DeskError, describe_sqlite, is_damage};
use super::store::SCHEMA_VERSION;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use std::path::Path;

/// What the check found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Health {
    /// SQLite's own integrity check: empty when the file is sound.
    pub problems: Vec<String>,
    /// `PRAGMA user_version` of the file.
    pub schema_version: i64,
    /// The audit chain, when the file is a support-desk database this build can read.
    pub chain: Option<ChainStatus>,
}

impl Health {
    /// True when nothing is wrong.
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
            && self.schema_version <= SCHEMA_VERSION
            && matches!(self.chain, Some(ChainStatus::Intact { .. }))
    }
}

/// Checks the file at `path` without changing it.
pub fn check(path: &Path) -> Result<Health, DeskError> {
    if !path.exists() {
        return Err(DeskError::NoDatabase { path: path.to_path_buf() });
    }
    let fail = |e: rusqlite::Error| {
        if is_damage(&e) {
            DeskError::Damaged { path: path.to_path_buf() }
        } else {
            DeskError::Storage { path: path.to_path_buf(), cause: describe_sqlite(&e) }
        }
    };
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(fail)?;
    let schema_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(fail)?;
    let mut problems = Vec::new();
    {
        let mut stmt = conn.prepare("PRAGMA integrity_check").map_err(fail)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(fail)?;
        for row in rows {
            let line = row.map_err(fail)?;
            if line != "ok" {
                problems.push(line);
            }
        }
    }
    let has_trail: bool = conn
        .query_row("SELECT count(*) FROM sqlite_schema WHERE name = 'audit_events'", [], |r| r.get::<_, i64>(0))
        .map_err(fail)?
        > 0;
    let chain = if has_trail && schema_version <= SCHEMA_VERSION {
        Some(super::verify::verify_against(&conn, &[], Default::default()).map_err(fail)?.0)
    } else {
        None
    };
    Ok(Health { problems, schema_version, chain })
}
