//! support-desk: identity verification for an EHR vendor's support desk.
//!
//! Glossary (the words used everywhere in this crate):
//! - **caller**: the person on the phone (or writing), an account in the directory.
//! - **rep**: a support representative signed in to the desk; a **lead** is a rep who may also
//!   review the audit trail and administer the desk.
//! - **Support PIN**: the caller's four-digit code for identifying themselves to Support (not the
//!   mobile app-unlock PIN). Good for one validation: a match rotates it.
//! - **verdict**: what the delegation policy allows for a request (assist, provider approval
//!   needed, refused, verify the Support PIN first), with the rule that decided it.
//! - **case**: one request worked from first contact to close.
//! - **approval**: a provider's consent to help a staff member with an account.
//! - **audit event**: one row of the append-only, hash-chained audit trail.
//!
//! Modules: [`desk`] is the core (rules, use cases, storage) and knows nothing of terminals or
//! command lines; [`cli`] and [`tui`] call it.

pub mod cli;
pub mod desk;
pub mod tui;
