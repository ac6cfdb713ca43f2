//! Audit review on a generated trail of 10,000,000 events (a year of a busy desk): the first
//! page, each filter change, the pattern views, the chart, and chain verification throughput.
//! Run with `cargo bench --bench audit_review` (`--events N` for a smaller trail, `--n K` for the
//! repetitions per query, `--db PATH` to keep the trail in PATH and reuse it on the next run: a
//! trail kept by an older build is migrated when opened, and the migration is timed). Prints p50 /
//! p99 and the machine. Never run by `cargo test`.
//!
//! The trail is written directly in batched inserts with correct chain hashes, in one transaction
//! (the use cases would take hours for ten million events; the rows are the same shape).

#[path = "support/mod.rs"]
mod support;
use support::{machine, percentile};

use chrono::{Duration as Age, FixedOffset, TimeZone, Utc};
use rusqlite::params;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support_desk::desk::audit::{AuditEvent, ChainStatus, GENESIS};
use support_desk::desk::clock::{FixedClock, to_db};
use support_desk::desk::pin_key::PinKey;
use support_desk::desk::review::{EventView, ReviewFilter, TimeRange};
use support_desk::desk::store::OpenMode;
use support_desk::desk::{Desk, NewRep, RepRole, SignIn, VerifySplit};


fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<60} n={:<3} p50={:>8.2} ms  p99={:>8.2} ms",
        samples.len(),
        ms(percentile(&samples, 0.5)),
        ms(percentile(&samples, 0.99)),
    );
}


fn arg(name: &str, default: usize) -> usize {
    std::env::args().skip_while(|a| a != name).nth(1).and_then(|n| n.parse().ok()).unwrap_or(default)
}

/// A small deterministic generator (xorshift), so every run builds the same trail.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const REPS: u64 = 200;
const ACCOUNTS: u64 = 50_000;

/// Writes a new bench database at `db`: the lead, then `events` generated events from `start`.
fn build_trail(db: &Path, events: i64, start: chrono::DateTime<Utc>) {
    let clock = Arc::new(FixedClock::at(start - Age::hours(1)));
    let mut desk = Desk::open_with_key(db, OpenMode::Create, PinKey::from_bytes([9u8; 32])).expect("open").with_clock(clock);
    desk.add_rep(&NewRep { username: "lead", display_name: "Bench Lead", role: RepRole::Lead, passphrase: "bench-lead-passphrase", account_id: None }, None)
        .expect("lead");
    drop(desk);

    // Generate the trail after the events the set-up wrote.
    let t0 = Instant::now();
    {
        let mut conn = rusqlite::Connection::open(db).expect("open");
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;").expect("pragmas");
        let (mut seq, mut prev): (i64, String) = conn
            .query_row("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap_or((0, GENESIS.to_string()));
        let tx = conn.transaction().expect("tx");
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO audit_events (seq, at, rep, case_id, kind, account_id, other_account, outcome, reason, \
                     policy_version, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                )
                .expect("prepare");
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
            let step_ms = 365 * 24 * 3600 * 1000 / events.max(1);
            for i in 0..events {
                seq += 1;
                let at = to_db(start + Age::milliseconds(i * step_ms));
                let rep = format!("rep{:03}", rng.below(REPS));
                let account = format!("A-{:05}", rng.below(ACCOUNTS));
                let roll = rng.below(1000);
                let (kind, outcome, reason, acct, other): (&str, &str, Option<&str>, Option<String>, Option<String>) = match roll {
                    0..=299 => ("account_viewed", "ok", None, Some(account), None),
                    300..=529 => ("pin_validated", "ok", Some("matched"), Some(account), None),
                    530..=569 => ("pin_rejected", "fail", Some("mismatch"), Some(account), None),
                    570..=571 => ("pin_locked", "locked", Some("too_many_failures"), Some(account), None),
                    572..=799 => ("verdict_shown", "assist", Some("own_account"), Some(account), None),
                    800..=849 => ("verdict_shown", "needs_approval", Some("staff_for_provider"), Some(account), Some(format!("A-{:05}", rng.below(ACCOUNTS)))),
                    850..=919 => ("signed_in", "ok", None, None, None),
                    920..=924 => ("sign_in_failed", "fail", Some("unknown_or_wrong"), None, None),
                    925..=929 => ("account_unlocked", "ok", Some("unlock"), Some(account), None),
                    _ => ("signed_out", "ok", None, None, None),
                };
                let case_id = roll.is_multiple_of(7).then_some(i / 4);
                let mut e = AuditEvent {
                    seq,
                    at,
                    rep: Some(rep),
                    case_id,
                    kind: kind.to_string(),
                    account_id: acct,
                    other_account: other,
                    outcome: outcome.to_string(),
                    reason: reason.map(str::to_string),
                    policy_version: Some(1),
                    detail: None,
                    prev_hash: std::mem::take(&mut prev),
                    hash: String::new(),
                };
                e.hash = e.expected_hash();
                insert
                    .execute(params![
                        e.seq, e.at, e.rep, e.case_id, e.kind, e.account_id, e.other_account, e.outcome, e.reason,
                        e.policy_version, e.detail, e.prev_hash, e.hash
                    ])
                    .expect("insert");
                prev = e.hash;
                if seq % 1_000_000 == 0 {
                    eprintln!("  generated {seq} events ({:.0} s)", t0.elapsed().as_secs_f64());
                }
            }
        }
        tx.commit().expect("commit");
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;").expect("checkpoint");
    }
    println!("generated {events} events in {:.1} s", t0.elapsed().as_secs_f64());
}

fn main() {
    let events = arg("--events", 10_000_000) as i64;
    let n = arg("--n", 30);
    let kept: Option<PathBuf> = std::env::args().skip_while(|a| a != "--db").nth(1).map(PathBuf::from);
    println!("machine: {}", machine());
    println!("profile: {}", if cfg!(debug_assertions) { "debug" } else { "release" });
    let dir = tempfile::tempdir().expect("tempdir");
    let db = kept.unwrap_or_else(|| dir.path().join("bench.sqlite"));
    let end = Utc.with_ymd_and_hms(2031, 6, 9, 12, 0, 0).single().expect("instant");
    let start = end - Age::days(365);
    if db.exists() {
        println!("trail: reusing {}", db.display());
    } else {
        println!("trail: {events} events over 365 days");
        build_trail(&db, events, start);
    }
    let clock = Arc::new(FixedClock::at(end));
    let t = Instant::now();
    let mut desk = Desk::open_with_key(&db, OpenMode::Existing, PinKey::from_bytes([9u8; 32])).expect("open").with_clock(clock.clone());
    println!("open (with any migration the trail lacks): {:.1} s", t.elapsed().as_secs_f64());
    let SignIn::SignedIn(lead) = desk.sign_in("lead", "bench-lead-passphrase").expect("sign in") else { panic!("refused") };
    let by = Some(&lead);
    let utc = FixedOffset::east_opt(0).expect("offset");
    let time = |f: &mut dyn FnMut()| -> Vec<Duration> {
        (0..n)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect()
    };
    let base = ReviewFilter::default();
    let with = |change: &dyn Fn(&mut ReviewFilter)| {
        let mut f = base.clone();
        change(&mut f);
        f
    };
    let pages: Vec<(&str, ReviewFilter, EventView)> = vec![
        ("first page (no filter)", base.clone(), EventView::All),
        ("last day", with(&|f| f.range = TimeRange::LastDay), EventView::All),
        ("last week", with(&|f| f.range = TimeRange::LastWeek), EventView::All),
        ("last month", with(&|f| f.range = TimeRange::LastMonth), EventView::All),
        ("last year", with(&|f| f.range = TimeRange::LastYear), EventView::All),
        ("rep", with(&|f| f.rep = Some("rep042".into())), EventView::All),
        ("account by id", with(&|f| f.account = Some("A-01234".into())), EventView::All),
        ("kind sign_in_failed", with(&|f| f.kind = Some(support_desk::desk::audit::EventKind::SignInFailed)), EventView::All),
        ("failures only", with(&|f| f.failures_only = true), EventView::All),
        ("case", with(&|f| f.case_id = Some(1_234_567)), EventView::All),
        ("rep + failures + last month", with(&|f| {
            f.rep = Some("rep042".into());
            f.failures_only = true;
            f.range = TimeRange::LastMonth;
        }), EventView::All),
        ("view: failed PIN checks, last week", with(&|f| f.range = TimeRange::LastWeek), EventView::FailedPinChecks),
        ("view: unlocks, last month", with(&|f| f.range = TimeRange::LastMonth), EventView::Unlocks),
        ("view: sign-in failures", base.clone(), EventView::SignInFailures),
        ("view: verdicts without a PIN match, last day", with(&|f| f.range = TimeRange::LastDay), EventView::VerdictsWithoutPin),
        ("view: verdicts without a PIN match, last month", with(&|f| f.range = TimeRange::LastMonth), EventView::VerdictsWithoutPin),
        ("view: verdicts without a PIN match, rep, last month", with(&|f| {
            f.rep = Some("rep042".into());
            f.range = TimeRange::LastMonth;
        }), EventView::VerdictsWithoutPin),
    ];
    for (name, filter, view) in &pages {
        report(&format!("page: {name}"), time(&mut || {
            let page = desk.review_page(by, filter, *view, None, 100).expect("page");
            std::hint::black_box(page);
        }));
    }
    let week = with(&|f| f.range = TimeRange::LastWeek);
    let day = with(&|f| f.range = TimeRange::LastDay);
    let month = with(&|f| f.range = TimeRange::LastMonth);
    let year = with(&|f| f.range = TimeRange::LastYear);
    // Paging deep: the 100th page of the unfiltered list by keyset.
    let deep_before = {
        let mut before = None;
        for _ in 0..100 {
            before = desk.review_page(by, &base, EventView::All, before, 100).expect("page").events.last().map(|e| e.seq);
        }
        before
    };
    report("page: 101st page by keyset", time(&mut || {
        std::hint::black_box(desk.review_page(by, &base, EventView::All, deep_before, 100).expect("page"));
    }));
    // Every verdict of the day examined: what one page of this view costs on a trail where such
    // verdicts are rare (here nearly every verdict lacks a match, so a page of 100 fills early).
    let every: Vec<Duration> = (0..n.min(3))
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(desk.review_page(by, &day, EventView::VerdictsWithoutPin, None, 1_000_000).expect("page"));
            t.elapsed()
        })
        .collect();
    report("page: verdicts without a PIN match, last day, all of them", every);
    for (name, filter) in [("day", &day), ("week", &week), ("month", &month), ("year", &year)] {
        report(&format!("accounts failing across reps, last {name}"), time(&mut || {
            std::hint::black_box(desk.accounts_failing_across_reps(by, filter).expect("spread"));
        }));
        report(&format!("reps failing across accounts, last {name}"), time(&mut || {
            std::hint::black_box(desk.reps_failing_across_accounts(by, filter).expect("spread"));
        }));
    }
    for (name, filter) in [("day (per hour)", &day), ("week (per day)", &week), ("month (per day)", &month), ("year (per week)", &year)] {
        report(&format!("chart: last {name}"), time(&mut || {
            std::hint::black_box(desk.failure_chart(by, filter, utc).expect("chart"));
        }));
    }
    // India's half-hour offset: local buckets that do not start on a UTC hour.
    let india = FixedOffset::east_opt(5 * 3600 + 1800).expect("offset");
    for (name, filter) in [("month (per day)", &month), ("year (per week)", &year)] {
        report(&format!("chart: last {name}, UTC+05:30"), time(&mut || {
            std::hint::black_box(desk.failure_chart(by, filter, india).expect("chart"));
        }));
    }
    let rep_month = with(&|f| {
        f.rep = Some("rep042".into());
        f.range = TimeRange::LastMonth;
    });
    report("chart: rep, last month (per day)", time(&mut || {
        std::hint::black_box(desk.failure_chart(by, &rep_month, utc).expect("chart"));
    }));
    let t = Instant::now();
    let mismatches = support_desk::desk::failure_slots::recount(&rusqlite::Connection::open(&db).expect("open")).expect("recount");
    assert!(mismatches.is_empty(), "{mismatches:?}");
    println!("check: failure rollup recounted from the events in {:.2} s", t.elapsed().as_secs_f64());
    // Verification, on one thread and then divided as `audit verify` does by default (one thread
    // per core once the trail is long enough); the answer must not depend on it.
    let mut answers = Vec::new();
    for (name, split) in [("one thread", VerifySplit::threads(1)), ("default split", VerifySplit::default())] {
        let t = Instant::now();
        let (status, _) = desk.verify_trail_split(&[], split).expect("verify");
        let secs = t.elapsed().as_secs_f64();
        let &ChainStatus::Intact { events, .. } = &status else { panic!("{status:?}") };
        println!("verify, {name}: {events} events in {secs:.2} s = {:.0} events/s", events as f64 / secs);
        answers.push(status);
    }
    assert_eq!(answers[0], answers[1]);
}
