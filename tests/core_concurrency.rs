//! Several desks (one per rep terminal) checking Support PINs on one database file at once: no
//! error, no lost or duplicated audit event, an intact chain, and a lockout counted exactly once
//! across all of them.

mod common;

use common::*;
use std::collections::HashMap;
use std::thread;
use support_desk::desk::audit::ChainStatus;
use support_desk::desk::store::OpenMode;
use support_desk::desk::PinCheck;

const THREADS: usize = 4;
const CHECKS: usize = 25;

#[test]
fn four_desks_checking_pins_at_once_lose_nothing() {
    let mut f = Fixture::new();
    // One more account, whose PIN every desk gets wrong.
    let mut shared = demo_directory().into_iter().find(|a| a.row.id == "S-2004").expect("row").row;
    shared.id = "S-2999".into();
    shared.email = "shared@northside.example".into();
    shared.pin_hash = Some(unkeyed_hash("4242"));
    f.desk.put_account(&shared).expect("put");
    let sessions = [f.rita(), f.leo()];
    let start = f.head_seq();

    // Each desk matches its own caller over and over (following the rotation) and gets another
    // caller's PIN wrong until and after it locks; the first few wrong PINs go to the shared one.
    let pins: HashMap<String, String> = demo_directory().into_iter().map(|a| (a.row.id, a.pin)).collect();
    let plan = [("P-1001", "S-2005"), ("P-1002", "P-1003"), ("S-2001", "S-2003"), ("S-2002", "S-2004")];
    let handles: Vec<_> = plan
        .iter()
        .enumerate()
        .map(|(i, (mine, wrong))| {
            let path = f.path.clone();
            let clock = f.clock.clone();
            let session = sessions[i % 2].clone();
            let (mine, wrong) = (mine.to_string(), wrong.to_string());
            let mut current = pins[&mine].clone();
            let wrong_pin = next_pin(&next_pin(&pins[&wrong]));
            thread::spawn(move || {
                let mut desk = open(&path, OpenMode::Existing, &clock);
                let mut answers: Vec<(String, PinCheck)> = Vec::new();
                for k in 0..CHECKS {
                    let (account, digits) = if k % 2 == 0 {
                        (mine.clone(), current.clone())
                    } else if k < 6 {
                        ("S-2999".to_string(), "4243".to_string())
                    } else {
                        (wrong.clone(), wrong_pin.clone())
                    };
                    let answer = desk
                        .check_pin(&session, &id(&account), &pin(&digits))
                        .unwrap_or_else(|e| panic!("desk {i}, check {k}: {e}"));
                    if answer == PinCheck::Matched {
                        current = next_pin(&current);
                    }
                    answers.push((account, answer));
                }
                answers
            })
        })
        .collect();
    let answers: Vec<Vec<(String, PinCheck)>> =
        handles.into_iter().map(|h| h.join().expect("a desk thread panicked")).collect();

    let mut shared_answers = Vec::new();
    for (i, desk_answers) in answers.iter().enumerate() {
        let (mine, wrong) = plan[i];
        let of = |account: &str| -> Vec<PinCheck> {
            desk_answers.iter().filter(|(a, _)| a == account).map(|(_, c)| *c).collect()
        };
        assert_eq!(of(mine), vec![PinCheck::Matched; 13], "desk {i}: every match of its own caller");
        assert_eq!(of(wrong), [
            PinCheck::Rejected { attempts_left: 4 },
            PinCheck::Rejected { attempts_left: 3 },
            PinCheck::Rejected { attempts_left: 2 },
            PinCheck::Rejected { attempts_left: 1 },
            PinCheck::Locked,
            PinCheck::Locked,
            PinCheck::Locked,
            PinCheck::Locked,
            PinCheck::Locked,
        ]);
        shared_answers.extend(of("S-2999"));
    }
    // Twelve wrong PINs from four desks: the count is shared, so exactly four were "rejected"
    // (4, 3, 2, 1 attempts left, in whatever order the desks got there) and the rest "locked".
    let mut left: Vec<i64> = shared_answers
        .iter()
        .filter_map(|c| match c {
            PinCheck::Rejected { attempts_left } => Some(*attempts_left),
            _ => None,
        })
        .collect();
    left.sort();
    assert_eq!(left, [1, 2, 3, 4], "{shared_answers:?}");
    assert_eq!(shared_answers.iter().filter(|c| **c == PinCheck::Locked).count(), 8);

    // Every answer has exactly its audit events: a match 1, a rejection 1, the locking failure 2,
    // a refusal while locked 1.
    let events = f.events_after(start);
    let count = |kind: &str| events.iter().filter(|e| e.0 == kind).count();
    assert_eq!(count("pin_validated"), THREADS * 13);
    assert_eq!(count("pin_locked"), THREADS + 1);
    assert_eq!(count("pin_rejected"), THREADS * 12);
    assert_eq!(events.len(), THREADS * CHECKS + THREADS + 1);
    let status = f.desk.verify_chain().expect("verify");
    let ChainStatus::Intact { events: n, head_seq, .. } = status else { panic!("{status:?}") };
    assert_eq!((n, head_seq), (head_seq, start + events.len() as i64), "contiguous sequence numbers");

    // The shared failure count stopped at the threshold; every caller's PIN is now the 14th of
    // its rotation and still matches.
    assert_eq!(f.account_column::<i64>("S-2999", "pin_failures"), 5);
    assert_eq!(f.account_column::<i64>("S-2999", "pin_locked"), 1);
    let rita = sessions[0].clone();
    for (mine, _) in plan {
        let mut digits = pins[mine].clone();
        for _ in 0..13 {
            digits = next_pin(&digits);
        }
        assert_eq!(f.desk.check_pin(&rita, &id(mine), &pin(&digits)).expect("check"), PinCheck::Matched, "{mine}");
    }
}
