//! A rep's call through the core's public API on a real database: every delegation-policy row,
//! the idle window of a match, the rep's own account, and the Support PIN rules (leading zeros,
//! rotation, upgrade of unkeyed and foreign hashes, lockout, unknown accounts).

mod common;

use chrono::Duration;
use common::*;
use support_desk::desk::{DeskError, PinCheck, Request, Rule, Verdict, VerdictShown};

fn verdict_of(f: &mut Fixture, s: &support_desk::desk::Session, caller: &str, request: Request) -> VerdictShown {
    f.desk.decide(s, &id(caller), &request).expect("a verdict")
}

fn on_behalf(target: &str) -> Request {
    Request::OnBehalfOf(id(target))
}

fn matched(f: &mut Fixture, s: &support_desk::desk::Session, account: &str, digits: &str) {
    assert_eq!(f.desk.check_pin(s, &id(account), &pin(digits)).expect("check"), PinCheck::Matched, "{account}");
}

fn assert_rule(v: &VerdictShown, code: &str, rule: Rule) {
    assert_eq!((v.decision.verdict.code(), v.decision.rule), (code, rule), "{v:?}");
}

// ---- the delegation policy, row by row ----

#[test]
fn nothing_but_verify_first_until_the_callers_pin_matched() {
    let mut f = Fixture::new();
    let rita = f.rita();
    for request in [Request::OwnAccount, on_behalf("P-1001"), on_behalf("S-2002"), on_behalf("S-2004")] {
        let v = verdict_of(&mut f, &rita, "S-2001", request.clone());
        assert_rule(&v, "verify_first", Rule::VerifyFirst);
        assert!(v.next_step.contains("Support PIN"), "{}", v.next_step);
    }
    // A rejected PIN does not verify either.
    assert_eq!(
        f.desk.check_pin(&rita, &id("S-2001"), &pin("3355")).expect("check"),
        PinCheck::Rejected { attempts_left: 4 }
    );
    assert_rule(&verdict_of(&mut f, &rita, "S-2001", Request::OwnAccount), "verify_first", Rule::VerifyFirst);
}

#[test]
fn a_verified_caller_gets_help_on_their_own_account() {
    let mut f = Fixture::new();
    let rita = f.rita();
    matched(&mut f, &rita, "S-2001", "3356");
    assert_rule(&verdict_of(&mut f, &rita, "S-2001", Request::OwnAccount), "assist", Rule::OwnAccount);
    // "On behalf of" oneself is one's own account.
    assert_rule(&verdict_of(&mut f, &rita, "S-2001", on_behalf("S-2001")), "assist", Rule::OwnAccount);
}

#[test]
fn a_provider_is_assisted_with_staff_of_the_same_practice() {
    let mut f = Fixture::new();
    let rita = f.rita();
    matched(&mut f, &rita, "P-1001", "0417");
    let v = verdict_of(&mut f, &rita, "P-1001", on_behalf("S-2001"));
    assert_rule(&v, "assist", Rule::ProviderForStaff);
    assert!(v.next_step.contains("Carla Mendes"), "{}", v.next_step);
    // Staff whose primary provider is another provider of the same practice: still assist.
    assert_rule(&verdict_of(&mut f, &rita, "P-1001", on_behalf("S-2002")), "assist", Rule::ProviderForStaff);
}

#[test]
fn staff_for_a_provider_needs_that_providers_approval() {
    let mut f = Fixture::new();
    let rita = f.rita();
    matched(&mut f, &rita, "S-2001", "3356");
    // Carla's own primary provider, and another provider of the practice: each must approve for
    // themselves.
    for (target, name) in [("P-1001", "Dr. Ada Okafor"), ("P-1002", "Dr. Ben Lindqvist")] {
        let v = verdict_of(&mut f, &rita, "S-2001", on_behalf(target));
        assert_rule(&v, "needs_approval", Rule::StaffForProvider);
        let Verdict::NeedsApproval { approver } = &v.decision.verdict else { unreachable!() };
        assert_eq!((approver.id.as_str(), approver.name.as_str()), (target, name));
        assert!(v.next_step.contains(name), "{}", v.next_step);
    }
}

#[test]
fn staff_for_staff_needs_the_targets_primary_provider() {
    let mut f = Fixture::new();
    let rita = f.rita();
    // Carla (primary P-1001) for Dev Patel (primary P-1002): P-1002 approves, not Carla's own.
    matched(&mut f, &rita, "S-2001", "3356");
    let v = verdict_of(&mut f, &rita, "S-2001", on_behalf("S-2002"));
    assert_rule(&v, "needs_approval", Rule::StaffForStaff);
    let Verdict::NeedsApproval { approver } = &v.decision.verdict else { unreachable!() };
    assert_eq!((approver.id.as_str(), approver.name.as_str()), ("P-1002", "Dr. Ben Lindqvist"));
    // Carla for Wei Zhang (primary P-1001).
    let v = verdict_of(&mut f, &rita, "S-2001", on_behalf("S-2005"));
    let Verdict::NeedsApproval { approver } = &v.decision.verdict else { panic!("{v:?}") };
    assert_eq!(approver.id.as_str(), "P-1001");
}

#[test]
fn staff_for_staff_without_a_primary_provider_is_refused() {
    let mut f = Fixture::new();
    let mut orphan = demo_directory().into_iter().find(|a| a.row.id == "S-2002").expect("row").row;
    orphan.id = "S-2999".into();
    orphan.email = "orphan@harbor.example".into();
    orphan.primary_provider = None;
    f.desk.put_account(&orphan).expect("put");
    let rita = f.rita();
    matched(&mut f, &rita, "S-2001", "3356");
    assert_rule(&verdict_of(&mut f, &rita, "S-2001", on_behalf("S-2999")), "refused", Rule::NoApprover);
}

#[test]
fn provider_for_provider_is_refused() {
    let mut f = Fixture::new();
    let rita = f.rita();
    matched(&mut f, &rita, "P-1001", "0417");
    let v = verdict_of(&mut f, &rita, "P-1001", on_behalf("P-1002"));
    assert_rule(&v, "refused", Rule::ProviderForProvider);
}

#[test]
fn any_request_across_practices_is_refused() {
    let mut f = Fixture::new();
    let rita = f.rita();
    matched(&mut f, &rita, "P-1001", "0417");
    matched(&mut f, &rita, "S-2001", "3356");
    matched(&mut f, &rita, "S-2004", "2604");
    for (caller, target) in [
        ("P-1001", "S-2004"), // provider -> staff of another practice
        ("P-1001", "S-2003"),
        ("S-2001", "P-1003"), // staff -> provider of another practice
        ("S-2001", "S-2004"), // staff -> staff of another practice
        ("S-2004", "S-2001"),
        ("S-2004", "P-1001"),
    ] {
        let v = verdict_of(&mut f, &rita, caller, on_behalf(target));
        assert_rule(&v, "refused", Rule::OtherPractice);
    }
}

#[test]
fn unlock_needs_no_pin_but_a_note_without_a_pin_in_it() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let farid = id("S-2003");
    assert!(f.desk.account(&farid).expect("read").expect("exists").account_locked);

    for note in ["", "   ", "caller"] {
        assert!(matches!(f.desk.unlock(&rita, &farid, note), Err(DeskError::Invalid(_))), "{note:?}");
    }
    for note in ["caller read PIN 7648", "callback 5550100 ok", "verified by 0071 and email"] {
        assert!(matches!(f.desk.unlock(&rita, &farid, note), Err(DeskError::Invalid(_))), "{note:?}");
    }
    assert!(f.desk.account(&farid).expect("read").expect("exists").account_locked, "refused notes change nothing");

    let done = f.desk.unlock(&rita, &farid, "called back on the number on file").expect("unlock");
    assert_rule(&done.verdict, "assist", Rule::Unlock);
    assert!(done.unlocked);
    assert!(!f.desk.account(&farid).expect("read").expect("exists").account_locked);
    // Unlocking never touches the Support PIN.
    assert_eq!(f.account_column::<Option<String>>("S-2003", "pin_key_id"), None);

    // An account that is not locked: the verdict is the same, nothing changes.
    let again = f.desk.unlock(&rita, &id("S-2001"), "called back on the number on file").expect("unlock");
    assert_rule(&again.verdict, "assist", Rule::Unlock);
    assert!(!again.unlocked);
    // decide() does not unlock: the note is required.
    assert!(matches!(f.desk.decide(&rita, &farid, &Request::Unlock), Err(DeskError::Invalid(_))));
}

#[test]
fn a_rep_never_acts_on_their_own_account() {
    let mut f = Fixture::new();
    // Farid (S-2003, locked) also works the desk.
    f.add_rep("farid", "Farid Haddad", support_desk::desk::RepRole::Rep, "farid-test-passphrase", Some("S-2003"));
    let farid = f.sign_in("farid", "farid-test-passphrase");
    let head = f.head_seq();

    match f.desk.check_pin(&farid, &id("S-2003"), &pin("7648")) {
        Err(DeskError::Refused(_)) => {}
        other => panic!("checking one's own PIN must be refused, got {other:?}"),
    }
    assert_eq!(f.account_column::<Option<String>>("S-2003", "pin_key_id"), None, "not rotated");
    assert_eq!(f.account_column::<i64>("S-2003", "pin_failures"), 0);
    // Not checked, but audited: who tried, on which account, and why it was refused.
    assert_eq!(f.events_after(head), [(
        "pin_rejected".to_string(),
        Some("S-2003".to_string()),
        "refused".to_string(),
        Some("rep_own_account".to_string())
    )]);
    let (rep, detail): (String, String) = f
        .raw()
        .query_row("SELECT rep, detail FROM audit_events WHERE seq = ?1", [head + 1], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("the refusal");
    assert_eq!(rep, "farid");
    assert!(detail.starts_with("not checked") && !detail.contains("7648"), "{detail}");

    let own = verdict_of(&mut f, &farid, "S-2003", Request::OwnAccount);
    assert_rule(&own, "refused", Rule::RepOwnAccount);
    let unlock = f.desk.unlock(&farid, &id("S-2003"), "it is me, I know it").expect("answer");
    assert_rule(&unlock.verdict, "refused", Rule::RepOwnAccount);
    assert!(!unlock.unlocked);
    assert!(f.desk.account(&id("S-2003")).expect("read").expect("exists").account_locked);

    // Nor as the target of someone else's request, even with that caller verified.
    f.desk.check_pin(&farid, &id("P-1003"), &pin("5120")).expect("check");
    let v = verdict_of(&mut f, &farid, "P-1003", on_behalf("S-2003"));
    assert_rule(&v, "refused", Rule::RepOwnAccount);

    // The refusals are recorded; no unlock happened.
    let kinds = f.kinds_after(head);
    assert!(!kinds.iter().any(|k| k == "account_unlocked"), "{kinds:?}");
}

#[test]
fn a_refusal_stands_when_it_cannot_be_recorded() {
    let mut f = Fixture::new();
    f.add_rep("farid", "Farid Haddad", support_desk::desk::RepRole::Rep, "farid-test-passphrase", Some("S-2003"));
    let farid = f.sign_in("farid", "farid-test-passphrase");
    // Refusals can no longer be written (as if the disk were full for them).
    f.raw()
        .execute_batch(
            "CREATE TRIGGER no_refusals BEFORE INSERT ON audit_events WHEN NEW.outcome = 'refused' \
             BEGIN SELECT RAISE(ABORT, 'no room'); END;",
        )
        .expect("trigger");
    let head = f.head_seq();
    match f.desk.check_pin(&farid, &id("S-2003"), &pin("7648")) {
        Err(DeskError::Refused(why)) => assert!(why.contains("own account"), "{why}"),
        other => panic!("still refused, got {other:?}"),
    }
    assert_eq!(f.head_seq(), head);
    assert_eq!(f.account_column::<i64>("S-2003", "pin_failures"), 0);
}

#[test]
fn a_match_counts_for_the_idle_timeout_only() {
    let mut f = Fixture::new();
    let rita = f.rita();
    matched(&mut f, &rita, "S-2001", "3356");
    f.clock.advance(Duration::minutes(14));
    assert_rule(&verdict_of(&mut f, &rita, "S-2001", Request::OwnAccount), "assist", Rule::OwnAccount);
    f.clock.advance(Duration::minutes(2));
    assert_rule(&verdict_of(&mut f, &rita, "S-2001", Request::OwnAccount), "verify_first", Rule::VerifyFirst);
    assert_rule(&verdict_of(&mut f, &rita, "S-2001", on_behalf("P-1001")), "verify_first", Rule::VerifyFirst);
    // A new match (of the rotated PIN) verifies again.
    matched(&mut f, &rita, "S-2001", &next_pin("3356"));
    assert_rule(&verdict_of(&mut f, &rita, "S-2001", Request::OwnAccount), "assist", Rule::OwnAccount);
}

#[test]
fn ending_the_call_ends_its_match_even_within_the_idle_timeout() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let leo = f.leo();
    matched(&mut f, &rita, "S-2001", "3356");
    matched(&mut f, &leo, "S-2002", "0071");
    assert_rule(&verdict_of(&mut f, &rita, "S-2001", Request::OwnAccount), "assist", Rule::OwnAccount);
    let seq = f.desk.end_call(&rita, &id("S-2001")).expect("end the call");
    let (kind, rep, account): (String, String, String) = f
        .raw()
        .query_row("SELECT kind, rep, account_id FROM audit_events WHERE seq = ?1", [seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("event");
    assert_eq!((kind.as_str(), rep.as_str(), account.as_str()), ("call_ended", "rita", "S-2001"));
    // The next caller giving Carla's name, a minute later: the PIN first.
    f.clock.advance(Duration::minutes(1));
    assert_rule(&verdict_of(&mut f, &rita, "S-2001", Request::OwnAccount), "verify_first", Rule::VerifyFirst);
    assert_rule(&verdict_of(&mut f, &rita, "S-2001", on_behalf("P-1001")), "verify_first", Rule::VerifyFirst);
    // Another rep's call, and another account, are not ended by it.
    f.desk.end_call(&rita, &id("S-2002")).expect("end another call");
    assert_rule(&verdict_of(&mut f, &leo, "S-2002", Request::OwnAccount), "assist", Rule::OwnAccount);
    // A new match on the next call verifies again.
    matched(&mut f, &rita, "S-2001", &next_pin("3356"));
    assert_rule(&verdict_of(&mut f, &rita, "S-2001", Request::OwnAccount), "assist", Rule::OwnAccount);
}

#[test]
fn opening_another_callers_card_ends_the_call_and_the_card_shows_what_the_verdict_applies() {
    let mut f = Fixture::new();
    let rita = f.rita();
    f.desk.open_card(&rita, &id("P-1003")).expect("card");
    matched(&mut f, &rita, "P-1003", "5120");
    let until = f.desk.call_verified_until(&rita, &id("P-1003")).expect("status").expect("the match counts");
    assert_eq!(until, support_desk::desk::clock::Clock::now(&*f.clock) + Duration::minutes(15));
    // The same caller's card opened again during the call: still verified, card and verdict alike.
    f.desk.open_card(&rita, &id("P-1003")).expect("card again");
    assert!(f.desk.call_verified_until(&rita, &id("P-1003")).expect("status").is_some());
    assert_rule(&verdict_of(&mut f, &rita, "P-1003", Request::OwnAccount), "assist", Rule::OwnAccount);
    // Another caller's card: that call is over. The next caller giving Dr. Sato's name checks again.
    f.desk.open_card(&rita, &id("S-2002")).expect("another card");
    f.desk.open_card(&rita, &id("P-1003")).expect("back");
    assert_eq!(f.desk.call_verified_until(&rita, &id("P-1003")).expect("status"), None);
    assert_rule(&verdict_of(&mut f, &rita, "P-1003", Request::OwnAccount), "verify_first", Rule::VerifyFirst);
    // And past the idle timeout the card and the verdict agree too.
    matched(&mut f, &rita, "P-1003", &next_pin("5120"));
    f.clock.advance(Duration::minutes(16));
    assert_eq!(f.desk.call_verified_until(&rita, &id("P-1003")).expect("status"), None);
    assert_rule(&verdict_of(&mut f, &rita, "P-1003", Request::OwnAccount), "verify_first", Rule::VerifyFirst);
}

#[test]
fn a_match_counts_only_for_the_rep_who_took_it() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let leo = f.leo();
    matched(&mut f, &rita, "S-2001", "3356");
    assert_rule(&verdict_of(&mut f, &leo, "S-2001", Request::OwnAccount), "verify_first", Rule::VerifyFirst);
    // Another process (another rep's terminal) sees the same.
    let mut other = f.another_desk();
    let v = other.decide(&leo, &id("S-2001"), &Request::OwnAccount).expect("verdict");
    assert_rule(&v, "verify_first", Rule::VerifyFirst);
    // And rita's match is for Carla only.
    assert_rule(&verdict_of(&mut f, &rita, "S-2002", Request::OwnAccount), "verify_first", Rule::VerifyFirst);
    assert_rule(&verdict_of(&mut f, &rita, "S-2001", Request::OwnAccount), "assist", Rule::OwnAccount);
}

#[test]
fn a_clock_moved_backwards_does_not_panic_or_verify_forever() {
    let mut f = Fixture::new();
    let rita = f.rita();
    matched(&mut f, &rita, "S-2001", "3356");
    f.clock.advance(-Duration::hours(3));
    assert_rule(&verdict_of(&mut f, &rita, "S-2001", Request::OwnAccount), "verify_first", Rule::VerifyFirst);
    // Work goes on with the clock behind: checks, verdicts and the chain all hold.
    matched(&mut f, &rita, "S-2002", "0071");
    assert_rule(&verdict_of(&mut f, &rita, "S-2002", Request::OwnAccount), "assist", Rule::OwnAccount);
    assert!(matches!(
        f.desk.verify_chain().expect("verify"),
        support_desk::desk::audit::ChainStatus::Intact { .. }
    ));
}

// ---- the Support PIN ----

#[test]
fn leading_zeros_are_part_of_the_pin() {
    let mut f = Fixture::new();
    let rita = f.rita();
    for wrong in ["7100", "0710", "0170", "0007"] {
        assert!(matches!(
            f.desk.check_pin(&rita, &id("S-2002"), &pin(wrong)).expect("check"),
            PinCheck::Rejected { .. }
        ));
    }
    matched(&mut f, &rita, "S-2002", "0071");
}

#[test]
fn a_match_rotates_the_pin_to_a_keyed_hash() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let before: String = f.account_column("S-2001", "pin_hash");
    assert_eq!(f.account_column::<Option<String>>("S-2001", "pin_key_id"), None, "the fixture's hashes are unkeyed");

    matched(&mut f, &rita, "S-2001", "3356");
    let after: String = f.account_column("S-2001", "pin_hash");
    assert_ne!(after, before);
    assert!(after.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "our parameters");
    assert_eq!(f.account_column::<Option<String>>("S-2001", "pin_key_id"), Some(key().id()));
    let card = f.desk.account(&id("S-2001")).expect("read").expect("exists");
    assert_eq!(card.pin_validated_at.as_deref(), Some("2031-06-09T13:05:00.000Z"));

    // A PIN is good for one validation.
    assert_eq!(
        f.desk.check_pin(&rita, &id("S-2001"), &pin("3356")).expect("check"),
        PinCheck::Rejected { attempts_left: 4 }
    );
    // The new PIN (from the PIN source, never shown at the desk) is what the holder now has.
    matched(&mut f, &rita, "S-2001", &next_pin("3356"));
}

#[test]
fn the_upgrade_of_an_unkeyed_hash_is_one_transaction_with_its_audit_event() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let before: String = f.account_column("S-2001", "pin_hash");
    // The audit event cannot be written: the rotation must not happen either.
    f.raw()
        .execute_batch(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events \
             BEGIN SELECT RAISE(ABORT, 'disk full, say'); END;",
        )
        .expect("trigger");
    match f.desk.check_pin(&rita, &id("S-2001"), &pin("3356")) {
        Err(DeskError::NotRecorded { .. }) => {}
        other => panic!("expected NotRecorded, got {other:?}"),
    }
    assert_eq!(f.account_column::<String>("S-2001", "pin_hash"), before);
    assert_eq!(f.account_column::<Option<String>>("S-2001", "pin_key_id"), None);
    assert_eq!(f.account_column::<Option<String>>("S-2001", "pin_validated_at"), None);

    f.raw().execute_batch("DROP TRIGGER refuse_audit").expect("drop");
    let head = f.head_seq();
    matched(&mut f, &rita, "S-2001", "3356");
    assert_eq!(f.kinds_after(head), ["pin_validated"]);
    assert_eq!(f.account_column::<Option<String>>("S-2001", "pin_key_id"), Some(key().id()));
}

#[test]
fn five_consecutive_failures_lock_the_pin_across_desks() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let leo = f.leo();
    let mut other = f.another_desk();
    let account = id("P-1002");
    let mut got = Vec::new();
    for i in 0..5 {
        // Alternate reps and processes: the count lives in the shared database.
        let r = if i % 2 == 0 {
            f.desk.check_pin(&rita, &account, &pin("9083"))
        } else {
            other.check_pin(&leo, &account, &pin("9081"))
        };
        got.push(r.expect("check"));
    }
    assert_eq!(got, [
        PinCheck::Rejected { attempts_left: 4 },
        PinCheck::Rejected { attempts_left: 3 },
        PinCheck::Rejected { attempts_left: 2 },
        PinCheck::Rejected { attempts_left: 1 },
        PinCheck::Locked,
    ]);
    // Even the right PIN is refused now, from any desk.
    assert_eq!(f.desk.check_pin(&rita, &account, &pin("9082")).expect("check"), PinCheck::Locked);
    assert_eq!(other.check_pin(&leo, &account, &pin("9082")).expect("check"), PinCheck::Locked);
    let card = f.desk.account(&account).expect("read").expect("exists");
    assert!(card.pin_locked);
    assert_eq!(f.account_column::<Option<String>>("P-1002", "pin_key_id"), None, "a locked PIN is not rotated");
    // A reopened desk (a restart) still sees the lock.
    drop(other);
    let mut restarted = f.another_desk();
    assert_eq!(restarted.check_pin(&leo, &account, &pin("9082")).expect("check"), PinCheck::Locked);
}

#[test]
fn a_match_resets_the_failure_count() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let a = id("S-2004");
    for left in [4, 3, 2, 1] {
        assert_eq!(f.desk.check_pin(&rita, &a, &pin("2605")).expect("check"), PinCheck::Rejected { attempts_left: left });
    }
    matched(&mut f, &rita, "S-2004", "2604");
    assert_eq!(f.account_column::<i64>("S-2004", "pin_failures"), 0);
    // (2605 is now the right PIN: the rotation's.)
    for left in [4, 3, 2, 1] {
        assert_eq!(f.desk.check_pin(&rita, &a, &pin("2603")).expect("check"), PinCheck::Rejected { attempts_left: left });
    }
    assert_eq!(f.desk.check_pin(&rita, &a, &pin("2603")).expect("check"), PinCheck::Locked);
}

#[test]
fn generating_a_new_pin_clears_the_lock() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let a = id("S-2004");
    for _ in 0..5 {
        f.desk.check_pin(&rita, &a, &pin("1111")).expect("check");
    }
    assert_eq!(f.desk.check_pin(&rita, &a, &pin("2604")).expect("check"), PinCheck::Locked);

    let new = f.desk.generate_pin(&a).expect("generate");
    assert_eq!(new.reveal_to_holder(), GENERATED_PIN);
    let card = f.desk.account(&a).expect("read").expect("exists");
    assert!(!card.pin_locked);
    assert_eq!(card.pin_failures, 0);
    // The old PIN is gone; the failure count starts over.
    assert_eq!(f.desk.check_pin(&rita, &a, &pin("2604")).expect("check"), PinCheck::Rejected { attempts_left: 4 });
    matched(&mut f, &rita, "S-2004", GENERATED_PIN);

    assert!(matches!(f.desk.generate_pin(&id("P-9999")), Err(DeskError::NotFound(_))));
}

/// The answers to six checks of `digits` against `account`.
fn six_answers(f: &mut Fixture, s: &support_desk::desk::Session, account: &str, digits: &[&str]) -> Vec<PinCheck> {
    (0..6)
        .map(|i| f.desk.check_pin(s, &id(account), &pin(digits[i % digits.len()])).expect("an answer, not an error"))
        .collect()
}

#[test]
fn an_unknown_account_and_an_account_without_a_pin_answer_like_a_wrong_pin() {
    let mut f = Fixture::new();
    let mut no_pin = demo_directory().into_iter().find(|a| a.row.id == "S-2004").expect("row").row;
    no_pin.id = "S-2998".into();
    no_pin.email = "nopin@northside.example".into();
    no_pin.pin_hash = None;
    f.desk.put_account(&no_pin).expect("put");
    let rita = f.rita();

    let wrong = six_answers(&mut f, &rita, "P-1001", &["0418", "0000"]);
    assert_eq!(wrong[..5], [
        PinCheck::Rejected { attempts_left: 4 },
        PinCheck::Rejected { attempts_left: 3 },
        PinCheck::Rejected { attempts_left: 2 },
        PinCheck::Rejected { attempts_left: 1 },
        PinCheck::Locked,
    ]);
    assert_eq!(wrong[5], PinCheck::Locked);
    // "0000" is also the PIN of the hash checked in place of a missing one: it must not match.
    assert_eq!(six_answers(&mut f, &rita, "P-9999", &["0418", "0000"]), wrong, "unknown account");
    assert_eq!(six_answers(&mut f, &rita, "S-2998", &["0418", "0000"]), wrong, "account without a PIN");
    // Unknown ids are counted one by one, not together.
    assert_eq!(
        f.desk.check_pin(&rita, &id("P-9998"), &pin("1234")).expect("check"),
        PinCheck::Rejected { attempts_left: 4 }
    );
}

#[test]
fn every_foreign_hash_validates_its_pin_and_is_rotated_to_ours() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let tsv = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/foreign-pin-hashes.tsv"))
        .expect("foreign hashes");
    let template = demo_directory().into_iter().find(|a| a.row.id == "P-1003").expect("row").row;
    let mut seen = 0;
    for (i, line) in tsv.lines().skip(1).filter(|l| !l.trim().is_empty()).enumerate() {
        let cols: Vec<&str> = line.split('\t').collect();
        let (digits, made_by, phc) = (cols[0], cols[1], cols[2]);
        let account = format!("F-{i:03}");
        let mut row = template.clone();
        row.id = account.clone();
        row.email = format!("foreign{i}@northside.example");
        row.pin_hash = Some(phc.to_string());
        f.desk.put_account(&row).expect("put");

        let wrong = next_pin(digits);
        assert_eq!(
            f.desk.check_pin(&rita, &id(&account), &pin(&wrong)).expect("check"),
            PinCheck::Rejected { attempts_left: 4 },
            "{made_by} must reject another PIN"
        );
        assert_eq!(
            f.desk.check_pin(&rita, &id(&account), &pin(digits)).expect("check"),
            PinCheck::Matched,
            "{made_by} must validate its PIN"
        );
        let stored: String = f.account_column(&account, "pin_hash");
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{made_by}: rotated to our parameters");
        assert_ne!(stored, phc);
        assert_eq!(f.account_column::<Option<String>>(&account, "pin_key_id"), Some(key().id()), "{made_by}");
        assert_eq!(
            f.desk.check_pin(&rita, &id(&account), &pin(digits)).expect("check"),
            PinCheck::Rejected { attempts_left: 4 },
            "{made_by}: good for one validation"
        );
        seen += 1;
    }
    assert_eq!(seen, 5, "every row of the cases file was tried");
}

#[test]
fn a_key_that_is_not_the_databases_stops_pin_checks_only() {
    let f = Fixture::new();
    let mut wrong_key = support_desk::desk::Desk::open_with_key(
        &f.path,
        support_desk::desk::store::OpenMode::Existing,
        support_desk::desk::pin_key::PinKey::from_bytes([1; 32]),
    )
    .expect("the database opens");
    let rita = match wrong_key.sign_in("rita", RITA_PASS).expect("sign in") {
        support_desk::desk::SignIn::SignedIn(s) => s,
        support_desk::desk::SignIn::Refused => panic!("refused"),
    };
    assert!(matches!(wrong_key.check_pin(&rita, &id("S-2001"), &pin("3356")), Err(DeskError::Key(_))));
    assert_eq!(f.account_column::<i64>("S-2001", "pin_failures"), 0, "nothing counted");
    assert!(!wrong_key.lookup("Carla", 10).expect("lookup").is_empty());
}
