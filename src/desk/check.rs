//! `support-desk check`: a read-only health check of a database file. It opens the file read-only
//! (no WAL switch, no migration, no audit event), so it is safe on a damaged file or a copy.

use super::audit::ChainStatus;
use super::error::{DeskError, describe_sqlite, is_damage};
use super::failure_slots::{self, SlotMismatch};
use super::store::SCHEMA_VERSION;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
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
    /// Quarter hours where the failure rollup (the chart's counts) differs from a recount of the
    /// audit events: empty when they agree; `None` when the file has no rollup (schema before 6).
    pub failure_rollup: Option<Vec<SlotMismatch>>,
}

impl Health {
    /// True when nothing is wrong.
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
            && self.schema_version <= SCHEMA_VERSION
            && matches!(self.chain, Some(ChainStatus::Intact { .. }))
            && self.failure_rollup.as_ref().is_none_or(Vec::is_empty)
    }
}

/// Checks the file at `path` without changing it.
pub fn check(path: &Path) -> Result<Health, DeskError> {
    super::store::refuse_directory(path)?;
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
    problems.extend(missing_guards(&conn).map_err(fail)?);
    problems.extend(failure_slots::altered_triggers(&conn).map_err(fail)?);
    let has = |name: &str| -> Result<bool, DeskError> {
        let n: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema WHERE name = ?1", [name], |r| r.get(0)).map_err(fail)?;
        Ok(n > 0)
    };
    let has_trail = has("audit_events")?;
    let chain = if has_trail && schema_version <= SCHEMA_VERSION {
        Some(super::verify::verify_against(&conn, &[], Default::default()).map_err(fail)?.0)
    } else {
        None
    };
    // Derived data is checked against the events it is derived from, so a chart can never
    // disagree with the trail unnoticed.
    let failure_rollup = if has_trail && has("audit_failure_slots")? && schema_version <= SCHEMA_VERSION {
        Some(failure_slots::recount(&conn).map_err(fail)?)
    } else {
        None
    };
    Ok(Health { problems, schema_version, chain, failure_rollup })
}

/// The triggers that make the audit trail and its anchors append-only.
const GUARDS: [(&str, &str); 4] = [
    ("audit_events_no_update", "audit_events"),
    ("audit_events_no_delete", "audit_events"),
    ("audit_anchors_no_update", "audit_anchors"),
    ("audit_anchors_no_delete", "audit_anchors"),
];

/// The append-only guards that are missing or no longer abort. Nothing in the desk drops them: a
/// missing one means someone with write access to the file removed it, and rows may have been
/// changed and re-hashed since (only a head kept outside the file, `audit verify --head`, can tell).
pub(crate) fn missing_guards(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut problems = Vec::new();
    for (name, table) in GUARDS {
        let table_there: bool = conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )?;
        if !table_there {
            continue;
        }
        let sql: Option<String> = conn
            .query_row("SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = ?1", [name], |r| r.get(0))
            .optional()?;
        let aborts = sql.as_deref().is_some_and(|s| s.to_ascii_uppercase().replace(' ', "").contains("RAISE(ABORT"));
        if !aborts {
            problems.push(format!(
                "the append-only guard {name} on {table} is missing or altered: someone with write access to the \
                 file removed it, so rows could have been changed and re-hashed; compare the head with one kept \
                 outside the file (`audit verify --head SEQ:HASH`)"
            ));
        }
    }
    Ok(problems)
}
