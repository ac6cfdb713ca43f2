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
    /// Where the lookup's trigram index is out of step with the directory: empty when it is in
    /// step; `None` when the file has no such index (schema before 5).
    pub search_index: Option<Vec<String>>,
}

impl Health {
    /// True when nothing is wrong.
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
            && self.schema_version <= SCHEMA_VERSION
            && matches!(self.chain, Some(ChainStatus::Intact { .. }))
            && self.failure_rollup.as_ref().is_none_or(Vec::is_empty)
            && self.search_index.as_ref().is_none_or(Vec::is_empty)
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
    let conn = match Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .and_then(|c| c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).map(|_| c))
    {
        Ok(conn) => conn,
        Err(e) => open_where_nothing_can_change(path).ok_or_else(|| fail(e))??,
    };
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
    let search_index = if has("account_search_docsize")? && has("accounts")? {
        Some(search_index_problems(&conn).map_err(fail)?)
    } else {
        None
    };
    Ok(Health { problems, schema_version, chain, failure_rollup, search_index })
}

/// A database SQLite cannot open read-only the usual way because it cannot make the shared-memory
/// file beside it (a read-only mount, a copy in a read-only directory): when no write-ahead log
/// with content lies beside it, the file alone holds everything, and nothing can change it while
/// it is checked, so it is opened as immutable. `None` when that does not apply (the original
/// error stands); an error when a log with content would be left out.
fn open_where_nothing_can_change(path: &Path) -> Option<Result<Connection, DeskError>> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal = std::path::PathBuf::from(wal);
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let dir_writable = rustix::fs::access(dir, rustix::fs::Access::WRITE_OK).is_ok();
    if dir_writable {
        return None;
    }
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Some(Err(DeskError::Storage {
            path: path.to_path_buf(),
            cause: format!(
                "it lies in a directory that cannot be written (a read-only mount?) beside a write-ahead log ({}) \
                 that SQLite reads only with write access there; copy the database with its -wal file to a \
                 writable directory and check the copy",
                wal.display()
            ),
        }));
    }
    let uri = format!("file:{}?immutable=1", uri_path(path));
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    Some(Connection::open_with_flags(uri, flags).map_err(|e| DeskError::Storage { path: path.to_path_buf(), cause: describe_sqlite(&e) }))
}

/// `path` for a `file:` URI: absolute, with the characters a URI gives meaning to escaped.
fn uri_path(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::new();
    for b in absolute.as_os_str().as_encoded_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => out.push(*b as char),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// Accounts sampled for the search index's content (spread evenly over the directory).
const SEARCH_SAMPLES: i64 = 500;

/// The lookup's trigram index against the directory, read-only. SQLite's integrity check does not
/// compare an external-content full-text index with its rows, and FTS5's own check needs a
/// writable connection; an index out of step would make accounts unfindable by substring, or
/// find them by an old name. Every account must have an entry and every entry an account; for an
/// even sample of accounts, a trigram of their search text must find them.
fn search_index_problems(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut problems = Vec::new();
    let missing: i64 = conn.query_row(
        "SELECT count(*) FROM accounts a WHERE NOT EXISTS (SELECT 1 FROM account_search_docsize d WHERE d.id = a.rowid)",
        [],
        |r| r.get(0),
    )?;
    let extra: i64 = conn.query_row(
        "SELECT count(*) FROM account_search_docsize d WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.rowid = d.id)",
        [],
        |r| r.get(0),
    )?;
    if missing > 0 {
        problems.push(format!("{missing} account(s) have no entry in the search index: lookups by part of a name cannot find them"));
    }
    if extra > 0 {
        problems.push(format!("the search index holds {extra} entry(ies) for accounts that are not in the directory"));
    }
    let (first, last): (Option<i64>, Option<i64>) =
        conn.query_row("SELECT (SELECT min(rowid) FROM accounts), (SELECT max(rowid) FROM accounts)", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut stale = 0;
    if let (Some(first), Some(last)) = (first, last) {
        let step = ((last - first) / SEARCH_SAMPLES).max(1);
        let mut sample = conn.prepare("SELECT rowid, search_text FROM accounts WHERE rowid >= ?1 ORDER BY rowid LIMIT 1")?;
        // Rows without any entry are counted above; here, rows whose entry holds other text.
        let mut probe = conn.prepare(
            "SELECT EXISTS (SELECT 1 FROM account_search_docsize WHERE id = ?2) \
                    AND NOT EXISTS (SELECT 1 FROM account_search WHERE account_search MATCH ?1 AND rowid = ?2)",
        )?;
        let mut at = first;
        while at <= last {
            let Some((rowid, text)) = sample.query_row([at], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))).optional()? else {
                break;
            };
            // The first three characters of the text make a trigram the index must hold for it.
            let trigram: String = text.chars().take(3).collect();
            if trigram.chars().count() == 3 {
                let phrase = format!("\"{}\"", trigram.replace('"', "\"\""));
                let other_text: bool = probe.query_row(rusqlite::params![phrase, rowid], |r| r.get(0))?;
                if other_text {
                    stale += 1;
                }
            }
            at = rowid.max(at) + step;
        }
    }
    if stale > 0 {
        problems.push(format!(
            "{stale} sampled account(s) are not found by their own text in the search index: it holds older text for them"
        ));
    }
    if !problems.is_empty() {
        problems.push("the audit trail is not affected; rebuild the index with `support-desk reindex`".into());
    }
    Ok(problems)
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
