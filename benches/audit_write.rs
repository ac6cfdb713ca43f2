//! One durable audit event against the disk's bare fsync, measured in the same directory and the
//! same run, on a database with a realistic trail (issue 7: "within 2x of the disk's bare fsync").
//!
//! Run: `cargo bench --bench audit_write -- [--dir DIR] [--events N] [--n K]`. The database
//! (10,000 accounts, N audit events, default 1,000,000, seed 1) is generated once into
//! `DIR/audit-write-N.sqlite` (default DIR: `target/bench-data`) and reused; each run appends
//! about 4·K events to it. Samples alternate (an event, then a bare write + fdatasync) so that a
//! change in the machine's load hits both alike. Prints p50 / p99, the ratio, the WAL frames one
//! event writes, and where the time of one event goes.

#[path = "support/mod.rs"]
mod support;
use support::{machine, percentile};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support_desk::desk::audit::{self, EventKind, NewEvent};
use support_desk::desk::store::OpenMode;
use support_desk::desk::{AccountId, Desk, Session, SignIn};

fn arg(name: &str) -> Option<String> {
    std::env::args().skip_while(|a| a != name).nth(1)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(name: &str, mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    let p50 = ms(percentile(&samples, 0.5));
    println!(
        "{name:<56} n={:<4} p50={p50:>7.3} ms  p99={:>7.3} ms  max={:>7.3} ms",
        samples.len(),
        ms(percentile(&samples, 0.99)),
        ms(*samples.last().unwrap_or(&Duration::ZERO))
    );
    p50
}

/// The database, generated on first use.
fn database(dir: &Path, events: usize) -> PathBuf {
    let db = dir.join(format!("audit-write-{events}.sqlite"));
    if !db.exists() {
        std::fs::create_dir_all(dir).expect("bench directory");
        println!("generating {} (10,000 accounts, {events} audit events) ...", db.display());
        let t = Instant::now();
        support_desk::desk::generate::generate(&db, 10_000, events, 1, chrono::Utc::now(), |_, _, _| {})
            .expect("generate");
        println!("generated in {:.0} s", t.elapsed().as_secs_f64());
    }
    db
}

/// A bare write of 128 bytes appended to a file in `dir`, then fdatasync: the disk's floor.
struct Probe {
    file: std::fs::File,
    path: PathBuf,
    n: u32,
}

impl Probe {
    fn new(dir: &Path) -> Probe {
        let path = dir.join("audit-write.fsync-probe");
        Probe { file: std::fs::File::create(&path).expect("probe"), path, n: 0 }
    }

    fn sync(&mut self) -> Duration {
        self.n += 1;
        self.file.write_all(&self.n.to_le_bytes().repeat(32)).expect("write");
        let t = Instant::now();
        self.file.sync_data().expect("fdatasync");
        t.elapsed()
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// WAL frames written by `k` runs of `event`, starting from an empty WAL (no checkpoint runs in
/// between: SQLite checkpoints at 1,000 frames).
fn frames_per_event(db: &Path, k: usize, mut event: impl FnMut()) -> f64 {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.busy_timeout(Duration::from_secs(5)).expect("busy");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).expect("checkpoint");
    for _ in 0..k {
        event();
    }
    let frames: i64 = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1)).expect("frames");
    frames as f64 / k as f64
}

/// One event written with the store's own settings, timed in its steps: take the write lock,
/// append (read the head, hash, insert), commit (write the WAL frames, fdatasync).
fn steps(db: &Path, n: usize, rep: &str) {
    let mut conn = rusqlite::Connection::open(db).expect("open");
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;").expect("pragmas");
    let (mut begin, mut append, mut commit) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let t = Instant::now();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).expect("begin");
        begin.push(t.elapsed());
        let t = Instant::now();
        let e = NewEvent { rep: Some(rep.into()), outcome: "ok".into(), ..NewEvent::default() };
        audit::append(&tx, chrono::Utc::now(), EventKind::SignedOut, &e).expect("append");
        append.push(t.elapsed());
        let t = Instant::now();
        tx.commit().expect("commit");
        commit.push(t.elapsed());
    }
    report("  step: BEGIN IMMEDIATE", begin);
    report("  step: append (head, hash, insert)", append);
    report("  step: COMMIT (WAL frames + fdatasync)", commit);
}

fn sign_in(desk: &mut Desk) -> Session {
    match desk.sign_in("rep0004", "synthetic-rep-passphrase").expect("sign in") {
        SignIn::SignedIn(s) => s,
        SignIn::Refused => panic!("generated rep refused"),
    }
}

fn main() {
    let events: usize = arg("--events").and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let n: usize = arg("--n").and_then(|n| n.parse().ok()).unwrap_or(300);
    let dir = arg("--dir").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data"));
    println!("machine: {}; profile: {}", machine(), if cfg!(debug_assertions) { "debug" } else { "release" });
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at start: {}", load.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
    let db = database(&dir, events);
    let mut desk = Desk::open(&db, OpenMode::Existing).expect("open");
    let session = sign_in(&mut desk);
    let account = AccountId::new("SYN-0000042");
    println!("database: {} ({events} generated events)", db.display());

    let mut probe = Probe::new(&dir);
    let (mut sign_outs, mut cards, mut fsyncs) = (Vec::new(), Vec::new(), Vec::new());
    let (mut growing, mut reusing) = (Vec::new(), Vec::new());
    let wal = db.with_extension("sqlite-wal");
    let wal_len = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    for _ in 0..n {
        let before = wal_len();
        let t = Instant::now();
        desk.sign_out(&session, false).expect("audit event");
        let took = t.elapsed();
        sign_outs.push(took);
        // A commit that makes the WAL file longer also syncs its new size (a file-system journal
        // commit); one that writes over a WAL restarted after a checkpoint does not.
        if wal_len() > before { growing.push(took) } else { reusing.push(took) }
        fsyncs.push(probe.sync());
        let t = Instant::now();
        desk.open_card(&session, &account).expect("audit event");
        cards.push(t.elapsed());
        fsyncs.push(probe.sync());
    }
    let out_p50 = report("one durable audit event: signed_out (own transaction)", sign_outs);
    let card_p50 = report("one durable audit event: account_viewed (open a card)", cards);
    let fsync_p50 = report("bare write 128 B + fdatasync, same directory", fsyncs);
    println!("{:<56} {:.2}x", "signed_out p50 / fsync p50", out_p50 / fsync_p50.max(1e-9));
    report("  signed_out while the WAL file grows", growing);
    report("  signed_out over a restarted WAL (steady state)", reusing);
    println!("{:<56} {:.2}x", "account_viewed p50 / fsync p50", card_p50 / fsync_p50.max(1e-9));
    drop(probe);

    let out = frames_per_event(&db, 40, || desk.sign_out(&session, false).expect("event"));
    let card = frames_per_event(&db, 40, || {
        desk.open_card(&session, &account).expect("event");
    });
    println!("WAL frames per event: signed_out {out:.1}, account_viewed {card:.1} (a frame is a page: 4,096 B + 24)");
    steps(&db, n, "rep0004");
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at end: {}", load.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
}
