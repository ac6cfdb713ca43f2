//! Screens driven by key events and drawn into ratatui's TestBackend.

mod tui_support;

use ratatui::style::Color;
use support_desk::tui::keymap::{Key, ScreenId};
use support_desk::tui::theme::Theme;
use tui_support::Harness;

const COLOR: Theme = Theme { color: true };

#[test]
fn sign_in_masks_the_passphrase_and_answers_alike_for_unknown_user_and_wrong_passphrase() {
    let mut h = Harness::new(80, 24, COLOR);
    h.type_text("rita");
    h.press(Key::Tab);
    h.type_text("wrong-pass?word");
    assert!(h.screen().contains("•••••••••••••••"), "{}", h.screen());
    assert!(!h.screen().contains("wrong-pass"), "the passphrase is never drawn");
    h.press(Key::Enter);
    let wrong = h.screen();
    assert!(wrong.contains("Sign-in failed: wrong username or passphrase"), "{wrong}");
    assert_eq!(h.app.view(), ScreenId::SignIn);

    let mut h2 = Harness::new(80, 24, COLOR);
    h2.sign_in("nobody", "whatever-passphrase");
    let unknown = h2.screen();
    let msg = |s: &str| s.lines().find(|l| l.contains("Sign-in failed")).map(str::trim).map(String::from);
    assert_eq!(msg(&wrong), msg(&unknown), "same words for unknown user and wrong passphrase");
}

#[test]
fn enter_on_username_moves_to_passphrase_then_signs_in() {
    let mut h = Harness::new(80, 24, COLOR);
    h.type_text("rita");
    h.press(Key::Enter);
    h.type_text("rita-demo-pass");
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Lookup);
    assert!(h.screen().contains("Rita Alvarez (rep)"), "{}", h.screen());
}

#[test]
fn whole_call_carla_matches_then_asks_on_behalf_of_her_provider() {
    let mut h = Harness::new(100, 30, COLOR);
    h.sign_in("rita", "rita-demo-pass");
    let start = h.head_seq();
    h.type_text("carla");
    let s = h.screen();
    let row = s.lines().find(|l| l.contains("Carla Mendes")).unwrap_or_else(|| panic!("no Carla row:\n{s}"));
    assert!(row.contains("Staff") && row.contains("Harbor Family Medicine") && row.contains("active"), "{row}");

    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Card);
    let card = h.screen();
    assert!(card.contains("Primary provider") && card.contains("Dr. Ada Okafor (P-1001)"), "{card}");
    assert!(card.contains("Support PIN not checked on this call yet"), "{card}");

    h.press(Key::Char('p'));
    assert_eq!(h.app.view(), ScreenId::PinEntry);
    h.type_text("3356");
    let cells = h.screen();
    assert_eq!(cells.matches('●').count(), 4, "{cells}");
    assert!(!cells.contains("3356"), "the PIN is never drawn");
    h.press_only(Key::Enter);
    assert!(h.screen().contains("checking..."), "{}", h.screen());
    h.app.run_pending();
    h.draw();
    let after = h.screen();
    assert_eq!(h.app.view(), ScreenId::Card);
    assert!(after.contains("Support PIN matched"), "{after}");

    h.press(Key::Char('o'));
    assert_eq!(h.app.view(), ScreenId::TargetLookup);
    assert!(h.screen().contains("Caller: Carla Mendes"), "{}", h.screen());
    h.type_text("Okafor");
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Verdict);
    let verdict = h.screen();
    assert!(verdict.contains("⚠  PROVIDER APPROVAL NEEDED"), "{verdict}");
    assert!(verdict.contains("Approver: Dr. Ada Okafor (P-1001)"), "{verdict}");
    assert!(verdict.contains("Staff on behalf of Provider"), "policy row shown: {verdict}");
    assert!(verdict.contains("Dr. Ada Okafor needs to approve this first"), "next step: {verdict}");

    let events = h.events_after(start);
    let kinds: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(kinds, ["account_viewed", "pin_validated", "verdict_shown"], "{events:?}");
    assert_eq!(events[1].1.as_deref(), Some("S-2001"));
    assert_eq!(events[2].2, "needs_approval");
}

#[test]
fn a_verdict_before_the_pin_matched_says_verify_first() {
    let mut h = Harness::new(80, 24, COLOR);
    h.open_caller("dev patel");
    h.press(Key::Char('a'));
    let s = h.screen();
    assert!(s.contains("»  VERIFY THE SUPPORT PIN FIRST"), "{s}");
    assert!(s.contains("please read me the four-digit Support PIN"), "{s}");
}

#[test]
fn pasted_pin_keeps_four_digits_and_never_submits() {
    let mut h = Harness::new(80, 24, COLOR);
    h.open_caller("dev patel");
    h.press(Key::Char('p'));
    let start = h.head_seq();
    h.paste("00 71 99");
    assert_eq!(h.app.view(), ScreenId::PinEntry, "paste never submits");
    assert_eq!(h.screen().matches('●').count(), 4);
    assert_eq!(h.head_seq(), start, "nothing was checked or recorded");
    h.press(Key::Enter);
    assert!(h.screen().contains("Support PIN matched"), "0071 with leading zeros matched: {}", h.screen());
}

#[test]
fn letters_are_refused_and_enter_waits_for_four_digits() {
    let mut h = Harness::new(80, 24, COLOR);
    h.open_caller("dev patel");
    h.press(Key::Char('p'));
    h.type_text("0a");
    assert!(h.screen().contains("Only digits 0-9"), "{}", h.screen());
    h.press(Key::Enter);
    assert!(h.screen().contains("Enter all four digits (1 so far)"), "{}", h.screen());
    h.press(Key::Backspace);
    assert_eq!(h.screen().matches('●').count(), 0);
}

#[test]
fn wrong_pins_count_down_then_lock() {
    let mut h = Harness::new(80, 24, COLOR);
    h.open_caller("ben lindqvist");
    for left in (1..=4).rev() {
        h.press(Key::Char('p'));
        h.type_text("1111");
        h.press(Key::Enter);
        assert!(h.screen().contains(&format!("did not match ({left} attempt(s) left")), "{}", h.screen());
    }
    h.press(Key::Char('p'));
    h.type_text("1111");
    h.press(Key::Enter);
    assert!(h.screen().contains("Support PIN is locked"), "{}", h.screen());
    // Even the right PIN is refused now.
    h.press(Key::Char('p'));
    h.type_text("9082");
    h.press(Key::Enter);
    assert!(h.screen().contains("Support PIN is locked"), "{}", h.screen());
    assert!(h.screen().contains("LOCKED: the holder makes a new PIN, or a lead clears it (l)"), "card shows the lock: {}", h.screen());
}

#[test]
fn unlock_needs_a_note_and_no_pin() {
    let mut h = Harness::new(90, 24, COLOR);
    h.open_caller("farid");
    assert!(h.screen().contains("LOCKED (u: unlock)"), "{}", h.screen());
    h.press(Key::Char('u'));
    h.type_text("ok?");
    h.press(Key::Enter);
    assert!(h.screen().contains("say how the caller was identified"), "{}", h.screen());
    assert!(h.screen().contains("ok?"), "? is text in the note field");
    for _ in 0..3 {
        h.press(Key::Backspace);
    }
    h.type_text("called back on the number of record");
    let start = h.head_seq();
    h.press(Key::Enter);
    let s = h.screen();
    assert!(s.contains("✔  SUPPORT CAN ASSIST"), "{s}");
    assert!(s.contains("Unlocked. The caller can sign in again."), "{s}");
    let kinds: Vec<String> = h.events_after(start).into_iter().map(|e| e.0).collect();
    assert_eq!(kinds, ["verdict_shown", "account_unlocked"]);
}

#[test]
fn help_overlay_lists_the_same_keys_as_the_footer() {
    let mut h = Harness::new(100, 30, COLOR);
    h.open_caller("carla");
    let footer = h.screen().lines().last().unwrap_or_default().to_string();
    for hint in ["p check PIN", "a own account", "o on behalf of", "u unlock", "Esc back", "Ctrl-C quit"] {
        assert!(footer.contains(hint), "footer lacks {hint}: {footer}");
    }
    h.press(Key::Char('?'));
    let help = h.screen();
    for desc in ["Check the Support PIN the caller reads out", "Unlock the caller's own account", "Quit cleanly"] {
        assert!(help.contains(desc), "help lacks {desc}: {help}");
    }
    h.press(Key::Esc);
    assert!(!h.screen().contains("Keys: Caller card"));
    assert_eq!(h.app.view(), ScreenId::Card, "Esc closed the help, not the card");
}

#[test]
fn esc_walks_back_and_ctrl_c_quits_with_a_sign_out_event() {
    let mut h = Harness::new(80, 24, COLOR);
    h.open_caller("carla");
    h.press(Key::Char('p'));
    h.press(Key::Esc);
    assert_eq!(h.app.view(), ScreenId::Card);
    h.press(Key::Esc);
    assert_eq!(h.app.view(), ScreenId::Lookup);
    let start = h.head_seq();
    h.press(Key::Ctrl('c'));
    assert!(h.app.should_quit());
    assert_eq!(h.events_after(start)[0].0, "signed_out");
}

#[test]
fn tiny_windows_say_so_and_never_panic() {
    for (w, hgt) in [(10, 3), (1, 1), (59, 24), (80, 15), (2, 40)] {
        let mut h = Harness::new(w, hgt, COLOR);
        h.term.backend_mut().resize(w, hgt);
        h.draw();
        let s = h.screen().replace('\n', " ");
        if w >= 10 {
            assert!(s.contains("window") && s.contains("small"), "{w}x{hgt}: {s}");
        }
    }
    // Grows back: a full redraw of the real screen.
    let mut h = Harness::new(10, 3, COLOR);
    h.term.backend_mut().resize(80, 24);
    h.term.resize(ratatui::layout::Rect::new(0, 0, 80, 24)).expect("resize");
    h.draw();
    assert!(h.screen().contains("Sign in to support-desk"), "{}", h.screen());
}

#[test]
fn wide_and_mixed_script_names_keep_columns_aligned() {
    let mut h = Harness::new(100, 30, COLOR);
    h.sign_in("rita", "rita-demo-pass");
    h.type_text("harbor");
    let s = h.screen();
    let cols: Vec<usize> = s
        .lines()
        .filter(|l| l.contains("Harbor Family Medicine") && !l.contains("Search"))
        .map(|l| {
            let byte = l.find("Harbor Family Medicine").unwrap_or(0);
            unicode_width::UnicodeWidthStr::width(&l[..byte])
        })
        .collect();
    assert!(cols.len() >= 5, "{s}");
    assert!(cols.windows(2).all(|w| w[0] == w[1]), "practice column starts at one width: {cols:?}\n{s}");
    assert!(s.contains("Wei Zhang 张伟"), "{s}");
}

#[test]
fn verdicts_read_without_colour() {
    let mut h = Harness::new(80, 24, Theme { color: false });
    h.open_caller("dev patel");
    h.press(Key::Char('a'));
    let buf = h.term.backend().buffer().clone();
    let colored = buf.content.iter().any(|c| c.fg != Color::Reset || c.bg != Color::Reset);
    assert!(!colored, "NO_COLOR: no colours at all");
    assert!(h.screen().contains("»  VERIFY THE SUPPORT PIN FIRST"));

    let mut h = Harness::new(80, 24, COLOR);
    h.open_caller("dev patel");
    h.press(Key::Char('a'));
    let buf = h.term.backend().buffer();
    let banner_bg = (0..buf.area.height)
        .flat_map(|y| (0..buf.area.width).map(move |x| (x, y)))
        .find(|&(x, y)| buf[(x, y)].symbol() == "»")
        .map(|p| buf[p].bg);
    assert_eq!(banner_bg, Some(Color::Blue));
}

#[test]
fn search_text_with_sql_and_like_characters_never_errors() {
    let mut h = Harness::new(80, 24, COLOR);
    h.sign_in("rita", "rita-demo-pass");
    for q in ["%", "_", "\\", "'", "\"", "' OR 1=1 --", "🌻", "NEAR(", "*"] {
        h.press(Key::Esc);
        h.type_text(q);
        let s = h.screen();
        assert!(!s.to_lowercase().contains("error") && !s.contains("could not"), "{q}: {s}");
    }
    h.press(Key::Esc);
    h.type_text("zoe");
    assert!(h.screen().contains("Zoë Ångström"), "{}", h.screen());
}

#[test]
fn an_idle_rep_is_signed_out_after_the_idle_timeout() {
    let mut h = Harness::new(80, 24, COLOR);
    h.open_caller("carla");
    let start = h.head_seq();
    let now = std::time::Instant::now();
    h.app.tick(now + std::time::Duration::from_secs(14 * 60));
    assert_eq!(h.app.view(), ScreenId::Card, "14 minutes idle is still within the timeout");
    h.app.tick(now + std::time::Duration::from_secs(16 * 60));
    h.draw();
    assert_eq!(h.app.view(), ScreenId::SignIn);
    assert!(h.screen().contains("Signed out after 15 minutes"), "{}", h.screen());
    assert!(!h.screen().contains("Carla"), "nothing of the call stays on screen");
    assert_eq!(h.events_after(start)[0].0, "session_timed_out");
}

#[test]
fn a_rep_disabled_mid_call_is_sent_back_to_sign_in() {
    let mut h = Harness::new(80, 24, COLOR);
    h.open_caller("carla");
    let conn = rusqlite::Connection::open(h.db()).expect("open");
    conn.execute("UPDATE reps SET disabled = 1 WHERE username = 'rita'", []).expect("disable");
    h.press(Key::Char('p'));
    h.type_text("3356");
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::SignIn);
    assert!(h.screen().contains("your session has ended"), "{}", h.screen());
}

#[test]
fn a_newer_keystroke_supersedes_a_lookup_still_running() {
    use support_desk::tui::app::{Found, SearchLink};
    let mut h = Harness::new(80, 24, COLOR);
    h.sign_in("rita", "rita-demo-pass");
    let searcher = support_desk::desk::Searcher::open(&h.db()).expect("searcher");
    let (requests, rx) = std::sync::mpsc::channel();
    h.app.attach_searcher(SearchLink { requests, interrupt: searcher.interrupt_handle(), generation: 0 });
    h.type_text("ca");
    let first = rx.try_recv().expect("a request for 'c'");
    let second = rx.try_recv().expect("a request for 'ca'");
    assert_eq!((first.query.as_str(), second.query.as_str()), ("c", "ca"));
    assert!(second.generation > first.generation);
    // The answer to the older keystroke arrives late: it is dropped, not drawn.
    let stale = searcher.lookup("c", 50).expect("lookup");
    h.app.found(Found { generation: first.generation, screen: first.screen, results: Ok(stale) });
    h.draw();
    assert!(!h.screen().contains("Carla Mendes"), "stale results are not shown:\n{}", h.screen());
    let fresh = searcher.lookup("ca", 50).expect("lookup");
    h.app.found(Found { generation: second.generation, screen: second.screen, results: Ok(fresh) });
    h.draw();
    assert!(h.screen().contains("Carla Mendes"), "{}", h.screen());
}

/// The screen's words in order, borders dropped and line breaks joined, so a message wrapped over
/// several rows reads as one sentence.
fn words(screen: &str) -> String {
    screen.replace(['│', '┌', '┐', '└', '┘', '─'], " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A message longer than the window is wide is wrapped, never cut: the rep reads all of it (the
/// sign-in failure names the lockout; the PIN lock says what the holder does next).
#[test]
fn long_messages_wrap_instead_of_being_cut_off() {
    let mut h = Harness::new(60, 18, COLOR);
    h.sign_in("rita", "wrong-passphrase");
    let screen = h.screen();
    assert!(!screen.contains('…'), "{screen}");
    assert!(
        words(&screen).contains("Sign-in failed: wrong username or passphrase. 5 failures in a row lock the"),
        "{screen}"
    );

    let mut h = Harness::new(60, 18, COLOR);
    h.open_caller("ben lindqvist");
    for _ in 0..5 {
        h.press(Key::Char('p'));
        h.type_text("1111");
        h.press(Key::Enter);
    }
    let screen = h.screen();
    assert!(
        words(&screen).contains("Support PIN is locked. The holder must generate a new one in their settings."),
        "{screen}"
    );
}

/// A refused unlock note says why in full, wrapped in the form (not cut at its edge).
#[test]
fn a_refused_unlock_note_is_explained_in_full() {
    let mut h = Harness::new(60, 18, COLOR);
    h.open_caller("farid");
    h.press(Key::Char('u'));
    h.type_text("caller read 12 34 to me");
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Unlock);
    let screen = h.screen();
    assert!(words(&screen).contains("must not contain 4 or more digits (even spaced or split): a Support PIN is never written down"), "{screen}");
}

/// The text of the help box (borders and key column kept), from the screen.
fn help_box(screen: &str) -> String {
    screen.lines().filter(|l| l.starts_with('│') || l.starts_with('┌') || l.starts_with('└')).collect::<Vec<_>>().join("\n")
}

/// At 80x24 the help's descriptions are wrapped, not cut; at 60x16 the review's help says there
/// is more and ↓/PgDn scroll through every key; nothing of the screen underneath shows.
#[test]
fn the_help_wraps_scrolls_and_covers_the_screen_beneath() {
    let mut h = Harness::new(80, 24, COLOR);
    h.sign_in("leo", "leo-demo-pass");
    h.press(Key::Ctrl('r'));
    h.press(Key::Char('?'));
    let s = h.screen();
    assert!(!help_box(&s).contains('…'), "no description is cut at 80x24:\n{s}");
    assert!(
        words(&s).contains("Next (Tab) or previous (Shift-Tab) view: all events, failed PIN checks, chart, unlocks"),
        "the longest description wraps:\n{s}"
    );

    let mut h = Harness::new(60, 16, COLOR);
    h.sign_in("leo", "leo-demo-pass");
    h.press(Key::Ctrl('r'));
    h.press(Key::Char('?'));
    let first = h.screen();
    assert!(first.contains("↓ more"), "says there is more:\n{first}");
    for under in ["View:", "Filters:", "Chain:", "Time "] {
        assert!(!first.contains(under), "the screen beneath shows through ({under}):\n{first}");
    }
    let body_rows = first.lines().skip(1).take_while(|l| !l.starts_with("↑/↓"));
    for row in body_rows {
        let row = row.trim_end();
        assert!(row.is_empty() || row.starts_with(['│', '┌', '└']), "nothing beside the box:\n{first}");
    }
    let mut seen = words(&first);
    let mut last = first.clone();
    for _ in 0..10 {
        h.press(Key::PageDown);
        let s = h.screen();
        if s == last {
            break;
        }
        seen.push(' ');
        seen.push_str(&words(&s));
        last = s;
    }
    assert!(last.contains("↑ more above") && !last.contains("↓ more"), "PgDn reached the end:\n{last}");
    let keys = support_desk::tui::keymap::bindings(ScreenId::AuditReview).iter().chain(support_desk::tui::keymap::GLOBAL);
    for b in keys {
        let desc: String = b.desc.split_whitespace().collect::<Vec<_>>().join(" ");
        // Each description shows whole on one page or across two.
        let head: String = desc.split(' ').take(4).collect::<Vec<_>>().join(" ");
        assert!(seen.contains(&head), "{head} never shown while scrolling:\n{seen}");
    }
    h.press(Key::Up);
    assert!(h.screen().contains("↓ more"), "↑ scrolls back:\n{}", h.screen());
    h.press(Key::PageUp);
    h.press(Key::PageUp);
    h.press(Key::PageUp);
    assert_eq!(h.screen(), first, "PgUp comes back to the top");
    h.press(Key::Esc);
    assert!(h.screen().contains("Filters:"), "Esc closes the help: {}", h.screen());
    assert_eq!(h.app.view(), ScreenId::AuditReview);
}

/// After a refused sign-in both fields are empty (a passphrase typed into the username field
/// does not stay on screen) and the cursor is on the username; Enter with an empty field sends
/// nothing, so a double Enter never burns a second try.
#[test]
fn a_failed_sign_in_clears_both_fields_and_empty_fields_are_never_sent() {
    let mut h = Harness::new(80, 24, COLOR);
    let start = h.head_seq();
    h.type_text("rita-demo-pass");
    h.press(Key::Tab);
    h.type_text("x");
    h.press(Key::Enter);
    let s = h.screen();
    assert!(s.contains("Sign-in failed"), "{s}");
    assert!(!s.contains("rita-demo-pass"), "the mistyped passphrase is cleared: {s}");
    assert!(!s.contains('•'), "the passphrase field is empty: {s}");
    assert_eq!(h.events_after(start).len(), 1, "one failure recorded");
    h.press(Key::Enter);
    h.press(Key::Enter);
    assert_eq!(h.events_after(start).len(), 1, "Enter on empty fields records nothing");
    assert!(h.screen().contains("Type your username first."), "{}", h.screen());
    // The cursor went back to the username: what is typed now is the username.
    h.type_text("rita");
    let s = h.screen();
    assert!(s.lines().any(|l| l.contains("Username") && l.contains("rita")), "{s}");
    h.press(Key::Enter);
    h.press(Key::Enter);
    assert!(h.screen().contains("Type your passphrase."), "{}", h.screen());
    assert_eq!(h.events_after(start).len(), 1, "an empty passphrase is never sent");
    h.type_text("rita-demo-pass");
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Lookup, "{}", h.screen());
}

/// At 60x16 (the smallest window drawn) the card keeps this call's Support PIN status and the
/// phone number whole and still lists a recent case; the verdict keeps its whole next step.
#[test]
fn the_card_and_the_verdict_keep_what_matters_at_60_by_16() {
    let mut h = Harness::new(60, 16, COLOR);
    h.open_caller("carla");
    h.press(Key::Char('c'));
    h.press(Key::Char('a'));
    h.press(Key::Esc);
    assert_eq!(h.app.view(), ScreenId::Card);
    h.press(Key::Char('p'));
    h.type_text("3356");
    h.press(Key::Enter);
    let s = h.screen();
    assert!(s.contains("✔ Support PIN matched on this call"), "{s}");
    assert!(s.contains("+1 (555) 010-2001"), "the phone is whole: {s}");
    assert!(s.contains("Recent cases") && s.contains("│ #1 "), "a recent case shows: {s}");
    assert!(s.contains("Name") && s.contains("Carla Mendes") && s.contains("Support PIN       set"), "{s}");

    h.press(Key::Char('o'));
    h.type_text("okafor");
    h.press(Key::Enter);
    let s = h.screen();
    assert_eq!(h.app.view(), ScreenId::Verdict);
    assert!(s.contains("⚠  PROVIDER APPROVAL NEEDED") && s.contains("Approver: Dr. Ada Okafor (P-1001)"), "{s}");
    assert!(
        words(&s).contains(
            "“Dr. Ada Okafor needs to approve this first: they can reply on this case by email, or call us and give their own Support PIN.”"
        ),
        "the whole next step: {s}"
    );

    // An unlock's outcome and next step fit too.
    let mut h = Harness::new(60, 16, COLOR);
    h.open_caller("farid");
    h.press(Key::Char('u'));
    h.type_text("called back on the number of record");
    h.press(Key::Enter);
    let s = h.screen();
    assert!(s.contains("SUPPORT CAN ASSIST") && words(&s).contains("Unlocked. The caller can sign in again."), "{s}");
}

#[test]
fn one_idle_minute_is_said_in_the_singular() {
    let mut h = Harness::new(80, 24, COLOR);
    let conn = rusqlite::Connection::open(h.db()).expect("open");
    conn.execute("UPDATE policy_values SET value = 1 WHERE name = 'idle_timeout_minutes'", []).expect("policy");
    h.sign_in("rita", "rita-demo-pass");
    h.app.tick(std::time::Instant::now() + std::time::Duration::from_secs(61));
    h.draw();
    assert_eq!(h.app.view(), ScreenId::SignIn);
    let s = h.screen();
    assert!(s.contains("Signed out after 1 minute without a key press."), "{s}");
}

/// Messages wrapped inside the sign-in and unlock boxes keep the box's left margin on every line.
#[test]
fn wrapped_messages_keep_their_margin_in_the_boxes() {
    let margin_kept = |screen: &str, marker: &str| {
        let rows: Vec<&str> = screen.lines().filter(|l| l.contains('│')).collect();
        let start = rows.iter().position(|l| l.contains(marker)).unwrap_or_else(|| panic!("{marker}:\n{screen}"));
        for row in &rows[start..] {
            let inside = row.split_once('│').map(|(_, r)| r).unwrap_or_default();
            assert!(inside.starts_with(' '), "a message line touches the border:\n{screen}");
        }
    };
    let mut h = Harness::new(60, 18, COLOR);
    h.sign_in("rita", "wrong-passphrase");
    margin_kept(&h.screen(), "Sign-in failed");

    let mut h = Harness::new(60, 18, COLOR);
    h.open_caller("farid");
    h.press(Key::Char('u'));
    h.type_text("caller read 12 34 to me");
    h.press(Key::Enter);
    margin_kept(&h.screen(), "must not contain");
}

/// The search thread answers late (keys typed in a burst over SSH): Enter must act on the text in
/// the box, never on results found for an older text.
#[test]
fn enter_before_the_search_thread_answers_opens_the_account_typed_not_the_one_shown() {
    use std::sync::mpsc;
    use support_desk::tui::app::{Found, SearchLink, SearchRequest};
    let mut h = Harness::new(100, 30, COLOR);
    h.sign_in("rita", "rita-demo-pass");
    // A search thread that answers only when the test says so.
    let (requests, asked) = mpsc::channel::<SearchRequest>();
    let conn = rusqlite::Connection::open_in_memory().expect("connection");
    h.app.attach_searcher(SearchLink { requests, interrupt: conn.get_interrupt_handle(), generation: 0 });
    let answer = |h: &mut Harness, request: SearchRequest| {
        let results = h.app.desk().lookup(&request.query, 50).map_err(|e| e.to_string());
        h.app.found(Found { generation: request.generation, screen: request.screen, results });
        h.draw();
    };
    h.type_text("carla");
    let last = asked.try_iter().last().expect("asked");
    answer(&mut h, last);
    assert!(h.screen().contains("Carla Mendes"), "{}", h.screen());
    // Five Backspaces, "dev" and Enter, all before the thread answers any of them.
    for _ in 0..5 {
        h.press(Key::Backspace);
    }
    h.type_text("dev");
    assert!(h.screen().contains("Carla Mendes"), "the old results still show: {}", h.screen());
    let before = h.head_seq();
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Card, "{}", h.screen());
    let s = h.screen();
    assert!(s.contains("Dev Patel") && !s.contains("Carla Mendes"), "{s}");
    let viewed: Vec<_> = h.events_after(before).into_iter().filter(|e| e.0 == "account_viewed").collect();
    assert_eq!(viewed, [("account_viewed".to_string(), Some("S-2002".to_string()), "ok".to_string())]);
    // The late answers change nothing on the card.
    for request in asked.try_iter().collect::<Vec<_>>() {
        answer(&mut h, request);
    }
    assert_eq!(h.app.view(), ScreenId::Card);

    // Typed from an empty box and Enter at once: the card opens instead of Enter being lost.
    h.press(Key::Char('n'));
    assert_eq!(h.app.view(), ScreenId::Lookup);
    h.type_text("zoe");
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Card, "{}", h.screen());
    assert!(h.screen().contains("Zoë Ångström"), "{}", h.screen());
}

/// `n` ends the call: the next caller giving the same name is asked for the PIN again, however
/// soon they call.
#[test]
fn a_new_call_for_the_same_name_needs_the_pin_again() {
    let mut h = Harness::new(100, 30, COLOR);
    h.open_caller("carla");
    h.press(Key::Char('p'));
    h.type_text("3356");
    h.press(Key::Enter);
    assert!(h.screen().contains("Support PIN matched"), "{}", h.screen());
    h.press(Key::Char('a'));
    assert!(h.screen().contains("SUPPORT CAN ASSIST"), "{}", h.screen());
    let before = h.head_seq();
    h.press(Key::Char('n'));
    assert_eq!(h.app.view(), ScreenId::Lookup);
    h.type_text("carla");
    h.press(Key::Enter);
    assert!(h.screen().contains("Support PIN not checked on this call yet"), "{}", h.screen());
    h.press(Key::Char('a'));
    assert!(h.screen().contains("VERIFY THE SUPPORT PIN FIRST"), "{}", h.screen());
    let kinds: Vec<(String, Option<String>, String)> = h.events_after(before);
    assert_eq!(
        kinds.iter().map(|e| (e.0.as_str(), e.2.as_str())).collect::<Vec<_>>(),
        [("call_ended", "ok"), ("account_viewed", "ok"), ("verdict_shown", "verify_first")]
    );
    assert_eq!(kinds[0].1.as_deref(), Some("S-2001"));
}

#[test]
fn a_full_result_list_says_it_may_not_be_all() {
    let mut h = Harness::new(100, 30, COLOR);
    {
        let conn = rusqlite::Connection::open(h.db()).expect("open");
        for n in 0..60 {
            conn.execute(
                "INSERT INTO accounts (id, role, name, email, phone, phone_digits, practice_id, search_text) \
                 VALUES (?1, 'provider', ?2, ?3, '555', '555', (SELECT min(id) FROM practices), ?4)",
                rusqlite::params![format!("F-{n:03}"), format!("Dr. Fill Zzfill {n}"), format!("f{n}@x.example"), format!("dr. fill zzfill {n}")],
            )
            .expect("insert");
        }
    }
    h.sign_in("rita", "rita-demo-pass");
    h.type_text("zzfill");
    assert!(h.screen().contains("The first 50 matches; type more to narrow them."), "{}", h.screen());
    h.type_text(" 5");
    assert!(!h.screen().contains("The first 50 matches"), "{}", h.screen());
}

/// Every screen, drawn at every size from the smallest the app draws (60x16) up, and at a few
/// below it: no panic, no overflow (this runs in a debug build), and a small window is said.
#[test]
fn every_screen_draws_at_every_size_without_panicking() {
    let sizes: Vec<(u16, u16)> = [(1, 1), (10, 3), (59, 15), (60, 16), (61, 17), (64, 18), (72, 20), (80, 24), (100, 30), (132, 50), (200, 60)]
        .into_iter()
        .chain((60..=84).step_by(3).map(|w| (w, 16 + (w - 60) / 3)))
        .collect();
    let draw_all = |h: &mut Harness, what: &str| {
        for &(w, hgt) in &sizes {
            h.term.backend_mut().resize(w, hgt);
            h.term.resize(ratatui::layout::Rect::new(0, 0, w, hgt)).expect("resize");
            h.draw();
            let s = h.screen();
            if w < 60 || hgt < 16 {
                assert!(w < 10 || s.replace('\n', " ").contains("small"), "{what} at {w}x{hgt}: {s}");
            }
        }
        h.term.backend_mut().resize(100, 30);
        h.term.resize(ratatui::layout::Rect::new(0, 0, 100, 30)).expect("resize");
        h.draw();
    };
    let mut h = Harness::new(100, 30, COLOR);
    draw_all(&mut h, "sign in");
    h.sign_in("leo", "leo-demo-pass");
    h.type_text("wei");
    assert_eq!(h.app.view(), ScreenId::Lookup);
    draw_all(&mut h, "lookup");
    h.press(Key::Char('?'));
    draw_all(&mut h, "help");
    h.press(Key::Esc);
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Card);
    draw_all(&mut h, "card");
    h.press(Key::Char('p'));
    h.type_text("11");
    assert_eq!(h.app.view(), ScreenId::PinEntry);
    draw_all(&mut h, "PIN entry");
    h.press(Key::Esc);
    h.press(Key::Char('a'));
    assert_eq!(h.app.view(), ScreenId::Verdict);
    draw_all(&mut h, "verdict");
    h.press(Key::Esc);
    h.press(Key::Char('u'));
    h.type_text("called back on the number of record, and a long note to wrap around");
    assert_eq!(h.app.view(), ScreenId::Unlock);
    draw_all(&mut h, "unlock form");
    h.press(Key::Esc);
    h.press(Key::Char('c'));
    assert_eq!(h.app.view(), ScreenId::NewCase);
    draw_all(&mut h, "new case");
    h.press(Key::Char('o'));
    h.type_text("okafor");
    assert_eq!(h.app.view(), ScreenId::TargetLookup);
    draw_all(&mut h, "target lookup");
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::Case);
    draw_all(&mut h, "case");
    h.press(Key::Char('r'));
    assert_eq!(h.app.view(), ScreenId::CaseReply);
    draw_all(&mut h, "reply form");
    h.press(Key::Esc);
    h.press(Key::Char('x'));
    assert_eq!(h.app.view(), ScreenId::CaseClose);
    draw_all(&mut h, "close case");
    h.press(Key::Esc);
    h.press(Key::Esc);
    h.press(Key::Esc);
    h.press(Key::Esc);
    h.press(Key::Ctrl('k'));
    assert_eq!(h.app.view(), ScreenId::Cases);
    draw_all(&mut h, "case queue");
    h.press(Key::Esc);
    h.press(Key::Ctrl('r'));
    assert_eq!(h.app.view(), ScreenId::AuditReview);
    for view in 0..9 {
        draw_all(&mut h, &format!("review view {view}"));
        h.press(Key::Tab);
    }
    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::AuditEvent);
    draw_all(&mut h, "review detail");
}

/// The card's "on this call" line says what the verdict will apply: reopening the same caller
/// during the call keeps the match; opening another caller's card ends the call.
#[test]
fn the_card_and_the_verdict_agree_on_this_calls_match() {
    let mut h = Harness::new(100, 30, COLOR);
    h.open_caller("sato");
    h.press(Key::Char('p'));
    h.type_text("5120");
    h.press(Key::Enter);
    assert!(h.screen().contains("✔ Support PIN matched on this call (it counts until"), "{}", h.screen());
    h.press(Key::Esc);
    h.press(Key::Enter);
    assert!(h.screen().contains("✔ Support PIN matched on this call (it counts until"), "reopened during the call: {}", h.screen());
    h.press(Key::Char('a'));
    assert!(h.screen().contains("SUPPORT CAN ASSIST"), "{}", h.screen());
    // Another caller, then Dr. Sato's name again: a new call, the PIN first, on the card and in the verdict.
    h.press(Key::Esc);
    h.press(Key::Esc);
    h.press(Key::Esc);
    h.type_text("dev");
    h.press(Key::Enter);
    assert!(h.screen().contains("Dev Patel"), "{}", h.screen());
    h.press(Key::Esc);
    h.press(Key::Esc);
    h.type_text("sato");
    h.press(Key::Enter);
    assert!(h.screen().contains("Support PIN not checked on this call yet (p)"), "{}", h.screen());
    h.press(Key::Char('a'));
    assert!(h.screen().contains("VERIFY THE SUPPORT PIN FIRST"), "{}", h.screen());
}

#[test]
fn the_header_keeps_title_and_name_apart_in_a_narrow_window() {
    let mut h = Harness::new(60, 16, COLOR);
    h.open_caller("carla");
    h.press(Key::Char('c'));
    h.press(Key::Char('o'));
    h.type_text("okafor");
    h.press(Key::Enter);
    h.press(Key::Char('r'));
    assert_eq!(h.app.view(), ScreenId::CaseReply, "{}", h.screen());
    let header = h.screen().lines().next().expect("header").to_string();
    assert!(header.ends_with("Rita Alvarez (rep) "), "{header:?}");
    assert!(header.contains('…') && header.contains("…  "), "the title gives way, two spaces before the name: {header:?}");
}

/// A lead shortens the idle timeout while a rep is signed in: it applies to that rep's screen too.
#[test]
fn a_shorter_idle_timeout_set_meanwhile_applies_to_a_signed_in_rep() {
    let mut h = Harness::new(80, 24, COLOR);
    h.open_caller("carla");
    let start = std::time::Instant::now();
    rusqlite::Connection::open(h.db())
        .expect("open")
        .execute("UPDATE policy_values SET value = 2 WHERE name = 'idle_timeout_minutes'", [])
        .expect("policy");
    h.app.tick(start + std::time::Duration::from_secs(90));
    h.draw();
    assert_eq!(h.app.view(), ScreenId::Card, "90 s idle is within the new 2 minutes");
    h.app.tick(start + std::time::Duration::from_secs(125));
    h.draw();
    assert_eq!(h.app.view(), ScreenId::SignIn, "{}", h.screen());
    assert!(h.screen().contains("Signed out after 2 minutes"), "{}", h.screen());
}
