//! One approval lifecycle in a real terminal: the real binary under tmux, a case started from the
//! caller card, the caller verified in it, the provider's reply recorded, the verdict, the close;
//! then the case's audit rows and the chain.

mod tmux_support;

use std::process::Command;
use tmux_support::{BIN, Tmux, prepare_demo, wait_for_file};

#[test]
fn rita_works_a_case_from_the_caller_card_to_an_approved_close() {
    let Some(tmux) = Tmux::start(100, 32) else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = prepare_demo(dir.path());
    let done = dir.path().join("done");
    tmux.type_text(&format!("{BIN} --db '{}'; touch '{}'", db.display(), done.display()));
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
    tmux.wait_for("c open case");
    tmux.type_text("c");
    tmux.wait_for("What does the caller ask for?");
    tmux.type_text("o");
    tmux.wait_for("Which account do they ask about?");
    tmux.type_text("Okafor");
    tmux.wait_for("P-1001");
    tmux.send(&["Enter"]);
    tmux.wait_for("must approve");
    tmux.type_text("p");
    tmux.wait_for("Type the four digits");
    tmux.type_text("3356");
    tmux.wait_for("●");
    tmux.send(&["Enter"]);
    tmux.wait_for("Support PIN matched in this case");
    tmux.type_text("v");
    tmux.wait_for("PROVIDER APPROVAL NEEDED");
    tmux.send(&["Escape"]);
    tmux.wait_for("awaiting approval");
    tmux.type_text("r");
    tmux.wait_for("Reference (message id or ticket link)");
    tmux.type_text("<reply-1@harbor.example>");
    tmux.send(&["Enter"]);
    tmux.type_text("ada.okafor@harbor.example");
    tmux.send(&["Enter"]);
    tmux.wait_for("Approval by Dr. Ada Okafor recorded");
    tmux.type_text("v");
    // The verdict cites the approval (waited for as a whole: a capture can catch a frame half drawn).
    tmux.wait_until("the verdict citing the reply", |s| s.contains("SUPPORT CAN ASSIST") && s.contains("reply on the case"));
    tmux.send(&["Escape"]);
    tmux.wait_for("r reply approval");
    tmux.type_text("x");
    tmux.wait_for("How did it end?");
    tmux.type_text("a");
    tmux.wait_for("closed: assisted");
    tmux.send(&["C-c"]);
    wait_for_file(&done);

    let conn = rusqlite::Connection::open(&db).expect("open db");
    let mut stmt = conn
        .prepare("SELECT kind, outcome, coalesce(detail, '') FROM audit_events WHERE case_id = 1 ORDER BY seq")
        .expect("prepare");
    let rows: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let kinds: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "case_opened",
            "pin_validated",
            "case_updated",
            "verdict_shown",
            "approval_recorded",
            "case_updated",
            "verdict_shown",
            "case_closed"
        ],
        "{rows:?}"
    );
    assert_eq!(rows[3].1, "needs_approval");
    assert_eq!(rows[6].1, "assist");
    assert!(rows.iter().all(|r| !r.2.contains("3356")), "no PIN in the audit trail");
    let verify = Command::new(BIN).arg("--db").arg(&db).args(["audit", "verify"]).output().expect("verify runs");
    assert!(verify.status.success(), "audit verify: {}", String::from_utf8_lossy(&verify.stdout));
}
