//! Shared fixtures for the core's black-box tests: a fresh database in a temporary directory, a
//! fixed PIN key, a clock that only moves when a test moves it, a deterministic source of new
//! PINs, the demo directory (`assets/demo/directory.csv`) and the reps rita (rep) and leo (lead).

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use support_desk::desk::clock::FixedClock;
use support_desk::desk::example::DirectoryRow;
use support_desk::desk::pin_hash::hash_unkeyed;
use support_desk::desk::pin_key::PinKey;
use support_desk::desk::store::OpenMode;
use support_desk::desk::audit::ChainStatus;
use support_desk::desk::{AccountId, Anchor, Desk, NewRep, Pin, PinSource, RepRole, Role, Session, SignIn, VerifySplit};
use tempfile::TempDir;

/// rita's passphrase.
pub const RITA_PASS: &str = "rita-test-passphrase";
/// leo's passphrase.
pub const LEO_PASS: &str = "leo-test-passphrase";

/// The instant every test starts at. Chosen so that no timestamp contains a demo PIN.
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2031, 6, 9, 13, 5, 0).single().expect("valid instant")
}

/// The fixed PIN key every test database uses.
pub fn key() -> PinKey {
    PinKey::from_bytes([0x5a; 32])
}

/// A PIN from its four digits.
pub fn pin(digits: &str) -> Pin {
    Pin::parse(digits).expect("a four-digit PIN")
}

/// The PIN after `p`: what the deterministic source gives when `p` is rotated away.
pub fn next_pin(p: &str) -> String {
    let n: u16 = p.parse().expect("digits");
    format!("{:04}", (n + 1) % 10_000)
}

/// The PIN `generate_pin` gives with the deterministic source.
pub const GENERATED_PIN: &str = "6802";

/// A deterministic source of new PINs: a rotation after `p` gives `p + 1` (mod 10000), a holder's
/// "Generate New PIN" gives [`GENERATED_PIN`].
pub fn pin_source() -> PinSource {
    Box::new(|avoid: Option<&Pin>| match avoid {
        Some(p) => pin(&next_pin(&p.reveal_to_holder())),
        None => pin(GENERATED_PIN),
    })
}

/// One row of the demo directory with its documented Support PIN.
#[derive(Clone, Debug)]
pub struct DemoAccount {
    pub row: DirectoryRow,
    pub pin: String,
}

/// The demo directory as `assets/demo/directory.csv` lists it, providers first.
pub fn demo_directory() -> Vec<DemoAccount> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/directory.csv");
    let mut reader = csv::Reader::from_path(&path).expect("demo directory");
    let headers = reader.headers().expect("headers").clone();
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.expect("record");
        let f: HashMap<&str, &str> = headers.iter().zip(record.iter()).collect();
        out.push(DemoAccount {
            row: DirectoryRow {
                id: f["account_id"].to_string(),
                role: Role::parse(f["role"]).expect("role"),
                name: f["name"].to_string(),
                email: f["email"].to_string(),
                phone: f["phone"].to_string(),
                practice: f["practice"].to_string(),
                primary_provider: Some(f["primary_provider"].to_string()).filter(|p| !p.is_empty()),
                pin_hash: None,
                account_locked: f["account_locked"] == "yes",
            },
            pin: f["support_pin"].to_string(),
        });
    }
    out.sort_by_key(|a| a.row.role != Role::Provider);
    assert_eq!(out.len(), 8, "the demo directory has 8 accounts");
    out
}

/// An unkeyed hash of `digits` (as the example database stores them), made once per test binary:
/// argon2 at our parameters is the slow part of every fixture.
pub fn unkeyed_hash(digits: &str) -> String {
    static CACHE: OnceLock<std::sync::Mutex<HashMap<String, String>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(h) = cache.lock().expect("cache").get(digits) {
        return h.clone();
    }
    let h = hash_unkeyed(&pin(digits));
    cache.lock().expect("cache").insert(digits.to_string(), h.clone());
    h
}

/// Opens the database at `path` with the test key, the given clock and the deterministic PINs.
pub fn open(path: &Path, mode: OpenMode, clock: &Arc<FixedClock>) -> Desk {
    Desk::open_with_key(path, mode, key())
        .expect("open the test database")
        .with_clock(clock.clone())
        .with_pin_source(pin_source())
}

/// A fresh test database: the demo directory (unkeyed hashes of the documented PINs), rita and
/// leo, the key bound.
pub struct Fixture {
    pub dir: TempDir,
    pub path: PathBuf,
    pub clock: Arc<FixedClock>,
    pub desk: Desk,
}

impl Fixture {
    /// The demo directory and both reps.
    pub fn new() -> Fixture {
        let f = Fixture::empty();
        let mut f = f;
        for a in demo_directory() {
            let mut row = a.row.clone();
            row.pin_hash = Some(unkeyed_hash(&a.pin));
            f.desk.put_account(&row).expect("put a demo account");
        }
        f.add_rep("rita", "Rita Alvarez", RepRole::Rep, RITA_PASS, None);
        f.add_rep("leo", "Leo Brandt", RepRole::Lead, LEO_PASS, None);
        f
    }

    /// An empty database (schema only), key bound.
    pub fn empty() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("desk.sqlite");
        let clock = Arc::new(FixedClock::at(start()));
        let mut desk = open(&path, OpenMode::Create, &clock);
        desk.bind_key().expect("bind the key");
        Fixture { dir, path, clock, desk }
    }

    /// Adds a rep (by an admin command).
    pub fn add_rep(&mut self, user: &str, name: &str, role: RepRole, pass: &str, account: Option<&str>) {
        self.desk
            .add_rep(
                &NewRep {
                    username: user,
                    display_name: name,
                    role,
                    passphrase: pass,
                    account_id: account.map(AccountId::new),
                },
                None,
            )
            .expect("add a rep");
    }

    /// Signs in rita.
    pub fn rita(&mut self) -> Session {
        self.sign_in("rita", RITA_PASS)
    }

    /// Signs in leo.
    pub fn leo(&mut self) -> Session {
        self.sign_in("leo", LEO_PASS)
    }

    /// Signs a rep in, failing the test if refused.
    pub fn sign_in(&mut self, user: &str, pass: &str) -> Session {
        match self.desk.sign_in(user, pass).expect("sign in") {
            SignIn::SignedIn(s) => s,
            SignIn::Refused => panic!("{user} was refused"),
        }
    }

    /// A second desk on the same file (another rep's process), same clock.
    pub fn another_desk(&self) -> Desk {
        open(&self.path, OpenMode::Existing, &self.clock)
    }

    /// A plain SQLite connection to the file, behind the app's back.
    pub fn raw(&self) -> Connection {
        raw(&self.path)
    }

    /// The highest audit sequence number so far (0 when empty).
    pub fn head_seq(&self) -> i64 {
        self.raw()
            .query_row("SELECT coalesce(max(seq), 0) FROM audit_events", [], |r| r.get(0))
            .expect("head")
    }

    /// `(kind, account_id, outcome, reason)` of every audit event after `seq`, in order.
    pub fn events_after(&self, seq: i64) -> Vec<(String, Option<String>, String, Option<String>)> {
        let conn = self.raw();
        let mut stmt = conn
            .prepare("SELECT kind, account_id, outcome, reason FROM audit_events WHERE seq > ?1 ORDER BY seq")
            .expect("prepare");
        stmt.query_map([seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }

    /// The kinds of every audit event after `seq`, in order.
    pub fn kinds_after(&self, seq: i64) -> Vec<String> {
        self.events_after(seq).into_iter().map(|e| e.0).collect()
    }

    /// One column of an account's row, read behind the app's back.
    pub fn account_column<T: rusqlite::types::FromSql>(&self, id: &str, column: &str) -> T {
        self.raw()
            .query_row(&format!("SELECT {column} FROM accounts WHERE id = ?1"), [id], |r| r.get(0))
            .expect("account column")
    }
}

/// A plain SQLite connection to `path`.
pub fn raw(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("raw connection");
    conn.busy_timeout(std::time::Duration::from_secs(10)).expect("busy timeout");
    conn
}

/// An account id.
pub fn id(text: &str) -> AccountId {
    AccountId::new(text)
}

/// Ways to divide the chain for verification: one pass; two and three threads with two, three,
/// five, eight pieces, or a piece per event (more pieces than events are clamped); the default.
pub fn verify_splits() -> Vec<VerifySplit> {
    let mut splits = vec![VerifySplit { threads: Some(1), pieces: Some(1) }, VerifySplit::default()];
    for threads in 1..=3 {
        for pieces in [2, 3, 5, 8, 10_000] {
            splits.push(VerifySplit { threads: Some(threads), pieces: Some(pieces) });
        }
    }
    splits
}

/// Verifies the trail (against `external` heads too) once per division of the chain and checks
/// that every division gives the answer of one pass from the first event to the last, which is
/// returned with the number of heads checked.
pub fn verify_every_way(desk: &Desk, external: &[Anchor]) -> (ChainStatus, usize) {
    let one_pass = desk.verify_trail_split(external, VerifySplit::threads(1)).expect("verify in one pass");
    for split in verify_splits() {
        let answer = desk.verify_trail_split(external, split).expect("verify in pieces");
        assert_eq!(answer, one_pass, "{split:?} gives another answer than one pass");
    }
    one_pass
}
