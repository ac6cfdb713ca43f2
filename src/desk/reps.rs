//! Reps and leads: adding them, signing in (with lockout after repeated failures), sessions.

use super::audit::{self, EventKind, NewEvent};
use super::error::DeskError;
use super::ids::{AccountId, RepId};
use super::pin_hash::{hash_passphrase, verify_passphrase};
use super::store::sql;
use super::{Desk, clock::to_db};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

/// Shortest passphrase a rep may have.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// A rep's role: reps work calls; leads also review the audit trail and administer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RepRole {
    Rep,
    Lead,
}

impl RepRole {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RepRole::Rep => "rep",
            RepRole::Lead => "lead",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<RepRole> {
        match text {
            "rep" => Some(RepRole::Rep),
            "lead" => Some(RepRole::Lead),
            _ => None,
        }
    }
}

/// A signed-in rep. Every use case re-checks in its transaction that the rep is still enabled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub rep_id: RepId,
    pub username: String,
    pub display_name: String,
    pub role: RepRole,
    /// The rep's own directory account, on which they may never act.
    pub account_id: Option<AccountId>,
}

/// The answer to a sign-in. Unknown username, wrong passphrase, a locked or disabled rep all give
/// the same `Refused`, so a guesser learns nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignIn {
    SignedIn(Session),
    Refused,
}

/// A rep as listed by `rep list`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RepInfo {
    pub username: String,
    pub display_name: String,
    pub role: RepRole,
    pub account_id: Option<String>,
    pub disabled: bool,
    pub locked: bool,
    pub failed_signins: i64,
}

/// What is needed to add a rep.
pub struct NewRep<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: RepRole,
    pub passphrase: &'a str,
    pub account_id: Option<AccountId>,
}

/// Usernames are short, lower-case ASCII: they appear in every audit event.
pub fn check_username(username: &str) -> Result<(), DeskError> {
    let ok = !username.is_empty()
        && username.len() <= 32
        && username.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(DeskError::Invalid(
            "a username is 1-32 characters: lower-case letters, digits, '.', '_' or '-'".into(),
        ))
    }
}

/// Checks a new passphrase's length; the message never repeats it.
pub fn check_passphrase(passphrase: &str) -> Result<(), DeskError> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(DeskError::Invalid(format!(
            "a passphrase needs at least {MIN_PASSPHRASE_CHARS} characters"
        )));
    }
    Ok(())
}

impl Desk {
    /// Adds a rep or lead. Audited as `rep_added` (by `by`, or by an admin command when `None`).
    pub fn add_rep(&mut self, new: &NewRep<'_>, by: Option<&Session>) -> Result<(), DeskError> {
        check_username(new.username)?;
        check_passphrase(new.passphrase)?;
        let display_name = super::text::normalize(new.display_name);
        if display_name.is_empty() {
            return Err(DeskError::Invalid("a rep needs a display name".into()));
        }
        let hash = hash_passphrase(new.passphrase);
        let now = self.clock.now();
        self.store.write(|tx| {
            if let Some(by) = by {
                require_lead(tx, by)?;
            }
            let exists: bool = tx
                .query_row("SELECT 1 FROM reps WHERE username = ?1", [new.username], |_| Ok(true))
                .optional()
                .map_err(sql)?
                .unwrap_or(false);
            if exists {
                return Err(DeskError::Invalid(format!("a rep named {} already exists", new.username)));
            }
            if let Some(account) = &new.account_id {
                let known: bool = tx
                    .query_row("SELECT 1 FROM accounts WHERE id = ?1", [account.as_str()], |_| Ok(true))
                    .optional()
                    .map_err(sql)?
                    .unwrap_or(false);
                if !known {
                    return Err(DeskError::account_not_found(&account));
                }
            }
            tx.execute(
                "INSERT INTO reps (username, display_name, role, passphrase_hash, account_id, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    new.username,
                    display_name,
                    new.role.as_str(),
                    hash,
                    new.account_id.as_ref().map(|a| a.as_str()),
                    to_db(now)
                ],
            )
            .map_err(sql)?;
            audit::append(tx, now, EventKind::RepAdded, &NewEvent {
                rep: by.map(|s| s.username.clone()),
                account_id: new.account_id.as_ref().map(|a| a.to_string()),
                outcome: "ok".into(),
                detail: Some(format!("added {} ({}) as {}", new.username, display_name, new.role.as_str())),
                ..NewEvent::default()
            })?;
            Ok(())
        })
    }

    /// Signs a rep in. Failures count toward the rep lockout; the answer never says which part
    /// was wrong.
    pub fn sign_in(&mut self, username: &str, passphrase: &str) -> Result<SignIn, DeskError> {
        let username = username.trim();
        type Row = (i64, String, String, String, Option<String>, bool, bool);
        let row: Option<Row> = self
            .store
            .conn()
            .query_row(
                "SELECT id, display_name, role, passphrase_hash, account_id, disabled, locked \
                 FROM reps WHERE username = ?1",
                [username],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
            )
            .optional()
            .map_err(|e| self.store.read_error(e))?;
        let matched = verify_passphrase(passphrase, row.as_ref().map(|r| r.3.as_str()));
        let threshold = self.policy()?.rep_lockout_threshold;
        let now = self.clock.now();
        self.store.write(|tx| {
            let Some((id, display_name, role, _, account_id, disabled, locked)) = &row else {
                audit::append(tx, now, EventKind::SignInFailed, &NewEvent {
                    outcome: "fail".into(),
                    reason: Some("unknown_or_wrong".into()),
                    detail: Some("unknown username".into()),
                    ..NewEvent::default()
                })?;
                return Ok(SignIn::Refused);
            };
            if matched && !disabled && !locked {
                tx.execute("UPDATE reps SET failed_signins = 0 WHERE id = ?1", [id]).map_err(sql)?;
                audit::append(tx, now, EventKind::SignedIn, &NewEvent {
                    rep: Some(username.to_string()),
                    outcome: "ok".into(),
                    ..NewEvent::default()
                })?;
                return Ok(SignIn::SignedIn(Session {
                    rep_id: RepId(*id),
                    username: username.to_string(),
                    display_name: display_name.clone(),
                    role: RepRole::parse(role).unwrap_or(RepRole::Rep),
                    account_id: account_id.as_ref().map(AccountId::new),
                }));
            }
            let failures: i64 = tx
                .query_row(
                    "UPDATE reps SET failed_signins = failed_signins + 1 WHERE id = ?1 RETURNING failed_signins",
                    [id],
                    |r| r.get(0),
                )
                .map_err(sql)?;
            let reason = if *disabled {
                "rep_disabled"
            } else if *locked {
                "rep_locked"
            } else {
                "unknown_or_wrong"
            };
            audit::append(tx, now, EventKind::SignInFailed, &NewEvent {
                rep: Some(username.to_string()),
                outcome: "fail".into(),
                reason: Some(reason.into()),
                detail: Some(format!("{failures} consecutive failure(s)")),
                ..NewEvent::default()
            })?;
            if !locked && failures >= threshold {
                tx.execute("UPDATE reps SET locked = 1 WHERE id = ?1", [id]).map_err(sql)?;
                audit::append(tx, now, EventKind::RepLocked, &NewEvent {
                    rep: Some(username.to_string()),
                    outcome: "locked".into(),
                    reason: Some("too_many_failed_sign_ins".into()),
                    detail: Some(format!("locked after {failures} consecutive failed sign-ins")),
                    ..NewEvent::default()
                })?;
            }
            Ok(SignIn::Refused)
        })
    }

    /// Ends a session: `timed_out` when the idle timeout ended it.
    pub fn sign_out(&mut self, session: &Session, timed_out: bool) -> Result<(), DeskError> {
        let now = self.clock.now();
        let kind = if timed_out { EventKind::SessionTimedOut } else { EventKind::SignedOut };
        self.store.write(|tx| {
            audit::append(tx, now, kind, &NewEvent {
                rep: Some(session.username.clone()),
                outcome: "ok".into(),
                ..NewEvent::default()
            })?;
            Ok(())
        })
    }

    /// Every rep, by username.
    pub fn list_reps(&self) -> Result<Vec<RepInfo>, DeskError> {
        let conn = self.store.conn();
        let run = || -> rusqlite::Result<Vec<RepInfo>> {
            let mut stmt = conn.prepare(
                "SELECT username, display_name, role, account_id, disabled, locked, failed_signins \
                 FROM reps ORDER BY username",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(RepInfo {
                    username: r.get(0)?,
                    display_name: r.get(1)?,
                    role: RepRole::parse(&r.get::<_, String>(2)?).unwrap_or(RepRole::Rep),
                    account_id: r.get(3)?,
                    disabled: r.get(4)?,
                    locked: r.get(5)?,
                    failed_signins: r.get(6)?,
                })
            })?;
            rows.collect()
        };
        run().map_err(|e| self.store.read_error(e))
    }

    /// Disables (`enabled = false`) or re-enables a rep. Re-enabling also clears a sign-in
    /// lockout. `by` is the lead doing it, or `None` for an admin command.
    pub fn set_rep_enabled(&mut self, username: &str, enabled: bool, by: Option<&Session>) -> Result<(), DeskError> {
        let now = self.clock.now();
        self.store.write(|tx| {
            if let Some(by) = by {
                require_lead(tx, by)?;
            }
            let changed = if enabled {
                tx.execute(
                    "UPDATE reps SET disabled = 0, locked = 0, failed_signins = 0 WHERE username = ?1",
                    [username],
                )
            } else {
                tx.execute("UPDATE reps SET disabled = 1 WHERE username = ?1", [username])
            }
            .map_err(sql)?;
            if changed == 0 {
                return Err(DeskError::NotFound(format!("rep {username}")));
            }
            let kind = if enabled { EventKind::RepEnabled } else { EventKind::RepDisabled };
            audit::append(tx, now, kind, &NewEvent {
                rep: by.map(|s| s.username.clone()),
                outcome: "ok".into(),
                detail: Some(format!("rep {username}")),
                ..NewEvent::default()
            })?;
            Ok(())
        })
    }
}

/// Fails with [`DeskError::SessionEnded`] unless the session's rep is still enabled and unlocked.
pub(crate) fn require_active(tx: &Transaction<'_>, session: &Session) -> Result<RepRole, DeskError> {
    let row: Option<(bool, bool, String)> = tx
        .query_row("SELECT disabled, locked, role FROM reps WHERE id = ?1", [session.rep_id.0], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()
        .map_err(sql)?;
    match row {
        Some((false, false, role)) => Ok(RepRole::parse(&role).unwrap_or(RepRole::Rep)),
        _ => Err(DeskError::SessionEnded),
    }
}

/// Fails unless the session's rep is an active lead: lead-only actions are gated here, in the
/// core, not only hidden in a menu.
pub(crate) fn require_lead(tx: &Transaction<'_>, session: &Session) -> Result<(), DeskError> {
    match require_active(tx, session)? {
        RepRole::Lead => Ok(()),
        RepRole::Rep => Err(DeskError::Refused("only a lead may do this".into())),
    }
}
