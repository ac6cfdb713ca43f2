//! One key table per screen. The same table drives key handling, the footer hints, the `?` help
//! overlay and the README's key tables, so they cannot disagree.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// A key as the desk understands it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Ctrl(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Up,
    Down,
    PageUp,
    PageDown,
    Backspace,
    F(u8),
}

impl Key {
    /// The desk's key for a terminal key event (`None` for keys the desk ignores).
    pub fn from_event(ev: &KeyEvent) -> Option<Key> {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        Some(match ev.code {
            KeyCode::Char(c) if ctrl => Key::Ctrl(c.to_ascii_lowercase()),
            KeyCode::Char(c) => Key::Char(c),
            KeyCode::Enter => Key::Enter,
            KeyCode::Esc => Key::Esc,
            KeyCode::Tab => Key::Tab,
            KeyCode::BackTab => Key::BackTab,
            KeyCode::Up => Key::Up,
            KeyCode::Down => Key::Down,
            KeyCode::PageUp => Key::PageUp,
            KeyCode::PageDown => Key::PageDown,
            KeyCode::Backspace => Key::Backspace,
            KeyCode::F(n) => Key::F(n),
            _ => return None,
        })
    }

    /// How the key is written in hints and help.
    pub fn label(self) -> String {
        match self {
            Key::Char(' ') => "Space".into(),
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Key::Enter => "Enter".into(),
            Key::Esc => "Esc".into(),
            Key::Tab => "Tab".into(),
            Key::BackTab => "Shift-Tab".into(),
            Key::Up => "↑".into(),
            Key::Down => "↓".into(),
            Key::PageUp => "PgUp".into(),
            Key::PageDown => "PgDn".into(),
            Key::Backspace => "Backspace".into(),
            Key::F(n) => format!("F{n}"),
        }
    }
}

/// What a key asks for, before a screen adds the details that make it an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmd {
    Quit,
    Help,
    Back,
    NextField,
    PrevField,
    Submit,
    Up,
    Down,
    PageUp,
    PageDown,
    Erase,
    ClearField,
    // Audit review (leads).
    OpenReview,
    ReviewTime,
    ReviewCustomTime,
    ReviewRep,
    ReviewAccount,
    ReviewKind,
    ReviewFailures,
    ReviewCase,
    ReviewClear,
    RecordReview,
    VerifyChain,
    OpenEventCase,
    CheckPin,
    OwnAccount,
    OnBehalf,
    Unlock,
    ClearLock,
    NewCall,
    SignOut,
    Suspend,
    Cases,
    StartCase,
    NextList,
    NextChannel,
    CheckApproverPin,
    RecordReply,
    CaseVerdict,
    AddNote,
    MarkAwaiting,
    CloseCase,
    Assisted,
    Refused,
    Abandoned,
    Duplicate,
}

/// One row of a key table.
#[derive(Clone, Copy, Debug)]
pub struct Binding {
    pub keys: &'static [Key],
    pub cmd: Cmd,
    /// Short words for the footer.
    pub hint: &'static str,
    /// A sentence for the help overlay and the README.
    pub desc: &'static str,
    /// Shown in the footer (all rows are shown in help).
    pub footer: bool,
}

const fn b(keys: &'static [Key], cmd: Cmd, hint: &'static str, desc: &'static str, footer: bool) -> Binding {
    Binding { keys, cmd, hint, desc, footer }
}

/// The screens, each with its own key table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScreenId {
    SignIn,
    Lookup,
    TargetLookup,
    Card,
    PinEntry,
    Verdict,
    Unlock,
    ClearLock,
    Cases,
    NewCase,
    Case,
    CaseNote,
    CaseReply,
    CaseClose,
    AuditReview,
    AuditEvent,
}

impl ScreenId {
    /// Every screen, in the order a call visits them.
    pub const ALL: &'static [ScreenId] = &[
        ScreenId::SignIn,
        ScreenId::Lookup,
        ScreenId::Card,
        ScreenId::PinEntry,
        ScreenId::TargetLookup,
        ScreenId::Verdict,
        ScreenId::Unlock,
        ScreenId::ClearLock,
        ScreenId::Cases,
        ScreenId::NewCase,
        ScreenId::Case,
        ScreenId::CaseNote,
        ScreenId::CaseReply,
        ScreenId::CaseClose,
        ScreenId::AuditReview,
        ScreenId::AuditEvent,
    ];

    /// The screen's title.
    pub fn title(self) -> &'static str {
        match self {
            ScreenId::SignIn => "Sign in",
            ScreenId::Lookup => "Find the caller",
            ScreenId::TargetLookup => "On behalf of whom?",
            ScreenId::Card => "Caller card",
            ScreenId::PinEntry => "Check the Support PIN",
            ScreenId::Verdict => "Verdict",
            ScreenId::Unlock => "Account unlock",
            ScreenId::ClearLock => "Clear a Support PIN lock",
            ScreenId::Cases => "Case queue",
            ScreenId::NewCase => "New case",
            ScreenId::Case => "Case",
            ScreenId::CaseNote => "Add a note",
            ScreenId::CaseReply => "Record the provider's reply",
            ScreenId::CaseClose => "Close the case",
            ScreenId::AuditReview => "Audit review (leads)",
            ScreenId::AuditEvent => "Audit event (leads)",
        }
    }
}

/// Keys that work on every screen.
pub const GLOBAL: &[Binding] = &[
    b(&[Key::F(1), Key::Char('?')], Cmd::Help, "help", "Show or hide this key help (F1 anywhere; ? except in the passphrase, note and reason fields, where it is typed)", true),
    b(&[Key::Ctrl('c')], Cmd::Quit, "quit", "Quit cleanly from anywhere (signs you out)", true),
    b(&[Key::Ctrl('z')], Cmd::Suspend, "suspend", "Suspend to the shell (`fg` resumes; typed PIN digits are cleared)", false),
];

const SIGN_IN: &[Binding] = &[
    b(&[Key::Tab, Key::Down], Cmd::NextField, "next field", "Move from username to passphrase", true),
    b(&[Key::BackTab, Key::Up], Cmd::PrevField, "previous field", "Move back to the username", false),
    b(&[Key::Enter], Cmd::Submit, "sign in", "On the username: move to the passphrase; on the passphrase: sign in", true),
    b(&[Key::Backspace], Cmd::Erase, "erase", "Erase the last character", false),
];

const LOOKUP: &[Binding] = &[
    b(&[Key::Up, Key::Down], Cmd::Down, "move", "Move through the results (↑ up, ↓ down)", true),
    b(&[Key::PageUp, Key::PageDown], Cmd::PageDown, "page", "Move a page through the results", false),
    b(&[Key::Enter], Cmd::Submit, "open card", "Open the selected caller's card (audited)", true),
    b(&[Key::Esc], Cmd::ClearField, "clear", "Clear the search", true),
    b(&[Key::Backspace], Cmd::Erase, "erase", "Erase the last character", false),
    b(&[Key::Ctrl('o')], Cmd::SignOut, "sign out", "Sign out", true),
    b(&[Key::Ctrl('k')], Cmd::Cases, "cases", "Open the case queue", true),
    b(&[Key::Ctrl('r')], Cmd::OpenReview, "audit review", "Review the audit trail (leads only; a rep is refused)", true),
];

const TARGET_LOOKUP: &[Binding] = &[
    b(&[Key::Up, Key::Down], Cmd::Down, "move", "Move through the results (↑ up, ↓ down)", true),
    b(&[Key::PageUp, Key::PageDown], Cmd::PageDown, "page", "Move a page through the results", false),
    b(&[Key::Enter], Cmd::Submit, "verdict", "Choose the selected account as the target and show the verdict", true),
    b(&[Key::Esc], Cmd::Back, "back", "Back to the caller card", true),
    b(&[Key::Backspace], Cmd::Erase, "erase", "Erase the last character", false),
];

const CARD: &[Binding] = &[
    b(&[Key::Char('p')], Cmd::CheckPin, "check PIN", "Check the Support PIN the caller reads out", true),
    b(&[Key::Char('a')], Cmd::OwnAccount, "own account", "Verdict for help with the caller's own account", true),
    b(&[Key::Char('o')], Cmd::OnBehalf, "on behalf of", "Verdict for help with someone else's account (pick the target)", true),
    b(&[Key::Char('u')], Cmd::Unlock, "unlock", "Unlock the caller's own account (no PIN; note how they were identified)", true),
    b(&[Key::Char('c')], Cmd::StartCase, "open case", "Open a case for this caller (the PIN is then checked inside the case)", true),
    // Not in the footer (the card's list says how to use them); in help.
    b(&[Key::Up, Key::Down], Cmd::Down, "choose case", "Choose one of the account's recent cases (↑ up, ↓ down)", false),
    b(&[Key::Enter], Cmd::Submit, "recent case", "Open the chosen recent case: its header and timeline (Esc comes back to the card)", false),
    b(&[Key::Char('l')], Cmd::ClearLock, "clear PIN lock", "Leads: clear a locked Support PIN, with a reason (audited)", false),
    // Not in the footer (it would wrap at 100 columns); in help, and in the verdict's footer.
    b(&[Key::Char('n')], Cmd::NewCall, "new call", "End this call and find the next caller", false),
    b(&[Key::Esc], Cmd::Back, "back", "Back to the search results", true),
];

const PIN_ENTRY: &[Binding] = &[
    b(&[Key::Enter], Cmd::Submit, "check", "Check the PIN (once all four digits are in)", true),
    b(&[Key::Backspace], Cmd::Erase, "erase", "Erase the last digit", true),
    b(&[Key::Esc], Cmd::Back, "back", "Back to the caller card (digits are discarded)", true),
];

const VERDICT: &[Binding] = &[
    b(&[Key::Esc, Key::Enter], Cmd::Back, "back", "Back to the caller card", true),
    b(&[Key::Char('n')], Cmd::NewCall, "new call", "End this call and find the next caller", true),
];

const UNLOCK: &[Binding] = &[
    b(&[Key::Enter], Cmd::Submit, "unlock", "Record how the caller was identified and unlock", true),
    b(&[Key::Backspace], Cmd::Erase, "erase", "Erase the last character", false),
    b(&[Key::Esc], Cmd::Back, "back", "Back to the caller card (nothing is recorded)", true),
];

const CLEAR_LOCK: &[Binding] = &[
    b(&[Key::Enter], Cmd::Submit, "clear lock", "Record the reason and clear the Support PIN lock", true),
    b(&[Key::Backspace], Cmd::Erase, "erase", "Erase the last character", false),
    b(&[Key::Esc], Cmd::Back, "back", "Back to the caller card (nothing is recorded)", true),
];

const CASES: &[Binding] = &[
    b(&[Key::Tab], Cmd::NextList, "next list", "Next list: my open cases, all awaiting approval, recently closed", true),
    b(&[Key::Up, Key::Down], Cmd::Down, "move", "Move through the cases (↑ up, ↓ down)", true),
    b(&[Key::Enter], Cmd::Submit, "open case", "Open the selected case", true),
    b(&[Key::Backspace], Cmd::Erase, "erase", "Erase the last character of the filter (type to filter)", false),
    b(&[Key::Esc], Cmd::Back, "back", "Back to finding the caller", true),
];

const NEW_CASE: &[Binding] = &[
    b(&[Key::Tab], Cmd::NextChannel, "channel", "Next channel: phone, email, portal", true),
    b(&[Key::Char('a')], Cmd::OwnAccount, "own account", "Open the case for help with the caller's own account", true),
    b(&[Key::Char('o')], Cmd::OnBehalf, "on behalf of", "Open the case for help with someone else's account (pick the target)", true),
    b(&[Key::Char('u')], Cmd::Unlock, "unlock", "Open the case for an unlock of the caller's own account", true),
    b(&[Key::Esc], Cmd::Back, "back", "Back to the caller card (nothing is opened)", true),
];

const CASE: &[Binding] = &[
    b(&[Key::Char('p')], Cmd::CheckPin, "caller's PIN", "Check the caller's Support PIN in this case (a match verifies them for this case only)", true),
    b(&[Key::Char('v')], Cmd::CaseVerdict, "verdict", "Show the case's verdict (recorded)", true),
    b(&[Key::Char('r')], Cmd::RecordReply, "reply approval", "Record the approving provider's reply on the case (reference and sender)", true),
    b(&[Key::Char('i')], Cmd::CheckApproverPin, "provider calls in", "The approving provider calls in: check their own Support PIN (a match records the approval)", true),
    b(&[Key::Char('u')], Cmd::Unlock, "unlock", "Unlock cases: note how the caller was identified, then unlock (no PIN; recorded in the case)", false),
    b(&[Key::Char('m')], Cmd::AddNote, "note", "Add a note to the case (m for memo)", true),
    // Everywhere else n ends the call; here too, so it never starts a note by habit.
    b(&[Key::Char('n')], Cmd::NewCall, "new call", "End this call and find the next caller", false),
    b(&[Key::Char('w')], Cmd::MarkAwaiting, "awaiting", "Mark the case as awaiting the provider's approval", true),
    b(&[Key::Char('x')], Cmd::CloseCase, "close", "Close the case with an outcome", true),
    b(&[Key::Up, Key::Down], Cmd::Down, "scroll", "Scroll the timeline (↑ up, ↓ down)", false),
    b(&[Key::Esc], Cmd::Back, "back", "Back to where the case was opened from", true),
];

const CASE_NOTE: &[Binding] = &[
    b(&[Key::Enter], Cmd::Submit, "save note", "Save the note on the case (audited)", true),
    b(&[Key::Backspace], Cmd::Erase, "erase", "Erase the last character", false),
    b(&[Key::Esc], Cmd::Back, "back", "Back to the case (nothing is saved)", true),
];

const CASE_REPLY: &[Binding] = &[
    b(&[Key::Tab], Cmd::NextField, "next field", "Move between the reference and the sender address", true),
    b(&[Key::Enter], Cmd::Submit, "record", "On the reference: move to the sender; on the sender: record the approval", true),
    b(&[Key::Backspace], Cmd::Erase, "erase", "Erase the last character", false),
    b(&[Key::Esc], Cmd::Back, "back", "Back to the case (nothing is recorded)", true),
];

const CASE_CLOSE: &[Binding] = &[
    b(&[Key::Char('a')], Cmd::Assisted, "assisted", "Close as assisted (needs a \"Support can assist\" verdict in the case)", true),
    b(&[Key::Char('r')], Cmd::Refused, "refused", "Close as refused", true),
    b(&[Key::Char('b')], Cmd::Abandoned, "abandoned", "Close as abandoned (the caller went away)", true),
    b(&[Key::Char('d')], Cmd::Duplicate, "duplicate", "Close as a duplicate of another case (then type that case's number, Enter)", true),
    b(&[Key::Esc], Cmd::Back, "back", "Back to the case (it stays open)", true),
];

const AUDIT_REVIEW: &[Binding] = &[
    b(&[Key::Up, Key::Down], Cmd::Down, "move", "Move through the events (older pages load as you go)", false),
    b(&[Key::PageUp, Key::PageDown], Cmd::PageDown, "page", "Move ten rows", false),
    b(&[Key::Tab, Key::BackTab], Cmd::NextField, "view", "Next (Tab) or previous (Shift-Tab) view: all events, failed PIN checks, chart, unlocks, approvals, sign-in failures, accounts failing across reps, reps failing across accounts, verdicts without a PIN match", true),
    b(&[Key::Enter], Cmd::Submit, "detail", "Show every field of the selected event, names resolved, with a jump to its case timeline", true),
    b(&[Key::Char('t')], Cmd::ReviewTime, "time", "Time range: all, last day, week, month, year (cycles)", true),
    b(&[Key::Char('T')], Cmd::ReviewCustomTime, "custom time", "Custom time range: type SINCE..UNTIL, Enter applies", false),
    b(&[Key::Char('r')], Cmd::ReviewRep, "rep", "Filter by rep: type a username, applied as you type (Enter keeps, Esc removes)", true),
    b(&[Key::Char('a')], Cmd::ReviewAccount, "account", "Filter by account: a name or an id, applied as you type (Enter keeps, Esc removes)", true),
    b(&[Key::Char('k')], Cmd::ReviewKind, "kind", "Filter by event kind (cycles through every kind, then all)", false),
    b(&[Key::Char('f')], Cmd::ReviewFailures, "failures", "Failures only: failed, locked or refused (on or off)", true),
    b(&[Key::Char('c')], Cmd::ReviewCase, "case", "Filter by case number (Enter keeps, Esc removes)", false),
    b(&[Key::Char('x')], Cmd::ReviewClear, "clear", "Clear every filter", true),
    b(&[Key::Char('R')], Cmd::RecordReview, "record review", "Record a review: type a note, Enter records the range, the chain head and the note", true),
    b(&[Key::Char('V')], Cmd::VerifyChain, "verify", "Verify the chain again (against every recorded head)", false),
    b(&[Key::Esc], Cmd::Back, "back", "Back to the caller search", true),
];

const AUDIT_EVENT: &[Binding] = &[
    b(&[Key::Char('o')], Cmd::OpenEventCase, "case timeline", "Open the case this event belongs to: its timeline (Esc comes back here)", true),
    b(&[Key::Esc, Key::Enter], Cmd::Back, "close", "Close the event: back to the list as it was (filters, selection)", true),
];

/// Keys while the key help is open, over any screen (Ctrl-C still quits).
pub const HELP: &[Binding] = &[
    b(&[Key::Up, Key::Down], Cmd::Down, "scroll", "Scroll the key help a line (↑ up, ↓ down) when it does not fit", true),
    b(&[Key::PageUp, Key::PageDown], Cmd::PageDown, "page", "Scroll the key help a page", true),
    b(&[Key::Esc, Key::Enter, Key::F(1), Key::Char('?')], Cmd::Back, "close help", "Close the key help", true),
];

/// The key table of a screen (without the global keys).
pub fn bindings(screen: ScreenId) -> &'static [Binding] {
    match screen {
        ScreenId::SignIn => SIGN_IN,
        ScreenId::Lookup => LOOKUP,
        ScreenId::TargetLookup => TARGET_LOOKUP,
        ScreenId::Card => CARD,
        ScreenId::PinEntry => PIN_ENTRY,
        ScreenId::Verdict => VERDICT,
        ScreenId::Unlock => UNLOCK,
        ScreenId::ClearLock => CLEAR_LOCK,
        ScreenId::Cases => CASES,
        ScreenId::NewCase => NEW_CASE,
        ScreenId::Case => CASE,
        ScreenId::CaseNote => CASE_NOTE,
        ScreenId::CaseReply => CASE_REPLY,
        ScreenId::CaseClose => CASE_CLOSE,
        ScreenId::AuditReview => AUDIT_REVIEW,
        ScreenId::AuditEvent => AUDIT_EVENT,
    }
}

/// The command a key means on a screen. Arrow and page keys keep their direction.
pub fn command(screen: ScreenId, key: Key) -> Option<Cmd> {
    let cmd = bindings(screen).iter().chain(GLOBAL).find(|b| b.keys.contains(&key))?.cmd;
    Some(match (cmd, key) {
        (Cmd::Down, Key::Up) => Cmd::Up,
        (Cmd::PageDown, Key::PageUp) => Cmd::PageUp,
        (Cmd::NextField, Key::BackTab) if screen == ScreenId::AuditReview => Cmd::PrevField,
        _ => cmd,
    })
}

/// The command a key means while the key help is open.
pub fn help_command(key: Key) -> Option<Cmd> {
    let cmd = HELP.iter().find(|b| b.keys.contains(&key))?.cmd;
    Some(match (cmd, key) {
        (Cmd::Down, Key::Up) => Cmd::Up,
        (Cmd::PageDown, Key::PageUp) => Cmd::PageUp,
        _ => cmd,
    })
}

/// The keys of a binding, written for people: "↑/↓", "F1/?".
pub fn keys_label(binding: &Binding) -> String {
    binding.keys.iter().map(|k| k.label()).collect::<Vec<_>>().join("/")
}

/// The README's key tables, generated from the tables above.
pub fn markdown() -> String {
    let mut out = String::new();
    for &screen in ScreenId::ALL {
        out.push_str(&format!("**{}**\n\n| Key | Does |\n|---|---|\n", screen.title()));
        for binding in bindings(screen) {
            out.push_str(&format!("| {} | {} |\n", keys_label(binding), binding.desc));
        }
        out.push('\n');
    }
    out.push_str("**Key help (F1 or ?)**\n\n| Key | Does |\n|---|---|\n");
    for binding in HELP {
        out.push_str(&format!("| {} | {} |\n", keys_label(binding), binding.desc));
    }
    out.push('\n');
    out.push_str("**Every screen**\n\n| Key | Does |\n|---|---|\n");
    for binding in GLOBAL {
        out.push_str(&format!("| {} | {} |\n", keys_label(binding), binding.desc));
    }
    out
}
