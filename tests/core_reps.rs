//! Reps and leads through the public API: one answer for every failed sign-in, lockout after 5
//! consecutive failures, re-enabling, sessions that end when the rep is disabled, lead-only gates.

mod common;

use common::*;
use support_desk::desk::{DeskError, NewRep, PinCheck, Request, RepRole, SignIn};

#[test]
fn unknown_user_and_wrong_passphrase_are_refused_alike() {
    let mut f = Fixture::new();
    let answers = [
        f.desk.sign_in("rita", "rita-test-passphrasE").expect("answer"),
        f.desk.sign_in("nobody", RITA_PASS).expect("answer"),
        f.desk.sign_in("", "").expect("answer"),
        f.desk.sign_in("rita", "").expect("answer"),
        f.desk.sign_in("Rita", RITA_PASS).expect("answer"),
    ];
    assert!(answers.iter().all(|a| *a == SignIn::Refused), "{answers:?}");
    // Failures below the threshold do not stop the right passphrase.
    let rita = f.rita();
    assert_eq!(rita.username, "rita");
    assert_eq!(rita.role, RepRole::Rep);
    assert_eq!(f.leo().role, RepRole::Lead);
}

#[test]
fn five_consecutive_failures_lock_the_rep_until_re_enabled() {
    let mut f = Fixture::new();
    // Four failures, then the right passphrase: the count starts over.
    for _ in 0..4 {
        assert_eq!(f.desk.sign_in("rita", "wrong passphrase!").expect("answer"), SignIn::Refused);
    }
    f.rita();
    let start = f.head_seq();
    for _ in 0..5 {
        assert_eq!(f.desk.sign_in("rita", "wrong passphrase!").expect("answer"), SignIn::Refused);
    }
    assert_eq!(f.desk.sign_in("rita", RITA_PASS).expect("answer"), SignIn::Refused, "locked: even the right passphrase");
    // From another process too.
    let mut other = f.another_desk();
    assert_eq!(other.sign_in("rita", RITA_PASS).expect("answer"), SignIn::Refused);
    let kinds = f.kinds_after(start);
    assert_eq!(kinds.iter().filter(|k| *k == "rep_locked").count(), 1, "{kinds:?}");
    assert_eq!(kinds.iter().position(|k| k == "rep_locked"), Some(5), "locked at the 5th failure: {kinds:?}");
    let listed = f.desk.list_reps().expect("list");
    assert!(listed.iter().any(|r| r.username == "rita" && r.locked));

    // Leo is unaffected; he re-enables rita.
    let leo = f.leo();
    f.desk.set_rep_enabled("rita", true, Some(&leo)).expect("re-enable");
    let rita = f.rita();
    assert_eq!(rita.username, "rita");
    assert!(f.desk.list_reps().expect("list").iter().all(|r| !r.locked && r.failed_signins == 0));
}

#[test]
fn a_disabled_rep_is_refused_and_their_open_session_ends() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let leo = f.leo();
    f.desk.set_rep_enabled("rita", false, Some(&leo)).expect("disable");
    let start = f.head_seq();
    let failures_before: i64 = f.account_column("S-2001", "pin_failures");

    assert!(matches!(f.desk.open_card(&rita, &id("S-2001")), Err(DeskError::SessionEnded)));
    assert!(matches!(f.desk.check_pin(&rita, &id("S-2001"), &pin("3355")), Err(DeskError::SessionEnded)));
    assert!(matches!(f.desk.check_pin(&rita, &id("S-2001"), &pin("3356")), Err(DeskError::SessionEnded)));
    assert!(matches!(f.desk.decide(&rita, &id("S-2001"), &Request::OwnAccount), Err(DeskError::SessionEnded)));
    assert!(matches!(
        f.desk.unlock(&rita, &id("S-2003"), "called back on the number on file"),
        Err(DeskError::SessionEnded)
    ));
    // Nothing was decided or counted.
    assert_eq!(f.head_seq(), start);
    assert_eq!(f.account_column::<i64>("S-2001", "pin_failures"), failures_before);
    assert_eq!(f.account_column::<Option<String>>("S-2001", "pin_key_id"), None, "not rotated");
    assert!(f.desk.account(&id("S-2003")).expect("read").expect("exists").account_locked);
    // A disabled rep cannot sign in again either.
    assert_eq!(f.desk.sign_in("rita", RITA_PASS).expect("answer"), SignIn::Refused);

    // Re-enabled, the old session works again (the check is on the rep, each time).
    f.desk.set_rep_enabled("rita", true, None).expect("enable");
    assert_eq!(f.desk.check_pin(&rita, &id("S-2001"), &pin("3356")).expect("check"), PinCheck::Matched);
}

#[test]
fn a_rep_locked_out_since_sign_in_has_no_session() {
    let mut f = Fixture::new();
    let rita = f.rita();
    for _ in 0..5 {
        f.desk.sign_in("rita", "someone guessing").expect("answer");
    }
    assert!(matches!(f.desk.decide(&rita, &id("S-2001"), &Request::OwnAccount), Err(DeskError::SessionEnded)));
}

#[test]
fn lead_only_actions_are_gated_in_the_core() {
    let mut f = Fixture::new();
    let rita = f.rita();
    assert!(matches!(f.desk.set_rep_enabled("leo", false, Some(&rita)), Err(DeskError::Refused(_))));
    let new = NewRep {
        username: "mallory",
        display_name: "Mallory",
        role: RepRole::Lead,
        passphrase: "mallory-passphrase",
        account_id: None,
    };
    assert!(matches!(f.desk.add_rep(&new, Some(&rita)), Err(DeskError::Refused(_))));
    assert!(f.desk.list_reps().expect("list").iter().all(|r| r.username != "mallory" && !r.disabled));
    let leo = f.leo();
    f.desk.add_rep(&new, Some(&leo)).expect("a lead may add a rep");
}

#[test]
fn a_rep_needs_a_valid_name_and_a_long_passphrase() {
    let mut f = Fixture::new();
    let add = |f: &mut Fixture, user: &str, pass: &str, account: Option<&str>| {
        f.desk.add_rep(
            &NewRep {
                username: user,
                display_name: "Someone",
                role: RepRole::Rep,
                passphrase: pass,
                account_id: account.map(id),
            },
            None,
        )
    };
    assert!(matches!(add(&mut f, "sam", "short", None), Err(DeskError::Invalid(_))));
    assert!(matches!(add(&mut f, "Sam Smith", "long enough passphrase", None), Err(DeskError::Invalid(_))));
    assert!(matches!(add(&mut f, "rita", "long enough passphrase", None), Err(DeskError::Invalid(_))));
    assert!(matches!(add(&mut f, "sam", "long enough passphrase", Some("P-9999")), Err(DeskError::NotFound(_))));
    add(&mut f, "sam", "long enough passphrase", Some("S-2004")).expect("valid");
    let sam = f.sign_in("sam", "long enough passphrase");
    assert_eq!(sam.account_id, Some(id("S-2004")));
}
