//! Clearing a locked Support PIN from the caller card: a lead with a reason (audited), a rep
//! refused.

mod tui_support;

use support_desk::tui::keymap::{Key, ScreenId};
use support_desk::tui::theme::Theme;
use tui_support::Harness;

const PLAIN: Theme = Theme { color: false };

/// Locks Dr. Ben Lindqvist's Support PIN as rita, then signs out.
fn locked_ben() -> Harness {
    let mut h = Harness::new(100, 28, PLAIN);
    h.open_caller("ben lindqvist");
    for _ in 0..5 {
        h.press(Key::Char('p'));
        h.type_text("1111");
        h.press(Key::Enter);
    }
    assert!(h.screen().contains("LOCKED: the holder makes a new PIN, or a lead clears it (l)"), "{}", h.screen());
    h
}

#[test]
fn a_rep_is_refused_on_the_card() {
    let mut h = locked_ben();
    let seq = h.head_seq();
    h.press(Key::Char('l'));
    assert_eq!(h.app.view(), ScreenId::Card);
    assert!(h.screen().contains("Only a lead can clear a Support PIN lock"), "{}", h.screen());
    // Nothing cleared; the attempt itself is in the audit trail, as the CLI's is.
    let events = h.events_after(seq);
    assert_eq!(events, [("pin_lock_cleared".to_string(), Some("P-1002".to_string()), "refused".to_string())]);
    assert!(h.screen().contains("LOCKED"), "still locked: {}", h.screen());
}

#[test]
fn a_lead_clears_the_lock_with_a_reason() {
    let mut h = locked_ben();
    h.press(Key::Esc);
    h.press(Key::Ctrl('o'));
    h.sign_in("leo", "leo-demo-pass");
    h.type_text("ben lindqvist");
    h.press(Key::Enter);
    h.press(Key::Char('l'));
    assert_eq!(h.app.view(), ScreenId::ClearLock);
    h.type_text("short");
    h.press(Key::Enter);
    assert!(h.screen().contains("at least 8 characters"), "{}", h.screen());
    assert_eq!(h.app.view(), ScreenId::ClearLock);
    h.type_text(" - holder identified by call-back");
    let seq = h.head_seq();
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Card);
    let s = h.screen();
    assert!(s.contains("Support PIN lock cleared"), "{s}");
    assert!(s.contains("set, not locked"), "{s}");
    let events = h.events_after(seq);
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].0.as_str(), events[0].1.as_deref(), events[0].2.as_str()), ("pin_lock_cleared", Some("P-1002"), "ok"));
    // Nothing left to clear.
    h.press(Key::Char('l'));
    assert!(h.screen().contains("not locked"), "{}", h.screen());
}

#[test]
fn esc_leaves_the_reason_prompt_without_recording() {
    let mut h = locked_ben();
    h.press(Key::Esc);
    h.press(Key::Ctrl('o'));
    h.sign_in("leo", "leo-demo-pass");
    h.type_text("ben lindqvist");
    h.press(Key::Enter);
    let seq = h.head_seq();
    h.press(Key::Char('l'));
    h.type_text("never mind this one");
    h.press(Key::Esc);
    assert_eq!(h.app.view(), ScreenId::Card);
    assert_eq!(h.head_seq(), seq);
    assert!(h.screen().contains("LOCKED: the holder makes a new PIN, or a lead clears it (l)"), "{}", h.screen());
}
