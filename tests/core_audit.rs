//! The audit trail through the public API: every step of a call leaves its events in order, no
//! event ever carries a PIN or a hash, the table refuses UPDATE and DELETE, and `verify_chain`
//! names the first row changed, removed or forged behind the app's back, with the same answer
//! however the chain is divided among threads.

mod common;

use common::*;
use rusqlite::params;
use support_desk::desk::audit::ChainStatus;
use support_desk::desk::{Channel, DeskError, PinCheck, Request, SignIn};

/// `(seq, hash)` of the last audit event.
fn head(f: &Fixture) -> (i64, String) {
    f.raw()
        .query_row("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("head")
}

/// A fixture with a realistic trail: sign-ins, cards, failures, matches, verdicts, an unlock.
fn busy() -> Fixture {
    let mut f = Fixture::new();
    let rita = f.rita();
    f.desk.open_card(&rita, &id("S-2001")).expect("card");
    f.desk.check_pin(&rita, &id("S-2001"), &pin("3355")).expect("check");
    f.desk.check_pin(&rita, &id("S-2001"), &pin("3356")).expect("check");
    f.desk.decide(&rita, &id("S-2001"), &Request::OnBehalfOf(id("P-1001"))).expect("verdict");
    f.desk.unlock(&rita, &id("S-2003"), "called back on the number on file").expect("unlock");
    f.desk.sign_out(&rita, false).expect("sign out");
    f
}

#[test]
fn every_step_of_a_call_leaves_its_events_in_order() {
    let mut f = Fixture::new();
    let policy_version = f.desk.policy().expect("policy").version;
    let start = f.head_seq();

    assert_eq!(f.desk.sign_in("rita", "not-ritas-passphrase").expect("answer"), SignIn::Refused);
    assert_eq!(f.desk.sign_in("nobody", RITA_PASS).expect("answer"), SignIn::Refused);
    let rita = f.rita();
    f.desk.open_card(&rita, &id("S-2001")).expect("card");
    f.desk.check_pin(&rita, &id("S-2001"), &pin("3355")).expect("check");
    f.desk.check_pin(&rita, &id("S-2001"), &pin("3356")).expect("check");
    let own = f.desk.decide(&rita, &id("S-2001"), &Request::OwnAccount).expect("verdict");
    let behalf = f.desk.decide(&rita, &id("S-2001"), &Request::OnBehalfOf(id("P-1001"))).expect("verdict");
    let unlock = f.desk.unlock(&rita, &id("S-2003"), "called back on the number on file").expect("unlock");
    for _ in 0..5 {
        f.desk.check_pin(&rita, &id("S-2002"), &pin("1188")).expect("check");
    }
    f.desk.check_pin(&rita, &id("S-2002"), &pin("0071")).expect("check");
    f.desk.sign_out(&rita, true).expect("time out");

    let events = f.events_after(start);
    let got: Vec<(&str, Option<&str>, &str, Option<&str>)> =
        events.iter().map(|(k, a, o, r)| (k.as_str(), a.as_deref(), o.as_str(), r.as_deref())).collect();
    let want: Vec<(&str, Option<&str>, &str, Option<&str>)> = vec![
        ("sign_in_failed", None, "fail", Some("unknown_or_wrong")),
        ("sign_in_failed", None, "fail", Some("unknown_or_wrong")),
        ("signed_in", None, "ok", None),
        ("account_viewed", Some("S-2001"), "ok", None),
        ("pin_rejected", Some("S-2001"), "fail", Some("mismatch")),
        ("pin_validated", Some("S-2001"), "ok", Some("matched")),
        ("verdict_shown", Some("S-2001"), "assist", Some("own_account")),
        ("verdict_shown", Some("S-2001"), "needs_approval", Some("staff_for_provider")),
        ("verdict_shown", Some("S-2003"), "assist", Some("unlock")),
        ("account_unlocked", Some("S-2003"), "ok", Some("unlock")),
        ("pin_rejected", Some("S-2002"), "fail", Some("mismatch")),
        ("pin_rejected", Some("S-2002"), "fail", Some("mismatch")),
        ("pin_rejected", Some("S-2002"), "fail", Some("mismatch")),
        ("pin_rejected", Some("S-2002"), "fail", Some("mismatch")),
        ("pin_rejected", Some("S-2002"), "fail", Some("mismatch")),
        ("pin_locked", Some("S-2002"), "locked", Some("too_many_failures")),
        ("pin_rejected", Some("S-2002"), "locked", Some("pin_locked")),
        ("session_timed_out", None, "ok", None),
    ];
    assert_eq!(got, want);

    // Who did it, the other account, the policy version, and the sequence the verdict names.
    let conn = f.raw();
    type Row = (i64, Option<String>, String, Option<String>, Option<i64>);
    let rows: Vec<Row> = conn
        .prepare("SELECT seq, rep, kind, other_account, policy_version FROM audit_events WHERE seq > ?1 ORDER BY seq")
        .expect("prepare")
        .query_map([start], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(rows[0].1, Some("rita".into()), "a failed sign-in of a known rep names the rep");
    assert_eq!(rows[1].1, None, "an unknown username is not recorded as a rep");
    for (_, rep, kind, _, version) in &rows[2..] {
        assert_eq!(rep.as_deref(), Some("rita"), "{kind}");
        if kind.starts_with("pin_") || kind == "verdict_shown" || kind == "account_unlocked" {
            assert_eq!(*version, Some(policy_version), "{kind}");
        }
    }
    let verdict_rows: Vec<_> = rows.iter().filter(|r| r.2 == "verdict_shown").collect();
    assert_eq!(
        verdict_rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        [own.audit_seq, behalf.audit_seq, unlock.verdict.audit_seq]
    );
    assert_eq!(verdict_rows[1].3.as_deref(), Some("P-1001"), "the target is recorded");
    assert_eq!(own.policy_version, policy_version);
    let approver_detail: String = conn
        .query_row("SELECT detail FROM audit_events WHERE seq = ?1", [behalf.audit_seq], |r| r.get(0))
        .expect("detail");
    assert!(approver_detail.contains("approver: P-1001"), "{approver_detail}");

    // The listing API returns the same trail, newest first.
    let listed = f
        .desk
        .audit_events(&support_desk::desk::AuditFilter { account: Some("S-2002".into()), limit: 100, ..Default::default() })
        .expect("list");
    assert_eq!(listed.first().map(|e| e.kind.as_str()), Some("pin_rejected"));
    assert_eq!(listed.iter().filter(|e| e.kind == "pin_locked").count(), 1);
}

#[test]
fn the_holders_new_pin_is_audited_as_generated_and_viewed() {
    let mut f = Fixture::new();
    let start = f.head_seq();
    f.desk.generate_pin(&id("S-2004")).expect("generate");
    assert_eq!(f.kinds_after(start), ["pin_generated", "pin_viewed"]);
    // No rep did it; the detail says how it was run and by which operating-system user.
    let detail: String = f
        .raw()
        .query_row("SELECT detail FROM audit_events WHERE kind = 'pin_generated' ORDER BY seq DESC LIMIT 1", [], |r| r.get(0))
        .expect("detail");
    assert!(detail.contains("support-desk pin new") && detail.contains("OS user uid"), "{detail}");
}

#[test]
fn no_audit_field_ever_holds_a_pin_or_a_hash() {
    let mut f = busy();
    let rita = f.rita();
    // Every PIN this test types or that the PIN source makes.
    let mut pins: Vec<String> = ["3355", "3356", "0417", "0418", "0071", "0072", "7648", "9083", "5120", "2604"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for (account, right, wrong) in [("P-1001", "0417", "0418"), ("S-2002", "0071", "0072"), ("P-1003", "5120", "5121")] {
        f.desk.check_pin(&rita, &id(account), &pin(wrong)).expect("check");
        assert_eq!(f.desk.check_pin(&rita, &id(account), &pin(right)).expect("check"), PinCheck::Matched);
        pins.push(next_pin(right));
        pins.push(wrong.to_string());
    }
    for _ in 0..6 {
        f.desk.check_pin(&rita, &id("S-2004"), &pin("9083")).expect("check");
        f.desk.check_pin(&rita, &id("P-9999"), &pin("9083")).expect("check");
    }
    pins.push(f.desk.generate_pin(&id("S-2004")).expect("generate").reveal_to_holder());
    // A note that mentions digits, but no run of four.
    f.desk.unlock(&rita, &id("S-2003"), "caller gave DOB 19 May, zip 021").expect("unlock");
    let hashes: Vec<String> = f
        .raw()
        .prepare("SELECT pin_hash FROM accounts WHERE pin_hash IS NOT NULL")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("hashes");

    let conn = f.raw();
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('audit_events')")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("columns");
    assert!(columns.len() >= 13);
    let mut cells = 0;
    for column in &columns {
        let values: Vec<Option<String>> = conn
            .prepare(&format!("SELECT CAST({column} AS TEXT) FROM audit_events"))
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("values");
        for value in values.into_iter().flatten() {
            cells += 1;
            let lower = value.to_lowercase();
            assert!(!lower.contains("argon2") && !lower.contains("$v=19"), "{column}: {value}");
            for h in &hashes {
                let digest = h.rsplit('$').next().expect("digest");
                assert!(!value.contains(digest), "{column} holds a PIN hash");
            }
            // The chain's own digests are hex of the rows; a PIN in them would be coincidence.
            if column == "hash" || column == "prev_hash" {
                continue;
            }
            for p in &pins {
                assert!(!value.contains(p.as_str()), "{column} holds a PIN: {value}");
            }
        }
    }
    assert!(cells > 200, "the scan saw the trail ({cells} cells)");
}

#[test]
fn the_audit_table_refuses_update_and_delete() {
    let f = busy();
    let before = f.desk.verify_chain().expect("verify");
    let conn = f.raw();
    let count = |c: &rusqlite::Connection| -> i64 {
        c.query_row("SELECT count(*) FROM audit_events", [], |r| r.get(0)).expect("count")
    };
    let n = count(&conn);
    for sql in [
        "UPDATE audit_events SET outcome = 'ok' WHERE kind = 'pin_rejected'",
        "UPDATE audit_events SET detail = NULL",
        "DELETE FROM audit_events WHERE seq = 3",
        "DELETE FROM audit_events",
    ] {
        let err = conn.execute(sql, []).expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(count(&conn), n);
    assert_eq!(f.desk.verify_chain().expect("verify"), before);
}

#[test]
fn an_intact_chain_reports_its_head() {
    let f = busy();
    let (seq, hash) = head(&f);
    let n: i64 = f.raw().query_row("SELECT count(*) FROM audit_events", [], |r| r.get(0)).expect("count");
    assert_eq!(f.desk.verify_chain().expect("verify"), ChainStatus::Intact { events: n, head_seq: seq, head_hash: hash });
    assert_eq!(n, seq, "sequence numbers start at 1 with no gaps");
}

#[test]
fn an_empty_trail_is_intact_at_genesis() {
    let dir = tempfile::tempdir().expect("dir");
    let clock = std::sync::Arc::new(support_desk::desk::clock::FixedClock::at(start()));
    let desk = open(&dir.path().join("empty.sqlite"), support_desk::desk::store::OpenMode::Create, &clock);
    assert_eq!(
        desk.verify_chain().expect("verify"),
        ChainStatus::Intact { events: 0, head_seq: 0, head_hash: support_desk::desk::audit::GENESIS.into() }
    );
}

/// Runs `sql` behind the app's back with the append-only triggers dropped.
fn tamper(f: &Fixture, sql: &str, args: impl rusqlite::Params) {
    let conn = f.raw();
    conn.execute_batch("DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;").expect("drop");
    conn.execute(sql, args).expect("tamper");
}

/// The first bad sequence, the same however the verification divides the chain.
fn broken_at(f: &Fixture) -> i64 {
    match verify_every_way(&f.desk, &[]).0 {
        ChainStatus::Broken { first_bad_seq, problem } => {
            assert!(!problem.is_empty());
            first_bad_seq
        }
        intact => panic!("tampering went unnoticed: {intact:?}"),
    }
}

#[test]
fn a_changed_row_is_named() {
    let f = busy();
    let seq: i64 = f
        .raw()
        .query_row("SELECT seq FROM audit_events WHERE kind = 'pin_rejected' LIMIT 1", [], |r| r.get(0))
        .expect("row");
    tamper(&f, "UPDATE audit_events SET outcome = 'ok', reason = 'matched' WHERE seq = ?1", [seq]);
    assert_eq!(broken_at(&f), seq);
}

#[test]
fn a_changed_timestamp_is_named() {
    let f = busy();
    tamper(&f, "UPDATE audit_events SET at = '2031-06-08T09:00:00.000Z' WHERE seq = 5", []);
    assert_eq!(broken_at(&f), 5);
}

#[test]
fn a_changed_row_with_a_recomputed_hash_breaks_the_next_link() {
    let f = busy();
    // A forger who also recomputes the row's own hash still cannot fix the next row's link.
    let mut event = f.desk.audit_events(&support_desk::desk::AuditFilter { limit: 1000, ..Default::default() })
        .expect("list")
        .into_iter()
        .find(|e| e.seq == 6)
        .expect("row 6");
    event.outcome = "forged".into();
    let rehashed = event.expected_hash();
    tamper(&f, "UPDATE audit_events SET outcome = 'forged', hash = ?2 WHERE seq = ?1", params![6, rehashed]);
    assert_eq!(broken_at(&f), 7);
}

#[test]
fn a_removed_middle_row_is_named() {
    let f = busy();
    let (last, _) = head(&f);
    let middle = last / 2;
    tamper(&f, "DELETE FROM audit_events WHERE seq = ?1", [middle]);
    assert_eq!(broken_at(&f), middle);
}

#[test]
fn a_removed_first_row_is_named() {
    let f = busy();
    tamper(&f, "DELETE FROM audit_events WHERE seq = 1", []);
    assert_eq!(broken_at(&f), 1);
}

#[test]
fn a_forged_row_appended_at_the_end_is_named() {
    let f = busy();
    let (last, last_hash) = head(&f);
    // Linked to the real head, but its hash was not made from its content.
    f.raw()
        .execute(
            "INSERT INTO audit_events (seq, at, rep, kind, account_id, outcome, reason, prev_hash, hash) \
             VALUES (?1, '2031-06-09T13:06:00.000Z', 'rita', 'pin_validated', 'P-1002', 'ok', 'matched', ?2, ?3)",
            params![last + 1, last_hash, "ab".repeat(32)],
        )
        .expect("insert");
    assert_eq!(broken_at(&f), last + 1);
}

#[test]
fn a_forged_row_not_linked_to_the_head_is_named() {
    let f = busy();
    let (last, last_hash) = head(&f);
    let mut forged = f
        .desk
        .audit_events(&support_desk::desk::AuditFilter { limit: 1, ..Default::default() })
        .expect("list")
        .remove(0);
    forged.seq = last + 1;
    forged.prev_hash = support_desk::desk::audit::GENESIS.into();
    forged.hash = forged.expected_hash();
    assert_ne!(forged.prev_hash, last_hash);
    f.raw()
        .execute(
            "INSERT INTO audit_events (seq, at, rep, kind, outcome, prev_hash, hash, account_id, reason, \
             policy_version, detail, other_account, case_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                forged.seq, forged.at, forged.rep, forged.kind, forged.outcome, forged.prev_hash, forged.hash,
                forged.account_id, forged.reason, forged.policy_version, forged.detail, forged.other_account,
                forged.case_id
            ],
        )
        .expect("insert");
    assert_eq!(broken_at(&f), last + 1);
}

/// A longer trail than `busy`, so that every division has pieces of several events.
fn longer() -> Fixture {
    let mut f = busy();
    let rita = f.rita();
    for account in ["S-2001", "S-2003", "S-2004", "P-1001", "P-1003", "S-2001", "S-2003", "S-2004"] {
        f.desk.open_card(&rita, &id(account)).expect("card");
        f.desk.decide(&rita, &id(account), &Request::OwnAccount).expect("verdict");
    }
    f
}

/// Every column of one audit row, to put it back after a test removed it.
type Row = Vec<rusqlite::types::Value>;

fn row(conn: &rusqlite::Connection, seq: i64) -> Row {
    conn.query_row("SELECT * FROM audit_events WHERE seq = ?1", [seq], |r| (0..13).map(|i| r.get(i)).collect())
        .expect("row")
}

fn put_back(conn: &rusqlite::Connection, row: &Row) {
    conn.execute("INSERT INTO audit_events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)", rusqlite::params_from_iter(row))
        .expect("put back");
}

#[test]
fn a_changed_row_is_named_wherever_the_chain_is_cut_into_pieces() {
    let f = longer();
    let intact = verify_every_way(&f.desk, &[]).0;
    let (last, _) = head(&f);
    assert!(last > 20, "{last} events");
    let conn = f.raw();
    conn.execute_batch("DROP TRIGGER audit_events_no_update").expect("drop");
    // Every row in turn: the first of a piece, the last of a piece, a row inside one, for every
    // division in `verify_splits`.
    for seq in 1..=last {
        conn.execute("UPDATE audit_events SET outcome = outcome || '!' WHERE seq = ?1", [seq]).expect("change");
        assert_eq!(broken_at(&f), seq);
        conn.execute("UPDATE audit_events SET outcome = rtrim(outcome, '!') WHERE seq = ?1", [seq]).expect("restore");
    }
    assert_eq!(verify_every_way(&f.desk, &[]).0, intact);
}

#[test]
fn a_removed_row_is_named_wherever_the_chain_is_cut_into_pieces() {
    let f = longer();
    let (last, _) = head(&f);
    let conn = f.raw();
    // Putting a row back is not a new event: the failure rollup must not count it a second time.
    conn.execute_batch("DROP TRIGGER audit_events_no_delete; DROP TRIGGER audit_failure_slots_count").expect("drop");
    for seq in 1..last {
        let removed = row(&conn, seq);
        conn.execute("DELETE FROM audit_events WHERE seq = ?1", [seq]).expect("remove");
        assert_eq!(broken_at(&f), seq);
        match verify_every_way(&f.desk, &[]).0 {
            ChainStatus::Broken { problem, .. } => assert!(problem.contains(&format!("events {seq} to {seq} are missing")), "{problem}"),
            intact => panic!("{intact:?}"),
        }
        put_back(&conn, &removed);
    }
    // The last row removed leaves a shorter chain that holds; only a recorded head shows the cut
    // (see core_review).
    conn.execute("DELETE FROM audit_events WHERE seq = ?1", [last]).expect("remove");
    assert!(matches!(verify_every_way(&f.desk, &[]).0, ChainStatus::Intact { head_seq, .. } if head_seq == last - 1));
}

#[test]
fn the_first_of_two_changes_is_named_whichever_piece_is_checked_first() {
    let f = longer();
    let (last, _) = head(&f);
    tamper(&f, "UPDATE audit_events SET detail = 'edited' WHERE seq IN (3, ?1)", [last - 1]);
    assert_eq!(broken_at(&f), 3);
    // A run of removed rows in one piece and a changed row in a later one.
    let conn = f.raw();
    conn.execute("UPDATE audit_events SET detail = NULL WHERE seq = 3", []).expect("restore");
    conn.execute("DELETE FROM audit_events WHERE seq BETWEEN 10 AND 12", []).expect("remove");
    assert_eq!(broken_at(&f), 10);
}

#[test]
fn a_row_numbered_before_the_first_event_is_named() {
    let f = busy();
    let first = row(&f.raw(), 1);
    let mut forged = first.clone();
    forged[0] = rusqlite::types::Value::Integer(0);
    put_back(&f.raw(), &forged);
    assert_eq!(broken_at(&f), 0);
    forged[0] = rusqlite::types::Value::Integer(-5);
    put_back(&f.raw(), &forged);
    assert_eq!(broken_at(&f), -5);
}

#[test]
fn a_recorded_verification_extends_an_intact_chain() {
    let mut f = busy();
    let status = f.desk.verify_chain().expect("verify");
    let (seq, _) = head(&f);
    f.desk.record_verification(&status, Some("leo")).expect("record");
    assert_eq!(f.kinds_after(seq), ["audit_verified"]);
    assert!(matches!(f.desk.verify_chain().expect("verify"), ChainStatus::Intact { head_seq, .. } if head_seq == seq + 1));
}

/// Every free text the audit trail keeps for ever (an unlock's "identified by", a lead's reason
/// for clearing a lock, a case note) refuses a PIN written down, however the rep spaced or split
/// its digits: "7 6 4 8", "76-48", "1,1,8,8". Ordinary notes with a few digits still go in.
#[test]
fn a_pin_written_with_separators_is_refused_in_every_audited_free_text() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let leo = f.leo();
    for written in ["caller read PIN 7 6 4 8 to me", "caller read 76-48 to me", "said 7. 6. 4. 8 twice"] {
        let err = f.desk.unlock(&rita, &id("S-2003"), written).expect_err(written);
        assert!(matches!(err, DeskError::Invalid(_)), "{written}: {err:?}");
    }
    for _ in 0..5 {
        f.desk.check_pin(&rita, &id("S-2005"), &pin("9999")).expect("check");
    }
    let err = f.desk.clear_pin_lock(&leo, &id("S-2005"), "holder read 1188 back to me").expect_err("a PIN in a reason");
    assert!(matches!(err, DeskError::Invalid(_)), "{err:?}");
    let err = f.desk.clear_pin_lock(&leo, &id("S-2005"), "holder read 1 1 8 8 back").expect_err("a spaced PIN");
    assert!(matches!(err, DeskError::Invalid(_)), "{err:?}");
    let case = f.desk.open_case(&rita, Channel::Phone, &id("S-2001"), &Request::OwnAccount).expect("open");
    let err = f.desk.add_case_note(&rita, case, "PIN was 3 3 5 6, checked").expect_err("a spaced PIN in a note");
    assert!(matches!(err, DeskError::Invalid(_)), "{err:?}");

    // Notes with a few digits are fine.
    f.desk.add_case_note(&rita, case, "called back at 3 pm, ticket 12 of 40").expect("a note with short numbers");
    f.desk.unlock(&rita, &id("S-2003"), "caller gave DOB 19 May, zip 021").expect("unlock");
    assert!(f.desk.clear_pin_lock(&leo, &id("S-2005"), "holder identified by call-back on file").expect("clear"));
}
