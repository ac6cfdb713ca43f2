//! Team lead audit review through the public API: role gating in the core, filtered keyset pages,
//! every pattern view on a constructed history, the failure chart, review records anchoring the
//! chain head (a trail cut back or rewritten behind the app's back is reported), and exports that
//! round-trip through `verify_export` and name the first tampered line.

mod common;

use chrono::{Duration, FixedOffset};
use support_desk::desk::clock::Clock;
use common::*;
use support_desk::desk::audit::{self, ChainStatus, EventKind, NewEvent};
use support_desk::desk::export::{ExportFormat, FileCheck, verify_export};
use support_desk::desk::review::{BucketSize, EventView, ReviewFilter, TimeRange};
use support_desk::desk::{Anchor, DeskError, RepRole, Request, Session};

const SAM_PASS: &str = "sam-test-passphrase";

fn utc() -> FixedOffset {
    FixedOffset::east_opt(0).expect("offset")
}

/// Appends an event behind the use cases (for kinds this branch has no use case for yet, and for
/// anomalies the use cases would never write), properly chained.
fn append_raw(f: &Fixture, kind: EventKind, e: NewEvent) -> i64 {
    let mut conn = f.raw();
    let tx = conn.transaction().expect("tx");
    let seq = audit::append(&tx, f.clock.now(), kind, &e).expect("append");
    tx.commit().expect("commit");
    seq
}

fn kinds(events: &[support_desk::desk::audit::AuditEvent]) -> Vec<&str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

/// A history: rita fails PINs on three accounts, sam on one of them, leo once; a lockout; an
/// unlock; sign-in failures; an approval; a verdict after a match, one without.
struct History {
    f: Fixture,
    leo: Session,
    rita: Session,
}

fn history() -> History {
    let mut f = Fixture::new();
    f.add_rep("sam", "Sam Ortiz", RepRole::Rep, SAM_PASS, None);
    let rita = f.rita();
    let sam = f.sign_in("sam", SAM_PASS);
    // Ten days ago: rita fails once on S-2001.
    f.clock.advance(-Duration::days(10));
    f.desk.check_pin(&rita, &id("S-2001"), &pin("0000")).expect("check");
    f.clock.advance(Duration::days(10) - Duration::hours(3));
    // Three hours ago: rita fails on S-2002 twice and on S-2004, sam on S-2002.
    f.desk.check_pin(&rita, &id("S-2002"), &pin("0000")).expect("check");
    f.desk.check_pin(&rita, &id("S-2002"), &pin("0001")).expect("check");
    f.desk.check_pin(&rita, &id("S-2004"), &pin("0000")).expect("check");
    f.clock.advance(Duration::hours(1));
    f.desk.check_pin(&sam, &id("S-2002"), &pin("0002")).expect("check");
    // Two hours ago: sam locks S-2002 (5 failures in a row across reps).
    f.clock.advance(Duration::hours(1));
    f.desk.check_pin(&sam, &id("S-2002"), &pin("0003")).expect("check");
    f.desk.check_pin(&sam, &id("S-2002"), &pin("0004")).expect("check");
    f.desk.unlock(&rita, &id("S-2003"), "called back on the number on file").expect("unlock");
    assert_eq!(f.desk.sign_in("sam", "wrong-passphrase!!").expect("answer"), support_desk::desk::SignIn::Refused);
    append_raw(&f, EventKind::ApprovalRecorded, NewEvent {
        rep: Some("rita".into()),
        case_id: Some(7),
        account_id: Some("S-2001".into()),
        other_account: Some("P-1001".into()),
        outcome: "ok".into(),
        reason: Some("case_reply".into()),
        ..NewEvent::default()
    });
    // One hour ago: a verdict after a match (fine) and one with no match (the anomaly).
    f.clock.advance(Duration::hours(1));
    f.desk.check_pin(&rita, &id("S-2001"), &pin("3356")).expect("check");
    f.desk.decide(&rita, &id("S-2001"), &Request::OwnAccount).expect("verdict");
    append_raw(&f, EventKind::VerdictShown, NewEvent {
        rep: Some("sam".into()),
        account_id: Some("P-1002".into()),
        outcome: "assist".into(),
        reason: Some("own_account".into()),
        policy_version: Some(1),
        ..NewEvent::default()
    });
    // Later, past the idle timeout: rita's match no longer counts for a new verdict.
    f.clock.advance(Duration::minutes(20));
    append_raw(&f, EventKind::VerdictShown, NewEvent {
        rep: Some("rita".into()),
        account_id: Some("S-2001".into()),
        outcome: "assist".into(),
        reason: Some("own_account".into()),
        policy_version: Some(1),
        ..NewEvent::default()
    });
    let leo = f.leo();
    History { f, leo, rita }
}

#[test]
fn a_rep_is_refused_by_the_core_for_every_review_query() {
    let mut h = history();
    let rita = h.rita.clone();
    let all = ReviewFilter::default();
    let refused = |r: Result<(), DeskError>| matches!(r, Err(DeskError::Refused(_)));
    let before = h.f.head_seq();
    assert!(refused(h.f.desk.review_page(Some(&rita), &all, EventView::All, None, 10).map(|_| ())));
    assert!(refused(h.f.desk.event_detail(Some(&rita), 1).map(|_| ())));
    assert!(refused(h.f.desk.accounts_failing_across_reps(Some(&rita), &all).map(|_| ())));
    assert!(refused(h.f.desk.reps_failing_across_accounts(Some(&rita), &all).map(|_| ())));
    assert!(refused(h.f.desk.failure_chart(Some(&rita), &all, utc()).map(|_| ())));
    assert!(refused(h.f.desk.record_review(&rita, &TimeRange::LastWeek, "looked").map(|_| ())));
    let mut sink = Vec::new();
    assert!(refused(h.f.desk.export_events(Some(&rita), &all, ExportFormat::Jsonl, &mut sink).map(|_| ())));
    assert!(sink.is_empty(), "nothing was exported");
    // Each refusal is recorded, as the rep's, and nothing else: no review, no export, no anchor.
    let refusal = |kind: &str| (kind.to_string(), None, "refused".to_string(), Some("not_a_lead".to_string()));
    let mut want = vec![refusal("audit_reviewed"); 6];
    want.push(refusal("audit_exported"));
    assert_eq!(h.f.events_after(before), want);
    let reps: i64 = h.f.raw().query_row("SELECT count(*) FROM audit_events WHERE seq > ?1 AND rep = 'rita'", [before], |r| r.get(0)).expect("count");
    assert_eq!(reps, 7);
    let anchors: i64 = h.f.raw().query_row("SELECT count(*) FROM audit_anchors", [], |r| r.get(0)).expect("count");
    assert_eq!(anchors, 0);
    assert!(matches!(h.f.desk.verify_chain().expect("verify"), ChainStatus::Intact { .. }));
    // The lead is let through.
    assert!(h.f.desk.review_page(Some(&h.leo), &all, EventView::All, None, 10).is_ok());
}

#[test]
fn pages_are_newest_first_and_keyset_paging_neither_skips_nor_repeats() {
    let h = history();
    let all = ReviewFilter::default();
    let total = h.f.head_seq();
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = h.f.desk.review_page(Some(&h.leo), &all, EventView::All, before, 7).expect("page");
        assert!(page.events.windows(2).all(|w| w[0].seq > w[1].seq), "newest first");
        seen.extend(page.events.iter().map(|e| e.seq));
        before = page.events.last().map(|e| e.seq);
        if !page.more {
            break;
        }
    }
    assert_eq!(seen, (1..=total).rev().collect::<Vec<_>>());
}

#[test]
fn filters_combine_and_time_ranges_follow_the_clock() {
    let h = history();
    let leo = Some(&h.leo);
    let page = |filter: &ReviewFilter, view| h.f.desk.review_page(leo, filter, view, None, 100).expect("page").events;

    // Failed PIN checks and lockouts of the last day: the ten-day-old failure is not in it.
    let day = ReviewFilter { range: TimeRange::LastDay, ..ReviewFilter::default() };
    let failed = page(&day, EventView::FailedPinChecks);
    let accounts: Vec<(&str, Option<&str>)> =
        failed.iter().map(|e| (e.kind.as_str(), e.account_id.as_deref())).collect();
    assert_eq!(accounts, [
        ("pin_locked", Some("S-2002")),
        ("pin_rejected", Some("S-2002")),
        ("pin_rejected", Some("S-2002")),
        ("pin_rejected", Some("S-2002")),
        ("pin_rejected", Some("S-2004")),
        ("pin_rejected", Some("S-2002")),
        ("pin_rejected", Some("S-2002")),
    ]);
    let month = ReviewFilter { range: TimeRange::LastMonth, ..ReviewFilter::default() };
    assert_eq!(page(&month, EventView::FailedPinChecks).len(), 8);

    // Rep + failures only.
    let rita_failures = ReviewFilter { rep: Some("rita".into()), failures_only: true, ..ReviewFilter::default() };
    assert!(page(&rita_failures, EventView::All).iter().all(|e| e.rep.as_deref() == Some("rita") && e.outcome != "ok"));
    assert_eq!(page(&rita_failures, EventView::FailedPinChecks).len(), 4);

    // Account by name or by id: the same events.
    let by_name = ReviewFilter { account: Some("Dev Patel".into()), ..ReviewFilter::default() };
    let by_id = ReviewFilter { account: Some("S-2002".into()), ..ReviewFilter::default() };
    assert_eq!(page(&by_name, EventView::All), page(&by_id, EventView::All));
    assert!(!page(&by_id, EventView::All).is_empty());

    // Kind, and a kind outside the view matches nothing.
    let kind = ReviewFilter { kind: Some(EventKind::AccountUnlocked), ..ReviewFilter::default() };
    assert_eq!(kinds(&page(&kind, EventView::All)), ["account_unlocked"]);
    assert!(page(&kind, EventView::SignInFailures).is_empty());

    // Case.
    let case = ReviewFilter { case_id: Some(7), ..ReviewFilter::default() };
    assert_eq!(kinds(&page(&case, EventView::All)), ["approval_recorded"]);

    // A custom range with no events in it.
    let empty = ReviewFilter {
        range: TimeRange::Custom { since: Some(start() - Duration::days(30)), until: Some(start() - Duration::days(20)) },
        ..ReviewFilter::default()
    };
    assert!(page(&empty, EventView::All).is_empty());
}

#[test]
fn each_pattern_view_finds_its_events() {
    let h = history();
    let leo = Some(&h.leo);
    let all = ReviewFilter::default();
    let view = |v| h.f.desk.review_page(leo, &all, v, None, 100).expect("page").events;

    assert_eq!(kinds(&view(EventView::Unlocks)), ["account_unlocked"]);
    assert_eq!(kinds(&view(EventView::Approvals)), ["approval_recorded"]);
    let sign_ins = view(EventView::SignInFailures);
    assert_eq!(kinds(&sign_ins), ["sign_in_failed"]);
    assert_eq!(sign_ins[0].rep.as_deref(), Some("sam"));

    // Verdicts without a PIN match: sam's (no match at all) and rita's second (her match was
    // more than the idle timeout before); not rita's verdict right after her match.
    let lonely = view(EventView::VerdictsWithoutPin);
    let who: Vec<(Option<&str>, Option<&str>)> =
        lonely.iter().map(|e| (e.rep.as_deref(), e.account_id.as_deref())).collect();
    assert_eq!(who, [(Some("rita"), Some("S-2001")), (Some("sam"), Some("P-1002"))]);

    // Accounts with failures by several reps: S-2002 (rita and sam), not S-2004 or S-2001.
    let accounts = h.f.desk.accounts_failing_across_reps(leo, &all).expect("accounts");
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    assert_eq!((accounts[0].key.as_str(), accounts[0].spread), ("S-2002", 2));
    assert_eq!((accounts[0].failures, accounts[0].lockouts), (5, 1), "five rejections, then the lockout");
    assert_eq!(accounts[0].name.as_deref(), Some("Dev Patel"));

    // Reps whose failures span many accounts: rita (S-2001, S-2002, S-2004), not sam (one).
    let reps = h.f.desk.reps_failing_across_accounts(leo, &all).expect("reps");
    assert_eq!(reps.len(), 1, "{reps:?}");
    assert_eq!((reps[0].key.as_str(), reps[0].spread, reps[0].name.as_deref()), ("rita", 3, Some("Rita Alvarez")));
    // Over the last day only two of rita's accounts are left: below the threshold.
    let day = ReviewFilter { range: TimeRange::LastDay, ..ReviewFilter::default() };
    assert!(h.f.desk.reps_failing_across_accounts(leo, &day).expect("reps").is_empty());
}

/// A verdict in a case needs a match in that case; a verdict outside any case needs a match by the
/// same rep on the same account within the idle timeout, in a case or not.
#[test]
fn a_verdict_counts_only_the_match_of_its_own_case_or_its_own_rep() {
    let mut f = Fixture::new();
    let event = |rep: &str, case_id: Option<i64>, account: &str, outcome: &str| NewEvent {
        rep: Some(rep.into()),
        case_id,
        account_id: Some(account.into()),
        outcome: outcome.into(),
        reason: Some("own_account".into()),
        policy_version: Some(1),
        ..NewEvent::default()
    };
    append_raw(&f, EventKind::PinValidated, event("rita", Some(11), "S-2003", "ok"));
    f.clock.advance(Duration::minutes(1));
    let listed: Vec<i64> = [
        // (rep, case, account, listed?)
        ("rita", Some(11), "S-2003", false), // the match of its case
        ("sam", Some(11), "S-2003", false),  // another rep on the same case: still that case's match
        ("rita", Some(12), "S-2003", true),  // another case: a new verification is needed
        ("rita", Some(11), "S-2004", true),  // another account in the same case
        ("rita", None, "S-2003", false),     // no case: rita's own match a minute ago
        ("sam", None, "S-2003", true),       // no case, another rep: not sam's match
    ]
    .into_iter()
    .filter_map(|(rep, case, account, listed)| {
        let seq = append_raw(&f, EventKind::VerdictShown, event(rep, case, account, "assist"));
        listed.then_some(seq)
    })
    .collect();
    // Past the idle timeout rita's match no longer covers a verdict outside a case, but still
    // covers one in its case (a case's verification ends with the case, not with the clock here).
    f.clock.advance(Duration::minutes(20));
    let late = append_raw(&f, EventKind::VerdictShown, event("rita", None, "S-2003", "assist"));
    append_raw(&f, EventKind::VerdictShown, event("rita", Some(11), "S-2003", "assist"));
    let leo = f.leo();
    let page = f.desk.review_page(Some(&leo), &ReviewFilter::default(), EventView::VerdictsWithoutPin, None, 100).expect("page");
    let mut seqs: Vec<i64> = page.events.iter().map(|e| e.seq).collect();
    seqs.sort();
    let mut expected = listed;
    expected.push(late);
    assert_eq!(seqs, expected);
}

#[test]
fn the_chart_counts_failures_and_lockouts_per_hour_of_the_day_and_per_day_of_the_month() {
    let h = history();
    let day = ReviewFilter { range: TimeRange::LastDay, ..ReviewFilter::default() };
    let chart = h.f.desk.failure_chart(Some(&h.leo), &day, utc()).expect("chart");
    assert_eq!(chart.size, BucketSize::Hour);
    assert_eq!(chart.buckets.len(), 25, "24 hours, the first and last partly");
    assert_eq!(chart.totals(), (6, 1));
    let busy: Vec<(String, i64, i64)> = chart
        .buckets
        .iter()
        .filter(|b| b.failures + b.lockouts > 0)
        .map(|b| (b.start.format("%H:%M").to_string(), b.failures, b.lockouts))
        .collect();
    // rita's three at 10:05, sam's one at 11:05, sam's two and the lockout at 12:05 (UTC).
    assert_eq!(busy, [("10:00".to_string(), 3, 0), ("11:00".to_string(), 1, 0), ("12:00".to_string(), 2, 1)]);

    // In a time zone two hours ahead the same failures fall in the local hours 12 to 14.
    let plus2 = FixedOffset::east_opt(7200).expect("offset");
    let local = h.f.desk.failure_chart(Some(&h.leo), &day, plus2).expect("chart");
    let hours: Vec<String> =
        local.buckets.iter().filter(|b| b.failures > 0).map(|b| b.start.format("%H").to_string()).collect();
    assert_eq!(hours, ["12", "13", "14"]);

    let month = ReviewFilter { range: TimeRange::LastMonth, ..ReviewFilter::default() };
    let chart = h.f.desk.failure_chart(Some(&h.leo), &month, utc()).expect("chart");
    assert_eq!(chart.size, BucketSize::Day);
    assert_eq!(chart.totals(), (7, 1));
    assert_eq!(chart.buckets.iter().filter(|b| b.failures > 0).count(), 2, "ten days ago and today");
}

#[test]
fn the_detail_resolves_rep_account_and_practice_names() {
    let h = history();
    let page = h
        .f
        .desk
        .review_page(Some(&h.leo), &ReviewFilter::default(), EventView::Approvals, None, 1)
        .expect("page");
    let detail = h.f.desk.event_detail(Some(&h.leo), page.events[0].seq).expect("detail");
    assert_eq!(detail.rep_name.as_deref(), Some("Rita Alvarez"));
    let account = detail.account.expect("account");
    assert_eq!((account.name.as_deref(), account.practice.as_deref()), (Some("Carla Mendes"), Some("Harbor Family Medicine")));
    assert_eq!(detail.other.expect("other").name.as_deref(), Some("Dr. Ada Okafor"));
    assert_eq!(detail.event.case_id, Some(7));
    assert!(matches!(h.f.desk.event_detail(Some(&h.leo), 99_999), Err(DeskError::NotFound(_))));
}

/// Records a review as leo and returns the head it anchored.
fn reviewed(h: &mut History) -> (i64, String) {
    let leo = h.leo.clone();
    let record = h.f.desk.record_review(&leo, &TimeRange::LastWeek, "Monday review: S-2002 lockout looked at").expect("review");
    let head = h.f.head_seq();
    assert_eq!(record.event_seq, head, "the review is itself the newest audit event");
    assert_eq!(record.head_seq, head - 1);
    let (kind, _, outcome, _) = h.f.events_after(head - 1).remove(0);
    assert_eq!((kind.as_str(), outcome.as_str()), ("audit_reviewed", "ok"));
    (record.head_seq, record.head_hash)
}

#[test]
fn a_review_records_range_head_and_note_and_verify_checks_against_it() {
    let mut h = history();
    let (head_seq, head_hash) = reviewed(&mut h);
    let detail: String = h
        .f
        .raw()
        .query_row("SELECT detail FROM audit_events WHERE kind = 'audit_reviewed'", [], |r| r.get(0))
        .expect("detail");
    assert!(detail.contains(&format!("head {head_seq}:{head_hash}")), "{detail}");
    assert!(detail.contains("last week") && detail.contains("note: Monday review"), "{detail}");
    let (status, heads) = verify_every_way(&h.f.desk, &[]);
    assert!(matches!(status, ChainStatus::Intact { .. }), "{status:?}");
    assert_eq!(heads, 1);
    let leo = h.leo.clone();
    assert!(matches!(h.f.desk.record_review(&leo, &TimeRange::All, "   "), Err(DeskError::Invalid(_))));
}

#[test]
fn a_review_note_that_may_hold_a_pin_is_refused_and_records_nothing() {
    let mut h = history();
    let leo = h.leo.clone();
    let before = h.f.head_seq();
    for note in ["caller S-2001 PIN was 3356", "pin 3 3 5 6", "S-2002 read out 00-71", "P-1001 0417"] {
        let err = h.f.desk.record_review(&leo, &TimeRange::LastWeek, note).expect_err(note);
        assert!(matches!(err, DeskError::Invalid(_)), "{note}: {err}");
        let text = err.to_string();
        assert!(text.contains("review note") && text.contains("never written down"), "{text}");
        assert!(!text.contains("3356") && !text.contains("0071") && !text.contains("0417"), "{text}");
    }
    assert_eq!(h.f.head_seq(), before, "nothing was recorded");
    // Account ids are not PINs: a lead names the accounts they looked at.
    let record = h.f.desk.record_review(&leo, &TimeRange::LastWeek, "S-2002 and P-1001 looked at; fine").expect("review");
    assert_eq!(record.event_seq, before + 1);
}

#[test]
fn a_trail_cut_back_below_a_recorded_head_is_reported() {
    let mut h = history();
    let (head_seq, _) = reviewed(&mut h);
    let conn = h.f.raw();
    conn.execute_batch("DROP TRIGGER audit_events_no_delete").expect("drop trigger");
    conn.execute("DELETE FROM audit_events WHERE seq > ?1", [head_seq - 3]).expect("truncate");
    let status = verify_every_way(&h.f.desk, &[]).0;
    let ChainStatus::Broken { first_bad_seq, problem } = status else { panic!("the cut is not seen: {status:?}") };
    assert_eq!(first_bad_seq, head_seq - 2);
    assert!(problem.contains(&format!("the trail ends at sequence {}", head_seq - 3)), "{problem}");
    assert!(problem.contains("review by leo") && problem.contains("removed behind the app's back"), "{problem}");
}

#[test]
fn a_trail_rewritten_before_a_recorded_head_is_reported_even_with_valid_hashes() {
    let mut h = history();
    let (head_seq, _) = reviewed(&mut h);
    // Cut back and write new, properly chained events in place of the old ones.
    let conn = h.f.raw();
    conn.execute_batch("DROP TRIGGER audit_events_no_delete").expect("drop trigger");
    conn.execute("DELETE FROM audit_events WHERE seq >= ?1", [head_seq - 2]).expect("cut");
    drop(conn);
    while h.f.head_seq() < head_seq + 3 {
        append_raw(&h.f, EventKind::SignedOut, NewEvent { rep: Some("rita".into()), outcome: "ok".into(), ..NewEvent::default() });
    }
    let ChainStatus::Broken { first_bad_seq, problem } = verify_every_way(&h.f.desk, &[]).0 else {
        panic!("the rewrite is not seen")
    };
    assert_eq!(first_bad_seq, head_seq);
    assert!(problem.contains("rewritten at or before"), "{problem}");
}

#[test]
fn a_removed_anchor_is_reported_by_the_review_event_that_recorded_it() {
    let mut h = history();
    reviewed(&mut h);
    let review_seq = h.f.head_seq();
    let conn = h.f.raw();
    conn.execute_batch("DROP TRIGGER audit_anchors_no_delete; DELETE FROM audit_anchors").expect("delete anchors");
    let ChainStatus::Broken { first_bad_seq, problem } = verify_every_way(&h.f.desk, &[]).0 else {
        panic!("the missing anchor is not seen")
    };
    assert_eq!(first_bad_seq, review_seq);
    assert!(problem.contains("missing from the recorded anchors"), "{problem}");
}

#[test]
fn an_external_head_is_checked_and_a_bad_one_is_reported() {
    let h = history();
    let (seq, hash): (i64, String) =
        h.f.raw().query_row("SELECT seq, hash FROM audit_events WHERE seq = 5", [], |r| Ok((r.get(0)?, r.get(1)?))).expect("row");
    let good = Anchor::parse(&format!("{seq}:{hash}")).expect("head");
    assert!(matches!(verify_every_way(&h.f.desk, &[good]).0, ChainStatus::Intact { .. }));
    let wrong = Anchor::parse(&format!("{}:{hash}", seq + 1)).expect("head");
    let (status, _) = verify_every_way(&h.f.desk, &[wrong]);
    assert!(matches!(status, ChainStatus::Broken { first_bad_seq, .. } if first_bad_seq == seq + 1), "{status:?}");
    // A head given from outside may be the wrong one: the problem says so rather than claim tampering.
    let ChainStatus::Broken { problem, .. } = status else { unreachable!() };
    assert!(problem.contains("the head given to verify") && problem.contains("or the head given is wrong"), "{problem}");
    let last = h.f.head_seq();
    let beyond = Anchor::parse(&format!("{}:{hash}", last + 10)).expect("head");
    let (status, _) = verify_every_way(&h.f.desk, &[beyond]);
    let ChainStatus::Broken { first_bad_seq, problem } = status else { panic!("{status:?}") };
    assert_eq!(first_bad_seq, last + 1);
    assert!(
        problem.contains(&format!("does not hold head {}", last + 10))
            && problem.contains(&format!("either events after {last} were removed"))
            && problem.contains("or the head given is wrong (mistyped, or from another database)"),
        "{problem}"
    );
    assert!(Anchor::parse("12:abc").is_err());
    assert!(Anchor::parse("twelve").is_err());
}

fn export(h: &mut History, filter: &ReviewFilter, format: ExportFormat) -> String {
    let leo = h.leo.clone();
    let mut out = Vec::new();
    h.f.desk.export_events(Some(&leo), filter, format, &mut out).expect("export");
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn a_jsonl_export_round_trips_and_a_tampered_line_is_named() {
    let mut h = history();
    append_raw(&h.f, EventKind::AccountViewed, NewEvent {
        rep: Some("rita".into()),
        account_id: Some("S-2001".into()),
        outcome: "ok".into(),
        detail: Some("Evil\u{202E}NAME and a\u{1b}[31m escape".into()),
        ..NewEvent::default()
    });
    let head_before = h.f.head_seq();
    let text = export(&mut h, &ReviewFilter::default(), ExportFormat::Jsonl);
    assert!(!text.contains('\u{202E}') && !text.contains('\u{1b}'), "hazards are escaped in the file");
    assert!(text.contains("\\u202e"), "and decode to the same data");
    let check = verify_export(text.as_bytes());
    assert!(
        matches!(check, FileCheck::Intact { events, contiguous: true, .. } if events as i64 == head_before),
        "{check:?}"
    );
    // Exporting is audited, after the file, naming the head it covered.
    let (kind, _, outcome, reason) = h.f.events_after(head_before).remove(0);
    assert_eq!((kind.as_str(), outcome.as_str(), reason.as_deref()), ("audit_exported", "ok", Some("jsonl")));

    // One changed field on line 3: named.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[2] = lines[2].replacen("\"outcome\":\"ok\"", "\"outcome\":\"fail\"", 1);
    let tampered = lines.join("\n") + "\n";
    assert_ne!(tampered, text, "the test changed something");
    assert!(matches!(verify_export(tampered.as_bytes()), FileCheck::Broken { line: 3, .. }));

    // A removed line: named at the line after the gap.
    let mut removed: Vec<&str> = text.lines().collect();
    removed.remove(4);
    let check = verify_export((removed.join("\n") + "\n").as_bytes());
    assert!(matches!(&check, FileCheck::Broken { line: 5, problem } if problem.contains("missing")), "{check:?}");

    // Cut short: the end line is gone.
    let cut: Vec<&str> = text.lines().take(6).collect();
    assert!(matches!(verify_export((cut.join("\n") + "\n").as_bytes()), FileCheck::Broken { line: 7, .. }));
}

#[test]
fn a_filtered_export_still_checks_each_line_and_its_count() {
    let mut h = history();
    let filter = ReviewFilter { failures_only: true, ..ReviewFilter::default() };
    let text = export(&mut h, &filter, ExportFormat::Jsonl);
    assert!(matches!(verify_export(text.as_bytes()), FileCheck::Intact { contiguous: false, .. }));
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(1);
    let check = verify_export((lines.join("\n") + "\n").as_bytes());
    assert!(matches!(&check, FileCheck::Broken { problem, .. } if problem.contains("lines were removed")), "{check:?}");
}

#[test]
fn a_csv_export_neutralises_formulas_and_escapes_hazards() {
    let mut h = history();
    append_raw(&h.f, EventKind::AccountViewed, NewEvent {
        rep: Some("rita".into()),
        account_id: Some("=HYPERLINK(\"http://x\")".into()),
        other_account: Some("@SUM(A1)".into()),
        outcome: "ok".into(),
        reason: Some("+1".into()),
        detail: Some("-2, Evil\u{202E}NAME".into()),
        ..NewEvent::default()
    });
    let text = export(&mut h, &ReviewFilter { rep: Some("rita".into()), ..ReviewFilter::default() }, ExportFormat::Csv);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().expect("headers").clone();
    assert_eq!(headers.iter().next_back(), Some("hash"));
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("records");
    let last = rows.last().expect("a row");
    let col = |name: &str| last.get(headers.iter().position(|h| h == name).expect("column")).expect("cell").to_string();
    assert_eq!(col("account_id"), "'=HYPERLINK(\"http://x\")");
    assert_eq!(col("other_account"), "'@SUM(A1)");
    assert_eq!(col("reason"), "'+1");
    assert_eq!(col("detail"), "'-2, Evil\\u{202E}NAME");
    assert_eq!(col("hash").len(), 64);
    for row in &rows {
        for cell in row {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell}");
        }
    }
}

#[test]
fn a_range_that_ends_before_it_starts_is_refused() {
    use chrono::TimeZone;
    use support_desk::desk::review::TimeRange;
    let early = chrono::Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).single().expect("time");
    let late = chrono::Utc.with_ymd_and_hms(2031, 1, 1, 0, 0, 0).single().expect("time");
    let err = TimeRange::between(Some(late), Some(early)).expect_err("inverted");
    assert!(err.to_string().contains("starts") && err.to_string().contains("after it ends"), "{err}");
    assert_eq!(TimeRange::between(None, None).expect("open"), TimeRange::All);
    assert_eq!(TimeRange::between(Some(early), Some(late)).expect("in order"), TimeRange::Custom { since: Some(early), until: Some(late) });
}

#[test]
fn a_date_alone_as_the_end_of_a_range_means_the_end_of_that_day() {
    use support_desk::desk::review::{parse_time, parse_until};
    let now = start();
    let ist = FixedOffset::east_opt(5 * 3600 + 1800).expect("offset");
    for offset in [utc(), ist] {
        let since = parse_time("2031-06-01", now, offset).expect("since");
        let until = parse_until("2031-06-01", now, offset).expect("until");
        assert_eq!(until - since, Duration::days(1), "{offset}");
        // A time keeps its meaning as typed.
        assert_eq!(parse_until("2031-06-01 13:05", now, offset).expect("t"), parse_time("2031-06-01 13:05", now, offset).expect("t"));
        assert_eq!(parse_until("7d", now, offset).expect("age"), now - Duration::days(7));
    }
    // The day itself is in the range: an event at noon of 2031-06-01 is found by 2031-06-01..2031-06-01.
    let mut f = Fixture::new();
    let at = parse_time("2031-06-01 12:00", f.clock.now(), utc()).expect("noon");
    f.clock.advance(at - f.clock.now());
    let rita = f.rita();
    f.desk.check_pin(&rita, &id("S-2001"), &pin("0000")).expect("check");
    f.clock.advance(Duration::days(3));
    let leo = f.leo();
    let range = TimeRange::between(
        Some(parse_time("2031-06-01", f.clock.now(), utc()).expect("since")),
        Some(parse_until("2031-06-01", f.clock.now(), utc()).expect("until")),
    )
    .expect("range");
    let filter = ReviewFilter { range, ..ReviewFilter::default() };
    let page = f.desk.review_page(Some(&leo), &filter, EventView::FailedPinChecks, None, 10).expect("page");
    assert_eq!(page.events.len(), 1, "{:?}", page.events);
}

#[test]
fn failures_only_means_what_went_wrong_not_ordinary_verdicts() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let start = f.head_seq();
    // Ordinary traffic: a "verify first" verdict, a match, an "approval needed" verdict.
    f.desk.decide(&rita, &id("S-2001"), &Request::OwnAccount).expect("verify first");
    f.desk.check_pin(&rita, &id("S-2001"), &pin("3356")).expect("match");
    f.desk.decide(&rita, &id("S-2001"), &Request::OnBehalfOf(id("P-1001"))).expect("approval needed");
    // What went wrong: a failed check and a failed sign-in.
    f.desk.check_pin(&rita, &id("S-2002"), &pin("0000")).expect("fail");
    assert_eq!(f.desk.sign_in("rita", "not-the-passphrase").expect("answer"), support_desk::desk::SignIn::Refused);
    let leo = f.leo();
    let filter = ReviewFilter { failures_only: true, ..ReviewFilter::default() };
    let page = f.desk.review_page(Some(&leo), &filter, EventView::All, None, 50).expect("page");
    let recent: Vec<(&str, &str)> =
        page.events.iter().filter(|e| e.seq > start).map(|e| (e.kind.as_str(), e.outcome.as_str())).collect();
    assert_eq!(recent, [("sign_in_failed", "fail"), ("pin_rejected", "fail")]);
}
