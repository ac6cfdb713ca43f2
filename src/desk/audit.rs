//! The audit trail: append-only, hash-chained audit events.
//!
//! Each event's hash is SHA-256 over a domain tag, the previous event's hash and a canonical,
//! length-prefixed encoding of every field, so changing, removing or inserting a row breaks the
//! chain at that row. Order is the sequence number; the timestamp is information only.

use super::clock::to_db;
use super::error::DeskError;
use super::store::sql;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an audit event records. The text form (`as_str`) is what is stored and exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    SignedIn,
    SignInFailed,
    RepLocked,
    SignedOut,
    SessionTimedOut,
    AccountViewed,
    CallEnded,
    PinValidated,
    PinRejected,
    PinLocked,
    PinLockCleared,
    PinGenerated,
    PinViewed,
    VerdictShown,
    AccountUnlocked,
    CaseOpened,
    CaseUpdated,
    CaseClosed,
    ApprovalRecorded,
    ApprovalExpired,
    AuditExported,
    AuditVerified,
    AuditReviewed,
    PolicyChanged,
    RepAdded,
    RepEnabled,
    RepDisabled,
    DatabaseCreated,
    DirectoryImported,
    RepPassphraseReset,
    KeyRotated,
}

impl EventKind {
    /// Every kind, in a stable order (filters and help list them in this order).
    pub const ALL: &'static [EventKind] = &[
        EventKind::SignedIn,
        EventKind::SignInFailed,
        EventKind::RepLocked,
        EventKind::SignedOut,
        EventKind::SessionTimedOut,
        EventKind::AccountViewed,
        EventKind::CallEnded,
        EventKind::PinValidated,
        EventKind::PinRejected,
        EventKind::PinLocked,
        EventKind::PinLockCleared,
        EventKind::PinGenerated,
        EventKind::PinViewed,
        EventKind::VerdictShown,
        EventKind::AccountUnlocked,
        EventKind::CaseOpened,
        EventKind::CaseUpdated,
        EventKind::CaseClosed,
        EventKind::ApprovalRecorded,
        EventKind::ApprovalExpired,
        EventKind::AuditExported,
        EventKind::AuditVerified,
        EventKind::AuditReviewed,
        EventKind::PolicyChanged,
        EventKind::RepAdded,
        EventKind::RepEnabled,
        EventKind::RepDisabled,
        EventKind::DatabaseCreated,
        EventKind::DirectoryImported,
        EventKind::RepPassphraseReset,
        EventKind::KeyRotated,
    ];

    /// The stored name, e.g. `pin_validated`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::SignedIn => "signed_in",
            EventKind::SignInFailed => "sign_in_failed",
            EventKind::RepLocked => "rep_locked",
            EventKind::SignedOut => "signed_out",
            EventKind::SessionTimedOut => "session_timed_out",
            EventKind::AccountViewed => "account_viewed",
            EventKind::CallEnded => "call_ended",
            EventKind::PinValidated => "pin_validated",
            EventKind::PinRejected => "pin_rejected",
            EventKind::PinLocked => "pin_locked",
            EventKind::PinLockCleared => "pin_lock_cleared",
            EventKind::PinGenerated => "pin_generated",
            EventKind::PinViewed => "pin_viewed",
            EventKind::VerdictShown => "verdict_shown",
            EventKind::AccountUnlocked => "account_unlocked",
            EventKind::CaseOpened => "case_opened",
            EventKind::CaseUpdated => "case_updated",
            EventKind::CaseClosed => "case_closed",
            EventKind::ApprovalRecorded => "approval_recorded",
            EventKind::ApprovalExpired => "approval_expired",
            EventKind::AuditExported => "audit_exported",
            EventKind::AuditVerified => "audit_verified",
            EventKind::AuditReviewed => "audit_reviewed",
            EventKind::PolicyChanged => "policy_changed",
            EventKind::RepAdded => "rep_added",
            EventKind::RepEnabled => "rep_enabled",
            EventKind::RepDisabled => "rep_disabled",
            EventKind::DatabaseCreated => "database_created",
            EventKind::DirectoryImported => "directory_imported",
            EventKind::RepPassphraseReset => "rep_passphrase_reset",
            EventKind::KeyRotated => "key_rotated",
        }
    }

    /// The kind with this stored name.
    pub fn parse(name: &str) -> Option<EventKind> {
        EventKind::ALL.iter().copied().find(|k| k.as_str() == name)
    }
}

/// An audit event about to be written. Never put a PIN, part of a PIN, a hash or a passphrase in
/// any field.
#[derive(Clone, Debug, Default)]
pub struct NewEvent {
    /// Username of the rep acting, if any.
    pub rep: Option<String>,
    /// The case the event belongs to, if any.
    pub case_id: Option<i64>,
    /// The account the event is about (the caller, or the account checked).
    pub account_id: Option<String>,
    /// A second account (the target of an on-behalf request, the approver).
    pub other_account: Option<String>,
    /// `ok`, `fail`, or a verdict word.
    pub outcome: String,
    /// A short machine-readable reason code.
    pub reason: Option<String>,
    /// The policy version the decision used.
    pub policy_version: Option<i64>,
    /// Free text for people (escaped on display and export).
    pub detail: Option<String>,
}

/// A stored audit event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AuditEvent {
    pub seq: i64,
    pub at: String,
    pub rep: Option<String>,
    pub case_id: Option<i64>,
    pub kind: String,
    pub account_id: Option<String>,
    pub other_account: Option<String>,
    pub outcome: String,
    pub reason: Option<String>,
    pub policy_version: Option<i64>,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEvent {
    pub(crate) const COLUMNS: &'static str = "seq, at, rep, case_id, kind, account_id, \
        other_account, outcome, reason, policy_version, detail, prev_hash, hash";

    pub(crate) fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEvent> {
        Ok(AuditEvent {
            seq: r.get(0)?,
            at: r.get(1)?,
            rep: r.get(2)?,
            case_id: r.get(3)?,
            kind: r.get(4)?,
            account_id: r.get(5)?,
            other_account: r.get(6)?,
            outcome: r.get(7)?,
            reason: r.get(8)?,
            policy_version: r.get(9)?,
            detail: r.get(10)?,
            prev_hash: r.get(11)?,
            hash: r.get(12)?,
        })
    }

    /// The hash this event should carry given its fields and `prev_hash`.
    pub fn expected_hash(&self) -> String {
        hex::encode(self.as_ref().raw().digest(&mut Vec::with_capacity(256)))
    }
}

/// The fields an event's hash covers, as bytes: text is hashed as its UTF-8 bytes, so the verifier
/// can hash what SQLite hands it without checking or copying it first.
struct Canonical<'a> {
    seq: i64,
    at: &'a [u8],
    rep: Option<&'a [u8]>,
    case_id: Option<i64>,
    kind: &'a [u8],
    account_id: Option<&'a [u8]>,
    other_account: Option<&'a [u8]>,
    outcome: &'a [u8],
    reason: Option<&'a [u8]>,
    policy_version: Option<i64>,
    detail: Option<&'a [u8]>,
}

/// Length-prefixed field: a little-endian `u32` length then the bytes; `u32::MAX` alone for a
/// missing field, so an empty field and a missing one never hash alike.
fn put(buf: &mut Vec<u8>, field: Option<&[u8]>) {
    match field {
        None => buf.extend_from_slice(&u32::MAX.to_le_bytes()),
        Some(bytes) => {
            buf.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            buf.extend_from_slice(bytes);
        }
    }
}

fn put_int(buf: &mut Vec<u8>, field: Option<i64>) {
    let mut text = itoa::Buffer::new();
    put(buf, field.map(|v| text.format(v).as_bytes()));
}

/// Writes the message an event's hash is taken over into `buf` (cleared first): a domain tag, the
/// previous hash, then every field in a fixed order.
fn encode(buf: &mut Vec<u8>, prev_hash: &[u8], c: &Canonical<'_>) {
    buf.clear();
    buf.extend_from_slice(b"support-desk audit v1\0");
    put(buf, Some(prev_hash));
    put_int(buf, Some(c.seq));
    put(buf, Some(c.at));
    put(buf, c.rep);
    put_int(buf, c.case_id);
    put(buf, Some(c.kind));
    put(buf, c.account_id);
    put(buf, c.other_account);
    put(buf, Some(c.outcome));
    put(buf, c.reason);
    put_int(buf, c.policy_version);
    put(buf, c.detail);
}

/// The raw SHA-256 of an event. The message is built in `buf` and hashed in one call: one
/// contiguous input lets SHA-256 run over whole blocks instead of buffering two dozen small
/// updates, and reusing `buf` keeps the verifier free of allocations.
fn chain_digest(buf: &mut Vec<u8>, prev_hash: &[u8], c: &Canonical<'_>) -> [u8; 32] {
    encode(buf, prev_hash, c);
    Sha256::digest(buf.as_slice()).into()
}

fn chain_hash(prev_hash: &str, c: &Canonical<'_>) -> String {
    hex::encode(chain_digest(&mut Vec::with_capacity(256), prev_hash.as_bytes(), c))
}

/// True when `hex_hash` (as stored) is the hex form of `digest`, compared without allocating. The
/// app stores lowercase, so a plain comparison settles almost every row; letter case is ignored
/// only when that fails.
fn hex_matches(hex_hash: &[u8], digest: &[u8; 32]) -> bool {
    let mut buf = [0u8; 64];
    hex::encode_to_slice(digest, &mut buf).is_ok() && (buf == hex_hash || buf.eq_ignore_ascii_case(hex_hash))
}

/// An audit event borrowed from a result row, for checking the chain without copying it.
#[derive(Clone, Copy, Debug)]
pub struct EventRef<'a> {
    pub seq: i64,
    pub at: &'a str,
    pub rep: Option<&'a str>,
    pub case_id: Option<i64>,
    pub kind: &'a str,
    pub account_id: Option<&'a str>,
    pub other_account: Option<&'a str>,
    pub outcome: &'a str,
    pub reason: Option<&'a str>,
    pub policy_version: Option<i64>,
    pub detail: Option<&'a str>,
    pub prev_hash: &'a str,
    pub hash: &'a str,
}

impl<'a> EventRef<'a> {
    /// Borrows the columns of a row selected with [`AuditEvent::COLUMNS`].
    pub fn from_row(r: &'a rusqlite::Row<'_>) -> rusqlite::Result<EventRef<'a>> {
        let text = |i: usize| -> rusqlite::Result<&'a str> {
            r.get_ref(i)?.as_str().map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
        };
        let opt_text = |i: usize| -> rusqlite::Result<Option<&'a str>> {
            r.get_ref(i)?.as_str_or_null().map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
        };
        Ok(EventRef {
            seq: r.get(0)?,
            at: text(1)?,
            rep: opt_text(2)?,
            case_id: r.get(3)?,
            kind: text(4)?,
            account_id: opt_text(5)?,
            other_account: opt_text(6)?,
            outcome: text(7)?,
            reason: opt_text(8)?,
            policy_version: r.get(9)?,
            detail: opt_text(10)?,
            prev_hash: text(11)?,
            hash: text(12)?,
        })
    }

    /// The same event as bytes, as the chain checker reads it.
    pub(crate) fn raw(&self) -> RawEvent<'a> {
        RawEvent {
            seq: self.seq,
            at: self.at.as_bytes(),
            rep: self.rep.map(str::as_bytes),
            case_id: self.case_id,
            kind: self.kind.as_bytes(),
            account_id: self.account_id.map(str::as_bytes),
            other_account: self.other_account.map(str::as_bytes),
            outcome: self.outcome.as_bytes(),
            reason: self.reason.map(str::as_bytes),
            policy_version: self.policy_version,
            detail: self.detail.map(str::as_bytes),
            prev_hash: self.prev_hash.as_bytes(),
            hash: self.hash.as_bytes(),
        }
    }
}

/// An audit event borrowed from a result row as raw bytes: what the verifier reads. Text is not
/// checked for UTF-8 (the hash is over bytes, and a row edited to hold invalid UTF-8 fails its hash
/// like any other edit), which spares a validation pass over every column of every row.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawEvent<'a> {
    pub seq: i64,
    pub at: &'a [u8],
    pub rep: Option<&'a [u8]>,
    pub case_id: Option<i64>,
    pub kind: &'a [u8],
    pub account_id: Option<&'a [u8]>,
    pub other_account: Option<&'a [u8]>,
    pub outcome: &'a [u8],
    pub reason: Option<&'a [u8]>,
    pub policy_version: Option<i64>,
    pub detail: Option<&'a [u8]>,
    pub prev_hash: &'a [u8],
    pub hash: &'a [u8],
}

impl<'a> RawEvent<'a> {
    /// Borrows the columns of a row selected with [`AuditEvent::COLUMNS`].
    pub(crate) fn from_row(r: &'a rusqlite::Row<'_>) -> rusqlite::Result<RawEvent<'a>> {
        let bytes = |i: usize| -> rusqlite::Result<&'a [u8]> {
            r.get_ref(i)?.as_bytes().map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
        };
        let opt_bytes = |i: usize| -> rusqlite::Result<Option<&'a [u8]>> {
            r.get_ref(i)?.as_bytes_or_null().map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
        };
        Ok(RawEvent {
            seq: r.get(0)?,
            at: bytes(1)?,
            rep: opt_bytes(2)?,
            case_id: r.get(3)?,
            kind: bytes(4)?,
            account_id: opt_bytes(5)?,
            other_account: opt_bytes(6)?,
            outcome: bytes(7)?,
            reason: opt_bytes(8)?,
            policy_version: r.get(9)?,
            detail: opt_bytes(10)?,
            prev_hash: bytes(11)?,
            hash: bytes(12)?,
        })
    }

    /// The event's hash as its fields and `prev_hash` give it, built in `buf`.
    fn digest(&self, buf: &mut Vec<u8>) -> [u8; 32] {
        chain_digest(buf, self.prev_hash, &Canonical {
            seq: self.seq,
            at: self.at,
            rep: self.rep,
            case_id: self.case_id,
            kind: self.kind,
            account_id: self.account_id,
            other_account: self.other_account,
            outcome: self.outcome,
            reason: self.reason,
            policy_version: self.policy_version,
            detail: self.detail,
        })
    }
}

impl AuditEvent {
    /// The event as a borrowed view.
    pub fn as_ref(&self) -> EventRef<'_> {
        EventRef {
            seq: self.seq,
            at: &self.at,
            rep: self.rep.as_deref(),
            case_id: self.case_id,
            kind: &self.kind,
            account_id: self.account_id.as_deref(),
            other_account: self.other_account.as_deref(),
            outcome: &self.outcome,
            reason: self.reason.as_deref(),
            policy_version: self.policy_version,
            detail: self.detail.as_deref(),
            prev_hash: &self.prev_hash,
            hash: &self.hash,
        }
    }
}

/// Appends one audit event inside the caller's write transaction and returns its sequence
/// number. Because the transaction is `BEGIN IMMEDIATE`, no other writer can interleave between
/// reading the chain head and writing the new row.
pub fn append(
    tx: &Transaction<'_>,
    at: DateTime<Utc>,
    kind: EventKind,
    e: &NewEvent,
) -> Result<i64, DeskError> {
    // Both statements are prepared once per connection: preparing the insert compiles the
    // programs of every trigger it may fire (the failure rollup's and its guards), which would
    // otherwise be paid again by each event.
    let head: Option<(i64, String)> = tx
        .prepare_cached("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        .and_then(|mut stmt| stmt.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(sql)?;
    let (seq, prev_hash) = match head {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_string()),
    };
    let at = to_db(at);
    let hash = chain_hash(&prev_hash, &Canonical {
        seq,
        at: at.as_bytes(),
        rep: e.rep.as_deref().map(str::as_bytes),
        case_id: e.case_id,
        kind: kind.as_str().as_bytes(),
        account_id: e.account_id.as_deref().map(str::as_bytes),
        other_account: e.other_account.as_deref().map(str::as_bytes),
        outcome: e.outcome.as_bytes(),
        reason: e.reason.as_deref().map(str::as_bytes),
        policy_version: e.policy_version,
        detail: e.detail.as_deref().map(str::as_bytes),
    });
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO audit_events (seq, at, rep, case_id, kind, account_id, other_account, \
             outcome, reason, policy_version, detail, prev_hash, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )
        .map_err(sql)?;
    insert
        .execute(params![
            seq,
            at,
            e.rep,
            e.case_id,
            kind.as_str(),
            e.account_id,
            e.other_account,
            e.outcome,
            e.reason,
            e.policy_version,
            e.detail,
            prev_hash,
            hash
        ])
        .map_err(sql)?;
    Ok(seq)
}

/// The result of checking the whole chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ChainStatus {
    /// Every event links to the one before; `head_seq`/`head_hash` is the last event (0 and the
    /// genesis hash for an empty trail).
    Intact { events: i64, head_seq: i64, head_hash: String },
    /// The first event that does not fit, with what is wrong in words.
    Broken { first_bad_seq: i64, problem: String },
}

/// Checks events in sequence order, one at a time, without holding the trail in memory.
///
/// A checker can also start in the middle of the chain ([`ChainChecker::starting_at`]), so that
/// pieces of a long trail are checked side by side and then joined ([`ChainChecker::follow`]): a
/// row's hash depends only on its own stored `prev_hash` and fields, so the only thing a piece
/// cannot check alone is that its first event links to the last event of the piece before.
pub struct ChainChecker {
    expected_seq: i64,
    prev_hash: Vec<u8>,
    events: i64,
    /// The message being hashed, reused from event to event.
    buf: Vec<u8>,
}

impl Default for ChainChecker {
    fn default() -> Self {
        ChainChecker::starting_at(1, GENESIS.as_bytes())
    }
}

impl ChainChecker {
    /// A checker whose next event must be `seq` and link to `prev_hash`.
    pub(crate) fn starting_at(seq: i64, prev_hash: &[u8]) -> ChainChecker {
        ChainChecker { expected_seq: seq, prev_hash: prev_hash.to_vec(), events: 0, buf: Vec::with_capacity(256) }
    }

    /// Feeds the next event; `Err` describes the first problem found (stop there).
    pub fn feed(&mut self, e: &AuditEvent) -> Result<(), (i64, String)> {
        self.feed_ref(&e.as_ref())
    }

    /// Feeds the next event, borrowed (no copy, no allocation when it fits).
    pub fn feed_ref(&mut self, e: &EventRef<'_>) -> Result<(), (i64, String)> {
        self.feed_raw(&e.raw())
    }

    /// Feeds the next event as raw bytes (what the verifier reads from SQLite).
    pub(crate) fn feed_raw(&mut self, e: &RawEvent<'_>) -> Result<(), (i64, String)> {
        self.check_link(e.seq, e.prev_hash)?;
        if !hex_matches(e.hash, &e.digest(&mut self.buf)) {
            return Err((e.seq, "its content does not match its hash (the row was changed)".to_string()));
        }
        self.prev_hash.clear();
        self.prev_hash.extend_from_slice(e.hash);
        self.expected_seq += 1;
        self.events += 1;
        Ok(())
    }

    /// Whether an event numbered `seq` that names `prev_hash` may come next: the sequence has no
    /// gap and the event links to the last one fed.
    pub(crate) fn check_link(&self, seq: i64, prev_hash: &[u8]) -> Result<(), (i64, String)> {
        if seq != self.expected_seq {
            let problem = if seq > self.expected_seq {
                format!("events {} to {} are missing (removed behind the app's back)", self.expected_seq, seq - 1)
            } else {
                format!("sequence {seq} appears out of order")
            };
            return Err((self.expected_seq.min(seq), problem));
        }
        if prev_hash != self.prev_hash {
            return Err((seq, "does not link to the event before it (an event was removed, inserted or changed)".to_string()));
        }
        Ok(())
    }

    /// Appends a piece checked by a checker that started where this one ends; the caller has
    /// already checked the piece's first link with [`ChainChecker::check_link`].
    pub(crate) fn follow(&mut self, piece: ChainChecker) {
        self.expected_seq = piece.expected_seq;
        self.prev_hash = piece.prev_hash;
        self.events += piece.events;
    }

    /// The status once every event was fed.
    pub fn finish(self) -> ChainStatus {
        ChainStatus::Intact {
            events: self.events,
            head_seq: self.expected_seq - 1,
            // Every hash fed passed `hex_matches`, so it is ASCII hex (or the genesis hash).
            head_hash: String::from_utf8_lossy(&self.prev_hash).into_owned(),
        }
    }
}

/// Short form of a hash for screens: its first 12 hex digits.
pub fn short_hash(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Events and their hashes as the chain has always defined them (also recomputed with Python's
    /// hashlib from the encoding in the module doc): stored trails and exported files depend on
    /// these never changing, however the hashing code is made faster. `empty` shows that an empty
    /// field and a missing one hash differently.
    fn golden() -> Vec<(AuditEvent, &'static str)> {
        let bare = AuditEvent {
            seq: 1,
            at: "2031-06-09T13:05:00.000Z".into(),
            rep: None,
            case_id: None,
            kind: "database_created".into(),
            account_id: None,
            other_account: None,
            outcome: "ok".into(),
            reason: None,
            policy_version: None,
            detail: None,
            prev_hash: GENESIS.into(),
            hash: String::new(),
        };
        let full = AuditEvent {
            seq: 9_876_543_210,
            at: "2031-12-31T23:59:59.999Z".into(),
            rep: Some("rita".into()),
            case_id: Some(-42),
            kind: "verdict_shown".into(),
            account_id: Some("S-2001".into()),
            other_account: Some("P-1001".into()),
            outcome: "needs_approval".into(),
            reason: Some("staff_for_provider".into()),
            policy_version: Some(7),
            detail: Some("approver: P-1001 — José 山田 \u{1F600}".into()),
            prev_hash: "ab".repeat(32),
            hash: String::new(),
        };
        let empty = AuditEvent {
            rep: Some(String::new()),
            detail: Some(String::new()),
            ..bare.clone()
        };
        vec![
            (bare, "ea1150b2d25e26672ba1c752cd82c21bdd50645dbc852b60b4b63c758415cc80"),
            (full, "2b01b6aa50f2d63d0a143fd782ce9e6a481c1dd52e7bddce1b9df17787c79d69"),
            (empty, "9dffd6c480acce95e44f4e489d60b694e5a677f26c1a69af3fa967d32844348b"),
        ]
    }

    #[test]
    fn the_hash_definition_never_changes() {
        for (event, want) in golden() {
            assert_eq!(event.expected_hash(), want, "{event:?}");
        }
    }
}
