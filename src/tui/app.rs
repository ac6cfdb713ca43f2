//! The app: which screen is up, the signed-in rep, and `apply`, the one place that calls the
//! core and picks the next screen.

use crate::desk::{
    AccountId, ApprovalOutcome, CaseFilter, CaseId, CaseStatus, Desk, DeskError, PinCheck, Request, Session,
    SignIn as SignInOutcome,
};
use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, GLOBAL, Key, ScreenId, bindings, keys_label};
use crate::tui::screens::audit_review::AuditReview;
use crate::tui::screens::caller_card::{Card, RECENT_CASES};
use crate::tui::screens::clear_lock::ClearLock;
use crate::tui::screens::case_close::CaseClose;
use crate::tui::screens::case_form::CaseForm;
use crate::tui::screens::case_queue::CaseQueue;
use crate::tui::screens::case_view::CaseView;
use crate::tui::screens::new_case::NewCase;
use crate::desk::review::EventView;
use crate::tui::screens::audit_review::{PAGE, ReviewView};
use crate::tui::screens::lookup::{Lookup, RESULT_LIMIT};
use crate::tui::screens::pin_entry::PinEntry;
use crate::tui::screens::sign_in::SignIn;
use crate::tui::screens::unlock::Unlock;
use crate::tui::screens::verdict::VerdictView;
use crate::tui::theme::Theme;
use crate::tui::widgets::footer::footer;
use crate::tui::widgets::text::{fit, wrap};
use ratatui::Frame;
use ratatui::crossterm::event::{Event, KeyEventKind};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
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

/// Whose Support PIN the PIN screen checks.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PinFor {
    /// The caller on the card, outside any case (the quick call).
    Call,
    /// The caller of the case on screen: verification for that case.
    CaseCaller(CaseId),
    /// The provider who must approve the case on screen.
    CaseApprover(CaseId, AccountId),
}

/// How many cases each queue list loads.
const QUEUE_LIMIT: usize = 200;

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
    view: ScreenId,
    sign_in: SignIn,
    lookup: Lookup,
    target: Lookup,
    card: Option<Card>,
    pin: Option<PinEntry>,
    verdict: Option<VerdictView>,
    unlock: Option<Unlock>,
    clear_lock: Option<ClearLock>,
    queue: Option<CaseQueue>,
    new_case: Option<NewCase>,
    case: Option<CaseView>,
    case_form: Option<CaseForm>,
    case_close: Option<CaseClose>,
    pin_for: PinFor,
    /// Where Esc on the verdict goes (the card, or the case it was shown for).
    verdict_back: ScreenId,
    /// Where Esc on the case goes (the queue, or the caller card it was started from).
    case_back: ScreenId,
    review: Option<AuditReview>,
    /// The viewer's time zone for the audit review (times are stored in UTC).
    utc_offset: chrono::FixedOffset,
    help: bool,
    status: Option<Status>,
    pending: Option<Action>,
    quit: bool,
    last_input: Instant,
    /// The idle timeout in force, read once at sign-in (not on every tick).
    idle_minutes: u64,
}

impl App {
    /// A new app on the sign-in screen.
    pub fn new(desk: Desk, theme: Theme) -> App {
        App {
            searcher: None,
            desk,
            theme,
            session: None,
            view: ScreenId::SignIn,
            sign_in: SignIn::default(),
            lookup: Lookup::new(ScreenId::Lookup),
            target: Lookup::new(ScreenId::TargetLookup),
            card: None,
            pin: None,
            verdict: None,
            unlock: None,
            clear_lock: None,
            queue: None,
            new_case: None,
            case: None,
            case_form: None,
            case_close: None,
            pin_for: PinFor::Call,
            verdict_back: ScreenId::Card,
            case_back: ScreenId::Cases,
            review: None,
            utc_offset: *chrono::Local::now().offset(),
            help: false,
            status: None,
            pending: None,
            quit: false,
            last_input: Instant::now(),
            idle_minutes: 15,
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
        if found.generation != link.generation {
            return;
        }
        let list = match found.screen {
            ScreenId::TargetLookup => &mut self.target,
            ScreenId::Lookup => &mut self.lookup,
            _ => return,
        };
        match found.results {
            Ok(results) => list.set_results(results),
            Err(e) => self.status = Some(Status { text: e, error: true }),
        }
    }

    fn current_query(&self) -> String {
        if self.view == ScreenId::TargetLookup { self.target.query.clone() } else { self.lookup.query.clone() }
    }

    /// The screen showing.
    pub fn view(&self) -> ScreenId {
        self.view
    }

    /// True once the rep asked to quit.
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// The signed-in rep, if any.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// Shows review times in this time zone instead of the machine's (tests, a lead elsewhere).
    pub fn set_utc_offset(&mut self, offset: chrono::FixedOffset) {
        self.utc_offset = offset;
        if let Some(r) = self.review.as_mut() {
            r.offset = offset;
        }
    }

    /// The desk (tests read the audit trail through it).
    pub fn desk(&self) -> &Desk {
        &self.desk
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
            match key {
                Key::Ctrl('c') => self.apply(Action::Quit),
                Key::Esc | Key::F(1) | Key::Char('?') | Key::Enter => self.help = false,
                _ => {}
            }
            return;
        }
        let captures_text = match self.view {
            ScreenId::SignIn => self.sign_in.captures_text(),
            ScreenId::Unlock | ScreenId::ClearLock | ScreenId::CaseNote | ScreenId::CaseReply => true,
            ScreenId::AuditReview => self.review.as_ref().is_some_and(AuditReview::captures_text),
            _ => false,
        };
        let global = GLOBAL.iter().find(|b| b.keys.contains(&key)).map(|b| b.cmd);
        match global {
            Some(Cmd::Quit) => return self.apply(Action::Quit),
            Some(Cmd::Help) if !(captures_text && matches!(key, Key::Char(_))) => {
                return self.apply(Action::ToggleHelp);
            }
            _ => {}
        }
        self.status = None;
        let action = match self.view {
            ScreenId::SignIn => self.sign_in.handle_key(key),
            ScreenId::Lookup => self.lookup.handle_key(key),
            ScreenId::TargetLookup => self.target.handle_key(key),
            ScreenId::Card => self.card.as_mut().and_then(|c| c.handle_key(key)),
            ScreenId::PinEntry => self.pin.as_mut().and_then(|p| p.handle_key(key)),
            ScreenId::Verdict => self.verdict.as_mut().and_then(|v| v.handle_key(key)),
            ScreenId::Unlock => self.unlock.as_mut().and_then(|u| u.handle_key(key)),
            ScreenId::ClearLock => self.clear_lock.as_mut().and_then(|c| c.handle_key(key)),
            ScreenId::Cases => self.queue.as_mut().and_then(|q| q.handle_key(key)),
            ScreenId::NewCase => self.new_case.as_mut().and_then(|n| n.handle_key(key)),
            ScreenId::Case => self.case.as_mut().and_then(|c| c.handle_key(key)),
            ScreenId::CaseNote | ScreenId::CaseReply => self.case_form.as_mut().and_then(|c| c.handle_key(key)),
            ScreenId::CaseClose => self.case_close.as_mut().and_then(|c| c.handle_key(key)),
            ScreenId::AuditReview => self.review.as_mut().and_then(|r| r.handle_key(key)),
            ScreenId::AuditEvent => self.review.as_mut().and_then(|r| r.handle_detail_key(key)),
        };
        if let Some(action) = action {
            self.apply(action);
        }
    }

    fn paste(&mut self, text: &str) {
        if self.help || self.pending.is_some() {
            return;
        }
        let action = match self.view {
            ScreenId::SignIn => {
                self.sign_in.paste(text);
                None
            }
            ScreenId::Lookup => self.lookup.paste(text),
            ScreenId::TargetLookup => self.target.paste(text),
            ScreenId::PinEntry => {
                if let Some(p) = self.pin.as_mut() {
                    p.paste(text);
                }
                None
            }
            ScreenId::Unlock => {
                if let Some(u) = self.unlock.as_mut() {
                    u.paste(text);
                }
                None
            }
            ScreenId::ClearLock => {
                if let Some(c) = self.clear_lock.as_mut() {
                    c.paste(text);
                }
                None
            }
            ScreenId::Cases => {
                if let Some(q) = self.queue.as_mut() {
                    q.paste(text);
                }
                None
            }
            ScreenId::CaseNote | ScreenId::CaseReply => {
                if let Some(c) = self.case_form.as_mut() {
                    c.paste(text);
                }
                None
            }
            ScreenId::AuditReview => self.review.as_mut().and_then(|r| r.paste(text)),
            ScreenId::Card
            | ScreenId::Verdict
            | ScreenId::NewCase
            | ScreenId::Case
            | ScreenId::CaseClose
            | ScreenId::AuditEvent => None,
        };
        if let Some(action) = action {
            self.apply(action);
        }
    }

    /// Signs out an idle rep once the idle timeout has passed since the last key.
    pub fn tick(&mut self, now: Instant) {
        let Some(session) = self.session.clone() else { return };
        let minutes = self.idle_minutes;
        if now.saturating_duration_since(self.last_input) < Duration::from_secs(minutes * 60) {
            return;
        }
        let _ = self.desk.sign_out(&session, true);
        self.reset_to_sign_in(Some(format!("Signed out after {minutes} minutes without a key press. Sign in again.")));
    }

    /// Before the process is suspended (Ctrl-Z): digits typed into the PIN field are forgotten, so
    /// nothing of a PIN survives in memory or shows again on resume.
    pub fn forget_typed_pin(&mut self) {
        if let Some(p) = self.pin.as_mut() {
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
            Some(Action::SubmitPin(pin)) if self.pin_for == PinFor::Call => self.check_pin(&pin),
            Some(Action::SubmitPin(pin)) => self.check_pin_in_case(&pin),
            Some(Action::VerifyChain) => self.verify_chain(),
            _ => {}
        }
    }

    fn reset_to_sign_in(&mut self, message: Option<String>) {
        self.session = None;
        self.sign_in = SignIn { message, ..SignIn::default() };
        self.lookup = Lookup::new(ScreenId::Lookup);
        self.target = Lookup::new(ScreenId::TargetLookup);
        self.card = None;
        self.pin = None;
        self.verdict = None;
        self.unlock = None;
        self.clear_lock = None;
        self.clear_cases();
        self.review = None;
        self.help = false;
        self.status = None;
        self.view = ScreenId::SignIn;
    }

    fn clear_cases(&mut self) {
        self.queue = None;
        self.new_case = None;
        self.case = None;
        self.case_form = None;
        self.case_close = None;
        self.pin_for = PinFor::Call;
        self.verdict_back = ScreenId::Card;
        self.case_back = ScreenId::Cases;
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

    fn caller(&self) -> Option<(AccountId, String)> {
        self.card.as_ref().map(|c| (c.card.account.id.clone(), c.card.account.name.clone()))
    }

    /// Applies an action: the only place the TUI calls the core.
    pub fn apply(&mut self, action: Action) {
        match action {
            Action::ToggleHelp => self.help = !self.help,
            Action::Quit => {
                if let Some(s) = self.session.take() {
                    let _ = self.desk.sign_out(&s, false);
                }
                self.quit = true;
            }
            Action::SignIn { username, passphrase } => match self.desk.sign_in(&username, &passphrase) {
                Ok(SignInOutcome::SignedIn(session)) => {
                    let name = session.display_name.clone();
                    self.reset_to_sign_in(None);
                    self.session = Some(session);
                    self.idle_minutes = self.desk.policy().map(|p| p.idle_timeout_minutes).unwrap_or(15).max(1) as u64;
                    self.view = ScreenId::Lookup;
                    self.info(format!("Signed in as {name}."));
                }
                Ok(SignInOutcome::Refused) => {
                    self.sign_in.clear_passphrase();
                    // The number is the policy in force (`rep_lockout_threshold`), not a constant.
                    let lockout = match self.desk.policy() {
                        Ok(p) => format!("{} failures in a row lock the account", p.rep_lockout_threshold),
                        Err(_) => "repeated failures lock the account".to_string(),
                    };
                    self.sign_in.message =
                        Some(format!("Sign-in failed: wrong username or passphrase. {lockout}; a lead can re-enable it."));
                }
                Err(e) => self.sign_in.message = Some(e.to_string()),
            },
            Action::SignOut => {
                if let Some(s) = self.session.take() {
                    if let Err(e) = self.desk.sign_out(&s, false) {
                        self.session = Some(s);
                        return self.error(e);
                    }
                }
                self.reset_to_sign_in(Some("Signed out.".into()));
            }
            Action::Search(query) => {
                if let Some(link) = self.searcher.as_mut() {
                    // A newer keystroke supersedes the lookup still running: stop it, ask again.
                    link.generation += 1;
                    link.interrupt.interrupt();
                    if link.requests.send(SearchRequest { generation: link.generation, screen: self.view, query }).is_ok() {
                        return;
                    }
                    self.searcher = None;
                    return self.apply(Action::Search(self.current_query()));
                }
                let list = if self.view == ScreenId::TargetLookup { &mut self.target } else { &mut self.lookup };
                match self.desk.lookup(&query, RESULT_LIMIT) {
                    Ok(results) => list.set_results(results),
                    Err(e) => self.error(e),
                }
            }
            Action::OpenCard(id) => {
                let Some(session) = self.session.clone() else { return };
                match self.desk.open_card(&session, &id) {
                    Ok(card) => {
                        let recent = self.recent_cases(&card.account.id);
                        self.card = Some(Card::new(card, recent.unwrap_or_default(), self.desk.now()));
                        self.view = ScreenId::Card;
                    }
                    Err(e) => self.error(e),
                }
            }
            Action::StartPinEntry => {
                if let Some((_, name)) = self.caller() {
                    self.pin_for = PinFor::Call;
                    self.pin = Some(PinEntry::new(name));
                    self.view = ScreenId::PinEntry;
                }
            }
            Action::SubmitPin(pin) => self.pending = Some(Action::SubmitPin(pin)),
            Action::ChooseTarget => {
                if let Some((_, name)) = self.caller() {
                    self.target = Lookup::new(ScreenId::TargetLookup);
                    self.target.caller_name = Some(name);
                    self.target.for_case = self.view == ScreenId::NewCase;
                    self.view = ScreenId::TargetLookup;
                }
            }
            Action::Decide(request) => self.decide(request),
            Action::StartUnlock => {
                if let Some((_, name)) = self.caller() {
                    self.unlock = Some(Unlock::new(name));
                    self.view = ScreenId::Unlock;
                }
            }
            Action::SubmitUnlock(note) => self.submit_unlock(&note),
            Action::StartClearLock => self.start_clear_lock(),
            Action::SubmitClearLock(reason) => self.submit_clear_lock(&reason),
            Action::Back => {
                self.view = match self.view {
                    ScreenId::Card => ScreenId::Lookup,
                    ScreenId::PinEntry if self.pin_for != PinFor::Call => {
                        self.pin = None;
                        ScreenId::Case
                    }
                    ScreenId::TargetLookup if self.target.for_case => ScreenId::NewCase,
                    ScreenId::Verdict if self.verdict_back == ScreenId::Case => ScreenId::Case,
                    ScreenId::PinEntry
                    | ScreenId::TargetLookup
                    | ScreenId::Verdict
                    | ScreenId::Unlock
                    | ScreenId::ClearLock => {
                        self.pin = None;
                        self.clear_lock = None;
                        ScreenId::Card
                    }
                    ScreenId::NewCase => {
                        self.new_case = None;
                        ScreenId::Card
                    }
                    ScreenId::Cases => {
                        self.queue = None;
                        ScreenId::Lookup
                    }
                    ScreenId::Case => match self.case_back {
                        ScreenId::Cases => {
                            self.load_queue();
                            ScreenId::Cases
                        }
                        // The review as the lead left it: same view, filters, selection and event.
                        ScreenId::AuditEvent if self.review.is_some() => ScreenId::AuditEvent,
                        _ if self.card.is_some() => {
                            self.refresh_recent_cases();
                            ScreenId::Card
                        }
                        _ => ScreenId::Lookup,
                    },
                    ScreenId::CaseNote | ScreenId::CaseReply | ScreenId::CaseClose => {
                        self.case_form = None;
                        self.case_close = None;
                        ScreenId::Case
                    }
                    ScreenId::AuditReview => {
                        self.review = None;
                        ScreenId::Lookup
                    }
                    ScreenId::AuditEvent => {
                        if let Some(r) = self.review.as_mut() {
                            r.detail = None;
                        }
                        ScreenId::AuditReview
                    }
                    other => other,
                };
            }
            Action::OpenReview => self.open_review(),
            Action::RefreshReview => self.refresh_review(),
            Action::MoreReview(before) => self.more_review(before),
            Action::ShowAuditEvent(seq) => {
                let Some(session) = self.session.clone() else { return };
                match self.desk.event_detail(Some(&session), seq) {
                    Ok(detail) => {
                        if let Some(r) = self.review.as_mut() {
                            r.detail = Some(detail);
                            self.view = ScreenId::AuditEvent;
                        }
                    }
                    Err(e) => self.error(e),
                }
            }
            Action::OpenEventCase => match self.review.as_ref().and_then(AuditReview::detail_case) {
                Some(id) => {
                    self.case_back = ScreenId::AuditEvent;
                    self.show_case(CaseId(id));
                }
                None => self.info("This event belongs to no case."),
            },
            Action::SetReviewRange(text) => self.set_review_range(&text),
            Action::RecordReview(note) => self.record_review(&note),
            Action::VerifyChain => {
                if let Some(r) = self.review.as_mut() {
                    r.chain = None;
                }
                self.pending = Some(Action::VerifyChain);
            }
            Action::NewCall => {
                self.card = None;
                self.pin = None;
                self.verdict = None;
                self.unlock = None;
                self.clear_lock = None;
                self.clear_cases();
                self.lookup = Lookup::new(ScreenId::Lookup);
                self.view = ScreenId::Lookup;
            }
            Action::ShowCases => {
                if self.load_queue() {
                    self.view = ScreenId::Cases;
                }
            }
            Action::StartCase => {
                if let Some((_, name)) = self.caller() {
                    self.new_case = Some(NewCase::new(name));
                    self.view = ScreenId::NewCase;
                }
            }
            Action::OpenCase(request) => self.open_case(request),
            Action::ViewCase(id) => {
                // Esc on the case comes back to where it was opened from.
                self.case_back = self.view;
                self.show_case(id);
            }
            Action::StartCasePin { approver } => self.start_case_pin(approver),
            Action::CaseVerdict => self.case_verdict(),
            Action::StartNote => {
                let title = self.case.as_ref().map(CaseView::title);
                if let Some(title) = title.filter(|_| self.case_is_open()) {
                    self.case_form = Some(CaseForm::note(title));
                    self.view = ScreenId::CaseNote;
                }
            }
            Action::SubmitNote(text) => self.submit_note(&text),
            Action::StartReply => self.start_reply(),
            Action::SubmitReply { reference, from } => self.submit_reply(&reference, &from),
            Action::MarkAwaiting => {
                let (Some(session), Some(id)) = (self.session.clone(), self.case_id()) else { return };
                match self.desk.set_case_status(&session, id, CaseStatus::AwaitingApproval) {
                    Ok(()) => {
                        self.reload_case();
                        self.info("The case is awaiting the provider's approval.");
                    }
                    Err(e) => self.error(e),
                }
            }
            Action::StartClose => {
                let title = self.case.as_ref().map(CaseView::title);
                if let Some(title) = title.filter(|_| self.case_is_open()) {
                    self.case_close = Some(CaseClose { title });
                    self.view = ScreenId::CaseClose;
                }
            }
            Action::CloseCase(outcome) => {
                let (Some(session), Some(id)) = (self.session.clone(), self.case_id()) else { return };
                let result = self.desk.close_case(&session, id, outcome);
                self.case_close = None;
                self.view = ScreenId::Case;
                match result {
                    Ok(()) => {
                        self.reload_case();
                        self.info(format!("Case #{id} closed: {}.", outcome.as_str()));
                    }
                    Err(e) => self.error(e),
                }
            }
        }
    }

    /// The account's most recent cases for its card; an error is shown and the list left empty.
    fn recent_cases(&mut self, account: &AccountId) -> Option<Vec<crate::desk::CaseSummary>> {
        let filter = CaseFilter { account: Some(account.clone()), limit: RECENT_CASES, ..CaseFilter::default() };
        match self.desk.list_cases(&filter) {
            Ok(cases) => Some(cases),
            Err(e) => {
                self.error(e);
                None
            }
        }
    }

    /// Back on the card after a case: its recent cases as they are now.
    fn refresh_recent_cases(&mut self) {
        let Some((id, _)) = self.caller() else { return };
        if let Some(recent) = self.recent_cases(&id) {
            let now = self.desk.now();
            if let Some(card) = self.card.as_mut() {
                card.set_recent(recent, now);
            }
        }
    }

    fn case_id(&self) -> Option<CaseId> {
        self.case.as_ref().map(|c| c.detail.summary.id)
    }

    /// True when the case on screen is open; otherwise says so in the status line.
    fn case_is_open(&mut self) -> bool {
        let closed = self.case.as_ref().is_some_and(|c| c.detail.summary.status == CaseStatus::Closed);
        if closed {
            self.status = Some(Status { text: "This case is closed; start a new case for a new request.".into(), error: true });
        }
        !closed
    }

    /// Loads the three queue lists; false (with the error shown) when it could not.
    fn load_queue(&mut self) -> bool {
        let Some(session) = self.session.clone() else { return false };
        let now = self.desk.now();
        let lists = (|| -> Result<CaseQueue, DeskError> {
            let mine: Vec<_> = self
                .desk
                .list_cases(&CaseFilter { touched_by: Some(session.rep_id.0), limit: QUEUE_LIMIT, ..CaseFilter::default() })?
                .into_iter()
                .filter(|c| c.status != CaseStatus::Closed)
                .collect();
            let awaiting = self.desk.list_cases(&CaseFilter {
                status: Some(CaseStatus::AwaitingApproval),
                limit: QUEUE_LIMIT,
                ..CaseFilter::default()
            })?;
            let closed = self.desk.list_cases(&CaseFilter {
                status: Some(CaseStatus::Closed),
                limit: QUEUE_LIMIT,
                ..CaseFilter::default()
            })?;
            Ok(CaseQueue::new(mine, awaiting, closed, now))
        })();
        match lists {
            Ok(mut q) => {
                if let Some(old) = &self.queue {
                    q.list = old.list;
                    q.filter = old.filter.clone();
                }
                self.queue = Some(q);
                true
            }
            Err(e) => {
                self.error(e);
                false
            }
        }
    }

    fn show_case(&mut self, id: CaseId) {
        match self.desk.case_detail(id) {
            Ok(detail) => {
                self.case = Some(CaseView::new(detail));
                self.view = ScreenId::Case;
            }
            Err(e) => self.error(e),
        }
    }

    fn reload_case(&mut self) {
        let Some(id) = self.case_id() else { return };
        match self.desk.case_detail(id) {
            Ok(detail) => self.case = Some(CaseView::new(detail)),
            Err(e) => self.error(e),
        }
    }

    fn open_case(&mut self, request: Request) {
        let (Some(session), Some((caller, _))) = (self.session.clone(), self.caller()) else { return };
        let channel = self.new_case.as_ref().map(|n| n.channel).unwrap_or(crate::desk::Channel::Phone);
        match self.desk.open_case(&session, channel, &caller, &request) {
            Ok(id) => {
                self.new_case = None;
                self.case_back = ScreenId::Card;
                self.show_case(id);
                self.info(format!("Case #{id} opened. Next: p to check the caller's Support PIN in this case."));
            }
            Err(e) => {
                self.view = ScreenId::NewCase;
                self.error(e);
            }
        }
    }

    fn start_case_pin(&mut self, approver: bool) {
        let Some(c) = &self.case else { return };
        let d = &c.detail;
        let id = d.summary.id;
        if d.summary.status == CaseStatus::Closed {
            self.case_is_open();
            return;
        }
        if approver {
            let Some(a) = d.approver.clone() else {
                self.status = Some(Status { text: "This case's request needs no provider's approval.".into(), error: true });
                return;
            };
            self.pin = Some(PinEntry::new(format!("{} (approving provider, case #{id})", a.name)));
            self.pin_for = PinFor::CaseApprover(id, a.id);
        } else {
            self.pin = Some(PinEntry::new(format!("{} (case #{id})", d.summary.caller.name)));
            self.pin_for = PinFor::CaseCaller(id);
        }
        self.view = ScreenId::PinEntry;
    }

    fn check_pin_in_case(&mut self, pin: &crate::desk::Pin) {
        let Some(session) = self.session.clone() else { return };
        let (case, account) = match &self.pin_for {
            PinFor::CaseCaller(case) => match &self.case {
                Some(c) => (*case, c.detail.summary.caller.id.clone()),
                None => return,
            },
            PinFor::CaseApprover(case, account) => (*case, account.clone()),
            PinFor::Call => return,
        };
        let result = self.desk.check_pin_in_case(&session, case, &account, pin);
        self.pin = None;
        self.view = ScreenId::Case;
        match result {
            Ok(c) => {
                self.reload_case();
                let whose = if c.checked_as == crate::desk::CheckedAs::Approver { "The provider's" } else { "The caller's" };
                match (c.check, &c.approval) {
                    (Some(PinCheck::Matched), Some(a)) => self.info(format!(
                        "{whose} Support PIN matched: approval by {} recorded. Next: v verdict.",
                        a.provider.name
                    )),
                    (Some(PinCheck::Matched), None) => self.info(format!("{whose} Support PIN matched for this case. Next: v verdict.")),
                    (Some(PinCheck::Rejected { attempts_left }), _) => self.status = Some(Status {
                        text: format!(
                            "{whose} Support PIN did not match ({} of {} failed checks in this case; {attempts_left} before it locks).",
                            c.failures_in_case, c.limit
                        ),
                        error: true,
                    }),
                    (Some(PinCheck::Locked), _) => self.status = Some(Status {
                        text: format!("{whose} Support PIN is locked. The holder must generate a new one in their settings."),
                        error: true,
                    }),
                    (None, _) => self.status = Some(Status {
                        text: format!("Not checked: verification ended for this case after {} failed checks. Close it (x).", c.failures_in_case),
                        error: true,
                    }),
                }
            }
            Err(e) => self.error(e),
        }
    }

    fn case_verdict(&mut self) {
        let (Some(session), Some(c)) = (self.session.clone(), self.case.as_ref()) else { return };
        let id = c.detail.summary.id;
        let request = format!("Case #{id}: {}", c.detail.summary.request_label());
        let caller_name = c.detail.summary.caller.name.clone();
        match self.desk.case_verdict(&session, id) {
            Ok(v) => {
                let outcome = v.expired_approval.as_ref().filter(|_| v.approval.is_none()).map(|a| {
                    format!("The approval by {} expired at {}; a new approval is needed.", a.provider.name, a.expires_at)
                });
                self.reload_case();
                self.verdict = Some(VerdictView { shown: v.shown, request, caller_name, outcome });
                self.verdict_back = ScreenId::Case;
                self.view = ScreenId::Verdict;
            }
            Err(e) => self.error(e),
        }
    }

    fn submit_note(&mut self, text: &str) {
        let (Some(session), Some(id)) = (self.session.clone(), self.case_id()) else { return };
        match self.desk.add_case_note(&session, id, text) {
            Ok(()) => {
                self.case_form = None;
                self.view = ScreenId::Case;
                self.reload_case();
                self.info("Note saved on the case.");
            }
            Err(DeskError::Invalid(why)) => {
                if let Some(f) = self.case_form.as_mut() {
                    f.set_message(why);
                }
            }
            Err(e) => self.error(e),
        }
    }

    fn start_reply(&mut self) {
        let Some(c) = &self.case else { return };
        if c.detail.summary.status == CaseStatus::Closed {
            self.case_is_open();
            return;
        }
        let Some(a) = &c.detail.approver else {
            self.status = Some(Status { text: "This case's request needs no provider's approval.".into(), error: true });
            return;
        };
        let hint = format!(
            "Only {} ({}) can approve, by a reply from {}.",
            a.name,
            a.id,
            c.detail.approver_email.as_deref().unwrap_or("their email of record")
        );
        self.case_form = Some(CaseForm::reply(c.title(), hint));
        self.view = ScreenId::CaseReply;
    }

    fn submit_reply(&mut self, reference: &str, from: &str) {
        let (Some(session), Some(id)) = (self.session.clone(), self.case_id()) else { return };
        match self.desk.approve_by_reply(&session, id, reference, from) {
            Ok(ApprovalOutcome::Recorded { approval }) => {
                self.case_form = None;
                self.view = ScreenId::Case;
                self.reload_case();
                self.info(format!("Approval by {} recorded. Next: v verdict.", approval.provider.name));
            }
            Ok(ApprovalOutcome::Refused { reason, .. }) => {
                self.reload_case();
                if let Some(f) = self.case_form.as_mut() {
                    f.set_message(format!("Not approved: {reason}"));
                }
            }
            Err(DeskError::Invalid(why)) => {
                if let Some(f) = self.case_form.as_mut() {
                    f.set_message(why);
                }
            }
            Err(e) => self.error(e),
        }
    }

    fn open_review(&mut self) {
        let Some(session) = self.session.clone() else { return };
        let mut review = AuditReview::new(self.utc_offset);
        // The core decides who may review: a rep gets its refusal here, in words.
        match self.desk.review_page(Some(&session), &review.filter, EventView::All, None, PAGE) {
            Ok(page) => review.set_events(page.events, page.more),
            Err(e) => return self.error(e),
        }
        self.review = Some(review);
        self.view = ScreenId::AuditReview;
        self.pending = Some(Action::VerifyChain);
    }

    fn refresh_review(&mut self) {
        let (Some(session), Some(r)) = (self.session.clone(), self.review.as_mut()) else { return };
        let by = Some(&session);
        let result = match r.view {
            ReviewView::Events(view) => {
                self.desk.review_page(by, &r.filter, view, None, PAGE).map(|p| r.set_events(p.events, p.more))
            }
            ReviewView::AccountsAcrossReps => self.desk.accounts_failing_across_reps(by, &r.filter).map(|s| {
                r.spreads = s;
                r.selected = 0;
            }),
            ReviewView::RepsAcrossAccounts => self.desk.reps_failing_across_accounts(by, &r.filter).map(|s| {
                r.spreads = s;
                r.selected = 0;
            }),
            ReviewView::Chart => self.desk.failure_chart(by, &r.filter, r.offset).map(|c| r.chart = Some(c)),
        };
        if let Err(e) = result {
            self.error(e);
        }
    }

    fn more_review(&mut self, before: i64) {
        let (Some(session), Some(r)) = (self.session.clone(), self.review.as_mut()) else { return };
        let ReviewView::Events(view) = r.view else { return };
        match self.desk.review_page(Some(&session), &r.filter, view, Some(before), PAGE) {
            Ok(page) => r.append_events(page.events, page.more),
            Err(e) => self.error(e),
        }
    }

    fn set_review_range(&mut self, text: &str) {
        let now = self.desk.now();
        let offset = self.utc_offset;
        let (since, until) = text.split_once("..").unwrap_or((text, ""));
        let read = |t: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, DeskError> {
            let t = t.trim();
            if t.is_empty() { Ok(None) } else { crate::desk::review::parse_time(t, now, offset).map(Some) }
        };
        match (read(since), read(until)) {
            (Ok(since), Ok(until)) => {
                if let Some(r) = self.review.as_mut() {
                    r.filter.range = if since.is_none() && until.is_none() {
                        crate::desk::review::TimeRange::All
                    } else {
                        crate::desk::review::TimeRange::Custom { since, until }
                    };
                }
                self.refresh_review();
            }
            (Err(e), _) | (_, Err(e)) => self.error(e),
        }
    }

    fn record_review(&mut self, note: &str) {
        let (Some(session), Some(range)) = (self.session.clone(), self.review.as_ref().map(|r| r.filter.range.clone())) else {
            return;
        };
        match self.desk.record_review(&session, &range, note) {
            Ok(record) => {
                self.info(format!(
                    "Review recorded as audit event #{}: events #{} to #{}, chain intact up to #{} (head {}…).",
                    record.event_seq,
                    record.first_seq,
                    record.last_seq,
                    record.head_seq,
                    crate::desk::audit::short_hash(&record.head_hash)
                ));
                self.refresh_review();
            }
            Err(e) => self.error(e),
        }
    }

    fn verify_chain(&mut self) {
        match self.desk.verify_trail(&[]) {
            Ok(result) => {
                if let Some(r) = self.review.as_mut() {
                    r.chain = Some(result);
                }
            }
            Err(e) => self.error(e),
        }
    }

    fn check_pin(&mut self, pin: &crate::desk::Pin) {
        let (Some(session), Some((id, _))) = (self.session.clone(), self.caller()) else { return };
        let result = self.desk.check_pin(&session, &id, pin);
        if let Some(p) = self.pin.as_mut() {
            p.checking = false;
        }
        match result {
            Ok(outcome) => {
                let refreshed = self.desk.account(&id);
                if let Some(card) = self.card.as_mut() {
                    card.last_check = Some(outcome);
                    if let Ok(Some(account)) = refreshed {
                        card.card.account = account;
                    }
                }
                self.pin = None;
                self.view = ScreenId::Card;
                match outcome {
                    PinCheck::Matched => self.info("Support PIN matched. Next: a own account, o on behalf of, u unlock."),
                    PinCheck::Rejected { attempts_left } => self.status = Some(Status {
                        text: format!("Support PIN did not match. {attempts_left} attempt(s) left."),
                        error: true,
                    }),
                    PinCheck::Locked => self.status = Some(Status {
                        text: "Support PIN is locked. The holder must generate a new one in their settings.".into(),
                        error: true,
                    }),
                }
            }
            Err(e) => self.error(e),
        }
    }

    fn decide(&mut self, request: Request) {
        let (Some(session), Some((caller, caller_name))) = (self.session.clone(), self.caller()) else { return };
        let description = match &request {
            Request::OwnAccount => "Own account".to_string(),
            Request::Unlock => "Account unlock".to_string(),
            Request::OnBehalfOf(target) => {
                let name = self
                    .target
                    .results
                    .iter()
                    .find(|a| &a.id == target)
                    .map(|a| format!("{} ({}, {})", a.name, a.id, a.role.label()))
                    .unwrap_or_else(|| target.to_string());
                format!("On behalf of {name}")
            }
        };
        match self.desk.decide(&session, &caller, &request) {
            Ok(shown) => {
                self.verdict = Some(VerdictView { shown, request: description, caller_name, outcome: None });
                self.verdict_back = ScreenId::Card;
                self.view = ScreenId::Verdict;
            }
            Err(e) => self.error(e),
        }
    }

    fn submit_unlock(&mut self, note: &str) {
        let (Some(session), Some((caller, caller_name))) = (self.session.clone(), self.caller()) else { return };
        match self.desk.unlock(&session, &caller, note) {
            Ok(result) => {
                let outcome = if result.unlocked {
                    Some("Unlocked. The caller can sign in again.".to_string())
                } else if result.verdict.decision.verdict == crate::desk::Verdict::Assist {
                    Some("Was not locked; nothing changed.".to_string())
                } else {
                    None
                };
                if let (Some(card), Ok(Some(account))) = (self.card.as_mut(), self.desk.account(&caller)) {
                    card.card.account = account;
                }
                self.unlock = None;
                self.verdict = Some(VerdictView { shown: result.verdict, request: "Account unlock".into(), caller_name, outcome });
                self.verdict_back = ScreenId::Card;
                self.view = ScreenId::Verdict;
            }
            Err(DeskError::Invalid(why)) => {
                if let Some(u) = self.unlock.as_mut() {
                    u.set_message(why);
                }
            }
            Err(e) => self.error(e),
        }
    }

    /// Leads get the reason prompt; a rep is told at once (the core refuses a rep as well).
    fn start_clear_lock(&mut self) {
        let (Some(session), Some((_, name))) = (self.session.clone(), self.caller()) else { return };
        if session.role != crate::desk::RepRole::Lead {
            self.status = Some(Status { text: "Only a lead can clear a Support PIN lock; ask your lead.".into(), error: true });
            return;
        }
        let locked = self.card.as_ref().is_some_and(|c| c.card.account.pin_locked);
        if !locked {
            self.info("The Support PIN is not locked; there is nothing to clear.");
            return;
        }
        self.clear_lock = Some(ClearLock::new(name));
        self.view = ScreenId::ClearLock;
    }

    fn submit_clear_lock(&mut self, reason: &str) {
        let (Some(session), Some((id, _))) = (self.session.clone(), self.caller()) else { return };
        match self.desk.clear_pin_lock(&session, &id, reason) {
            Ok(cleared) => {
                if let (Some(card), Ok(Some(account))) = (self.card.as_mut(), self.desk.account(&id)) {
                    card.card.account = account;
                    card.last_check = None;
                }
                self.clear_lock = None;
                self.view = ScreenId::Card;
                if cleared {
                    self.info("Support PIN lock cleared (audited with your reason). The failure count starts again at 0.");
                } else {
                    self.info("The Support PIN was not locked; nothing changed.");
                }
            }
            Err(DeskError::Invalid(why)) => {
                if let Some(c) = self.clear_lock.as_mut() {
                    c.set_message(why);
                }
            }
            Err(e) => {
                self.clear_lock = None;
                self.view = ScreenId::Card;
                self.error(e);
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
        let hints = footer(self.view, self.theme, area.width);
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
        let title = format!(" support-desk · {}", self.view.title());
        let pad = (area.width as usize).saturating_sub(crate::tui::widgets::text::width(&title) + crate::tui::widgets::text::width(&who));
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(title, self.theme.title()),
                Span::raw(" ".repeat(pad)),
                Span::styled(fit(&who, area.width as usize / 2), self.theme.dim()),
            ])),
            header,
        );
        match self.view {
            ScreenId::SignIn => self.sign_in.render(f, body, self.theme),
            ScreenId::Lookup => self.lookup.render(f, body, self.theme),
            ScreenId::TargetLookup => self.target.render(f, body, self.theme),
            ScreenId::Card => {
                if let Some(c) = &self.card {
                    c.render(f, body, self.theme);
                }
            }
            ScreenId::PinEntry => {
                if let Some(p) = &self.pin {
                    p.render(f, body, self.theme);
                }
            }
            ScreenId::Verdict => {
                if let Some(v) = &self.verdict {
                    v.render(f, body, self.theme);
                }
            }
            ScreenId::Unlock => {
                if let Some(u) = &self.unlock {
                    u.render(f, body, self.theme);
                }
            }
            ScreenId::ClearLock => {
                if let Some(c) = &self.clear_lock {
                    c.render(f, body, self.theme);
                }
            }
            ScreenId::Cases => {
                if let Some(q) = &self.queue {
                    q.render(f, body, self.theme);
                }
            }
            ScreenId::NewCase => {
                if let Some(n) = &self.new_case {
                    n.render(f, body, self.theme);
                }
            }
            ScreenId::Case => {
                if let Some(c) = &self.case {
                    c.render(f, body, self.theme);
                }
            }
            ScreenId::CaseNote | ScreenId::CaseReply => {
                if let Some(c) = &self.case_form {
                    c.render(f, body, self.theme);
                }
            }
            ScreenId::CaseClose => {
                if let Some(c) = &self.case_close {
                    c.render(f, body, self.theme);
                    c.render(f, body, self.theme);
                }
            }
            ScreenId::AuditReview | ScreenId::AuditEvent => {
                if let Some(r) = &self.review {
                    r.render(f, body, self.theme);
                }
            }
        }
        if let Some(s) = &self.status {
            let style = if s.error { self.theme.error() } else { self.theme.good() };
            let lines: Vec<Line> = status_lines.into_iter().map(|l| Line::styled(format!(" {l}"), style)).collect();
            f.render_widget(Paragraph::new(lines), status);
        }
        f.render_widget(Paragraph::new(hints), foot);
        if self.help {
            self.render_help(f, body);
        }
    }

    fn render_help(&self, f: &mut Frame<'_>, area: Rect) {
        let rows: Vec<_> = bindings(self.view).iter().chain(GLOBAL).collect();
        let key_w = rows.iter().map(|b| keys_label(b).chars().count()).max().unwrap_or(4);
        let w = area.width.saturating_sub(4).min(90);
        let h = (rows.len() as u16 + 4).min(area.height);
        let popup = Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h };
        let mut lines = vec![Line::raw("")];
        for b in rows {
            lines.push(Line::from(vec![
                Span::styled(format!(" {:<key_w$}  ", keys_label(b)), self.theme.key()),
                Span::raw(fit(b.desc, (w as usize).saturating_sub(key_w + 5))),
            ]));
        }
        f.render_widget(Clear, popup);
        let block = Block::bordered().title(Span::styled(format!(" Keys: {} (Esc closes) ", self.view.title()), self.theme.title()));
        f.render_widget(Paragraph::new(lines).block(block), popup);
    }
}
