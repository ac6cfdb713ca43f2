//! `support-desk verdict`: the delegation verdict for a caller's request, after its audit event is
//! committed.

use super::exit::{CliError, Exit};
use super::{open_desk, output, sign_in, sign_out};
use crate::desk::{Request, Verdict, VerdictShown};
use clap::Args;
use serde::Serialize;
use std::path::Path;

/// Arguments of `verdict`.
#[derive(Debug, Args)]
pub struct VerdictArgs {
    /// The rep taking the call (passphrase from SUPPORT_DESK_PASSPHRASE or a no-echo prompt)
    #[arg(long, value_name = "USER")]
    pub rep: String,
    /// The caller's account id
    #[arg(long, value_name = "ACCOUNT")]
    pub caller: String,
    /// The request is about this other account
    #[arg(long, value_name = "ACCOUNT", conflicts_with = "unlock")]
    pub on_behalf_of: Option<String>,
    /// The caller asks to unlock their own account (no Support PIN needed; say how they were identified)
    #[arg(long, requires = "identified_by")]
    pub unlock: bool,
    /// How the unlock caller was identified (recorded in the audit trail; never a PIN)
    #[arg(long, value_name = "TEXT", requires = "unlock")]
    pub identified_by: Option<String>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// What `verdict --json` prints.
#[derive(Debug, Serialize)]
struct VerdictOut<'a> {
    headline: &'static str,
    #[serde(flatten)]
    shown: &'a VerdictShown,
    /// For an unlock: whether the account was locked and is now unlocked.
    #[serde(skip_serializing_if = "Option::is_none")]
    unlocked: Option<bool>,
}

/// A symbol per verdict, so the verdict is never carried by wording alone.
fn symbol(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Assist => "✔",
        Verdict::NeedsApproval { .. } => "▲",
        Verdict::Refused => "✖",
        Verdict::VerifyFirst => "?",
    }
}

/// Signs the rep in, decides (or unlocks), prints the verdict, signs out. Any verdict shown is
/// exit 0: a refusal is an answer, not a failure.
pub fn run(db: &Path, args: &VerdictArgs) -> Result<Exit, CliError> {
    let mut desk = open_desk(db)?;
    let session = sign_in(&mut desk, &args.rep)?;
    let caller = desk.canonical_account_id(&args.caller);
    let result = if args.unlock {
        let note = args.identified_by.as_deref().unwrap_or_default();
        desk.unlock(&session, &caller, note).map(|u| (u.verdict, Some(u.unlocked)))
    } else {
        let request = match &args.on_behalf_of {
            Some(target) => Request::OnBehalfOf(desk.canonical_account_id(target)),
            None => Request::OwnAccount,
        };
        desk.decide(&session, &caller, &request).map(|v| (v, None))
    };
    sign_out(&mut desk, &session);
    let (shown, unlocked) = result?;
    let headline = shown.decision.verdict.headline();
    if args.json {
        output::print_json(&VerdictOut { headline, shown: &shown, unlocked })?;
        return Ok(Exit::Ok);
    }
    let mut text = format!("{} {headline}", symbol(&shown.decision.verdict));
    if let Verdict::NeedsApproval { approver } = &shown.decision.verdict {
        text.push_str(&format!(": {} ({})", output::fit(&approver.name, 60), approver.id));
    }
    text.push('\n');
    text.push_str(&format!("  {}\n", shown.policy_row));
    text.push_str(&format!("  Next step: {}\n", output::fit(&shown.next_step, 400)));
    match unlocked {
        Some(true) => text.push_str("  The account is unlocked; password, two-factor and email are unchanged.\n"),
        Some(false) if shown.decision.verdict == Verdict::Assist => {
            text.push_str("  The account was not locked; nothing was changed.\n")
        }
        _ => {}
    }
    output::print(&text)?;
    Ok(Exit::Ok)
}
