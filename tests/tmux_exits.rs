//! Every way out of the screen, in a real terminal: SIGTERM, SIGHUP (window closed), Ctrl-Z and
//! `fg`, a window shrunk to 10x3 and grown back, TERM=dumb. After each the shell is usable and the
//! rep was signed out.

mod tmux_support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tmux_support::{BIN, Tmux, prepare_demo, wait_for_file};

/// Starts the app in the pane through `sh -c 'echo $$ > pid; exec ...'` so its PID is known, then
/// `stty -a` and a marker file once it exits.
fn launch(tmux: &Tmux, dir: &Path, db: &Path) -> u32 {
    let pid_file = dir.join("pid");
    let line = format!(
        "sh -c 'echo $$ > {pid}; exec {BIN} --db {db}'; stty -a > {stty}; touch {done}",
        pid = pid_file.display(),
        db = db.display(),
        stty = dir.join("stty.txt").display(),
        done = dir.join("done").display(),
    );
    tmux.type_text(&line);
    tmux.send(&["Enter"]);
    wait_for_file(&pid_file);
    tmux.wait_for("Sign in to support-desk");
    std::fs::read_to_string(&pid_file).expect("pid").trim().parse().expect("pid number")
}

fn sign_in_rita(tmux: &Tmux) {
    tmux.sign_in_rita();
}

fn last_event(db: &Path) -> (String, Option<String>) {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.query_row("SELECT kind, rep FROM audit_events ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("last event")
}

fn assert_shell_sane(dir: &Path) {
    wait_for_file(&dir.join("done"));
    let modes = std::fs::read_to_string(dir.join("stty.txt")).expect("stty output");
    assert!(modes.contains(" icanon") && !modes.contains("-icanon"), "canonical mode back: {modes}");
    assert!(modes.contains(" echo ") && !modes.contains("-echo "), "echo back: {modes}");
}

fn alive(pid: u32) -> bool {
    Command::new("kill").args(["-0", &pid.to_string()]).status().map(|s| s.success()).unwrap_or(false)
}

#[test]
fn sigterm_signs_out_and_restores_the_terminal() {
    let Some(tmux) = Tmux::start(80, 24) else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = prepare_demo(dir.path());
    let pid = launch(&tmux, dir.path(), &db);
    sign_in_rita(&tmux);
    // No core dump could carry a typed PIN or passphrase away.
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap_or_default();
    let core = limits.lines().find(|l| l.starts_with("Max core file size")).unwrap_or("");
    assert!(core.split_whitespace().nth(4) == Some("0"), "core dumps are off: {core:?}");
    assert!(Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill").success());
    assert_shell_sane(dir.path());
    assert_eq!(last_event(&db), ("signed_out".to_string(), Some("rita".to_string())));
}

#[test]
fn closing_the_window_signs_out_and_leaves_no_process_behind() {
    let Some(tmux) = Tmux::start(80, 24) else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = prepare_demo(dir.path());
    let pid = launch(&tmux, dir.path(), &db);
    sign_in_rita(&tmux);
    // Killing the pane hangs up its terminal (SIGHUP), as closing a window or dropping SSH does.
    assert!(tmux.cmd(&["kill-pane", "-t", "t"]).status().expect("kill-pane").success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) {
        assert!(Instant::now() < deadline, "support-desk still running after its terminal went away");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(last_event(&db), ("signed_out".to_string(), Some("rita".to_string())));
}

#[test]
fn ctrl_z_suspends_and_fg_resumes_with_typed_pin_digits_cleared() {
    let Some(tmux) = Tmux::start(80, 24) else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = prepare_demo(dir.path());
    // A plain command line (not a list), so the shell's job control sees the app stop.
    tmux.type_text(&format!("{BIN} --db {}", db.display()));
    tmux.send(&["Enter"]);
    tmux.wait_for("Sign in to support-desk");
    sign_in_rita(&tmux);
    tmux.type_text("carla");
    tmux.wait_for("Carla Mendes");
    tmux.send(&["Enter"]);
    tmux.wait_for("Primary provider");
    tmux.type_text("p");
    tmux.wait_for("Type the four digits");
    tmux.type_text("33");
    // Both typed digits show as masked cells before the suspend (each keystroke is its own frame).
    tmux.wait_until("two masked cells", |screen| screen.matches('●').count() == 2);
    tmux.send(&["C-z"]);
    let shell = tmux.wait_for("Stopped");
    assert!(!shell.contains("Type the four digits"), "the shell has the terminal back:\n{shell}");
    tmux.type_text("fg");
    tmux.send(&["Enter"]);
    let screen = tmux.wait_for("Type the four digits");
    assert_eq!(screen.matches('●').count(), 0, "typed digits are cleared on resume:\n{screen}");
    tmux.type_text("3356");
    tmux.send(&["Enter"]);
    tmux.wait_for("Support PIN matched");
    tmux.send(&["C-c"]);
    tmux.wait_gone("Ctrl-C quit");
    tmux.type_text(&format!("stty -a > {}; touch {}", dir.path().join("stty.txt").display(), dir.path().join("done").display()));
    tmux.send(&["Enter"]);
    assert_shell_sane(dir.path());
}

#[test]
fn a_window_shrunk_to_10x3_says_so_and_redraws_when_it_grows_back() {
    let Some(tmux) = Tmux::start(80, 24) else { return };
    assert!(tmux.cmd(&["set-option", "-g", "window-size", "manual"]).status().expect("tmux").success());
    let dir = tempfile::tempdir().expect("tempdir");
    let db = prepare_demo(dir.path());
    launch(&tmux, dir.path(), &db);
    for (w, h) in [(10, 3), (1, 1), (59, 40)] {
        assert!(tmux.cmd(&["resize-window", "-t", "t", "-x", &w.to_string(), "-y", &h.to_string()]).status().expect("resize").success());
        if w >= 10 {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !tmux.capture().contains("small") {
                assert!(Instant::now() < deadline, "{w}x{h}: {}", tmux.capture());
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    assert!(tmux.cmd(&["resize-window", "-t", "t", "-x", "80", "-y", "24"]).status().expect("resize").success());
    tmux.wait_for("Sign in to support-desk");
    tmux.send(&["C-c"]);
    assert_shell_sane(dir.path());
}

#[test]
fn without_a_terminal_the_screen_refuses_with_exit_7_and_commands_still_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = prepare_demo(dir.path());
    let out = Command::new(BIN).arg("--db").arg(&db).stdin(std::process::Stdio::null()).output().expect("run");
    assert_eq!(out.status.code(), Some(7));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs a terminal"), "{err}");
    assert!(!out.stdout.contains(&0x1b), "no escape codes when output is not a terminal");
    let lookup = Command::new(BIN).arg("--db").arg(&db).args(["lookup", "carla"]).env("TERM", "dumb").output().expect("run");
    assert!(lookup.status.success());
    assert!(String::from_utf8_lossy(&lookup.stdout).contains("Carla Mendes"));
}

#[test]
fn term_dumb_is_refused_even_on_a_terminal() {
    let Some(tmux) = Tmux::start(80, 24) else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = prepare_demo(dir.path());
    tmux.type_text(&format!("TERM=dumb {BIN} --db {}; echo exit=$?", db.display()));
    tmux.send(&["Enter"]);
    let screen = tmux.wait_for("exit=7");
    assert!(screen.contains("TERM is dumb"), "{screen}");
}

/// Holds the database's write lock from this test process, as an admin's `sqlite3` shell or a
/// backup tool would.
fn hold_write_lock(db: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.execute_batch("BEGIN IMMEDIATE").expect("take the write lock");
    conn
}

/// Starts the app, takes the write lock, and has rita sign in: the sign-in's audit write waits,
/// and the screen says why nothing happens instead of freezing silently. Returns the lock.
fn sign_in_against_a_held_lock(tmux: &Tmux, dir: &Path, db: &Path) -> rusqlite::Connection {
    launch(tmux, dir, db);
    let lock = hold_write_lock(db);
    tmux.type_text("rita");
    tmux.send(&["Tab"]);
    tmux.type_text("rita-demo-pass");
    tmux.send(&["Enter"]);
    tmux.wait_for("Database held by another program, waiting");
    lock
}

#[test]
fn a_write_waiting_for_another_programs_lock_says_so_and_ctrl_c_still_quits() {
    let Some(tmux) = Tmux::start(80, 24) else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = prepare_demo(dir.path());
    let before = last_event(&db);
    let lock = sign_in_against_a_held_lock(&tmux, dir.path(), &db);
    tmux.send(&["C-c"]);
    assert_shell_sane(dir.path());
    drop(lock);
    // Nothing was decided: rita never signed in, so no sign-in (or sign-out) was recorded.
    assert_eq!(last_event(&db), before);
}

#[test]
fn a_write_goes_through_once_the_other_program_lets_go() {
    let Some(tmux) = Tmux::start(80, 24) else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = prepare_demo(dir.path());
    let lock = sign_in_against_a_held_lock(&tmux, dir.path(), &db);
    lock.execute_batch("ROLLBACK").expect("let go");
    // Signed in, and the notice is gone with the next full frame.
    tmux.wait_until("the lookup screen, whole, without the notice", |s| {
        s.contains("Rita Alvarez (rep)") && !s.contains("Database held") && !s.contains("Sign in to support-desk")
    });
    assert_eq!(last_event(&db), ("signed_in".to_string(), Some("rita".to_string())));
    tmux.send(&["C-c"]);
    assert_shell_sane(dir.path());
}

#[test]
fn a_command_waiting_for_another_programs_lock_says_so_on_a_terminal() {
    let Some(tmux) = Tmux::start(100, 24) else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = prepare_demo(dir.path());
    let lock = hold_write_lock(&db);
    tmux.type_text(&format!(
        "printf '3356\\n' | SUPPORT_DESK_PASSPHRASE=rita-demo-pass {BIN} --db {} pin check S-2001 --rep rita; echo exit=$?",
        db.display()
    ));
    tmux.send(&["Enter"]);
    tmux.wait_for("waiting for the database, which another program holds");
    lock.execute_batch("ROLLBACK").expect("let go");
    let screen = tmux.wait_until("the command's exit status", |s| s.lines().any(|l| l.starts_with("exit=")));
    assert!(screen.lines().any(|l| l.starts_with("matched")) && screen.contains("\nexit=0"), "{screen}");
}

#[test]
fn a_sign_out_that_cannot_be_recorded_is_said_once_the_shell_is_back() {
    let Some(tmux) = Tmux::start(100, 24) else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = prepare_demo(dir.path());
    launch(&tmux, dir.path(), &db);
    sign_in_rita(&tmux);
    let lock = hold_write_lock(&db);
    // Quitting signs rita out, which waits for the lock; a second Ctrl-C stops the wait.
    tmux.send(&["C-c"]);
    tmux.wait_for("Database held by another program, waiting");
    tmux.send(&["C-c"]);
    assert_shell_sane(dir.path());
    tmux.wait_for("your sign-out was not recorded in the audit trail");
    drop(lock);
    assert_eq!(last_event(&db), ("signed_in".to_string(), Some("rita".to_string())));
}
