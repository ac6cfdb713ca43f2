//! Team lead audit review: the event list with filters, the pattern views, the failure chart and
//! recorded reviews. Every query here is lead-only and the refusal comes from the core.
//!
//! Order is the sequence number. A time range is turned into a sequence range once (a binary
//! search on the primary key, assuming the clock mostly moves forward), so every query walks an
//! index in sequence order and pages newest first by keyset (`seq < last seen`): the cost of a
//! page does not grow with the size of the trail.
//!
//! Failed Support PIN checks have a covering partial index (`audit_failed_pin`), so the pattern
//! views and a filtered chart read only index entries of failures; the unfiltered chart reads the
//! failure rollup ([`super::failure_slots`]): at most one small row per quarter hour.

use super::audit::{self, AuditEvent, EventKind, NewEvent};
use super::clock::{from_db, to_db};
use super::error::DeskError;
use super::failure_slots::{self, BucketCount, FAILED_PIN, FAILED_PIN_SQL, Grid};
use super::ids::AccountId;
use super::reps::{RepRole, Session};
use super::store::sql;
use super::Desk;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// Most accounts an account filter typed as a name stands for (the best matches of a lookup).
pub const ACCOUNT_MATCHES: usize = 20;
/// "Accounts with repeated failures across several reps": failures by at least this many reps.
pub const ACROSS_REPS: i64 = 2;
/// "Reps whose failures span many accounts": failures on at least this many accounts.
pub const ACROSS_ACCOUNTS: i64 = 3;
/// Most rows a "repeated failures" view returns, the widest spreads first: more than a lead reads,
/// few enough to draw at once.
pub const SPREAD_ROWS: usize = 1000;
/// Longest note a review may carry.
pub const MAX_NOTE_CHARS: usize = 2000;

/// A time range to review, relative to the desk clock's now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeRange {
    /// The whole trail.
    All,
    /// The last 24 hours.
    LastDay,
    /// The last 7 days.
    LastWeek,
    /// The last 30 days.
    LastMonth,
    /// The last 365 days.
    LastYear,
    /// From `since` (inclusive) to `until` (exclusive); an open end is unbounded.
    Custom { since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>> },
}

impl TimeRange {
    /// The quick picks, in the order a key cycles through them.
    pub const QUICK: [TimeRange; 5] =
        [TimeRange::All, TimeRange::LastDay, TimeRange::LastWeek, TimeRange::LastMonth, TimeRange::LastYear];

    /// A range between two instants, either end open; no range at all when both are open. A start
    /// after the end is refused (it would select nothing, and a review recorded over it would
    /// claim a range nobody looked at).
    pub fn between(since: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> Result<TimeRange, DeskError> {
        match (since, until) {
            (None, None) => Ok(TimeRange::All),
            (Some(s), Some(u)) if s > u => Err(DeskError::Invalid(format!(
                "the range starts ({}) after it ends ({}); give the earlier time first",
                s.format("%Y-%m-%d %H:%M UTC"),
                u.format("%Y-%m-%d %H:%M UTC")
            ))),
            _ => Ok(TimeRange::Custom { since, until }),
        }
    }

    /// The instants the range covers at `now`.
    pub fn bounds(&self, now: DateTime<Utc>) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        let back = |d: Duration| (Some(now - d), None);
        match self {
            TimeRange::All => (None, None),
            TimeRange::LastDay => back(Duration::days(1)),
            TimeRange::LastWeek => back(Duration::days(7)),
            TimeRange::LastMonth => back(Duration::days(30)),
            TimeRange::LastYear => back(Duration::days(365)),
            TimeRange::Custom { since, until } => (*since, *until),
        }
    }

    /// Words for the filter line, with custom ends in the viewer's time zone.
    pub fn label(&self, offset: FixedOffset) -> String {
        let local = |t: &DateTime<Utc>| t.with_timezone(&offset).format("%Y-%m-%d %H:%M").to_string();
        match self {
            TimeRange::All => "all time".into(),
            TimeRange::LastDay => "last day".into(),
            TimeRange::LastWeek => "last week".into(),
            TimeRange::LastMonth => "last month".into(),
            TimeRange::LastYear => "last year".into(),
            TimeRange::Custom { since, until } => format!(
                "{} to {}",
                since.as_ref().map(local).unwrap_or_else(|| "the start".into()),
                until.as_ref().map(local).unwrap_or_else(|| "now".into())
            ),
        }
    }
}

/// Which events a review looks at. Empty fields do not filter; filters combine with AND.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewFilter {
    pub range: TimeRange,
    /// Username of the rep who acted.
    pub rep: Option<String>,
    /// An account id, or words of an account's name (the best matches of a lookup), matched as
    /// the caller or the other account.
    pub account: Option<String>,
    pub kind: Option<EventKind>,
    /// Only events whose outcome is not `ok` or `assist` (failures, refusals, lockouts).
    pub failures_only: bool,
    pub case_id: Option<i64>,
}

impl Default for ReviewFilter {
    fn default() -> Self {
        ReviewFilter { range: TimeRange::All, rep: None, account: None, kind: None, failures_only: false, case_id: None }
    }
}

impl ReviewFilter {
    /// True when nothing but the time range narrows the events (an export of it is a contiguous
    /// piece of the chain).
    pub fn only_time(&self) -> bool {
        self.rep.is_none() && self.account.is_none() && self.kind.is_none() && !self.failures_only && self.case_id.is_none()
    }

    /// The active filters in words (empty when none), for the screen and the export record.
    pub fn describe(&self, offset: FixedOffset) -> Vec<String> {
        let mut out = Vec::new();
        if self.range != TimeRange::All {
            out.push(self.range.label(offset));
        }
        if let Some(rep) = &self.rep {
            out.push(format!("rep {rep}"));
        }
        if let Some(account) = &self.account {
            out.push(format!("account {account}"));
        }
        if let Some(kind) = self.kind {
            out.push(format!("kind {}", kind.as_str()));
        }
        if self.failures_only {
            out.push("failures only".into());
        }
        if let Some(case) = self.case_id {
            out.push(format!("case {case}"));
        }
        out
    }
}

/// The event lists a lead reviews: everything, or one of the Monday-morning views.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventView {
    /// Every event the filter lets through.
    All,
    /// Failed Support PIN checks and lockouts.
    FailedPinChecks,
    /// Account unlocks and cleared PIN locks.
    Unlocks,
    /// Provider approvals recorded or expired.
    Approvals,
    /// Failed sign-ins and rep lockouts.
    SignInFailures,
    /// Verdicts other than "verify first" (and unlocks, which need no PIN) shown with no Support
    /// PIN match in the same case. Before cases exist, "the same case" is the same rep and caller
    /// with a match within the idle timeout before the verdict (the rule `decide` applies).
    VerdictsWithoutPin,
}

impl EventView {
    /// The kinds the view is made of (empty: any kind).
    pub fn kinds(self) -> &'static [EventKind] {
        match self {
            EventView::All => &[],
            EventView::FailedPinChecks => FAILED_PIN,
            EventView::Unlocks => &[EventKind::AccountUnlocked, EventKind::PinLockCleared],
            EventView::Approvals => &[EventKind::ApprovalRecorded, EventKind::ApprovalExpired],
            EventView::SignInFailures => &[EventKind::SignInFailed, EventKind::RepLocked],
            EventView::VerdictsWithoutPin => &[EventKind::VerdictShown],
        }
    }

    /// The view's name for people.
    pub fn title(self) -> &'static str {
        match self {
            EventView::All => "All events",
            EventView::FailedPinChecks => "Failed PIN checks and lockouts",
            EventView::Unlocks => "Unlocks",
            EventView::Approvals => "Approvals",
            EventView::SignInFailures => "Sign-in failures",
            EventView::VerdictsWithoutPin => "Verdicts without a PIN match",
        }
    }
}

/// One page of events, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventPage {
    pub events: Vec<AuditEvent>,
    /// True when older events match too (ask for the page before the last one here).
    pub more: bool,
}

/// An account named in an event, with its name and practice (when it is in the directory).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NamedAccount {
    pub id: String,
    pub name: Option<String>,
    pub practice: Option<String>,
    pub role: Option<String>,
}

/// One event with every name resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventDetail {
    pub event: AuditEvent,
    pub rep_name: Option<String>,
    pub account: Option<NamedAccount>,
    pub other: Option<NamedAccount>,
}

/// A row of the "repeated failures" views: an account (or a rep) and how far its failures spread.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailureSpread {
    /// The account id (accounts view) or the rep's username (reps view).
    pub key: String,
    /// The account's or rep's name.
    pub name: Option<String>,
    /// Failed Support PIN checks (rejections; the lockouts are counted apart). The list is ordered
    /// by both together, the failures the views look for.
    pub failures: i64,
    /// Lockouts among them.
    pub lockouts: i64,
    /// Distinct reps (accounts view) or distinct accounts (reps view).
    pub spread: i64,
    pub first_at: String,
    pub last_at: String,
}

/// How wide one bar of the failure chart is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BucketSize {
    Hour,
    Day,
    Week,
}

impl BucketSize {
    /// How long one bar lasts (a fixed offset has no daylight saving: every day is 24 hours).
    fn step(self) -> Duration {
        match self {
            BucketSize::Hour => Duration::hours(1),
            BucketSize::Day => Duration::days(1),
            BucketSize::Week => Duration::days(7),
        }
    }

    /// The bar width for a chart spanning `span`.
    fn for_span(span: Duration) -> BucketSize {
        if span <= Duration::hours(48) {
            BucketSize::Hour
        } else if span <= Duration::days(92) {
            BucketSize::Day
        } else {
            BucketSize::Week
        }
    }
}

/// Most bars a chart draws (38 years of weeks); a longer range is cut at the end.
const MAX_BUCKETS: usize = 2000;

/// One bar of the failure chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartBucket {
    /// Start of the bucket in the viewer's time zone.
    pub start: DateTime<FixedOffset>,
    /// Failed Support PIN checks (rejections, including attempts on a locked PIN).
    pub failures: i64,
    /// PINs locked.
    pub lockouts: i64,
}

/// Failed Support PIN checks and lockouts over time: per hour for up to two days, per day for up
/// to 92 days, per week beyond.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureChart {
    pub size: BucketSize,
    pub buckets: Vec<ChartBucket>,
}

impl FailureChart {
    /// Total failures and lockouts on the chart.
    pub fn totals(&self) -> (i64, i64) {
        self.buckets.iter().fold((0, 0), |(f, l), b| (f + b.failures, l + b.lockouts))
    }
}

/// A recorded lead review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReviewRecord {
    /// The `audit_reviewed` event.
    pub event_seq: i64,
    /// The chain head proven intact when the review was recorded.
    pub head_seq: i64,
    pub head_hash: String,
    /// The events the reviewed range covered (`first_seq > last_seq` when none).
    pub first_seq: i64,
    pub last_seq: i64,
}

/// The sequence numbers a time range covers: `lo..=hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SeqRange {
    pub lo: i64,
    pub hi: i64,
}

impl SeqRange {
    fn is_empty(self) -> bool {
        self.lo > self.hi
    }
}

/// Fails unless `session` is an active lead; reads only (the review queries run outside a write
/// transaction).
pub(crate) fn require_lead_reading(conn: &Connection, session: &Session) -> Result<(), DeskError> {
    let row: Option<(bool, bool, String)> = conn
        .query_row("SELECT disabled, locked, role FROM reps WHERE id = ?1", [session.rep_id.0], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()
        .map_err(sql)?;
    match row {
        Some((false, false, role)) if RepRole::parse(&role) == Some(RepRole::Lead) => Ok(()),
        Some((false, false, _)) => Err(DeskError::Refused("only a lead may review the audit trail".into())),
        _ => Err(DeskError::SessionEnded),
    }
}

/// The `at` of the first event at or after sequence `seq`.
fn at_from(conn: &Connection, seq: i64) -> rusqlite::Result<Option<(i64, String)>> {
    // NOT INDEXED keeps this a primary-key search: with statistics, SQLite may otherwise pick a
    // skip-scan of another index and sort the rest of the trail.
    conn.prepare_cached("SELECT seq, at FROM audit_events NOT INDEXED WHERE seq >= ?1 ORDER BY seq LIMIT 1")?
        .query_row([seq], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}

/// The first sequence number whose time is at or after `t` (one past the end when none), by
/// binary search over the primary key.
fn first_seq_at_or_after(conn: &Connection, t: &str, lo: i64, hi: i64) -> rusqlite::Result<i64> {
    // The answer is in [a, b]; "at or after" holds from the answer on (time mostly increases).
    let (mut a, mut b) = (lo, hi + 1);
    while a < b {
        let mid = a + (b - a) / 2;
        let at_or_after = match at_from(conn, mid)? {
            Some((seq, at)) if seq <= hi => at.as_str() >= t,
            _ => true,
        };
        if at_or_after {
            b = mid;
        } else {
            a = mid + 1;
        }
    }
    Ok(a)
}

/// The sequence range of `[since, until)` on this trail.
pub(crate) fn seq_range(
    conn: &Connection,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> rusqlite::Result<SeqRange> {
    let (min, max): (Option<i64>, Option<i64>) =
        // Two subqueries: SQLite answers each from the end of the primary key, but scans the whole
        // table for min() and max() in one select.
        conn.query_row(
            "SELECT (SELECT min(seq) FROM audit_events), (SELECT max(seq) FROM audit_events)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
    let (Some(min), Some(max)) = (min, max) else { return Ok(SeqRange { lo: 1, hi: 0 }) };
    let lo = match since {
        Some(t) => first_seq_at_or_after(conn, &to_db(t), min, max)?,
        None => min,
    };
    let hi = match until {
        Some(t) => first_seq_at_or_after(conn, &to_db(t), lo.min(max + 1), max)? - 1,
        None => max,
    };
    Ok(SeqRange { lo, hi })
}

/// The part of `within` whose events are timed in `[from, to)`.
fn seqs_between(conn: &Connection, within: SeqRange, from: DateTime<Utc>, to: DateTime<Utc>) -> rusqlite::Result<SeqRange> {
    let lo = first_seq_at_or_after(conn, &to_db(from), within.lo, within.hi)?;
    let hi = first_seq_at_or_after(conn, &to_db(to), lo.min(within.hi + 1), within.hi)? - 1;
    Ok(SeqRange { lo, hi })
}

/// A WHERE clause being built, with its numbered arguments.
#[derive(Default)]
struct Where {
    clauses: Vec<String>,
    args: Vec<Value>,
}

impl Where {
    fn arg(&mut self, v: Value) -> String {
        self.args.push(v);
        format!("?{}", self.args.len())
    }

    fn push(&mut self, clause: String) {
        self.clauses.push(clause);
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() { "1 = 1".into() } else { self.clauses.join(" AND ") }
    }

    fn list(&mut self, values: impl IntoIterator<Item = String>) -> String {
        let items: Vec<String> = values.into_iter().map(|v| self.arg(Value::Text(v))).collect();
        items.join(", ")
    }
}

impl Desk {
    /// Fails unless `by` is an active lead (`None`: a command run by whoever holds the file). A
    /// rep's attempt is refused and recorded as a `kind` event with outcome `refused` (`asked`
    /// says what was asked for); the refusal stands even if it cannot be recorded.
    pub(crate) fn reviewer(&self, by: Option<&Session>, kind: EventKind, asked: &str) -> Result<(), DeskError> {
        let Some(session) = by else {
            // A command run by whoever holds the database file (as `audit list`).
            return Ok(());
        };
        match require_lead_reading(self.store.conn(), session) {
            Ok(()) => Ok(()),
            Err(DeskError::Refused(why)) => {
                self.record_refusal(kind, NewEvent {
                    rep: Some(session.username.clone()),
                    reason: Some("not_a_lead".into()),
                    detail: Some(format!("not done: {asked}; only a lead may review the audit trail")),
                    ..NewEvent::default()
                });
                Err(DeskError::Refused(why))
            }
            Err(DeskError::NotRecorded { cause }) => Err(DeskError::Storage { path: self.store.path().to_path_buf(), cause }),
            Err(other) => Err(other),
        }
    }

    /// `text` with every word that is exactly the id of an account in the directory replaced by a
    /// letter-only placeholder (which also ends a run of digits around it).
    fn without_account_ids(&self, text: &str) -> Result<String, DeskError> {
        let mut out = Vec::new();
        for word in text.split_whitespace() {
            let token = word.trim_matches(|c: char| !c.is_alphanumeric());
            let digits = token.chars().filter(char::is_ascii_digit).count();
            if digits >= 4 && self.account(&AccountId::new(token))?.is_some() {
                out.push(word.replace(token, "account"));
            } else {
                out.push(word.to_string());
            }
        }
        Ok(out.join(" "))
    }

    /// The account ids an account filter stands for: the text itself as an id, plus (when it is
    /// not an exact id) the best name matches.
    fn account_ids(&self, text: &str) -> Result<Vec<String>, DeskError> {
        let text = text.trim();
        let mut ids = vec![text.to_string()];
        if self.account(&AccountId::new(text))?.is_none() {
            for a in self.lookup(text, ACCOUNT_MATCHES)? {
                if !ids.contains(&a.id.0) {
                    ids.push(a.id.0);
                }
            }
        }
        Ok(ids)
    }

    /// The WHERE clause of a filter and view, on sequence range `range`.
    fn review_where(&self, filter: &ReviewFilter, view: EventView, range: SeqRange) -> Result<Where, DeskError> {
        let mut w = Where::default();
        let (lo, hi) = (w.arg(Value::Integer(range.lo)), w.arg(Value::Integer(range.hi)));
        w.push(format!("e.seq BETWEEN {lo} AND {hi}"));
        if let Some(rep) = &filter.rep {
            let p = w.arg(Value::Text(rep.trim().to_string()));
            w.push(format!("e.rep = {p}"));
        }
        if let Some(account) = &filter.account {
            let ids = self.account_ids(account)?;
            let a = w.list(ids.clone());
            let b = w.list(ids);
            w.push(format!("(e.account_id IN ({a}) OR e.other_account IN ({b}))"));
        }
        let view_kinds = view.kinds();
        let kinds: Vec<EventKind> = match filter.kind {
            Some(k) if view_kinds.is_empty() || view_kinds.contains(&k) => vec![k],
            // A kind outside the view: nothing can match both.
            Some(_) => return Ok(Where { clauses: vec!["0 = 1".into()], args: Vec::new() }),
            None => view_kinds.to_vec(),
        };
        if kinds == FAILED_PIN {
            // Written exactly as the partial index `audit_failed_pin` is, so it can be used.
            w.push(FAILED_PIN_SQL.into());
        } else if !kinds.is_empty() {
            let list = w.list(kinds.iter().map(|k| k.as_str().to_string()));
            w.push(format!("e.kind IN ({list})"));
        }
        if filter.failures_only {
            // Written exactly as the partial index `audit_review_failures` is, so it is used.
            w.push("e.outcome IN ('fail', 'locked', 'refused')".into());
        }
        if let Some(case) = filter.case_id {
            let p = w.arg(Value::Integer(case));
            w.push(format!("e.case_id = {p}"));
        }
        if view == EventView::VerdictsWithoutPin {
            let minutes = self.policy()?.idle_timeout_minutes.max(1);
            let m = w.arg(Value::Text(format!("-{minutes} minutes")));
            w.push(format!(
                "e.outcome <> 'verify_first' AND coalesce(e.reason, '') <> 'unlock' AND CASE \
                 WHEN e.case_id IS NOT NULL THEN NOT EXISTS ( \
                   SELECT 1 FROM audit_events p INDEXED BY audit_pin_match_case \
                   WHERE p.kind = 'pin_validated' AND p.account_id = e.account_id \
                     AND p.case_id = e.case_id AND p.seq < e.seq) \
                 ELSE NOT EXISTS ( \
                   SELECT 1 FROM audit_events p INDEXED BY audit_pin_match_rep \
                   WHERE p.kind = 'pin_validated' AND p.account_id = e.account_id AND p.rep IS e.rep \
                     AND p.at >= strftime('%Y-%m-%dT%H:%M:%fZ', e.at, {m}) AND p.seq < e.seq) END"
            ));
        }
        Ok(w)
    }

    /// The WHERE clause (on alias `e`) and its arguments, for queries outside this module.
    pub(crate) fn review_filter_sql(
        &self,
        filter: &ReviewFilter,
        view: EventView,
        range: SeqRange,
    ) -> Result<(String, Vec<Value>), DeskError> {
        let w = self.review_where(filter, view, range)?;
        Ok((w.sql(), w.args))
    }

    /// The sequence range a time range covers now.
    fn range_seqs(&self, range: &TimeRange) -> Result<SeqRange, DeskError> {
        let (since, until) = range.bounds(self.clock.now());
        seq_range(self.store.conn(), since, until).map_err(|e| self.store.read_error(e))
    }

    /// One page of events matching `filter` in `view`, newest first, older than `before` (the
    /// last sequence of the previous page) when given. Lead-only when `by` is a session.
    pub fn review_page(
        &self,
        by: Option<&Session>,
        filter: &ReviewFilter,
        view: EventView,
        before: Option<i64>,
        limit: usize,
    ) -> Result<EventPage, DeskError> {
        self.reviewer(by, EventKind::AuditReviewed, "the review's event list")?;
        let mut range = self.range_seqs(&filter.range)?;
        if let Some(before) = before {
            range.hi = range.hi.min(before - 1);
        }
        if range.is_empty() {
            return Ok(EventPage { events: Vec::new(), more: false });
        }
        let mut w = self.review_where(filter, view, range)?;
        let limit = limit.max(1);
        let n = w.arg(Value::Integer(limit as i64 + 1));
        let cols = AuditEvent::COLUMNS.split(", ").map(|c| format!("e.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT {cols} FROM audit_events e WHERE {} ORDER BY e.seq DESC LIMIT {n}", w.sql());
        let conn = self.store.conn();
        let run = || -> rusqlite::Result<Vec<AuditEvent>> {
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(w.args.iter()), AuditEvent::from_row)?;
            rows.collect()
        };
        let mut events = run().map_err(|e| self.store.read_error(e))?;
        let more = events.len() > limit;
        events.truncate(limit);
        Ok(EventPage { events, more })
    }

    /// One event with the rep's name and the accounts' names and practices. Lead-only when `by`
    /// is a session.
    pub fn event_detail(&self, by: Option<&Session>, seq: i64) -> Result<EventDetail, DeskError> {
        self.reviewer(by, EventKind::AuditReviewed, "an event in full")?;
        let conn = self.store.conn();
        let run = || -> rusqlite::Result<Option<EventDetail>> {
            let event = conn
                .query_row(&format!("SELECT {} FROM audit_events WHERE seq = ?1", AuditEvent::COLUMNS), [seq], AuditEvent::from_row)
                .optional()?;
            let Some(event) = event else { return Ok(None) };
            let rep_name = match &event.rep {
                Some(rep) => conn
                    .query_row("SELECT display_name FROM reps WHERE username = ?1", [rep], |r| r.get(0))
                    .optional()?,
                None => None,
            };
            let named = |id: &Option<String>| -> rusqlite::Result<Option<NamedAccount>> {
                let Some(id) = id else { return Ok(None) };
                let found: Option<(String, String, String)> = conn
                    .query_row(
                        "SELECT a.name, p.name, a.role FROM accounts a JOIN practices p ON p.id = a.practice_id WHERE a.id = ?1",
                        [id],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?;
                Ok(Some(match found {
                    Some((name, practice, role)) => {
                        NamedAccount { id: id.clone(), name: Some(name), practice: Some(practice), role: Some(role) }
                    }
                    None => NamedAccount { id: id.clone(), name: None, practice: None, role: None },
                }))
            };
            let account = named(&event.account_id)?;
            let other = named(&event.other_account)?;
            Ok(Some(EventDetail { event, rep_name, account, other }))
        };
        run().map_err(|e| self.store.read_error(e))?.ok_or_else(|| DeskError::NotFound(format!("audit event {seq}")))
    }

    /// Accounts whose failed Support PIN checks in the range came from at least [`ACROSS_REPS`]
    /// reps: a caller trying PINs over many calls. Most failures first.
    pub fn accounts_failing_across_reps(&self, by: Option<&Session>, filter: &ReviewFilter) -> Result<Vec<FailureSpread>, DeskError> {
        self.failure_spread(by, filter, "account_id", "rep", ACROSS_REPS)
    }

    /// Reps whose failed Support PIN checks in the range touched at least [`ACROSS_ACCOUNTS`]
    /// accounts: an enumeration pattern, or a coached attacker. Most accounts first.
    pub fn reps_failing_across_accounts(&self, by: Option<&Session>, filter: &ReviewFilter) -> Result<Vec<FailureSpread>, DeskError> {
        self.failure_spread(by, filter, "rep", "account_id", ACROSS_ACCOUNTS)
    }

    fn failure_spread(
        &self,
        by: Option<&Session>,
        filter: &ReviewFilter,
        group: &str,
        spread: &str,
        min_spread: i64,
    ) -> Result<Vec<FailureSpread>, DeskError> {
        self.reviewer(by, EventKind::AuditReviewed, "a failure pattern view")?;
        let range = self.range_seqs(&filter.range)?;
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let narrowed = ReviewFilter { kind: None, failures_only: false, ..filter.clone() };
        let conn = self.store.conn();
        let read = |e: rusqlite::Error| self.store.read_error(e);
        // Which walk: the failures of the range in sequence order, sorted by group (a short range,
        // or a rep, account or case filter: few failures), or every failure of the trail already
        // in group order (a range over much of the trail, where that sort would cost most of a
        // second; see migration 0009).
        let (first, last): (i64, i64) = conn
            .query_row(
                "SELECT coalesce((SELECT min(seq) FROM audit_events), 0), coalesce((SELECT max(seq) FROM audit_events), 0)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(read)?;
        let filtered = filter.rep.is_some() || filter.account.is_some() || filter.case_id.is_some();
        let wide = !filtered && (range.hi - range.lo + 1) * 4 > last - first + 1;
        let name_of = |key: &str| {
            if group == "rep" {
                format!("(SELECT display_name FROM reps WHERE username = {key})")
            } else {
                format!("(SELECT name FROM accounts WHERE id = {key})")
            }
        };
        let spread_row = |r: &rusqlite::Row<'_>| -> rusqlite::Result<FailureSpread> {
            Ok(FailureSpread {
                key: r.get(0)?,
                name: r.get(1)?,
                failures: r.get::<_, i64>(2)? - r.get::<_, Option<i64>>(3)?.unwrap_or(0),
                lockouts: r.get::<_, Option<i64>>(3)?.unwrap_or(0),
                spread: r.get(4)?,
                first_at: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                last_at: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
            })
        };
        let mut w = self.review_where(&narrowed, EventView::FailedPinChecks, range)?;
        let m = w.arg(Value::Integer(min_spread));
        let n = w.arg(Value::Integer(SPREAD_ROWS as i64));
        if !wide {
            // One walk of the range's failures in sequence order; SQLite sorts them by group.
            let sql = format!(
                "SELECT g.key, {}, g.failures, g.lockouts, g.spread, g.first_at, g.last_at FROM ( \
                   SELECT e.{group} AS key, count(*) AS failures, \
                          sum(e.kind = 'pin_locked') AS lockouts, count(DISTINCT e.{spread}) AS spread, \
                          min(e.at) AS first_at, max(e.at) AS last_at \
                   FROM audit_events e INDEXED BY audit_failed_pin WHERE {} AND e.{group} IS NOT NULL \
                   GROUP BY e.{group}) g \
                 WHERE g.spread >= {m} ORDER BY g.spread DESC, g.failures DESC, g.key LIMIT {n}",
                name_of("g.key"),
                w.sql()
            );
            let run = || -> rusqlite::Result<Vec<FailureSpread>> {
                let mut stmt = conn.prepare_cached(&sql)?;
                let rows = stmt.query_map(rusqlite::params_from_iter(w.args.iter()), spread_row)?;
                rows.collect()
            };
            return run().map_err(read);
        }

        // Every failure of the trail in group order, counting those in the range: no sort. The
        // widest spreads first; the rest of a row is then read for the rows shown only.
        let index = if group == "rep" { "audit_failed_by_rep" } else { "audit_failed_by_account" };
        let sql = format!(
            "SELECT e.{group} AS key, count(*) AS failures, count(DISTINCT e.{spread}) AS spread \
             FROM audit_events e INDEXED BY {index} WHERE {} AND e.{group} IS NOT NULL \
             GROUP BY e.{group} HAVING spread >= {m} ORDER BY spread DESC, failures DESC, key LIMIT {n}",
            w.sql()
        );
        let found = (|| -> rusqlite::Result<Vec<(String, i64, i64)>> {
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(w.args.iter()), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect()
        })()
        .map_err(read)?;
        let mut w = self.review_where(&narrowed, EventView::FailedPinChecks, range)?;
        let k = w.arg(Value::Null);
        let key_at = w.args.len() - 1;
        let sql = format!(
            "SELECT {}, sum(e.kind = 'pin_locked'), min(e.at), max(e.at) \
             FROM audit_events e INDEXED BY {index} WHERE e.{group} = {k} AND {}",
            name_of(&k),
            w.sql()
        );
        let mut detail = conn.prepare_cached(&sql).map_err(read)?;
        let mut rows = Vec::with_capacity(found.len());
        for (key, failures, spread) in found {
            w.args[key_at] = Value::Text(key.clone());
            let row = detail.query_row(rusqlite::params_from_iter(w.args.iter()), |r| {
                let lockouts = r.get::<_, Option<i64>>(1)?.unwrap_or(0);
                Ok(FailureSpread {
                    key,
                    name: r.get(0)?,
                    failures: failures - lockouts,
                    lockouts,
                    spread,
                    first_at: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    last_at: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                })
            });
            rows.push(row.map_err(read)?);
        }
        Ok(rows)
    }

    /// Failed Support PIN checks and lockouts per hour, day or week of the range, in the time zone
    /// `offset` (the viewer's). The rep, account and case filters apply; an open start begins at
    /// the first event. Each failure is placed by its own time.
    ///
    /// Without a rep, account or case filter (and for any offset that is a whole number of quarter
    /// hours) the whole quarter hours of the range come from the failure rollup and only the
    /// partial quarter hours at its ends from the events; with such a filter the failures are few
    /// and counted from the events, index-only. Both give the same chart while the clock moved
    /// forward across the range's ends (the assumption every time range here makes).
    pub fn failure_chart(&self, by: Option<&Session>, filter: &ReviewFilter, offset: FixedOffset) -> Result<FailureChart, DeskError> {
        self.reviewer(by, EventKind::AuditReviewed, "the failure chart")?;
        let range = self.range_seqs(&filter.range)?;
        let (since, until) = filter.range.bounds(self.clock.now());
        let mut chart = self.empty_chart(since, until, range, offset)?;
        let (Some(first), Some(last)) = (chart.buckets.first(), chart.buckets.last()) else { return Ok(chart) };
        if range.is_empty() {
            return Ok(chart);
        }
        let step = chart.size.step();
        let grid = Grid { origin: first.start.timestamp(), step: step.num_seconds() };
        let lower = since.unwrap_or_else(|| first.start.with_timezone(&Utc));
        let chart_end = (last.start + step).with_timezone(&Utc);
        let upper = until.map_or(chart_end, |u| u.min(chart_end));
        let narrowed = ReviewFilter { kind: None, failures_only: false, ..filter.clone() };
        let unfiltered = narrowed.rep.is_none() && narrowed.account.is_none() && narrowed.case_id.is_none();
        let counts = if unfiltered && grid.on_slots() {
            self.failures_rolled_up(grid, range, lower, upper)?
        } else {
            self.failures_counted(&narrowed, range, grid, None)?
        };
        for c in counts {
            let Some(bucket) = usize::try_from(c.index).ok().and_then(|i| chart.buckets.get_mut(i)) else { continue };
            bucket.failures += c.failures;
            bucket.lockouts += c.lockouts;
        }
        Ok(chart)
    }

    /// The chart's bars with nothing counted yet: from the start of the range (or the first event)
    /// to its end (or now), at most [`MAX_BUCKETS`].
    fn empty_chart(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        range: SeqRange,
        offset: FixedOffset,
    ) -> Result<FailureChart, DeskError> {
        let now = self.clock.now();
        let start = match since {
            Some(t) => t,
            None => {
                // The first event's time, or the first failure's when earlier: a trail's times
                // need not grow with its sequence (a clock set back; a history loaded in bulk
                // after the database was created), and the chart must show every failure.
                let conn = self.store.conn();
                let at = at_from(conn, range.lo).map_err(|e| self.store.read_error(e))?;
                let first_event = at.and_then(|(_, at)| from_db(&at)).unwrap_or(now);
                let first_slot: Option<i64> = conn
                    .query_row("SELECT min(slot) FROM audit_failure_slots", [], |r| r.get(0))
                    .map_err(|e| self.store.read_error(e))?;
                let first_failure = first_slot.and_then(|slot| DateTime::<Utc>::from_timestamp(slot.saturating_mul(900), 0));
                first_failure.map_or(first_event, |f| f.min(first_event))
            }
        };
        let end = until.unwrap_or(now).max(start);
        let size = BucketSize::for_span(end - start);
        let floor = |t: DateTime<Utc>| -> DateTime<FixedOffset> { bucket_start(t.with_timezone(&offset), size) };
        let mut buckets = Vec::new();
        let mut t = floor(start);
        let last = floor(end);
        while t <= last && buckets.len() < MAX_BUCKETS {
            buckets.push(ChartBucket { start: t, failures: 0, lockouts: 0 });
            t += size.step();
        }
        Ok(FailureChart { size, buckets })
    }

    /// Failures of `[lower, upper)` per bucket of `grid`: whole quarter hours from the rollup, the
    /// partial quarter hours at either end from the events (found by sequence within `range`).
    fn failures_rolled_up(
        &self,
        grid: Grid,
        range: SeqRange,
        lower: DateTime<Utc>,
        upper: DateTime<Utc>,
    ) -> Result<Vec<BucketCount>, DeskError> {
        if upper <= lower {
            return Ok(Vec::new());
        }
        let on_slot = |t: DateTime<Utc>| failure_slots::slot_start(failure_slots::slot_of(t)) == Some(t);
        let first = failure_slots::slot_of(lower) + i64::from(!on_slot(lower));
        let end = failure_slots::slot_of(upper);
        let (Some(whole_from), Some(whole_to)) = (failure_slots::slot_start(first), failure_slots::slot_start(end)) else {
            return Ok(Vec::new());
        };
        let everything = ReviewFilter::default();
        if first >= end {
            return self.failures_counted(&everything, range, grid, Some((lower, upper)));
        }
        let conn = self.store.conn();
        let mut counts = failure_slots::rolled_up(conn, grid, first, end).map_err(|e| self.store.read_error(e))?;
        for (from, to) in [(lower, whole_from), (whole_to, upper)] {
            if from < to {
                counts.extend(self.failures_counted(&everything, range, grid, Some((from, to)))?);
            }
        }
        Ok(counts)
    }

    /// Failures matching `filter` in `range` per bucket of `grid`, counted from the events (an
    /// index-only walk of the failure index); only those timed within `window` when given.
    fn failures_counted(
        &self,
        filter: &ReviewFilter,
        range: SeqRange,
        grid: Grid,
        window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> Result<Vec<BucketCount>, DeskError> {
        let conn = self.store.conn();
        let range = match window {
            Some((from, to)) => seqs_between(conn, range, from, to).map_err(|e| self.store.read_error(e))?,
            None => range,
        };
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let mut w = self.review_where(filter, EventView::FailedPinChecks, range)?;
        if let Some((from, to)) = window {
            let (a, b) = (w.arg(Value::Text(to_db(from))), w.arg(Value::Text(to_db(to))));
            w.push(format!("e.at >= {a} AND e.at < {b}"));
        }
        let (origin, step) = (w.arg(Value::Integer(grid.origin)), w.arg(Value::Integer(grid.step)));
        let index = failure_slots::floor_div_sql(&format!("unixepoch(e.at) - {origin}"), &step);
        let sql = format!(
            "SELECT {index}, e.kind = 'pin_locked', count(*) FROM audit_events e INDEXED BY audit_failed_pin \
             WHERE {} GROUP BY 1, 2",
            w.sql()
        );
        let run = || -> rusqlite::Result<Vec<BucketCount>> {
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(w.args.iter()), |r| {
                let (index, locked, n): (Option<i64>, bool, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
                Ok(index.map(|index| BucketCount {
                    index,
                    failures: if locked { 0 } else { n },
                    lockouts: if locked { n } else { 0 },
                }))
            })?;
            // An event whose time cannot be read has no bucket.
            rows.filter_map(Result::transpose).collect()
        };
        run().map_err(|e| self.store.read_error(e))
    }

    /// Records a lead's review of `range`: the whole chain is verified first; when intact, its head
    /// (sequence and hash) is recorded with the note, as an `audit_reviewed` event and as an anchor
    /// that every later verification checks. A broken chain is recorded as a failed review and
    /// anchors nothing. A rep is refused.
    pub fn record_review(&mut self, session: &Session, range: &TimeRange, note: &str) -> Result<ReviewRecord, DeskError> {
        let note = super::text::normalize(note);
        if note.is_empty() {
            return Err(DeskError::Invalid("a review needs a note (what you looked at and what you found)".into()));
        }
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(DeskError::Invalid(format!("a review note is at most {MAX_NOTE_CHARS} characters")));
        }
        // The note is kept in the trail for ever: nothing that may hold a Support PIN, as for case
        // notes. A lead names the accounts they looked at, so a word that is an account's id is
        // not read as digits ("S-2002 lockout looked at"); everything else is.
        super::text::refuse_pin_in_text("review note", &self.without_account_ids(&note)?)?;
        self.reviewer(Some(session), EventKind::AuditReviewed, "recording a review")?;
        let status = self.verify_chain()?;
        let seqs = self.range_seqs(range)?;
        let now = self.clock.now();
        let offset = Utc.fix();
        let range_words = format!("{} (UTC), seq {}-{}", range.label(offset), seqs.lo, seqs.hi);
        let verified = match &status {
            super::audit::ChainStatus::Intact { head_seq, head_hash, .. } => Some((*head_seq, head_hash.clone())),
            super::audit::ChainStatus::Broken { .. } => None,
        };
        let (outcome, head_words) = match (&status, &verified) {
            (_, Some((seq, hash))) => ("ok", format!("head {seq}:{hash}")),
            (super::audit::ChainStatus::Broken { first_bad_seq, problem }, None) => {
                ("fail", format!("chain broken at sequence {first_bad_seq}: {problem}"))
            }
            (super::audit::ChainStatus::Intact { .. }, None) => ("fail", String::new()),
        };
        let detail = format!("reviewed {range_words}; {head_words}; note: {note}");
        let username = session.username.clone();
        let event_seq = self.store.write(|tx| {
            super::reps::require_lead(tx, session)?;
            let seq = audit::append(tx, now, EventKind::AuditReviewed, &NewEvent {
                rep: Some(username.clone()),
                outcome: outcome.into(),
                reason: Some("lead_review".into()),
                detail: Some(detail.clone()),
                ..NewEvent::default()
            })?;
            if let Some((head_seq, head_hash)) = &verified {
                insert_anchor(tx, *head_seq, head_hash, seq, "review", Some(&username), now)?;
            }
            Ok(seq)
        })?;
        match (verified, status) {
            (Some((head_seq, head_hash)), _) => {
                Ok(ReviewRecord { event_seq, head_seq, head_hash, first_seq: seqs.lo, last_seq: seqs.hi })
            }
            (None, super::audit::ChainStatus::Broken { first_bad_seq, problem }) => Err(DeskError::Invalid(format!(
                "the review was recorded as failed: the audit chain is broken at sequence {first_bad_seq}: {problem}"
            ))),
            (None, _) => Err(DeskError::Invalid("the review was recorded as failed".into())),
        }
    }
}

/// Records a chain head that later verifications must find unchanged.
pub(crate) fn insert_anchor(
    tx: &rusqlite::Transaction<'_>,
    head_seq: i64,
    head_hash: &str,
    event_seq: i64,
    source: &str,
    rep: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), DeskError> {
    tx.execute(
        "INSERT INTO audit_anchors (head_seq, head_hash, event_seq, source, rep, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![head_seq, head_hash, event_seq, source, rep, to_db(at)],
    )
    .map_err(sql)?;
    Ok(())
}

/// The start of the bucket holding `t`.
fn bucket_start(t: DateTime<FixedOffset>, size: BucketSize) -> DateTime<FixedOffset> {
    let offset = *t.offset();
    let day = |d: NaiveDate| -> DateTime<FixedOffset> {
        offset.from_local_datetime(&d.and_time(NaiveTime::MIN)).single().unwrap_or(t)
    };
    match size {
        BucketSize::Hour => t.with_minute(0).and_then(|t| t.with_second(0)).and_then(|t| t.with_nanosecond(0)).unwrap_or(t),
        BucketSize::Day => day(t.date_naive()),
        BucketSize::Week => {
            use chrono::Datelike;
            let d = t.date_naive();
            day(d - Duration::days(d.weekday().num_days_from_monday() as i64))
        }
    }
}

/// Reads a time for `--since`/`--until` and the custom range: RFC 3339 (`2031-06-09T13:05:00Z`),
/// a local date (`2031-06-09`, the start of that day) or date and time (`2031-06-09 13:05`) in
/// `offset`, or an age (`90m`, `24h`, `7d`, `2w`: that long before `now`).
/// The end of a range as typed: like [`parse_time`], but a date alone means the end of that day
/// (`..2031-06-09` includes the 9th; `2031-06-09..2031-06-09` is that whole day).
pub fn parse_until(text: &str, now: DateTime<Utc>, offset: FixedOffset) -> Result<DateTime<Utc>, DeskError> {
    let start = parse_time(text, now, offset)?;
    if NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").is_ok() {
        // The next local midnight (a day is not always 24 hours where clocks change; with a fixed
        // offset it is).
        return Ok(start + Duration::days(1));
    }
    Ok(start)
}

pub fn parse_time(text: &str, now: DateTime<Utc>, offset: FixedOffset) -> Result<DateTime<Utc>, DeskError> {
    let text = text.trim();
    let bad = || {
        DeskError::Invalid(format!(
            "cannot read the time {:?}: use 2031-06-09, \"2031-06-09 13:05\", an RFC 3339 time, or an age such as 24h, 7d, 2w",
            super::text::escape_hazards(text)
        ))
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let local = |naive: NaiveDateTime| offset.from_local_datetime(&naive).single().map(|t| t.with_timezone(&Utc));
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return local(d.and_time(NaiveTime::MIN)).ok_or_else(bad);
    }
    for format in ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return local(naive).ok_or_else(bad);
        }
    }
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: i64 = number.parse().map_err(|_| bad())?;
    let age = match unit {
        "m" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        "w" => Duration::try_weeks(n),
        _ => None,
    }
    .ok_or_else(bad)?;
    now.checked_sub_signed(age).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> FixedOffset {
        FixedOffset::east_opt(0).expect("zero offset")
    }

    #[test]
    fn times_are_read_in_every_documented_form() {
        let now = Utc.with_ymd_and_hms(2031, 6, 9, 13, 5, 0).single().expect("instant");
        let plus2 = FixedOffset::east_opt(2 * 3600).expect("offset");
        assert_eq!(parse_time("7d", now, utc()).expect("age"), now - Duration::days(7));
        assert_eq!(parse_time("24h", now, utc()).expect("age"), now - Duration::hours(24));
        assert_eq!(
            parse_time("2031-06-02", now, plus2).expect("date"),
            Utc.with_ymd_and_hms(2031, 6, 1, 22, 0, 0).single().expect("instant")
        );
        assert_eq!(
            parse_time("2031-06-02 10:30", now, utc()).expect("date and time"),
            Utc.with_ymd_and_hms(2031, 6, 2, 10, 30, 0).single().expect("instant")
        );
        assert_eq!(parse_time("2031-06-02T10:30:00Z", now, plus2).expect("rfc3339").to_rfc3339(), "2031-06-02T10:30:00+00:00");
        assert!(parse_time("last tuesday", now, utc()).is_err());
        assert!(parse_time("99999999999999w", now, utc()).is_err());
    }

    #[test]
    fn buckets_start_on_the_local_hour_day_and_monday() {
        let plus2 = FixedOffset::east_opt(2 * 3600).expect("offset");
        let t = Utc.with_ymd_and_hms(2031, 6, 11, 23, 40, 0).single().expect("instant").with_timezone(&plus2);
        assert_eq!(bucket_start(t, BucketSize::Hour).to_rfc3339(), "2031-06-12T01:00:00+02:00");
        assert_eq!(bucket_start(t, BucketSize::Day).to_rfc3339(), "2031-06-12T00:00:00+02:00");
        assert_eq!(bucket_start(t, BucketSize::Week).to_rfc3339(), "2031-06-09T00:00:00+02:00");
    }
}
