//! Numbered schema migrations, embedded in the binary. A released migration is never edited;
//! the schema version is `PRAGMA user_version`.

use crate::desk::error::{DeskError, describe_sqlite, is_damage};
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;

/// Migrations in order; the schema version after applying the first `n` is `n`.
/// (Files are numbered by the issue that added them; the list, not the file name, gives the order.)
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_cases_approvals.sql"),
    include_str!("migrations/0003_audit_review.sql"),
    include_str!("migrations/0004_admin.sql"),
    include_str!("migrations/0005_search_index.sql"),
    include_str!("migrations/0006_review_rollups.sql"),
    include_str!("migrations/0007_audit_write_indexes.sql"),
    include_str!("migrations/0008_pin_match_probe.sql"),
    include_str!("migrations/0009_failure_spread_indexes.sql"),
    include_str!("migrations/0010_imported_pin_digests.sql"),
    include_str!("migrations/0011_failures_only.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The refusal of a SQLite file that holds tables but no support-desk schema version.
pub fn not_ours(path: &Path) -> DeskError {
    DeskError::Storage {
        path: path.to_path_buf(),
        cause: "this SQLite file holds other tables; it is not a support-desk database, so it was \
                left unchanged"
            .into(),
    }
}

/// Applies every migration the database lacks, all in one transaction.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<(), DeskError> {
    let fail = |e: rusqlite::Error| {
        if is_damage(&e) {
            DeskError::Damaged { path: path.to_path_buf() }
        } else {
            DeskError::Storage { path: path.to_path_buf(), cause: describe_sqlite(&e) }
        }
    };
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(fail)?;
    if current >= SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(fail)?;
    // Another process may have migrated while we waited for the lock.
    let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(fail)?;
    if current == 0 {
        let tables: i64 = tx
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(fail)?;
        if tables > 0 {
            return Err(not_ours(path));
        }
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        tx.execute_batch(sql).map_err(fail)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64).map_err(fail)?;
    }
    tx.commit().map_err(fail)
}
