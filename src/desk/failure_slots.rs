//! The failure rollup: failed Support PIN checks and lockouts per quarter hour (UTC), kept by a
//! trigger as audit events are written (migration 0006), so that the lead's chart of a month or a
//! year reads at most a few tens of thousands of small rows instead of every failure in the range.
//!
//! It is derived data. The trail's integrity is the hash chain; the rollup can only be written by
//! writing audit events (guard triggers refuse every other change), and [`recount`] compares it
//! with the events so that `support-desk check` names any quarter hour where they differ.

use super::audit::EventKind;
use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

/// Width of one rollup slot: every time zone's offset is a multiple of it, so a slot never spans
/// two local hours, days or weeks.
pub const SLOT_SECONDS: i64 = 900;

/// The failure kinds, written exactly as the partial index `audit_failed_pin` and the rollup
/// trigger write them: SQLite uses a partial index only for a query that repeats its condition.
pub(crate) const FAILED_PIN_SQL: &str = "e.kind IN ('pin_rejected', 'pin_locked')";

/// The kinds [`FAILED_PIN_SQL`] selects, in its order (a test keeps the two in step).
pub(crate) const FAILED_PIN: &[EventKind] = &[EventKind::PinRejected, EventKind::PinLocked];

/// `floor(expr / divisor)` in SQL (SQLite's `/` truncates toward zero), for integer `expr`.
pub(crate) fn floor_div_sql(expr: &str, divisor: &str) -> String {
    format!("(({expr}) / ({divisor}) - (({expr}) % ({divisor}) < 0))")
}

/// The rollup slot holding `t`.
pub fn slot_of(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(SLOT_SECONDS)
}

/// The instant a slot starts.
pub fn slot_start(slot: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(slot.checked_mul(SLOT_SECONDS)?, 0).single()
}

/// Buckets of equal length from `origin` (unix seconds): bucket `i` is
/// `[origin + i * step, origin + (i + 1) * step)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Grid {
    pub origin: i64,
    pub step: i64,
}

impl Grid {
    /// True when every bucket is a whole number of rollup slots (the viewer's offset is a multiple
    /// of a quarter hour), so the rollup can fill it.
    pub fn on_slots(self) -> bool {
        self.origin.rem_euclid(SLOT_SECONDS) == 0 && self.step % SLOT_SECONDS == 0 && self.step > 0
    }
}

/// Failures and lockouts counted into one bucket of a [`Grid`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BucketCount {
    pub index: i64,
    pub failures: i64,
    pub lockouts: i64,
}

/// Failures and lockouts of the whole slots `first..end` (end exclusive) from the rollup, per
/// bucket of `grid` (which must be [`Grid::on_slots`]).
///
/// One range sum per bucket: each walks its slots in key order, where a single `GROUP BY` of a
/// computed bucket number would sort every slot of the range first (3-4x slower over a year).
pub(crate) fn rolled_up(conn: &Connection, grid: Grid, first: i64, end: i64) -> rusqlite::Result<Vec<BucketCount>> {
    let mut stmt = conn.prepare_cached(
        "SELECT coalesce(sum(failures), 0), coalesce(sum(lockouts), 0) FROM audit_failure_slots WHERE slot >= ?1 AND slot < ?2",
    )?;
    let per_bucket = grid.step / SLOT_SECONDS;
    let slot_of_bucket = |index: i64| grid.origin / SLOT_SECONDS + index * per_bucket;
    let mut index = (first * SLOT_SECONDS - grid.origin).div_euclid(grid.step);
    let mut out = Vec::new();
    while slot_of_bucket(index) < end {
        let (from, to) = (slot_of_bucket(index).max(first), slot_of_bucket(index + 1).min(end));
        let (failures, lockouts): (i64, i64) = stmt.query_row([from, to], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if failures + lockouts > 0 {
            out.push(BucketCount { index, failures, lockouts });
        }
        index += 1;
    }
    Ok(out)
}

/// The rollup's triggers: the one that counts each failure event, and the guards that refuse every
/// other write to the rollup.
const TRIGGERS: [&str; 4] = [
    "audit_failure_slots_count",
    "audit_failure_slots_insert_guard",
    "audit_failure_slots_update_guard",
    "audit_failure_slots_delete_guard",
];

/// The text of trigger `name` as migration 0006 created it (SQLite keeps it without the `;`).
fn created_trigger(name: &str) -> Option<&'static str> {
    let sql = include_str!("store/migrations/0006_review_rollups.sql");
    let start = sql.find(&format!("CREATE TRIGGER {name} "))?;
    let end = start + sql[start..].find("\nEND;")? + "\nEND".len();
    Some(&sql[start..end])
}

/// The rollup's triggers that are missing or differ from the ones the migration created (the desk
/// never changes them: only someone with write access to the file can). Without the counting
/// trigger, failures written from then on would not reach the chart; without a guard, the rollup
/// could be changed directly. Empty on a database without the rollup.
pub(crate) fn altered_triggers(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let has_rollup: bool =
        conn.query_row("SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'audit_failure_slots'", [], |r| r.get(0))?;
    if !has_rollup {
        return Ok(Vec::new());
    }
    let mut problems = Vec::new();
    for name in TRIGGERS {
        let sql: Option<String> = conn
            .query_row("SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = ?1", [name], |r| r.get(0))
            .optional()?;
        if sql.is_none() || sql.as_deref() != created_trigger(name) {
            problems.push(format!(
                "the failure rollup's trigger {name} is missing or altered: someone with write access to the file \
                 changed it, so the failure chart may stop matching the audit events (the events themselves are \
                 what the chain proves)"
            ));
        }
    }
    Ok(problems)
}

/// A quarter hour where the rollup and the audit events disagree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SlotMismatch {
    /// Start of the quarter hour, UTC (RFC 3339).
    pub start: String,
    /// (failures, lockouts) in the rollup.
    pub rollup: (i64, i64),
    /// (failures, lockouts) counted from the audit events.
    pub events: (i64, i64),
}

/// Every quarter hour where the rollup differs from a recount of the events (empty when they
/// agree), oldest first. Reads every failure event once, through the covering index.
pub fn recount(conn: &Connection) -> rusqlite::Result<Vec<SlotMismatch>> {
    let slot = floor_div_sql("unixepoch(e.at)", &SLOT_SECONDS.to_string());
    let sql = format!(
        "WITH counted AS ( \
           SELECT {slot} AS slot, sum(e.kind = 'pin_rejected') AS failures, sum(e.kind = 'pin_locked') AS lockouts \
           FROM audit_events e INDEXED BY audit_failed_pin \
           WHERE {FAILED_PIN_SQL} AND unixepoch(e.at) IS NOT NULL GROUP BY 1) \
         SELECT coalesce(c.slot, r.slot) AS s, coalesce(r.failures, 0), coalesce(r.lockouts, 0), \
                coalesce(c.failures, 0), coalesce(c.lockouts, 0) \
         FROM counted c FULL OUTER JOIN audit_failure_slots r ON r.slot = c.slot \
         WHERE coalesce(r.failures, 0) <> coalesce(c.failures, 0) OR coalesce(r.lockouts, 0) <> coalesce(c.lockouts, 0) \
         ORDER BY s"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], |r| {
        let slot: i64 = r.get(0)?;
        Ok(SlotMismatch {
            start: slot_start(slot).map(super::clock::to_db).unwrap_or_else(|| format!("slot {slot}")),
            rollup: (r.get(1)?, r.get(2)?),
            events: (r.get(3)?, r.get(4)?),
        })
    })?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failure_condition_names_exactly_the_failure_kinds() {
        let listed: Vec<String> = FAILED_PIN.iter().map(|k| format!("'{}'", k.as_str())).collect();
        assert_eq!(FAILED_PIN_SQL, format!("e.kind IN ({})", listed.join(", ")));
    }

    #[test]
    fn the_migration_uses_the_same_condition_and_slot_as_the_code() {
        let sql = include_str!("store/migrations/0006_review_rollups.sql");
        assert!(sql.contains(&FAILED_PIN_SQL["e.".len()..]));
        assert!(sql.contains("unixepoch(at) / 900 - (unixepoch(at) % 900 < 0)"));
        assert_eq!(SLOT_SECONDS, 900);
    }

    #[test]
    fn every_rollup_trigger_is_found_in_the_migration() {
        for name in TRIGGERS {
            let sql = created_trigger(name).expect("created by migration 0006");
            assert!(sql.starts_with("CREATE TRIGGER ") && sql.ends_with("\nEND"), "{sql}");
        }
    }

    #[test]
    fn slots_floor_before_and_after_1970() {
        let t = |s: i64| Utc.timestamp_opt(s, 0).single().expect("instant");
        assert_eq!(slot_of(t(0)), 0);
        assert_eq!(slot_of(t(899)), 0);
        assert_eq!(slot_of(t(900)), 1);
        assert_eq!(slot_of(t(-1)), -1);
        assert_eq!(slot_of(t(-900)), -1);
        assert_eq!(slot_of(t(-901)), -2);
        assert_eq!(slot_start(-2).map(|t| t.timestamp()), Some(-1800));
    }

    #[test]
    fn sql_floor_division_matches_rust_on_both_sides_of_zero() {
        let conn = Connection::open_in_memory().expect("memory");
        for x in [-1801i64, -1800, -901, -900, -899, -1, 0, 1, 899, 900, 1799, 1800] {
            let sql = format!("SELECT {}", floor_div_sql("?1", "900"));
            let got: i64 = conn.query_row(&sql, [x], |r| r.get(0)).expect("query");
            assert_eq!(got, x.div_euclid(900), "{x}");
        }
    }

    #[test]
    fn a_grid_is_on_slots_only_for_quarter_hour_offsets() {
        assert!(Grid { origin: 1800, step: 3600 }.on_slots());
        assert!(Grid { origin: -2700, step: 86_400 }.on_slots());
        assert!(!Grid { origin: 60, step: 3600 }.on_slots());
        assert!(!Grid { origin: 0, step: 0 }.on_slots());
    }
}
