//! A private tmux server for real-terminal tests: start, type, read the screen, wait for text.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_support-desk");

/// A private tmux server, killed when dropped.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    pub fn start(width: u16, height: u16) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            assert!(std::env::var_os("CI").is_none(), "tmux is required in CI (.ci/run installs it)");
            eprintln!("tmux not installed: skipping the real-terminal test");
            return None;
        }
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let socket = format!("sd-test-{}-{n}", std::process::id());
        let t = Tmux { socket };
        let ok = t
            .cmd(&["-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", &width.to_string(), "-y", &height.to_string()])
            .status()
            .expect("tmux runs")
            .success();
        assert!(ok, "tmux new-session failed");
        Some(t)
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]).args(args);
        c
    }

    pub fn send(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        assert!(self.cmd(&args).status().expect("send-keys").success());
    }

    /// Types literal text (no key-name lookup).
    pub fn type_text(&self, text: &str) {
        assert!(self.cmd(&["send-keys", "-t", "t", "-l", text]).status().expect("send-keys").success());
    }

    /// Signs in as rita on the sign-in screen and waits for the search.
    pub fn sign_in_rita(&self) {
        self.type_text("rita");
        self.send(&["Tab"]);
        self.type_text("rita-demo-pass");
        self.send(&["Enter"]);
        self.wait_for("Rita Alvarez (rep)");
    }

    pub fn capture(&self) -> String {
        let out = self.cmd(&["capture-pane", "-p", "-t", "t"]).output().expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until `text` is no longer on it (e.g. the app has left).
    pub fn wait_gone(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.capture().contains(text) {
            assert!(Instant::now() < deadline, "timed out waiting for {text:?} to go; screen:\n{}", self.capture());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Polls the screen until `text` shows (or fails after 20 s with the screen in the message).
    pub fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?}"), |screen| screen.contains(text))
    }

    /// Polls the screen until `done` holds for a whole capture. A frame can be caught half
    /// drawn, so a test that counts or compares what is on screen waits for the count it expects
    /// rather than reading the first capture that shows any of it.
    pub fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.capture();
            if done(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}; screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]).status();
    }
}

pub fn wait_for_file(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !path.exists() {
        assert!(Instant::now() < deadline, "timed out waiting for {}", path.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn prepare_demo(dir: &Path) -> PathBuf {
    let db = dir.join("desk.sqlite");
    let out = Command::new(BIN).arg("--db").arg(&db).args(["demo", "--no-open"]).output().expect("demo runs");
    assert!(out.status.success(), "demo --no-open failed: {}", String::from_utf8_lossy(&out.stderr));
    db
}

