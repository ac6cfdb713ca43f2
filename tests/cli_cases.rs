//! Cases through the real binary: whole lifecycles driven by `case ...` and `pin check --case`,
//! each checked against the audit events of the case, in order, and the chain verified.

mod cli_support;

use cli_support::{Demo, RITA, Run};

impl Demo {
    /// A command as rita; fails the test unless it exits with `code`.
    fn rita(&self, args: &[&str], code: i32) -> Run {
        self.rita_in(args, None, code)
    }

    fn rita_in(&self, args: &[&str], stdin: Option<&str>, code: i32) -> Run {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--rep", "rita"]);
        let r = self.run(&all, Some(RITA), stdin);
        assert_eq!(r.code, code, "{args:?}: {r:?}");
        r
    }

    fn open(&self, caller: &str, on_behalf_of: Option<&str>) -> String {
        let mut args = vec!["case", "open", "--channel", "phone", "--caller", caller];
        if let Some(t) = on_behalf_of {
            args.extend_from_slice(&["--on-behalf-of", t]);
        }
        let r = self.rita(&args, 0);
        let id = r.stdout.trim().to_string();
        assert!(id.parse::<i64>().is_ok(), "case open prints the case id: {r:?}");
        id
    }

    fn pin_in_case(&self, account: &str, case: &str, digits: &str, code: i32) -> Run {
        self.rita_in(&["pin", "check", account, "--case", case], Some(&format!("{digits}\n")), code)
    }

    /// `(kind, account, outcome, reason)` of every audit event of the case, in order (from
    /// `case show --json`).
    fn timeline(&self, case: &str) -> Vec<(String, String, String, String)> {
        let r = self.run(&["case", "show", case, "--json"], None, None);
        assert_eq!(r.code, 0, "{r:?}");
        let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
        let text = |e: &serde_json::Value, k: &str| e[k].as_str().unwrap_or("").to_string();
        v["timeline"]
            .as_array()
            .expect("timeline")
            .iter()
            .map(|e| (text(e, "kind"), text(e, "account_id"), text(e, "outcome"), text(e, "reason")))
            .collect()
    }

    fn kinds(&self, case: &str) -> Vec<String> {
        self.timeline(case).into_iter().map(|e| e.0).collect()
    }

    fn assert_chain_intact(&self) {
        let r = self.run(&["audit", "verify"], None, None);
        assert_eq!(r.code, 0, "audit verify: {r:?}");
        assert!(r.stdout.starts_with("intact"), "{r:?}");
    }

    fn raw(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.db).expect("open")
    }
}

#[test]
fn staff_for_provider_approved_by_a_case_reply_then_closed() {
    let d = Demo::new();
    let case = d.open("S-2001", Some("P-1001"));
    let v = d.rita(&["case", "verdict", &case], 0);
    assert!(v.stdout.contains("Verify the Support PIN first"), "{v:?}");
    let m = d.pin_in_case("S-2001", &case, "3356", 0);
    assert_eq!(m.stdout.trim(), "matched");
    let v = d.rita(&["case", "verdict", &case], 0);
    assert!(v.stdout.contains("▲ Provider approval needed: Dr. Ada Okafor (P-1001)"), "{v:?}");
    assert!(v.stdout.contains("ada.okafor@harbor.example"), "says where the reply must come from: {v:?}");
    assert!(v.stdout.contains("Status: awaiting approval"), "{v:?}");

    // A reply from another address is refused with the reason (exit 4).
    let no = d.rita(
        &["case", "approve", &case, "--via", "case-reply", "--reference", "<r1@mail>", "--from", "ada@gmail.example"],
        4,
    );
    assert!(no.stdout.contains("not approved") && no.stdout.contains("not the provider's email of record"), "{no:?}");
    let yes = d.rita(
        &["case", "approve", &case, "--via", "case-reply", "--reference", "<r2@mail>", "--from", " ADA.OKAFOR@harbor.example "],
        0,
    );
    assert!(yes.stdout.contains("approved: case") && yes.stdout.contains("Dr. Ada Okafor"), "{yes:?}");
    let v = d.rita(&["case", "verdict", &case, "--json"], 0);
    let json: serde_json::Value = serde_json::from_str(&v.stdout).expect("JSON");
    assert_eq!(json["headline"], "Support can assist");
    assert_eq!(json["verdict"]["approval"]["method"], "case_reply");
    assert_eq!(json["verdict"]["approval"]["reference"], "<r2@mail>");
    assert_eq!(json["verdict"]["approval"]["recorded_by"], "rita");

    d.rita_in(&["case", "note", &case], Some("Reset the provider's fax number as asked.\n"), 0);
    let closed = d.rita(&["case", "close", &case, "--outcome", "assisted"], 0);
    assert!(closed.stdout.contains("closed: assisted"), "{closed:?}");

    let t = d.timeline(&case);
    let row = |k: &str, a: &str, o: &str, r: &str| (k.to_string(), a.to_string(), o.to_string(), r.to_string());
    assert_eq!(t, [
        row("case_opened", "S-2001", "ok", "on_behalf"),
        row("verdict_shown", "S-2001", "verify_first", "verify_first"),
        row("pin_validated", "S-2001", "ok", "matched"),
        row("case_updated", "S-2001", "ok", "status"),
        row("verdict_shown", "S-2001", "needs_approval", "staff_for_provider"),
        row("approval_recorded", "S-2001", "refused", "address_not_of_record"),
        row("approval_recorded", "S-2001", "ok", "case_reply"),
        row("case_updated", "S-2001", "ok", "status"),
        row("verdict_shown", "S-2001", "assist", "staff_for_provider"),
        row("case_updated", "S-2001", "ok", "note"),
        row("case_closed", "S-2001", "ok", "assisted"),
    ]);
    let list = d.run(&["case", "list", "--status", "closed"], None, None);
    assert!(list.stdout.lines().any(|l| l.starts_with(&case) && l.contains("closed (assisted)")), "{list:?}");
    let show = d.run(&["case", "show", &case], None, None);
    assert!(show.stdout.contains("Reset the provider's fax number"), "{show:?}");
    assert!(show.stdout.contains("Approval #1") && show.stdout.contains("reply on the case"), "{show:?}");
    d.assert_chain_intact();
}

#[test]
fn staff_for_staff_approved_by_the_primary_provider_calling_in() {
    let d = Demo::new();
    let case = d.open("S-2001", Some("S-2002")); // Dev Patel's primary provider: Dr. Lindqvist
    d.pin_in_case("S-2001", &case, "3356", 0);
    let v = d.rita(&["case", "verdict", &case], 0);
    assert!(v.stdout.contains("Dr. Ben Lindqvist (P-1002)"), "{v:?}");
    // The wrong provider calling in is not even checked.
    let wrong = d.pin_in_case("P-1001", &case, "0417", 4);
    assert!(wrong.stderr.contains("not part of case"), "{wrong:?}");
    let ok = d.pin_in_case("P-1002", &case, "9082", 0);
    assert_eq!(ok.stdout.trim(), "matched");
    assert!(ok.stderr.contains("approval recorded for case"), "{ok:?}");
    let v = d.rita(&["case", "verdict", &case], 0);
    assert!(v.stdout.contains("✔ Support can assist") && v.stdout.contains("by calling in with their own Support PIN"), "{v:?}");
    assert_eq!(d.kinds(&case), [
        "case_opened",
        "pin_validated",
        "case_updated",
        "verdict_shown",
        "pin_validated",
        "approval_recorded",
        "case_updated",
        "verdict_shown",
    ]);
    // The provider's PIN was rotated by the match.
    d.rita_in(&["pin", "check", "P-1002"], Some("9082\n"), 1);
    d.assert_chain_intact();
}

#[test]
fn an_expired_approval_is_recorded_once_and_the_verdict_reverts() {
    let d = Demo::new();
    let case = d.open("S-2001", Some("P-1001"));
    d.pin_in_case("S-2001", &case, "3356", 0);
    d.rita(&["case", "verdict", &case], 0);
    d.rita(&["case", "approve", &case, "--via", "case-reply", "--reference", "T-1", "--from", "ada.okafor@harbor.example"], 0);
    // A day passes for the approval (its expiry moved into the past behind the app's back; the
    // approval table is not part of the audit chain, its events are).
    d.raw().execute("UPDATE approvals SET expires_at = '2000-01-01T00:00:00.000Z'", []).expect("age the approval");
    let v = d.rita(&["case", "verdict", &case], 0);
    assert!(v.stdout.contains("Provider approval needed") && v.stdout.contains("expired"), "{v:?}");
    let v = d.rita(&["case", "verdict", &case], 0);
    assert!(v.stdout.contains("Provider approval needed"), "{v:?}");
    let kinds = d.kinds(&case);
    assert_eq!(&kinds[kinds.len() - 4..], ["approval_expired", "case_updated", "verdict_shown", "verdict_shown"]);
    assert_eq!(kinds.iter().filter(|k| *k == "approval_expired").count(), 1, "recorded once");
    d.assert_chain_intact();
}

#[test]
fn three_failures_end_the_cases_verification_and_a_new_case_needs_its_own() {
    let d = Demo::new();
    let case = d.open("S-2004", None);
    for _ in 0..3 {
        d.pin_in_case("S-2004", &case, "1111", 1);
    }
    let ended = d.pin_in_case("S-2004", &case, "2604", 4);
    assert!(ended.stdout.contains("verification has ended for case"), "{ended:?}");
    let v = d.rita(&["case", "verdict", &case], 0);
    assert!(v.stdout.contains("Verify the Support PIN first") && v.stdout.contains("3 unsuccessful attempts"), "{v:?}");
    d.rita(&["case", "close", &case, "--outcome", "refused"], 0);
    // Verified in one case, not in the next.
    let first = d.open("S-2004", None);
    d.pin_in_case("S-2004", &first, "2604", 0);
    assert!(d.rita(&["case", "verdict", &first], 0).stdout.contains("Support can assist"));
    let second = d.open("S-2004", None);
    assert!(d.rita(&["case", "verdict", &second], 0).stdout.contains("Verify the Support PIN first"));
    assert_eq!(d.kinds(&case), [
        "case_opened",
        "pin_rejected",
        "pin_rejected",
        "pin_rejected",
        "pin_rejected",
        "verdict_shown",
        "case_closed",
    ]);
    d.assert_chain_intact();
}

#[test]
fn a_rep_is_refused_on_their_own_account_and_bad_input_records_nothing() {
    let d = Demo::new();
    let add = d.run(
        &["rep", "add", "dev", "--name", "Dev Patel", "--role", "rep", "--account", "S-2002"],
        Some("devs-long-passphrase"),
        None,
    );
    assert_eq!(add.code, 0, "{add:?}");
    let own = d.run(
        &["case", "open", "--rep", "dev", "--channel", "email", "--caller", "S-2002"],
        Some("devs-long-passphrase"),
        None,
    );
    assert_eq!(own.code, 4, "{own:?}");
    assert!(own.stderr.contains("own account"), "{own:?}");
    let conn = d.raw();
    let (kind, outcome): (String, String) = conn
        .query_row(
            "SELECT kind, outcome FROM audit_events WHERE kind = 'case_opened' ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the refusal is audited");
    assert_eq!((kind.as_str(), outcome.as_str()), ("case_opened", "refused"));
    assert_eq!(conn.query_row("SELECT count(*) FROM cases", [], |r| r.get::<_, i64>(0)).expect("count"), 0);

    // Unknown case: exit 5; a bad outcome: exit 2; an empty note: exit 2.
    let r = d.run(&["case", "show", "999"], None, None);
    assert_eq!(r.code, 5, "{r:?}");
    let case = d.open("S-2001", None);
    let r = d.run(&["case", "close", &case, "--rep", "rita", "--outcome", "maybe"], Some(RITA), None);
    assert_eq!(r.code, 2, "{r:?}");
    d.rita_in(&["case", "note", &case], Some("   \n"), 2);
    // "Assisted" needs a "Support can assist" verdict in the case.
    let r = d.rita(&["case", "close", &case, "--outcome", "assisted"], 2);
    assert!(r.stderr.contains("cannot close as assisted"), "{r:?}");
    let list = d.run(&["case", "list", "--json"], None, None);
    let cases: serde_json::Value = serde_json::from_str(&list.stdout).expect("JSON");
    assert_eq!(cases.as_array().map(Vec::len), Some(1));
    assert_eq!(cases[0]["status"], "open");
    d.assert_chain_intact();
}

#[test]
fn an_unlock_case_unlocks_with_case_unlock_and_then_closes_assisted() {
    let d = Demo::new();
    let id = {
        let r = d.rita(&["case", "open", "--channel", "phone", "--caller", "S-2003", "--unlock"], 0);
        r.stdout.trim().to_string()
    };
    // Its verdict is the unlock: `case verdict` says how, and closing as assisted waits for it.
    let v = d.rita(&["case", "verdict", &id], 2);
    assert!(v.all().contains("case unlock"), "{v:?}");
    let c = d.rita(&["case", "close", &id, "--outcome", "assisted"], 2);
    assert!(c.all().contains("assisted"), "{c:?}");
    let u = d.rita(&["case", "unlock", &id, "--identified-by", "called back on the number of record"], 0);
    assert!(u.stdout.contains("unlocked: the caller can sign in again"), "{u:?}");
    d.rita(&["case", "close", &id, "--outcome", "assisted"], 0);
    let locked: bool = d.raw().query_row("SELECT account_locked FROM accounts WHERE id = 'S-2003'", [], |r| r.get(0)).expect("row");
    assert!(!locked);
    assert_eq!(d.kinds(&id), ["case_opened", "verdict_shown", "account_unlocked", "case_closed"]);
    d.assert_chain_intact();
}

#[test]
fn a_duplicate_is_closed_with_the_case_it_duplicates() {
    let d = Demo::new();
    let first = d.open("S-2001", None);
    let again = d.open("S-2001", None);
    let r = d.rita(&["case", "close", &again, "--outcome", "duplicate"], 2);
    assert!(r.stderr.contains("--duplicate-of"), "{r:?}");
    let r = d.rita(&["case", "close", &again, "--outcome", "duplicate", "--duplicate-of", &first], 0);
    assert_eq!(r.stdout, format!("case {again} closed: duplicate of case {first}\n"));
    d.assert_chain_intact();
}
