//! The lead's review in a real terminal: the real binary under tmux on a fresh build of the demo
//! database, keys typed with `send-keys`, the screen read with `capture-pane`.

mod tmux_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use tmux_support::{BIN, Tmux, wait_for_file};

/// A working copy of an example built today (its history ends yesterday), so "last week" always
/// holds the demo's failed PIN checks whenever the tracked example was built.
fn prepare_demo(dir: &Path) -> PathBuf {
    let example = dir.join("fresh.sqlite.example");
    let built = Command::new(BIN).args(["example", "build", "--out"]).arg(&example).output().expect("example build runs");
    assert!(built.status.success(), "example build failed: {}", String::from_utf8_lossy(&built.stderr));
    let db = dir.join("desk.sqlite");
    let out = Command::new(BIN).arg("--db").arg(&db).args(["demo", "--no-open", "--from"]).arg(&example).output().expect("demo runs");
    assert!(out.status.success(), "demo --no-open failed: {}", String::from_utf8_lossy(&out.stderr));
    db
}

#[test]
fn leo_filters_to_failed_pin_checks_of_the_last_week() {
    let Some(tmux) = Tmux::start(100, 30) else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = prepare_demo(dir.path());
    let done = dir.path().join("done");
    let line = format!("TZ=UTC {BIN} --db '{}'; touch '{}'", db.display(), done.display());
    tmux.type_text(&line);
    tmux.send(&["Enter"]);

    tmux.wait_for("Sign in to support-desk");
    tmux.type_text("leo");
    tmux.send(&["Tab"]);
    tmux.type_text("leo-demo-pass");
    tmux.send(&["Enter"]);
    tmux.wait_for("Leo Brandt (lead)");
    tmux.send(&["C-r"]);
    tmux.wait_for("Chain: ✔ intact up to");
    tmux.send(&["Tab"]);
    tmux.wait_for("View: Failed PIN checks and lockouts");
    tmux.type_text("t");
    tmux.wait_for("Filters: last day");
    tmux.type_text("t");
    // Seven failures in the last week; waited for as a whole, since a capture can catch a frame
    // half drawn. Which seven, and in what order, is checked on that capture.
    let screen = tmux.wait_until("seven failures in the last week", |s| {
        s.contains("Filters: last week") && s.lines().filter(|l| l.contains("pin rejected")).count() == 7
    });
    let rows: Vec<&str> = screen.lines().filter(|l| l.contains("pin rejected")).collect();
    let on = |id: &str, rep: &str| rows.iter().filter(|r| r.contains(id) && r.contains(rep)).count();
    assert_eq!(on("S-2002", "rita"), 3, "{screen}");
    assert_eq!(on("S-2002", "leo"), 1, "{screen}");
    assert_eq!(on("S-2005", "leo"), 2, "{screen}");
    assert_eq!(rows.len(), 7, "and rita's one on S-2001: {screen}");
    assert!(rows[0].contains("S-2005"), "newest first: {screen}");
    assert!(!screen.contains("pin validated"), "only failures in this view: {screen}");
    tmux.send(&["C-c"]);
    wait_for_file(&done);

    // Reviewing only read the trail: leo's sign-in and sign-out are its last two events.
    let conn = rusqlite::Connection::open(&db).expect("open db");
    let last: Vec<(String, Option<String>)> = conn
        .prepare("SELECT kind, rep FROM audit_events ORDER BY seq DESC LIMIT 2")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let leo = Some("leo".to_string());
    assert_eq!(last, [("signed_out".to_string(), leo.clone()), ("signed_in".to_string(), leo)]);
}
