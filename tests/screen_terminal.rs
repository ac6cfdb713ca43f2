//! The rep's call inside GNU screen (a terminal multiplexer many support hosts still run instead
//! of tmux): sign in, find the caller, check the Support PIN, quit; the shell gets its terminal
//! back and the PIN never reaches the screen.

mod tmux_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tmux_support::{BIN, prepare_demo, wait_for_file};

/// A detached GNU screen session with a private socket directory, quit when dropped.
struct Screen {
    dir: PathBuf,
    name: String,
}

impl Screen {
    fn start(dir: &Path, command: &str) -> Option<Screen> {
        if Command::new("screen").arg("-v").output().is_err() {
            assert!(std::env::var_os("CI").is_none(), "GNU screen is required in CI (.ci/run installs it)");
            eprintln!("GNU screen not installed: skipping");
            return None;
        }
        let sockets = dir.join("sockets");
        std::fs::create_dir(&sockets).expect("socket dir");
        assert!(Command::new("chmod").arg("700").arg(&sockets).status().expect("chmod").success());
        let screen = Screen { dir: dir.to_path_buf(), name: format!("sd-{}", std::process::id()) };
        let ok = screen
            .cmd()
            .args(["-U", "-d", "-m", "-S", &screen.name, "sh", "-c", command])
            .env("TERM", "xterm-256color")
            .env("LANG", "C.UTF-8")
            .status()
            .expect("screen runs")
            .success();
        assert!(ok, "screen -d -m failed");
        Some(screen)
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("screen");
        c.env("SCREENDIR", self.dir.join("sockets"));
        c
    }

    /// Sends a command to the session. `screen -d -m` returns before the session's socket is
    /// there, so a refused command is tried again for a while.
    fn command(&self, args: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.cmd().args(["-S", &self.name, "-X"]).args(args).status().expect("screen -X").success() {
            assert!(Instant::now() < deadline, "screen -X {args:?} kept failing");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `text` into the window (control characters as they are: "\r" is Enter).
    fn stuff(&self, text: &str) {
        self.command(&["stuff", text]);
    }

    /// The window's text. `hardcopy` writes one byte per cell (the low byte of its character), so
    /// only ASCII is compared.
    fn capture(&self) -> String {
        let file = self.dir.join("hardcopy.txt");
        let _ = std::fs::remove_file(&file);
        self.command(&["hardcopy", &file.to_string_lossy()]);
        wait_for_file(&file);
        std::thread::sleep(Duration::from_millis(20));
        std::fs::read(&file).expect("hardcopy").iter().map(|&b| if b.is_ascii() { b as char } else { '?' }).collect()
    }

    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.capture();
            if screen.contains(text) {
                return screen;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {text:?} in GNU screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = self.cmd().args(["-S", &self.name, "-X", "quit"]).status();
    }
}

#[test]
fn a_call_inside_gnu_screen_ends_with_a_usable_shell() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = prepare_demo(dir.path());
    let stty = dir.path().join("stty.txt");
    let done = dir.path().join("done");
    let command = format!(
        "{BIN} --db {}; echo exit=$? > {}.tmp; stty -a > {}; mv {}.tmp {}",
        db.display(),
        done.display(),
        stty.display(),
        done.display(),
        done.display()
    );
    let Some(screen) = Screen::start(dir.path(), &command) else { return };
    screen.wait_for("Sign in to support-desk");
    screen.stuff("rita\trita-demo-pass\r");
    screen.wait_for("Rita Alvarez (rep)");
    screen.stuff("carla");
    screen.wait_for("Carla Mendes");
    screen.stuff("\r");
    screen.wait_for("Primary provider");
    screen.stuff("p");
    screen.wait_for("Type the four digits");
    screen.stuff("3356");
    let typed = screen.capture();
    assert!(!typed.contains("3356"), "the PIN is never on screen:\n{typed}");
    screen.stuff("\r");
    screen.wait_for("Support PIN matched");
    screen.stuff("\u{3}");
    wait_for_file(&done);
    assert_eq!(std::fs::read_to_string(&done).expect("exit").trim(), "exit=0");
    let modes = std::fs::read_to_string(&stty).expect("stty output");
    assert!(modes.contains(" icanon") && !modes.contains("-icanon"), "canonical mode back: {modes}");
    assert!(modes.contains(" echo ") && !modes.contains("-echo "), "echo back: {modes}");
    // The call left its audit rows: the card was opened and the PIN validated, then rita signed out.
    let conn = rusqlite::Connection::open(&db).expect("open");
    let kinds: Vec<String> = conn
        .prepare("SELECT kind FROM audit_events WHERE rep = 'rita' ORDER BY seq")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let tail: Vec<&str> = kinds.iter().rev().take(5).rev().map(String::as_str).collect();
    assert_eq!(tail, ["signed_in", "account_viewed", "pin_validated", "call_ended", "signed_out"], "{kinds:?}");
}
