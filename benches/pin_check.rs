//! Times one Support PIN check end to end (argon2id verify at our parameters, rotation to a new
//! keyed hash, and the audit write, all through `Desk::check_pin` on a real database file).
//! Run with `cargo bench --bench pin_check`. Prints p50 / p99 and the machine.

#[path = "support/mod.rs"]
mod support;
use support::{machine, percentile};

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support_desk::desk::example::DirectoryRow;
use support_desk::desk::pin_hash::{M_COST, P_COST, T_COST};
use support_desk::desk::pin_key::PinKey;
use support_desk::desk::store::OpenMode;
use support_desk::desk::{AccountId, Desk, NewRep, Pin, PinCheck, RepRole, Role, SignIn};


fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<40} n={:<4} p50={:>7.2} ms  p99={:>7.2} ms  max={:>7.2} ms",
        samples.len(),
        ms(percentile(&samples, 0.5)),
        ms(percentile(&samples, 0.99)),
        ms(*samples.last().unwrap_or(&Duration::ZERO)),
    );
}


fn main() {
    let iterations: usize = std::env::args().skip_while(|a| a != "--n").nth(1).and_then(|n| n.parse().ok()).unwrap_or(200);
    println!("machine: {}", machine());
    println!("argon2id m={M_COST} KiB, t={T_COST}, p={P_COST}; profile: {}", if cfg!(debug_assertions) { "debug" } else { "release" });
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("bench.sqlite");
    // After a match the next PIN is the old one plus one, so the bench always knows it.
    let next = Arc::new(AtomicU16::new(0));
    let source = Arc::clone(&next);
    let mut desk = Desk::open_with_key(&db, OpenMode::Create, PinKey::from_bytes([9u8; 32]))
        .expect("open")
        .with_pin_source(Box::new(move |avoid: Option<&Pin>| {
            let n = match avoid {
                Some(p) => (p.reveal_to_holder().parse::<u16>().unwrap_or(0) + 1) % 10_000,
                None => source.fetch_add(1, Ordering::Relaxed) % 10_000,
            };
            Pin::from_number(n)
        }));
    desk.put_account(&DirectoryRow {
        id: "P-1".into(),
        role: Role::Provider,
        name: "Bench Provider".into(),
        email: "p@bench.example".into(),
        phone: "+1 555 0100".into(),
        practice: "Bench Practice".into(),
        primary_provider: None,
        pin_hash: None,
        account_locked: false,
    })
    .expect("account");
    desk.add_rep(&NewRep { username: "bench", display_name: "Bench Rep", role: RepRole::Rep, passphrase: "bench-passphrase", account_id: None }, None)
        .expect("rep");
    let t = Instant::now();
    let session = match desk.sign_in("bench", "bench-passphrase").expect("sign in") {
        SignIn::SignedIn(s) => s,
        SignIn::Refused => panic!("bench rep refused"),
    };
    println!("{:<40} {:.2} ms", "sign-in (first argon2 of the process)", t.elapsed().as_secs_f64() * 1000.0);
    let id = AccountId::new("P-1");
    let mut pin = desk.generate_pin(&id).expect("pin");

    let mut matched = Vec::with_capacity(iterations);
    let mut rejected = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        let r = desk.check_pin(&session, &id, &pin).expect("check");
        matched.push(t.elapsed());
        assert_eq!(r, PinCheck::Matched);
        pin = Pin::from_number((pin.reveal_to_holder().parse::<u16>().unwrap_or(0) + 1) % 10_000);
        // One wrong PIN between matches (a match resets the count, so it never locks).
        {
            let wrong = Pin::from_number((pin.reveal_to_holder().parse::<u16>().unwrap_or(0) + 5000) % 10_000);
            let t = Instant::now();
            let r = desk.check_pin(&session, &id, &wrong).expect("check");
            rejected.push(t.elapsed());
            assert!(matches!(r, PinCheck::Rejected { .. }));
        }
    }
    report("PIN check, matched (verify+rotate+audit)", matched);
    report("PIN check, did not match (verify+audit)", rejected);
}
