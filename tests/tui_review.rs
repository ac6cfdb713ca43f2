//! The audit review screen driven by keys on a fresh build of the example database (its history
//! ends the day before today), drawn into ratatui's TestBackend.

mod tui_support;

use chrono::FixedOffset;
use ratatui::style::Color;
use support_desk::tui::keymap::{Key, ScreenId};
use support_desk::tui::theme::Theme;
use tui_support::Harness;

const COLOR: Theme = Theme { color: true };

/// leo signed in, on the review screen, times in UTC.
fn leo_reviewing() -> Harness {
    let mut h = Harness::new(100, 30, COLOR);
    h.app.set_utc_offset(FixedOffset::east_opt(0).expect("offset"));
    h.sign_in("leo", "leo-demo-pass");
    h.press(Key::Ctrl('r'));
    assert_eq!(h.app.view(), ScreenId::AuditReview, "{}", h.screen());
    h
}

/// The event rows on screen (lines holding an event kind).
fn rows_with(screen: &str, kind: &str) -> Vec<String> {
    screen.lines().filter(|l| l.contains(kind)).map(|l| l.trim_end().to_string()).collect()
}

#[test]
fn a_rep_pressing_the_review_key_is_refused_by_the_core() {
    let mut h = Harness::new(100, 30, COLOR);
    h.sign_in("rita", "rita-demo-pass");
    let before = h.head_seq();
    h.press(Key::Ctrl('r'));
    assert_eq!(h.app.view(), ScreenId::Lookup);
    assert!(h.screen().contains("refused: only a lead may review the audit trail"), "{}", h.screen());
    let events = h.events_after(before);
    assert_eq!(events.len(), 1, "only the refusal is recorded: {events:?}");
    assert_eq!((events[0].0.as_str(), events[0].2.as_str()), ("audit_reviewed", "refused"));
}

#[test]
fn the_list_shows_events_newest_first_with_filters_and_chain_status() {
    let h = leo_reviewing();
    let s = h.screen();
    assert!(s.contains("Audit review (leads)") && s.contains("View: All events"), "{s}");
    assert!(s.contains("Filters: none"), "{s}");
    assert!(s.contains("times in UTC"), "{s}");
    let head = h.head_seq();
    assert!(s.contains(&format!("Chain: ✔ intact up to #{head}")), "{s}");
    for col in ["Time", "Rep", "Event", "Account", "Case", "Outcome"] {
        assert!(s.contains(col), "column {col}: {s}");
    }
    // Newest first: leo's own sign-in is the first row.
    let first = s.lines().find(|l| l.contains("signed in") || l.contains("pin ")).expect("a row");
    assert!(first.contains("signed in") && first.contains("leo"), "{s}");
}

#[test]
fn filters_to_failed_pin_checks_of_the_last_week_then_by_rep_then_cleared() {
    let mut h = leo_reviewing();
    h.press(Key::Tab);
    h.press(Key::Char('t'));
    h.press(Key::Char('t'));
    let s = h.screen();
    assert!(s.contains("View: Failed PIN checks and lockouts"), "{s}");
    assert!(s.contains("Filters: last week"), "{s}");
    let rows = rows_with(&s, "pin rejected");
    let accounts: Vec<&str> = rows.iter().map(|r| if r.contains("S-2005") { "S-2005" } else if r.contains("S-2002") { "S-2002" } else { "S-2001" }).collect();
    assert_eq!(accounts, ["S-2005", "S-2005", "S-2002", "S-2002", "S-2002", "S-2002", "S-2001"], "{s}");
    assert!(rows.iter().all(|r| r.contains("fail (mismatch)")), "{s}");

    h.press(Key::Char('r'));
    h.type_text("leo");
    let s = h.screen();
    assert!(s.contains("Rep (username): leo"), "the field shows what is typed: {s}");
    let leo_rows = rows_with(&s, "pin rejected");
    assert_eq!(leo_rows.len(), 3, "{s}");
    assert!(leo_rows.iter().all(|r| r.contains("leo")), "{s}");
    h.press(Key::Enter);
    assert!(h.screen().contains("Filters: last week · rep leo"), "{}", h.screen());

    h.press(Key::Char('f'));
    assert!(h.screen().contains("failures only"), "{}", h.screen());
    h.press(Key::Char('x'));
    let s = h.screen();
    assert!(s.contains("Filters: none"), "{s}");
    assert_eq!(rows_with(&s, "pin rejected").len(), 7, "{s}");
}

#[test]
fn the_detail_pane_names_the_rep_the_account_and_its_practice() {
    let mut h = leo_reviewing();
    h.press(Key::Tab);
    h.press(Key::Enter);
    let s = h.screen();
    assert!(s.contains("Audit event (Esc closes)"), "{s}");
    assert!(s.contains("Leo Brandt (leo)"), "{s}");
    assert!(s.contains("Wei Zhang 张伟 (S-2005), Harbor Family Medicine"), "{s}");
    assert!(s.contains("pin rejected") && s.contains("mismatch"), "{s}");
    assert!(s.contains("Policy version"), "{s}");
    h.press(Key::Esc);
    assert!(!h.screen().contains("Audit event (Esc closes)"), "Esc closes the detail first");
    assert_eq!(h.app.view(), ScreenId::AuditReview);
    h.press(Key::Esc);
    assert_eq!(h.app.view(), ScreenId::Lookup);
}

#[test]
fn the_pattern_views_show_accounts_failing_across_reps_and_sign_in_failures() {
    let mut h = leo_reviewing();
    let mut seen = Vec::new();
    for _ in 0..9 {
        h.press(Key::Tab);
        let s = h.screen();
        let title = s.lines().find(|l| l.contains("View: ")).expect("view line").to_string();
        seen.push(title.clone());
        if title.contains("Accounts failing across reps") {
            let row = s.lines().find(|l| l.contains("S-2002")).unwrap_or_else(|| panic!("S-2002: {s}"));
            // Dev Patel: four failures by rita and leo.
            assert!(row.contains("Dev Patel") && row.contains(" 4 ") && row.contains(" 2 "), "{row}");
            assert!(!s.contains("S-2005"), "one rep only: {s}");
        }
        if title.contains("Reps failing across accounts") {
            assert!(s.contains("No rep has failed PIN checks on many accounts"), "{s}");
        }
        if title.contains("Sign-in failures") {
            assert_eq!(rows_with(&s, "sign in failed").len(), 1, "{s}");
        }
        if title.contains("Unlocks") {
            assert!(s.contains("No events match"), "{s}");
        }
    }
    assert!(seen.last().is_some_and(|t| t.contains("All events")), "Tab comes round: {seen:?}");
}

#[test]
fn the_chart_draws_failed_pin_checks_per_day_of_the_week() {
    let mut h = leo_reviewing();
    h.press(Key::Char('t'));
    h.press(Key::Char('t'));
    h.press(Key::Tab);
    h.press(Key::Tab);
    let s = h.screen();
    assert!(s.contains("View: Chart of failed PIN checks"), "{s}");
    assert!(s.contains("Failed PIN checks 7, lockouts 0 (a bar counts both), per day"), "{s}");
    assert!(s.contains("No lockouts in this range."), "{s}");
    // Bars are drawn with block characters, the counts on them.
    assert!(s.contains('█'), "{s}");
    // The day with rita's three failures on S-2002 is the tallest bar.
    assert!(s.contains('3'), "{s}");
}

#[test]
fn a_broken_chain_is_named_in_red_words() {
    let mut h = Harness::new(100, 30, COLOR);
    h.app.set_utc_offset(FixedOffset::east_opt(0).expect("offset"));
    let conn = rusqlite::Connection::open(h.db()).expect("open");
    conn.execute_batch("DROP TRIGGER audit_events_no_update; UPDATE audit_events SET detail = 'changed' WHERE seq = 5")
        .expect("tamper");
    drop(conn);
    h.sign_in("leo", "leo-demo-pass");
    h.press(Key::Ctrl('r'));
    let s = h.screen();
    let line = s.lines().find(|l| l.contains("Chain:")).expect("chain line");
    assert!(line.contains("✖ BROKEN at #5") && line.contains("does not match its hash"), "{line}");
    let y = s.lines().position(|l| l.contains("Chain:")).expect("row") as u16;
    let buf = h.term.backend().buffer();
    assert_eq!(buf[(8, y)].fg, Color::LightRed, "the broken chain is red as well as in words");
}

#[test]
fn recording_a_review_from_the_screen_is_an_audit_event() {
    let mut h = leo_reviewing();
    h.press(Key::Char('t'));
    let before = h.head_seq();
    h.press(Key::Char('R'));
    h.type_text("Monday: S-2002 failures were a caller who forgot; fine");
    assert!(h.screen().contains("Review note"), "{}", h.screen());
    h.press(Key::Enter);
    let s = h.screen();
    assert!(s.contains(&format!("Review recorded as audit event #{}", before + 1)), "{s}");
    let events = h.events_after(before);
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].0.as_str(), events[0].2.as_str()), ("audit_reviewed", "ok"));
}

/// The text of the selected event row (drawn in the selection style) on screen.
fn selected_row(h: &Harness) -> String {
    let buf = h.term.backend().buffer();
    let screen = h.screen();
    let y = (0..buf.area.height)
        .find(|&y| buf[(0, y)].bg == Color::Blue && screen.lines().nth(y as usize).is_some_and(|l| l.contains('#')))
        .unwrap_or_else(|| panic!("no selected row: {screen}"));
    screen.lines().nth(y as usize).unwrap_or_default().trim_end().to_string()
}

#[test]
fn the_detail_jumps_to_the_events_case_timeline_and_esc_comes_back_to_the_same_place() {
    let mut h = Harness::new(100, 30, COLOR);
    h.app.set_utc_offset(FixedOffset::east_opt(0).expect("offset"));
    // leo works a case for Carla, then reviews.
    h.sign_in("leo", "leo-demo-pass");
    h.type_text("carla");
    h.press(Key::Enter);
    h.press(Key::Char('c'));
    h.press(Key::Char('a'));
    assert_eq!(h.app.view(), ScreenId::Case, "{}", h.screen());
    h.press(Key::Char('m'));
    h.type_text("Asked about her fax number");
    h.press(Key::Enter);
    h.press(Key::Esc);
    h.press(Key::Esc);
    h.press(Key::Ctrl('r'));
    assert_eq!(h.app.view(), ScreenId::AuditReview, "{}", h.screen());

    // Filter to Carla's account and pick the event before the newest (the note): the case's opening.
    h.press(Key::Char('a'));
    h.type_text("S-2001");
    h.press(Key::Enter);
    h.press(Key::Down);
    let filters = h.screen().lines().find(|l| l.contains("Filters:")).expect("filters").to_string();
    assert!(filters.contains("account S-2001"), "{filters}");
    let row = selected_row(&h);
    assert!(row.contains("case opened") && row.contains("#1"), "{row}");

    h.press(Key::Enter);
    assert_eq!(h.app.view(), ScreenId::AuditEvent);
    let s = h.screen();
    assert!(s.contains("#1 (o opens its timeline)"), "{s}");
    let footer: String = s.lines().rev().take(2).collect();
    assert!(footer.contains("o case timeline"), "the footer offers the jump: {s}");
    h.press(Key::Char('?'));
    assert!(h.screen().contains("Open the case this event belongs to: its timeline"), "help lists it: {}", h.screen());
    h.press(Key::Esc);

    h.press(Key::Char('o'));
    assert_eq!(h.app.view(), ScreenId::Case, "{}", h.screen());
    let s = h.screen();
    assert!(s.contains("Case #1") && s.contains("Timeline (2 events)") && s.contains("case_opened"), "{s}");

    h.press(Key::Esc);
    assert_eq!(h.app.view(), ScreenId::AuditEvent, "Esc comes back to the event");
    assert!(h.screen().contains("#1 (o opens its timeline)"), "{}", h.screen());
    h.press(Key::Esc);
    assert_eq!(h.app.view(), ScreenId::AuditReview);
    let s = h.screen();
    assert_eq!(s.lines().find(|l| l.contains("Filters:")).expect("filters"), filters, "same filters: {s}");
    assert_eq!(selected_row(&h), row, "same selection: {s}");
}

#[test]
fn an_event_of_no_case_says_so_instead_of_jumping() {
    let mut h = leo_reviewing();
    // The newest event is leo's sign-in, which belongs to no case.
    h.press(Key::Enter);
    assert!(h.screen().contains("- (this event belongs to no case)"), "{}", h.screen());
    h.press(Key::Char('o'));
    assert_eq!(h.app.view(), ScreenId::AuditEvent);
    assert!(h.screen().contains("This event belongs to no case."), "{}", h.screen());
}

/// Every active filter shows at 80x24 (and at 60x16), the line wrapping onto a second one
/// instead of cutting the last filters off; so does a filter being typed beside the others.
#[test]
fn every_active_filter_stays_visible_in_a_small_window() {
    for (w, hgt) in [(80, 24), (60, 16)] {
        let mut h = Harness::new(w, hgt, COLOR);
        h.app.set_utc_offset(FixedOffset::east_opt(0).expect("offset"));
        h.sign_in("leo", "leo-demo-pass");
        h.press(Key::Ctrl('r'));
        h.press(Key::Char('t'));
        h.press(Key::Char('r'));
        h.type_text("rita");
        h.press(Key::Enter);
        h.press(Key::Char('a'));
        h.type_text("Carla Mendes");
        h.press(Key::Enter);
        h.press(Key::Char('k'));
        h.press(Key::Char('f'));
        h.press(Key::Char('c'));
        h.type_text("12");
        let typing = h.screen();
        h.press(Key::Enter);
        let s = h.screen();
        for shown in [&s, &typing] {
            for filter in ["last day", "rep rita", "account Carla Mendes", "kind ", "failures only", "case 12"] {
                assert!(shown.contains(filter), "{w}x{hgt}: {filter} hidden:\n{shown}");
            }
            assert!(!shown.lines().any(|l| l.starts_with("Filters:") && l.contains('…')), "{w}x{hgt}: cut:\n{shown}");
        }
        assert!(typing.contains("Case number: 12"), "the field being typed shows too:\n{typing}");
        assert!(s.contains("Chain: ✔ intact"), "{w}x{hgt}: the chain line stays:\n{s}");
    }
}

/// At 60 columns the event table still fits: the time drops its year, narrower columns are cut
/// with "…" (never mid-word without it), and the outcome keeps room for its reason.
#[test]
fn review_columns_are_cut_with_an_ellipsis_at_60_columns() {
    let mut h = Harness::new(60, 16, COLOR);
    h.app.set_utc_offset(FixedOffset::east_opt(0).expect("offset"));
    h.sign_in("leo", "leo-demo-pass");
    h.press(Key::Ctrl('r'));
    for _ in 0..5 {
        h.press(Key::Tab);
    }
    let s = h.screen();
    assert!(s.contains("View: Sign-in failures"), "{s}");
    let row = s.lines().find(|l| l.contains("sign in")).unwrap_or_else(|| panic!("a sign-in failure row:\n{s}"));
    let kind = row.split("sign in ").nth(1).and_then(|rest| rest.split_whitespace().next()).unwrap_or_default();
    assert!(kind == "failed" || kind.ends_with('…'), "the event is whole or ends in …: {row}");
    assert!(row.contains("fail (unkn"), "the outcome keeps its reason's start: {row}");
    assert!(row.trim_end().ends_with('…') || row.contains("fail (unknown_or_wrong)"), "{row}");
    for l in s.lines().filter(|l| l.contains("Time") && l.contains("Outcome")) {
        assert!(l.contains("Rep") && l.contains("Event") && l.contains("Account") && l.contains("Case"), "{l}");
    }
    h.press(Key::Tab);
    let s = h.screen();
    let header = s.lines().find(|l| l.contains("Failures")).unwrap_or_else(|| panic!("{s}"));
    assert!(header.contains("Last failure"), "the spread table's last column is whole: {header}");
}

#[test]
fn a_long_pattern_list_scrolls_so_the_selected_row_stays_in_sight() {
    let mut h = Harness::new(100, 24, COLOR);
    h.app.set_utc_offset(FixedOffset::east_opt(0).expect("offset"));
    // Forty accounts, each failed by two reps today: forty rows, more than the screen holds.
    {
        use support_desk::desk::audit::{self, EventKind, NewEvent};
        let mut conn = rusqlite::Connection::open(h.db()).expect("open");
        let tx = conn.transaction().expect("tx");
        for n in 1..=40 {
            for rep in ["rita", "leo"] {
                let e = NewEvent { rep: Some(rep.into()), account_id: Some(format!("X-{n:03}")), outcome: "fail".into(), ..NewEvent::default() };
                audit::append(&tx, chrono::Utc::now(), EventKind::PinRejected, &e).expect("append");
            }
        }
        tx.commit().expect("commit");
    }
    h.sign_in("leo", "leo-demo-pass");
    h.press(Key::Ctrl('r'));
    while !h.screen().contains("View: Accounts failing across reps") {
        h.press(Key::Tab);
    }
    let s = h.screen();
    assert!(s.contains("X-001") && !s.contains("X-040"), "{s}");
    for _ in 0..36 {
        h.press(Key::Down);
    }
    let s = h.screen();
    // Rows are ordered by spread, failures, then id: the example's S-2002 (four failures) first,
    // then. The 37th row is selected and drawn, the first ones scrolled away.
    let selected = s.lines().find(|l| l.contains("X-036")).unwrap_or_else(|| panic!("X-036 in sight: {s}"));
    assert!(selected.contains("(not in the directory)"), "{selected}");
    assert!(!s.contains("X-001"), "scrolled past the first row: {s}");
    let buffer = h.term.backend().buffer().clone();
    let y = s.lines().position(|l| l.contains("X-036")).expect("row") as u16;
    let x = s.lines().nth(y as usize).and_then(|l| l.find("X-036")).expect("column") as u16;
    assert_ne!(buffer[(x, y)].bg, Color::Reset, "the selected row is marked");
}

#[test]
fn without_colour_a_lockout_bar_is_marked_in_the_chart() {
    let mut h = Harness::new(100, 30, Theme { color: false });
    h.app.set_utc_offset(FixedOffset::east_opt(0).expect("offset"));
    {
        use support_desk::desk::audit::{self, EventKind, NewEvent};
        let mut conn = rusqlite::Connection::open(h.db()).expect("open");
        let tx = conn.transaction().expect("tx");
        let e = NewEvent { rep: Some("rita".into()), account_id: Some("S-2001".into()), outcome: "locked".into(), ..NewEvent::default() };
        audit::append(&tx, chrono::Utc::now(), EventKind::PinLocked, &e).expect("append");
        tx.commit().expect("commit");
    }
    h.sign_in("leo", "leo-demo-pass");
    h.press(Key::Ctrl('r'));
    while !h.screen().contains("View: Chart") {
        h.press(Key::Tab);
    }
    h.press(Key::Char('t'));
    let s = h.screen();
    assert!(s.contains("Lockouts (bars marked !)"), "{s}");
    assert!(s.lines().any(|l| l.contains("1!")), "the bar's number carries the mark: {s}");
}

#[test]
fn a_refused_review_note_stays_in_its_prompt_and_a_pasted_case_number_filters() {
    let mut h = leo_reviewing();
    let before = h.head_seq();
    h.press(Key::Char('R'));
    h.type_text("Reviewed ticket 12 34");
    h.press(Key::Enter);
    let s = h.screen();
    assert!(s.contains("must not contain 4 or more digits"), "{s}");
    assert!(s.contains("Reviewed ticket 12 34"), "the note is still there to correct: {s}");
    for _ in 0..6 {
        h.press(Key::Backspace);
    }
    h.type_text(" ok");
    h.press(Key::Enter);
    let events = h.events_after(before);
    assert!(events.iter().any(|e| e.0 == "audit_reviewed" && e.2 == "ok"), "{events:?}");
    let detail: String = rusqlite::Connection::open(h.db())
        .expect("open")
        .query_row("SELECT detail FROM audit_events WHERE kind = 'audit_reviewed' ORDER BY seq DESC LIMIT 1", [], |r| r.get(0))
        .expect("the review");
    assert!(detail.contains("Reviewed ticket ok"), "{detail}");
    // A case number pasted as the lists show it: "#1 ".
    h.press(Key::Char('c'));
    h.paste("#1 ");
    h.press(Key::Enter);
    let filters = h.screen().lines().find(|l| l.contains("Filters:")).expect("filters").to_string();
    assert!(filters.contains("case #1") || filters.contains("case 1"), "{filters}");
}
