//! Reading and verifying the audit trail.

use super::audit::{AuditEvent, ChainChecker, ChainStatus, EventKind, NewEvent};
use super::error::DeskError;
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
            sql.push_str(" AND outcome NOT IN ('ok', 'assist')");
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
        verify_chain_on(self.store.conn()).map_err(|e| self.store.read_error(e))
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

/// Checks the chain on any connection (also a read-only one), streaming in sequence order.
pub(crate) fn verify_chain_on(conn: &rusqlite::Connection) -> rusqlite::Result<ChainStatus> {
    let mut stmt = conn.prepare(&format!("SELECT {} FROM audit_events ORDER BY seq", AuditEvent::COLUMNS))?;
    let mut rows = stmt.query([])?;
    let mut checker = ChainChecker::default();
    while let Some(row) = rows.next()? {
        let event = AuditEvent::from_row(row)?;
        if let Err((first_bad_seq, problem)) = checker.feed(&event) {
            return Ok(ChainStatus::Broken { first_bad_seq, problem });
        }
    }
    Ok(checker.finish())
}
