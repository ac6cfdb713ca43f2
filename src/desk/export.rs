//! Exporting the audit trail for a SIEM or a spreadsheet, and re-checking an exported file on its
//! own. Exports stream row by row (the trail is never held in memory) and carry the chain fields.
//!
//! JSONL is the re-verifiable format: one event per line, in sequence order, then one end line
//! (`{"export_end": {...}}`) with the count and the head the export covered. Characters that could
//! hide or reorder text are written as `\uXXXX` escapes, which decode to the same data, so hashes
//! still check. CSV is for people and spreadsheets: hazards are escaped visibly and a cell that a
//! spreadsheet would run as a formula (leading `=`, `+`, `-`, `@`, tab or carriage return) gets a
//! leading `'`; both change the text, so a CSV is not re-verified.

use super::audit::{self, AuditEvent, EventKind, GENESIS, NewEvent};
use super::error::DeskError;
use super::review::{EventView, ReviewFilter, insert_anchor};
use super::reps::Session;
use super::text::{escape_hazards, is_hazard};
use super::Desk;
use chrono::{Offset, Utc};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};

/// The two export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

impl ExportFormat {
    /// The name used on the command line and in the audit event.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Jsonl => "jsonl",
        }
    }
}

/// What an export wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    pub events: u64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    /// The chain head when the export was read (the export covers the trail up to here).
    pub head_seq: i64,
    pub head_hash: String,
    /// True when only a time range narrowed the export: it is one unbroken piece of the chain.
    pub contiguous: bool,
    /// The `audit_exported` event recorded after the file was complete.
    pub event_seq: i64,
}

/// The last line of a JSONL export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportEnd {
    pub events: u64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    pub contiguous: bool,
    pub head_seq: i64,
    pub head_hash: String,
}

#[derive(Serialize, Deserialize)]
struct EndLine {
    export_end: ExportEnd,
}

/// The answer of re-checking an exported JSONL file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum FileCheck {
    /// Every line checks: hashes, links between consecutive events, the count and the head.
    Intact { events: u64, first_seq: Option<i64>, last_seq: Option<i64>, contiguous: bool, head_seq: i64, head_hash: String },
    /// The first line that does not check (1-based), with what is wrong in words.
    Broken { line: u64, problem: String },
}

/// JSON with hazards (and the line and paragraph separators) written as `\uXXXX`.
fn safe_json<T: Serialize>(value: &T) -> Result<String, DeskError> {
    let text = serde_json::to_string(value).map_err(|e| write_failed(&e))?;
    if !text.chars().any(|c| is_hazard(c) || c == '\u{2028}' || c == '\u{2029}') {
        return Ok(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_hazard(c) || c == '\u{2028}' || c == '\u{2029}' {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// A CSV cell: hazards escaped, and a would-be formula made plain text.
pub fn csv_cell(text: &str) -> String {
    let safe = escape_hazards(text);
    if safe.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{safe}") } else { safe }
}

fn write_failed(e: &dyn std::fmt::Display) -> DeskError {
    DeskError::NotRecorded { cause: format!("could not write the export: {e}") }
}

const CSV_HEADER: [&str; 13] = [
    "seq", "at", "rep", "case_id", "kind", "account_id", "other_account", "outcome", "reason", "policy_version", "detail",
    "prev_hash", "hash",
];

impl Desk {
    /// Writes the events `filter` selects, oldest first, to `out`, then records the export as an
    /// `audit_exported` event (after the file is complete) naming the head it covered, which is
    /// also kept as an anchor for later verifications. Lead-only when `by` is a session.
    pub fn export_events(
        &mut self,
        by: Option<&Session>,
        filter: &ReviewFilter,
        format: ExportFormat,
        out: &mut dyn Write,
    ) -> Result<ExportSummary, DeskError> {
        self.reviewer(by, EventKind::AuditExported, "an export of the audit trail")?;
        let (since, until) = filter.range.bounds(self.clock.now());
        let conn = self.store.conn();
        let read_err = |e: rusqlite::Error| self.store.read_error(e);
        // One read snapshot for the head and the rows.
        let snapshot = conn.unchecked_transaction().map_err(read_err)?;
        let head: (i64, String) = snapshot
            .query_row("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(read_err)?
            .unwrap_or((0, GENESIS.to_string()));
        let range = super::review::seq_range(&snapshot, since, until).map_err(read_err)?;
        let w = self.review_filter_sql(filter, EventView::All, range)?;
        let cols = AuditEvent::COLUMNS.split(", ").map(|c| format!("e.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT {cols} FROM audit_events e WHERE {} ORDER BY e.seq", w.0);
        let mut stmt = snapshot.prepare(&sql).map_err(read_err)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(w.1.iter())).map_err(read_err)?;
        let mut put = |line: &str| out.write_all(line.as_bytes()).and_then(|_| out.write_all(b"\n")).map_err(|e| write_failed(&e));
        if format == ExportFormat::Csv {
            put(&CSV_HEADER.join(","))?;
        }
        let (mut events, mut first_seq, mut last_seq) = (0u64, None, None);
        while let Some(row) = rows.next().map_err(read_err)? {
            let e = AuditEvent::from_row(row).map_err(read_err)?;
            match format {
                ExportFormat::Csv => {
                    let opt = |v: &Option<String>| v.as_deref().map(csv_cell).unwrap_or_default();
                    let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
                    let cells = [
                        e.seq.to_string(),
                        csv_cell(&e.at),
                        opt(&e.rep),
                        num(e.case_id),
                        csv_cell(&e.kind),
                        opt(&e.account_id),
                        opt(&e.other_account),
                        csv_cell(&e.outcome),
                        opt(&e.reason),
                        num(e.policy_version),
                        opt(&e.detail),
                        e.prev_hash.clone(),
                        e.hash.clone(),
                    ];
                    put(&cells.iter().map(|c| csv_quote(c)).collect::<Vec<_>>().join(","))?;
                }
                ExportFormat::Jsonl => put(&safe_json(&e)?)?,
            }
            events += 1;
            first_seq.get_or_insert(e.seq);
            last_seq = Some(e.seq);
        }
        drop(rows);
        drop(stmt);
        let contiguous = filter.only_time();
        if format == ExportFormat::Jsonl {
            let end = EndLine {
                export_end: ExportEnd { events, first_seq, last_seq, contiguous, head_seq: head.0, head_hash: head.1.clone() },
            };
            put(&safe_json(&end)?)?;
        }
        out.flush().map_err(|e| write_failed(&e))?;
        snapshot.finish().map_err(read_err)?;

        // The file is complete: now the export is recorded.
        let now = self.clock.now();
        let filters = filter.describe(Utc.fix());
        let seqs = match (first_seq, last_seq) {
            (Some(a), Some(b)) => format!("seq {a}-{b}"),
            _ => "no events".into(),
        };
        let detail = format!(
            "exported {events} events ({seqs}) as {}; filters: {}; head {}:{}",
            format.as_str(),
            if filters.is_empty() { "none".to_string() } else { filters.join(", ") },
            head.0,
            head.1
        );
        let rep = by.map(|s| s.username.clone());
        let event_seq = self.store.write(|tx| {
            if let Some(session) = by {
                super::reps::require_lead(tx, session)?;
            }
            let seq = audit::append(tx, now, EventKind::AuditExported, &NewEvent {
                rep: rep.clone(),
                outcome: "ok".into(),
                reason: Some(format.as_str().into()),
                detail: Some(detail.clone()),
                ..NewEvent::default()
            })?;
            if head.0 > 0 {
                insert_anchor(tx, head.0, &head.1, seq, "export", rep.as_deref(), now)?;
            }
            Ok(seq)
        })?;
        Ok(ExportSummary { events, first_seq, last_seq, head_seq: head.0, head_hash: head.1, contiguous, event_seq })
    }
}

/// A CSV field, quoted when it holds a comma or a quote (line breaks are already escaped).
fn csv_quote(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) { format!("\"{}\"", cell.replace('"', "\"\"")) } else { cell.to_string() }
}

/// Re-checks an exported JSONL file on its own: each event's hash against its fields, each event
/// against the one before it when their sequences are consecutive, no gap in an export that should
/// be contiguous, and the end line's count and head. Names the first line that fails.
pub fn verify_export(reader: impl BufRead) -> FileCheck {
    let broken = |line: u64, problem: String| FileCheck::Broken { line, problem };
    let mut prev: Option<AuditEvent> = None;
    let mut first_seq = None;
    let mut count = 0u64;
    let mut gap: Option<(u64, String)> = None;
    let mut end: Option<(u64, ExportEnd)> = None;
    let mut line_no = 0u64;
    for line in reader.lines() {
        line_no += 1;
        let line = match line {
            Ok(l) => l,
            Err(e) => return broken(line_no, format!("cannot be read ({e})")),
        };
        if end.is_some() {
            return broken(line_no, "follows the end line (lines were added after the export)".into());
        }
        let value: serde_json::Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(_) => return broken(line_no, "is not a JSON line of an export (changed or cut)".into()),
        };
        if value.get("export_end").is_some() {
            match serde_json::from_value::<EndLine>(value) {
                Ok(e) => end = Some((line_no, e.export_end)),
                Err(_) => return broken(line_no, "is an end line with missing or wrong fields".into()),
            }
            continue;
        }
        let event: AuditEvent = match serde_json::from_value(value) {
            Ok(e) => e,
            Err(_) => return broken(line_no, "is not an audit event (missing or wrong fields)".into()),
        };
        if event.expected_hash() != event.hash {
            return broken(line_no, format!("event {}: its content does not match its hash (the line was changed)", event.seq));
        }
        match &prev {
            Some(p) if event.seq <= p.seq => {
                return broken(line_no, format!("event {} comes after event {} (out of order)", event.seq, p.seq));
            }
            Some(p) if event.seq == p.seq + 1 && event.prev_hash != p.hash => {
                return broken(line_no, format!("event {} does not link to event {} on the line before", event.seq, p.seq));
            }
            Some(p) if event.seq != p.seq + 1 && gap.is_none() => {
                gap = Some((line_no, format!("events {} to {} are missing before this line", p.seq + 1, event.seq - 1)));
            }
            None if event.seq == 1 && event.prev_hash != GENESIS => {
                return broken(line_no, "event 1 does not start the chain".into());
            }
            _ => {}
        }
        first_seq.get_or_insert(event.seq);
        count += 1;
        prev = Some(event);
    }
    let Some((end_line, end)) = end else {
        return broken(line_no + 1, "the file ends without its end line: it was cut short".into());
    };
    if end.contiguous
        && let Some((line, problem)) = gap
    {
        return broken(line, problem);
    }
    if end.events != count {
        return broken(end_line, format!("the end line counts {} events but the file holds {count}: lines were removed or added", end.events));
    }
    let last_seq = prev.as_ref().map(|p| p.seq);
    if end.first_seq != first_seq || end.last_seq != last_seq {
        return broken(end_line, "the end line names other first and last events than the file holds".into());
    }
    if let Some(p) = &prev
        && p.seq == end.head_seq
        && p.hash != end.head_hash
    {
        return broken(end_line, "the last event is not the head the export recorded".into());
    }
    FileCheck::Intact {
        events: count,
        first_seq,
        last_seq,
        contiguous: end.contiguous,
        head_seq: end.head_seq,
        head_hash: end.head_hash,
    }
}
