//! What a key asks the app to do. Screens turn keys into actions; `App::apply` is the only place
//! that calls the core.

use crate::desk::{AccountId, Pin, Request};
use zeroize::Zeroizing;

/// A request from a screen to the app.
#[derive(Debug)]
pub enum Action {
    /// Sign in with what was typed.
    SignIn { username: String, passphrase: Zeroizing<String> },
    /// The search text changed: look it up again.
    Search(String),
    /// Open a caller's card (audited).
    OpenCard(AccountId),
    /// Go to PIN entry for the caller.
    StartPinEntry,
    /// Check the entered PIN (shows "checking..." first).
    SubmitPin(Pin),
    /// Decide a request for the current caller.
    Decide(Request),
    /// Pick the account the caller asks about.
    ChooseTarget,
    /// Start an account unlock for the current caller.
    StartUnlock,
    /// Unlock, with the note of how the caller was identified.
    SubmitUnlock(String),
    /// Go back one screen.
    Back,
    /// End the call and find the next caller.
    NewCall,
    /// Sign out.
    SignOut,
    /// Quit the app (signs out).
    Quit,
    /// Show or hide the key help.
    ToggleHelp,
    /// Open the audit review (the core refuses a rep).
    OpenReview,
    /// The review's filters or view changed: fetch again.
    RefreshReview,
    /// Fetch the review page older than this sequence.
    MoreReview(i64),
    /// Show one audit event in full.
    ShowAuditEvent(i64),
    /// Set a custom review time range from what the lead typed (`SINCE..UNTIL`).
    SetReviewRange(String),
    /// Record a lead review with this note.
    RecordReview(String),
    /// Verify the audit chain (shows "verifying" first).
    VerifyChain,
}
