//! The core of support-desk: the rules, the use cases and the storage. Nothing here knows about a
//! terminal, a screen or a command line; `cli` and `tui` call in, never the other way round.
//!
//! Every use case that changes state is one `BEGIN IMMEDIATE` transaction that writes the change
//! and its audit event together, before the answer is returned.

pub mod admin;
pub mod audit;
mod cases;
pub mod check;
pub mod clock;
mod directory;
pub mod error;
pub mod example;
pub mod failure_slots;
pub mod generate;
pub mod ids;
pub mod import;
pub mod keys;
pub mod pin;
mod pin_check;
pub mod pin_hash;
pub mod pin_key;
pub mod policy;
mod reps;
pub mod review;
pub mod setup;
pub mod store;
pub mod text;
mod trail;
mod verify;
pub mod export;
mod verdicts;

pub use cases::{
    Approval, ApprovalMethod, ApprovalOutcome, CaseDetail, CaseFilter, CaseNote, CaseOutcome, CasePinCheck,
    CaseStatus, CaseSummary, CaseVerdict, Channel, CheckedAs, Party, Verification,
};
pub use directory::{Account, AccountSummary, CallerCard, Person, Searcher};
pub use error::DeskError;
pub use ids::{AccountId, CaseId, RepId};
pub use pin::Pin;
pub use pin_check::PinCheck;
pub use policy::{Decision, Policy, Request, Role, Rule, Verdict};
pub use reps::{NewRep, RepInfo, RepRole, Session, SignIn, check_passphrase, check_username};
pub use trail::{Anchor, AuditFilter};
pub use verify::VerifySplit;
pub use verdicts::{Unlocked, VerdictShown};

use clock::{Clock, SystemClock};
use pin_hash::PinHasher;
use pin_key::PinKey;
use rusqlite::OptionalExtension;
use std::path::Path;
use std::sync::Arc;
use store::{OpenMode, Store};

/// Makes a new random Support PIN; `avoid` is the PIN just used, which the new one must differ from.
pub type PinSource = Box<dyn FnMut(Option<&Pin>) -> Pin + Send>;

/// The desk: one open database, the PIN key, a clock and a source of new PINs.
pub struct Desk {
    store: Store,
    hasher: Result<PinHasher, String>,
    /// Ids of the keys loaded (newest first), or why none could be loaded.
    key_ids: Result<Vec<String>, String>,
    clock: Arc<dyn Clock>,
    new_pin: PinSource,
    /// The last complete substring lookup, for narrowing as the rep types on.
    lookups: directory::Narrowing,
}

impl Desk {
    /// Opens the database at `path` with the key(s) found beside it (or in the environment). A
    /// missing key only stops what needs it (Support PIN checks and changes).
    pub fn open(path: &Path, mode: OpenMode) -> Result<Desk, DeskError> {
        let keys = PinKey::load_ring_for(path).map_err(|e| e.to_string());
        Desk::open_with(path, mode, keys)
    }

    /// Opens the database with a given key (tests, tools).
    pub fn open_with_key(path: &Path, mode: OpenMode, key: PinKey) -> Result<Desk, DeskError> {
        Desk::open_with(path, mode, Ok(vec![key]))
    }

    /// Opens the database with the keys of a key file, newest first (tests, tools).
    pub fn open_with_keys(path: &Path, mode: OpenMode, keys: Vec<PinKey>) -> Result<Desk, DeskError> {
        Desk::open_with(path, mode, Ok(keys))
    }

    fn open_with(path: &Path, mode: OpenMode, keys: Result<Vec<PinKey>, String>) -> Result<Desk, DeskError> {
        let store = Store::open(path, mode)?;
        let key_ids = keys.as_ref().map(|k| k.iter().map(PinKey::id).collect()).map_err(Clone::clone);
        let mut desk = Desk {
            store,
            hasher: Err(String::new()),
            key_ids,
            clock: Arc::new(SystemClock),
            new_pin: Box::new(random_pin),
            lookups: directory::Narrowing::default(),
        };
        desk.hasher = desk.choose_key(keys)?;
        Ok(desk)
    }

    /// Replaces the clock (tests, the example builder).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Desk {
        self.clock = clock;
        self
    }

    /// Replaces the source of new PINs (tests).
    pub fn with_pin_source(mut self, source: PinSource) -> Desk {
        self.new_pin = source;
        self
    }

    /// The database path.
    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// The current time from the desk's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    fn meta(&self, key: &str) -> Result<Option<String>, DeskError> {
        self.store
            .conn()
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.store.read_error(e))
    }

    /// Picks the key new hashes are made with: the one the database records (`meta.key_id`), or
    /// the newest when none is recorded yet. A key file that does not hold the recorded key does
    /// not belong to this database: every PIN check is refused instead of silently failing.
    fn choose_key(&self, keys: Result<Vec<PinKey>, String>) -> Result<Result<PinHasher, String>, DeskError> {
        let mut keys = match keys {
            Ok(k) if k.is_empty() => return Ok(Err("the key file holds no key".into())),
            Ok(k) => k,
            Err(e) => return Ok(Err(e)),
        };
        let recorded = self.meta("key_id")?;
        let at = match &recorded {
            None => 0,
            Some(id) => match keys.iter().position(|k| &k.id() == id) {
                Some(at) => at,
                None => {
                    let found: Vec<String> = keys.iter().map(PinKey::id).collect();
                    return Ok(Err(format!(
                        "the PIN key does not belong to the database {} (key {} found, the database \
                         was keyed with {}); use the key file made with this database",
                        self.store.path().display(),
                        found.join(", "),
                        id
                    )));
                }
            },
        };
        let current = keys.remove(at);
        Ok(Ok(PinHasher::with_older(current, keys)))
    }

    /// If the database records which key its hashes use, a different key is refused.
    fn check_key_belongs(&mut self) -> Result<(), DeskError> {
        if let Ok(hasher) = &self.hasher {
            let recorded = self.meta("key_id")?;
            if recorded.as_deref().is_some_and(|r| r != hasher.key_id()) {
                self.hasher = Err(format!(
                    "the PIN key does not belong to the database {}; use the key file made with this database",
                    self.store.path().display()
                ));
            }
        }
        Ok(())
    }

    /// Records the loaded key as this database's key if none is recorded yet (`init`, `demo`).
    pub fn bind_key(&mut self) -> Result<(), DeskError> {
        let key_id = self.hasher()?.key_id().to_string();
        self.store.write(|tx| {
            tx.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('key_id', ?1)", [&key_id])
                .map_err(store::sql)?;
            Ok(())
        })?;
        self.check_key_belongs()
    }

    fn hasher(&self) -> Result<&PinHasher, DeskError> {
        hasher_of(&self.hasher)
    }

    /// The policy values in force.
    pub fn policy(&self) -> Result<Policy, DeskError> {
        let conn = self.store.conn();
        let read = || -> rusqlite::Result<Policy> {
            let v = |name: &str| -> rusqlite::Result<i64> {
                conn.query_row("SELECT value FROM policy_values WHERE name = ?1", [name], |r| r.get(0))
            };
            let version: String =
                conn.query_row("SELECT value FROM meta WHERE key = 'policy_version'", [], |r| r.get(0))?;
            Ok(Policy {
                version: version.parse().unwrap_or(0),
                pin_lockout_threshold: v("pin_lockout_threshold")?,
                case_failure_limit: v("case_failure_limit")?,
                approval_lifetime_minutes: v("approval_lifetime_minutes")?,
                idle_timeout_minutes: v("idle_timeout_minutes")?,
                rep_lockout_threshold: v("rep_lockout_threshold")?,
            })
        };
        read().map_err(|e| self.store.read_error(e))
    }

    /// Records a refused privileged attempt (a rep checking their own PIN, a rep clearing a lock
    /// or asking for the lead's review) as an audit event with outcome `refused`, in a transaction
    /// of its own: the refused work wrote nothing. Fail closed: the refusal stands whether or not
    /// it could be recorded, so a failure to record is not the caller's answer.
    pub(crate) fn record_refusal(&self, kind: audit::EventKind, event: audit::NewEvent) {
        let now = self.clock.now();
        let event = audit::NewEvent { outcome: "refused".into(), ..event };
        let _ = self.store.write_shared(|tx| audit::append(tx, now, kind, &event));
    }
}

/// The hasher, or the reason the key is unusable (a free function so callers can borrow other
/// fields of the desk at the same time).
fn hasher_of(hasher: &Result<PinHasher, String>) -> Result<&PinHasher, DeskError> {
    hasher.as_ref().map_err(|e| DeskError::Key(e.clone()))
}

/// A uniformly random PIN from the operating system's secure random source, different from `avoid`
/// (a PIN is good for one validation, so the next one must not be the same).
pub fn random_pin(avoid: Option<&Pin>) -> Pin {
    loop {
        let mut two = [0u8; 2];
        pin_key::fill_secure(&mut two);
        let n = u16::from_le_bytes(two);
        // 60000 is the largest multiple of 10000 that fits; rejecting above it keeps all PINs
        // equally likely.
        if n >= 60_000 {
            continue;
        }
        let pin = Pin::from_number(n % 10_000);
        if Some(&pin) != avoid {
            return pin;
        }
    }
}
