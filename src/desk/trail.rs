//! Reading and verifying the audit trail.

use super::audit::{AuditEvent, ChainChecker, ChainStatus, EventKind, NewEvent, RawEvent, short_hash};
use std::collections::{BTreeMap, HashMap};
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

    /// Checks the whole chain and every recorded head, plus `external` heads kept outside the
    /// database; returns the status and how many heads were checked. Records nothing.
    pub fn verify_trail(&self, external: &[Anchor]) -> Result<(ChainStatus, usize), DeskError> {
        verify_against(self.store.conn(), external).map_err(|e| self.store.read_error(e))
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

/// Every anchor recorded in the database (none when the table does not exist yet), and the head
/// each recording event named, by that event's sequence.
fn recorded_anchors(conn: &rusqlite::Connection) -> rusqlite::Result<(Vec<Anchor>, HashMap<i64, (i64, String)>)> {
    let exists: i64 =
        conn.query_row("SELECT count(*) FROM sqlite_schema WHERE name = 'audit_anchors'", [], |r| r.get(0))?;
    if exists == 0 {
        return Ok((Vec::new(), HashMap::new()));
    }
    let mut stmt = conn.prepare("SELECT head_seq, head_hash, event_seq, source, rep, at FROM audit_anchors ORDER BY id")?;
    let mut anchors = Vec::new();
    let mut by_event = HashMap::new();
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, String>(5)?,
        ))
    })?;
    for row in rows {
        let (head_seq, head_hash, event_seq, source, rep, at) = row?;
        let by = rep.map(|r| format!(" by {r}")).unwrap_or_default();
        anchors.push(Anchor {
            head_seq,
            head_hash: head_hash.clone(),
            origin: format!("the {source}{by} at {at} (audit event {event_seq})"),
        });
        by_event.insert(event_seq, (head_seq, head_hash));
    }
    Ok((anchors, by_event))
}

/// Checks the chain on any connection (also a read-only one), streaming in sequence order, and
/// against every recorded head.
pub(crate) fn verify_chain_on(conn: &rusqlite::Connection) -> rusqlite::Result<ChainStatus> {
    verify_against(conn, &[]).map(|(status, _)| status)
}

/// Checks the chain, then that it still holds every recorded head and every head in `external`:
/// a trail cut back below a head, or rewritten at or before it, is reported (the first bad
/// sequence and what happened). Also returns how many heads were checked.
pub(crate) fn verify_against(conn: &rusqlite::Connection, external: &[Anchor]) -> rusqlite::Result<(ChainStatus, usize)> {
    let (mut anchors, by_event) = recorded_anchors(conn)?;
    anchors.extend(external.iter().cloned());
    let mut by_head: BTreeMap<i64, Vec<&Anchor>> = BTreeMap::new();
    for a in &anchors {
        by_head.entry(a.head_seq).or_default().push(a);
    }
    let checked = anchors.len();
    let mut stmt = conn.prepare(&format!("SELECT {} FROM audit_events ORDER BY seq", AuditEvent::COLUMNS))?;
    let mut rows = stmt.query([])?;
    let mut checker = ChainChecker::default();
    let broken = |first_bad_seq: i64, problem: String| Ok((ChainStatus::Broken { first_bad_seq, problem }, checked));
    while let Some(row) = rows.next()? {
        let event = RawEvent::from_row(row)?;
        if let Err((first_bad_seq, problem)) = checker.feed_raw(&event) {
            return broken(first_bad_seq, problem);
        }
        if let Some(heads) = by_head.get(&event.seq) {
            if let Some(a) = heads.iter().find(|a| !a.head_hash.as_bytes().eq_ignore_ascii_case(event.hash)) {
                return broken(event.seq, format!(
                    "its hash differs from head {}:{} kept by {}; the trail was rewritten at or before this \
                     sequence behind the app's back",
                    a.head_seq,
                    short_hash(&a.head_hash),
                    a.origin
                ));
            }
        }
        let records_head = (event.kind == EventKind::AuditReviewed.as_str().as_bytes()
            || event.kind == EventKind::AuditExported.as_str().as_bytes())
            && event.outcome == b"ok";
        let detail = event.detail.filter(|_| records_head).and_then(|d| std::str::from_utf8(d).ok());
        if let Some((seq, hash)) = detail.and_then(head_in_detail) {
            let kept = by_event.get(&event.seq).is_some_and(|(s, h)| *s == seq && h.eq_ignore_ascii_case(&hash));
            if !kept {
                return broken(event.seq, format!(
                    "it records head {seq}:{}, but that head is missing from the recorded anchors (removed or \
                     changed behind the app's back)",
                    short_hash(&hash)
                ));
            }
        }
    }
    let status = checker.finish();
    if let ChainStatus::Intact { head_seq, .. } = &status {
        if let Some((_, heads)) = by_head.range(head_seq + 1..).next() {
            let a = heads[0];
            return broken(head_seq + 1, format!(
                "the trail ends at sequence {head_seq}, but {} recorded head {}:{}: events after {head_seq} were \
                 removed behind the app's back",
                a.origin,
                a.head_seq,
                short_hash(&a.head_hash)
            ));
        }
    }
    Ok((status, checked))
}
