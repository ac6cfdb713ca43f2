//! The database's surroundings: files others can read, files of another owner's making, and
//! directories others can write are refused with a message that says how to fix it, and the
//! file is left as it was.

mod common;

use std::os::unix::fs::PermissionsExt;
use support_desk::desk::store::OpenMode;
use support_desk::desk::{Desk, DeskError};

fn open(path: &std::path::Path) -> Result<Desk, DeskError> {
    Desk::open_with_key(path, OpenMode::Existing, common::key())
}

fn chmod(path: &std::path::Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn a_database_others_can_read_is_refused_with_the_fix() {
    let f = common::Fixture::new();
    let path = f.path.clone();
    drop(f.desk);
    chmod(&path, 0o644);
    let before = std::fs::read(&path).expect("read");
    let err = open(&path).err().expect("refused").to_string();
    assert!(err.contains("mode 644") && err.contains("chmod 600"), "{err}");
    assert_eq!(std::fs::read(&path).expect("read"), before, "left unchanged");
    chmod(&path, 0o600);
    assert!(open(&path).is_ok(), "owner-only opens again");
}

#[test]
fn a_readable_wal_file_is_refused_too() {
    let f = common::Fixture::new();
    let path = f.path.clone();
    let keep_open = f.another_desk(); // keeps the -wal file in place
    let wal = std::path::PathBuf::from(format!("{}-wal", path.display()));
    assert!(wal.exists());
    chmod(&wal, 0o640);
    let err = open(&path).err().expect("refused").to_string();
    assert!(err.contains("-wal") && err.contains("mode 640"), "{err}");
    chmod(&wal, 0o600);
    drop(keep_open);
}

#[test]
fn a_directory_others_can_write_is_refused_unless_sticky() {
    let f = common::Fixture::new();
    let dir = f.dir.path().to_path_buf();
    let path = f.path.clone();
    drop(f.desk);
    chmod(&dir, 0o777);
    let err = open(&path).err().expect("refused").to_string();
    assert!(err.contains("can be written by other users"), "{err}");
    chmod(&dir, 0o1777);
    assert!(open(&path).is_ok(), "a sticky shared directory (like /tmp) is fine");
    chmod(&dir, 0o700);
}

#[test]
fn a_database_owned_by_another_user_is_refused() {
    let f = common::Fixture::new();
    let path = f.path.clone();
    drop(f.desk);
    // Only root can give a file away; as another user the case cannot be built here.
    if std::os::unix::fs::chown(&path, Some(65534), None).is_err() {
        eprintln!("not root: cannot make a file owned by another user; skipped");
        return;
    }
    let err = open(&path).err().expect("refused").to_string();
    assert!(err.contains("belongs to another user (uid 65534)"), "{err}");
}

#[test]
fn a_read_only_wal_left_by_a_read_only_run_is_refused_with_the_fix() {
    let f = common::Fixture::new();
    let path = f.path.clone();
    let keep_open = f.another_desk(); // keeps the -wal and -shm files in place
    let shm = std::path::PathBuf::from(format!("{}-shm", path.display()));
    assert!(shm.exists());
    chmod(&shm, 0o400);
    let err = open(&path).err().expect("refused").to_string();
    assert!(err.contains("-shm has mode 400") && err.contains(&format!("chmod 600 {}", shm.display())), "{err}");
    // Both companions left read-only: both named in one message and one command.
    let wal = std::path::PathBuf::from(format!("{}-wal", path.display()));
    assert!(wal.exists());
    chmod(&wal, 0o400);
    let err = open(&path).err().expect("refused").to_string();
    assert!(err.contains("-wal has mode 400") && err.contains("-shm has mode 400"), "{err}");
    assert!(err.contains(&format!("chmod 600 {} {}", wal.display(), shm.display())), "{err}");
    chmod(&wal, 0o600);
    chmod(&shm, 0o600);
    assert!(open(&path).is_ok());
    // While the database itself is read-only, read-only companions are what SQLite makes: not refused.
    chmod(&path, 0o400);
    chmod(&shm, 0o400);
    assert!(open(&path).is_ok(), "a read-only run is still allowed (its writes answer 'could not record')");
    chmod(&path, 0o600);
    chmod(&shm, 0o600);
    drop(keep_open);
}

#[test]
fn a_directory_given_as_the_database_is_named_as_such_and_left_alone() {
    for mode in [0o700, 0o777] {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("desks");
        std::fs::create_dir(&path).expect("mkdir");
        chmod(&path, mode);
        let want = format!("{} is a directory, not a database file", path.display());
        for create in [OpenMode::Existing, OpenMode::Create] {
            let err = Desk::open_with_key(&path, create, common::key()).err().expect("refused");
            assert!(matches!(err, DeskError::Invalid(_)), "{mode:o}: {err}");
            let text = err.to_string();
            assert!(text.contains(&want), "{mode:o}: {text}");
            assert!(!text.contains("chmod") && !text.contains("disk") && !text.contains("mode"), "{mode:o}: {text}");
        }
        let err = support_desk::desk::check::check(&path).expect_err("check refuses it").to_string();
        assert!(err.contains(&want) && !err.contains("disk"), "{mode:o}: {err}");
        assert_eq!(std::fs::read_dir(&path).expect("read dir").count(), 0, "nothing was made in it");
        let meta = std::fs::metadata(&path).expect("stat");
        assert_eq!(meta.permissions().mode() & 0o777, mode, "its mode is unchanged");
    }
}

/// A database on a read-only mount (a copy handed to an auditor, a snapshot): `check` reads it
/// as it is, since nothing can change it, and says what to do when a write-ahead log beside it
/// holds part of it. Needs a bind mount (root); skipped where that is not allowed.
#[test]
fn check_reads_a_database_on_a_read_only_mount() {
    use std::process::Command;
    let f = common::Fixture::new();
    let path = f.path.clone();
    drop(f.desk);
    let src = path.parent().expect("dir").to_path_buf();
    let mnt = tempfile::tempdir().expect("mount point");
    let mounted = Command::new("mount").arg("--bind").arg(&src).arg(mnt.path()).status().is_ok_and(|s| s.success())
        && Command::new("mount").args(["-o", "remount,bind,ro"]).arg(mnt.path()).status().is_ok_and(|s| s.success());
    if !mounted {
        let _ = Command::new("umount").arg(mnt.path()).status();
        eprintln!("cannot make a read-only bind mount here; skipped");
        return;
    }
    let on_mount = mnt.path().join(path.file_name().expect("name"));
    let wal_has_content = std::fs::metadata(format!("{}-wal", path.display())).is_ok_and(|m| m.len() > 0);
    let result = support_desk::desk::check::check(&on_mount);
    let _ = Command::new("umount").arg(mnt.path()).status();
    match result {
        Ok(health) => {
            assert!(!wal_has_content, "a log with content must not be left out silently");
            assert!(health.is_sound(), "{health:?}");
        }
        Err(e) => {
            assert!(wal_has_content, "{e}");
            assert!(e.to_string().contains("copy the database with its -wal file"), "{e}");
        }
    }
    // With the log folded into the file, the check reads it.
    rusqlite::Connection::open(&path).expect("open").query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).expect("checkpoint");
    let mounted = Command::new("mount").arg("--bind").arg(&src).arg(mnt.path()).status().is_ok_and(|s| s.success())
        && Command::new("mount").args(["-o", "remount,bind,ro"]).arg(mnt.path()).status().is_ok_and(|s| s.success());
    assert!(mounted, "mounted once, mounts again");
    let result = support_desk::desk::check::check(&on_mount);
    let _ = Command::new("umount").arg(mnt.path()).status();
    let health = result.expect("a read-only copy is checked");
    assert!(health.is_sound(), "{health:?}");
}
