//! Verifying the audit trail: the hash chain, every recorded head and any head given from outside,
//! in pieces checked side by side.
//!
//! A row's hash depends only on its own stored `prev_hash` and fields, so the chain can be cut into
//! ranges of sequences that are checked at the same time, each on its own read-only connection;
//! joining the pieces in order then checks the one link each piece could not (its first event
//! against the last event of the piece before) and keeps the first problem in sequence order. The
//! answer is the same as one pass from the first event to the last, whatever the division.

use super::audit::{ChainChecker, ChainStatus, EventKind, RawEvent, short_hash};
use super::trail::{Anchor, head_in_detail};
use rusqlite::{Connection, OpenFlags};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Below this many events per thread a second connection and thread cost more than they save.
const MIN_EVENTS_PER_THREAD: i64 = 50_000;
/// More threads than this only contend for the disk and SQLite's shared memory.
const MAX_THREADS: usize = 8;
/// Pieces per thread: threads take pieces in turn, so a thread slowed by other work on a shared
/// machine ends up checking fewer of them instead of holding everyone up at the end.
const PIECES_PER_THREAD: usize = 8;
/// How long a verifying connection waits for a lock (a checkpoint or recovery in another process).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const PIECE_SQL: &str = "SELECT seq, at, rep, case_id, kind, account_id, other_account, outcome, reason, \
    policy_version, detail, prev_hash, hash FROM audit_events WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq";

/// How a verification divides the chain. The answer (intact with its head, or the first bad
/// sequence and what is wrong there) is the same for every division; only the time differs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VerifySplit {
    /// Threads reading at once, each on its own read-only connection. `None`: one per core (at
    /// most 8) once the trail is long enough to gain from it, else one.
    pub threads: Option<usize>,
    /// Ranges of sequences the chain is cut into, taken by the threads in turn. `None`: eight per
    /// thread (one when there is one thread).
    pub pieces: Option<usize>,
}

impl VerifySplit {
    /// Exactly `threads` threads (at least one), pieces chosen to match.
    pub fn threads(threads: usize) -> VerifySplit {
        VerifySplit { threads: Some(threads.max(1)), pieces: None }
    }

    /// The threads and the sequence ranges for a trail from `first` to `head`.
    fn plan(self, first: i64, head: i64) -> (usize, Vec<(i64, i64)>) {
        let span = (i128::from(head) - i128::from(first) + 1).max(1);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_THREADS);
        let by_length = usize::try_from(span / i128::from(MIN_EVENTS_PER_THREAD)).unwrap_or(usize::MAX).max(1);
        let threads = self.threads.unwrap_or(cores.min(by_length)).max(1);
        let wanted = self.pieces.unwrap_or(if threads == 1 { 1 } else { threads * PIECES_PER_THREAD });
        let pieces = i128::try_from(wanted).unwrap_or(i128::MAX).clamp(1, span);
        let bounds = (0..pieces)
            .map(|i| {
                // The first piece also takes anything numbered before `first` (a forged row), so
                // nothing in the table escapes the check.
                let start = if i == 0 { i64::MIN } else { cut(first, span, i, pieces) };
                let end = if i == pieces - 1 { head } else { cut(first, span, i + 1, pieces) - 1 };
                (start, end)
            })
            .collect();
        (threads, bounds)
    }
}

/// The first sequence of piece `i` of `pieces` over `span` sequences from `first`.
fn cut(first: i64, span: i128, i: i128, pieces: i128) -> i64 {
    i64::try_from(i128::from(first) + span * i / pieces).unwrap_or(i64::MAX)
}

/// The head each recording event named, by that event's sequence.
type RecordedHeads = HashMap<i64, (i64, String)>;

/// The heads the chain must still hold (recorded in `audit_anchors` or given from outside), and
/// the head each recording event (a lead review, an export) named.
struct Heads {
    anchors: Vec<Anchor>,
    /// Indexes into `anchors`, by the sequence they name.
    by_head: BTreeMap<i64, Vec<usize>>,
    by_event: RecordedHeads,
}

impl Heads {
    fn new(anchors: Vec<Anchor>, by_event: RecordedHeads) -> Heads {
        let mut by_head: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for (i, a) in anchors.iter().enumerate() {
            by_head.entry(a.head_seq).or_default().push(i);
        }
        Heads { anchors, by_head, by_event }
    }

    /// Checks one event against the heads: an event a head names must still have that hash, and a
    /// recording event must still have its anchor.
    fn check(&self, e: &RawEvent<'_>) -> Result<(), (i64, String)> {
        if let Some(heads) = self.by_head.get(&e.seq) {
            let differs: Vec<&Anchor> =
                heads.iter().map(|&i| &self.anchors[i]).filter(|a| !a.head_hash.as_bytes().eq_ignore_ascii_case(e.hash)).collect();
            // A head the desk recorded is proof; a head given from outside may itself be wrong.
            if let Some(a) = differs.iter().find(|a| !a.given).or(differs.first()) {
                let what = if a.given {
                    "either the trail was rewritten at or before this sequence behind the app's back, or the head \
                     given is wrong (mistyped, or from another database)"
                } else {
                    "the trail was rewritten at or before this sequence behind the app's back"
                };
                return Err((e.seq, format!(
                    "its hash differs from head {}:{} kept by {}; {what}",
                    a.head_seq,
                    short_hash(&a.head_hash),
                    a.origin
                )));
            }
        }
        let records_head = (e.kind == EventKind::AuditReviewed.as_str().as_bytes()
            || e.kind == EventKind::AuditExported.as_str().as_bytes())
            && e.outcome == b"ok";
        if !records_head {
            return Ok(());
        }
        let Some((seq, hash)) = e.detail.and_then(|d| std::str::from_utf8(d).ok()).and_then(head_in_detail) else {
            return Ok(());
        };
        let kept = self.by_event.get(&e.seq).is_some_and(|(s, h)| *s == seq && h.eq_ignore_ascii_case(&hash));
        if kept {
            return Ok(());
        }
        Err((e.seq, format!(
            "it records head {seq}:{}, but that head is missing from the recorded anchors (removed or changed \
             behind the app's back)",
            short_hash(&hash)
        )))
    }

    /// A head recorded past the end of an intact trail: the tail after `head_seq` was removed.
    /// A head given from outside past the end is reported only when no recorded one is: it may be
    /// a wrong head rather than a removed tail.
    fn beyond(&self, head_seq: i64) -> Option<(i64, String)> {
        let mut past = self.by_head.range(head_seq.checked_add(1)?..).flat_map(|(_, heads)| heads.iter().map(|&i| &self.anchors[i]));
        let first = past.clone().next()?;
        let a = past.find(|a| !a.given).unwrap_or(first);
        let head = format!("{}:{}", a.head_seq, short_hash(&a.head_hash));
        Some((head_seq + 1, if a.given {
            format!(
                "the trail ends at sequence {head_seq} and does not hold head {head}, {}: either events after \
                 {head_seq} were removed behind the app's back, or the head given is wrong (mistyped, or from \
                 another database)",
                a.origin
            )
        } else {
            format!(
                "the trail ends at sequence {head_seq}, but {} recorded head {head}: events after {head_seq} were \
                 removed behind the app's back",
                a.origin
            )
        }))
    }
}

/// Every anchor recorded in the database (none when the table does not exist yet), and the head
/// each recording event named, by that event's sequence.
fn recorded_anchors(conn: &Connection) -> rusqlite::Result<(Vec<Anchor>, RecordedHeads)> {
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
            given: false,
        });
        by_event.insert(event_seq, (head_seq, head_hash));
    }
    Ok((anchors, by_event))
}

/// The heads and the trail's first and last sequence (`None` when it is empty), read in one
/// snapshot: a review committed while verification starts is then either wholly in view (its
/// event, its anchor) or not at all, and the check stops at this last sequence even if other
/// processes append while it runs (rows up to it never change in an append-only trail).
fn snapshot(conn: &Connection, external: &[Anchor]) -> rusqlite::Result<(Heads, Option<(i64, i64)>)> {
    let read = || -> rusqlite::Result<(Heads, Option<(i64, i64)>)> {
        let (mut anchors, by_event) = recorded_anchors(conn)?;
        anchors.extend(external.iter().cloned());
        // Two subqueries: SQLite answers a lone min() or max() from the end of the table, but
        // scans it for both in one select.
        let ends: (Option<i64>, Option<i64>) = conn.query_row(
            "SELECT (SELECT min(seq) FROM audit_events), (SELECT max(seq) FROM audit_events)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((Heads::new(anchors, by_event), ends.0.zip(ends.1)))
    };
    if !conn.is_autocommit() {
        return read();
    }
    let tx = conn.unchecked_transaction()?;
    let found = read()?;
    tx.commit()?;
    Ok(found)
}

/// One range of the chain as checked on its own: its first event's sequence and link (checked
/// when the pieces are joined), the checker at its end, or the first problem inside it.
struct Piece {
    first: Option<(i64, Vec<u8>)>,
    checker: ChainChecker,
    problem: Option<(i64, String)>,
}

impl Piece {
    fn clean(&self) -> bool {
        self.problem.is_none()
    }
}

/// Checks the events numbered `start..=end`, stopping at the first problem.
fn check_piece(conn: &Connection, (start, end): (i64, i64), heads: &Heads) -> rusqlite::Result<Piece> {
    let mut stmt = conn.prepare_cached(PIECE_SQL)?;
    let mut rows = stmt.query([start, end])?;
    let mut piece = Piece { first: None, checker: ChainChecker::default(), problem: None };
    while let Some(row) = rows.next()? {
        let e = RawEvent::from_row(row)?;
        if piece.first.is_none() {
            piece.first = Some((e.seq, e.prev_hash.to_vec()));
            piece.checker = ChainChecker::starting_at(e.seq, e.prev_hash);
        }
        if let Err(problem) = piece.checker.feed_raw(&e).and_then(|()| heads.check(&e)) {
            piece.problem = Some(problem);
            break;
        }
    }
    Ok(piece)
}

/// A read-only connection for one verifying thread.
fn reader(path: &str) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // No mmap_size: measured on a 2,000,000-event trail, memory-mapped reads cost more CPU (page
    // faults) than the copies they save, and made the process look 600 MB large.
    Ok(conn)
}

/// Checks every piece, `conns.len()` at a time (one thread per connection). Once a piece has a
/// problem (or cannot be read), pieces after it are left unchecked: the answer is at or before it.
fn check_pieces(conns: Vec<Connection>, bounds: &[(i64, i64)], heads: &Heads) -> Vec<Option<rusqlite::Result<Piece>>> {
    let next = AtomicUsize::new(0);
    let stop = AtomicUsize::new(usize::MAX);
    let work = |conn: Connection| -> Vec<(usize, rusqlite::Result<Piece>)> {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= bounds.len() || i > stop.load(Ordering::Relaxed) {
                return done;
            }
            let piece = check_piece(&conn, bounds[i], heads);
            if !piece.as_ref().is_ok_and(Piece::clean) {
                stop.fetch_min(i, Ordering::Relaxed);
            }
            done.push((i, piece));
        }
    };
    let mut slots: Vec<Option<rusqlite::Result<Piece>>> = bounds.iter().map(|_| None).collect();
    std::thread::scope(|s| {
        let work = &work;
        let threads: Vec<_> = conns.into_iter().map(|conn| s.spawn(move || work(conn))).collect();
        for thread in threads {
            let done = thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            for (i, piece) in done {
                slots[i] = Some(piece);
            }
        }
    });
    slots
}

/// Checks the pieces one after the other on `conn`, stopping at the first that has a problem.
fn check_in_turn(conn: &Connection, bounds: &[(i64, i64)], heads: &Heads) -> Vec<Option<rusqlite::Result<Piece>>> {
    let mut slots = Vec::with_capacity(bounds.len());
    for &b in bounds {
        let piece = check_piece(conn, b, heads);
        let clean = piece.as_ref().is_ok_and(Piece::clean);
        slots.push(Some(piece));
        if !clean {
            break;
        }
    }
    slots
}

/// Joins the pieces in sequence order: the first problem in that order is the answer, as one
/// pass from the first event would find it.
fn join(slots: Vec<Option<rusqlite::Result<Piece>>>, heads: &Heads) -> rusqlite::Result<ChainStatus> {
    let broken = |(first_bad_seq, problem): (i64, String)| Ok(ChainStatus::Broken { first_bad_seq, problem });
    let mut chain = ChainChecker::default();
    for slot in slots {
        // A piece is left unchecked only after an earlier one that ends the join; fail closed
        // rather than call a chain intact that was not read.
        let Some(piece) = slot else {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_INTERNAL),
                Some("a piece of the audit trail was not checked".into()),
            ));
        };
        let piece = piece?;
        let Some((seq, prev_hash)) = &piece.first else { continue };
        if let Err(problem) = chain.check_link(*seq, prev_hash) {
            return broken(problem);
        }
        if let Some(problem) = piece.problem {
            return broken(problem);
        }
        chain.follow(piece.checker);
    }
    let status = chain.finish();
    if let ChainStatus::Intact { head_seq, .. } = &status
        && let Some(problem) = heads.beyond(*head_seq)
    {
        return broken(problem);
    }
    Ok(status)
}

/// Checks the chain, then that it still holds every recorded head and every head in `external`:
/// a trail cut back below a head, or rewritten at or before it, is reported (the first bad
/// sequence and what happened). Also returns how many heads were checked.
///
/// Several threads are used when `split` asks for them and the connection is to a file (each
/// thread opens its own read-only connection to it); otherwise, or when such a connection cannot
/// be opened, the chain is checked on `conn` alone. The answer is the same either way.
pub(crate) fn verify_against(conn: &Connection, external: &[Anchor], split: VerifySplit) -> rusqlite::Result<(ChainStatus, usize)> {
    let (heads, ends) = snapshot(conn, external)?;
    let checked = heads.anchors.len();
    let Some((first, head)) = ends else {
        return join(Vec::new(), &heads).map(|status| (status, checked));
    };
    let (threads, bounds) = split.plan(first, head);
    let readers: Option<Vec<Connection>> = match conn.path().filter(|p| !p.is_empty()) {
        Some(path) if threads > 1 => (0..threads).map(|_| reader(path)).collect::<rusqlite::Result<_>>().ok(),
        _ => None,
    };
    let slots = match readers {
        Some(readers) => check_pieces(readers, &bounds, &heads),
        None => check_in_turn(conn, &bounds, &heads),
    };
    join(slots, &heads).map(|status| (status, checked))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ranges cover every sequence exactly once, in order, from anything before `first` up
    /// to `head`.
    fn assert_covers(bounds: &[(i64, i64)], head: i64) {
        assert_eq!(bounds.first().map(|b| b.0), Some(i64::MIN));
        assert_eq!(bounds.last().map(|b| b.1), Some(head));
        for pair in bounds.windows(2) {
            assert_eq!(pair[0].1 + 1, pair[1].0, "{bounds:?}");
        }
        assert!(bounds.iter().all(|(start, end)| start <= end), "{bounds:?}");
    }

    #[test]
    fn pieces_cover_the_trail_without_gaps_or_overlaps() {
        for (first, head) in [(1, 1), (1, 2), (1, 27), (1, 2_000_000), (-5, 40), (0, 0), (7, 7_000_000_000)] {
            for threads in 1..=4 {
                for pieces in [1, 2, 3, 8, 1000] {
                    let split = VerifySplit { threads: Some(threads), pieces: Some(pieces) };
                    let (t, bounds) = split.plan(first, head);
                    assert_eq!(t, threads);
                    assert_covers(&bounds, head);
                    let span = usize::try_from(head - first + 1).unwrap_or(usize::MAX);
                    assert_eq!(bounds.len(), pieces.min(span), "{first}..{head} in {pieces}");
                }
            }
        }
    }

    #[test]
    fn a_short_trail_is_checked_on_one_thread_and_a_long_one_on_several_pieces_per_thread() {
        let (threads, bounds) = VerifySplit::default().plan(1, 1_000);
        assert_eq!((threads, bounds.len()), (1, 1));
        let (threads, bounds) = VerifySplit::threads(2).plan(1, 10_000_000);
        assert_eq!((threads, bounds.len()), (2, 2 * PIECES_PER_THREAD));
        assert_covers(&bounds, 10_000_000);
        let (threads, _) = VerifySplit::default().plan(1, 10_000_000);
        assert!((1..=MAX_THREADS).contains(&threads));
    }

    #[test]
    fn extreme_sequences_do_not_overflow() {
        let (_, bounds) = VerifySplit { threads: Some(2), pieces: Some(4) }.plan(i64::MIN, i64::MAX);
        assert_covers(&bounds, i64::MAX);
        assert_eq!(bounds.len(), 4);
    }
}
