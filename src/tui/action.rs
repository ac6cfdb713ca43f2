//! What a key asks the app to do. Screens turn keys into actions; `App::apply` is the only place
//! that calls the core.

use crate::desk::{AccountId, CaseId, CaseOutcome, Pin, Request};
use zeroize::Zeroizing;

/// A request from a screen to the app.
#[derive(Debug)]
pub enum Action {
    /// Sign in with what was typed.
    SignIn { username: String, passphrase: Zeroizing<String> },
    /// The search text changed: look it up again.
    Search(String),
    /// Enter on a lookup whose results answer an older text: look the text in the box up now,
    /// then choose from those results.
    SubmitLookup,
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
    /// On an unlock case: ask how the caller was identified, then unlock in the case.
    StartCaseUnlock,
    /// Start clearing the caller's locked Support PIN (leads only).
    StartClearLock,
    /// Clear the lock, with the lead's reason.
    SubmitClearLock(String),
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
    /// Show the case queue.
    ShowCases,
    /// Start a case for the current caller (choose channel and request).
    StartCase,
    /// Open a case for the current caller with this request.
    OpenCase(Request),
    /// Show a case.
    ViewCase(CaseId),
    /// Check a Support PIN in the case on screen: the caller's, or the approving provider's.
    StartCasePin { approver: bool },
    /// The case's verdict.
    CaseVerdict,
    /// Write a note on the case.
    StartNote,
    /// Save the note.
    SubmitNote(String),
    /// Record the provider's reply.
    StartReply,
    /// Record the reply with its reference and sender.
    SubmitReply { reference: String, from: String },
    /// Mark the case as awaiting approval.
    MarkAwaiting,
    /// Choose the outcome to close the case with.
    StartClose,
    /// Close the case.
    CloseCase(CaseOutcome),
    /// Close the case on screen as a duplicate of this case.
    CloseDuplicate(crate::desk::CaseId),
    /// Open the audit review (the core refuses a rep).
    OpenReview,
    /// The review's filters or view changed: fetch again.
    RefreshReview,
    /// Fetch the review page older than this sequence.
    MoreReview(i64),
    /// Show one audit event in full.
    ShowAuditEvent(i64),
    /// Open the case of the audit event shown in full (Esc comes back to the event).
    OpenEventCase,
    /// Set a custom review time range from what the lead typed (`SINCE..UNTIL`).
    SetReviewRange(String),
    /// Record a lead review with this note.
    RecordReview(String),
    /// Verify the audit chain (shows "verifying" first).
    VerifyChain,
}
