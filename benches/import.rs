//! Times importing a generated directory of 1,000,000 accounts (`import FILE.csv` through
//! `Desk::import_directory` on a real database file): the first import (all added), then the same
//! file again (all unchanged), then a file with every 100th account changed and the last 1% gone.
//! Run with `cargo bench --bench import` (release build). `IMPORT_BENCH_ROWS` changes the size.
//! Prints rows per second for each run and the machine.

#[path = "support/mod.rs"]
mod support;
use support::machine;

use std::io::Write;
use std::path::Path;
use std::time::Instant;
use support_desk::desk::import::{ImportOptions, ImportPhase};
use support_desk::desk::pin_key::PinKey;
use support_desk::desk::store::OpenMode;
use support_desk::desk::Desk;

/// A hash from another argon2 (the cases file): every 50th account carries it, so the import checks
/// hashes as it would in the field.
const FOREIGN: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQwMg$oTeUVV9lPkcN0onU+w5lxA";


/// Writes `rows` accounts: practices of 20, each led by one provider with 19 staff. `variant` 1
/// renames every 100th account and leaves out the last 1%.
fn generate(path: &Path, rows: usize, variant: u8) {
    let file = std::fs::File::create(path).expect("create the CSV");
    let mut out = std::io::BufWriter::new(file);
    out.write_all("\u{feff}account_id,role,name,email,phone,practice,primary_provider,pin_hash\r\n".as_bytes()).expect("write");
    let first_names = ["Ana", "José", "Siobhán", "山田", "Zoë", "Maryam", "Ike", "Dana", "Wei", "Olu"];
    let last_names = ["Okafor", "Mendes", "O'Brien", "Smith-Jones", "花子", "Prueba", "Ångström", "Nguyen"];
    let keep = if variant == 1 { rows - rows / 100 } else { rows };
    for i in 0..keep {
        let practice = i / 20;
        let provider = practice * 20;
        let (role, primary) = if i == provider { ("provider", String::new()) } else { ("staff", format!("A{provider:07}")) };
        let mut name = format!("{} {} {i}", first_names[i % first_names.len()], last_names[i % last_names.len()]);
        if variant == 1 && i % 100 == 7 {
            name.push_str(" (renamed)");
        }
        let hash = if i % 50 == 0 { format!("\"{FOREIGN}\"") } else { String::new() };
        writeln!(
            out,
            "A{i:07},{role},\"{name}\",user{i}@clinic{practice}.example,+1 (555) {:03}-{:04},\"Clinic {practice}, Suite {}\",{primary},{hash}\r",
            i % 1000,
            i % 10_000,
            practice % 7
        )
        .expect("write");
    }
    out.flush().expect("flush");
}

fn main() {
    let rows: usize = std::env::var("IMPORT_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("directory.csv");
    let csv2 = dir.path().join("directory-2.csv");
    let started = Instant::now();
    generate(&csv, rows, 0);
    generate(&csv2, rows, 1);
    let size = std::fs::metadata(&csv).map(|m| m.len()).unwrap_or(0);
    println!("machine: {}", machine());
    println!("generated {rows} rows ({:.1} MB) twice in {:.1} s", size as f64 / 1e6, started.elapsed().as_secs_f64());
    let db = dir.path().join("desk.sqlite");
    let mut desk = Desk::open_with_key(&db, OpenMode::Create, PinKey::generate()).expect("database");
    desk.bind_key().expect("bind the key");
    for (what, file) in [("first import (all added)", &csv), ("same file again (unchanged)", &csv), ("1% renamed, 1% gone", &csv2)] {
        let t = Instant::now();
        // The comparison's last report comes just before the write transaction begins.
        let mut compared = None;
        let report = desk
            .import_directory(file, ImportOptions::default(), &mut |p| {
                if p.phase == ImportPhase::Comparing && p.total_rows == Some(p.rows) {
                    compared = Some(Instant::now());
                }
            })
            .expect("import");
        let secs = t.elapsed().as_secs_f64();
        let locked = compared.map(|c| c.elapsed().as_secs_f64()).unwrap_or(f64::NAN);
        assert!(report.problems.is_empty() && report.written, "{:?}", report.problems.first());
        println!(
            "{what:<30} {rows} rows in {secs:>6.2} s = {:>9.0} rows/s, write lock held {locked:>6.2} s \
             (added {}, updated {}, unchanged {}, removed {})",
            report.rows as f64 / secs,
            report.added,
            report.updated,
            report.unchanged,
            report.removed
        );
    }
    let db_size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    println!("database: {:.1} MB", db_size as f64 / 1e6);
}
