//! Cases and provider approvals through the core's public API, on a real database: whole
//! lifecycles from first contact to close, each checked against the audit events it leaves, in
//! order, and the audit chain verified after each.

mod common;

use chrono::Duration;
use common::*;
use support_desk::desk::audit::ChainStatus;
use support_desk::desk::{
    ApprovalMethod, ApprovalOutcome, CaseFilter, CaseId, CaseOutcome, CaseStatus, Channel, CheckedAs, DeskError,
    PinCheck, RepRole, Request, Session, Verdict,
};

type Event = (String, Option<String>, String, Option<String>);

fn ev(kind: &str, account: &str, outcome: &str, reason: &str) -> Event {
    (
        kind.to_string(),
        Some(account.to_string()).filter(|a| !a.is_empty()),
        outcome.to_string(),
        Some(reason.to_string()).filter(|r| !r.is_empty()),
    )
}

fn open(f: &mut Fixture, s: &Session, caller: &str, target: Option<&str>) -> CaseId {
    let request = match target {
        Some(t) => Request::OnBehalfOf(id(t)),
        None => Request::OwnAccount,
    };
    f.desk.open_case(s, Channel::Phone, &id(caller), &request).expect("open a case")
}

fn check(f: &mut Fixture, s: &Session, case: CaseId, account: &str, digits: &str) -> support_desk::desk::CasePinCheck {
    f.desk.check_pin_in_case(s, case, &id(account), &pin(digits)).expect("a check in the case")
}

fn verdict_code(f: &mut Fixture, s: &Session, case: CaseId) -> &'static str {
    f.desk.case_verdict(s, case).expect("case verdict").shown.decision.verdict.code()
}

fn assert_chain_intact(f: &Fixture) {
    assert!(matches!(f.desk.verify_chain().expect("verify"), ChainStatus::Intact { .. }), "the audit chain verifies");
}

/// The case ids of every event after `seq`, all of which must be the case's.
fn case_ids_after(f: &Fixture, seq: i64) -> Vec<Option<i64>> {
    let conn = f.raw();
    let mut stmt = conn.prepare("SELECT case_id FROM audit_events WHERE seq > ?1 ORDER BY seq").expect("prepare");
    stmt.query_map([seq], |r| r.get(0)).expect("query").collect::<Result<_, _>>().expect("rows")
}

#[test]
fn staff_for_provider_approved_by_a_case_reply_from_start_to_close() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let start = f.head_seq();
    let case = open(&mut f, &rita, "S-2001", Some("P-1001"));
    assert_eq!(verdict_code(&mut f, &rita, case), "verify_first", "a new case needs a verification");
    let c = check(&mut f, &rita, case, "S-2001", "3356");
    assert_eq!((c.checked_as, c.check), (CheckedAs::Caller, Some(PinCheck::Matched)));

    let v = f.desk.case_verdict(&rita, case).expect("verdict");
    let Verdict::NeedsApproval { approver } = &v.shown.decision.verdict else { panic!("{v:?}") };
    assert_eq!(approver.id.as_str(), "P-1001");
    assert_eq!(v.status, CaseStatus::AwaitingApproval);
    let detail = f.desk.case_detail(case).expect("detail");
    assert_eq!(detail.approver_email.as_deref(), Some("ada.okafor@harbor.example"));

    // The sender is compared trimmed and case-insensitively, display name allowed.
    let outcome = f
        .desk
        .approve_by_reply(&rita, case, "<reply-77@harbor.example>", "  Dr. Ada Okafor <Ada.Okafor@HARBOR.example> ")
        .expect("approve");
    let ApprovalOutcome::Recorded { approval } = outcome else { panic!("{outcome:?}") };
    assert_eq!((approval.provider.id.as_str(), approval.method), ("P-1001", ApprovalMethod::CaseReply));
    assert_eq!(approval.recorded_by, "rita");

    let v = f.desk.case_verdict(&rita, case).expect("verdict");
    assert_eq!(v.shown.decision.verdict, Verdict::Assist);
    assert_eq!(v.status, CaseStatus::Approved);
    let cited = v.shown.policy_row.clone();
    assert!(cited.contains("Dr. Ada Okafor (P-1001)") && cited.contains("reply on the case"), "{cited}");
    assert!(cited.contains("<reply-77@harbor.example>") && cited.contains("recorded by rita"), "{cited}");
    assert!(v.approval.is_some());

    f.desk.close_case(&rita, case, CaseOutcome::Assisted).expect("close");
    let closed = f.desk.case_detail(case).expect("detail");
    assert_eq!((closed.summary.status, closed.summary.outcome), (CaseStatus::Closed, Some(CaseOutcome::Assisted)));
    assert_eq!(closed.touched_by, ["rita"]);

    assert_eq!(f.events_after(start), [
        ev("case_opened", "S-2001", "ok", "on_behalf"),
        ev("verdict_shown", "S-2001", "verify_first", "verify_first"),
        ev("pin_validated", "S-2001", "ok", "matched"),
        ev("case_updated", "S-2001", "ok", "status"),
        ev("verdict_shown", "S-2001", "needs_approval", "staff_for_provider"),
        ev("approval_recorded", "S-2001", "ok", "case_reply"),
        ev("case_updated", "S-2001", "ok", "status"),
        ev("verdict_shown", "S-2001", "assist", "staff_for_provider"),
        ev("case_closed", "S-2001", "ok", "assisted"),
    ]);
    assert!(case_ids_after(&f, start).iter().all(|c| *c == Some(case.0)), "every event belongs to the case");
    // The timeline is exactly the case's events, in order.
    let timeline: Vec<String> = closed.timeline.iter().map(|e| e.kind.clone()).collect();
    assert_eq!(timeline.len(), 9);
    assert_eq!(timeline[0], "case_opened");
    assert_eq!(timeline[8], "case_closed");
    // A closed case takes nothing more.
    let err = f.desk.add_case_note(&rita, case, "one more thing").expect_err("closed");
    assert!(err.to_string().contains("is closed"), "{err}");
    assert_chain_intact(&f);
}

#[test]
fn staff_for_staff_approved_by_the_targets_primary_provider_calling_in() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let start = f.head_seq();
    // Carla (primary P-1001) for Dev Patel (primary P-1002): Dr. Lindqvist approves.
    let case = open(&mut f, &rita, "S-2001", Some("S-2002"));
    check(&mut f, &rita, case, "S-2001", "3356");
    let v = f.desk.case_verdict(&rita, case).expect("verdict");
    let Verdict::NeedsApproval { approver } = &v.shown.decision.verdict else { panic!("{v:?}") };
    assert_eq!(approver.id.as_str(), "P-1002");

    let c = check(&mut f, &rita, case, "P-1002", "9082");
    assert_eq!((c.checked_as, c.check), (CheckedAs::Approver, Some(PinCheck::Matched)));
    let approval = c.approval.expect("the match recorded the approval");
    assert_eq!((approval.provider.id.as_str(), approval.method), ("P-1002", ApprovalMethod::ProviderPin));
    assert!(approval.from_address.is_none());
    // Like any match, the provider's PIN was rotated.
    assert_eq!(
        f.desk.check_pin(&rita, &id("P-1002"), &pin("9082")).expect("check"),
        PinCheck::Rejected { attempts_left: 4 }
    );

    let v = f.desk.case_verdict(&rita, case).expect("verdict");
    assert_eq!(v.shown.decision.verdict, Verdict::Assist);
    assert!(v.shown.policy_row.contains("by calling in with their own Support PIN (matched)"), "{}", v.shown.policy_row);
    assert!(v.shown.next_step.contains("Dr. Ben Lindqvist approved"), "{}", v.shown.next_step);
    f.desk.close_case(&rita, case, CaseOutcome::Assisted).expect("close");

    let events: Vec<Event> = f.events_after(start).into_iter().take(10).collect();
    assert_eq!(events, [
        ev("case_opened", "S-2001", "ok", "on_behalf"),
        ev("pin_validated", "S-2001", "ok", "matched"),
        ev("case_updated", "S-2001", "ok", "status"),
        ev("verdict_shown", "S-2001", "needs_approval", "staff_for_staff"),
        ev("pin_validated", "P-1002", "ok", "matched"),
        ev("approval_recorded", "S-2001", "ok", "provider_pin"),
        ev("case_updated", "S-2001", "ok", "status"),
        ev("pin_rejected", "P-1002", "fail", "mismatch"),
        ev("verdict_shown", "S-2001", "assist", "staff_for_staff"),
        ev("case_closed", "S-2001", "ok", "assisted"),
    ]);
    assert_chain_intact(&f);
}

#[test]
fn only_the_approving_provider_counts() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let case = open(&mut f, &rita, "S-2001", Some("S-2002")); // approver: P-1002
    check(&mut f, &rita, case, "S-2001", "3356");
    assert_eq!(verdict_code(&mut f, &rita, case), "needs_approval");
    let start = f.head_seq();

    // Another provider of the practice replies: refused, with the reason.
    let out = f.desk.approve_by_reply(&rita, case, "msg-1", "ada.okafor@harbor.example").expect("answer");
    let ApprovalOutcome::Refused { code, reason } = out else { panic!("{out:?}") };
    assert_eq!(code, "wrong_provider");
    assert!(reason.contains("Dr. Ada Okafor (P-1001)") && reason.contains("only Dr. Ben Lindqvist (P-1002)"), "{reason}");
    assert!(reason.contains("ben.lindqvist@harbor.example"), "names the email of record: {reason}");
    // The requestor replies: refused.
    let out = f.desk.approve_by_reply(&rita, case, "msg-2", "carla.mendes@harbor.example").expect("answer");
    assert!(matches!(&out, ApprovalOutcome::Refused { code, .. } if code == "requestor_cannot_approve"), "{out:?}");
    // Another provider calling in: their PIN is not even checked in this case.
    let err = f.desk.check_pin_in_case(&rita, case, &id("P-1001"), &pin("0417")).expect_err("not part of the case");
    assert!(matches!(err, DeskError::Refused(_)), "{err}");
    assert!(err.to_string().contains("Dr. Ben Lindqvist (P-1002)"), "{err}");
    assert_eq!(f.account_column::<i64>("P-1001", "pin_failures"), 0, "P-1001's PIN was not touched");

    assert_eq!(verdict_code(&mut f, &rita, case), "needs_approval", "still waiting for the right provider");
    assert_eq!(f.events_after(start), [
        ev("approval_recorded", "S-2001", "refused", "wrong_provider"),
        ev("approval_recorded", "S-2001", "refused", "requestor_cannot_approve"),
        ev("verdict_shown", "S-2001", "needs_approval", "staff_for_staff"),
    ]);
    assert!(f.desk.case_detail(case).expect("detail").approvals.is_empty());
    assert_chain_intact(&f);
}

#[test]
fn a_reply_from_an_address_that_is_not_the_providers_is_refused() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let case = open(&mut f, &rita, "S-2001", Some("P-1001"));
    check(&mut f, &rita, case, "S-2001", "3356");
    verdict_code(&mut f, &rita, case);
    let start = f.head_seq();
    for from in ["ada.okafor@gmail.example", "ada.okafor@harbor.example.evil.example", "okafor"] {
        let out = f.desk.approve_by_reply(&rita, case, "<m@x>", from).expect("answer");
        let ApprovalOutcome::Refused { code, reason } = out else { panic!("{from}: {out:?}") };
        assert_eq!(code, "address_not_of_record", "{from}");
        assert!(reason.contains("not the provider's email of record") && reason.contains("ada.okafor@harbor.example"), "{reason}");
    }
    // An empty reference or sender is refused before anything is recorded.
    assert!(matches!(f.desk.approve_by_reply(&rita, case, "  ", "ada.okafor@harbor.example"), Err(DeskError::Invalid(_))));
    assert_eq!(f.kinds_after(start), ["approval_recorded", "approval_recorded", "approval_recorded"]);
    assert!(f.events_after(start).iter().all(|e| e.2 == "refused"));
    let detail = f.desk.case_detail(case).expect("detail");
    assert_eq!(detail.summary.status, CaseStatus::AwaitingApproval);
    assert!(detail.approvals.is_empty());
    assert_chain_intact(&f);
}

#[test]
fn a_reply_from_an_address_the_provider_shares_with_the_requestor_or_other_staff_is_refused() {
    let mut f = Fixture::new();
    // Carla (the requestor) uses Dr. Okafor's mailbox, as written in her record.
    f.raw()
        .execute("UPDATE accounts SET email = ' Ada.Okafor@harbor.example' WHERE id = 'S-2001'", [])
        .expect("share the address");
    let rita = f.rita();
    let case = open(&mut f, &rita, "S-2001", Some("P-1001"));
    check(&mut f, &rita, case, "S-2001", "3356");
    assert_eq!(verdict_code(&mut f, &rita, case), "needs_approval");
    let start = f.head_seq();
    let out = f.desk.approve_by_reply(&rita, case, "<m1@x>", "Dr. Ada <ada.okafor@harbor.example>").expect("answer");
    let ApprovalOutcome::Refused { code, reason } = out else { panic!("{out:?}") };
    assert_eq!(code, "requestor_cannot_approve");
    assert!(reason.contains("requestor, Carla Mendes (S-2001)") && reason.contains("Support PIN"), "{reason}");
    assert_eq!(verdict_code(&mut f, &rita, case), "needs_approval", "no approval was recorded");

    // Not the requestor but another staff member of the practice shares it: refused as well.
    f.raw()
        .execute_batch(
            "UPDATE accounts SET email = 'carla.mendes@harbor.example' WHERE id = 'S-2001'; \
             UPDATE accounts SET email = 'ADA.OKAFOR@harbor.example' WHERE id = 'S-2005';",
        )
        .expect("share the address");
    let out = f.desk.approve_by_reply(&rita, case, "<m2@x>", "ada.okafor@harbor.example").expect("answer");
    let ApprovalOutcome::Refused { code, reason } = out else { panic!("{out:?}") };
    assert_eq!(code, "shared_address");
    assert!(reason.contains("(S-2005)") && reason.contains("Dr. Ada Okafor (P-1001)"), "{reason}");
    assert_eq!(f.events_after(start), [
        ev("approval_recorded", "S-2001", "refused", "requestor_cannot_approve"),
        ev("verdict_shown", "S-2001", "needs_approval", "staff_for_provider"),
        ev("approval_recorded", "S-2001", "refused", "shared_address"),
    ]);
    // The provider calling in with her own Support PIN still approves.
    let checked = check(&mut f, &rita, case, "P-1001", "0417");
    assert!(checked.approval.is_some(), "{checked:?}");
    assert_eq!(verdict_code(&mut f, &rita, case), "assist");
    assert_chain_intact(&f);
}

#[test]
fn an_approval_expires_after_24_hours_and_the_verdict_reverts() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let case = open(&mut f, &rita, "S-2001", Some("P-1001"));
    check(&mut f, &rita, case, "S-2001", "3356");
    verdict_code(&mut f, &rita, case);
    f.desk.approve_by_reply(&rita, case, "<ok@harbor>", "ada.okafor@harbor.example").expect("approve");

    // Next day, a minute before expiry: the caller calls again and verifies again; still approved.
    f.clock.advance(Duration::hours(24) - Duration::minutes(1));
    let rita = f.rita();
    assert_eq!(verdict_code(&mut f, &rita, case), "verify_first", "yesterday's verification no longer counts");
    check(&mut f, &rita, case, "S-2001", "3357");
    assert_eq!(verdict_code(&mut f, &rita, case), "assist");

    // Two minutes later the approval has expired. Before any verdict records it, the lists show
    // the case as awaiting a new approval (it is stored as approved until then).
    f.clock.advance(Duration::minutes(2));
    let awaiting = CaseFilter { status: Some(CaseStatus::AwaitingApproval), limit: 10, ..CaseFilter::default() };
    let listed = f.desk.list_cases(&awaiting).expect("list");
    assert!(listed.iter().any(|c| c.id == case && c.status == CaseStatus::AwaitingApproval), "{listed:?}");
    let approved = CaseFilter { status: Some(CaseStatus::Approved), limit: 10, ..CaseFilter::default() };
    assert!(f.desk.list_cases(&approved).expect("list").iter().all(|c| c.id != case));
    let start = f.head_seq();
    let v = f.desk.case_verdict(&rita, case).expect("verdict");
    assert!(matches!(v.shown.decision.verdict, Verdict::NeedsApproval { .. }), "{v:?}");
    assert_eq!(v.status, CaseStatus::AwaitingApproval);
    assert!(v.expired_approval.as_ref().is_some_and(|a| a.expired));
    assert_eq!(f.events_after(start), [
        ev("approval_expired", "S-2001", "expired", "expired"),
        ev("case_updated", "S-2001", "ok", "status"),
        ev("verdict_shown", "S-2001", "needs_approval", "staff_for_provider"),
    ]);
    // The expiry is recorded once.
    let start = f.head_seq();
    assert_eq!(verdict_code(&mut f, &rita, case), "needs_approval");
    assert_eq!(f.kinds_after(start), ["verdict_shown"]);
    // The earlier "assist" no longer lets the case close as assisted: the latest verdict decides.
    let err = f.desk.close_case(&rita, case, CaseOutcome::Assisted).expect_err("not assisted now");
    assert!(err.to_string().contains("latest verdict"), "{err}");
    // A fresh approval makes it assist again.
    f.desk.approve_by_reply(&rita, case, "<again@harbor>", "ada.okafor@harbor.example").expect("approve");
    assert_eq!(verdict_code(&mut f, &rita, case), "assist");
    f.desk.close_case(&rita, case, CaseOutcome::Assisted).expect("assisted");
    assert_chain_intact(&f);
}

#[test]
fn a_verification_belongs_to_its_case_and_to_the_idle_timeout() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let first = open(&mut f, &rita, "S-2001", None);
    check(&mut f, &rita, first, "S-2001", "3356");
    assert_eq!(verdict_code(&mut f, &rita, first), "assist");
    // A second case for the same caller needs its own verification.
    let second = open(&mut f, &rita, "S-2001", None);
    assert_eq!(verdict_code(&mut f, &rita, second), "verify_first");
    // A match inside a case does not verify a call outside it either.
    let v = f.desk.decide(&rita, &id("S-2001"), &Request::OwnAccount).expect("decide");
    assert_eq!(v.decision.verdict, Verdict::VerifyFirst);
    // Nor does a match outside a case verify a case.
    assert_eq!(f.desk.check_pin(&rita, &id("S-2001"), &pin("3357")).expect("check"), PinCheck::Matched);
    assert_eq!(verdict_code(&mut f, &rita, second), "verify_first");
    // Another rep on the same case shares its verification (the case is the unit, not the rep).
    let leo = f.leo();
    assert_eq!(verdict_code(&mut f, &leo, first), "assist");
    // 15 minutes is the idle timeout; after 16 the match no longer counts.
    f.clock.advance(Duration::minutes(16));
    assert_eq!(verdict_code(&mut f, &rita, first), "verify_first");
    let start = f.head_seq();
    check(&mut f, &rita, first, "S-2001", "3358");
    assert_eq!(verdict_code(&mut f, &rita, first), "assist");
    assert_eq!(f.kinds_after(start), ["pin_validated", "verdict_shown"]);
    let touched = f.desk.case_detail(first).expect("detail").touched_by;
    assert_eq!(touched, ["rita", "leo"]);
    assert_chain_intact(&f);
}

#[test]
fn three_failures_end_a_cases_verification_and_five_still_lock_the_pin() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let case = open(&mut f, &rita, "S-2001", None);
    let start = f.head_seq();
    for (n, left) in [(1, 4), (2, 3), (3, 2)] {
        let c = check(&mut f, &rita, case, "S-2001", "1111");
        assert_eq!((c.check, c.failures_in_case), (Some(PinCheck::Rejected { attempts_left: left }), n));
    }
    // The right PIN is not even checked now, and does not rotate.
    let c = check(&mut f, &rita, case, "S-2001", "3356");
    assert_eq!(c.check, None);
    assert!(c.ended());
    let v = f.desk.case_verdict(&rita, case).expect("verdict");
    assert_eq!(v.shown.decision.verdict, Verdict::VerifyFirst);
    assert!(v.shown.next_step.contains("3 unsuccessful attempts"), "{}", v.shown.next_step);
    assert_eq!(f.events_after(start), [
        ev("pin_rejected", "S-2001", "fail", "mismatch"),
        ev("pin_rejected", "S-2001", "fail", "mismatch"),
        ev("pin_rejected", "S-2001", "fail", "mismatch"),
        ev("pin_rejected", "S-2001", "refused", "case_verification_ended"),
        ev("verdict_shown", "S-2001", "verify_first", "verify_first"),
    ]);
    let detail = f.desk.case_detail(case).expect("detail");
    assert!(detail.verification.ended && detail.verification.failures == 3);
    f.desk.close_case(&rita, case, CaseOutcome::Refused).expect("close");

    // The account's count goes on across cases: two more failures lock the PIN.
    let next = open(&mut f, &rita, "S-2001", None);
    assert_eq!(check(&mut f, &rita, next, "S-2001", "2222").check, Some(PinCheck::Rejected { attempts_left: 1 }));
    assert_eq!(check(&mut f, &rita, next, "S-2001", "2222").check, Some(PinCheck::Locked));
    assert!(f.account_column::<bool>("S-2001", "pin_locked"));
    let kinds = f.kinds_after(f.head_seq() - 2);
    assert_eq!(kinds, ["pin_rejected", "pin_locked"]);
    assert_chain_intact(&f);
}

#[test]
fn a_rep_never_opens_approves_or_closes_a_case_on_their_own_account() {
    let mut f = Fixture::new();
    // sam is Carla Mendes at the vendor's desk; pat is Dr. Okafor's account.
    f.add_rep("sam", "Sam Mendes", RepRole::Rep, "sam-test-passphrase", Some("S-2001"));
    f.add_rep("pat", "Pat Okafor", RepRole::Rep, "pat-test-passphrase", Some("P-1001"));
    let sam = f.sign_in("sam", "sam-test-passphrase");
    let pat = f.sign_in("pat", "pat-test-passphrase");
    let rita = f.rita();
    let start = f.head_seq();

    for request in [Request::OwnAccount, Request::OnBehalfOf(id("P-1001"))] {
        let err = f.desk.open_case(&sam, Channel::Email, &id("S-2001"), &request).expect_err("own account");
        assert!(matches!(err, DeskError::Refused(_)), "{err}");
    }
    // As the target of someone else's request, too.
    let err = f.desk.open_case(&sam, Channel::Phone, &id("P-1001"), &Request::OnBehalfOf(id("S-2001"))).expect_err("own");
    assert!(err.to_string().contains("own account"), "{err}");
    assert_eq!(f.events_after(start), [
        ev("case_opened", "S-2001", "refused", "rep_own_account"),
        ev("case_opened", "S-2001", "refused", "rep_own_account"),
        ev("case_opened", "P-1001", "refused", "rep_own_account"),
    ]);
    assert!(f.desk.list_cases(&CaseFilter { limit: 10, ..CaseFilter::default() }).expect("list").is_empty());

    // rita opens Carla's request for Dr. Okafor; pat (Dr. Okafor's account) may not approve it,
    // sam (Carla) may not close it.
    let case = open(&mut f, &rita, "S-2001", Some("P-1001"));
    check(&mut f, &rita, case, "S-2001", "3356");
    verdict_code(&mut f, &rita, case);
    let start = f.head_seq();
    let err = f.desk.approve_by_reply(&pat, case, "<m@x>", "ada.okafor@harbor.example").expect_err("own account");
    assert!(matches!(err, DeskError::Refused(_)), "{err}");
    let err = f.desk.check_pin_in_case(&pat, case, &id("P-1001"), &pin("0417")).expect_err("own account");
    assert!(matches!(err, DeskError::Refused(_)), "{err}");
    let err = f.desk.close_case(&sam, case, CaseOutcome::Abandoned).expect_err("own account");
    assert!(matches!(err, DeskError::Refused(_)), "{err}");
    // Not even a note or a status change: pat is the approver, sam the caller.
    let err = f.desk.add_case_note(&pat, case, "I looked at it").expect_err("own account");
    assert!(matches!(err, DeskError::Refused(_)), "{err}");
    let err = f.desk.set_case_status(&sam, case, CaseStatus::AwaitingApproval).expect_err("own account");
    assert!(err.to_string().contains("own account"), "{err}");
    assert_eq!(f.events_after(start), [
        ev("approval_recorded", "S-2001", "refused", "rep_own_account"),
        ev("pin_rejected", "P-1001", "refused", "rep_own_account"),
        ev("case_closed", "S-2001", "refused", "rep_own_account"),
        ev("case_updated", "S-2001", "refused", "rep_own_account"),
        ev("case_updated", "S-2001", "refused", "rep_own_account"),
    ]);
    assert!(f.desk.case_detail(case).expect("detail").notes.is_empty(), "the note was not kept");
    assert_eq!(f.desk.case_detail(case).expect("detail").summary.status, CaseStatus::AwaitingApproval);
    assert_eq!(f.account_column::<i64>("P-1001", "pin_failures"), 0);
    assert_chain_intact(&f);
}

#[test]
fn statuses_move_only_along_the_lifecycle() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let own = open(&mut f, &rita, "S-2001", None);
    let err = f.desk.set_case_status(&rita, own, CaseStatus::AwaitingApproval).expect_err("no approval needed");
    assert!(err.to_string().contains("no provider can approve"), "{err}");
    let err = f.desk.close_case(&rita, own, CaseOutcome::Assisted).expect_err("never assisted");
    assert!(err.to_string().contains("cannot close as assisted"), "{err}");
    let start = f.head_seq();
    f.desk.close_case(&rita, own, CaseOutcome::Abandoned).expect("open -> closed");
    assert_eq!(f.events_after(start), [ev("case_closed", "S-2001", "ok", "abandoned")]);

    let asks = open(&mut f, &rita, "S-2001", Some("P-1001"));
    let err = f.desk.set_case_status(&rita, asks, CaseStatus::Approved).expect_err("approved needs an approval");
    assert!(err.to_string().contains("recording the provider's approval"), "{err}");
    let start = f.head_seq();
    f.desk.set_case_status(&rita, asks, CaseStatus::AwaitingApproval).expect("open -> awaiting");
    assert_eq!(f.events_after(start), [ev("case_updated", "S-2001", "ok", "status")]);
    let err = f.desk.set_case_status(&rita, asks, CaseStatus::Open).expect_err("no way back");
    assert!(matches!(err, DeskError::Invalid(_)), "{err}");
    // A note with a PIN-like run of digits is refused; a normal one is recorded with the case.
    assert!(matches!(f.desk.add_case_note(&rita, asks, "she said 3356"), Err(DeskError::Invalid(_))));
    f.desk.add_case_note(&rita, asks, "Emailed Dr. Okafor with the provider on the case.").expect("note");
    let detail = f.desk.case_detail(asks).expect("detail");
    assert_eq!(detail.notes.len(), 1);
    assert_eq!(detail.timeline.last().map(|e| e.reason.clone()), Some(Some("note".into())));

    // The queue: by status, and by who touched a case.
    let awaiting = f
        .desk
        .list_cases(&CaseFilter { status: Some(CaseStatus::AwaitingApproval), limit: 10, ..CaseFilter::default() })
        .expect("list");
    assert_eq!(awaiting.iter().map(|c| c.id).collect::<Vec<_>>(), [asks]);
    let leo = f.leo();
    let leos = f.desk.list_cases(&CaseFilter { touched_by: Some(leo.rep_id.0), limit: 10, ..CaseFilter::default() });
    assert!(leos.expect("list").is_empty());
    f.desk.add_case_note(&leo, asks, "Lead looked at it.").expect("note");
    let leos = f.desk.list_cases(&CaseFilter { touched_by: Some(leo.rep_id.0), limit: 10, ..CaseFilter::default() });
    assert_eq!(leos.expect("list").len(), 1);
    // An unknown case is "not found", not a storage error.
    assert!(matches!(f.desk.case_verdict(&rita, CaseId(999)), Err(DeskError::NotFound(_))));
    assert!(matches!(f.desk.case_detail(CaseId(999)), Err(DeskError::NotFound(_))));
    assert_chain_intact(&f);
}

#[test]
fn the_schema_refuses_unknown_statuses_and_changes_to_closed_cases() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let case = open(&mut f, &rita, "S-2001", None);
    let raw = f.raw();
    assert!(raw.execute("UPDATE cases SET status = 'maybe' WHERE id = ?1", [case.0]).is_err());
    f.desk.close_case(&rita, case, CaseOutcome::Abandoned).expect("close");
    assert!(raw.execute("UPDATE cases SET status = 'open' WHERE id = ?1", [case.0]).is_err(), "closed stays closed");
}

#[test]
fn a_duplicate_names_the_case_it_duplicates() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let first = open(&mut f, &rita, "S-2001", None);
    let again = open(&mut f, &rita, "S-2001", None);
    let start = f.head_seq();
    for (of, why) in [(None, "say which case"), (Some(again), "cannot duplicate itself"), (Some(CaseId(999)), "case 999")] {
        let err = match of {
            None => f.desk.close_case(&rita, again, CaseOutcome::Duplicate),
            Some(of) => f.desk.close_case_as_duplicate(&rita, again, of),
        }
        .expect_err("refused");
        assert!(err.to_string().contains(why), "{err}");
    }
    assert_eq!(f.head_seq(), start, "nothing recorded");
    f.desk.close_case_as_duplicate(&rita, again, first).expect("close");
    let detail: String = f
        .raw()
        .query_row("SELECT detail FROM audit_events WHERE kind = 'case_closed' AND case_id = ?1", [again.0], |r| r.get(0))
        .expect("closed");
    assert!(detail.contains(&format!("outcome: duplicate of case #{}", first.0)), "{detail}");
    // And never a duplicate of a duplicate: two requests closed as each other's would both go unhandled.
    let err = f.desk.close_case_as_duplicate(&rita, first, again).expect_err("cycle refused");
    assert!(err.to_string().contains("is itself closed as a duplicate"), "{err}");
}

#[test]
fn an_accounts_recent_cases_are_those_it_asked_and_those_about_it_newest_first() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let own = open(&mut f, &rita, "S-2001", None);
    f.clock.advance(Duration::minutes(5));
    let for_okafor = open(&mut f, &rita, "S-2001", Some("P-1001"));
    f.clock.advance(Duration::minutes(5));
    let about_carla = open(&mut f, &rita, "S-2002", Some("S-2001"));
    f.clock.advance(Duration::minutes(5));
    let unrelated = open(&mut f, &rita, "P-1003", None);
    let recent = |f: &Fixture, account: &str, limit: usize| -> Vec<CaseId> {
        let filter = CaseFilter { account: Some(id(account)), limit, ..CaseFilter::default() };
        f.desk.list_cases(&filter).expect("list").into_iter().map(|c| c.id).collect()
    };
    let start = f.head_seq();
    assert_eq!(recent(&f, "S-2001", 10), [about_carla, for_okafor, own], "as caller and as target, newest first");
    assert_eq!(recent(&f, "S-2001", 2), [about_carla, for_okafor], "at most the limit");
    assert_eq!(recent(&f, "P-1001", 10), [for_okafor]);
    assert_eq!(recent(&f, "P-1003", 10), [unrelated]);
    assert!(recent(&f, "S-2004", 10).is_empty());
    // A case closed later is more recent than one opened after it.
    f.clock.advance(Duration::minutes(5));
    f.desk.close_case(&rita, own, CaseOutcome::Abandoned).expect("close");
    let start_after_close = f.head_seq();
    assert_eq!(recent(&f, "S-2001", 10), [own, about_carla, for_okafor]);
    assert_eq!(f.head_seq(), start_after_close, "listing records nothing");
    assert_eq!(start_after_close, start + 1, "only the close was recorded");
}

#[test]
fn an_unlock_case_is_decided_by_unlocking_it_and_closes_assisted_only_then() {
    let mut f = Fixture::new();
    f.raw().execute("UPDATE accounts SET account_locked = 1 WHERE id = 'S-2003'", []).expect("lock");
    let rita = f.rita();
    let case = f.desk.open_case(&rita, Channel::Phone, &id("S-2003"), &Request::Unlock).expect("open");
    // No verdict without the unlock (it would say "I can unlock your account now" and unlock nothing).
    let err = f.desk.case_verdict(&rita, case).expect_err("an unlock case's verdict is the unlock");
    assert!(err.to_string().contains("case unlock"), "{err}");
    // Nor can it close as assisted before the unlock.
    let err = f.desk.close_case(&rita, case, CaseOutcome::Assisted).expect_err("not unlocked yet");
    assert!(err.to_string().contains("assisted"), "{err}");
    // The note is required and never a PIN.
    assert!(matches!(f.desk.unlock_in_case(&rita, case, "ok"), Err(DeskError::Invalid(_))));
    assert!(matches!(f.desk.unlock_in_case(&rita, case, "caller said 7648 twice"), Err(DeskError::Invalid(_))));
    let start = f.head_seq();
    let u = f.desk.unlock_in_case(&rita, case, "called back on the number of record").expect("unlock");
    assert!(u.unlocked);
    assert_eq!(u.verdict.decision.verdict, Verdict::Assist);
    let locked: bool = f.raw().query_row("SELECT account_locked FROM accounts WHERE id = 'S-2003'", [], |r| r.get(0)).expect("row");
    assert!(!locked, "the account is unlocked");
    // Both events in the case, the note with the unlock.
    assert_eq!(case_ids_after(&f, start), [Some(case.0), Some(case.0)]);
    let detail: String = f
        .raw()
        .query_row("SELECT detail FROM audit_events WHERE kind = 'account_unlocked' AND case_id = ?1", [case.0], |r| r.get(0))
        .expect("the unlock event");
    assert!(detail.contains("called back on the number of record"), "{detail}");
    // Again: not locked any more, nothing changes, still recorded.
    let again = f.desk.unlock_in_case(&rita, case, "called back on the number of record").expect("unlock again");
    assert!(!again.unlocked);
    assert!(again.verdict.next_step.contains("not locked"), "the caller is told, not promised an unlock: {}", again.verdict.next_step);
    f.desk.close_case(&rita, case, CaseOutcome::Assisted).expect("close as assisted");
    // An unlock on a case that asks for something else is refused.
    let other = open(&mut f, &rita, "S-2001", None);
    assert!(matches!(f.desk.unlock_in_case(&rita, other, "called back on the number of record"), Err(DeskError::Invalid(_))));
    assert_chain_intact(&f);
}

#[test]
fn a_pin_written_into_an_approval_reference_or_sender_is_refused_and_not_recorded() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let case = open(&mut f, &rita, "S-2001", Some("P-1001"));
    let start = f.head_seq();
    for (reference, from) in [("PIN 0417", "ada.okafor@harbor.example"), ("<r1@harbor>", "pin-0417@harbor.example")] {
        let err = f.desk.approve_by_reply(&rita, case, reference, from).expect_err("refused");
        assert!(matches!(err, DeskError::Invalid(_)), "{err:?}");
        assert!(!err.to_string().contains("0417"), "the PIN is never repeated: {err}");
    }
    assert_eq!(f.head_seq(), start, "nothing recorded");
    // Digits an ordinary message id holds are fine.
    assert!(matches!(
        f.desk.approve_by_reply(&rita, case, "<CAF123456789@mail.harbor.example>", "ada.okafor@harbor.example").expect("approve"),
        ApprovalOutcome::Recorded { .. }
    ));
}
