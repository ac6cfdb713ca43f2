//! Black-box tests of the administration commands: import, policy set, pin unlock, rep
//! passphrase, key check / rotate / prune, backup, completions, man and --version.

mod cli_support;

use cli_support::{BIN, Demo as Desk, LEO, RITA, Run};
use std::process::Command;
use std::path::{Path, PathBuf};

const EXPORT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/directory-spreadsheet-export.csv");

impl Desk {
    /// A new empty database with the lead leo.
    fn init() -> Desk {
        let d = Desk::empty();
        let r = d.run_env(&["init", "--lead", "leo", "--name", "Leo Brandt"], &[("SUPPORT_DESK_PASSPHRASE", LEO)], None);
        assert_eq!(r.code, 0, "{r:?}");
        d
    }

    fn as_rep(&self, args: &[&str], pass: &str, stdin: Option<&str>) -> Run {
        self.run_env(args, &[("SUPPORT_DESK_PASSPHRASE", pass)], stdin)
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let r = self.run_env(args, &[], None);
        assert_eq!(r.code, 0, "{r:?}");
        serde_json::from_str(&r.stdout).expect("JSON")
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn import_reports_counts_without_progress_when_redirected() {
    let d = Desk::init();
    let r = d.run_env(&["import", EXPORT], &[], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("added 16, updated 0, unchanged 0, removed from source 0"), "{}", r.stdout);
    assert!(!r.stderr.contains("rows/s") && !r.stderr.contains('\r'), "no progress when stderr is not a terminal: {:?}", r.stderr);
    // Lists and JSON show the right-to-left override escaped, never raw.
    let r = d.run_env(&["lookup", "Evil"], &[], None);
    assert!(r.stdout.contains("Evil\\u{202E}NAME 4321") && !r.stdout.contains('\u{202E}'), "{}", r.stdout);
    let r = d.run_env(&["lookup", "Evil", "--json"], &[], None);
    assert!(r.stdout.contains("\\u202e") && !r.stdout.contains('\u{202E}'), "{}", r.stdout);
    let again = d.json(&["import", EXPORT, "--json"]);
    assert_eq!((again["unchanged"].as_u64(), again["added"].as_u64()), (Some(16), Some(0)));
    assert!(!again.to_string().contains("argon2"), "no hash in any report");
}

#[test]
fn a_bad_file_is_refused_with_every_problem_and_exit_2() {
    let d = Desk::init();
    let bad = d.file(
        "bad.csv",
        "account_id,role,name,email,phone,practice,primary_provider,pin_hash\n\
         P-1,provider,Dr. One,a@x.example,1,Clinic,,0427\n\
         S-1,staff,Staff,b@x.example,2,Clinic,P-9,\n\
         P-2,provider,Dr. Two,c@x.example,3,Clinic,,\n",
    );
    let before = d.json(&["audit", "list", "--json", "--limit", "1000"]).as_array().map(Vec::len);
    let r = d.run_env(&["import", s(&bad)], &[], None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.contains("line 2, column 8 (pin_hash) [P-1]: holds digits"), "{}", r.stdout);
    assert!(r.stdout.contains("line 3, column 7 (primary_provider) [S-1]"), "{}", r.stdout);
    assert!(r.stdout.contains("--skip-bad"), "{}", r.stdout);
    assert!(!r.stdout.contains("0427") && !r.stderr.contains("0427"), "the plaintext PIN is never repeated");
    let after = d.json(&["audit", "list", "--json", "--limit", "1000"]).as_array().map(Vec::len);
    assert_eq!(before, after, "nothing recorded");
    let dry = d.run_env(&["import", s(&bad), "--dry-run", "--skip-bad"], &[], None);
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(dry.stdout.contains("Dry run") && dry.stdout.contains("added 1"), "{}", dry.stdout);
    let r = d.run_env(&["import", s(&bad), "--skip-bad"], &[], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("added 1") && r.stdout.contains("skipped 2"), "{}", r.stdout);
}

#[test]
fn policy_set_is_for_leads_within_bounds() {
    let d = Desk::new();
    let r = d.as_rep(&["policy", "set", "pin_lockout_threshold", "3", "--rep", "rita"], RITA, None);
    assert_eq!(r.code, 4, "a rep is refused: {r:?}");
    let r = d.as_rep(&["policy", "set", "pin_lockout_threshold", "11", "--rep", "leo"], LEO, None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("between 1 and 10"), "{}", r.stderr);
    let r = d.as_rep(&["policy", "set", "no_such", "3", "--rep", "leo"], LEO, None);
    assert_eq!(r.code, 2, "{r:?}");
    let r = d.as_rep(&["policy", "set", "pin_lockout_threshold", "3", "--rep", "leo"], LEO, None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("pin_lockout_threshold: 5 -> 3"), "{}", r.stdout);
    let policy = d.json(&["policy", "--json"]);
    assert_eq!(policy["version"].as_i64(), Some(2));
    let value = policy["values"].as_array().expect("values").iter().find(|v| v["name"] == "pin_lockout_threshold").cloned();
    assert_eq!(value.and_then(|v| v["value"].as_i64()), Some(3));
    let events = d.json(&["audit", "list", "--json", "--kind", "policy_changed"]);
    assert_eq!(events[0]["detail"].as_str(), Some("pin_lockout_threshold: 5 -> 3 (policy version 2)"));
}

#[test]
fn pin_unlock_by_a_lead_only() {
    let d = Desk::new();
    for _ in 0..5 {
        d.as_rep(&["pin", "check", "S-2001", "--rep", "rita"], RITA, Some("9999\n"));
    }
    let r = d.as_rep(&["pin", "check", "S-2001", "--rep", "rita"], RITA, Some("3356\n"));
    assert_eq!(r.code, 3, "locked: {r:?}");
    let r = d.as_rep(&["pin", "unlock", "S-2001", "--rep", "rita", "--reason", "holder called back on file"], RITA, None);
    assert_eq!(r.code, 4, "{r:?}");
    let r = d.as_rep(&["pin", "unlock", "S-2001", "--rep", "leo", "--reason", "short"], LEO, None);
    assert_eq!(r.code, 2, "{r:?}");
    let r = d.as_rep(&["pin", "unlock", "S-2001", "--rep", "leo", "--reason", "holder called back on file"], LEO, None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("lock of S-2001 cleared"), "{}", r.stdout);
    let r = d.as_rep(&["pin", "check", "S-2001", "--rep", "rita"], RITA, Some("3356\n"));
    assert_eq!(r.code, 0, "the right PIN matches again: {r:?}");
    let events = d.json(&["audit", "list", "--json", "--kind", "pin_lock_cleared"]);
    let events = events.as_array().expect("events");
    assert_eq!(events.len(), 2, "{events:?}");
    let (refused, cleared) = if events[0]["outcome"] == "ok" { (&events[1], &events[0]) } else { (&events[0], &events[1]) };
    assert_eq!(cleared["detail"].as_str(), Some("holder called back on file"));
    assert_eq!(cleared["rep"].as_str(), Some("leo"));
    // rita's attempt is in the trail too: refused, hers, on S-2001.
    assert_eq!(
        (refused["rep"].as_str(), refused["account_id"].as_str(), refused["outcome"].as_str(), refused["reason"].as_str()),
        (Some("rita"), Some("S-2001"), Some("refused"), Some("not_a_lead"))
    );
}

#[test]
fn a_reps_own_pin_check_and_audit_export_are_refused_and_audited() {
    let d = Desk::new();
    let add = d.as_rep(&["rep", "add", "dev", "--name", "Dev Patel", "--role", "rep", "--account", "S-2002"], "devs-long-passphrase", None);
    assert_eq!(add.code, 0, "{add:?}");
    let r = d.as_rep(&["pin", "check", "S-2002", "--rep", "dev"], "devs-long-passphrase", Some("0071\n"));
    assert_eq!(r.code, 4, "{r:?}");
    assert!(!r.all().contains("0071"), "{r:?}");
    let events = d.json(&["audit", "list", "--json", "--kind", "pin_rejected"]);
    let mine: Vec<&serde_json::Value> = events.as_array().expect("events").iter().filter(|e| e["rep"] == "dev").collect();
    assert_eq!(mine.len(), 1, "{events}");
    assert_eq!((mine[0]["account_id"].as_str(), mine[0]["outcome"].as_str(), mine[0]["reason"].as_str()), (Some("S-2002"), Some("refused"), Some("rep_own_account")));
    // The PIN was not checked: no failure counted, and it still matches for another rep.
    let r = d.as_rep(&["pin", "check", "S-2002", "--rep", "rita"], RITA, Some("0071\n"));
    assert_eq!(r.code, 0, "{r:?}");

    let out = d.dir.path().join("trail.jsonl");
    let r = d.as_rep(&["audit", "export", "--format", "jsonl", "--rep", "rita", "--out", out.to_str().expect("utf-8")], RITA, None);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(r.stderr.contains("only a lead"), "{r:?}");
    assert!(!out.exists(), "a refused export leaves no empty file behind");
    let events = d.json(&["audit", "list", "--json", "--kind", "audit_exported"]);
    let events = events.as_array().expect("events");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0]["rep"].as_str(), events[0]["outcome"].as_str()), (Some("rita"), Some("refused")));
}

#[test]
fn a_review_note_with_a_pin_in_it_is_refused_and_records_nothing() {
    let d = Desk::new();
    let count = || d.json(&["audit", "list", "--json", "--kind", "audit_reviewed"]).as_array().map(Vec::len);
    let before = count();
    let r = d.as_rep(&["audit", "review", "--rep", "leo", "--note", "caller S-2001 PIN was 3356"], LEO, None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("never written down") && !r.all().contains("3356"), "{r:?}");
    assert_eq!(count(), before, "no review was recorded");
    let r = d.as_rep(&["audit", "review", "--rep", "leo", "--note", "S-2001 looked at; fine"], LEO, None);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(count(), before.map(|n| n + 1));
}

#[test]
fn rep_passphrase_resets_from_the_environment_never_argv() {
    let d = Desk::new();
    let r = d.run_env(&["rep", "passphrase", "rita", "a-brand-new-passphrase"], &[], None);
    assert_eq!(r.code, 2, "a passphrase on the command line is refused: {r:?}");
    assert!(!r.stderr.contains("a-brand-new-passphrase"), "{}", r.stderr);
    let r = d.run_env(&["rep", "passphrase", "nobody"], &[("SUPPORT_DESK_PASSPHRASE", "a-brand-new-passphrase")], None);
    assert_eq!(r.code, 5, "{r:?}");
    let r = d.run_env(&["rep", "passphrase", "rita"], &[("SUPPORT_DESK_PASSPHRASE", "a-brand-new-passphrase")], None);
    assert_eq!(r.code, 0, "{r:?}");
    let r = d.as_rep(&["pin", "check", "S-2001", "--rep", "rita"], RITA, Some("3356\n"));
    assert_eq!(r.code, 4, "the old passphrase is gone: {r:?}");
    let r = d.as_rep(&["pin", "check", "S-2001", "--rep", "rita"], "a-brand-new-passphrase", Some("3356\n"));
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn key_check_rotate_and_a_key_that_does_not_belong() {
    let d = Desk::new();
    // A keyed hash, so the database records its key.
    assert_eq!(d.as_rep(&["pin", "check", "S-2001", "--rep", "rita"], RITA, Some("3356\n")).code, 0);
    let r = d.run_env(&["key", "check"], &[], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("ok: the database and the key file belong together"), "{}", r.stdout);
    let r = d.run_env(&["key", "rotate"], &[], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("old keys kept: ") && !r.stdout.contains("kept: none"), "{}", r.stdout);
    let status = d.json(&["key", "check", "--json"]);
    assert_eq!(status["key_file_ids"].as_array().map(Vec::len), Some(2));
    assert_eq!(status["belongs"], true);
    // The rotated hash of S-2001 (made with the old key) still matches and is re-keyed: the old key
    // can go.
    let next = "3357\n";
    assert_eq!(d.as_rep(&["pin", "check", "S-2001", "--rep", "rita"], RITA, Some(next)).code, 1, "a wrong PIN is still wrong");
    let r = d.run_env(&["key", "prune"], &[], None);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("no old key to drop"), "S-2001 still uses the old key: {}", r.stdout);
    // A key that does not belong: exit 6, named.
    let foreign = "11".repeat(32);
    let r = d.run_env(&["key", "check"], &[("SUPPORT_DESK_KEY", foreign.as_str())], None);
    assert_eq!(r.code, 6, "{r:?}");
    assert!(r.stdout.contains("does not belong"), "{}", r.stdout);
    assert!(!r.stdout.contains("key prune"), "a foreign key file's only key is not an old key to drop: {}", r.stdout);
    let r = d.run_env(&["key", "rotate"], &[("SUPPORT_DESK_KEY", foreign.as_str())], None);
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn backup_writes_a_private_copy_that_checks_clean() {
    let d = Desk::new();
    let copy = d.dir.path().join("copy.sqlite");
    let r = d.run_env(&["backup", s(&copy)], &[], None);
    assert_eq!(r.code, 0, "{r:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&copy).expect("copy").permissions().mode() & 0o777, 0o600);
    }
    let check = Command::new(BIN).args(["--db", s(&copy), "check"]).output().expect("check");
    assert_eq!(check.status.code(), Some(0), "{}", String::from_utf8_lossy(&check.stdout));
    let r = d.run_env(&["backup", s(&copy)], &[], None);
    assert_eq!(r.code, 2, "never over an existing file: {r:?}");
}

#[test]
fn completions_man_page_and_version_come_from_the_clap_definitions() {
    let d = Desk::new();
    let r = d.run_env(&["completions", "bash"], &[], None);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("support-desk") && r.stdout.contains("import"), "{}", &r.stdout[..200.min(r.stdout.len())]);
    let r = d.run_env(&["man"], &[], None);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains(".TH") && r.stdout.contains("import"), "{}", &r.stdout[..200.min(r.stdout.len())]);
    let r = d.run_env(&["--version"], &[], None);
    assert_eq!(r.code, 0);
    let want = format!("support-desk {} (database schema {})", env!("CARGO_PKG_VERSION"), support_desk::desk::store::SCHEMA_VERSION);
    assert_eq!(r.stdout.trim(), want);
}
