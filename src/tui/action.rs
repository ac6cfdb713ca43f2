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
}
