//! Lists that fail to load, on a database damaged under the running app: the screen says the
//! load failed and why, never "no account matches" (or "no cases", "no events"), and the list it
//! showed before goes, so nothing stale can be chosen. Drawn into ratatui's TestBackend.

mod tui_support;

use support_desk::tui::keymap::{Key, ScreenId};
use support_desk::tui::theme::Theme;
use tui_support::Harness;

const COLOR: Theme = Theme { color: true };

/// The screen's words in order, borders dropped and line breaks joined.
fn words(screen: &str) -> String {
    screen.replace(['│', '┌', '┐', '└', '┘', '─'], " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn a_failed_caller_lookup_says_so_and_leaves_nothing_to_choose() {
    let mut h = Harness::new(80, 24, COLOR);
    h.sign_in("rita", "rita-demo-pass");
    h.type_text("harbor");
    assert!(h.screen().contains("Carla Mendes"), "{}", h.screen());
    h.damage(&["accounts"]);
    h.press(Key::Backspace);
    let s = h.screen();
    assert!(words(&s).contains("The lookup failed: the database"), "{s}");
    assert!(s.contains("damaged"), "says why: {s}");
    assert!(!s.contains("No account matches"), "a failure is not 'no such caller': {s}");
    assert!(!s.contains("Carla Mendes") && !s.contains("Harbor Family Medicine"), "the old results are gone: {s}");
    // Typing on still fails the same way (never "No account matches").
    h.type_text("r");
    assert!(!h.screen().contains("No account matches") && h.screen().contains("The lookup failed"), "{}", h.screen());
    let start = h.head_seq();
    h.press(Key::Down);
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Lookup, "nothing stale was opened: {}", h.screen());
    assert_eq!(h.head_seq(), start, "no card was opened");
}

#[test]
fn a_query_with_no_match_then_a_failure_says_only_that_it_failed() {
    let mut h = Harness::new(80, 24, COLOR);
    h.sign_in("rita", "rita-demo-pass");
    h.type_text("zzqx");
    assert!(h.screen().contains("No account matches “zzqx”."), "{}", h.screen());
    h.damage(&["accounts"]);
    h.type_text("y");
    let s = h.screen();
    assert!(!s.contains("No account matches"), "{s}");
    assert!(s.contains("The lookup failed") && s.contains("damaged"), "{s}");
}

#[test]
fn a_failed_target_lookup_says_so_and_gives_no_verdict() {
    let mut h = Harness::new(80, 24, COLOR);
    h.open_caller("carla");
    h.press(Key::Char('o'));
    h.type_text("okafor");
    assert!(h.screen().contains("Dr. Ada Okafor"), "{}", h.screen());
    h.damage(&["accounts"]);
    h.press(Key::Backspace);
    let s = h.screen();
    assert_eq!(h.app.view(), ScreenId::TargetLookup);
    assert!(s.contains("The lookup failed") && s.contains("damaged"), "{s}");
    assert!(!s.contains("No account matches") && !s.contains("Dr. Ada Okafor"), "{s}");
    let start = h.head_seq();
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::TargetLookup, "no verdict on a stale row: {}", h.screen());
    assert_eq!(h.head_seq(), start, "nothing was recorded");
}

#[test]
fn a_lookup_failing_on_the_search_thread_replaces_the_results_too() {
    use support_desk::tui::app::{Found, SearchLink};
    let mut h = Harness::new(80, 24, COLOR);
    h.sign_in("rita", "rita-demo-pass");
    let searcher = support_desk::desk::Searcher::open(&h.db()).expect("searcher");
    let (requests, rx) = std::sync::mpsc::channel();
    h.app.attach_searcher(SearchLink { requests, interrupt: searcher.interrupt_handle(), generation: 0 });
    h.type_text("ca");
    let _ = rx.try_recv().expect("a request for 'c'");
    let asked = rx.try_recv().expect("a request for 'ca'");
    h.app.found(Found { generation: asked.generation, screen: asked.screen, results: Ok(searcher.lookup("ca", 50).expect("lookup")) });
    h.draw();
    assert!(h.screen().contains("Carla Mendes"), "{}", h.screen());
    h.type_text("r");
    let asked = rx.try_recv().expect("a request for 'car'");
    let why = "could not use the database desk.sqlite: the database file is damaged".to_string();
    h.app.found(Found { generation: asked.generation, screen: asked.screen, results: Err(why) });
    h.draw();
    let s = h.screen();
    assert!(words(&s).contains("The lookup failed: could not use the database desk.sqlite: the database file is damaged"), "{s}");
    assert!(!s.contains("Carla Mendes") && !s.contains("No account matches"), "{s}");
}

#[test]
fn the_queue_and_the_card_say_when_their_cases_cannot_be_read_again() {
    let mut h = Harness::new(80, 24, COLOR);
    h.open_caller("carla");
    h.press(Key::Char('c'));
    h.press(Key::Char('a'));
    assert_eq!(h.app.view(), ScreenId::Case, "{}", h.screen());
    h.damage(&["cases"]);
    h.press(Key::Esc);
    assert_eq!(h.app.view(), ScreenId::Card);
    let s = h.screen();
    assert!(words(&s).contains("Recent cases could not be read: the database"), "{s}");
    assert!(!s.contains("none for this account") && !s.contains("│ #1 "), "{s}");
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Card, "no stale case to open: {}", h.screen());
}

#[test]
fn a_queue_that_cannot_be_read_again_drops_its_old_lists() {
    let mut h = Harness::new(80, 24, COLOR);
    h.open_caller("carla");
    h.press(Key::Char('c'));
    h.press(Key::Char('a'));
    h.press(Key::Esc);
    h.press(Key::Esc);
    h.press(Key::Ctrl('k'));
    assert_eq!(h.app.view(), ScreenId::Cases);
    assert!(h.screen().contains("My open cases (1)"), "{}", h.screen());
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Case);
    h.damage(&["cases"]);
    h.press(Key::Esc);
    assert_eq!(h.app.view(), ScreenId::Cases);
    let s = h.screen();
    assert!(words(&s).contains("The case lists could not be read: the database"), "{s}");
    assert!(s.contains("My open cases (?)"), "no count is claimed: {s}");
    assert!(!s.contains("No cases in") && !s.contains("#1 "), "{s}");
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Cases, "no stale case to open: {}", h.screen());
}

#[test]
fn a_review_view_that_cannot_be_loaded_says_so_instead_of_no_events() {
    let mut h = Harness::new(100, 30, COLOR);
    h.sign_in("leo", "leo-demo-pass");
    h.press(Key::Ctrl('r'));
    assert_eq!(h.app.view(), ScreenId::AuditReview);
    assert!(h.screen().contains("signed in"), "{}", h.screen());
    h.damage(&["audit_events"]);
    h.press(Key::Char('f'));
    let s = h.screen();
    assert!(words(&s).contains("This view could not be loaded: the database"), "{s}");
    assert!(!s.contains("No events match") && !s.contains("signed in"), "the old rows are gone: {s}");
    assert!(s.contains("Filters: failures only"), "{s}");
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::AuditReview, "no stale event to open: {}", h.screen());
}
