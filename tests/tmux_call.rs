//! A whole call in a real terminal: the real binary under tmux, keys typed with `send-keys`, the
//! screen read with `capture-pane`, and the audit rows checked afterwards.

mod tmux_support;

use std::process::Command;
use tmux_support::{BIN, Tmux, prepare_demo, wait_for_file};

#[test]
fn rita_checks_carlas_pin_and_asks_on_behalf_of_dr_okafor() {
    let Some(tmux) = Tmux::start(100, 30) else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = prepare_demo(dir.path());
    let stty = dir.path().join("stty.txt");
    let done = dir.path().join("done");
    let line = format!(
        "{BIN} --db '{}'; stty -a > '{}'; touch '{}'",
        db.display(),
        stty.display(),
        done.display()
    );
    tmux.type_text(&line);
    tmux.send(&["Enter"]);

    tmux.wait_for("Sign in to support-desk");
    tmux.type_text("rita");
    tmux.send(&["Tab"]);
    tmux.type_text("rita-demo-pass");
    tmux.send(&["Enter"]);
    tmux.wait_for("Rita Alvarez (rep)");
    tmux.type_text("carla");
    tmux.wait_for("Carla Mendes");
    tmux.send(&["Enter"]);
    tmux.wait_for("Primary provider");
    tmux.type_text("p");
    tmux.wait_for("Type the four digits");
    tmux.type_text("3356");
    let cells = tmux.wait_for("●");
    assert!(!cells.contains("3356"), "the PIN is never on screen:\n{cells}");
    tmux.send(&["Enter"]);
    tmux.wait_for("Support PIN matched");
    tmux.type_text("o");
    tmux.wait_for("Which account do they ask about?");
    tmux.type_text("Okafor");
    tmux.wait_for("P-1001");
    tmux.send(&["Enter"]);
    tmux.wait_for("PROVIDER APPROVAL NEEDED");
    // The frame may be captured half-written; wait until the whole verdict is on screen.
    tmux.wait_until("the verdict naming the approver and the policy row", |s| {
        s.contains("audit event #") && s.contains("Approver: Dr. Ada Okafor (P-1001)") && s.contains("Staff on behalf of Provider")
    });
    tmux.send(&["C-c"]);
    wait_for_file(&done);

    // The shell is usable again: canonical mode and echo are back on.
    let modes = std::fs::read_to_string(&stty).expect("stty output");
    assert!(modes.contains(" icanon") && !modes.contains("-icanon"), "{modes}");
    assert!(modes.contains(" echo ") && !modes.contains("-echo "), "{modes}");

    // The audit trail holds every step of the call, in order, and no PIN.
    let conn = rusqlite::Connection::open(&db).expect("open db");
    let since: i64 = conn
        .query_row("SELECT max(seq) FROM audit_events WHERE kind = 'signed_in' AND rep = 'rita'", [], |r| r.get(0))
        .expect("sign-in event");
    let mut stmt = conn
        .prepare("SELECT kind, account_id, other_account, outcome, coalesce(detail, '') FROM audit_events WHERE seq >= ?1 ORDER BY seq")
        .expect("prepare");
    type Row = (String, Option<String>, Option<String>, String, String);
    let rows: Vec<Row> = stmt
        .query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let kinds: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(kinds, ["signed_in", "account_viewed", "pin_validated", "verdict_shown", "call_ended", "signed_out"], "{rows:?}");
    assert_eq!(rows[2].1.as_deref(), Some("S-2001"));
    assert_eq!((rows[3].2.as_deref(), rows[3].3.as_str()), (Some("P-1001"), "needs_approval"));
    assert!(rows.iter().all(|r| !r.4.contains("3356")), "no PIN in the audit trail");

    let verify = Command::new(BIN).arg("--db").arg(&db).args(["audit", "verify"]).output().expect("verify runs");
    assert!(verify.status.success(), "audit verify: {}", String::from_utf8_lossy(&verify.stdout));
}

/// Keys arriving in one burst (a rep typing over a slow SSH link): Enter opens the account for the
/// text in the box, in the caller search and in the "on behalf of" picker.
#[test]
fn a_burst_of_keys_ending_in_enter_opens_the_account_typed() {
    let Some(tmux) = Tmux::start(100, 30) else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = prepare_demo(dir.path());
    tmux.type_text(&format!("{BIN} --db '{}'", db.display()));
    tmux.send(&["Enter"]);
    tmux.wait_for("Sign in to support-desk");
    tmux.sign_in_rita();
    tmux.type_text("carla");
    tmux.wait_for("Carla Mendes");
    // One send-keys: the app reads all of it at once.
    tmux.send(&["BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "d", "e", "v", "Enter"]);
    tmux.wait_until("Dev Patel's card", |s| s.contains("Primary provider") && s.contains("Dev Patel"));
    tmux.type_text("o");
    tmux.wait_for("Which account do they ask about?");
    tmux.type_text("okafor");
    tmux.wait_for("P-1001");
    tmux.send(&["BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "l", "i", "n", "d", "q", "Enter"]);
    tmux.wait_for("VERIFY THE SUPPORT PIN FIRST");
    tmux.send(&["C-c"]);
    tmux.wait_gone("Rita Alvarez (rep)");

    let conn = rusqlite::Connection::open(&db).expect("open db");
    let since: i64 = conn
        .query_row("SELECT max(seq) FROM audit_events WHERE kind = 'signed_in' AND rep = 'rita'", [], |r| r.get(0))
        .expect("sign-in event");
    let mut stmt = conn
        .prepare("SELECT kind, account_id, other_account FROM audit_events WHERE seq > ?1 AND kind IN ('account_viewed', 'verdict_shown') ORDER BY seq")
        .expect("prepare");
    let rows: Vec<(String, Option<String>, Option<String>)> = stmt
        .query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(
        rows,
        [
            ("account_viewed".to_string(), Some("S-2002".to_string()), None),
            ("verdict_shown".to_string(), Some("S-2002".to_string()), Some("P-1002".to_string())),
        ]
    );
}
