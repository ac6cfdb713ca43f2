//! Verdicts: gathering the facts for a request, deciding it, recording it, and the account unlock.

use super::audit::{self, EventKind, NewEvent};
use super::clock::from_db;
use super::directory::load_account;
use super::error::DeskError;
use super::ids::AccountId;
use super::policy::{Decision, DecisionInput, Request, Rule, Verdict, decide};
use super::reps::{Session, require_active};
use super::store::sql;
use super::Desk;
use chrono::Duration;
use rusqlite::{OptionalExtension, Transaction};
use serde::Serialize;

/// A verdict as shown to the rep, after its audit event was committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerdictShown {
    #[serde(flatten)]
    pub decision: Decision,
    /// The policy row that decided it, in words.
    pub policy_row: String,
    /// What the rep can say to the caller next.
    pub next_step: String,
    /// The policy version used.
    pub policy_version: i64,
    /// The audit event's sequence number.
    pub audit_seq: i64,
}

/// The result of an unlock request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unlocked {
    pub verdict: VerdictShown,
    /// True when the account was locked and is now unlocked; false when it was not locked (or
    /// the verdict did not allow it).
    pub unlocked: bool,
}

/// Shortest note a rep must write about how an unlock caller was identified.
pub const MIN_IDENTIFIED_NOTE_CHARS: usize = 8;

/// When the PIN match that verifies `caller` for this rep's call stops counting, if one does: a
/// match outside any case, by this rep, within the idle timeout, with the call not ended since.
/// A call ends with `n` (new call, `call_ended`) and when the rep opens another account's card
/// (`account_viewed`): the next caller giving the same name checks their PIN again. A match "in
/// the future" (the clock moved back) counts only within the same window. A match inside a case
/// belongs to that case and never counts here.
fn verified_until(
    conn: &rusqlite::Connection,
    session: &Session,
    caller: &AccountId,
    now: chrono::DateTime<chrono::Utc>,
    idle_minutes: i64,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, DeskError> {
    let found: Option<(String, i64)> = conn
        .query_row(
            "SELECT at, seq FROM audit_events WHERE account_id = ?1 AND kind = 'pin_validated' AND rep = ?2 \
             AND case_id IS NULL ORDER BY seq DESC LIMIT 1",
            [caller.as_str(), session.username.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(sql)?;
    let Some((at, matched)) = found else { return Ok(None) };
    let ended: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM audit_events WHERE account_id = ?1 AND kind = 'call_ended' AND rep = ?2 AND seq > ?3) \
                 OR EXISTS (SELECT 1 FROM audit_events WHERE rep = ?2 AND kind = 'account_viewed' AND seq > ?3 \
                            AND account_id IS NOT ?1)",
            rusqlite::params![caller.as_str(), session.username.as_str(), matched],
            |r| r.get(0),
        )
        .map_err(sql)?;
    if ended {
        return Ok(None);
    }
    let window = Duration::minutes(idle_minutes);
    Ok(from_db(&at).filter(|t| (now - *t).abs() <= window).map(|t| t + window))
}

fn verified_recently(
    tx: &Transaction<'_>,
    session: &Session,
    caller: &AccountId,
    now: chrono::DateTime<chrono::Utc>,
    idle_minutes: i64,
) -> Result<bool, DeskError> {
    Ok(verified_until(tx, session, caller, now, idle_minutes)?.is_some())
}

impl Desk {
    /// Decides `request` for `caller`, records the verdict as an audit event and returns it.
    pub fn decide(&mut self, session: &Session, caller: &AccountId, request: &Request) -> Result<VerdictShown, DeskError> {
        if matches!(request, Request::Unlock) {
            return Err(DeskError::Invalid("an unlock is requested with unlock(), which records how the caller was identified".into()));
        }
        let policy = self.policy()?;
        let now = self.clock.now();
        self.store.write(|tx| {
            let (decision, target_name, seq) = record_verdict(tx, session, caller, request, now, &policy, None)?;
            Ok(shown(decision, target_name.as_deref(), policy.version, seq))
        })
    }

    /// Until when a PIN match verifies `caller` on this rep's call (outside any case), if one does:
    /// what the caller card shows, decided by the same rule as the verdict.
    pub fn call_verified_until(&self, session: &Session, caller: &AccountId) -> Result<Option<chrono::DateTime<chrono::Utc>>, DeskError> {
        let policy = self.policy()?;
        verified_until(self.store.conn(), session, caller, self.clock.now(), policy.idle_timeout_minutes)
            .map_err(|e| match e {
                DeskError::NotRecorded { cause } => DeskError::Storage { path: self.store.path().to_path_buf(), cause },
                other => other,
            })
    }

    /// The rep ends the call with `caller` ("new call"): a PIN match of this call no longer
    /// verifies anyone, even within the idle timeout. Audited (the trail shows where a call ended).
    pub fn end_call(&mut self, session: &Session, caller: &AccountId) -> Result<i64, DeskError> {
        let now = self.clock.now();
        self.store.write(|tx| {
            require_active(tx, session)?;
            audit::append(tx, now, EventKind::CallEnded, &NewEvent {
                rep: Some(session.username.clone()),
                account_id: Some(caller.to_string()),
                outcome: "ok".into(),
                ..NewEvent::default()
            })
        })
    }

    /// Unlocks the caller's own account: needs no PIN, but the rep records how the caller was
    /// identified. Never changes password, two-factor or email. The verdict and the unlock are
    /// one transaction.
    pub fn unlock(&mut self, session: &Session, caller: &AccountId, identified_by: &str) -> Result<Unlocked, DeskError> {
        let note = identified_note(identified_by)?;
        let policy = self.policy()?;
        let now = self.clock.now();
        self.store.write(|tx| {
            let (decision, _, seq) =
                record_verdict(tx, session, caller, &Request::Unlock, now, &policy, Some(&note))?;
            let unlocked = decision.verdict == Verdict::Assist && record_unlock(tx, session, caller, now, &policy, &note, None)?;
            Ok(unlocked_result(shown(decision, None, policy.version, seq), unlocked))
        })
    }
}

/// The result of an unlock: when the account turned out not to be locked, the sentence for the
/// caller says so instead of promising an unlock.
pub(crate) fn unlocked_result(mut verdict: VerdictShown, unlocked: bool) -> Unlocked {
    if !unlocked && verdict.decision.verdict == Verdict::Assist {
        verdict.next_step = "Your account is not locked, so there was nothing to unlock: you can sign in as usual. \
                             If signing in still fails, let's look at that together."
            .into();
    }
    Unlocked { verdict, unlocked }
}

/// The note of how an unlock caller was identified, normalised; refused when too short or when it
/// looks like it holds a PIN.
pub(crate) fn identified_note(identified_by: &str) -> Result<String, DeskError> {
    let note = super::text::normalize(identified_by);
    if note.chars().count() < MIN_IDENTIFIED_NOTE_CHARS {
        return Err(DeskError::Invalid(format!(
            "say how the caller was identified (at least {MIN_IDENTIFIED_NOTE_CHARS} characters)"
        )));
    }
    super::text::refuse_pin_in_text("note", &note)?;
    Ok(note)
}

/// Unlocks `caller`'s account after an "assist" verdict and appends the `account_unlocked` event
/// (in `case_id`, when given). True when the account was locked and now is not. Never changes
/// password, two-factor or email.
pub(crate) fn record_unlock(
    tx: &Transaction<'_>,
    session: &Session,
    caller: &AccountId,
    now: chrono::DateTime<chrono::Utc>,
    policy: &super::policy::Policy,
    note: &str,
    case_id: Option<i64>,
) -> Result<bool, DeskError> {
    let unlocked = tx
        .execute("UPDATE accounts SET account_locked = 0 WHERE id = ?1 AND account_locked = 1", [caller.as_str()])
        .map_err(sql)?
        == 1;
    audit::append(tx, now, EventKind::AccountUnlocked, &NewEvent {
        rep: Some(session.username.clone()),
        case_id,
        account_id: Some(caller.to_string()),
        outcome: if unlocked { "ok".into() } else { "not_locked".into() },
        reason: Some(Rule::Unlock.code().into()),
        policy_version: Some(policy.version),
        detail: Some(format!("identified by: {note}")),
        ..NewEvent::default()
    })?;
    Ok(unlocked)
}

pub(crate) fn shown(decision: Decision, target_name: Option<&str>, policy_version: i64, audit_seq: i64) -> VerdictShown {
    VerdictShown {
        policy_row: decision.rule.policy_row().to_string(),
        next_step: decision.next_step(target_name),
        decision,
        policy_version,
        audit_seq,
    }
}

/// Gathers the facts, decides and appends the `verdict_shown` event. Returns the decision, the
/// target's name (for the next-step sentence) and the event's sequence number.
fn record_verdict(
    tx: &Transaction<'_>,
    session: &Session,
    caller_id: &AccountId,
    request: &Request,
    now: chrono::DateTime<chrono::Utc>,
    policy: &super::policy::Policy,
    note: Option<&str>,
) -> Result<(Decision, Option<String>, i64), DeskError> {
    let verified = verified_recently(tx, session, caller_id, now, policy.idle_timeout_minutes)?;
    let (decision, target) = gather_and_decide(tx, session, caller_id, request, verified)?;
    let seq = append_verdict(tx, session, caller_id, request, target.as_ref(), &decision, now, policy, None, note)?;
    Ok((decision, target.map(|t| t.name), seq))
}

/// Gathers the facts of a request and decides it, given whether the caller is verified (by the
/// call's or the case's rule). Returns the decision and the target account.
pub(crate) fn gather_and_decide(
    tx: &Transaction<'_>,
    session: &Session,
    caller_id: &AccountId,
    request: &Request,
    verified: bool,
) -> Result<(Decision, Option<super::directory::Account>), DeskError> {
    require_active(tx, session)?;
    let caller = load_account(tx, caller_id)
        .map_err(sql)?
        .ok_or_else(|| DeskError::account_not_found(&caller_id))?;
    let target = match request {
        Request::OnBehalfOf(t) => Some(
            load_account(tx, t).map_err(sql)?.ok_or_else(|| DeskError::account_not_found(&t))?,
        ),
        _ => None,
    };
    let target_primary = match target.as_ref().and_then(|t| t.primary_provider.as_ref()) {
        Some(p) => load_account(tx, p).map_err(sql)?,
        None => None,
    };
    let caller_facts = caller.facts();
    let target_facts = target.as_ref().map(|t| t.facts());
    let primary_facts = target_primary.as_ref().map(|p| p.facts());
    let decision = decide(&DecisionInput {
        rep_account: session.account_id.as_ref(),
        caller: &caller_facts,
        target: target_facts.as_ref(),
        unlock: matches!(request, Request::Unlock),
        verified,
        target_primary: primary_facts.as_ref(),
    });
    Ok((decision, target))
}

/// Appends the `verdict_shown` event of a decision (in `case_id`, when given; `extra` is added to
/// the detail, e.g. the approval a case verdict cites) and returns its sequence number.
#[allow(clippy::too_many_arguments)]
pub(crate) fn append_verdict(
    tx: &Transaction<'_>,
    session: &Session,
    caller_id: &AccountId,
    request: &Request,
    target: Option<&super::directory::Account>,
    decision: &Decision,
    now: chrono::DateTime<chrono::Utc>,
    policy: &super::policy::Policy,
    case: Option<(i64, String)>,
    note: Option<&str>,
) -> Result<i64, DeskError> {
    let approver = match &decision.verdict {
        Verdict::NeedsApproval { approver } => Some(approver.id.to_string()),
        _ => None,
    };
    let mut detail = format!("request: {}", request.as_str());
    if let Some(a) = &approver {
        detail.push_str(&format!("; approver: {a}"));
    }
    if let Some(n) = note {
        detail.push_str(&format!("; identified by: {n}"));
    }
    let case_id = case.as_ref().map(|c| c.0);
    if let Some((_, extra)) = case.filter(|c| !c.1.is_empty()) {
        detail.push_str(&format!("; {extra}"));
    }
    audit::append(tx, now, EventKind::VerdictShown, &NewEvent {
        rep: Some(session.username.clone()),
        case_id,
        account_id: Some(caller_id.to_string()),
        other_account: target.map(|t| t.id.to_string()),
        outcome: decision.verdict.code().into(),
        reason: Some(decision.rule.code().into()),
        policy_version: Some(policy.version),
        detail: Some(detail),
    })
}
