//! Speed at scale (issue 7): lookup per keystroke against the naive alternatives, one durable
//! audit event against the disk's bare fsync, `lookup` as a whole process against `fzf --filter`,
//! start to first frame and peak memory while browsing.
//!
//! Run: `cargo bench --bench lookup -- [--db PATH]`. Without `--db` it uses
//! `target/bench-data/m1.sqlite`, generating it first (1,000,000 accounts, 10,000,000 audit events,
//! seed 1) with the release binary if it is missing. Prints p50 / p99 and the machine.

#[path = "support/mod.rs"]
mod support;
use support::{machine, percentile};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support_desk::desk::store::OpenMode;
use support_desk::desk::{Desk, SignIn};

/// Queries a rep might type, each timed keystroke by keystroke (every prefix).
const QUERIES: &[&str] = &[
    "okafor", "Ananya Adeyemi", "josé garcía", "zoe", "山田", "محمد", "דנה", "Иван", "Νίκος", "प्रिया",
    "SYN-0000042", "syn-0999999", "user123456@p", "555", "(555) 010", "o'brien", "smith-jones", "nguyễn thảo",
    "harbor family", "dr. ada", "adeyemi ananya", "xq", "zzzzzzzz", "al_", "100%", "\"quoted\"", "a", "ab",
];


fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(name: &str, mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let (p50, p99) = (ms(percentile(&samples, 0.5)), ms(percentile(&samples, 0.99)));
    println!(
        "{name:<52} n={:<5} p50={p50:>9.3} ms  p99={p99:>9.3} ms  max={:>9.3} ms",
        samples.len(),
        ms(*samples.last().unwrap_or(&Duration::ZERO))
    );
    (p50, p99)
}


fn binary() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/support-desk")
}

fn ensure_db(db: &Path) {
    if db.exists() {
        return;
    }
    let status = Command::new("cargo").args(["build", "--release", "--bin", "support-desk"]).status().expect("cargo");
    assert!(status.success());
    std::fs::create_dir_all(db.parent().expect("dir")).expect("mkdir");
    println!("generating {} (1,000,000 accounts, 10,000,000 audit events) ...", db.display());
    let t = Instant::now();
    let status = Command::new(binary())
        .arg("--db")
        .arg(db)
        .args(["generate", "--accounts", "1000000", "--audit-events", "10000000", "--seed", "1"])
        .status()
        .expect("generate");
    assert!(status.success());
    println!("generated in {:.0} s", t.elapsed().as_secs_f64());
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// Child mode: start to first frame, then browse (type, open cards), then report peak memory.
fn browse(db: &Path) {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use support_desk::tui::app::App;
    use support_desk::tui::keymap::Key;
    let t = Instant::now();
    let desk = Desk::open(db, OpenMode::Existing).expect("open");
    let mut app = App::new(desk, support_desk::tui::theme::Theme { color: true });
    let mut term = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
    term.draw(|f| app.render(f)).expect("draw");
    let first_frame = t.elapsed();
    for c in "rep0004".chars() {
        app.handle_key(Key::Char(c));
    }
    app.handle_key(Key::Tab);
    for c in "synthetic-rep-passphrase".chars() {
        app.handle_key(Key::Char(c));
    }
    app.handle_key(Key::Enter);
    for q in QUERIES {
        for c in q.chars() {
            app.handle_key(Key::Char(c));
            term.draw(|f| app.render(f)).expect("draw");
        }
        app.handle_key(Key::Enter);
        term.draw(|f| app.render(f)).expect("draw");
        app.handle_key(Key::Esc);
        app.handle_key(Key::Esc);
        term.draw(|f| app.render(f)).expect("draw");
    }
    println!("FIRST_FRAME_MS {:.1}", ms(first_frame));
    println!("PEAK_RSS_KIB {}", vm_hwm_kib());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let db = args
        .iter()
        .position(|a| a == "--db")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/m1.sqlite"));
    if args.iter().any(|a| a == "--browse") {
        browse(&db);
        return;
    }
    ensure_db(&db);
    println!("machine: {}; profile: {}", machine(), if cfg!(debug_assertions) { "debug" } else { "release" });
    let desk = Desk::open(&db, OpenMode::Existing).expect("open");
    let accounts: i64 = rusqlite::Connection::open(&db)
        .and_then(|c| c.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0)))
        .expect("count");
    println!("database: {} ({accounts} accounts)", db.display());

    // 1. Lookup as you type: every prefix of every query.
    let mut short = Vec::new();
    let mut long = Vec::new();
    let mut slowest: Vec<(Duration, String)> = Vec::new();
    for _ in 0..3 {
        for q in QUERIES {
            let chars: Vec<char> = q.chars().collect();
            for k in 1..=chars.len() {
                let prefix: String = chars[..k].iter().collect();
                let t = Instant::now();
                let found = desk.lookup(&prefix, 50).expect("lookup");
                let took = t.elapsed();
                std::hint::black_box(found);
                slowest.push((took, prefix.clone()));
                if k <= 2 { short.push(took) } else { long.push(took) }
            }
        }
    }
    let mut all = short.clone();
    all.extend(long.iter().copied());
    report("lookup per keystroke, all", all);
    report("lookup per keystroke, 1-2 characters", short);
    report("lookup per keystroke, 3+ characters", long);
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    slowest.dedup_by(|a, b| a.1 == b.1);
    let worst: Vec<String> = slowest.iter().filter(|(_, q)| q.chars().count() > 2).take(6).map(|(d, q)| format!("{q:?} {:.1} ms", ms(*d))).collect();
    println!("{:<52} {}", "slowest 3+ character keystrokes", worst.join(", "));

    // The naive alternatives, same queries, same connection.
    let conn = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
    let mut like = Vec::new();
    let mut ranked = Vec::new();
    for q in ["okafor", "zzzzzzzz", "ana", "山田", "user12345"] {
        let folded = support_desk::desk::text::fold(q);
        for _ in 0..3 {
            let t = Instant::now();
            let n: i64 = conn
                .query_row(
                    "SELECT count(*) FROM (SELECT id FROM accounts WHERE search_text LIKE '%' || ?1 || '%' LIMIT 50)",
                    [&folded],
                    |r| r.get(0),
                )
                .expect("like");
            like.push(t.elapsed());
            std::hint::black_box(n);
            let t = Instant::now();
            let n: i64 = conn
                .query_row(
                    "SELECT count(*) FROM (SELECT rowid FROM account_search WHERE account_search MATCH ?1 ORDER BY rank LIMIT 50)",
                    [format!("\"{folded}\"")],
                    |r| r.get(0),
                )
                .expect("ranked");
            ranked.push(t.elapsed());
            std::hint::black_box(n);
        }
    }
    report("naive: LIKE '%q%' scan (5 queries, incl. a miss)", like);
    report("naive: trigram index ranked by bm25 (same queries)", ranked);
    drop(conn);

    // 2. One durable audit event vs the disk's bare fsync, in the same directory.
    let mut desk = Desk::open(&db, OpenMode::Existing).expect("open");
    let session = match desk.sign_in("rep0004", "synthetic-rep-passphrase").expect("sign in") {
        SignIn::SignedIn(s) => s,
        SignIn::Refused => panic!("generated rep refused"),
    };
    let mut events = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        desk.sign_out(&session, false).expect("audit event");
        events.push(t.elapsed());
    }
    let probe = db.with_extension("fsync-probe");
    let mut file = std::fs::File::create(&probe).expect("probe");
    let mut fsyncs = Vec::new();
    for i in 0..200u32 {
        file.write_all(&i.to_le_bytes().repeat(32)).expect("write");
        let t = Instant::now();
        file.sync_data().expect("fdatasync");
        fsyncs.push(t.elapsed());
    }
    drop(file);
    let _ = std::fs::remove_file(&probe);
    let (event_p50, _) = report("one durable audit event (own transaction, FULL)", events);
    let (fsync_p50, _) = report("bare write + fdatasync, same directory", fsyncs);
    println!("{:<52} {:.2}x", "audit event p50 / fsync p50", event_p50 / fsync_p50.max(1e-9));

    // 3. `lookup` as a whole process, and fzf --filter over the same accounts one per line.
    let mut process = Vec::new();
    for q in ["okafor", "zoe", "SYN-0500000", "山田"] {
        for _ in 0..5 {
            let t = Instant::now();
            let out = Command::new(binary()).arg("--db").arg(&db).args(["lookup", q]).output().expect("lookup");
            process.push(t.elapsed());
            assert!(out.status.success());
        }
    }
    let (lookup_p50, _) = report("support-desk lookup, whole process", process);
    if Command::new("fzf").arg("--version").output().is_ok() {
        let list = db.with_extension("accounts.txt");
        if !list.exists() {
            let conn = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open");
            let mut out = std::io::BufWriter::new(std::fs::File::create(&list).expect("list"));
            let mut stmt = conn
                .prepare("SELECT a.id, a.name, a.email, a.phone, p.name FROM accounts a JOIN practices p ON p.id = a.practice_id")
                .expect("prepare");
            let mut rows = stmt.query([]).expect("rows");
            while let Some(r) = rows.next().expect("row") {
                let cols: Vec<String> = (0..5).map(|i| r.get::<_, String>(i).unwrap_or_default()).collect();
                writeln!(out, "{}", cols.join("  ")).expect("write");
            }
        }
        let mut fzf = Vec::new();
        for q in ["okafor", "zoe", "SYN-0500000", "山田"] {
            for _ in 0..5 {
                let t = Instant::now();
                let out = Command::new("fzf")
                    .args(["--filter", q])
                    .stdin(std::fs::File::open(&list).expect("list"))
                    .output()
                    .expect("fzf");
                fzf.push(t.elapsed());
                std::hint::black_box(out.stdout.len());
            }
        }
        let (fzf_p50, _) = report("fzf --filter over the same accounts, whole process", fzf);
        println!("{:<52} {:.1}x", "fzf p50 / lookup p50", fzf_p50 / lookup_p50.max(1e-9));
    } else {
        println!("fzf not installed: skipped the side-by-side (apt-get install fzf)");
    }

    // 4. Start to first frame and peak memory while browsing, in a fresh process.
    let me = std::env::current_exe().expect("exe");
    let out = Command::new(me).arg("--browse").arg("--db").arg(&db).output().expect("browse");
    print!("{}", String::from_utf8_lossy(&out.stdout).replace("FIRST_FRAME_MS", "start to first frame (open + draw), ms:").replace("PEAK_RSS_KIB", "peak RSS while browsing, KiB:"));
}
