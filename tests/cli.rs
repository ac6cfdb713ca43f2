//! Black-box tests of the `support-desk` command line: the real binary, a working copy of the
//! example database in its own temporary directory per test.

mod cli_support;

use cli_support::{Demo, LEO, RITA, Run, run_in};
use std::process::Command;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

impl Demo {
    /// `pin check ACCOUNT --rep REP` with `line` on stdin.
    fn pin_check(&self, account: &str, rep: &str, pass: &str, line: &str) -> Run {
        self.run(&["pin", "check", account, "--rep", rep], Some(pass), Some(line))
    }

    fn verdict(&self, args: &[&str]) -> Run {
        let mut all = vec!["verdict", "--rep", "rita"];
        all.extend_from_slice(args);
        self.run(&all, Some(RITA), None)
    }

    fn audit_json(&self, extra: &[&str]) -> Vec<serde_json::Value> {
        let mut args = vec!["audit", "list", "--json"];
        if !extra.contains(&"--limit") {
            args.extend_from_slice(&["--limit", "100000"]);
        }
        args.extend_from_slice(extra);
        let r = self.run(&args, None, None);
        assert_eq!(r.code, 0, "{r:?}");
        serde_json::from_str(&r.stdout).expect("audit list --json is JSON")
    }

    fn event_count(&self) -> usize {
        self.audit_json(&[]).len()
    }
}

fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("support-desk.sqlite.example")
}

fn sha256_of(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).expect("read file")))
}

#[cfg(unix)]
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

/// True when `pin` appears in `text` as a token of its own (not inside a longer run of letters
/// or digits, such as a hex chain hash or a phone number).
fn contains_pin_token(text: &str, pin: &str) -> bool {
    text.match_indices(pin).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + pin.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric()) && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

fn has_sqlite3() -> bool {
    let found = Command::new("sqlite3").arg("-version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "sqlite3 is required in CI (apt-get install sqlite3)");
        eprintln!("note: sqlite3 is not installed; skipping the tamper test");
    }
    found
}

#[test]
fn pin_check_matches_a_leading_zero_pin_once_then_rotates() {
    let d = Demo::new();
    let matched = d.pin_check("S-2002", "rita", RITA, "0071\n");
    assert_eq!((matched.code, matched.stdout.as_str()), (0, "matched\n"), "{matched:?}");
    // The match rotated the PIN: the same digits now fail.
    let again = d.pin_check("S-2002", "rita", RITA, "0071\n");
    assert_eq!((again.code, again.stdout.as_str()), (1, "did not match (4 attempts left)\n"), "{again:?}");
    let json = d.run(&["pin", "check", "S-2002", "--rep", "rita", "--json"], Some(RITA), Some("0071\n"));
    assert_eq!(json.code, 1);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(v["result"], "rejected");
    assert_eq!(v["attempts_left"], 3);
}

#[test]
fn pin_input_that_is_not_four_digits_is_refused_and_records_nothing() {
    let d = Demo::new();
    let before = d.event_count();
    for line in ["71\n", "0071x\n", "00710\n", "\n", "", "twelve\n", "００７１\n"] {
        let r = d.pin_check("S-2002", "rita", RITA, line);
        assert_eq!(r.code, 2, "{line:?} gave {r:?}");
        assert!(r.stderr.contains("Support PIN"), "{r:?}");
        assert!(!r.all().contains("0071"), "the input is never repeated: {r:?}");
    }
    assert_eq!(d.event_count(), before, "bad input recorded nothing");
    // The leading zeros are significant and nothing above counted as a failure.
    let r = d.pin_check("S-2002", "rita", RITA, "0071\r\n");
    assert_eq!((r.code, r.stdout.as_str()), (0, "matched\n"), "{r:?}");
}

#[test]
fn argv_never_takes_a_pin() {
    let d = Demo::new();
    let before = d.event_count();
    let positional = d.run(&["pin", "check", "S-2002", "0071", "--rep", "rita"], Some(RITA), Some("0071\n"));
    assert_eq!(positional.code, 2, "{positional:?}");
    assert!(positional.stderr.contains("never on the command line"), "{positional:?}");
    let flag = d.run(&["pin", "check", "S-2002", "--rep", "rita", "--pin", "0071"], Some(RITA), Some("0071\n"));
    assert_eq!(flag.code, 2, "{flag:?}");
    let flag_eq = d.run(&["pin", "check", "S-2002", "--rep", "rita", "--pin=0071"], Some(RITA), None);
    assert_eq!(flag_eq.code, 2, "{flag_eq:?}");
    for r in [&positional, &flag, &flag_eq] {
        assert!(!r.all().contains("0071"), "a PIN on the command line is not repeated: {r:?}");
    }
    assert_eq!(d.event_count(), before, "nothing was recorded");
    // The PIN was never used: it still matches.
    assert_eq!(d.pin_check("S-2002", "rita", RITA, "0071\n").code, 0);
}

#[test]
fn lockout_at_exactly_five_across_two_concurrent_processes() {
    let d = Demo::new();
    // Two OS processes at a time, two reps, each submitting wrong PINs for Zoë (S-2004, PIN 2604).
    let d = &d;
    let results: Vec<Run> = std::thread::scope(|s| {
        let a = s.spawn(move || (0..3).map(|_| d.pin_check("S-2004", "rita", RITA, "1111\n")).collect::<Vec<_>>());
        let b = s.spawn(move || (0..3).map(|_| d.pin_check("S-2004", "leo", LEO, "9999\n")).collect::<Vec<_>>());
        let mut all = a.join().expect("thread a");
        all.extend(b.join().expect("thread b"));
        all
    });
    let mut left: Vec<String> = Vec::new();
    let mut locked = 0;
    for r in &results {
        assert!(!r.all().contains("database is locked"), "{r:?}");
        match r.code {
            1 => left.push(r.stdout.clone()),
            3 => {
                assert_eq!(r.stdout, "locked\n");
                locked += 1;
            }
            _ => panic!("unexpected result {r:?}"),
        }
    }
    left.sort();
    assert_eq!(
        left,
        vec![
            "did not match (1 attempt left)\n",
            "did not match (2 attempts left)\n",
            "did not match (3 attempts left)\n",
            "did not match (4 attempts left)\n",
        ],
        "four failures counted one by one, none lost"
    );
    assert_eq!(locked, 2, "the 5th failure locks, the 6th finds it locked");
    // Even the right PIN is refused now.
    let right = d.pin_check("S-2004", "rita", RITA, "2604\n");
    assert_eq!((right.code, right.stdout.as_str()), (3, "locked\n"), "{right:?}");
    let lock_events = d.audit_json(&["--account", "S-2004", "--kind", "pin_locked"]);
    assert_eq!(lock_events.len(), 1, "exactly one lock event: {lock_events:?}");
    assert!(lock_events[0]["detail"].as_str().unwrap_or("").contains("after 5 consecutive"));
}

#[test]
fn verdicts_for_the_issue_flow() {
    let d = Demo::new();
    // Verify first: no PIN has matched for Dev Patel in this call.
    let first = d.verdict(&["--caller", "S-2002"]);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.stdout.starts_with("? Verify the Support PIN first"), "{first:?}");

    // Carla Mendes reads 3356, then asks on behalf of Dr. Ada Okafor.
    assert_eq!(d.pin_check("S-2001", "rita", RITA, "3356\n").code, 0);
    let approval = d.verdict(&["--caller", "S-2001", "--on-behalf-of", "P-1001"]);
    assert_eq!(approval.code, 0, "{approval:?}");
    assert!(approval.stdout.starts_with("▲ Provider approval needed: Dr. Ada Okafor (P-1001)"), "{approval:?}");
    assert!(approval.stdout.contains("Staff on behalf of Provider"), "policy row shown: {approval:?}");
    assert!(approval.stdout.contains("Next step: Dr. Ada Okafor needs to approve"), "{approval:?}");
    let json = d.verdict(&["--caller", "S-2001", "--on-behalf-of", "P-1001", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(v["verdict"], "needs_approval");
    assert_eq!(v["approver"]["id"], "P-1001");
    assert_eq!(v["rule"], "staff_for_provider");
    assert_eq!(v["headline"], "Provider approval needed");

    // Dr. Ada Okafor (0417) on behalf of her staff: assist; on behalf of Northside staff: refused.
    assert_eq!(d.pin_check("P-1001", "rita", RITA, "0417\n").code, 0);
    let assist = d.verdict(&["--caller", "P-1001", "--on-behalf-of", "S-2001"]);
    assert!(assist.stdout.starts_with("✔ Support can assist"), "{assist:?}");
    assert!(assist.stdout.contains("Carla Mendes"), "{assist:?}");
    let cross = d.verdict(&["--caller", "P-1001", "--on-behalf-of", "S-2004"]);
    assert_eq!(cross.code, 0);
    assert!(cross.stdout.starts_with("✖ Refused"), "{cross:?}");
    assert!(cross.stdout.contains("another practice"), "{cross:?}");

    // Farid Haddad's account is locked: unlock needs no PIN but a note.
    let no_note = d.verdict(&["--caller", "S-2003", "--unlock"]);
    assert_eq!(no_note.code, 2, "{no_note:?}");
    let unlock = d.verdict(&["--caller", "S-2003", "--unlock", "--identified-by", "called back on the phone on file"]);
    assert_eq!(unlock.code, 0, "{unlock:?}");
    assert!(unlock.stdout.starts_with("✔ Support can assist"), "{unlock:?}");
    assert!(unlock.stdout.contains("The account is unlocked"), "{unlock:?}");
    let events = d.audit_json(&["--account", "S-2003", "--kind", "account_unlocked"]);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["outcome"], "ok");
    assert!(events[0]["detail"].as_str().unwrap_or("").contains("called back on the phone on file"));
    let found = d.run(&["lookup", "S-2003", "--json"], None, None);
    let v: serde_json::Value = serde_json::from_str(&found.stdout).expect("json");
    assert_eq!(v[0]["account_locked"], false, "{found:?}");

    // Every verdict above was recorded as rita's.
    let shown = d.audit_json(&["--kind", "verdict_shown", "--rep", "rita", "--limit", "7"]);
    assert!(shown.len() >= 6, "{shown:?}");
}

#[test]
fn unknown_accounts_and_reps() {
    let d = Demo::new();
    let caller = d.verdict(&["--caller", "S-9999"]);
    assert_eq!(caller.code, 5, "{caller:?}");
    assert_eq!(d.run(&["pin", "new", "S-9999"], None, None).code, 5);
    // An unknown account answers a PIN check like a wrong PIN.
    let unknown = d.pin_check("S-9999", "rita", RITA, "1234\n");
    assert_eq!((unknown.code, unknown.stdout.as_str()), (1, "did not match (4 attempts left)\n"));
    // Unknown rep and wrong passphrase: same exit code, same words.
    let nobody = d.pin_check("S-2001", "nobody", RITA, "3356\n");
    let wrong = d.pin_check("S-2001", "rita", "not-ritas-pass", "3356\n");
    assert_eq!(nobody.code, 4, "{nobody:?}");
    assert_eq!(wrong.code, 4, "{wrong:?}");
    assert_eq!(nobody.stderr, wrong.stderr);
    assert!(!wrong.all().contains("not-ritas-pass"));
    // The PIN was not spent by the refused sign-ins.
    assert_eq!(d.pin_check("S-2001", "rita", RITA, "3356\n").code, 0);
}

#[test]
fn no_pin_or_hash_in_any_output_or_audit_row() {
    let d = Demo::new();
    let pins = ["0071", "3356", "0417", "2604", "1188", "4321"];
    let mut outputs = vec![
        d.pin_check("S-2002", "rita", RITA, "0071\n"),
        d.pin_check("S-2001", "rita", RITA, "4321\n"),
        d.pin_check("S-2001", "rita", RITA, "3356\n"),
        d.pin_check("P-1001", "leo", LEO, "0417\n"),
        d.pin_check("S-2004", "leo", LEO, "2604\n"),
        d.pin_check("S-2005", "leo", LEO, "1188\n"),
        d.verdict(&["--caller", "S-2001", "--on-behalf-of", "P-1001", "--json"]),
        d.verdict(&["--caller", "S-2003", "--unlock", "--identified-by", "verified by callback"]),
        d.run(&["lookup", "a", "--json"], None, None),
        d.run(&["rep", "list", "--json"], None, None),
        d.run(&["audit", "verify"], None, None),
        d.run(&["audit", "list"], None, None),
        d.run(&["policy", "--json"], None, None),
    ];
    let audit = d.run(&["audit", "list", "--json", "--limit", "100000"], None, None);
    outputs.push(Run { code: audit.code, stdout: audit.stdout.clone(), stderr: audit.stderr.clone() });
    for r in &outputs {
        assert!(!r.all().contains("$argon2"), "a PIN hash leaked: {r:?}");
        for pin in pins {
            // Chain hashes are hex and phone numbers are digit runs: a PIN counts only as a token.
            assert!(!contains_pin_token(&r.all(), pin), "PIN {pin} appears in {r:?}");
        }
    }
    let rows: Vec<serde_json::Value> = serde_json::from_str(&audit.stdout).expect("json");
    assert!(rows.len() > 40, "the history and this test's events are there");
    for row in &rows {
        for (field, value) in row.as_object().expect("an object per event") {
            if field == "hash" || field == "prev_hash" {
                continue;
            }
            let text = value.to_string();
            assert!(!text.contains("$argon2"), "hash in {field} of {row}");
            for pin in pins {
                assert!(!contains_pin_token(&text, pin), "PIN {pin} in {field} of {row}");
            }
        }
    }
}

#[test]
fn audit_verify_passes_then_names_the_row_changed_with_the_sqlite3_shell() {
    let d = Demo::new();
    let intact = d.run(&["audit", "verify"], None, None);
    assert_eq!(intact.code, 0, "{intact:?}");
    assert!(intact.stdout.starts_with("intact: "), "{intact:?}");
    let head = intact.stdout.trim().rsplit(' ').next().expect("head");
    let (seq, hash) = head.split_once(':').expect("SEQ:HASH");
    assert!(seq.parse::<i64>().expect("seq") > 30);
    assert_eq!(hash.len(), 64);
    // The verification itself was recorded, and the chain still holds with it.
    let recorded = d.audit_json(&["--kind", "audit_verified"]);
    assert_eq!(recorded.len(), 1);
    assert!(recorded[0]["detail"].as_str().unwrap_or("").contains(head));
    assert_eq!(d.run(&["audit", "verify", "--json"], None, None).code, 0);

    if !has_sqlite3() {
        return;
    }
    // The triggers refuse the edit until someone drops them.
    let refused = Command::new("sqlite3")
        .arg(&d.db)
        .arg("UPDATE audit_events SET detail = 'edited' WHERE seq = 7;")
        .output()
        .expect("sqlite3 runs");
    assert!(!refused.status.success(), "the append-only trigger refuses UPDATE");
    let edit = Command::new("sqlite3")
        .arg(&d.db)
        .arg("DROP TRIGGER audit_events_no_update; UPDATE audit_events SET detail = 'nothing to see' WHERE seq = 7;")
        .output()
        .expect("sqlite3 runs");
    assert!(edit.status.success(), "{edit:?}");
    // `check` names the guard that is gone (an edit re-hashed to match would pass the chain).
    let check = d.run(&["check"], None, None);
    assert_ne!(check.code, 0, "{check:?}");
    assert!(check.all().contains("append-only guard audit_events_no_update") && check.all().contains("--head"), "{check:?}");
    let broken = d.run(&["audit", "verify"], None, None);
    assert_eq!(broken.code, 1, "{broken:?}");
    assert!(broken.stdout.starts_with("broken at sequence 7:"), "{broken:?}");
    assert!(broken.stderr.contains("sequence 7"), "{broken:?}");
    let json = d.run(&["audit", "verify", "--json"], None, None);
    assert_eq!(json.code, 1);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!((v["status"].as_str(), v["first_bad_seq"].as_i64()), (Some("broken"), Some(7)));
    // However many threads share the check, the same first bad event.
    for threads in ["1", "2", "3", "8"] {
        let split = d.run(&["audit", "verify", "--threads", threads], None, None);
        assert_eq!(split.code, 1, "{split:?}");
        assert!(split.stdout.starts_with("broken at sequence 7:"), "{split:?}");
    }
}

#[test]
fn audit_verify_on_several_threads_reports_the_same_head() {
    let d = Demo::new();
    for threads in ["2", "3", "1"] {
        // Each verification is recorded, so each sees the one before it as its head.
        let before = d.audit_json(&["--limit", "1"]);
        let run = d.run(&["audit", "verify", "--threads", threads], None, None);
        assert_eq!(run.code, 0, "{run:?}");
        let head = format!("head {}:{}", before[0]["seq"], before[0]["hash"].as_str().unwrap_or(""));
        assert!(run.stdout.contains(&head), "{threads} threads: {run:?}, expected {head}");
    }
    for bad in ["0", "x", "65"] {
        let refused = d.run(&["audit", "verify", "--threads", bad], None, None);
        assert_eq!(refused.code, 2, "{bad}: {refused:?}");
    }
}

#[cfg(unix)]
#[test]
fn init_creates_an_owner_only_database_and_key_and_refuses_an_existing_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("new.sqlite");
    let db_arg = db.to_str().expect("utf-8");
    let pass = "lead-passphrase-1";
    let r = run_in(dir.path(), &["--db", db_arg, "init", "--lead", "lena", "--name", "Lena Lead"], Some(pass), None);
    assert_eq!(r.code, 0, "{r:?}");
    let key = dir.path().join("new.sqlite.key");
    assert_eq!(mode_of(&db), 0o600);
    assert_eq!(mode_of(&key), 0o600);
    let reps = run_in(dir.path(), &["--db", db_arg, "rep", "list", "--json"], None, None);
    let v: serde_json::Value = serde_json::from_str(&reps.stdout).expect("json");
    assert_eq!((v[0]["username"].as_str(), v[0]["role"].as_str()), (Some("lena"), Some("lead")));
    let events = run_in(dir.path(), &["--db", db_arg, "audit", "list", "--json"], None, None);
    let v: serde_json::Value = serde_json::from_str(&events.stdout).expect("json");
    let kinds: Vec<&str> = v.as_array().expect("array").iter().rev().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["database_created", "rep_added"]);
    assert!(!events.stdout.contains(pass));

    // A second init leaves the file alone.
    let before = sha256_of(&db);
    let again = run_in(dir.path(), &["--db", db_arg, "init", "--lead", "max", "--name", "Max"], Some(pass), None);
    assert_eq!(again.code, 2, "{again:?}");
    assert!(again.stderr.contains("already exists"), "{again:?}");
    assert_eq!(sha256_of(&db), before);

    // No passphrase and no terminal: a clear message and nothing created.
    let other = dir.path().join("other.sqlite");
    let other_arg = other.to_str().expect("utf-8");
    let no_tty = run_in(dir.path(), &["--db", other_arg, "init", "--lead", "max", "--name", "Max"], None, None);
    assert_eq!(no_tty.code, 2, "{no_tty:?}");
    assert!(no_tty.stderr.contains("SUPPORT_DESK_PASSPHRASE"), "{no_tty:?}");
    // A passphrase that is too short is refused before anything is made.
    let short = run_in(dir.path(), &["--db", other_arg, "init", "--lead", "max", "--name", "Max"], Some("short"), None);
    assert_eq!(short.code, 2, "{short:?}");
    assert!(!other.exists() && !dir.path().join("other.sqlite.key").exists());
}

#[test]
fn rep_add_disable_enable() {
    let d = Demo::new();
    let add = d.run(&["rep", "add", "sam", "--name", "Sam Ortiz", "--role", "rep"], Some("sams-long-passphrase"), None);
    assert_eq!(add.code, 0, "{add:?}");
    let dup = d.run(&["rep", "add", "sam", "--name", "Sam", "--role", "rep"], Some("sams-long-passphrase"), None);
    assert_eq!(dup.code, 2, "{dup:?}");
    assert_eq!(d.pin_check("S-2001", "sam", "sams-long-passphrase", "3356\n").code, 0);
    assert_eq!(d.run(&["rep", "disable", "sam"], None, None).code, 0);
    let list = d.run(&["rep", "list"], None, None);
    assert!(list.stdout.lines().any(|l| l.starts_with("sam ") && l.ends_with("disabled")), "{list:?}");
    let refused = d.pin_check("S-2002", "sam", "sams-long-passphrase", "0071\n");
    let unknown = d.pin_check("S-2002", "nobody", "sams-long-passphrase", "0071\n");
    assert_eq!(refused.code, 4);
    assert_eq!(refused.stderr, unknown.stderr, "a disabled rep is told what anyone else is told");
    assert_eq!(d.run(&["rep", "enable", "sam"], None, None).code, 0);
    assert_eq!(d.pin_check("S-2002", "sam", "sams-long-passphrase", "0071\n").code, 0);
    assert_eq!(d.run(&["rep", "disable", "nobody"], None, None).code, 5);
    // A rep whose own directory account is S-2002 may never check its PIN.
    let own = d.run(&["rep", "add", "dev", "--name", "Dev Patel", "--role", "rep", "--account", "S-2002"], Some("devs-long-passphrase"), None);
    assert_eq!(own.code, 0, "{own:?}");
    let mine = d.pin_check("S-2002", "dev", "devs-long-passphrase", "0071\n");
    assert_eq!(mine.code, 4, "{mine:?}");
    assert!(mine.stderr.contains("own account"), "{mine:?}");
}

#[test]
fn pin_new_prints_the_new_pin_once_for_the_holder_and_it_works() {
    let d = Demo::new();
    let r = d.run(&["pin", "new", "S-2005"], None, None);
    assert_eq!(r.code, 0, "{r:?}");
    let first = r.stdout.lines().next().expect("a line");
    let pin = first.strip_prefix("New Support PIN for S-2005: ").expect("the PIN line");
    assert!(pin.len() == 4 && pin.chars().all(|c| c.is_ascii_digit()), "{first}");
    let kinds: Vec<String> = d
        .audit_json(&["--account", "S-2005", "--limit", "2"])
        .iter()
        .filter_map(|e| e["kind"].as_str().map(str::to_string))
        .collect();
    assert_eq!(kinds, ["pin_viewed", "pin_generated"]);
    assert_eq!(d.pin_check("S-2005", "rita", RITA, &format!("{pin}\n")).code, 0);
}

#[test]
fn lookup_finds_by_folded_name_phone_digits_and_id() {
    let d = Demo::new();
    let ids = |query: &str| -> Vec<String> {
        let r = d.run(&["lookup", query, "--json"], None, None);
        assert_eq!(r.code, 0, "{r:?}");
        let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
        v.as_array().expect("array").iter().filter_map(|a| a["id"].as_str().map(str::to_string)).collect()
    };
    assert_eq!(ids("zoe"), ["S-2004"]);
    assert_eq!(ids("ZOË ÅNG"), ["S-2004"]);
    assert_eq!(ids("5550202004"), ["S-2004"]);
    assert_eq!(ids("(555) 020-2004"), ["S-2004"]);
    assert_eq!(ids("P-1001").first().map(String::as_str), Some("P-1001"));
    assert_eq!(ids("s-2003"), ["S-2003"]);
    assert!(ids("no such caller").is_empty());
    let text = d.run(&["lookup", "zhang"], None, None);
    assert!(text.stdout.contains("Wei Zhang 张伟"), "{text:?}");
    assert!(text.stdout.contains("Staff"));
}

#[test]
fn demo_keeps_the_working_copy_unless_reset() {
    let d = Demo::new();
    assert_eq!(d.pin_check("S-2001", "rita", RITA, "3356\n").code, 0);
    let again = d.run(&["demo", "--no-open"], None, None);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stderr.contains("keeping"), "{again:?}");
    assert_eq!(d.pin_check("S-2001", "rita", RITA, "3356\n").code, 1, "the rotation was kept");
    let reset = d.run(&["demo", "--no-open", "--reset"], None, None);
    assert_eq!(reset.code, 0, "{reset:?}");
    assert_eq!(d.pin_check("S-2001", "rita", RITA, "3356\n").code, 0, "a fresh copy again");
    assert_eq!(d.run(&["audit", "verify"], None, None).code, 0);
}

#[test]
fn demo_reset_never_removes_a_database_that_is_not_a_demo_copy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("prod.sqlite");
    let db_arg = db.to_str().expect("utf-8");
    let init = run_in(dir.path(), &["--db", db_arg, "init", "--lead", "lena", "--name", "Lena"], Some("lead-passphrase-1"), None);
    assert_eq!(init.code, 0, "{init:?}");
    let r = run_in(dir.path(), &["--db", db_arg, "demo", "--no-open", "--reset"], None, None);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("not a copy of the example"), "{r:?}");
    let reps = run_in(dir.path(), &["--db", db_arg, "rep", "list"], None, None);
    assert!(reps.stdout.contains("lena"), "still the real database: {reps:?}");
}

#[test]
fn the_tracked_example_is_never_changed() {
    let example = example_path();
    let before = sha256_of(&example);
    let d = Demo::new();
    assert_eq!(d.pin_check("S-2001", "rita", RITA, "3356\n").code, 0);
    assert_eq!(d.run(&["demo", "--no-open", "--reset"], None, None).code, 0);
    assert_eq!(d.run(&["audit", "verify"], None, None).code, 0);
    // Pointing --db at the example itself is refused for every command.
    let ex = example.to_str().expect("utf-8");
    for args in [
        vec!["--db", ex, "lookup", "zoe"],
        vec!["--db", ex, "audit", "verify"],
        vec!["--db", ex, "demo", "--no-open"],
        vec!["--db", ex, "demo", "--no-open", "--reset"],
    ] {
        let r = run_in(d.dir.path(), &args, None, None);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
    }
    assert_eq!(sha256_of(&example), before);
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = example.clone().into_os_string();
        name.push(suffix);
        assert!(!PathBuf::from(name).exists(), "the example was opened with SQLite ({suffix})");
    }
}

#[test]
fn the_example_is_in_rollback_journal_mode() {
    if !has_sqlite3() {
        return;
    }
    let out = Command::new("sqlite3").arg("-readonly").arg(example_path()).arg("PRAGMA journal_mode").output().expect("sqlite3");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "delete");
}

#[test]
fn storage_and_terminal_failures_have_their_codes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = run_in(dir.path(), &["--db", "missing.sqlite", "lookup", "zoe"], None, None);
    assert_eq!(missing.code, 6, "{missing:?}");
    assert!(missing.stderr.starts_with("support-desk: there is no database at missing.sqlite"), "{missing:?}");
    assert!(!dir.path().join("missing.sqlite").exists());
    let d = Demo::new();
    // No subcommand opens the screen, which needs a terminal.
    let tui = d.run(&[], None, None);
    assert_eq!(tui.code, 7, "{tui:?}");
    assert!(tui.stderr.starts_with("support-desk: "), "{tui:?}");
    // A PIN check without the key file cannot decide anything.
    std::fs::remove_file(d.dir.path().join("desk.sqlite.key")).expect("remove key");
    let no_key = d.pin_check("S-2001", "rita", RITA, "3356\n");
    assert_eq!(no_key.code, 6, "{no_key:?}");
    assert!(no_key.stderr.contains("key file"), "{no_key:?}");
}

#[test]
fn a_directory_given_as_db_is_a_wrong_argument_with_no_chmod_or_disk_advice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let desks = dir.path().join("desks");
    std::fs::create_dir(&desks).expect("mkdir");
    for mode in [0o700, 0o777] {
        std::fs::set_permissions(&desks, std::os::unix::fs::PermissionsExt::from_mode(mode)).expect("chmod");
        for args in [&["lookup", "x"][..], &["check"], &["audit", "verify"], &["demo", "--reset", "--no-open"]] {
            let mut all = vec!["--db", "desks"];
            all.extend_from_slice(args);
            let r = run_in(dir.path(), &all, None, None);
            assert_eq!(r.code, 2, "{mode:o} {args:?}: {r:?}");
            assert!(r.stderr.starts_with("support-desk: desks is a directory, not a database file"), "{args:?}: {r:?}");
            assert!(!r.stderr.contains("chmod") && !r.stderr.contains("disk") && !r.stderr.contains("remove"), "{r:?}");
        }
        assert_eq!(mode_of(&desks) & 0o777, mode, "left as it was");
        assert_eq!(std::fs::read_dir(&desks).expect("read dir").count(), 0);
    }
}

#[test]
fn policy_prints_every_rule_and_value() {
    let d = Demo::new();
    let r = d.run(&["policy", "--json"], None, None);
    assert_eq!(r.code, 0, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    let rules: Vec<&str> = v["rules"].as_array().expect("rules").iter().filter_map(|r| r["rule"].as_str()).collect();
    for rule in ["verify_first", "provider_for_staff", "staff_for_provider", "staff_for_staff", "other_practice", "unlock"] {
        assert!(rules.contains(&rule), "{rule} missing from {rules:?}");
    }
    let values = v["values"].as_array().expect("values");
    let threshold = values.iter().find(|x| x["name"] == "pin_lockout_threshold").expect("threshold");
    assert_eq!(threshold["value"], 5);
    let text = d.run(&["policy"], None, None);
    assert!(text.stdout.contains("Staff on behalf of Provider"));
    assert!(text.stdout.contains("idle_timeout_minutes"));
}

#[test]
fn help_documents_every_exit_code() {
    let r = run_in(Path::new("."), &["--help"], None, None);
    assert_eq!(r.code, 0);
    let check = run_in(Path::new("."), &["pin", "check", "--help"], None, None);
    for line in [
        "0  ok; Support PIN matched; audit chain intact",
        "1  Support PIN did not match; audit chain broken",
        "2  usage error or invalid input; nothing was recorded",
        "3  Support PIN locked",
        "4  rep sign-in refused, or the rep may not do this",
        "5  account or rep not found",
        "6  storage, key or I/O problem: could not record, nothing was decided",
        "7  no terminal for the screen (TUI)",
    ] {
        assert!(r.stdout.contains(line), "--help lacks {line:?}");
        assert!(check.stdout.contains(line), "pin check --help lacks {line:?}");
    }
    // The README's table says the same, code for code.
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README");
    let table: Vec<&str> = r.stdout.lines().skip_while(|l| *l != "Exit codes:").skip(1).collect();
    assert_eq!(table.len(), 8, "{table:?}");
    for line in table {
        let (code, meaning) = line.trim().split_once("  ").expect("code and meaning");
        assert!(readme.contains(&format!("| {code} | {meaning} |")), "README lacks exit code {code}: {meaning}");
    }
    let bad = run_in(Path::new("."), &["no-such-command"], None, None);
    assert_eq!(bad.code, 2);
}

#[test]
fn check_reports_a_sound_copy_and_a_damaged_one_without_changing_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("desk.sqlite");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_support-desk"))
        .arg("--db").arg(&db).args(["demo", "--no-open"]).output().expect("demo");
    assert!(out.status.success());
    let check = |path: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_support-desk")).arg("--db").arg(path).arg("check").output().expect("check")
    };
    let sound = check(&db);
    assert_eq!(sound.status.code(), Some(0), "{}", String::from_utf8_lossy(&sound.stdout));
    assert!(String::from_utf8_lossy(&sound.stdout).contains("audit chain: intact"));
    assert!(String::from_utf8_lossy(&sound.stdout).contains("failure rollup: matches the audit events"));

    let bytes = std::fs::read(&db).expect("read");
    let damaged = dir.path().join("damaged.sqlite");
    std::fs::write(&damaged, &bytes[..bytes.len() / 3]).expect("write");
    let before = std::fs::read(&damaged).expect("read");
    let r = check(&damaged);
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stdout).contains("damaged"), "{}", String::from_utf8_lossy(&r.stdout));
    assert_eq!(std::fs::read(&damaged).expect("read"), before, "check never changes the file");
}

#[test]
fn account_ids_are_matched_whatever_their_case_and_a_pin_typed_as_an_id_is_not_repeated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("desk.sqlite");
    let bin = env!("CARGO_BIN_EXE_support-desk");
    assert!(std::process::Command::new(bin).arg("--db").arg(&db).args(["demo", "--no-open"]).output().expect("demo").status.success());
    let run = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = std::process::Command::new(bin)
            .arg("--db")
            .arg(&db)
            .args(args)
            .env("SUPPORT_DESK_PASSPHRASE", "rita-demo-pass")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run");
        child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write");
        child.wait_with_output().expect("wait")
    };
    let lower = run(&["pin", "check", "s-2001", "--rep", "rita"], "3356\n");
    assert_eq!(lower.status.code(), Some(0), "s-2001 is S-2001: {}", String::from_utf8_lossy(&lower.stdout));
    let typed_pin = run(&["verdict", "--rep", "rita", "--caller", "0417"], "");
    let err = String::from_utf8_lossy(&typed_pin.stderr);
    assert_eq!(typed_pin.status.code(), Some(5), "{err}");
    assert!(!err.contains("0417"), "a PIN typed as an account id is not repeated: {err}");
}

#[test]
fn a_reader_that_goes_away_never_makes_a_command_panic() {
    let d = Demo::new();
    let bin = env!("CARGO_BIN_EXE_support-desk");
    // `| true` closes the pipe at once: every write to stdout and stderr meets a broken pipe.
    for (stdin, command) in [
        ("0000\n", "pin check S-2001 --rep rita"),
        ("", "audit list"),
        ("", "audit verify"),
        ("", "lookup nobody-at-all"),
    ] {
        let script = format!(
            "(sleep 0.3; printf '{stdin}') | SUPPORT_DESK_PASSPHRASE={RITA} {bin} --db {} {command} 2>&1 | true; echo ${{PIPESTATUS[1]}}",
            d.db.display()
        );
        let out = std::process::Command::new("bash").args(["-c", &script]).output().expect("bash");
        let code = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert_ne!(code, "101", "{command}: panicked on a closed pipe");
        assert!(["0", "1", "5", "6"].contains(&code.as_str()), "{command}: exit {code}");
    }
}

#[test]
fn a_head_the_trail_does_not_hold_is_a_failure_that_may_be_a_wrong_head_not_proven_tampering() {
    let d = Demo::new();
    let intact = d.run(&["audit", "verify"], None, None);
    assert_eq!(intact.code, 0, "{intact:?}");
    let head = intact.stdout.trim().rsplit(' ').next().expect("head");
    let (seq, hash) = head.split_once(':').expect("SEQ:HASH");
    let last: i64 = seq.parse::<i64>().expect("seq") + 1; // the verification above is an event too
    let r = d.run(&["audit", "verify", "--head", &format!("999:{hash}")], None, None);
    assert_eq!(r.code, 1, "still a failure: {r:?}");
    let either = format!("either events after {last} were removed behind the app's back, or the head given is wrong");
    assert!(r.stdout.contains(&format!("broken at sequence {}", last + 1)) && r.stdout.contains(&either), "{r:?}");
    assert!(r.stderr.contains("does not hold the head given with --head") && r.stderr.contains("mistyped"), "{r:?}");
    assert!(!r.stderr.contains("was changed behind the app's back: first bad event"), "{r:?}");
    // The recorded event says the same.
    let recorded = d.audit_json(&["--kind", "audit_verified"]);
    let detail = recorded.iter().find(|e| e["outcome"] == "fail").and_then(|e| e["detail"].as_str()).unwrap_or_default();
    assert!(detail.contains(&either) && detail.contains("does not hold head 999:"), "{detail}");
}

#[test]
fn verifying_a_directory_instead_of_an_export_is_a_wrong_argument_not_tampering() {
    let d = Demo::new();
    let r = d.run(&["audit", "verify", "--file", d.dir.path().to_str().expect("utf-8")], None, None);
    assert_eq!(r.code, 5, "{r:?}");
    assert!(r.stderr.contains("is not a file") && !r.all().contains("changed after"), "{r:?}");
}

#[test]
fn every_limit_takes_one_or_more_and_says_so_in_words() {
    let d = Demo::new();
    for command in [&["lookup", "a", "--limit"][..], &["audit", "list", "--limit"], &["case", "list", "--limit"]] {
        let mut zero = command.to_vec();
        zero.push("0");
        let r = d.run(&zero, None, None);
        assert_eq!(r.code, 2, "{zero:?}: {r:?}");
        assert!(r.stderr.contains("give a whole number, 1 or more") && !r.stderr.contains("****"), "{r:?}");
        let mut two = command.to_vec();
        two.push("2");
        let r = d.run(&two, None, None);
        assert!(r.code == 0 || r.code == 5, "{two:?}: {r:?}");
        assert!(r.stdout.lines().count() <= 3, "{two:?}: header and at most two rows: {r:?}");
    }
}

#[test]
fn a_full_lookup_says_there_may_be_more() {
    let d = Demo::new();
    let r = d.run(&["lookup", "harbor", "--limit", "2"], None, None);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.lines().count(), 3, "a header and two rows: {r:?}");
    assert!(r.stderr.contains("the first 2 matches; there may be more"), "{r:?}");
    let all = d.run(&["lookup", "harbor"], None, None);
    assert!(!all.stderr.contains("may be more"), "{all:?}");
}
