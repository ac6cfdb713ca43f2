//! A full disk: on a small size-limited filesystem (tmpfs, mounted by this test when it runs as
//! root), a Support PIN check that cannot be recorded gives "could not record, nothing was
//! decided" and no result, changes nothing, and works again once there is room.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_support-desk");

/// A tmpfs of `size`, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().expect("tempdir");
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("cannot mount a small filesystem here (needs root): skipping the disk-full test");
            return None;
        }
        Some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn desk(db: &Path, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(args)
        .env("SUPPORT_DESK_PASSPHRASE", "rita-demo-pass")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write");
    child.wait_with_output().expect("wait")
}

#[test]
fn a_full_disk_records_nothing_and_decides_nothing() {
    let Some(disk) = SmallDisk::mount("8m") else { return };
    let db = disk.path().join("desk.sqlite");
    let made = desk(&db, &["demo", "--no-open"], "");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let before: i64 = rusqlite::Connection::open(&db)
        .expect("open")
        .query_row("SELECT count(*) FROM audit_events", [], |r| r.get(0))
        .expect("count");

    // Another desk process has the database open (as on a busy support host), so its shared-memory
    // and WAL files already exist when the disk fills.
    let other_process = rusqlite::Connection::open(&db).expect("open");
    let _: i64 = other_process.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0)).expect("read");
    // Fill the filesystem to the last byte.
    let filler = disk.path().join("filler");
    let mut f = std::fs::File::create(&filler).expect("filler");
    let chunk = vec![0u8; 4096];
    while std::io::Write::write_all(&mut f, &chunk).is_ok() {}
    drop(f);

    let out = desk(&db, &["pin", "check", "S-2001", "--rep", "rita"], "3356\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("could not record, nothing was decided"), "{stderr}");
    assert!(!stdout.contains("matched"), "no result is shown: {stdout}");
    assert!(!stderr.to_lowercase().contains("sql"), "no raw SQL error: {stderr}");

    // Room again: nothing was recorded or rotated, so the same PIN still matches.
    std::fs::remove_file(&filler).expect("remove filler");
    let count: i64 = rusqlite::Connection::open(&db)
        .expect("open")
        .query_row("SELECT count(*) FROM audit_events", [], |r| r.get(0))
        .expect("count");
    assert!(count <= before + 1, "at most the sign-in was recorded before the disk filled");
    let again = desk(&db, &["pin", "check", "S-2001", "--rep", "rita"], "3356\n");
    assert_eq!(again.status.code(), Some(0), "{}", String::from_utf8_lossy(&again.stderr));
    assert!(String::from_utf8_lossy(&again.stdout).contains("matched"));
}
