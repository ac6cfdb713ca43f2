//! Running the real `support-desk` binary from tests: a clean environment, optional stdin and
//! passphrase, and a working copy of the example database in its own temporary directory.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_support-desk");
pub const RITA: &str = "rita-demo-pass";
pub const LEO: &str = "leo-demo-pass";

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs the binary in `dir` with a clean environment (no inherited SUPPORT_DESK_* settings) plus
/// `env`, and `stdin` piped in when given.
pub fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env_remove("SUPPORT_DESK_DB")
        .env_remove("SUPPORT_DESK_KEY")
        .env_remove("SUPPORT_DESK_KEY_FILE")
        .env_remove("SUPPORT_DESK_PASSPHRASE")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the binary starts");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        // A process that refuses its arguments exits without reading stdin.
        let _ = pipe.write_all(text.as_bytes());
    }
    let out = child.wait_with_output().expect("the binary finishes");
    Run {
        code: out.status.code().expect("exited, not killed by a signal"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// [`run_env`] with the passphrase a command signs in with, if any.
pub fn run_in(dir: &Path, args: &[&str], passphrase: Option<&str>, stdin: Option<&str>) -> Run {
    let env: Vec<(&str, &str)> = passphrase.map(|p| ("SUPPORT_DESK_PASSPHRASE", p)).into_iter().collect();
    run_env(dir, args, &env, stdin)
}

/// A database in its own temporary directory; every command runs with `--db` on it.
pub struct Demo {
    pub dir: TempDir,
    pub db: PathBuf,
}

impl Demo {
    /// A working copy of the example database (reps rita and leo), made by `demo --no-open`.
    pub fn new() -> Demo {
        let demo = Demo::empty();
        let r = demo.run(&["demo", "--no-open"], None, None);
        assert_eq!(r.code, 0, "demo failed: {r:?}");
        demo
    }

    /// A directory for a database that does not exist yet.
    pub fn empty() -> Demo {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("desk.sqlite");
        Demo { dir, db }
    }

    pub fn run(&self, args: &[&str], passphrase: Option<&str>, stdin: Option<&str>) -> Run {
        let env: Vec<(&str, &str)> = passphrase.map(|p| ("SUPPORT_DESK_PASSPHRASE", p)).into_iter().collect();
        self.run_env(args, &env, stdin)
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
        let db = self.db.to_str().expect("utf-8 temp path");
        let mut all = vec!["--db", db];
        all.extend_from_slice(args);
        run_env(self.dir.path(), &all, env, stdin)
    }
}
