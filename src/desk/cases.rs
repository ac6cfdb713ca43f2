//! Cases and provider approvals.
//!
//! A case is one request (own account, on behalf of a target, unlock) by one caller, worked from
//! first contact to close across calls, emails and portal messages. A verification (a Support PIN
//! match) belongs to its case and counts for the idle timeout only; 3 failed checks in a case end
//! its verification. An approval is evidence for exactly one case, one requestor and one target,
//! given by the one provider the policy names, and it expires. Every use case here is one
//! `BEGIN IMMEDIATE` transaction with its audit events; a refusal is audited too.

use super::audit::{self, AuditEvent, EventKind, NewEvent};
use super::clock::{from_db, to_db};
use super::directory::load_account;
use super::error::DeskError;
use super::ids::{AccountId, CaseId};
use super::pin::Pin;
use super::pin_check::PinCheck;
use super::policy::{Approver, Decision, Policy, Request, Verdict};
use super::reps::{Session, require_active};
use super::store::sql;
use super::verdicts::{Unlocked, VerdictShown, append_verdict, gather_and_decide, identified_note, record_unlock, shown, unlocked_result};
use super::Desk;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

/// Longest note, reference or address accepted (characters).
pub const MAX_TEXT_CHARS: usize = 2000;

/// How a case came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Phone,
    Email,
    Portal,
}

impl Channel {
    /// Every channel, in the order the screen cycles through them.
    pub const ALL: [Channel; 3] = [Channel::Phone, Channel::Email, Channel::Portal];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Email => "email",
            Channel::Portal => "portal",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == text.trim().to_ascii_lowercase())
    }
}

/// Where a case stands: open -> awaiting approval -> approved -> closed, or open -> closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    AwaitingApproval,
    Approved,
    Closed,
}

impl CaseStatus {
    /// Every status.
    pub const ALL: [CaseStatus; 4] =
        [CaseStatus::Open, CaseStatus::AwaitingApproval, CaseStatus::Approved, CaseStatus::Closed];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::AwaitingApproval => "awaiting_approval",
            CaseStatus::Approved => "approved",
            CaseStatus::Closed => "closed",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::AwaitingApproval => "awaiting approval",
            CaseStatus::Approved => "approved",
            CaseStatus::Closed => "closed",
        }
    }

    /// Reads a stored name (also `awaiting-approval`).
    pub fn parse(text: &str) -> Option<CaseStatus> {
        let t = text.trim().to_ascii_lowercase().replace('-', "_");
        CaseStatus::ALL.into_iter().find(|s| s.as_str() == t)
    }
}

/// How a case ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseOutcome {
    Assisted,
    Refused,
    Abandoned,
    Duplicate,
}

impl CaseOutcome {
    /// Every outcome.
    pub const ALL: [CaseOutcome; 4] =
        [CaseOutcome::Assisted, CaseOutcome::Refused, CaseOutcome::Abandoned, CaseOutcome::Duplicate];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseOutcome::Assisted => "assisted",
            CaseOutcome::Refused => "refused",
            CaseOutcome::Abandoned => "abandoned",
            CaseOutcome::Duplicate => "duplicate",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<CaseOutcome> {
        CaseOutcome::ALL.into_iter().find(|o| o.as_str() == text.trim().to_ascii_lowercase())
    }
}

/// How an approval came.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalMethod {
    /// The provider replied on the case (reference and sender recorded).
    CaseReply,
    /// The provider called and their own Support PIN matched in this case.
    ProviderPin,
}

impl ApprovalMethod {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalMethod::CaseReply => "case_reply",
            ApprovalMethod::ProviderPin => "provider_pin",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            ApprovalMethod::CaseReply => "reply on the case",
            ApprovalMethod::ProviderPin => "calling in with their own Support PIN (matched)",
        }
    }

    fn parse(text: &str) -> ApprovalMethod {
        if text == "provider_pin" { ApprovalMethod::ProviderPin } else { ApprovalMethod::CaseReply }
    }
}

/// A name with its account id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Party {
    pub id: AccountId,
    pub name: String,
}

/// A case as the queue lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CaseSummary {
    pub id: CaseId,
    pub channel: Channel,
    pub status: CaseStatus,
    pub outcome: Option<CaseOutcome>,
    /// `own`, `on_behalf` or `unlock`.
    pub request: String,
    pub caller: Party,
    pub target: Option<Party>,
    /// Username of the rep who opened it.
    pub opened_by: String,
    pub opened_at: String,
    pub closed_at: Option<String>,
}

impl CaseSummary {
    /// The request in words: "own account", "on behalf of Dr. Ada Okafor (P-1001)", "account unlock".
    pub fn request_label(&self) -> String {
        match (&*self.request, &self.target) {
            ("on_behalf", Some(t)) => format!("on behalf of {} ({})", t.name, t.id),
            ("unlock", _) => "account unlock".into(),
            _ => "own account".into(),
        }
    }

    /// The request as the policy sees it.
    pub fn as_request(&self) -> Request {
        match (&*self.request, &self.target) {
            ("on_behalf", Some(t)) => Request::OnBehalfOf(t.id.clone()),
            ("unlock", _) => Request::Unlock,
            _ => Request::OwnAccount,
        }
    }
}

/// A recorded approval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Approval {
    pub id: i64,
    pub provider: Party,
    pub method: ApprovalMethod,
    /// The reply's message id or ticket link, or the PIN check's audit event.
    pub reference: String,
    /// The reply's sender (case replies only).
    pub from_address: Option<String>,
    /// Username of the rep who recorded it.
    pub recorded_by: String,
    pub recorded_at: String,
    pub expires_at: String,
    /// True once its expiry was recorded as an `approval_expired` event.
    pub expired: bool,
}

impl Approval {
    /// "Dr. Ada Okafor (P-1001) by reply on the case (ref <msg-1>), recorded by rita at ..."
    pub fn citation(&self) -> String {
        format!(
            "approved by {} ({}) by {} (reference {}), recorded by {} at {}, valid until {}",
            self.provider.name,
            self.provider.id,
            self.method.label(),
            self.reference,
            self.recorded_by,
            self.recorded_at,
            self.expires_at
        )
    }

    fn valid_at(&self, now: DateTime<Utc>) -> bool {
        from_db(&self.expires_at).is_some_and(|t| now < t)
    }
}

/// Where the caller's verification in a case stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// When the caller's Support PIN last matched in this case.
    pub matched_at: Option<String>,
    /// True when that match is within the idle timeout and verification has not ended.
    pub counts: bool,
    /// Failed checks of the caller's PIN in this case.
    pub failures: i64,
    /// The policy's limit of failures per case.
    pub limit: i64,
    /// True once `failures` reached `limit`: no check can verify the caller in this case.
    pub ended: bool,
}

/// A note on a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CaseNote {
    pub rep: String,
    pub at: String,
    pub text: String,
}

/// Everything about one case, with its timeline (every audit event of the case, in order).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub summary: CaseSummary,
    /// Usernames of every rep who acted on the case, first first.
    pub touched_by: Vec<String>,
    /// The provider whose approval the request needs (per the policy today), if any.
    pub approver: Option<Approver>,
    /// That approver's email of record, where a reply must come from.
    pub approver_email: Option<String>,
    pub verification: Verification,
    /// Failed checks of the approver's own Support PIN in this case: at the case's limit they can
    /// no longer approve by calling in (only by reply).
    pub approver_failures: i64,
    pub approvals: Vec<Approval>,
    pub notes: Vec<CaseNote>,
    pub timeline: Vec<AuditEvent>,
}

/// A case's verdict, after its audit event was committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CaseVerdict {
    pub case_id: CaseId,
    #[serde(flatten)]
    pub shown: VerdictShown,
    /// The approval the verdict rests on, when an approval made it "Support can assist".
    pub approval: Option<Approval>,
    /// An approval that expired (recorded now or before) and no longer counts.
    pub expired_approval: Option<Approval>,
    pub status: CaseStatus,
}

/// The answer to recording an approval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ApprovalOutcome {
    /// Recorded; the case is approved.
    Recorded { approval: Approval },
    /// Not recorded, with the reason in words (the refusal itself is audited).
    Refused { code: String, reason: String },
}

/// Whose PIN a check inside a case was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckedAs {
    /// The case's caller: a match verifies the caller in this case.
    Caller,
    /// The provider who must approve: a match records their approval.
    Approver,
}

/// The answer to a Support PIN check inside a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CasePinCheck {
    pub case_id: CaseId,
    pub checked_as: CheckedAs,
    /// The check's outcome; `None` when 3 failures in this case had already ended it and nothing
    /// was checked.
    pub check: Option<PinCheck>,
    /// Failed checks of this account's PIN in this case, now.
    pub failures_in_case: i64,
    pub limit: i64,
    /// The approval a provider's match recorded.
    pub approval: Option<Approval>,
}

impl CasePinCheck {
    /// True when no further check of this account can succeed in this case.
    pub fn ended(&self) -> bool {
        self.failures_in_case >= self.limit
    }
}

/// Which cases to list. Empty fields do not filter.
#[derive(Clone, Debug, Default)]
pub struct CaseFilter {
    pub status: Option<CaseStatus>,
    /// Cases this rep (by id) opened or touched.
    pub touched_by: Option<i64>,
    /// Cases of this account: as the caller, or as the account the request is about.
    pub account: Option<AccountId>,
    /// Most recent first, at most this many.
    pub limit: usize,
}

const SUMMARY_SELECT: &str = "SELECT c.id, c.channel, c.status, c.outcome, c.request, c.caller_id, ca.name, \
    c.target_id, ta.name, r.username, c.opened_at, c.closed_at \
    FROM cases c JOIN accounts ca ON ca.id = c.caller_id LEFT JOIN accounts ta ON ta.id = c.target_id \
    JOIN reps r ON r.id = c.rep_id";

fn summary_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CaseSummary> {
    let target_id: Option<String> = r.get(7)?;
    let target_name: Option<String> = r.get(8)?;
    Ok(CaseSummary {
        id: CaseId(r.get(0)?),
        channel: Channel::parse(&r.get::<_, String>(1)?).unwrap_or(Channel::Phone),
        status: CaseStatus::parse(&r.get::<_, String>(2)?).unwrap_or(CaseStatus::Open),
        outcome: r.get::<_, Option<String>>(3)?.as_deref().and_then(CaseOutcome::parse),
        request: r.get(4)?,
        caller: Party { id: AccountId(r.get(5)?), name: r.get(6)? },
        target: target_id.map(|id| Party { id: AccountId(id), name: target_name.unwrap_or_default() }),
        opened_by: r.get(9)?,
        opened_at: r.get(10)?,
        closed_at: r.get(11)?,
    })
}

fn load_case(conn: &rusqlite::Connection, id: CaseId) -> Result<CaseSummary, DeskError> {
    conn.query_row(&format!("{SUMMARY_SELECT} WHERE c.id = ?1"), [id.0], summary_from_row)
        .optional()
        .map_err(sql)?
        .ok_or_else(|| DeskError::NotFound(format!("case {id}")))
}

const APPROVAL_SELECT: &str = "SELECT a.id, a.provider_id, p.name, a.method, a.reference, a.from_address, \
    r.username, a.recorded_at, a.expires_at, a.expired_seq IS NOT NULL \
    FROM approvals a JOIN accounts p ON p.id = a.provider_id JOIN reps r ON r.id = a.recorded_by";

fn approval_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Approval> {
    Ok(Approval {
        id: r.get(0)?,
        provider: Party { id: AccountId(r.get(1)?), name: r.get(2)? },
        method: ApprovalMethod::parse(&r.get::<_, String>(3)?),
        reference: r.get(4)?,
        from_address: r.get(5)?,
        recorded_by: r.get(6)?,
        recorded_at: r.get(7)?,
        expires_at: r.get(8)?,
        expired: r.get(9)?,
    })
}

fn approvals_of(conn: &rusqlite::Connection, id: CaseId) -> Result<Vec<Approval>, DeskError> {
    let mut stmt = conn.prepare_cached(&format!("{APPROVAL_SELECT} WHERE a.case_id = ?1 ORDER BY a.id")).map_err(sql)?;
    let rows = stmt.query_map([id.0], approval_from_row).map_err(sql)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)
}

/// The provider the policy names to approve this case's request (whatever the caller's
/// verification), or `None` when the request needs no approval.
fn required_approver(conn: &rusqlite::Connection, case: &CaseSummary) -> Result<Option<Approver>, DeskError> {
    let Some(target) = &case.target else { return Ok(None) };
    if case.request != "on_behalf" {
        return Ok(None);
    }
    let caller = load_account(conn, &case.caller.id).map_err(sql)?;
    let target = load_account(conn, &target.id).map_err(sql)?;
    let (Some(caller), Some(target)) = (caller, target) else { return Ok(None) };
    let primary = match &target.primary_provider {
        Some(p) => load_account(conn, p).map_err(sql)?,
        None => None,
    };
    let (cf, tf) = (caller.facts(), target.facts());
    let pf = primary.as_ref().map(|p| p.facts());
    let decision = super::policy::decide(&super::policy::DecisionInput {
        rep_account: None,
        caller: &cf,
        target: Some(&tf),
        unlock: false,
        verified: true,
        target_primary: pf.as_ref(),
    });
    Ok(match decision.verdict {
        Verdict::NeedsApproval { approver } => Some(approver),
        _ => None,
    })
}

/// The caller's verification in this case, from the case's own audit events.
fn verification_of(
    conn: &rusqlite::Connection,
    case: &CaseSummary,
    now: DateTime<Utc>,
    policy: &Policy,
) -> Result<Verification, DeskError> {
    let failures = failures_in_case(conn, case.id, &case.caller.id)?;
    let matched_at: Option<String> = conn
        .query_row(
            "SELECT at FROM audit_events WHERE case_id = ?1 AND account_id = ?2 AND kind = 'pin_validated' \
             ORDER BY seq DESC LIMIT 1",
            params![case.id.0, case.caller.id.as_str()],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql)?;
    let ended = failures >= policy.case_failure_limit;
    // A match "in the future" (the clock moved back) counts only within the same window.
    let recent = matched_at
        .as_deref()
        .and_then(from_db)
        .is_some_and(|t| (now - t).abs() <= Duration::minutes(policy.idle_timeout_minutes));
    Ok(Verification { matched_at, counts: recent && !ended, failures, limit: policy.case_failure_limit, ended })
}

/// Failed checks of `account`'s PIN inside this case.
fn failures_in_case(conn: &rusqlite::Connection, case: CaseId, account: &AccountId) -> Result<i64, DeskError> {
    conn.query_row(
        "SELECT count(*) FROM audit_events WHERE case_id = ?1 AND account_id = ?2 AND kind = 'pin_rejected' \
         AND outcome IN ('fail', 'locked')",
        params![case.0, account.as_str()],
        |r| r.get(0),
    )
    .map_err(sql)
}

/// Records that `session`'s rep acted on the case.
fn touch(tx: &Transaction<'_>, case: CaseId, session: &Session, now: DateTime<Utc>) -> Result<(), DeskError> {
    let at = to_db(now);
    tx.execute(
        "INSERT INTO case_touches (case_id, rep_id, first_at, last_at) VALUES (?1, ?2, ?3, ?3) \
         ON CONFLICT (case_id, rep_id) DO UPDATE SET last_at = excluded.last_at",
        params![case.0, session.rep_id.0, at],
    )
    .map_err(sql)?;
    Ok(())
}

/// The base of an audit event about a case.
fn case_event(session: &Session, case: &CaseSummary, outcome: &str, policy: &Policy) -> NewEvent {
    NewEvent {
        rep: Some(session.username.clone()),
        case_id: Some(case.id.0),
        account_id: Some(case.caller.id.to_string()),
        other_account: case.target.as_ref().map(|t| t.id.to_string()),
        outcome: outcome.into(),
        policy_version: Some(policy.version),
        ..NewEvent::default()
    }
}

/// Changes the status and appends its `case_updated` event, in the caller's transaction.
fn set_status(
    tx: &Transaction<'_>,
    session: &Session,
    case: &mut CaseSummary,
    to: CaseStatus,
    now: DateTime<Utc>,
    policy: &Policy,
    why: &str,
) -> Result<i64, DeskError> {
    let from = case.status;
    tx.execute("UPDATE cases SET status = ?2 WHERE id = ?1", params![case.id.0, to.as_str()]).map_err(sql)?;
    case.status = to;
    audit::append(tx, now, EventKind::CaseUpdated, &NewEvent {
        reason: Some("status".into()),
        detail: Some(format!("status: {} -> {}; {why}", from.as_str(), to.as_str())),
        ..case_event(session, case, "ok", policy)
    })
}

/// The accounts a case involves: its caller, its target, and the provider who must approve.
fn involved_accounts(tx: &Transaction<'_>, case: &CaseSummary) -> Result<Vec<AccountId>, DeskError> {
    let mut involved = vec![case.caller.id.clone()];
    involved.extend(case.target.as_ref().map(|t| t.id.clone()));
    involved.extend(required_approver(tx, case)?.map(|a| a.id));
    Ok(involved)
}

/// Refuses, and audits the refusal, when the case involves the rep's own account: a rep never
/// works such a case, not even to add a note or move its status. `Ok(Err(why))` when refused.
fn refuse_own_case(
    tx: &Transaction<'_>,
    session: &Session,
    case: &CaseSummary,
    now: DateTime<Utc>,
    policy: &Policy,
    asked: &str,
) -> Result<Result<(), String>, DeskError> {
    let involved = involved_accounts(tx, case)?;
    let refs: Vec<&AccountId> = involved.iter().collect();
    let Some(why) = own_account_refusal(session, &refs) else { return Ok(Ok(())) };
    audit::append(tx, now, EventKind::CaseUpdated, &NewEvent {
        reason: Some("rep_own_account".into()),
        detail: Some(format!("not done: {asked}")),
        ..case_event(session, case, "refused", policy)
    })?;
    Ok(Err(why))
}

/// Why the rep may not act on this case: a rep never opens, approves or closes a case on their own
/// account (as caller, target or approver).
fn own_account_refusal(session: &Session, accounts: &[&AccountId]) -> Option<String> {
    let own = session.account_id.as_ref()?;
    accounts.contains(&own).then(|| {
        "a rep never works a case on their own account (as caller, target or approver); another rep must take it"
            .to_string()
    })
}

fn require_open(case: &CaseSummary) -> Result<(), DeskError> {
    if case.status == CaseStatus::Closed {
        let outcome = case.outcome.map(|o| o.as_str()).unwrap_or("closed");
        return Err(DeskError::Invalid(format!(
            "case {} is closed ({outcome}); open a new case for a new request",
            case.id
        )));
    }
    Ok(())
}

/// Trims and checks free text a rep typed (a note, a reference, an address): not empty, not too
/// long, and, where a PIN could be written down by mistake, nothing that may hold one.
fn clean_text(what: &str, text: &str, refuse_digit_runs: bool) -> Result<String, DeskError> {
    let text = super::text::normalize(text.trim());
    if text.is_empty() {
        return Err(DeskError::Invalid(format!("the {what} is empty")));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(DeskError::Invalid(format!("the {what} is longer than {MAX_TEXT_CHARS} characters")));
    }
    if refuse_digit_runs {
        super::text::refuse_pin_in_text(what, &text)?;
    }
    Ok(text)
}

/// A sender address as compared: a display name form (`Dr. Ada <ada@x>`) reduced to the address
/// in the angle brackets, trimmed.
fn bare_address(s: &str) -> &str {
    let s = s.trim();
    let s = match (s.rfind('<'), s.rfind('>')) {
        (Some(l), Some(r)) if l < r => &s[l + 1..r],
        _ => s,
    };
    s.trim()
}

/// Compares a sender address with an email of record: trimmed, case-insensitive, and a display
/// name form (`Dr. Ada <ada@x>`) reduced to the address in the angle brackets.
fn same_address(from: &str, of_record: &str) -> bool {
    let (from, of_record) = (bare_address(from).to_lowercase(), bare_address(of_record).to_lowercase());
    !from.is_empty() && from == of_record
}

impl Desk {
    /// Opens a case for `caller`'s `request` and records `case_opened`. A rep's own account (as
    /// caller or target) is refused, and the refusal is audited.
    pub fn open_case(
        &mut self,
        session: &Session,
        channel: Channel,
        caller: &AccountId,
        request: &Request,
    ) -> Result<CaseId, DeskError> {
        let policy = self.policy()?;
        let now = self.clock.now();
        let target = match request {
            Request::OnBehalfOf(t) if t != caller => Some(t.clone()),
            _ => None,
        };
        // "On behalf of" oneself is a request on one's own account.
        let request_name = if target.is_none() && matches!(request, Request::OnBehalfOf(_)) {
            "own"
        } else {
            request.as_str()
        };
        let answer = self.store.write(|tx| {
            require_active(tx, session)?;
            if load_account(tx, caller).map_err(sql)?.is_none() {
                return Err(DeskError::account_not_found(&caller));
            }
            if let Some(t) = &target
                && load_account(tx, t).map_err(sql)?.is_none()
            {
                return Err(DeskError::account_not_found(&t));
            }
            let mut involved = vec![caller];
            involved.extend(target.as_ref());
            if let Some(why) = own_account_refusal(session, &involved) {
                audit::append(tx, now, EventKind::CaseOpened, &NewEvent {
                    rep: Some(session.username.clone()),
                    account_id: Some(caller.to_string()),
                    other_account: target.as_ref().map(|t| t.to_string()),
                    outcome: "refused".into(),
                    reason: Some("rep_own_account".into()),
                    policy_version: Some(policy.version),
                    detail: Some(format!("request: {request_name}; channel: {}", channel.as_str())),
                    ..NewEvent::default()
                })?;
                return Ok(Err(why));
            }
            let id: i64 = tx
                .query_row(
                    "INSERT INTO cases (channel, rep_id, caller_id, target_id, request, status, opened_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, 'open', ?6) RETURNING id",
                    params![
                        channel.as_str(),
                        session.rep_id.0,
                        caller.as_str(),
                        target.as_ref().map(|t| t.as_str()),
                        request_name,
                        to_db(now)
                    ],
                    |r| r.get(0),
                )
                .map_err(sql)?;
            touch(tx, CaseId(id), session, now)?;
            audit::append(tx, now, EventKind::CaseOpened, &NewEvent {
                rep: Some(session.username.clone()),
                case_id: Some(id),
                account_id: Some(caller.to_string()),
                other_account: target.as_ref().map(|t| t.to_string()),
                outcome: "ok".into(),
                reason: Some(request_name.into()),
                policy_version: Some(policy.version),
                detail: Some(format!("request: {request_name}; channel: {}", channel.as_str())),
            })?;
            Ok(Ok(CaseId(id)))
        })?;
        answer.map_err(DeskError::Refused)
    }

    /// Checks a Support PIN inside a case: the caller's (a match verifies the caller in this case)
    /// or the approving provider's (a match records their approval and, like any match, rotates
    /// their PIN). Anyone else's PIN is refused without a check. 3 failed checks of an account in
    /// one case end checks of that account in that case; the 5-failure lock of the PIN still
    /// counts across cases.
    pub fn check_pin_in_case(
        &mut self,
        session: &Session,
        case_id: CaseId,
        account: &AccountId,
        pin: &Pin,
    ) -> Result<CasePinCheck, DeskError> {
        let policy = self.policy()?;
        let case = load_case(self.store.conn(), case_id).map_err(|e| self.relabel(e))?;
        require_open(&case)?;
        let approver = required_approver(self.store.conn(), &case).map_err(|e| self.relabel(e))?;
        let checked_as = if *account == case.caller.id {
            CheckedAs::Caller
        } else if approver.as_ref().is_some_and(|a| a.id == *account) {
            CheckedAs::Approver
        } else {
            let who = match &approver {
                Some(a) => format!("only the caller ({}) or {} ({}), who must approve it", case.caller.id, a.name, a.id),
                None => format!("only the caller ({}); this request needs no approval", case.caller.id),
            };
            return Err(DeskError::Refused(format!(
                "{account} is not part of case {case_id}: a PIN checked in this case can be {who}"
            )));
        };
        let mut involved = vec![&case.caller.id];
        involved.extend(case.target.as_ref().map(|t| &t.id));
        involved.extend(approver.as_ref().map(|a| &a.id));
        if let Some(why) = own_account_refusal(session, &involved) {
            self.record_refusal(EventKind::PinRejected, NewEvent {
                account_id: Some(account.to_string()),
                other_account: None,
                reason: Some("rep_own_account".into()),
                detail: Some("not checked: a rep never works a case on their own account".into()),
                ..case_event(session, &case, "refused", &policy)
            });
            return Err(DeskError::Refused(why));
        }
        let limit = policy.case_failure_limit;
        let lifetime = policy.approval_lifetime_minutes;
        let account_text = account.to_string();
        let policy_gate = policy.clone();
        let case_gate = case.clone();
        let session_gate = session.clone();
        let session_after = session.clone();
        let policy_after = policy.clone();
        self.check_pin_with(
            session,
            account,
            pin,
            Some(case_id.0),
            move |tx, now| {
                // The case may have been closed, or its failures counted up, by another rep since.
                let current = load_case(tx, case_id)?;
                require_open(&current)?;
                let failures = failures_in_case(tx, case_id, &AccountId::new(&account_text))?;
                if failures < limit {
                    return Ok(None);
                }
                touch(tx, case_id, &session_gate, now)?;
                audit::append(tx, now, EventKind::PinRejected, &NewEvent {
                    reason: Some("case_verification_ended".into()),
                    account_id: Some(account_text.clone()),
                    other_account: None,
                    detail: Some(format!("not checked: {failures} failed checks in this case already")),
                    ..case_event(&session_gate, &case_gate, "refused", &policy_gate)
                })?;
                Ok(Some(CasePinCheck {
                    case_id,
                    checked_as,
                    check: None,
                    failures_in_case: failures,
                    limit,
                    approval: None,
                }))
            },
            move |tx, check, now, seq| {
                touch(tx, case_id, &session_after, now)?;
                let failures = failures_in_case(tx, case_id, account)?;
                let mut approval = None;
                if checked_as == CheckedAs::Approver && check == PinCheck::Matched {
                    let mut case = load_case(tx, case_id)?;
                    let provider = approver.clone().ok_or_else(|| DeskError::Invalid("no approver".into()))?;
                    approval = Some(record_approval(
                        tx,
                        &session_after,
                        &mut case,
                        &provider,
                        ApprovalMethod::ProviderPin,
                        &format!("Support PIN matched in this case (audit event #{seq})"),
                        None,
                        now,
                        lifetime,
                        &policy_after,
                    )?);
                }
                Ok(CasePinCheck { case_id, checked_as, check: Some(check), failures_in_case: failures, limit, approval })
            },
        )
    }

    /// A store read error for the desk's database (reads outside a write transaction).
    fn relabel(&self, e: DeskError) -> DeskError {
        match e {
            DeskError::NotRecorded { cause } => DeskError::Storage { path: self.store.path().to_path_buf(), cause },
            other => other,
        }
    }

    /// The case's verdict: the policy's answer for its request, with the caller's verification in
    /// this case (within the idle timeout, fewer than 3 failures), and, where the policy needs a
    /// provider's approval, "Support can assist" while a valid approval by that provider stands.
    /// An approval found expired is recorded once as `approval_expired` and the case goes back to
    /// awaiting approval.
    pub fn case_verdict(&mut self, session: &Session, case_id: CaseId) -> Result<CaseVerdict, DeskError> {
        let policy = self.policy()?;
        let now = self.clock.now();
        self.store.write(|tx| {
            require_active(tx, session)?;
            let mut case = load_case(tx, case_id)?;
            require_open(&case)?;
            if case.as_request() == Request::Unlock {
                // Its verdict is given by unlocking, which records how the caller was identified.
                return Err(DeskError::Invalid(format!(
                    "case {case_id} asks for an unlock: it is decided by the unlock itself, with a note of how the \
                     caller was identified (u on the case; case unlock {case_id} --identified-by TEXT)"
                )));
            }
            let verification = verification_of(tx, &case, now, &policy)?;
            let request = case.as_request();
            let (decision, target) = gather_and_decide(tx, session, &case.caller.id, &request, verification.counts)?;
            let mut approval = None;
            let mut expired_approval = None;
            let mut extra = String::new();
            let mut result = decision.clone();
            if let Verdict::NeedsApproval { approver } = &decision.verdict {
                let latest = approvals_of(tx, case_id)?.into_iter().rev().find(|a| a.provider.id == approver.id);
                if let Some(a) = latest {
                    if a.valid_at(now) {
                        extra = format!("approval #{} ({}) by {}", a.id, a.method.as_str(), a.provider.id);
                        result = Decision { verdict: Verdict::Assist, rule: decision.rule };
                        approval = Some(a);
                    } else {
                        if !a.expired {
                            let seq = audit::append(tx, now, EventKind::ApprovalExpired, &NewEvent {
                                other_account: Some(a.provider.id.to_string()),
                                reason: Some("expired".into()),
                                detail: Some(format!(
                                    "approval #{} by {} ({}) expired at {}",
                                    a.id,
                                    a.provider.id,
                                    a.method.as_str(),
                                    a.expires_at
                                )),
                                ..case_event(session, &case, "expired", &policy)
                            })?;
                            tx.execute("UPDATE approvals SET expired_seq = ?2 WHERE id = ?1", params![a.id, seq])
                                .map_err(sql)?;
                            if case.status == CaseStatus::Approved {
                                set_status(tx, session, &mut case, CaseStatus::AwaitingApproval, now, &policy, "the approval expired")?;
                            }
                        }
                        expired_approval = Some(Approval { expired: true, ..a });
                    }
                }
                if approval.is_none() && case.status == CaseStatus::Open {
                    set_status(tx, session, &mut case, CaseStatus::AwaitingApproval, now, &policy, "the verdict needs a provider's approval")?;
                }
            }
            touch(tx, case_id, session, now)?;
            let seq = append_verdict(
                tx,
                session,
                &case.caller.id,
                &request,
                target.as_ref(),
                &result,
                now,
                &policy,
                Some((case_id.0, extra)),
                None,
            )?;
            let target_name = target.as_ref().map(|t| t.name.as_str());
            let mut shown = shown(result, target_name, policy.version, seq);
            if let Some(a) = &approval {
                shown.policy_row = format!("{}; {}", shown.policy_row, a.citation());
                shown.next_step = format!(
                    "{} approved this request. I can help you with {}'s account now.",
                    a.provider.name,
                    target_name.unwrap_or("the account")
                );
            } else if verification.ended && decision.verdict == Verdict::VerifyFirst {
                shown.next_step = format!(
                    "I'm not able to verify you on this case after {} unsuccessful attempts. Please contact us \
                     again once you have your current Support PIN from your account settings.",
                    verification.failures
                );
            }
            Ok(CaseVerdict { case_id, shown, approval, expired_approval, status: case.status })
        })
    }

    /// The unlock a case asks for: no Support PIN, but the rep records how the caller was identified.
    /// The verdict (in the case, with the note) and, when it is "Support can assist", the unlock
    /// itself are one transaction, so an unlock case closes as assisted only once the account was
    /// really unlocked (or found not locked). A rep's own account is refused like any verdict.
    pub fn unlock_in_case(&mut self, session: &Session, case_id: CaseId, identified_by: &str) -> Result<Unlocked, DeskError> {
        let note = identified_note(identified_by)?;
        let policy = self.policy()?;
        let now = self.clock.now();
        self.store.write(|tx| {
            require_active(tx, session)?;
            let case = load_case(tx, case_id)?;
            require_open(&case)?;
            if case.as_request() != Request::Unlock {
                return Err(DeskError::Invalid(format!(
                    "case {case_id} asks for {}, not an unlock; open a case for the unlock",
                    case.request_label()
                )));
            }
            let caller = case.caller.id.clone();
            let (decision, _) = gather_and_decide(tx, session, &caller, &Request::Unlock, false)?;
            touch(tx, case_id, session, now)?;
            let seq = append_verdict(
                tx,
                session,
                &caller,
                &Request::Unlock,
                None,
                &decision,
                now,
                &policy,
                Some((case_id.0, String::new())),
                Some(&note),
            )?;
            let unlocked =
                decision.verdict == Verdict::Assist && record_unlock(tx, session, &caller, now, &policy, &note, Some(case_id.0))?;
            Ok(unlocked_result(shown(decision, None, policy.version, seq), unlocked))
        })
    }

    /// Records the approving provider's reply on the case. The reply's sender must be that
    /// provider's email of record (compared trimmed and case-insensitively); a reply from anyone
    /// else, or on a request that needs no approval, is refused with the reason, and the refusal
    /// is audited. So is a reply from an address the provider shares with the requestor or another
    /// active account: it cannot show who sent it (the provider can still call in with their PIN).
    pub fn approve_by_reply(
        &mut self,
        session: &Session,
        case_id: CaseId,
        reference: &str,
        from_address: &str,
    ) -> Result<ApprovalOutcome, DeskError> {
        let reference = clean_text("reference", reference, false)?;
        let from = clean_text("sender address", from_address, false)?;
        for (what, text) in [("reference", &reference), ("sender address", &from)] {
            if super::text::names_a_pin(text) {
                return Err(DeskError::Invalid(format!(
                    "the {what} looks like it holds a Support PIN; a PIN is never written down (nothing was recorded)"
                )));
            }
        }
        let policy = self.policy()?;
        let now = self.clock.now();
        let answer = self.store.write(|tx| {
            require_active(tx, session)?;
            let mut case = load_case(tx, case_id)?;
            require_open(&case)?;
            let approver = required_approver(tx, &case)?;
            let mut involved = vec![&case.caller.id];
            involved.extend(case.target.as_ref().map(|t| &t.id));
            involved.extend(approver.as_ref().map(|a| &a.id));
            if let Some(why) = own_account_refusal(session, &involved) {
                refuse_approval(tx, session, &case, now, &policy, "rep_own_account", &from, &reference)?;
                return Ok(Err(why));
            }
            let refusal: Option<(&str, String)> = match &approver {
                None => Some(("no_approval_needed", format!(
                    "no provider can approve case {case_id}'s request ({}): it needs no approval, or the policy refuses it outright (v shows its verdict)",
                    case.request_label()
                ))),
                Some(a) => {
                    let email = load_account(tx, &a.id).map_err(sql)?.map(|x| x.email).unwrap_or_default();
                    if same_address(&from, &email) {
                        shared_sender(tx, &case, a, &from)?
                    } else {
                        Some(wrong_sender(tx, &case, a, &email, &from)?)
                    }
                }
            };
            if let Some((code, reason)) = refusal {
                touch(tx, case_id, session, now)?;
                refuse_approval(tx, session, &case, now, &policy, code, &from, &reference)?;
                return Ok(Ok(ApprovalOutcome::Refused { code: code.into(), reason }));
            }
            let provider = approver.ok_or_else(|| DeskError::Invalid("no approver".into()))?;
            touch(tx, case_id, session, now)?;
            let approval = record_approval(
                tx,
                session,
                &mut case,
                &provider,
                ApprovalMethod::CaseReply,
                &reference,
                Some(&from),
                now,
                policy.approval_lifetime_minutes,
                &policy,
            )?;
            Ok(Ok(ApprovalOutcome::Recorded { approval }))
        })?;
        answer.map_err(DeskError::Refused)
    }

    /// Adds a note to an open case (`case_updated`, reason `note`, the note in the detail). A run
    /// of 4 or more digits is refused: a Support PIN is never written down.
    pub fn add_case_note(&mut self, session: &Session, case_id: CaseId, text: &str) -> Result<(), DeskError> {
        let text = clean_text("note", text, true)?;
        let policy = self.policy()?;
        let now = self.clock.now();
        let answer = self.store.write(|tx| {
            require_active(tx, session)?;
            let case = load_case(tx, case_id)?;
            require_open(&case)?;
            if let Err(why) = refuse_own_case(tx, session, &case, now, &policy, "a note")? {
                return Ok(Err(why));
            }
            tx.execute(
                "INSERT INTO case_notes (case_id, rep_id, at, body) VALUES (?1, ?2, ?3, ?4)",
                params![case_id.0, session.rep_id.0, to_db(now), text],
            )
            .map_err(sql)?;
            touch(tx, case_id, session, now)?;
            audit::append(tx, now, EventKind::CaseUpdated, &NewEvent {
                reason: Some("note".into()),
                detail: Some(format!("note: {text}")),
                ..case_event(session, &case, "ok", &policy)
            })?;
            Ok(Ok(()))
        })?;
        answer.map_err(DeskError::Refused)
    }

    /// Moves an open case to awaiting approval (the rep asked the provider). Only a request that
    /// needs a provider's approval can wait for one; "approved" comes only with a recorded
    /// approval, and "closed" only with an outcome.
    pub fn set_case_status(&mut self, session: &Session, case_id: CaseId, to: CaseStatus) -> Result<(), DeskError> {
        let policy = self.policy()?;
        let now = self.clock.now();
        let answer = self.store.write(|tx| {
            require_active(tx, session)?;
            let mut case = load_case(tx, case_id)?;
            require_open(&case)?;
            if let Err(why) = refuse_own_case(tx, session, &case, now, &policy, &format!("status {}", to.as_str()))? {
                return Ok(Err(why));
            }
            match (case.status, to) {
                (CaseStatus::Open, CaseStatus::AwaitingApproval) => {
                    if required_approver(tx, &case)?.is_none() {
                        return Err(DeskError::Invalid(format!(
                            "no provider can approve case {case_id}'s request ({}): it needs no approval, or the policy refuses it outright; so it cannot wait for one",
                            case.request_label()
                        )));
                    }
                }
                (_, CaseStatus::Approved) => {
                    return Err(DeskError::Invalid(
                        "a case is approved only by recording the provider's approval (their reply, or their Support PIN)".into(),
                    ));
                }
                (_, CaseStatus::Closed) => {
                    return Err(DeskError::Invalid("close a case with an outcome (assisted, refused, abandoned, duplicate)".into()));
                }
                (from, to) => {
                    return Err(DeskError::Invalid(format!(
                        "case {case_id} cannot go from {} to {}",
                        from.label(),
                        to.label()
                    )));
                }
            }
            touch(tx, case_id, session, now)?;
            set_status(tx, session, &mut case, to, now, &policy, "set by the rep")?;
            Ok(Ok(()))
        })?;
        answer.map_err(DeskError::Refused)
    }

    /// Closes a case with its outcome (`case_closed`). "Assisted" needs a "Support can assist"
    /// verdict shown in this case. A rep's own account is refused, and the refusal is audited.
    pub fn close_case(&mut self, session: &Session, case_id: CaseId, outcome: CaseOutcome) -> Result<(), DeskError> {
        self.close_case_as(session, case_id, outcome, None)
    }

    /// Closes a case as a duplicate of another case, which must exist and not be this one; the
    /// closing event names it, so a lead can follow the request to where it was worked.
    pub fn close_case_as_duplicate(&mut self, session: &Session, case_id: CaseId, of: CaseId) -> Result<(), DeskError> {
        self.close_case_as(session, case_id, CaseOutcome::Duplicate, Some(of))
    }

    fn close_case_as(
        &mut self,
        session: &Session,
        case_id: CaseId,
        outcome: CaseOutcome,
        duplicate_of: Option<CaseId>,
    ) -> Result<(), DeskError> {
        if outcome == CaseOutcome::Duplicate && duplicate_of.is_none() {
            return Err(DeskError::Invalid(format!(
                "say which case #{case_id} duplicates (d then its number; case close {case_id} --outcome duplicate --duplicate-of N)"
            )));
        }
        if duplicate_of == Some(case_id) {
            return Err(DeskError::Invalid(format!("case {case_id} cannot duplicate itself")));
        }
        let policy = self.policy()?;
        let now = self.clock.now();
        let answer = self.store.write(|tx| {
            require_active(tx, session)?;
            let case = load_case(tx, case_id)?;
            require_open(&case)?;
            if let Some(of) = duplicate_of {
                // Two requests closed as duplicates of each other would leave both unhandled.
                if load_case(tx, of)?.outcome == Some(CaseOutcome::Duplicate) {
                    return Err(DeskError::Invalid(format!(
                        "case {of} is itself closed as a duplicate; close case {case_id} as a duplicate of the case that was worked"
                    )));
                }
            }
            let approver = required_approver(tx, &case)?;
            let mut involved = vec![&case.caller.id];
            involved.extend(case.target.as_ref().map(|t| &t.id));
            involved.extend(approver.as_ref().map(|a| &a.id));
            if let Some(why) = own_account_refusal(session, &involved) {
                audit::append(tx, now, EventKind::CaseClosed, &NewEvent {
                    reason: Some("rep_own_account".into()),
                    detail: Some(format!("not closed; outcome asked: {}", outcome.as_str())),
                    ..case_event(session, &case, "refused", &policy)
                })?;
                return Ok(Err(why));
            }
            if outcome == CaseOutcome::Assisted {
                // The case's latest verdict decides: an earlier "assist" whose approval has since
                // expired (the latest verdict says "approval needed" again) does not count.
                let latest: Option<String> = tx
                    .query_row(
                        "SELECT outcome FROM audit_events WHERE case_id = ?1 AND kind = 'verdict_shown' ORDER BY seq DESC LIMIT 1",
                        [case_id.0],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(sql)?;
                match latest.as_deref() {
                    Some("assist") => {}
                    None => {
                        return Err(DeskError::Invalid(format!(
                            "case {case_id} never had a \"Support can assist\" verdict, so it cannot close as assisted; \
                             close it as refused or abandoned"
                        )));
                    }
                    Some(_) => {
                        return Err(DeskError::Invalid(format!(
                            "case {case_id}'s latest verdict is not \"Support can assist\" (an approval may have expired), \
                             so it cannot close as assisted; show the verdict again (v), or close it as refused or abandoned"
                        )));
                    }
                }
            }
            let at = to_db(now);
            tx.execute(
                "UPDATE cases SET status = 'closed', outcome = ?2, closed_at = ?3 WHERE id = ?1",
                params![case_id.0, outcome.as_str(), at],
            )
            .map_err(sql)?;
            touch(tx, case_id, session, now)?;
            let of = duplicate_of.map(|c| format!(" of case #{c}")).unwrap_or_default();
            audit::append(tx, now, EventKind::CaseClosed, &NewEvent {
                reason: Some(outcome.as_str().into()),
                detail: Some(format!("status: {} -> closed; outcome: {}{of}", case.status.as_str(), outcome.as_str())),
                ..case_event(session, &case, "ok", &policy)
            })?;
            Ok(Ok(()))
        })?;
        answer.map_err(DeskError::Refused)
    }

    /// Cases matching `filter`, most recently opened first (closed ones by closing time).
    pub fn list_cases(&self, filter: &CaseFilter) -> Result<Vec<CaseSummary>, DeskError> {
        let mut where_ = vec!["1 = 1".to_string()];
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        // Listed as it stands now: an approved case whose approvals have all run out (no verdict
        // has recorded it yet) is awaiting a new approval.
        args.push(to_db(self.clock.now()).into());
        let status = "CASE WHEN c.status = 'approved' AND NOT EXISTS (SELECT 1 FROM approvals a WHERE a.case_id = c.id \
                      AND a.expired_seq IS NULL AND a.expires_at > ?1) THEN 'awaiting_approval' ELSE c.status END";
        if let Some(wanted) = filter.status {
            args.push(wanted.as_str().to_string().into());
            where_.push(format!("{status} = ?{}", args.len()));
        }
        if let Some(rep) = filter.touched_by {
            args.push(rep.into());
            where_.push(format!(
                "(c.rep_id = ?{0} OR EXISTS (SELECT 1 FROM case_touches t WHERE t.case_id = c.id AND t.rep_id = ?{0}))",
                args.len()
            ));
        }
        if let Some(account) = &filter.account {
            args.push(account.as_str().to_string().into());
            where_.push(format!("(c.caller_id = ?{0} OR c.target_id = ?{0})", args.len()));
        }
        args.push((filter.limit.max(1) as i64).into());
        let select = SUMMARY_SELECT.replacen("c.status,", &format!("{status},"), 1);
        let sql_text = format!(
            "{select} WHERE {} ORDER BY coalesce(c.closed_at, c.opened_at) DESC, c.id DESC LIMIT ?{}",
            where_.join(" AND "),
            args.len()
        );
        let conn = self.store.conn();
        let run = || -> rusqlite::Result<Vec<CaseSummary>> {
            let mut stmt = conn.prepare(&sql_text)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), summary_from_row)?;
            rows.collect()
        };
        run().map_err(|e| self.store.read_error(e))
    }

    /// One case with its notes, approvals, verification and timeline. Reads only; records nothing.
    pub fn case_detail(&self, case_id: CaseId) -> Result<CaseDetail, DeskError> {
        let conn = self.store.conn();
        let policy = self.policy()?;
        let now = self.clock.now();
        let read = || -> Result<CaseDetail, DeskError> {
            let summary = load_case(conn, case_id)?;
            let approver = required_approver(conn, &summary)?;
            let approver_email = match &approver {
                Some(a) => load_account(conn, &a.id).map_err(sql)?.map(|x| x.email),
                None => None,
            };
            let verification = verification_of(conn, &summary, now, &policy)?;
            let approver_failures = match &approver {
                Some(a) => failures_in_case(conn, case_id, &a.id)?,
                None => 0,
            };
            let approvals = approvals_of(conn, case_id)?;
            let mut stmt = conn
                .prepare_cached(
                    "SELECT r.username FROM case_touches t JOIN reps r ON r.id = t.rep_id WHERE t.case_id = ?1 \
                     ORDER BY t.first_at, t.rowid",
                )
                .map_err(sql)?;
            let touched_by = stmt
                .query_map([case_id.0], |r| r.get(0))
                .map_err(sql)?
                .collect::<rusqlite::Result<Vec<String>>>()
                .map_err(sql)?;
            let mut stmt = conn
                .prepare_cached(
                    "SELECT r.username, n.at, n.body FROM case_notes n JOIN reps r ON r.id = n.rep_id \
                     WHERE n.case_id = ?1 ORDER BY n.id",
                )
                .map_err(sql)?;
            let notes = stmt
                .query_map([case_id.0], |r| Ok(CaseNote { rep: r.get(0)?, at: r.get(1)?, text: r.get(2)? }))
                .map_err(sql)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(sql)?;
            let mut stmt = conn
                .prepare_cached(&format!("SELECT {} FROM audit_events WHERE case_id = ?1 ORDER BY seq", AuditEvent::COLUMNS))
                .map_err(sql)?;
            let timeline = stmt
                .query_map([case_id.0], AuditEvent::from_row)
                .map_err(sql)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(sql)?;
            Ok(CaseDetail {
                summary,
                touched_by,
                approver,
                approver_email,
                verification,
                approver_failures,
                approvals,
                notes,
                timeline,
            })
        };
        read().map_err(|e| self.relabel(e))
    }
}

/// Why a reply's sender is not the approving provider, in words, with a reason code.
fn wrong_sender(
    tx: &Transaction<'_>,
    case: &CaseSummary,
    approver: &Approver,
    email_of_record: &str,
    from: &str,
) -> Result<(&'static str, String), DeskError> {
    let mut stmt = tx
        .prepare_cached("SELECT id, name, role, email FROM accounts WHERE lower(trim(email)) = lower(trim(?1))")
        .map_err(sql)?;
    let bare = bare_address(from);
    let owner: Option<(String, String, String)> = stmt
        .query_row([&bare], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
        .map_err(sql)?;
    let need = format!(
        "only {} ({}) can approve case {}, by a reply from their email of record {}",
        approver.name, approver.id, case.id, email_of_record
    );
    Ok(match owner {
        Some((id, name, _)) if id == case.caller.id.as_str() => (
            "requestor_cannot_approve",
            format!("the reply came from the requestor, {name} ({id}), who cannot approve their own request; {need}"),
        ),
        Some((id, name, role)) if role == "provider" => (
            "wrong_provider",
            format!("the reply came from another provider, {name} ({id}); {need}"),
        ),
        Some((id, name, _)) => (
            "not_the_provider",
            format!("the reply came from {name} ({id}), who is not the approving provider; {need}"),
        ),
        None => (
            "address_not_of_record",
            format!("the reply came from an address that is not the provider's email of record; {need}"),
        ),
    })
}

/// Why a reply from the approving provider's own address still cannot count, when that address is
/// also the email of record of the requestor or of another active account (a staff member sharing
/// the provider's mailbox): the reply cannot show which of them sent it, and a requestor never
/// approves their own request. `None` when the address is the provider's alone.
fn shared_sender(
    tx: &Transaction<'_>,
    case: &CaseSummary,
    approver: &Approver,
    from: &str,
) -> Result<Option<(&'static str, String)>, DeskError> {
    let mut stmt = tx
        .prepare_cached(
            "SELECT id, name FROM accounts WHERE lower(trim(email)) = lower(?1) AND id <> ?2 \
             AND (active = 1 OR id = ?3) ORDER BY id = ?3 DESC, id LIMIT 1",
        )
        .map_err(sql)?;
    let other: Option<(String, String)> = stmt
        .query_row(params![bare_address(from), approver.id.as_str(), case.caller.id.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
        .map_err(sql)?;
    let Some((id, name)) = other else { return Ok(None) };
    let instead = format!(
        "a reply from it cannot show that {} ({}) sent it; {} can approve case {} by calling in with their own \
         Support PIN",
        approver.name, approver.id, approver.name, case.id
    );
    Ok(Some(if id == case.caller.id.as_str() {
        (
            "requestor_cannot_approve",
            format!(
                "the reply came from {}, which is also the email of record of the requestor, {name} ({id}), who \
                 cannot approve their own request; {instead}",
                bare_address(from)
            ),
        )
    } else {
        (
            "shared_address",
            format!(
                "the reply came from {}, which is also the email of record of {name} ({id}); {instead}",
                bare_address(from)
            ),
        )
    }))
}

/// Appends the audited refusal of an approval.
#[allow(clippy::too_many_arguments)]
fn refuse_approval(
    tx: &Transaction<'_>,
    session: &Session,
    case: &CaseSummary,
    now: DateTime<Utc>,
    policy: &Policy,
    code: &str,
    from: &str,
    reference: &str,
) -> Result<i64, DeskError> {
    audit::append(tx, now, EventKind::ApprovalRecorded, &NewEvent {
        reason: Some(code.into()),
        detail: Some(format!("reply via case_reply from {from}; reference {reference}")),
        ..case_event(session, case, "refused", policy)
    })
}

/// Writes an approval, its `approval_recorded` event and the status change to approved (through
/// awaiting approval when the case was still open).
#[allow(clippy::too_many_arguments)]
fn record_approval(
    tx: &Transaction<'_>,
    session: &Session,
    case: &mut CaseSummary,
    provider: &Approver,
    method: ApprovalMethod,
    reference: &str,
    from_address: Option<&str>,
    now: DateTime<Utc>,
    lifetime_minutes: i64,
    policy: &Policy,
) -> Result<Approval, DeskError> {
    let target = case
        .target
        .as_ref()
        .ok_or_else(|| DeskError::Invalid(format!("case {} has no target account to approve", case.id)))?;
    let expires = now + Duration::minutes(lifetime_minutes);
    let mut detail = format!("approved by {} via {}; reference {reference}", provider.id, method.as_str());
    if let Some(f) = from_address {
        detail.push_str(&format!("; from {f}"));
    }
    detail.push_str(&format!("; expires {}", to_db(expires)));
    let seq = audit::append(tx, now, EventKind::ApprovalRecorded, &NewEvent {
        other_account: Some(provider.id.to_string()),
        reason: Some(method.as_str().into()),
        detail: Some(detail),
        ..case_event(session, case, "ok", policy)
    })?;
    let id: i64 = tx
        .query_row(
            "INSERT INTO approvals (case_id, provider_id, requestor_id, target_id, method, reference, from_address, \
             recorded_by, recorded_at, expires_at, audit_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
             RETURNING id",
            params![
                case.id.0,
                provider.id.as_str(),
                case.caller.id.as_str(),
                target.id.as_str(),
                method.as_str(),
                reference,
                from_address,
                session.rep_id.0,
                to_db(now),
                to_db(expires),
                seq
            ],
            |r| r.get(0),
        )
        .map_err(sql)?;
    if case.status == CaseStatus::Open {
        set_status(tx, session, case, CaseStatus::AwaitingApproval, now, policy, "an approval arrived")?;
    }
    if case.status != CaseStatus::Approved {
        set_status(tx, session, case, CaseStatus::Approved, now, policy, &format!("approval #{id}"))?;
    }
    let approval = tx
        .query_row(&format!("{APPROVAL_SELECT} WHERE a.id = ?1"), [id], approval_from_row)
        .map_err(sql)?;
    Ok(approval)
}
