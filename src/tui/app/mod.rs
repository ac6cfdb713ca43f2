//! The app: the stack of screens, the signed-in rep, and `apply`, the one place that calls the
//! core and picks the next screen. The core calls are grouped by what they serve: the call
//! (`call.rs`), cases (`cases.rs`) and the lead's review (`review.rs`).

mod call;
mod cases;
mod review;

use crate::desk::{Desk, DeskError, Session};
use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, GLOBAL, Key, ScreenId, help_command};
use crate::tui::screens::lookup::Lookup;
use crate::tui::screens::pin_entry::{PinEntry, PinFor};
use crate::tui::screens::sign_in::SignIn;
use crate::tui::screens::{Holds, Screen};
use crate::tui::theme::Theme;
use crate::tui::widgets::footer::{footer, help_footer};
use crate::tui::widgets::help::{HelpFit, help};
use crate::tui::widgets::text::{fit, width, wrap};
use ratatui::Frame;
use ratatui::crossterm::event::{Event, KeyEventKind};
use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use std::time::{Duration, Instant};

/// Smallest window the screens are drawn in; below it a notice says so.
pub const MIN_WIDTH: u16 = 60;
/// See [`MIN_WIDTH`].
pub const MIN_HEIGHT: u16 = 16;

/// A line under the screen: information or an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

/// A lookup for the search thread: the newest request wins.
#[derive(Debug)]
pub struct SearchRequest {
    pub generation: u64,
    pub screen: ScreenId,
    pub query: String,
}

/// What the search thread found for a request.
#[derive(Debug)]
pub struct Found {
    pub generation: u64,
    pub screen: ScreenId,
    pub results: Result<Vec<crate::desk::AccountSummary>, String>,
}

/// The app's end of the search thread.
pub struct SearchLink {
    pub requests: std::sync::mpsc::Sender<SearchRequest>,
    pub interrupt: rusqlite::InterruptHandle,
    pub generation: u64,
}

/// The whole TUI state.
pub struct App {
    searcher: Option<SearchLink>,
    desk: Desk,
    theme: Theme,
    session: Option<Session>,
    /// The screens, the one showing on top. Never empty: sign-in, or the caller search, is at the
    /// bottom; Esc pops back to where a screen was opened from, as it was left.
    stack: Vec<Screen>,
    /// The viewer's time zone for the audit review (times are stored in UTC).
    utc_offset: chrono::FixedOffset,
    help: bool,
    /// How many lines the help is scrolled down.
    help_scroll: u16,
    /// How far the help drawn last could scroll and its page: what fitted is only known while
    /// drawing, which records it here (the way ratatui's stateful widgets keep their offset) and
    /// changes nothing else.
    help_fit: std::cell::Cell<HelpFit>,
    status: Option<Status>,
    pending: Option<Action>,
    quit: bool,
    /// Why the sign-out on quitting could not be recorded, to say once the terminal is back.
    unrecorded_sign_out: Option<String>,
    last_input: Instant,
    /// The idle timeout in force, read once at sign-in (not on every tick).
    idle_minutes: u64,
    /// When the idle timeout was last read from the policy.
    idle_read_at: Instant,
    /// When the card's PIN match was last read again.
    match_read_at: Instant,
}

/// The screen of type `T` nearest the top of `stack`. A free function, so the app can hold it
/// while it calls the desk (a field borrowed beside another).
fn find_in<T: Holds>(stack: &mut [Screen]) -> Option<&mut T> {
    stack.iter_mut().rev().find_map(T::held_mut)
}

impl App {
    /// A new app on the sign-in screen.
    pub fn new(desk: Desk, theme: Theme) -> App {
        App {
            searcher: None,
            desk,
            theme,
            session: None,
            stack: vec![SignIn::default().into()],
            utc_offset: *chrono::Local::now().offset(),
            help: false,
            help_scroll: 0,
            help_fit: std::cell::Cell::new(HelpFit::default()),
            status: None,
            pending: None,
            quit: false,
            unrecorded_sign_out: None,
            last_input: Instant::now(),
            idle_minutes: 15,
            idle_read_at: Instant::now(),
            match_read_at: Instant::now(),
        }
    }

    /// Looks accounts up on a search thread from now on (the terminal loop does this; tests
    /// without it look up in line, which is deterministic).
    pub fn attach_searcher(&mut self, link: SearchLink) {
        self.searcher = Some(link);
    }

    /// Results from the search thread: shown only if they answer the newest keystroke.
    pub fn found(&mut self, found: Found) {
        let Some(link) = &self.searcher else { return };
        if found.generation != link.generation || !matches!(found.screen, ScreenId::Lookup | ScreenId::TargetLookup) {
            return;
        }
        let list = self.stack.iter_mut().rev().filter_map(Lookup::held_mut).find(|l| l.screen == found.screen);
        match (found.results, list) {
            (Ok(results), Some(list)) => list.set_results(results),
            // The earlier results go with the failure: they do not answer what is typed now.
            (Err(e), Some(list)) => list.set_failed(e),
            (Err(e), None) => self.status = Some(Status { text: e, error: true }),
            (Ok(_), None) => {}
        }
    }

    /// The screen showing.
    pub fn view(&self) -> ScreenId {
        self.top().id()
    }

    /// True once the rep asked to quit.
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// Why the sign-out on quitting was not recorded, if it was not (disk full, lock held).
    pub fn unrecorded_sign_out(&self) -> Option<&str> {
        self.unrecorded_sign_out.as_deref()
    }

    /// The signed-in rep, if any.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// Shows review times in this time zone instead of the machine's (tests, a lead elsewhere).
    pub fn set_utc_offset(&mut self, offset: chrono::FixedOffset) {
        self.utc_offset = offset;
        if let Some(r) = self.find_mut::<crate::tui::screens::audit_review::AuditReview>() {
            r.offset = offset;
        }
    }

    /// The desk (tests read the audit trail through it).
    pub fn desk(&self) -> &Desk {
        &self.desk
    }

    // The stack is never empty: it starts with a screen, `reset_stack` leaves one, and every pop
    // (`back`, `pop_if`, `pop_target_lookup`) keeps the bottom one.
    fn top(&self) -> &Screen {
        self.stack.last().expect("the stack always holds sign-in or the caller search")
    }

    fn top_mut(&mut self) -> &mut Screen {
        self.stack.last_mut().expect("the stack always holds sign-in or the caller search")
    }

    fn push(&mut self, screen: impl Into<Screen>) {
        self.stack.push(screen.into());
    }

    /// Starts over from one screen (sign-in, or the caller search).
    fn reset_stack(&mut self, screen: impl Into<Screen>) {
        self.stack = vec![screen.into()];
    }

    /// Takes the top screen off if it is a `T` (a form done, a PIN checked).
    fn pop_if<T: Holds>(&mut self) {
        if self.stack.len() > 1 && T::held(self.top()).is_some() {
            self.stack.pop();
        }
    }

    /// Takes the target lookup off the top, if it is there (its choice was made).
    fn pop_target_lookup(&mut self) {
        if self.stack.len() > 1 && self.view() == ScreenId::TargetLookup {
            self.stack.pop();
        }
    }

    fn find<T: Holds>(&self) -> Option<&T> {
        self.stack.iter().rev().find_map(T::held)
    }

    fn find_mut<T: Holds>(&mut self) -> Option<&mut T> {
        find_in(&mut self.stack)
    }

    /// Handles one terminal event. Only key presses count (not releases or repeats).
    pub fn handle_event(&mut self, event: Event, now: Instant) {
        match event {
            Event::Key(ke) if ke.kind == KeyEventKind::Press => {
                self.last_input = now;
                if let Some(key) = Key::from_event(&ke) {
                    self.handle_key(key);
                }
            }
            Event::Paste(text) => {
                self.last_input = now;
                self.paste(&text);
            }
            _ => {}
        }
    }

    /// Handles one key.
    pub fn handle_key(&mut self, key: Key) {
        if self.pending.is_some() {
            // A PIN check is running; only quitting is possible.
            if key == Key::Ctrl('c') {
                self.apply(Action::Quit);
            }
            return;
        }
        if self.help {
            if key == Key::Ctrl('c') {
                return self.apply(Action::Quit);
            }
            let fit = self.help_fit.get();
            match help_command(key) {
                Some(Cmd::Up) => self.help_scroll = self.help_scroll.saturating_sub(1),
                Some(Cmd::Down) => self.help_scroll = (self.help_scroll + 1).min(fit.max_scroll),
                Some(Cmd::PageUp) => self.help_scroll = self.help_scroll.saturating_sub(fit.page),
                Some(Cmd::PageDown) => self.help_scroll = (self.help_scroll + fit.page).min(fit.max_scroll),
                Some(Cmd::Back) => self.help = false,
                _ => {}
            }
            return;
        }
        let captures_text = self.top().captures_text();
        let global = GLOBAL.iter().find(|b| b.keys.contains(&key)).map(|b| b.cmd);
        match global {
            Some(Cmd::Quit) => return self.apply(Action::Quit),
            Some(Cmd::Help) if !(captures_text && matches!(key, Key::Char(_))) => {
                return self.apply(Action::ToggleHelp);
            }
            _ => {}
        }
        self.status = None;
        if let Some(action) = self.top_mut().handle_key(key) {
            self.apply(action);
        }
    }

    fn paste(&mut self, text: &str) {
        if self.help || self.pending.is_some() {
            return;
        }
        if let Some(action) = self.top_mut().paste(text) {
            self.apply(action);
        }
    }

    /// Signs out an idle rep once the idle timeout has passed since the last key.
    pub fn tick(&mut self, now: Instant) {
        let Some(session) = self.session.clone() else { return };
        // A PIN match shown on the card stops counting at the idle timeout: the card says so then.
        // A PIN match shown on the card is read again every few seconds: it stops counting at the
        // idle timeout, when a lead shortens that, or when this rep's call ends in another terminal.
        let shows_match = self.find::<crate::tui::screens::caller_card::Card>().is_some_and(|c| c.matched_until.is_some());
        if shows_match && now.saturating_duration_since(self.match_read_at) >= Duration::from_secs(2) {
            self.match_read_at = now;
            self.sync_call_verification();
        }
        // A lead may shorten the idle timeout while reps are signed in: after a minute without a
        // key the value in force is read again (at most every 10 seconds).
        let idle = now.saturating_duration_since(self.last_input);
        if idle >= Duration::from_secs(60) && now.saturating_duration_since(self.idle_read_at) >= Duration::from_secs(10) {
            self.idle_read_at = now;
            if let Ok(policy) = self.desk.policy() {
                self.idle_minutes = policy.idle_timeout_minutes.max(1) as u64;
            }
        }
        let minutes = self.idle_minutes;
        if idle < Duration::from_secs(minutes * 60) {
            return;
        }
        let _ = self.desk.sign_out(&session, true);
        let unit = if minutes == 1 { "minute" } else { "minutes" };
        self.reset_to_sign_in(Some(format!("Signed out after {minutes} {unit} without a key press. Sign in again.")));
    }

    /// Before the process is suspended (Ctrl-Z): digits typed into the PIN field are forgotten, so
    /// nothing of a PIN survives in memory or shows again on resume.
    pub fn forget_typed_pin(&mut self) {
        if let Some(p) = self.find_mut::<PinEntry>() {
            p.clear();
        }
    }

    /// True when an action waits to run after the next draw (a PIN check shows "checking..." first).
    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Runs the pending action, if any.
    pub fn run_pending(&mut self) {
        match self.pending.take() {
            Some(Action::SubmitPin(pin)) => match self.find::<PinEntry>().map(|p| p.purpose.clone()) {
                Some(PinFor::Call) => self.check_pin(&pin),
                Some(purpose) => self.check_pin_in_case(&pin, purpose),
                None => {}
            },
            Some(Action::VerifyChain) => self.verify_chain(),
            _ => {}
        }
    }

    fn reset_to_sign_in(&mut self, message: Option<String>) {
        self.session = None;
        self.reset_stack(SignIn { message, ..SignIn::default() });
        self.help = false;
        self.status = None;
    }

    fn error(&mut self, e: DeskError) {
        if matches!(e, DeskError::SessionEnded) {
            self.reset_to_sign_in(Some(e.to_string()));
            return;
        }
        self.status = Some(Status { text: e.to_string(), error: true });
    }

    fn info(&mut self, text: impl Into<String>) {
        self.status = Some(Status { text: text.into(), error: false });
    }

    fn refuse(&mut self, text: impl Into<String>) {
        self.status = Some(Status { text: text.into(), error: true });
    }

    /// Applies an action: the only place the TUI calls the core.
    pub fn apply(&mut self, action: Action) {
        match action {
            Action::ToggleHelp => {
                self.help = !self.help;
                self.help_scroll = 0;
            }
            Action::Quit => {
                self.end_call_on_leaving();
                if let Some(s) = self.session.take()
                    && let Err(e) = self.desk.sign_out(&s, false)
                {
                    self.unrecorded_sign_out = Some(e.to_string());
                }
                self.quit = true;
            }
            Action::Back => self.back(),
            Action::SignIn { username, passphrase } => self.sign_in(&username, &passphrase),
            Action::SignOut => {
                self.end_call_on_leaving();
                if let Some(s) = self.session.take()
                    && let Err(e) = self.desk.sign_out(&s, false)
                {
                    self.session = Some(s);
                    return self.error(e);
                }
                self.reset_to_sign_in(Some("Signed out.".into()));
            }
            Action::Search(query) => self.search(query),
            Action::SubmitLookup => self.submit_lookup(),
            Action::NewCall => self.new_call(),
            // The call.
            Action::OpenCard(id) => self.open_card(&id),
            Action::StartPinEntry => {
                if let Some((_, name)) = self.caller() {
                    self.push(PinEntry::new(name, PinFor::Call));
                }
            }
            Action::SubmitPin(pin) => self.pending = Some(Action::SubmitPin(pin)),
            Action::ChooseTarget => self.choose_target(),
            Action::Decide(request) => self.decide(request),
            Action::StartUnlock => self.start_unlock(),
            Action::SubmitUnlock(note) => self.submit_unlock(&note),
            Action::StartCaseUnlock => self.start_case_unlock(),
            Action::StartClearLock => self.start_clear_lock(),
            Action::SubmitClearLock(reason) => self.submit_clear_lock(&reason),
            // Cases.
            Action::ShowCases => self.show_queue(),
            Action::StartCase => self.start_case(),
            Action::OpenCase(request) => self.open_case(request),
            Action::ViewCase(id) => self.show_case(id),
            Action::StartCasePin { approver } => self.start_case_pin(approver),
            Action::CaseVerdict => self.case_verdict(),
            Action::StartNote => self.start_note(),
            Action::SubmitNote(text) => self.submit_note(&text),
            Action::StartReply => self.start_reply(),
            Action::SubmitReply { reference, from } => self.submit_reply(&reference, &from),
            Action::MarkAwaiting => self.mark_awaiting(),
            Action::StartClose => self.start_close(),
            Action::CloseCase(outcome) => self.close_case(outcome, None),
            Action::CloseDuplicate(of) => self.close_case(crate::desk::CaseOutcome::Duplicate, Some(of)),
            // The lead's review.
            Action::OpenReview => self.open_review(),
            Action::RefreshReview => self.refresh_review(),
            Action::MoreReview(before) => self.more_review(before),
            Action::ShowAuditEvent(seq) => self.show_audit_event(seq),
            Action::OpenEventCase => self.open_event_case(),
            Action::SetReviewRange(text) => self.set_review_range(&text),
            Action::RecordReview(note) => self.record_review(&note),
            Action::VerifyChain => self.start_verify_chain(),
        }
    }

    /// Esc: back to the screen below, as it was left. Leaving a case refreshes what it was opened
    /// from (the queue's lists, the card's recent cases), since the case may have changed.
    fn back(&mut self) {
        if self.stack.len() <= 1 {
            return;
        }
        let left = self.stack.pop();
        if matches!(left, Some(Screen::Case(_))) {
            match self.view() {
                ScreenId::Cases => self.reload_queue(),
                ScreenId::Card => self.refresh_recent_cases(),
                _ => {}
            }
        }
    }

    /// Draws the whole screen. Drawing never changes state and never touches the database.
    pub fn render(&self, f: &mut Frame<'_>) {
        let area = f.area();
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            let msg = format!("window too small (need {MIN_WIDTH}x{MIN_HEIGHT})");
            let lines: Vec<Line> =
                wrap(&msg, area.width as usize, area.height as usize).into_iter().map(Line::raw).collect();
            f.render_widget(Paragraph::new(lines), area);
            return;
        }
        let view = self.view();
        let hints = if self.help { help_footer(self.theme, area.width) } else { footer(view, self.theme, area.width) };
        // The status message is wrapped (up to 3 rows), never cut: the rep reads all of it.
        let status_lines = match &self.status {
            Some(s) => wrap(&s.text, (area.width as usize).saturating_sub(1), 3),
            None => Vec::new(),
        };
        let [header, body, status, foot] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(status_lines.len().max(1) as u16),
            Constraint::Length(hints.len() as u16),
        ])
        .areas(area);
        let who = match &self.session {
            Some(s) => format!("{} ({}) ", s.display_name, s.role.as_str()),
            None => "not signed in ".to_string(),
        };
        // The screen's title on the left, who is signed in on the right, at least two spaces
        // between them; each gives way (cut with "…") rather than running into the other.
        let total = area.width as usize;
        let who = fit(&who, total.saturating_sub(2) / 2);
        let title = fit(&format!(" support-desk · {}", view.title()), total.saturating_sub(width(&who) + 2));
        let pad = total.saturating_sub(width(&title) + width(&who));
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(title, self.theme.title()),
                Span::raw(" ".repeat(pad)),
                Span::styled(who, self.theme.dim()),
            ])),
            header,
        );
        self.top().render(f, body, self.theme);
        if let Some(s) = &self.status {
            let style = if s.error { self.theme.error() } else { self.theme.good() };
            let lines: Vec<Line> = status_lines.into_iter().map(|l| Line::styled(format!(" {l}"), style)).collect();
            f.render_widget(Paragraph::new(lines), status);
        }
        f.render_widget(Paragraph::new(hints), foot);
        if self.help {
            self.help_fit.set(help(f, body, view, self.theme, self.help_scroll));
        }
    }
}

