//! The case screens driven by key events and drawn into ratatui's TestBackend: starting a case from
//! the caller card, the case view and its timeline, approvals both ways, the queue.

mod tui_support;

use support_desk::tui::keymap::{Key, ScreenId};
use support_desk::tui::theme::Theme;
use tui_support::Harness;

const COLOR: Theme = Theme { color: true };

/// Signs in as rita, opens `query`'s card and starts a case on behalf of `target` (or for the
/// caller's own account when `None`).
fn start_case(h: &mut Harness, query: &str, target: Option<&str>) {
    h.open_caller(query);
    h.press(Key::Char('c'));
    assert_eq!(h.app.view(), ScreenId::NewCase, "{}", h.screen());
    match target {
        Some(t) => {
            h.press(Key::Char('o'));
            assert_eq!(h.app.view(), ScreenId::TargetLookup);
            h.type_text(t);
            h.press(Key::Enter);
        }
        None => h.press(Key::Char('a')),
    }
    assert_eq!(h.app.view(), ScreenId::Case, "{}", h.screen());
}

fn pin(h: &mut Harness, key: char, digits: &str) {
    h.press(Key::Char(key));
    assert_eq!(h.app.view(), ScreenId::PinEntry, "{}", h.screen());
    h.type_text(digits);
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Case, "{}", h.screen());
}

#[test]
fn a_case_reply_approval_from_the_caller_card_to_close() {
    let mut h = Harness::new(100, 32, COLOR);
    h.sign_in("rita", "rita-demo-pass");
    let start = h.head_seq();
    h.type_text("carla");
    h.press(Key::Enter);
    let card = h.screen();
    assert!(card.contains("c open case"), "the card offers a case: {card}");
    h.press(Key::Char('c'));
    // Tab picks the channel.
    h.press(Key::Tab);
    assert!(h.screen().contains("[ email ]"), "{}", h.screen());
    h.press(Key::Char('o'));
    h.type_text("okafor");
    h.press(Key::Enter);
    let s = h.screen();
    assert!(s.contains("Case #1") && s.contains("on behalf of Dr. Ada Okafor (P-1001)"), "{s}");
    assert!(s.contains("not yet: check the caller's Support PIN (p)"), "{s}");
    assert!(s.contains("Dr. Ada Okafor (P-1001) must approve"), "{s}");
    assert!(s.contains("ada.okafor@harbor.example"), "the way to approve: {s}");
    for hint in ["p caller's PIN", "v verdict", "r reply approval", "i provider calls in", "m note", "x close"] {
        assert!(s.contains(hint), "footer lacks {hint}: {s}");
    }

    pin(&mut h, 'p', "3356");
    assert!(h.screen().contains("✔ Support PIN matched in this case"), "{}", h.screen());
    h.press(Key::Char('v'));
    assert_eq!(h.app.view(), ScreenId::Verdict);
    assert!(h.screen().contains("PROVIDER APPROVAL NEEDED"), "{}", h.screen());
    h.press(Key::Esc);
    assert_eq!(h.app.view(), ScreenId::Case, "Esc on a case verdict goes back to the case");
    assert!(h.screen().contains("awaiting approval"), "{}", h.screen());

    // A reply from the wrong address is refused on the form, with the reason.
    h.press(Key::Char('r'));
    assert_eq!(h.app.view(), ScreenId::CaseReply);
    h.type_text("<r1@mail.example>");
    h.press(Key::Enter);
    h.type_text("ada@gmail.example");
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::CaseReply, "{}", h.screen());
    assert!(h.screen().contains("Not approved"), "{}", h.screen());
    for _ in 0.."ada@gmail.example".len() {
        h.press(Key::Backspace);
    }
    h.type_text("Ada.Okafor@harbor.example");
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Case, "{}", h.screen());
    assert!(h.screen().contains("Approval by Dr. Ada Okafor recorded"), "{}", h.screen());

    h.press(Key::Char('v'));
    let v = h.screen();
    assert!(v.contains("✔  SUPPORT CAN ASSIST"), "{v}");
    assert!(v.contains("by Dr. Ada Okafor (P-1001) by reply on the case"), "the verdict cites the approval: {v}");
    assert!(v.contains("<r1@mail.example>") && v.contains("recorded") && v.contains("rita"), "who, how, when: {v}");
    h.press(Key::Esc);

    h.press(Key::Char('m'));
    assert_eq!(h.app.view(), ScreenId::CaseNote);
    h.type_text("Changed the fax number as asked?");
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Case, "? is text in the note, not help: {}", h.screen());
    h.press(Key::Char('x'));
    assert_eq!(h.app.view(), ScreenId::CaseClose);
    h.press(Key::Char('a'));
    let s = h.screen();
    assert!(s.contains("Case #1 closed: assisted"), "{s}");
    assert!(s.contains("closed: assisted"), "{s}");

    let kinds: Vec<String> = h.events_after(start).into_iter().map(|e| e.0).collect();
    assert_eq!(kinds, [
        "account_viewed",
        "case_opened",
        "pin_validated",
        "case_updated",
        "verdict_shown",
        "approval_recorded",
        "approval_recorded",
        "case_updated",
        "verdict_shown",
        "case_updated",
        "case_closed",
    ]);
    // The timeline on screen lists the case's events with rep and time.
    let s = h.screen();
    assert!(s.contains("Timeline (10 events)"), "{s}");
    assert!(s.contains("case_closed") && s.contains("rita"), "{s}");
}

#[test]
fn the_provider_calling_in_approves_with_their_own_pin() {
    let mut h = Harness::new(100, 32, COLOR);
    start_case(&mut h, "carla", Some("dev patel")); // approver: Dr. Ben Lindqvist
    assert!(h.screen().contains("Dr. Ben Lindqvist (P-1002) must approve"), "{}", h.screen());
    pin(&mut h, 'p', "3356");
    h.press(Key::Char('i'));
    assert!(h.screen().contains("Dr. Ben Lindqvist (approving provider, case #1)"), "{}", h.screen());
    h.type_text("9082");
    assert!(!h.screen().contains("9082"), "the PIN is never drawn");
    h.press_only(Key::Enter);
    assert!(h.screen().contains("checking..."), "{}", h.screen());
    h.app.run_pending();
    h.draw();
    let s = h.screen();
    assert!(s.contains("approval by Dr. Ben Lindqvist recorded"), "{s}");
    assert!(s.contains("✔ Dr. Ben Lindqvist by calling in with their own Support PIN"), "{s}");
    h.press(Key::Char('v'));
    assert!(h.screen().contains("✔  SUPPORT CAN ASSIST"), "{}", h.screen());
}

#[test]
fn three_failed_checks_end_the_cases_verification_on_screen() {
    let mut h = Harness::new(100, 30, COLOR);
    start_case(&mut h, "zoe", None);
    for n in 1..=3 {
        pin(&mut h, 'p', "1111");
        assert!(h.screen().contains(&format!("({n} of 3 failed checks in this case")), "{}", h.screen());
    }
    pin(&mut h, 'p', "2604");
    let s = h.screen();
    assert!(s.contains("Not checked: verification ended for this case"), "{s}");
    assert!(s.contains("ended after 3 failed checks in this case"), "{s}");
    h.press(Key::Char('v'));
    assert!(h.screen().contains("VERIFY THE SUPPORT PIN FIRST"), "{}", h.screen());
}

#[test]
fn the_queue_lists_filters_and_opens_cases() {
    let mut h = Harness::new(100, 30, COLOR);
    start_case(&mut h, "carla", Some("okafor"));
    h.press(Key::Char('w'));
    assert!(h.screen().contains("awaiting the provider's approval"), "{}", h.screen());
    h.press(Key::Esc);
    assert_eq!(h.app.view(), ScreenId::Card, "a case started from the card goes back to it");
    h.press(Key::Char('c'));
    h.press(Key::Char('a'));
    h.press(Key::Char('x'));
    h.press(Key::Char('b'));
    h.press(Key::Esc);
    h.press(Key::Esc);
    assert_eq!(h.app.view(), ScreenId::Lookup);

    h.press(Key::Ctrl('k'));
    assert_eq!(h.app.view(), ScreenId::Cases);
    let s = h.screen();
    assert!(s.contains("My open cases (1)") && s.contains("All awaiting approval (1)") && s.contains("Recently closed (1)"), "{s}");
    let row = s.lines().find(|l| l.contains("#1")).unwrap_or_else(|| panic!("no case #1: {s}"));
    assert!(row.contains("awaiting approval") && row.contains("0m") && row.contains("Carla Mendes"), "{row}");
    // Filter as you type.
    h.type_text("zzz");
    assert!(h.screen().contains("No case in “My open cases” matches “zzz”"), "{}", h.screen());
    for _ in 0..3 {
        h.press(Key::Backspace);
    }
    h.paste("okafor");
    assert!(h.screen().contains("#1"), "{}", h.screen());
    h.press(Key::Tab);
    h.press(Key::Tab);
    assert!(!h.screen().contains("#2"), "the closed case is own-account, not Okafor: {}", h.screen());
    for _ in 0..6 {
        h.press(Key::Backspace);
    }
    let s = h.screen();
    let row = s.lines().find(|l| l.contains("#2")).unwrap_or_else(|| panic!("no case #2: {s}"));
    assert!(row.contains("closed: abandoned"), "{row}");
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Case);
    assert!(h.screen().contains("Case #2"), "{}", h.screen());
    h.press(Key::Char('m'));
    assert!(h.screen().contains("This case is closed"), "{}", h.screen());
    h.press(Key::Esc);
    assert_eq!(h.app.view(), ScreenId::Cases, "a case opened from the queue goes back to it");
    h.press(Key::Char('?'));
    assert!(h.screen().contains("Next list: my open cases"), "help lists the queue keys: {}", h.screen());
}

#[test]
fn case_screens_fit_80_by_24() {
    let mut h = Harness::new(80, 24, COLOR);
    start_case(&mut h, "carla", Some("okafor"));
    pin(&mut h, 'p', "3356");
    let s = h.screen();
    assert!(s.contains("Case #1") && s.contains("Timeline"), "{s}");
    assert!(s.lines().last().is_some_and(|l| l.contains("Ctrl-C quit")), "the footer is drawn: {s}");
}

/// Opens a case for `query`'s caller from the search screen and comes back to it: `a` own account,
/// `o` on behalf of `target`.
fn case_from_search(h: &mut Harness, query: &str, target: Option<&str>) {
    h.press(Key::Esc);
    h.type_text(query);
    h.press(Key::Enter);
    h.press(Key::Char('c'));
    match target {
        Some(t) => {
            h.press(Key::Char('o'));
            h.type_text(t);
            h.press(Key::Enter);
        }
        None => h.press(Key::Char('a')),
    }
    assert_eq!(h.app.view(), ScreenId::Case, "{}", h.screen());
    h.press(Key::Esc);
    h.press(Key::Esc);
    assert_eq!(h.app.view(), ScreenId::Lookup, "{}", h.screen());
}

#[test]
fn the_caller_card_lists_recent_cases_and_enter_opens_one() {
    let mut h = Harness::new(80, 24, COLOR);
    h.sign_in("rita", "rita-demo-pass");
    h.type_text("zoe");
    h.press(Key::Enter);
    assert!(h.screen().contains("Recent cases: none for this account."), "{}", h.screen());
    h.press(Key::Esc);
    case_from_search(&mut h, "carla", None); // #1
    case_from_search(&mut h, "carla", Some("okafor")); // #2
    case_from_search(&mut h, "dev patel", Some("carla")); // #3: about Carla, asked by Dev
    case_from_search(&mut h, "zoe", None); // #4: not Carla's

    h.press(Key::Esc);
    h.type_text("carla");
    h.press(Key::Enter);
    let s = h.screen();
    let line = |id: &str| s.lines().find(|l| l.contains(&format!("│ {id} "))).map(str::to_string);
    let first = line("#3").unwrap_or_else(|| panic!("#3 on the card: {s}"));
    assert!(first.contains("open") && first.contains("for this account, asked by Dev Patel (S-2002)") && first.contains("0m"), "{first}");
    let second = line("#2").unwrap_or_else(|| panic!("#2 on the card: {s}"));
    assert!(second.contains("on behalf of Dr. Ada Okafor (P-1001)"), "{second}");
    let third = line("#1").unwrap_or_else(|| panic!("#1 on the card: {s}"));
    assert!(third.contains("own account"), "{third}");
    assert!(line("#4").is_none(), "Zoë's case is not Carla's: {s}");
    assert!(s.contains("Recent cases (↑/↓ choose, Enter opens)"), "{s}");
    assert!(s.contains("Primary provider") && s.contains("set, not locked"), "the card is still whole at 80x24: {s}");
    assert!(s.lines().last().is_some_and(|l| l.contains("Ctrl-C quit")), "the footer is drawn: {s}");
    // The newest is chosen first, drawn as the selection.
    let y = s.lines().position(|l| l.contains("│ #3 ")).expect("row") as u16;
    assert_eq!(h.term.backend().buffer()[(3, y)].bg, ratatui::style::Color::Blue, "{s}");

    h.press(Key::Char('?'));
    assert!(h.screen().contains("Choose one of the account's recent cases"), "help lists the keys: {}", h.screen());
    h.press(Key::Esc);

    let start = h.head_seq();
    h.press(Key::Down);
    h.press(Key::Down);
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Case, "{}", h.screen());
    assert!(h.screen().contains("Case #1") && h.screen().contains("own account"), "{}", h.screen());
    assert_eq!(h.head_seq(), start, "opening a case to look at it records nothing");
    // Worked from the card: closed, then Esc is back on the card, which shows it closed.
    h.press(Key::Char('x'));
    h.press(Key::Char('b'));
    h.press(Key::Esc);
    assert_eq!(h.app.view(), ScreenId::Card, "{}", h.screen());
    let s = h.screen();
    assert!(s.contains("Carla Mendes"), "{s}");
    let row = s.lines().find(|l| l.contains("│ #1 ")).unwrap_or_else(|| panic!("#1 on the card: {s}"));
    assert!(row.contains("closed: abandoned"), "{row}");
    let y = s.lines().position(|l| l.contains("│ #1 ")).expect("row") as u16;
    assert_eq!(h.term.backend().buffer()[(3, y)].bg, ratatui::style::Color::Blue, "the same case stays chosen: {s}");

    // Smaller windows never panic (the card's lesser rows give way before the list).
    for (w, hgt) in [(60, 16), (61, 17), (80, 18), (1, 1)] {
        h.term.backend_mut().resize(w, hgt);
        h.term.resize(ratatui::layout::Rect::new(0, 0, w, hgt)).expect("resize");
        h.draw();
    }
}

#[test]
fn an_unlock_case_is_worked_by_u_with_a_note_and_no_pin() {
    let mut h = Harness::new(100, 32, COLOR);
    h.open_caller("farid");
    assert!(h.screen().contains("locked"), "Farid's account is locked: {}", h.screen());
    h.press(Key::Char('c'));
    h.press(Key::Char('u'));
    assert_eq!(h.app.view(), ScreenId::Case, "{}", h.screen());
    let s = h.screen();
    assert!(s.contains("not needed for an unlock: note how the caller was identified, then unlock (u)"), "{s}");
    assert!(s.contains("Next: u to note how the caller was identified and unlock"), "{s}");
    // `v` says how an unlock case is decided instead of a verdict that unlocks nothing.
    h.press(Key::Char('v'));
    assert!(h.screen().contains("decided by the unlock itself"), "{}", h.screen());
    let start = h.head_seq();
    h.press(Key::Char('u'));
    assert_eq!(h.app.view(), ScreenId::Unlock, "{}", h.screen());
    h.type_text("called back on the number of record");
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Verdict, "{}", h.screen());
    let s = h.screen();
    assert!(s.contains("SUPPORT CAN ASSIST") && s.contains("Unlocked. The caller can sign in again."), "{s}");
    let events = h.events_after(start);
    let kinds: Vec<(&str, &str)> = events.iter().map(|e| (e.0.as_str(), e.2.as_str())).collect();
    assert_eq!(kinds, [("verdict_shown", "assist"), ("account_unlocked", "ok")], "{events:?}");
    h.press(Key::Esc);
    assert_eq!(h.app.view(), ScreenId::Case, "{}", h.screen());
    assert!(h.screen().contains("account_unlocked   identified by: called back"), "the timeline shows the unlock: {}", h.screen());
    // Back on the caller's card, the account shows as it is now: not locked.
    h.press(Key::Esc);
    assert_eq!(h.app.view(), ScreenId::Card, "{}", h.screen());
    let card = h.screen();
    let lock_row = card.lines().find(|l| l.starts_with("│ Account  ")).unwrap_or_default().to_string();
    assert!(lock_row.contains("active, not locked"), "{card}");
}

#[test]
fn n_on_a_case_ends_the_call_like_everywhere_else_and_never_starts_a_note() {
    let mut h = Harness::new(100, 32, COLOR);
    start_case(&mut h, "carla", None);
    let before = h.head_seq();
    h.press(Key::Char('n'));
    assert_eq!(h.app.view(), ScreenId::Lookup, "{}", h.screen());
    // What would have been a note is a search now, and nothing was written but the call's end.
    h.type_text("dev");
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Card);
    let kinds: Vec<String> = h.events_after(before).into_iter().map(|e| e.0).collect();
    assert_eq!(kinds, ["call_ended", "account_viewed"]);
}

#[test]
fn an_approval_that_ran_out_shows_so_before_any_verdict_records_it() {
    let mut h = Harness::new(100, 32, COLOR);
    start_case(&mut h, "carla", Some("okafor"));
    h.press(Key::Char('r'));
    h.type_text("<r1@mail.example>");
    h.press(Key::Enter);
    h.type_text("ada.okafor@harbor.example");
    h.press(Key::Enter);
    assert!(h.screen().contains("✔ Dr. Ada Okafor by reply on the case, until"), "{}", h.screen());
    // Its end passes (as a day going by would): the case read again says so at once.
    rusqlite::Connection::open(h.db())
        .expect("open")
        .execute("UPDATE approvals SET expires_at = '2000-01-01T00:00:00.000Z'", [])
        .expect("age the approval");
    h.press(Key::Esc);
    assert_eq!(h.app.view(), ScreenId::Card, "{}", h.screen());
    h.press(Key::Enter);
    let s = h.screen();
    assert_eq!(h.app.view(), ScreenId::Case, "{s}");
    assert!(s.contains("✖ Dr. Ada Okafor's approval ran out at 2000-01-01 00:00"), "{s}");
}

#[test]
fn after_three_failed_checks_of_the_approvers_pin_the_case_offers_only_the_reply() {
    let mut h = Harness::new(100, 32, COLOR);
    start_case(&mut h, "carla", Some("okafor"));
    for _ in 0..3 {
        pin(&mut h, 'i', "0000");
    }
    let s = h.screen();
    assert!(s.contains("i: closed after 3 failed PINs"), "{s}");
    let before = h.head_seq();
    h.press(Key::Char('i'));
    assert_eq!(h.app.view(), ScreenId::Case, "no PIN entry opens: {}", h.screen());
    assert!(h.screen().replace("\n ", " ").contains("can approve only by replying on it"), "{}", h.screen());
    assert_eq!(h.head_seq(), before, "nothing checked, nothing recorded");
}

#[test]
fn closing_as_a_duplicate_asks_which_case() {
    let mut h = Harness::new(100, 32, COLOR);
    start_case(&mut h, "carla", None);
    h.press(Key::Esc);
    h.press(Key::Char('c'));
    h.press(Key::Char('a'));
    assert!(h.screen().contains("Case #2"), "{}", h.screen());
    h.press(Key::Char('x'));
    h.press(Key::Char('d'));
    assert_eq!(h.app.view(), ScreenId::CaseClose);
    // "#9" pasted: no such case; the picker stays to type another.
    h.paste("#9");
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::CaseClose, "{}", h.screen());
    assert!(h.screen().contains("case 9"), "{}", h.screen());
    h.press(Key::Backspace);
    h.type_text("1");
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Case, "{}", h.screen());
    assert!(h.screen().contains("Case #2 closed: duplicate of case #1."), "{}", h.screen());
}
