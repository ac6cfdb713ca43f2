//! Many reps, one host (issue 7): N concurrent OS processes (default 50), each for D seconds
//! (default 60) generating a Support PIN as the holder, checking it (match and rotation), asking
//! for a verdict, and checking a wrong PIN, against one database file. Reports per-operation p50 /
//! p99, errors (must be 0) and whether every audit event is there and the chain verifies.
//!
//! Run: `cargo bench --bench load -- [--db PATH] [--procs N] [--secs D]`. Without `--db` it uses
//! a copy of `target/bench-data/m1.sqlite` (see `benches/lookup.rs`; made there if missing).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support_desk::desk::store::OpenMode;
use support_desk::desk::{AccountId, Desk, PinCheck, Request, SignIn};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// One worker process: prints one line per operation kind with its timings (ms), and its counts.
fn worker(db: &Path, id: usize, secs: u64) {
    let mut desk = Desk::open(db, OpenMode::Existing).expect("open");
    let rep = format!("rep{:04}", 4 + id % 17);
    let session = match desk.sign_in(&rep, "synthetic-rep-passphrase").expect("sign in") {
        SignIn::SignedIn(s) => s,
        SignIn::Refused => panic!("refused"),
    };
    // Each worker works its own accounts (the generated ones after the first 200), so holders'
    // PINs are known to it.
    let account = AccountId::new(format!("SYN-{:07}", 1000 + id));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let (mut gen_t, mut check_t, mut verdict_t, mut wrong_t) = (vec![], vec![], vec![], vec![]);
    let mut errors = 0;
    let mut events = 1; // the sign-in
    while Instant::now() < deadline {
        let t = Instant::now();
        let pin = match desk.generate_pin(&account) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("generate: {e}");
                errors += 1;
                continue;
            }
        };
        gen_t.push(t.elapsed().as_secs_f64() * 1000.0);
        events += 2;
        let t = Instant::now();
        match desk.check_pin(&session, &account, &pin) {
            Ok(PinCheck::Matched) => {}
            other => {
                eprintln!("check: {other:?}");
                errors += 1;
            }
        }
        check_t.push(t.elapsed().as_secs_f64() * 1000.0);
        events += 1;
        let t = Instant::now();
        if let Err(e) = desk.decide(&session, &account, &Request::OwnAccount) {
            eprintln!("verdict: {e}");
            errors += 1;
        }
        verdict_t.push(t.elapsed().as_secs_f64() * 1000.0);
        events += 1;
        let t = Instant::now();
        let wrong = support_desk::desk::Pin::from_number(((pin.reveal_to_holder().parse::<u16>().unwrap_or(0)) + 1) % 10_000);
        match desk.check_pin(&session, &account, &wrong) {
            Ok(_) => {}
            Err(e) => {
                eprintln!("wrong check: {e}");
                errors += 1;
            }
        }
        wrong_t.push(t.elapsed().as_secs_f64() * 1000.0);
        events += 1;
    }
    let join = |v: &[f64]| v.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(",");
    println!("GEN {}", join(&gen_t));
    println!("CHECK {}", join(&check_t));
    println!("VERDICT {}", join(&verdict_t));
    println!("WRONG {}", join(&wrong_t));
    println!("COUNTS errors={errors} events={events}");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let secs: u64 = arg(&args, "--secs").and_then(|s| s.parse().ok()).unwrap_or(60);
    if let Some(id) = arg(&args, "--worker") {
        let db = PathBuf::from(arg(&args, "--db").expect("--db"));
        worker(&db, id.parse().expect("id"), secs);
        return;
    }
    let procs: usize = arg(&args, "--procs").and_then(|s| s.parse().ok()).unwrap_or(50);
    let source = arg(&args, "--db").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/m1.sqlite")
    });
    assert!(source.exists(), "{} is missing: run `cargo bench --bench lookup` first (it generates it)", source.display());
    let dir = tempfile::tempdir_in(source.parent().expect("dir")).expect("tempdir");
    let db = dir.path().join("load.sqlite");
    // A consistent copy of the source (it may be open elsewhere), with its key.
    let conn = rusqlite::Connection::open(&source).expect("open source");
    conn.execute("VACUUM INTO ?1", [db.to_string_lossy()]).expect("copy");
    drop(conn);
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    std::fs::copy(format!("{}.key", source.display()), format!("{}.key", db.display())).expect("key");
    let before: i64 = rusqlite::Connection::open(&db).expect("open").query_row("SELECT count(*) FROM audit_events", [], |r| r.get(0)).expect("count");
    println!("{procs} processes x {secs} s against {}", db.display());
    let me = std::env::current_exe().expect("exe");
    let children: Vec<_> = (0..procs)
        .map(|i| {
            Command::new(&me)
                .args(["--worker", &i.to_string(), "--db"])
                .arg(&db)
                .args(["--secs", &secs.to_string()])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let mut series: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    let (mut errors, mut events) = (0i64, 0i64);
    for child in children {
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !stderr.trim().is_empty() {
            eprintln!("{stderr}");
        }
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let (name, rest) = line.split_once(' ').unwrap_or((line, ""));
            if name == "COUNTS" {
                for kv in rest.split_whitespace() {
                    let (k, v) = kv.split_once('=').unwrap_or(("", "0"));
                    let v: i64 = v.parse().unwrap_or(0);
                    if k == "errors" { errors += v } else if k == "events" { events += v }
                }
            } else {
                series.entry(name.to_string()).or_default().extend(rest.split(',').filter_map(|x| x.parse::<f64>().ok()));
            }
        }
    }
    for (name, mut v) in series {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        let label = match name.as_str() {
            "GEN" => "holder generates a PIN (hash + audit x2)",
            "CHECK" => "PIN check, matched (verify + rotate + audit)",
            "VERDICT" => "verdict (decide + audit)",
            "WRONG" => "PIN check, did not match (verify + audit)",
            _ => "?",
        };
        println!("{label:<48} n={:<6} p50={:>8.2} ms  p99={:>8.2} ms", v.len(), percentile(&v, 0.5), percentile(&v, 0.99));
    }
    let after: i64 = rusqlite::Connection::open(&db).expect("open").query_row("SELECT count(*) FROM audit_events", [], |r| r.get(0)).expect("count");
    let desk = Desk::open(&db, OpenMode::Existing).expect("open");
    let chain = desk.verify_chain().expect("verify");
    println!("errors: {errors}; audit events expected {events}, written {}; chain: {chain:?}", after - before);
}
