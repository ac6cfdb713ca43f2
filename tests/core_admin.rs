//! Running the desk: policy values within their bounds, a lead clearing a locked Support PIN (and a
//! rep refused), passphrase resets, key rotation with old-key hashes re-keyed at their next match,
//! `key check` on a key that does not belong, and backups of a live database.

mod common;

use common::*;
use support_desk::desk::admin::POLICY_BOUNDS;
use support_desk::desk::pin_key::PinKey;
use support_desk::desk::store::OpenMode;
use support_desk::desk::{Desk, DeskError, PinCheck, RepRole, Request, SignIn};

fn lock(f: &mut Fixture, account: &str) {
    let rita = f.rita();
    for _ in 0..5 {
        f.desk.check_pin(&rita, &id(account), &pin("9999")).expect("check");
    }
    assert!(f.account_column::<bool>(account, "pin_locked"));
}

fn detail_of_last(f: &Fixture, kind: &str) -> (Option<String>, Option<String>, Option<i64>) {
    f.raw()
        .query_row(
            "SELECT rep, detail, policy_version FROM audit_events WHERE kind = ?1 ORDER BY seq DESC LIMIT 1",
            [kind],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("an event of that kind")
}

#[test]
fn policy_values_change_within_bounds_and_each_change_is_audited() {
    let mut f = Fixture::new();
    let leo = f.leo();
    let before = f.desk.policy().expect("policy");
    let change = f.desk.set_policy(&leo, "pin_lockout_threshold", 3).expect("set");
    assert_eq!((change.old, change.new, change.version), (5, 3, before.version + 1));
    let after = f.desk.policy().expect("policy");
    assert_eq!((after.pin_lockout_threshold, after.version), (3, before.version + 1));
    let (rep, detail, version) = detail_of_last(&f, "policy_changed");
    assert_eq!(rep.as_deref(), Some("leo"));
    assert_eq!(detail.as_deref(), Some("pin_lockout_threshold: 5 -> 3 (policy version 2)"));
    assert_eq!(version, Some(after.version));
    // The new threshold is in force, and verdicts record the version they used.
    let rita = f.rita();
    for _ in 0..2 {
        f.desk.check_pin(&rita, &id("S-2001"), &pin("9999")).expect("check");
    }
    assert_eq!(f.desk.check_pin(&rita, &id("S-2001"), &pin("9999")).expect("check"), PinCheck::Locked);
    let shown = f.desk.decide(&rita, &id("P-1001"), &Request::OwnAccount).expect("verdict");
    assert_eq!(shown.policy_version, after.version);
}

#[test]
fn policy_bounds_are_enforced_and_nothing_changes_outside_them() {
    let mut f = Fixture::new();
    let leo = f.leo();
    let seq = f.head_seq();
    for bound in POLICY_BOUNDS {
        for bad in [bound.min - 1, bound.max + 1, i64::MIN, i64::MAX] {
            match f.desk.set_policy(&leo, bound.name, bad) {
                Err(DeskError::Invalid(why)) => assert!(why.contains("out of bounds"), "{why}"),
                other => panic!("{} = {bad}: {other:?}", bound.name),
            }
        }
    }
    // The lockout threshold can never exceed 10.
    let lockout = POLICY_BOUNDS.iter().find(|b| b.name == "pin_lockout_threshold").expect("bound");
    assert_eq!(lockout.max, 10);
    assert!(matches!(f.desk.set_policy(&leo, "pin_lockout_threshold", 11), Err(DeskError::Invalid(_))));
    assert!(matches!(f.desk.set_policy(&leo, "no_such_value", 1), Err(DeskError::Invalid(_))));
    assert!(matches!(f.desk.set_policy(&leo, "pin_lockout_threshold", 5), Err(DeskError::Invalid(_))), "same value");
    // Every bound itself is accepted.
    for bound in POLICY_BOUNDS {
        f.desk.set_policy(&leo, bound.name, bound.max).expect("max");
        f.desk.set_policy(&leo, bound.name, bound.min).expect("min");
    }
    assert_eq!(f.desk.policy().expect("policy").version, 1 + 2 * POLICY_BOUNDS.len() as i64);
    assert_eq!(f.kinds_after(seq).iter().filter(|k| *k == "policy_changed").count(), 2 * POLICY_BOUNDS.len());
    // A rep may not change policy: refused in the core, nothing changed, and the attempt audited.
    let rita = f.rita();
    let before = f.desk.policy().expect("policy");
    let seq = f.head_seq();
    assert!(matches!(f.desk.set_policy(&rita, "idle_timeout_minutes", 30), Err(DeskError::Refused(_))));
    assert_eq!(f.desk.policy().expect("policy"), before);
    let (kind, rep, outcome): (String, String, String) = f
        .raw()
        .query_row("SELECT kind, rep, outcome FROM audit_events WHERE seq > ?1", [seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("one refusal event");
    assert_eq!((kind.as_str(), rep.as_str(), outcome.as_str()), ("policy_changed", "rita", "refused"));
}

#[test]
fn a_lead_clears_a_locked_pin_with_a_reason_and_a_rep_is_refused() {
    let mut f = Fixture::new();
    lock(&mut f, "S-2001");
    let rita = f.rita();
    let seq = f.head_seq();
    match f.desk.clear_pin_lock(&rita, &id("S-2001"), "caller verified by call-back") {
        Err(DeskError::Refused(why)) => assert!(why.contains("lead"), "{why}"),
        other => panic!("a rep must be refused: {other:?}"),
    }
    assert!(f.account_column::<bool>("S-2001", "pin_locked"), "still locked");
    assert_eq!(f.events_after(seq), [(
        "pin_lock_cleared".to_string(),
        Some("S-2001".to_string()),
        "refused".to_string(),
        Some("not_a_lead".to_string())
    )], "the refusal is recorded, nothing else");
    let (rep, detail, _) = detail_of_last(&f, "pin_lock_cleared");
    assert_eq!(rep.as_deref(), Some("rita"));
    assert!(detail.as_deref().is_some_and(|d| d.starts_with("not cleared: only a lead")), "{detail:?}");
    let leo = f.leo();
    let seq = f.head_seq();
    assert!(matches!(f.desk.clear_pin_lock(&leo, &id("S-2001"), "short"), Err(DeskError::Invalid(_))));
    assert!(matches!(f.desk.clear_pin_lock(&leo, &id("S-2001"), "two\nlines of reason"), Err(DeskError::Invalid(_))));
    assert!(matches!(f.desk.clear_pin_lock(&leo, &id("S-9999"), "holder called back"), Err(DeskError::NotFound(_))));
    assert_eq!(f.head_seq(), seq);
    assert!(f.desk.clear_pin_lock(&leo, &id("S-2001"), "holder identified by call-back on file").expect("clear"));
    assert!(!f.account_column::<bool>("S-2001", "pin_locked"));
    assert_eq!(f.account_column::<i64>("S-2001", "pin_failures"), 0);
    let (rep, detail, _) = detail_of_last(&f, "pin_lock_cleared");
    assert_eq!((rep.as_deref(), detail.as_deref()), (Some("leo"), Some("holder identified by call-back on file")));
    // Not locked any more: nothing to clear, nothing recorded.
    let seq = f.head_seq();
    assert!(!f.desk.clear_pin_lock(&leo, &id("S-2001"), "holder identified again").expect("clear"));
    assert_eq!(f.head_seq(), seq);
    // The right PIN works again.
    let rita = f.rita();
    assert_eq!(f.desk.check_pin(&rita, &id("S-2001"), &pin("3356")).expect("check"), PinCheck::Matched);
}

#[test]
fn a_lead_never_clears_the_lock_on_their_own_account() {
    let mut f = Fixture::new();
    f.add_rep("lena", "Lena Sato", RepRole::Lead, LEO_PASS, Some("P-1003"));
    lock(&mut f, "P-1003");
    let lena = f.sign_in("lena", LEO_PASS);
    let seq = f.head_seq();
    assert!(matches!(
        f.desk.clear_pin_lock(&lena, &id("P-1003"), "it is me, really"),
        Err(DeskError::Refused(_))
    ));
    assert!(f.account_column::<bool>("P-1003", "pin_locked"));
    assert_eq!(f.events_after(seq), [(
        "pin_lock_cleared".to_string(),
        Some("P-1003".to_string()),
        "refused".to_string(),
        Some("lead_own_account".to_string())
    )]);
}

#[test]
fn a_passphrase_reset_replaces_the_old_one_and_clears_a_sign_in_lockout() {
    let mut f = Fixture::new();
    for _ in 0..5 {
        assert_eq!(f.desk.sign_in("rita", "wrong passphrase!").expect("sign in"), SignIn::Refused);
    }
    assert_eq!(f.desk.sign_in("rita", RITA_PASS).expect("sign in"), SignIn::Refused, "locked");
    assert!(matches!(f.desk.reset_passphrase("rita", "short", None), Err(DeskError::Invalid(_))));
    assert!(matches!(f.desk.reset_passphrase("nobody", "a long new passphrase", None), Err(DeskError::NotFound(_))));
    f.desk.reset_passphrase("rita", "rita-brand-new-passphrase", None).expect("reset");
    assert_eq!(f.desk.sign_in("rita", RITA_PASS).expect("sign in"), SignIn::Refused, "the old one is gone");
    assert!(matches!(f.desk.sign_in("rita", "rita-brand-new-passphrase").expect("sign in"), SignIn::SignedIn(_)));
    let (_, detail, _) = detail_of_last(&f, "rep_passphrase_reset");
    let detail = detail.expect("detail");
    assert!(detail.contains("rita") && !detail.contains("brand-new"), "{detail}");
    // A rep may not reset another's passphrase.
    let rita = f.sign_in("rita", "rita-brand-new-passphrase");
    assert!(matches!(f.desk.reset_passphrase("leo", "leo-stolen-passphrase", Some(&rita)), Err(DeskError::Refused(_))));
}

fn write_key_file(f: &Fixture) -> std::path::PathBuf {
    let path = PinKey::default_path(&f.path);
    key().save_new(&path).expect("key file");
    path
}

fn open_ring(f: &Fixture, key_file: &std::path::Path) -> Desk {
    Desk::open_with_keys(&f.path, OpenMode::Existing, PinKey::load_ring_file(key_file).expect("ring"))
        .expect("open")
        .with_clock(f.clock.clone())
        .with_pin_source(pin_source())
}

#[test]
fn after_key_rotation_old_key_hashes_verify_and_are_rekeyed_at_their_next_match() {
    let mut f = Fixture::new();
    let key_file = write_key_file(&f);
    // S-2001's hash becomes keyed with the first key; P-1001 stays unkeyed (as imported).
    let rita = f.rita();
    assert_eq!(f.desk.check_pin(&rita, &id("S-2001"), &pin("3356")).expect("check"), PinCheck::Matched);
    let old_id = key().id();
    assert_eq!(f.account_column::<Option<String>>("S-2001", "pin_key_id"), Some(old_id.clone()));
    let mut admin = open_ring(&f, &key_file);
    let seq = f.head_seq();
    let rotation = admin.rotate_key(&key_file).expect("rotate");
    assert_eq!(rotation.old_key_id, old_id);
    assert_ne!(rotation.new_key_id, old_id);
    assert_eq!(rotation.kept_old_keys, std::slice::from_ref(&old_id), "S-2001 still needs the old key");
    assert_eq!(rotation.hashes_to_rekey, 8);
    assert_eq!(f.kinds_after(seq), ["key_rotated"]);
    let ring = PinKey::load_ring_file(&key_file).expect("ring");
    assert_eq!(ring.iter().map(PinKey::id).collect::<Vec<_>>(), [rotation.new_key_id.clone(), old_id.clone()]);
    // A desk started before the rotation refuses rather than writing an old-key hash or counting
    // a failure it cannot judge.
    let rita = f.rita();
    assert!(matches!(f.desk.check_pin(&rita, &id("S-2001"), &pin(&next_pin("3356"))), Err(DeskError::Key(_))));
    // A desk started after it: the old-key hash verifies and is re-keyed.
    let mut desk = open_ring(&f, &key_file);
    let status = desk.key_status().expect("status");
    assert!(status.healthy(), "{status:?}");
    let old_use = status.uses.iter().find(|u| u.key_id.as_deref() == Some(old_id.as_str())).expect("old key use");
    assert_eq!((old_use.hashes, old_use.current, old_use.in_key_file), (1, false, true));
    let rita = match desk.sign_in("rita", RITA_PASS).expect("sign in") {
        SignIn::SignedIn(s) => s,
        SignIn::Refused => panic!("refused"),
    };
    assert_eq!(desk.check_pin(&rita, &id("S-2001"), &pin("9999")).expect("check"), PinCheck::Rejected { attempts_left: 4 });
    assert_eq!(desk.check_pin(&rita, &id("S-2001"), &pin(&next_pin("3356"))).expect("check"), PinCheck::Matched);
    assert_eq!(f.account_column::<Option<String>>("S-2001", "pin_key_id"), Some(rotation.new_key_id.clone()));
    // Unkeyed hashes go straight to the new key too.
    assert_eq!(desk.check_pin(&rita, &id("P-1001"), &pin("0417")).expect("check"), PinCheck::Matched);
    assert_eq!(f.account_column::<Option<String>>("P-1001", "pin_key_id"), Some(rotation.new_key_id.clone()));
    // No hash uses the old key any more: prune drops it.
    let status = desk.key_status().expect("status");
    assert_eq!(status.unused_old_keys, std::slice::from_ref(&old_id));
    assert_eq!(desk.prune_keys(&key_file).expect("prune"), [old_id]);
    assert_eq!(PinKey::load_ring_file(&key_file).expect("ring").len(), 1);
    assert!(open_ring(&f, &key_file).key_status().expect("status").healthy());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn key_check_names_a_key_that_does_not_belong() {
    let mut f = Fixture::new();
    let rita = f.rita();
    f.desk.check_pin(&rita, &id("S-2001"), &pin("3356")).expect("check");
    let good = f.desk.key_status().expect("status");
    assert!(good.healthy() && good.belongs);
    let stranger = Desk::open_with_key(&f.path, OpenMode::Existing, PinKey::from_bytes([9; 32])).expect("open");
    let status = stranger.key_status().expect("status");
    assert!(!status.belongs && !status.healthy(), "{status:?}");
    assert_eq!(status.database_key_id, Some(key().id()));
    assert_eq!(status.orphaned_hashes, 1, "S-2001's keyed hash cannot be checked with this key file");
    let mut stranger = stranger;
    let session = match stranger.sign_in("rita", RITA_PASS).expect("sign in") {
        SignIn::SignedIn(s) => s,
        SignIn::Refused => panic!("refused"),
    };
    match stranger.check_pin(&session, &id("S-2002"), &pin("0071")) {
        Err(DeskError::Key(why)) => assert!(why.contains("does not belong"), "{why}"),
        other => panic!("a foreign key must refuse checks: {other:?}"),
    }
}

#[test]
fn a_backup_is_a_consistent_private_copy_and_never_overwrites() {
    let mut f = Fixture::new();
    let rita = f.rita();
    f.desk.check_pin(&rita, &id("S-2001"), &pin("3356")).expect("check");
    let copy = f.dir.path().join("copy.sqlite");
    let pages = f.desk.backup_to(&copy).expect("backup");
    assert!(pages > 0);
    let events: i64 = raw(&copy).query_row("SELECT count(*) FROM audit_events", [], |r| r.get(0)).expect("count");
    assert_eq!(events, f.head_seq());
    let reopened = Desk::open_with_key(&copy, OpenMode::Existing, key()).expect("the copy opens");
    assert!(matches!(reopened.verify_chain().expect("verify"), support_desk::desk::audit::ChainStatus::Intact { .. }));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&copy).expect("meta").permissions().mode() & 0o777, 0o600);
    }
    assert!(matches!(f.desk.backup_to(&copy), Err(DeskError::Invalid(_))), "an existing file is refused");
}

#[test]
fn a_lowered_lockout_threshold_locks_a_run_of_failures_already_past_it() {
    let mut f = Fixture::new();
    let leo = f.leo();
    let rita = f.rita();
    f.desk.set_policy(&leo, "pin_lockout_threshold", 10).expect("set");
    for _ in 0..4 {
        f.desk.check_pin(&rita, &id("P-1001"), &pin("9999")).expect("check");
    }
    f.desk.set_policy(&leo, "pin_lockout_threshold", 2).expect("set");
    let start = f.head_seq();
    // Four failures against a threshold of two: even the right PIN is refused, and the lock stays.
    assert_eq!(f.desk.check_pin(&rita, &id("P-1001"), &pin("0417")).expect("check"), PinCheck::Locked);
    assert_eq!(f.kinds_after(start), ["pin_locked", "pin_rejected"]);
    assert!(f.account_column::<bool>("P-1001", "pin_locked"));
    let (_, detail, _) = detail_of_last(&f, "pin_locked");
    assert_eq!(detail.as_deref(), Some("4 consecutive failures reach the lockout threshold of 2"));
}
