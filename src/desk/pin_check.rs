//! Checking a caller's Support PIN, and the holder generating a new one.
//!
//! A check answers only matched / did not match (with attempts left) / locked. A match rotates the
//! PIN at once to a new random one nobody at the desk sees. Failures are counted in the shared
//! database, so the lockout holds across reps, processes and restarts. An unknown account, an
//! account without a PIN and a wrong PIN give the same answer after the same work.

use super::audit::{self, EventKind, NewEvent};
use super::clock::to_db;
use super::error::DeskError;
use super::ids::AccountId;
use super::pin::Pin;
use super::reps::{Session, require_active};
use super::store::sql;
use super::Desk;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

/// The outcome of one Support PIN check: all the rep ever learns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum PinCheck {
    /// The PIN matched; it has already been replaced by a new one.
    Matched,
    /// The PIN did not match; this many more failures lock it.
    Rejected { attempts_left: i64 },
    /// The PIN is locked (now or before): even the right PIN is refused until the holder makes a
    /// new one or a lead clears the lock.
    Locked,
}

/// What the check saw before doing the slow hash work; compared again inside the transaction.
#[derive(Clone, PartialEq, Eq)]
struct Snapshot {
    pin_hash: Option<String>,
    pin_key_id: Option<String>,
    pin_locked: bool,
}

impl Desk {
    fn pin_snapshot(&self, id: &AccountId) -> Result<Option<Snapshot>, DeskError> {
        self.store
            .conn()
            .query_row(
                "SELECT pin_hash, pin_key_id, pin_locked FROM accounts WHERE id = ?1",
                [id.as_str()],
                |r| Ok(Snapshot { pin_hash: r.get(0)?, pin_key_id: r.get(1)?, pin_locked: r.get(2)? }),
            )
            .optional()
            .map_err(|e| self.store.read_error(e))
    }

    /// Checks the Support PIN the caller read out for account `id`.
    ///
    /// The argon2 work happens outside the write transaction (so other reps are not kept waiting);
    /// the transaction then re-reads the account and, if its PIN changed meanwhile, the check is
    /// done again against the new hash.
    pub fn check_pin(&mut self, session: &Session, id: &AccountId, pin: &Pin) -> Result<PinCheck, DeskError> {
        self.check_pin_with(session, id, pin, None, |_, _| Ok(None), |_, check, _, _| Ok(check))
    }

    /// The Support PIN check behind [`Desk::check_pin`] and the checks inside a case. In the one
    /// write transaction: `gate` may stop the check before anything about the PIN is written
    /// (returning its answer), then the check is recorded (its events carry `case_id`), then
    /// `after` adds what the outcome means for the case (given the outcome, the time and the
    /// sequence number of the check's own event).
    pub(crate) fn check_pin_with<T>(
        &mut self,
        session: &Session,
        id: &AccountId,
        pin: &Pin,
        case_id: Option<i64>,
        mut gate: impl FnMut(&rusqlite::Transaction<'_>, chrono::DateTime<chrono::Utc>) -> Result<Option<T>, DeskError>,
        mut after: impl FnMut(&rusqlite::Transaction<'_>, PinCheck, chrono::DateTime<chrono::Utc>, i64) -> Result<T, DeskError>,
    ) -> Result<T, DeskError> {
        if session.account_id.as_ref() == Some(id) {
            // Refused without a check (no argon2 work, no failure counted), but audited.
            self.record_refusal(EventKind::PinRejected, NewEvent {
                rep: Some(session.username.clone()),
                case_id,
                account_id: Some(id.to_string()),
                reason: Some("rep_own_account".into()),
                detail: Some("not checked: a rep never verifies their own account".into()),
                ..NewEvent::default()
            });
            return Err(DeskError::Refused("a rep never verifies their own account; another rep must take this call".into()));
        }
        let policy = self.policy()?;
        let threshold = policy.pin_lockout_threshold;
        loop {
            let hasher = super::hasher_of(&self.hasher)?;
            let snap = self.pin_snapshot(id)?;
            let matched = match &snap {
                Some(Snapshot { pin_hash: Some(phc), pin_key_id, pin_locked: false }) => {
                    hasher.verify(pin, phc, pin_key_id.as_deref())
                }
                _ => {
                    hasher.burn(pin);
                    false
                }
            };
            let rotation = if matched {
                let next = (self.new_pin)(Some(pin));
                Some((hasher.hash(&next), hasher.key_id().to_string()))
            } else {
                None
            };
            let now = self.clock.now();
            let at = to_db(now);
            let rep = Some(session.username.clone());
            let current_key = hasher.key_id().to_string();
            let outcome = self.store.write(|tx| {
                require_active(tx, session)?;
                // A desk started before `key rotate` cannot check new hashes: refuse rather than
                // count a failure the caller did not make.
                let recorded: Option<String> = tx
                    .query_row("SELECT value FROM meta WHERE key = 'key_id'", [], |r| r.get(0))
                    .optional()
                    .map_err(sql)?;
                if recorded.is_some_and(|r| r != current_key) {
                    return Err(DeskError::Key(
                        "the PIN key was rotated since this desk started; start support-desk again (nothing was decided)"
                            .into(),
                    ));
                }
                if let Some(stop) = gate(tx, now)? {
                    return Ok(Some(stop));
                }
                let checked = (|| -> Result<Option<(PinCheck, i64)>, DeskError> {
                let current: Option<Snapshot> = tx
                    .query_row(
                        "SELECT pin_hash, pin_key_id, pin_locked FROM accounts WHERE id = ?1",
                        [id.as_str()],
                        |r| Ok(Snapshot { pin_hash: r.get(0)?, pin_key_id: r.get(1)?, pin_locked: r.get(2)? }),
                    )
                    .optional()
                    .map_err(sql)?;
                if current != snap {
                    return Ok(None);
                }
                let event = |outcome: &str, reason: Option<&str>, detail: Option<String>| NewEvent {
                    rep: rep.clone(),
                    case_id,
                    account_id: Some(id.to_string()),
                    outcome: outcome.into(),
                    reason: reason.map(str::to_string),
                    policy_version: Some(policy.version),
                    detail,
                    ..NewEvent::default()
                };
                let Some(current) = current else {
                    // No such account: count and answer exactly as for a real one.
                    let failures: i64 = tx
                        .query_row(
                            "INSERT INTO unknown_pin_failures (account_key, failures) VALUES (?1, 1) \
                             ON CONFLICT (account_key) DO UPDATE SET failures = failures + 1 \
                             RETURNING failures",
                            [id.as_str()],
                            |r| r.get(0),
                        )
                        .map_err(sql)?;
                    let seq = audit::append(tx, now, EventKind::PinRejected, &event("fail", Some("unknown_account"), None))?;
                    return Ok(Some((
                        if failures >= threshold {
                            PinCheck::Locked
                        } else {
                            PinCheck::Rejected { attempts_left: threshold - failures }
                        },
                        seq,
                    )));
                };
                if current.pin_locked {
                    let seq = audit::append(tx, now, EventKind::PinRejected, &event("locked", Some("pin_locked"), None))?;
                    return Ok(Some((PinCheck::Locked, seq)));
                }
                // A lead may lower the threshold below a run of failures already counted: that run
                // locks the PIN now, before anything is decided on it.
                let so_far: i64 = tx
                    .query_row("SELECT pin_failures FROM accounts WHERE id = ?1", [id.as_str()], |r| r.get(0))
                    .map_err(sql)?;
                if so_far >= threshold {
                    tx.execute("UPDATE accounts SET pin_locked = 1 WHERE id = ?1", [id.as_str()]).map_err(sql)?;
                    audit::append(
                        tx,
                        now,
                        EventKind::PinLocked,
                        &event(
                            "locked",
                            Some("threshold_lowered"),
                            Some(format!("{so_far} consecutive failures reach the lockout threshold of {threshold}")),
                        ),
                    )?;
                    let seq = audit::append(tx, now, EventKind::PinRejected, &event("locked", Some("pin_locked"), None))?;
                    return Ok(Some((PinCheck::Locked, seq)));
                }
                if let Some((new_hash, key_id)) = &rotation {
                    bind_key_id(tx, key_id)?;
                    tx.execute(
                        "UPDATE accounts SET pin_hash = ?2, pin_key_id = ?3, pin_set_at = ?4, \
                         pin_validated_at = ?4, pin_failures = 0 WHERE id = ?1",
                        params![id.as_str(), new_hash, key_id, at],
                    )
                    .map_err(sql)?;
                    let seq = audit::append(
                        tx,
                        now,
                        EventKind::PinValidated,
                        &event("ok", Some("matched"), Some("matched; rotated to a new PIN nobody at the desk has seen".into())),
                    )?;
                    return Ok(Some((PinCheck::Matched, seq)));
                }
                let reason = if current.pin_hash.is_none() { "no_pin_set" } else { "mismatch" };
                let failures: i64 = tx
                    .query_row(
                        "UPDATE accounts SET pin_failures = pin_failures + 1 WHERE id = ?1 RETURNING pin_failures",
                        [id.as_str()],
                        |r| r.get(0),
                    )
                    .map_err(sql)?;
                let attempts_left = (threshold - failures).max(0);
                let seq = audit::append(
                    tx,
                    now,
                    EventKind::PinRejected,
                    &event("fail", Some(reason), Some(format!("{attempts_left} attempt(s) left"))),
                )?;
                if failures >= threshold {
                    tx.execute("UPDATE accounts SET pin_locked = 1 WHERE id = ?1", [id.as_str()]).map_err(sql)?;
                    audit::append(
                        tx,
                        now,
                        EventKind::PinLocked,
                        &event("locked", Some("too_many_failures"), Some(format!("locked after {failures} consecutive failures"))),
                    )?;
                    return Ok(Some((PinCheck::Locked, seq)));
                }
                Ok(Some((PinCheck::Rejected { attempts_left }, seq)))
                })()?;
                match checked {
                    Some((check, seq)) => after(tx, check, now, seq).map(Some),
                    None => Ok(None),
                }
            })?;
            if let Some(outcome) = outcome {
                return Ok(outcome);
            }
        }
    }

    /// The holder's own "Generate New PIN": a new random PIN replaces the old one, clears a lock
    /// and the failure count, and is returned once for the holder to see. Audited as generated and
    /// viewed (by the holder, not a rep).
    pub fn generate_pin(&mut self, id: &AccountId) -> Result<Pin, DeskError> {
        let hasher = super::hasher_of(&self.hasher)?;
        let pin = (self.new_pin)(None);
        let hash = hasher.hash(&pin);
        let key_id = hasher.key_id().to_string();
        let now = self.clock.now();
        let at = to_db(now);
        let policy_version = self.policy()?.version;
        // No rep does this; the trail still says which operating-system user ran it.
        let by = format!(
            "by the account holder's own Generate New PIN (run as `support-desk pin new` by OS user uid {})",
            rustix::process::getuid().as_raw()
        );
        self.store.write(|tx| {
            bind_key_id(tx, &key_id)?;
            let changed = tx
                .execute(
                    "UPDATE accounts SET pin_hash = ?2, pin_key_id = ?3, pin_set_at = ?4, pin_failures = 0, \
                     pin_locked = 0 WHERE id = ?1 AND active = 1",
                    params![id.as_str(), hash, key_id, at],
                )
                .map_err(sql)?;
            if changed == 0 {
                return Err(DeskError::NotFound(format!("active account {id}")));
            }
            for kind in [EventKind::PinGenerated, EventKind::PinViewed] {
                audit::append(tx, now, kind, &NewEvent {
                    account_id: Some(id.to_string()),
                    outcome: "ok".into(),
                    reason: Some("holder".into()),
                    policy_version: Some(policy_version),
                    detail: Some(by.clone()),
                    ..NewEvent::default()
                })?;
            }
            Ok(())
        })?;
        Ok(pin)
    }
}

/// Records which key this database's PIN hashes use, the first time a keyed hash is written, so
/// that a different key file is refused later instead of silently failing every check. If the key
/// was rotated since this desk opened (another process ran `key rotate`), nothing is written: a hash
/// made with the old key could outlive that key.
fn bind_key_id(tx: &rusqlite::Transaction<'_>, key_id: &str) -> Result<(), DeskError> {
    tx.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('key_id', ?1)", [key_id]).map_err(sql)?;
    let recorded: String =
        tx.query_row("SELECT value FROM meta WHERE key = 'key_id'", [], |r| r.get(0)).map_err(sql)?;
    if recorded != key_id {
        return Err(DeskError::Key(
            "the PIN key was rotated since this desk started; start support-desk again (nothing was decided)".into(),
        ));
    }
    Ok(())
}
