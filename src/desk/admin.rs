//! Running the desk day to day: changing policy values, a lead clearing a locked Support PIN, and
//! resetting a rep's passphrase. Each is one transaction with its audit event.

use super::audit::{self, EventKind, NewEvent};
use super::error::DeskError;
use super::ids::AccountId;
use super::pin_hash::hash_passphrase;
use super::reps::{RepRole, Session, check_passphrase, require_lead};
use super::store::sql;
use super::text::{escape_hazards, normalize};
use super::Desk;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use std::ops::RangeInclusive;
use std::path::Path;

/// A policy value that `policy set` may change, with the bounds it must stay within.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyBound {
    pub name: &'static str,
    pub min: i64,
    pub max: i64,
}

impl PolicyBound {
    fn range(&self) -> RangeInclusive<i64> {
        self.min..=self.max
    }
}

/// Every settable policy value and its bounds. The Support PIN lockout threshold never exceeds 10:
/// four digits are only 10,000 guesses.
pub const POLICY_BOUNDS: &[PolicyBound] = &[
    PolicyBound { name: "pin_lockout_threshold", min: 1, max: 10 },
    PolicyBound { name: "case_failure_limit", min: 1, max: 10 },
    PolicyBound { name: "approval_lifetime_minutes", min: 5, max: 10_080 },
    PolicyBound { name: "idle_timeout_minutes", min: 1, max: 120 },
    PolicyBound { name: "rep_lockout_threshold", min: 1, max: 10 },
];

/// A policy change as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyChange {
    pub name: String,
    pub old: i64,
    pub new: i64,
    /// The policy version in force after the change.
    pub version: i64,
}

/// Shortest reason a lead must give for clearing a locked Support PIN.
pub const MIN_REASON_CHARS: usize = 8;

/// Why a PIN lock may not be cleared: the audit reason code and the words for people.
const NOT_A_LEAD: (&str, &str) = ("not_a_lead", "only a lead may clear a Support PIN lock; ask a lead");
const LEAD_OWN_ACCOUNT: (&str, &str) = ("lead_own_account", "a lead never clears the lock on their own account");

/// A free-text reason or note: one line, no control characters, at least `min` characters, nothing
/// that may hold a Support PIN.
pub fn check_reason(text: &str, min: usize) -> Result<String, DeskError> {
    let text = normalize(text);
    if text.chars().any(char::is_control) {
        return Err(DeskError::Invalid("the reason must be one line of text without control characters".into()));
    }
    if text.chars().count() < min {
        return Err(DeskError::Invalid(format!("give a reason of at least {min} characters (it is audited)")));
    }
    super::text::refuse_pin_in_text("reason", &text)?;
    Ok(text)
}

impl Desk {
    /// Sets one policy value, within its bounds, as a lead. Bumps the policy version; the audit
    /// event names the old and new value. Setting the value it already has changes nothing.
    pub fn set_policy(&mut self, session: &Session, name: &str, value: i64) -> Result<PolicyChange, DeskError> {
        let bound = POLICY_BOUNDS.iter().find(|b| b.name == name).ok_or_else(|| {
            let names: Vec<&str> = POLICY_BOUNDS.iter().map(|b| b.name).collect();
            DeskError::Invalid(format!("unknown policy value {}; one of: {}", escape_hazards(name), names.join(", ")))
        })?;
        if !bound.range().contains(&value) {
            return Err(DeskError::Invalid(format!(
                "{name} must be between {} and {}; {value} is out of bounds (nothing changed)",
                bound.min, bound.max
            )));
        }
        let now = self.clock.now();
        let answer = self.store.write(|tx| {
            // A refusal writes nothing here; it is recorded below, in a transaction of its own.
            match require_lead(tx, session) {
                Err(DeskError::Refused(why)) => return Ok(Err(why)),
                other => other?,
            }
            let old: i64 = tx
                .query_row("SELECT value FROM policy_values WHERE name = ?1", [name], |r| r.get(0))
                .map_err(sql)?;
            if old == value {
                return Err(DeskError::Invalid(format!("{name} is already {value}; nothing changed")));
            }
            let version: i64 = tx
                .query_row("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'policy_version'", [], |r| r.get(0))
                .map_err(sql)?;
            let version = version + 1;
            tx.execute("UPDATE policy_values SET value = ?2 WHERE name = ?1", params![name, value]).map_err(sql)?;
            tx.execute("UPDATE meta SET value = ?1 WHERE key = 'policy_version'", [version.to_string()]).map_err(sql)?;
            audit::append(tx, now, EventKind::PolicyChanged, &NewEvent {
                rep: Some(session.username.clone()),
                outcome: "ok".into(),
                reason: Some(name.to_string()),
                policy_version: Some(version),
                detail: Some(format!("{name}: {old} -> {value} (policy version {version})")),
                ..NewEvent::default()
            })?;
            Ok(Ok(PolicyChange { name: name.to_string(), old, new: value, version }))
        })?;
        answer.map_err(|why| {
            self.record_refusal(EventKind::PolicyChanged, NewEvent {
                rep: Some(session.username.clone()),
                reason: Some(name.to_string()),
                detail: Some(format!("not changed: {name} to {value} asked by a rep who is not a lead")),
                ..NewEvent::default()
            });
            DeskError::Refused(why)
        })
    }

    /// Whether `session` may clear the Support PIN lock of `id`, asked before the lead types a
    /// reason (the screen's `l`): a rep, or a lead on their own account, is refused here and the
    /// attempt audited, like a refused `clear_pin_lock`.
    pub fn may_clear_pin_lock(&self, session: &Session, id: &AccountId) -> Result<(), DeskError> {
        let refusal = if session.role != RepRole::Lead {
            Some(NOT_A_LEAD)
        } else if session.account_id.as_ref() == Some(id) {
            Some(LEAD_OWN_ACCOUNT)
        } else {
            None
        };
        let Some(refusal) = refusal else { return Ok(()) };
        let policy_version = self.policy()?.version;
        Err(self.refuse_clear_lock(session, id, policy_version, refusal))
    }

    /// Records a refused attempt to clear `id`'s PIN lock and returns the refusal.
    fn refuse_clear_lock(&self, session: &Session, id: &AccountId, policy_version: i64, (code, why): (&str, &str)) -> DeskError {
        self.record_refusal(EventKind::PinLockCleared, NewEvent {
            rep: Some(session.username.clone()),
            account_id: Some(id.to_string()),
            reason: Some(code.into()),
            policy_version: Some(policy_version),
            detail: Some(format!("not cleared: {why}")),
            ..NewEvent::default()
        });
        DeskError::Refused(why.to_string())
    }

    /// A lead clears a locked Support PIN (and its failure count), with a reason that is audited.
    /// Refused for a rep (in the core) and for the lead's own account. Returns false, recording
    /// nothing, when the PIN was not locked.
    pub fn clear_pin_lock(&mut self, session: &Session, id: &AccountId, reason: &str) -> Result<bool, DeskError> {
        let reason = check_reason(reason, MIN_REASON_CHARS)?;
        let now = self.clock.now();
        let policy_version = self.policy()?.version;
        let answer = self.store.write(|tx| {
            // A refusal writes nothing here; it is recorded below, in a transaction of its own.
            match require_lead(tx, session) {
                Err(DeskError::Refused(_)) => return Ok(Err(NOT_A_LEAD)),
                other => other?,
            }
            if session.account_id.as_ref() == Some(id) {
                return Ok(Err(LEAD_OWN_ACCOUNT));
            }
            let locked: Option<bool> = tx
                .query_row("SELECT pin_locked FROM accounts WHERE id = ?1", [id.as_str()], |r| r.get(0))
                .optional()
                .map_err(sql)?;
            match locked {
                None => Err(DeskError::account_not_found(&id)),
                Some(false) => Ok(Ok(false)),
                Some(true) => {
                    tx.execute("UPDATE accounts SET pin_locked = 0, pin_failures = 0 WHERE id = ?1", [id.as_str()])
                        .map_err(sql)?;
                    audit::append(tx, now, EventKind::PinLockCleared, &NewEvent {
                        rep: Some(session.username.clone()),
                        account_id: Some(id.to_string()),
                        outcome: "ok".into(),
                        reason: Some("lead".into()),
                        policy_version: Some(policy_version),
                        detail: Some(reason.clone()),
                        ..NewEvent::default()
                    })?;
                    Ok(Ok(true))
                }
            }
        })?;
        answer.map_err(|refusal| self.refuse_clear_lock(session, id, policy_version, refusal))
    }

    /// Resets a rep's passphrase (an admin command when `by` is `None`, else a lead). Also clears a
    /// sign-in lockout; a disabled rep stays disabled. Audited without the passphrase.
    pub fn reset_passphrase(&mut self, username: &str, passphrase: &str, by: Option<&Session>) -> Result<(), DeskError> {
        check_passphrase(passphrase)?;
        let hash = hash_passphrase(passphrase);
        let now = self.clock.now();
        self.store.write(|tx| {
            if let Some(by) = by {
                require_lead(tx, by)?;
            }
            let changed = tx
                .execute(
                    "UPDATE reps SET passphrase_hash = ?2, locked = 0, failed_signins = 0 WHERE username = ?1",
                    params![username, hash],
                )
                .map_err(sql)?;
            if changed == 0 {
                return Err(DeskError::NotFound(format!("rep {}", escape_hazards(username))));
            }
            audit::append(tx, now, EventKind::RepPassphraseReset, &NewEvent {
                rep: by.map(|s| s.username.clone()),
                outcome: "ok".into(),
                detail: Some(format!("passphrase of rep {username} reset; sign-in lockout cleared")),
                ..NewEvent::default()
            })?;
            Ok(())
        })
    }
}

impl Desk {
    /// Writes a consistent copy of the database to the new file `to` (see [`super::store::Store::backup_to`]).
    pub fn backup_to(&self, to: &Path) -> Result<i64, DeskError> {
        self.store.backup_to(to)
    }
}
