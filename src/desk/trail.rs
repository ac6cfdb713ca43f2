//! Reading and verifying the audit trail.

use super::audit::{AuditEvent, ChainStatus, EventKind, NewEvent};
use super::error::DeskError;
use super::verify::{VerifySplit, verify_against};
use super::Desk;
use rusqlite::types::Value;

/// Which audit events to list. Empty fields do not filter.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub rep: Option<String>,
    pub account: Option<String>,
    pub kind: Option<EventKind>,
    /// Only events whose outcome is not `ok`.
    pub failures_only: bool,
    /// Newest first, at most this many.
    pub limit: usize,
}

impl Desk {
    /// Audit events matching `filter`, newest first.
    pub fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEvent>, DeskError> {
        let mut sql = format!("SELECT {} FROM audit_events WHERE 1 = 1", AuditEvent::COLUMNS);
        let mut args: Vec<Value> = Vec::new();
        if let Some(rep) = &filter.rep {
            args.push(Value::Text(rep.clone()));
            sql.push_str(&format!(" AND rep = ?{}", args.len()));
        }
        if let Some(account) = &filter.account {
            args.push(Value::Text(account.clone()));
            sql.push_str(&format!(" AND (account_id = ?{0} OR other_account = ?{0})", args.len()));
        }
        if let Some(kind) = filter.kind {
            args.push(Value::Text(kind.as_str().into()));
            sql.push_str(&format!(" AND kind = ?{}", args.len()));
        }
        if filter.failures_only {
            // Written exactly as the partial index `audit_review_failures` (migration 0011) is.
            sql.push_str(" AND outcome IN ('fail', 'locked', 'refused')");
        }
        args.push(Value::Integer(filter.limit.max(1) as i64));
        sql.push_str(&format!(" ORDER BY seq DESC LIMIT ?{}", args.len()));
        let conn = self.store.conn();
        let run = || -> rusqlite::Result<Vec<AuditEvent>> {
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), AuditEvent::from_row)?;
            rows.collect()
        };
        run().map_err(|e| self.store.read_error(e))
    }

    /// Checks the whole chain in sequence order, streaming. Records nothing (see
    /// [`Desk::record_verification`]).
    pub fn verify_chain(&self) -> Result<ChainStatus, DeskError> {
        self.verify_trail(&[]).map(|(status, _)| status)
    }

    /// Checks the whole chain and every recorded head, plus `external` heads kept outside the
    /// database; returns the status and how many heads were checked. Records nothing. Long trails
    /// are checked on one thread per core.
    pub fn verify_trail(&self, external: &[Anchor]) -> Result<(ChainStatus, usize), DeskError> {
        self.verify_trail_split(external, VerifySplit::default())
    }

    /// [`Desk::verify_trail`] with the chain divided as `split` says (fewer threads on a busy
    /// host; tests and benches). The answer does not depend on the division.
    pub fn verify_trail_split(&self, external: &[Anchor], split: VerifySplit) -> Result<(ChainStatus, usize), DeskError> {
        verify_against(self.store.conn(), external, split).map_err(|e| self.store.read_error(e))
    }

    /// Records that the chain was verified (by an admin command or a lead) as an audit event.
    pub fn record_verification(&mut self, status: &ChainStatus, rep: Option<&str>) -> Result<(), DeskError> {
        let now = self.clock.now();
        let (outcome, detail) = match status {
            ChainStatus::Intact { events, head_seq, head_hash } => {
                ("ok", format!("intact: {events} events, head {head_seq}:{head_hash}"))
            }
            ChainStatus::Broken { first_bad_seq, problem } => {
                ("fail", format!("broken at sequence {first_bad_seq}: {problem}"))
            }
        };
        self.store.write(|tx| {
            super::audit::append(tx, now, EventKind::AuditVerified, &NewEvent {
                rep: rep.map(str::to_string),
                outcome: outcome.into(),
                detail: Some(detail.clone()),
                ..NewEvent::default()
            })?;
            Ok(())
        })
    }
}

/// A chain head that the trail must still hold unchanged: recorded by a lead review or an export
/// (in `audit_anchors`), or kept outside the database and given to `audit verify --head`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    pub head_seq: i64,
    pub head_hash: String,
    /// Who recorded it, in words ("the review by leo at ...", "the head given on the command line").
    pub origin: String,
    /// True for a head given from outside (`audit verify --head`): a trail that does not hold it
    /// may have been changed, or the head may be wrong (mistyped, or from another database).
    pub given: bool,
}

impl Anchor {
    /// A head given from outside, written `SEQ:HASH` as `audit verify` prints it.
    pub fn parse(text: &str) -> Result<Anchor, DeskError> {
        parse_head(text.trim())
            .filter(|(seq, hash, rest)| *seq >= 0 && rest.is_empty() && hash.len() == 64)
            .map(|(head_seq, head_hash, _)| Anchor {
                head_seq,
                head_hash: head_hash.to_string(),
                origin: "the head given to verify (--head)".into(),
                given: true,
            })
            .ok_or_else(|| {
                DeskError::Invalid("a head is written SEQ:HASH (the sequence, a colon and 64 hex digits), as `audit verify` prints it".into())
            })
    }
}

/// `SEQ:HASH` at the start of `text`, and what follows it.
fn parse_head(text: &str) -> Option<(i64, &str, &str)> {
    let (seq, rest) = text.split_once(':')?;
    let seq: i64 = seq.parse().ok()?;
    let end = rest.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(rest.len());
    let (hash, rest) = rest.split_at(end);
    (hash.len() == 64).then_some((seq, hash, rest))
}

/// The head an `audit_reviewed` or `audit_exported` event's detail names (`... head SEQ:HASH ...`).
pub(crate) fn head_in_detail(detail: &str) -> Option<(i64, String)> {
    let at = detail.find("head ")?;
    parse_head(&detail[at + 5..]).map(|(seq, hash, _)| (seq, hash.to_lowercase()))
}
