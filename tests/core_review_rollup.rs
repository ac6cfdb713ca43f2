//! The failure rollup behind the lead's chart (migration 0006): the chart read through it equals
//! the chart counted from the audit events themselves, in UTC and in half-hour, quarter-hour and
//! negative offsets, for every range and with rep and account filters; every path that writes
//! audit events keeps it equal to a recount; the app cannot write it any other way; a rollup
//! changed behind the app's back is named by `check`; and a schema-5 database is backfilled when
//! it is opened.

mod common;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use common::*;
use rusqlite::Connection;
use support_desk::desk::audit::{self, EventKind, NewEvent};
use support_desk::desk::check::check;
use support_desk::desk::clock::{Clock, from_db};
use support_desk::desk::failure_slots::{self, SlotMismatch};
use support_desk::desk::import::ImportOptions;
use support_desk::desk::review::{BucketSize, FailureChart, ReviewFilter, TimeRange};
use support_desk::desk::store::{OpenMode, SCHEMA_VERSION};
use support_desk::desk::{RepRole, Session};

/// A small deterministic generator (xorshift), so every run builds the same history.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

const REPS: [&str; 3] = ["rita", "sam", "kim"];
const ACCOUNTS: [&str; 4] = ["S-2001", "S-2002", "P-1001", "P-1002"];

/// Appends an event at `at`, through the same append every use case uses; returns its sequence.
fn append_at(conn: &mut Connection, at: DateTime<Utc>, kind: EventKind, e: NewEvent) -> i64 {
    let tx = conn.transaction().expect("tx");
    let seq = audit::append(&tx, at, kind, &e).expect("append");
    tx.commit().expect("commit");
    seq
}

fn offset(seconds: i32) -> FixedOffset {
    FixedOffset::east_opt(seconds).expect("offset")
}

/// The instants of the constructed history, in order: spread over 400 days, dense in the last
/// five, plus instants on and around quarter hours and local midnights of the tested offsets.
fn instants(now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut out = Vec::new();
    let from = now - Duration::days(400);
    for _ in 0..500 {
        out.push(from + Duration::milliseconds(rng.below(395 * 86_400_000) as i64));
    }
    for _ in 0..400 {
        out.push(now - Duration::milliseconds(rng.below(5 * 86_400_000) as i64 + 1));
    }
    // Around quarter hours, UTC midnight, and midnights at +05:30 (18:30 UTC), -03:00 (03:00 UTC)
    // and +05:45 (18:15 UTC), on days inside every range.
    for days_back in [0i64, 1, 2, 6, 20, 40, 200] {
        let day = (now - Duration::days(days_back)).date_naive();
        for (h, m) in [(0, 0), (3, 0), (18, 15), (18, 30), (9, 45)] {
            let Some(t) = day.and_hms_opt(h, m, 0).map(|t| t.and_utc()) else { continue };
            for d in [-1i64, 0, 1] {
                let t = t + Duration::milliseconds(d);
                if t < now {
                    out.push(t);
                }
            }
        }
    }
    // On and around the ends of every tested range, where a quarter hour is only partly inside.
    for range in ranges(now) {
        let (since, until) = range.bounds(now);
        for t in since.into_iter().chain(until) {
            for ms in [-60_000i64, -1, 0, 1, 1_000, 60_000] {
                let t = t + Duration::milliseconds(ms);
                if t < now {
                    out.push(t);
                }
            }
        }
    }
    out.sort();
    out
}

/// A history of failed Support PIN checks, lockouts and ordinary events by several reps on several
/// accounts, written in time order up to a "now" that is not on a quarter hour, then leo signed in.
struct History {
    f: Fixture,
    leo: Session,
}

fn history() -> History {
    let mut f = Fixture::new();
    let now = f.clock.now() + Duration::days(400) + Duration::minutes(7) + Duration::milliseconds(13_500);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut conn = f.raw();
    for at in instants(now) {
        let rep = REPS[rng.below(3) as usize];
        let account = ACCOUNTS[rng.below(4) as usize];
        let (kind, outcome) = match rng.below(10) {
            0..=5 => (EventKind::PinRejected, "fail"),
            6 => (EventKind::PinLocked, "locked"),
            7 => (EventKind::PinValidated, "ok"),
            8 => (EventKind::VerdictShown, "assist"),
            _ => (EventKind::AccountViewed, "ok"),
        };
        append_at(&mut conn, at, kind, NewEvent {
            rep: Some(rep.into()),
            account_id: Some(account.into()),
            outcome: outcome.into(),
            ..NewEvent::default()
        });
    }
    drop(conn);
    f.clock.set(now);
    let leo = f.leo();
    History { f, leo }
}

/// One failure event as the test reads it behind the app's back.
struct Failure {
    at: DateTime<Utc>,
    locked: bool,
    rep: Option<String>,
    account: Option<String>,
}

fn failures(f: &Fixture) -> Vec<Failure> {
    let conn = f.raw();
    let mut stmt = conn
        .prepare("SELECT at, kind, rep, account_id FROM audit_events WHERE kind IN ('pin_rejected', 'pin_locked')")
        .expect("prepare");
    let rows = stmt.query_map([], |r| {
        let at: String = r.get(0)?;
        let kind: String = r.get(1)?;
        Ok(Failure { at: from_db(&at).expect("time"), locked: kind == "pin_locked", rep: r.get(2)?, account: r.get(3)? })
    });
    rows.expect("query").collect::<Result<_, _>>().expect("rows")
}

/// The chart counted here from the events: each failure of the range that the filter lets through,
/// in the bar its own time falls in.
fn counted(chart: &FailureChart, filter: &ReviewFilter, now: DateTime<Utc>, all: &[Failure]) -> Vec<(i64, i64)> {
    let step = match chart.size {
        BucketSize::Hour => Duration::hours(1),
        BucketSize::Day => Duration::days(1),
        BucketSize::Week => Duration::days(7),
    };
    let mut bars = vec![(0, 0); chart.buckets.len()];
    let (Some(first), Some(last)) = (chart.buckets.first(), chart.buckets.last()) else { return bars };
    let (since, until) = filter.range.bounds(now);
    let lower = since.unwrap_or(first.start.with_timezone(&Utc));
    let chart_end = (last.start + step).with_timezone(&Utc);
    let upper = until.map_or(chart_end, |u| u.min(chart_end));
    for e in all {
        let rep_ok = filter.rep.as_ref().is_none_or(|r| e.rep.as_ref() == Some(r));
        let account_ok = filter.account.as_ref().is_none_or(|a| e.account.as_ref() == Some(a));
        if e.at < lower || e.at >= upper || !rep_ok || !account_ok {
            continue;
        }
        let i = (e.at - first.start.with_timezone(&Utc)).num_seconds().div_euclid(step.num_seconds());
        if let Some(bar) = usize::try_from(i).ok().and_then(|i| bars.get_mut(i)) {
            if e.locked {
                bar.1 += 1;
            } else {
                bar.0 += 1;
            }
        }
    }
    bars
}

fn bars(chart: &FailureChart) -> Vec<(i64, i64)> {
    chart.buckets.iter().map(|b| (b.failures, b.lockouts)).collect()
}

fn ranges(now: DateTime<Utc>) -> Vec<TimeRange> {
    let custom = |since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>| TimeRange::Custom { since, until };
    let quarter = |t: DateTime<Utc>| failure_slots::slot_start(failure_slots::slot_of(t)).expect("slot start");
    vec![
        TimeRange::LastDay,
        TimeRange::LastWeek,
        TimeRange::LastMonth,
        TimeRange::LastYear,
        TimeRange::All,
        // Ends inside quarter hours, on quarter hours, both in one quarter hour, an open end.
        custom(Some(now - Duration::milliseconds(265_530_500)), Some(now - Duration::milliseconds(93_120_250))),
        custom(Some(quarter(now - Duration::days(3))), Some(quarter(now - Duration::hours(5)))),
        custom(Some(quarter(now - Duration::hours(30)) + Duration::minutes(2)), Some(quarter(now - Duration::hours(30)) + Duration::minutes(13))),
        custom(Some(now - Duration::days(50)), None),
        custom(None, Some(now - Duration::days(100))),
    ]
}

#[test]
fn the_chart_through_the_rollup_equals_the_chart_counted_from_events() {
    let h = history();
    let now = h.f.clock.now();
    let all = failures(&h.f);
    let offsets = [
        ("UTC", offset(0)),
        ("+05:30", offset(5 * 3600 + 1800)),
        ("-03:00", offset(-3 * 3600)),
        ("+05:45", offset(5 * 3600 + 2700)),
        // Not a whole number of quarter hours: counted from the events.
        ("+00:20", offset(1200)),
    ];
    let mut nonempty = 0;
    for (zone, offset) in offsets {
        for range in ranges(now) {
            for (who, rep, account) in [("everyone", None, None), ("rep sam", Some("sam"), None), ("account S-2002", None, Some("S-2002"))] {
                let filter = ReviewFilter { range: range.clone(), rep: rep.map(Into::into), account: account.map(Into::into), ..ReviewFilter::default() };
                let chart = h.f.desk.failure_chart(Some(&h.leo), &filter, offset).expect("chart");
                let expected = counted(&chart, &filter, now, &all);
                assert_eq!(bars(&chart), expected, "{zone}, {range:?}, {who}");
                nonempty += usize::from(expected.iter().any(|&(f, l)| f + l > 0));
            }
        }
    }
    assert!(nonempty > 100, "the history puts failures in most charts ({nonempty})");
}

#[test]
fn bars_start_on_local_boundaries_in_every_tested_offset() {
    let h = history();
    let filter = ReviewFilter { range: TimeRange::LastMonth, ..ReviewFilter::default() };
    for (seconds, midnight) in [(0, "00:00"), (5 * 3600 + 1800, "00:00"), (-3 * 3600, "00:00")] {
        let chart = h.f.desk.failure_chart(Some(&h.leo), &filter, offset(seconds)).expect("chart");
        assert_eq!(chart.size, BucketSize::Day);
        assert!(chart.buckets.iter().all(|b| b.start.format("%H:%M").to_string() == midnight));
        assert_eq!(chart.buckets[0].start.offset().local_minus_utc(), seconds);
    }
}

/// (slot, failures, lockouts, last_seq) of every rollup row, read behind the app's back.
fn rollup_rows(path: &std::path::Path) -> Vec<(i64, i64, i64, i64)> {
    let conn = raw(path);
    let mut stmt = conn.prepare("SELECT slot, failures, lockouts, last_seq FROM audit_failure_slots ORDER BY slot").expect("prepare");
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)));
    rows.expect("query").collect::<Result<_, _>>().expect("rows")
}

fn recount(path: &std::path::Path) -> Vec<SlotMismatch> {
    failure_slots::recount(&raw(path)).expect("recount")
}

#[test]
fn every_path_that_writes_audit_events_keeps_the_rollup_equal_to_a_recount() {
    let mut f = Fixture::new();
    f.add_rep("sam", "Sam Ortiz", RepRole::Rep, "sam-test-passphrase", None);
    let rita = f.rita();
    let sam = f.sign_in("sam", "sam-test-passphrase");
    // Use cases: wrong PINs by two reps until S-2002 locks, a try on the locked PIN, an unknown
    // account, a case's PIN check, across a quarter hour and a day.
    for (i, session) in [&rita, &sam, &rita, &sam, &rita, &sam].into_iter().enumerate() {
        f.desk.check_pin(session, &id("S-2002"), &pin("0000")).expect("check");
        f.clock.advance(Duration::minutes(4 + i as i64));
    }
    f.desk.check_pin(&rita, &id("X-9999"), &pin("0000")).expect("unknown account");
    f.clock.advance(Duration::hours(23));
    f.desk.check_pin(&sam, &id("S-2001"), &pin("0001")).expect("check");
    f.desk.check_pin(&sam, &id("S-2001"), &pin("3356")).expect("match");
    assert!(rollup_rows(&f.path).len() >= 3, "the failures span several quarter hours");
    assert_eq!(recount(&f.path), []);

    // Import writes an audit event, but not a failure: the rollup is untouched.
    let before = rollup_rows(&f.path);
    let head = f.head_seq();
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/directory-spreadsheet-export.csv");
    f.desk.import_directory(&file, ImportOptions { skip_bad: true, allow_removals: true, ..ImportOptions::default() }, &mut |_| {}).expect("import");
    assert!(f.head_seq() > head, "the import wrote its audit event");
    assert_eq!(rollup_rows(&f.path), before);
    assert_eq!(recount(&f.path), []);
    let health = check(&f.path).expect("check");
    assert_eq!(health.failure_rollup, Some(Vec::new()));
    assert!(health.is_sound(), "{health:?}");

    // `generate` writes its trail in bulk; the trigger counts it all the same.
    let generated = f.dir.path().join("generated.sqlite");
    support_desk::desk::generate::generate(&generated, 20, 30_000, 7, start(), |_, _, _| {}).expect("generate");
    let slots = failure_slots::recount(&raw(&generated)).expect("recount");
    assert_eq!(slots, []);
    let counted: i64 =
        raw(&generated).query_row("SELECT sum(failures + lockouts) FROM audit_failure_slots", [], |r| r.get(0)).expect("sum");
    let events: i64 = raw(&generated)
        .query_row("SELECT count(*) FROM audit_events WHERE kind IN ('pin_rejected', 'pin_locked')", [], |r| r.get(0))
        .expect("count");
    assert!(events > 1000, "{events}");
    assert_eq!(counted, events);
}

#[test]
fn the_app_cannot_write_the_rollup_except_by_writing_audit_events() {
    let h = history();
    let before = rollup_rows(&h.f.path);
    let (slot, _, _, last_seq) = before[before.len() / 2];
    let conn = h.f.raw();
    let refused = |sql: &str| {
        let err = conn.execute(sql, []).expect_err(sql).to_string();
        assert!(err.contains("the failure rollup is written only by audit events"), "{sql}: {err}");
    };
    refused(&format!("UPDATE audit_failure_slots SET failures = failures + 1 WHERE slot = {slot}"));
    refused(&format!("UPDATE audit_failure_slots SET failures = 0, lockouts = 0 WHERE slot = {slot}"));
    // Counting again the event already counted, or moving its count to another slot.
    refused(&format!("UPDATE audit_failure_slots SET failures = failures + 1, last_seq = {last_seq} WHERE slot = {slot}"));
    refused(&format!("UPDATE audit_failure_slots SET slot = slot + 1 WHERE slot = {slot}"));
    refused(&format!("DELETE FROM audit_failure_slots WHERE slot = {slot}"));
    refused(&format!("INSERT INTO audit_failure_slots VALUES ({slot}, 0, 0, 0)"));
    refused(&format!("INSERT OR REPLACE INTO audit_failure_slots VALUES ({slot}, 0, 0, 0)"));
    refused("INSERT INTO audit_failure_slots VALUES (1, 5, 0, 1)");
    refused(&format!("INSERT INTO audit_failure_slots VALUES ({slot}, 0, 0, 0) ON CONFLICT (slot) DO UPDATE SET failures = 0"));
    drop(conn);
    assert_eq!(rollup_rows(&h.f.path), before);
    assert_eq!(recount(&h.f.path), []);
}

#[test]
fn a_rollup_changed_behind_the_apps_back_is_named_by_check() {
    let h = history();
    let before = rollup_rows(&h.f.path);
    let (slot, failures, lockouts, _) = before[0];
    let conn = h.f.raw();
    conn.execute_batch("DROP TRIGGER audit_failure_slots_update_guard").expect("drop the guard");
    conn.execute("UPDATE audit_failure_slots SET failures = failures + 2 WHERE slot = ?1", [slot]).expect("tamper");
    drop(conn);
    let health = check(&h.f.path).expect("check");
    assert!(!health.is_sound());
    assert!(matches!(health.chain, Some(support_desk::desk::audit::ChainStatus::Intact { .. })), "the events are intact");
    let start = failure_slots::slot_start(slot).map(support_desk::desk::clock::to_db).expect("slot start");
    assert_eq!(
        health.failure_rollup,
        Some(vec![SlotMismatch { start, rollup: (failures + 2, lockouts), events: (failures, lockouts) }])
    );
    assert_eq!(health.problems.len(), 1, "{:?}", health.problems);
    assert!(health.problems[0].contains("audit_failure_slots_update_guard is missing or altered"));
}

#[test]
fn a_counting_trigger_replaced_behind_the_apps_back_is_named_before_it_miscounts() {
    let f = Fixture::new();
    f.raw()
        .execute_batch(
            "DROP TRIGGER audit_failure_slots_count; \
             CREATE TRIGGER audit_failure_slots_count AFTER INSERT ON audit_events WHEN 0 BEGIN SELECT 1; END;",
        )
        .expect("replace the trigger");
    let health = check(&f.path).expect("check");
    assert_eq!(health.failure_rollup, Some(Vec::new()), "nothing miscounted yet");
    assert!(!health.is_sound());
    assert!(health.problems.iter().any(|p| p.contains("audit_failure_slots_count is missing or altered")), "{:?}", health.problems);
}

#[test]
fn failures_before_1970_fall_in_the_slot_the_recount_gives_them() {
    let f = Fixture::new();
    let mut conn = f.raw();
    for at in ["1969-12-31T23:59:59.999Z", "1969-12-31T23:45:00.000Z", "1969-12-31T23:44:59.000Z", "1970-01-01T00:00:00.000Z"] {
        let at = from_db(at).expect("time");
        append_at(&mut conn, at, EventKind::PinRejected, NewEvent { outcome: "fail".into(), ..NewEvent::default() });
    }
    let slots: Vec<(i64, i64)> = rollup_rows(&f.path).into_iter().map(|r| (r.0, r.1)).collect();
    assert_eq!(slots, [(-2, 1), (-1, 2), (0, 1)]);
    assert_eq!(recount(&f.path), []);
}

/// Turns a fresh database back into schema 5: migration 0006 only adds the first three objects,
/// 0008 and 0009 two indexes each, 0010 one table (0007 drops and creates its own, so it runs again
/// as it is).
fn back_to_schema_5(path: &std::path::Path) {
    raw(path)
        .execute_batch(
            "DROP TRIGGER audit_failure_slots_count; DROP TABLE audit_failure_slots; DROP INDEX audit_failed_pin; \
             DROP INDEX audit_pin_match_case; DROP INDEX audit_pin_match_rep; \
             DROP INDEX audit_failed_by_account; DROP INDEX audit_failed_by_rep; DROP TABLE imported_pin_digests; \
             PRAGMA user_version = 5;",
        )
        .expect("schema 5");
}

#[test]
fn a_schema_5_database_is_backfilled_when_opened_and_counts_on() {
    let h = history();
    let kept = rollup_rows(&h.f.path);
    let History { f, .. } = h;
    let Fixture { dir, path, clock, desk } = f;
    drop(desk);
    back_to_schema_5(&path);
    // An event written at schema 5 (by an older build), in a quarter hour of its own.
    let at = clock.now() + Duration::minutes(20);
    let seq = append_at(&mut raw(&path), at, EventKind::PinLocked, NewEvent { outcome: "locked".into(), ..NewEvent::default() });
    let mut expected = kept;
    expected.push((failure_slots::slot_of(at), 0, 1, seq));

    let desk = open(&path, OpenMode::Existing, &clock);
    let version: i64 = raw(&path).query_row("PRAGMA user_version", [], |r| r.get(0)).expect("version");
    assert_eq!(version, SCHEMA_VERSION);
    // The backfill gives exactly the rows the trigger kept while the events were written.
    assert_eq!(rollup_rows(&path), expected);
    assert_eq!(recount(&path), []);

    // And the trigger counts what is written after the migration.
    let later = at + Duration::minutes(1);
    let seq = append_at(&mut raw(&path), later, EventKind::PinRejected, NewEvent { outcome: "fail".into(), ..NewEvent::default() });
    expected.last_mut().map(|last| *last = (last.0, 1, 1, seq)).expect("the new slot");
    assert_eq!(rollup_rows(&path), expected);
    assert!(check(&path).expect("check").is_sound());
    drop((desk, dir));
}

/// The pattern views walk the failures of a short range in sequence order and sort them, and the
/// failures of a range over most of the trail in account (or rep) order (migration 0009). Both
/// walks must give exactly what a plain count of the audit events gives, row for row, for every
/// range, and with a rep filter.
#[test]
fn the_pattern_views_equal_a_plain_count_of_the_events_for_every_range() {
    use std::collections::{BTreeMap, BTreeSet};
    use support_desk::desk::review::{ACROSS_ACCOUNTS, ACROSS_REPS, FailureSpread, SPREAD_ROWS};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("generated.sqlite");
    support_desk::desk::generate::generate(&path, 30, 20_000, 11, start(), |_, _, _| {}).expect("generate");
    let clock = std::sync::Arc::new(support_desk::desk::clock::FixedClock::at(start()));
    let desk = open(&path, OpenMode::Existing, &clock);
    let conn = raw(&path);
    let failures: Vec<(String, Option<String>, Option<String>, String)> = conn
        .prepare("SELECT kind, account_id, rep, at FROM audit_events NOT INDEXED WHERE kind IN ('pin_rejected', 'pin_locked')")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert!(failures.len() > 300, "{}", failures.len());
    let name = |table: &str, key: &str| -> Option<String> {
        let sql = if table == "reps" { "SELECT display_name FROM reps WHERE username = ?1" } else { "SELECT name FROM accounts WHERE id = ?1" };
        conn.query_row(sql, [key], |r| r.get(0)).ok()
    };
    // What the view must show, counted here from the rows themselves.
    let expected = |filter: &ReviewFilter, by_account: bool| -> Vec<FailureSpread> {
        let (since, until) = filter.range.bounds(start());
        let since = since.map(support_desk::desk::clock::to_db);
        let until = until.map(support_desk::desk::clock::to_db);
        let mut groups: BTreeMap<String, (i64, i64, BTreeSet<String>, String, String)> = BTreeMap::new();
        for (kind, account, rep, at) in &failures {
            let in_range = since.as_ref().is_none_or(|s| at >= s) && until.as_ref().is_none_or(|u| at < u);
            let rep_ok = filter.rep.as_ref().is_none_or(|r| rep.as_deref() == Some(r.as_str()));
            let (key, other) = if by_account { (account, rep) } else { (rep, account) };
            let Some(key) = key.clone().filter(|_| in_range && rep_ok) else { continue };
            let g = groups.entry(key).or_insert_with(|| (0, 0, BTreeSet::new(), at.clone(), at.clone()));
            g.0 += i64::from(kind == "pin_rejected");
            g.1 += i64::from(kind == "pin_locked");
            g.2.extend(other.clone());
            g.3 = g.3.clone().min(at.clone());
            g.4 = g.4.clone().max(at.clone());
        }
        let min_spread = if by_account { ACROSS_REPS } else { ACROSS_ACCOUNTS };
        let mut rows: Vec<FailureSpread> = groups
            .into_iter()
            .filter(|(_, g)| g.2.len() as i64 >= min_spread)
            .map(|(key, (failures, lockouts, spread, first_at, last_at))| FailureSpread {
                name: name(if by_account { "accounts" } else { "reps" }, &key),
                key,
                failures,
                lockouts,
                spread: spread.len() as i64,
                first_at,
                last_at,
            })
            .collect();
        let both = |r: &FailureSpread| r.failures + r.lockouts;
        rows.sort_by(|a, b| b.spread.cmp(&a.spread).then(both(b).cmp(&both(a))).then(a.key.cmp(&b.key)));
        rows.truncate(SPREAD_ROWS);
        rows
    };
    let mut seen_rows = 0;
    for range in [TimeRange::LastDay, TimeRange::LastWeek, TimeRange::LastMonth, TimeRange::LastYear, TimeRange::All] {
        for rep in [None, Some("rep0004".to_string())] {
            let filter = ReviewFilter { range: range.clone(), rep: rep.clone(), ..ReviewFilter::default() };
            let accounts = desk.accounts_failing_across_reps(None, &filter).expect("accounts");
            assert_eq!(accounts, expected(&filter, true), "accounts, {range:?}, rep {rep:?}");
            let reps = desk.reps_failing_across_accounts(None, &filter).expect("reps");
            assert_eq!(reps, expected(&filter, false), "reps, {range:?}, rep {rep:?}");
            seen_rows += accounts.len() + reps.len();
        }
    }
    assert!(seen_rows > 50, "the history has patterns to find: {seen_rows}");
}

/// A trail whose times do not follow its sequence (a history loaded after the database was
/// created, as `generate` does; a clock set back): the whole-trail chart still starts early enough
/// to count every failure.
#[test]
fn the_whole_trail_chart_counts_every_failure_even_when_times_do_not_follow_the_sequence() {
    let f = Fixture::new();
    let mut conn = raw(&f.path);
    for days in [40, 20, 3] {
        let e = NewEvent { rep: Some("rita".into()), account_id: Some("S-2001".into()), outcome: "fail".into(), ..NewEvent::default() };
        append_at(&mut conn, f.clock.now() - Duration::days(days), EventKind::PinRejected, e);
    }
    let e = NewEvent { rep: Some("rita".into()), account_id: Some("S-2001".into()), outcome: "locked".into(), ..NewEvent::default() };
    append_at(&mut conn, f.clock.now() - Duration::days(30), EventKind::PinLocked, e);
    let chart = f
        .desk
        .failure_chart(None, &ReviewFilter { range: TimeRange::All, ..ReviewFilter::default() }, FixedOffset::east_opt(0).expect("offset"))
        .expect("chart");
    let counted: (i64, i64) = chart.buckets.iter().fold((0, 0), |(f, l), b| (f + b.failures, l + b.lockouts));
    assert_eq!(counted, (3, 1), "{chart:?}");
}
