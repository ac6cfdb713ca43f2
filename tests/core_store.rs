//! The database file: created owner-only, WAL and foreign keys on, never changed when it is from a
//! newer version, damaged or not ours, and "could not record, nothing was decided" when a write
//! cannot happen.

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use support_desk::desk::pin_key::PinKey;
use support_desk::desk::store::{OpenMode, SCHEMA_VERSION};
use support_desk::desk::{Desk, DeskError, PinCheck, Request};

/// True when the file at `path` holds exactly `bytes` (compared without printing them).
fn same(path: &Path, bytes: &[u8]) -> bool {
    std::fs::read(path).expect("read") == bytes
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Closes the fixture's desk (its last connection checkpoints the WAL) and returns the directory
/// and path.
fn closed(f: Fixture) -> (tempfile::TempDir, PathBuf) {
    let Fixture { dir, path, desk, .. } = f;
    drop(desk);
    (dir, path)
}

fn open_err(path: &Path, mode: OpenMode) -> DeskError {
    match Desk::open_with_key(path, mode, key()) {
        Ok(_) => panic!("{} should not open", path.display()),
        Err(e) => e,
    }
}

#[test]
fn a_new_database_and_its_wal_are_owner_only() {
    let mut f = Fixture::new();
    let rita = f.rita();
    f.desk.check_pin(&rita, &id("S-2001"), &pin("3355")).expect("a write");
    assert_eq!(mode(&f.path), 0o600);
    let wal = sibling(&f.path, "-wal");
    assert!(wal.exists(), "WAL mode keeps a -wal file while the desk is open");
    assert_eq!(mode(&wal), 0o600);
    let shm = sibling(&f.path, "-shm");
    if shm.exists() {
        assert_eq!(mode(&shm), 0o600);
    }
}

#[test]
fn the_key_file_is_owner_only_and_a_readable_one_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("desk.sqlite");
    let made = PinKey::load_or_create_for(&db).expect("create");
    let file = PinKey::default_path(&db);
    assert_eq!(mode(&file), 0o600);
    assert_eq!(PinKey::load_file(&file).expect("load").id(), made.id());
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    assert!(PinKey::load_file(&file).is_err(), "a key others can read is refused");
}

#[test]
fn wal_journaling_and_foreign_keys_are_on() {
    let mut f = Fixture::new();
    let journal: String = f.raw().query_row("PRAGMA journal_mode", [], |r| r.get(0)).expect("pragma");
    assert_eq!(journal.to_lowercase(), "wal");
    let version: i64 = f.raw().query_row("PRAGMA user_version", [], |r| r.get(0)).expect("pragma");
    assert_eq!(version, SCHEMA_VERSION);
    // The desk's connection enforces foreign keys: a staff row naming a provider who does not
    // exist is refused, and nothing is stored.
    let mut row = demo_directory().into_iter().find(|a| a.row.id == "S-2001").expect("row").row;
    row.id = "S-3000".into();
    row.primary_provider = Some("P-0404".into());
    assert!(matches!(f.desk.put_account(&row), Err(DeskError::NotRecorded { .. })));
    assert!(f.desk.account(&id("S-3000")).expect("read").is_none());
}

/// `(name, columns, partial WHERE)` of every index on the audit trail.
fn audit_indexes(conn: &rusqlite::Connection) -> Vec<(String, String, Option<String>)> {
    let mut stmt = conn
        .prepare(
            "SELECT il.name, (SELECT group_concat(ii.name, ',') FROM pragma_index_info(il.name) ii), s.sql \
             FROM pragma_index_list('audit_events') il JOIN sqlite_schema s ON s.name = il.name ORDER BY il.name",
        )
        .expect("prepare");
    stmt.query_map([], |r| {
        let sql: String = r.get(2)?;
        let partial = sql.split_once(" WHERE ").map(|(_, w)| w.split_whitespace().collect::<Vec<_>>().join(" "));
        Ok((r.get(0)?, r.get(1)?, partial))
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("indexes")
}

/// Each index on the trail is one more page written by every audit event that it covers, so no
/// two cover the same columns for the same rows, and the events without an account (sign-ins,
/// sign-outs) touch no account index.
#[test]
fn audit_events_carry_no_duplicate_index_and_no_account_index_entry_without_an_account() {
    let f = Fixture::new();
    let indexes = audit_indexes(&f.raw());
    let mut shapes: Vec<(&str, Option<&str>)> = indexes.iter().map(|(_, c, w)| (c.as_str(), w.as_deref())).collect();
    shapes.sort();
    let before = shapes.len();
    shapes.dedup();
    assert_eq!(shapes.len(), before, "duplicate indexes: {indexes:?}");
    for (name, columns, partial) in &indexes {
        assert!(!columns.starts_with("account_id") || partial.is_some(), "{name} indexes every event: {indexes:?}");
    }
    let account_kind = indexes.iter().find(|(n, ..)| n == "audit_account_kind").expect("INDEXED BY in review queries");
    assert_eq!((account_kind.1.as_str(), account_kind.2.as_deref()), ("account_id,kind,seq", Some("account_id IS NOT NULL")));
}

#[test]
fn a_database_from_a_newer_version_is_refused_unchanged() {
    let (_dir, path) = closed(Fixture::new());
    {
        let conn = raw(&path);
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).expect("bump");
    }
    assert!(!sibling(&path, "-wal").exists());
    let before = std::fs::read(&path).expect("read");
    match open_err(&path, OpenMode::Existing) {
        DeskError::NewerSchema { found, supported, .. } => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    assert!(matches!(open_err(&path, OpenMode::Create), DeskError::NewerSchema { .. }));
    assert!(same(&path, &before), "not downgraded, not touched");
}

/// Bytes that are not a database (a fixed pseudo-random stream).
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn a_file_of_random_bytes_is_damaged_and_unchanged() {
    let dir = tempfile::tempdir().expect("dir");
    for len in [1usize, 50, 100, 4096, 65_536] {
        let path = dir.path().join(format!("noise-{len}.sqlite"));
        let bytes = noise(len);
        std::fs::write(&path, &bytes).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        for mode in [OpenMode::Existing, OpenMode::Create] {
            match open_err(&path, mode) {
                DeskError::Damaged { path: named } => assert_eq!(named, path),
                other => panic!("{len} bytes: expected Damaged, got {other:?}"),
            }
        }
        assert!(same(&path, &bytes), "{len} bytes: changed");
    }
}

#[test]
fn a_truncated_copy_is_damaged_and_unchanged() {
    let mut f = Fixture::new();
    let rita = f.rita();
    for _ in 0..3 {
        f.desk.check_pin(&rita, &id("S-2002"), &pin("1111")).expect("check");
    }
    let (dir, path) = closed(f);
    let bytes = std::fs::read(&path).expect("read");
    assert!(bytes.len() >= 8 * 4096, "a database of several pages ({} bytes)", bytes.len());
    // Cut inside the header, after the first page, in the middle and before the last page (at
    // page boundaries: a cut inside the last page's unused space loses nothing).
    let page = 4096;
    for cut in [60, page, 3 * page, bytes.len() / 2 / page * page, bytes.len() - page] {
        let copy = dir.path().join(format!("cut-{cut}.sqlite"));
        std::fs::write(&copy, &bytes[..cut]).expect("write");
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        match Desk::open_with_key(&copy, OpenMode::Existing, key()) {
            Err(DeskError::Damaged { path: named }) => assert_eq!(named, copy),
            Err(other) => panic!("cut at {cut}: expected Damaged, got {other:?}"),
            Ok(_) => panic!("cut at {cut}: a truncated copy opened"),
        }
        assert!(same(&copy, &bytes[..cut]), "cut at {cut}: changed");
    }
}

#[test]
fn a_sqlite_file_that_is_not_ours_is_refused_unchanged() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("other.sqlite");
    raw(&path).execute_batch("CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT);").expect("create");
    let before = std::fs::read(&path).expect("read");
    assert!(matches!(open_err(&path, OpenMode::Existing), DeskError::Storage { .. }));
    assert!(same(&path, &before), "changed");
}

#[test]
fn opening_a_missing_database_creates_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("nope.sqlite");
    match open_err(&path, OpenMode::Existing) {
        DeskError::NoDatabase { path: named } => assert_eq!(named, path),
        other => panic!("expected NoDatabase, got {other:?}"),
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("list").collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Makes `path` unwritable for this process and undoes it on drop: chmod 0444 for an ordinary
/// user; for root, whom chmod does not stop, the immutable attribute (`chattr +i`) where the file
/// system has it.
struct ReadOnly {
    path: PathBuf,
    immutable: bool,
}

impl ReadOnly {
    fn make(path: &Path) -> Option<ReadOnly> {
        // Owner read-only: group and others get nothing (the desk refuses a file others can read).
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o400)).expect("chmod");
        let mut guard = ReadOnly { path: path.to_path_buf(), immutable: false };
        if guard.writable() {
            let ok = std::process::Command::new("chattr")
                .arg("+i")
                .arg(path)
                .stderr(std::process::Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            guard.immutable = ok;
            if !ok || guard.writable() {
                return None;
            }
        }
        Some(guard)
    }

    fn writable(&self) -> bool {
        std::fs::OpenOptions::new().append(true).open(&self.path).is_ok()
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        if self.immutable {
            let _ = std::process::Command::new("chattr").arg("-i").arg(&self.path).status();
        }
        // SQLite gives the -wal and -shm files a read-only connection made the database's mode.
        for file in [self.path.clone(), sibling(&self.path, "-wal"), sibling(&self.path, "-shm")] {
            let _ = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600));
        }
    }
}

#[test]
fn a_read_only_database_decides_nothing() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let clock = f.clock.clone();
    let (_dir, path) = closed(f);
    let head_before: i64 = raw(&path).query_row("SELECT max(seq) FROM audit_events", [], |r| r.get(0)).expect("head");
    let Some(guard) = ReadOnly::make(&path) else {
        // Root on a file system without the immutable attribute: nothing can make the file
        // unwritable for us. `audit_write_failures_decide_nothing` covers the same promise.
        eprintln!("skipped: cannot make {} read-only for this user", path.display());
        return;
    };
    let bytes = std::fs::read(&path).expect("read");
    {
        let mut desk = open(&path, OpenMode::Existing, &clock);
        for digits in ["3355", "3356"] {
            match desk.check_pin(&rita, &id("S-2001"), &pin(digits)) {
                Err(e @ DeskError::NotRecorded { .. }) => {
                    assert!(e.to_string().starts_with("could not record, nothing was decided"), "{e}");
                }
                other => panic!("expected NotRecorded, got {other:?}"),
            }
        }
        assert!(matches!(desk.decide(&rita, &id("S-2001"), &Request::OwnAccount), Err(DeskError::NotRecorded { .. })));
        assert!(matches!(desk.open_card(&rita, &id("S-2001")), Err(DeskError::NotRecorded { .. })));
        // Reading still works.
        assert!(!desk.lookup("Carla", 5).expect("lookup").is_empty());
    }
    assert!(same(&path, &bytes), "changed");
    drop(guard);

    let mut desk = open(&path, OpenMode::Existing, &clock);
    let head_after: i64 = raw(&path).query_row("SELECT max(seq) FROM audit_events", [], |r| r.get(0)).expect("head");
    assert_eq!(head_after, head_before, "no audit event");
    assert_eq!(desk.account(&id("S-2001")).expect("read").expect("exists").pin_failures, 0);
    assert_eq!(desk.check_pin(&rita, &id("S-2001"), &pin("3356")).expect("check"), PinCheck::Matched, "not rotated");
}

#[test]
fn audit_write_failures_decide_nothing() {
    let mut f = Fixture::new();
    let rita = f.rita();
    let leo = f.leo();
    let start = f.head_seq();
    // Every audit write fails, as it would on a full disk.
    f.raw()
        .execute_batch("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(FAIL, 'full'); END;")
        .expect("trigger");
    let not_recorded = |r: Result<(), DeskError>, what: &str| match r {
        Err(DeskError::NotRecorded { .. }) => {}
        other => panic!("{what}: expected NotRecorded, got {other:?}"),
    };
    for _ in 0..5 {
        not_recorded(f.desk.check_pin(&rita, &id("S-2001"), &pin("3355")).map(drop), "wrong PIN");
    }
    not_recorded(f.desk.check_pin(&rita, &id("S-2001"), &pin("3356")).map(drop), "right PIN");
    not_recorded(f.desk.decide(&rita, &id("S-2001"), &Request::OwnAccount).map(drop), "verdict");
    not_recorded(f.desk.unlock(&rita, &id("S-2003"), "called back on the number on file").map(drop), "unlock");
    not_recorded(f.desk.open_card(&rita, &id("S-2001")).map(drop), "card");
    not_recorded(f.desk.sign_in("rita", "wrong passphrase!").map(drop), "sign-in");
    not_recorded(f.desk.generate_pin(&id("S-2004")).map(drop), "new PIN");
    not_recorded(f.desk.set_rep_enabled("rita", false, Some(&leo)), "disable");

    assert_eq!(f.head_seq(), start);
    assert_eq!(f.account_column::<i64>("S-2001", "pin_failures"), 0, "no failure counted");
    assert_eq!(f.account_column::<i64>("S-2001", "pin_locked"), 0);
    assert_eq!(f.account_column::<Option<String>>("S-2001", "pin_key_id"), None, "not rotated");
    assert!(f.desk.account(&id("S-2003")).expect("read").expect("exists").account_locked, "not unlocked");
    assert!(f.desk.list_reps().expect("list").iter().all(|r| !r.disabled && r.failed_signins == 0));

    f.raw().execute_batch("DROP TRIGGER refuse_audit").expect("drop");
    assert_eq!(f.desk.check_pin(&rita, &id("S-2001"), &pin("3356")).expect("check"), PinCheck::Matched);
    assert_eq!(f.desk.check_pin(&rita, &id("S-2004"), &pin("2604")).expect("check"), PinCheck::Matched, "old PIN kept");
}

#[test]
fn an_emptied_database_file_is_damaged_never_filled_with_a_new_schema() {
    let f = Fixture::new();
    let (_dir, path) = closed(f);
    // A disk fault, or `> file` by mistake: the file is there but holds nothing.
    std::fs::write(&path, b"").expect("empty it");
    let _ = std::fs::remove_file(sibling(&path, "-wal"));
    match open_err(&path, OpenMode::Existing) {
        DeskError::Damaged { path: named } => assert_eq!(named, path),
        other => panic!("expected Damaged, got {other:?}"),
    }
    assert_eq!(std::fs::metadata(&path).expect("meta").len(), 0, "still empty: nothing was made over it");
    // A database with no schema at all (made by another tool) is not taken over either.
    let dir = tempfile::tempdir().expect("dir");
    let bare = dir.path().join("bare.sqlite");
    raw(&bare).execute_batch("PRAGMA page_size = 4096; VACUUM;").expect("an empty SQLite database");
    std::fs::set_permissions(&bare, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let before = std::fs::read(&bare).expect("read");
    assert!(matches!(open_err(&bare, OpenMode::Existing), DeskError::Damaged { .. }));
    assert!(same(&bare, &before), "changed");
}

#[test]
fn once_damage_is_seen_every_later_write_is_refused() {
    let mut f = Fixture::new();
    f.rita();
    let conn = f.raw();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).expect("checkpoint");
    let root: i64 = conn
        .query_row("SELECT rootpage FROM sqlite_schema WHERE name = 'accounts_search_prefix'", [], |r| r.get(0))
        .expect("the name-prefix index");
    let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).expect("page size");
    drop(conn);
    let (dir, path) = closed(f);
    // Scribble over the name-prefix index: lookups read it, signing in does not.
    let mut bytes = std::fs::read(&path).expect("read");
    let at = ((root - 1) * page_size) as usize;
    bytes[at..at + page_size as usize].copy_from_slice(&noise(page_size as usize));
    std::fs::write(&path, &bytes).expect("write");
    let mut desk = Desk::open_with_key(&path, OpenMode::Existing, key()).expect("opens: the header is sound");
    match desk.lookup("carla", 10) {
        Err(DeskError::Damaged { .. }) => {}
        other => panic!("the lookup reads the damaged page: {other:?}"),
    }
    // Signing in would only write the audit trail, whose pages are sound; it is refused all the same.
    match desk.sign_in("rita", RITA_PASS) {
        Err(DeskError::Damaged { path: named }) => assert_eq!(named, path),
        Err(other) => panic!("expected Damaged, got {other:?}"),
        Ok(_) => panic!("a write went into a file known to be damaged"),
    }
    drop(dir);
}
