//! `support-desk pin new|check`: the holder's "Generate New PIN", and checking the Support PIN a
//! caller read out. The PIN to check is read from stdin, never from the command line.

use super::exit::{CliError, Exit};
use super::{open_desk, output, secrets, sign_in, sign_in_with, sign_out};
use crate::desk::{CaseId, CasePinCheck, PinCheck};

/// A check on a call, or inside a case.
enum Checked {
    Call(PinCheck),
    InCase(Box<CasePinCheck>),
}
use clap::{Args, Subcommand};
use std::path::Path;

/// The `pin` subcommands.
#[derive(Debug, Subcommand)]
pub enum PinCommand {
    /// The account holder's "Generate New PIN": prints the new Support PIN once, for the holder
    New(NewArgs),
    /// Check the Support PIN a caller read out: one line on stdin (or typed without echo)
    Check(CheckArgs),
    /// Clear a locked Support PIN as a lead, with a reason (audited)
    Unlock(UnlockArgs),
}

/// Arguments of `pin unlock`.
#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// The account whose Support PIN is locked
    pub account: String,
    /// The lead clearing the lock (passphrase from SUPPORT_DESK_PASSPHRASE or a no-echo prompt)
    #[arg(long, value_name = "LEAD")]
    pub rep: String,
    /// Why the lock is cleared (e.g. "holder identified by call-back on the number of record")
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

/// Arguments of `pin new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The holder's account id
    pub account: String,
}

/// Arguments of `pin check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The caller's account id
    pub account: String,
    /// The rep checking (passphrase from SUPPORT_DESK_PASSPHRASE or a no-echo prompt)
    #[arg(long, value_name = "USER")]
    pub rep: String,
    /// Check inside this case: the caller's PIN verifies them in the case; the approving
    /// provider's PIN records their approval
    #[arg(long, value_name = "ID")]
    pub case: Option<i64>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
    /// Anything else on the command line: refused, so that a PIN typed there is never used
    #[arg(hide = true)]
    pub stray: Vec<String>,
}

/// Runs a `pin` subcommand.
pub fn run(db: &Path, cmd: &PinCommand) -> Result<Exit, CliError> {
    match cmd {
        PinCommand::New(args) => {
            let mut desk = open_desk(db)?;
            let id = desk.canonical_account_id(&args.account);
            let pin = desk.generate_pin(&id)?;
            output::print(&format!(
                "New Support PIN for {id}: {}\nShown once, for the account holder only. It replaces the old PIN and clears a lock.\n",
                pin.reveal_to_holder()
            ))?;
            Ok(Exit::Ok)
        }
        PinCommand::Check(args) => check(db, args),
        PinCommand::Unlock(args) => unlock(db, args),
    }
}

/// A lead clears a PIN lock. The reason is checked before the lead signs in, so bad input records
/// nothing.
fn unlock(db: &Path, args: &UnlockArgs) -> Result<Exit, CliError> {
    let mut desk = open_desk(db)?;
    crate::desk::admin::check_reason(&args.reason, crate::desk::admin::MIN_REASON_CHARS)?;
    let session = sign_in(&mut desk, &args.rep)?;
    let id = desk.canonical_account_id(&args.account);
    let result = desk.clear_pin_lock(&session, &id, &args.reason);
    sign_out(&mut desk, &session);
    if result? {
        output::print(&format!("Support PIN lock of {} cleared; the failure count starts again at 0.\n", output::fit(id.as_str(), 64)))?;
    } else {
        output::print(&format!("The Support PIN of {} is not locked; nothing changed.\n", output::fit(id.as_str(), 64)))?;
    }
    Ok(Exit::Ok)
}

/// The PIN and the passphrase are both read before anything is written, so bad input records
/// nothing; then the rep signs in, the check is made (and audited), and the session ends.
fn check(db: &Path, args: &CheckArgs) -> Result<Exit, CliError> {
    if !args.stray.is_empty() {
        return Err(CliError::usage(
            "pin check takes the Support PIN only on stdin, never on the command line (it would stay in \
             shell history and be visible to other users); nothing was recorded",
        ));
    }
    let mut desk = open_desk(db)?;
    let passphrase = secrets::sign_in_passphrase(&args.rep)?;
    let pin = secrets::read_pin()?;
    let session = sign_in_with(&mut desk, &args.rep, &passphrase)?;
    let account = desk.canonical_account_id(&args.account);
    let result = match args.case {
        Some(case) => desk.check_pin_in_case(&session, CaseId(case), &account, &pin).map(|c| Checked::InCase(Box::new(c))),
        None => desk.check_pin(&session, &account, &pin).map(Checked::Call),
    };
    drop(pin);
    sign_out(&mut desk, &session);
    let checked = result?;
    if args.json {
        match &checked {
            Checked::Call(check) => output::print_json(check)?,
            Checked::InCase(c) => output::print_json(c)?,
        }
    }
    let check = match checked {
        Checked::Call(check) => check,
        Checked::InCase(c) if c.check.is_some() => {
            let CasePinCheck { check, approval, case_id, .. } = *c;
            // The guard above made sure a check was made; `Locked` is never the fallback taken.
            let check = check.unwrap_or(PinCheck::Locked);
            if let (Some(a), false) = (approval, args.json) {
                say!(
                    "support-desk: approval recorded for case {case_id}: {} ({}), valid until {}",
                    output::fit(&a.provider.name, 60),
                    a.provider.id,
                    a.expires_at
                );
            }
            check
        }
        Checked::InCase(c) => {
            if !args.json {
                output::print(&format!(
                    "not checked: verification has ended for case {} after {} failed checks\n",
                    c.case_id, c.failures_in_case
                ))?;
            }
            return Ok(Exit::AuthFailed);
        }
    };
    if !args.json {
        let line = match check {
            PinCheck::Matched => "matched".to_string(),
            PinCheck::Rejected { attempts_left: 1 } => "did not match (1 attempt left)".to_string(),
            PinCheck::Rejected { attempts_left } => format!("did not match ({attempts_left} attempts left)"),
            PinCheck::Locked => "locked".to_string(),
        };
        output::print(&format!("{line}\n"))?;
    }
    match check {
        PinCheck::Matched => {
            say!(
                "support-desk: the caller's Support PIN was replaced by a new one nobody at the desk has seen; \
                 they find it in their account settings"
            );
            Ok(Exit::Ok)
        }
        PinCheck::Rejected { .. } => Ok(Exit::NoMatch),
        PinCheck::Locked => {
            say!(
                "support-desk: the Support PIN is locked; the holder makes a new one in their account settings \
                 (or a lead clears the lock)"
            );
            Ok(Exit::Locked)
        }
    }
}
