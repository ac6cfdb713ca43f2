//! `support-desk case ...`: the scriptable twin of every case action on the screen, for
//! integrations (an email gateway, an IVR) and tests. Each acting command signs the rep in, does
//! one audited use case, and signs out.

use super::exit::{CliError, Exit};
use super::{open_desk, output, secrets, sign_in, sign_in_with, sign_out};
use crate::desk::{
    ApprovalOutcome, CaseDetail, CaseFilter, CaseId, CaseOutcome, CaseStatus, CaseSummary, CaseVerdict,
    Channel, Request, Verdict,
};
use clap::{Args, Subcommand, ValueEnum};
use std::io::Read;
use std::path::Path;

/// The `case` subcommands.
#[derive(Debug, Subcommand)]
pub enum CaseCommand {
    /// Open a case for a caller's request; prints the new case id
    Open(OpenArgs),
    /// The case's verdict (verification in this case, approval), recorded in the audit trail
    Verdict(RepCaseArgs),
    /// Record the approving provider's approval (their reply on the case)
    Approve(ApproveArgs),
    /// Unlock the caller's account on an unlock case (no PIN; say how the caller was identified)
    Unlock(UnlockArgs),
    /// Add a note to a case; the note is read from stdin
    Note(RepCaseArgs),
    /// Mark a case as awaiting the provider's approval
    Await(RepCaseArgs),
    /// Close a case with its outcome
    Close(CloseArgs),
    /// List cases, most recent first
    List(ListArgs),
    /// One case with its approvals, notes and timeline (every audit event of the case)
    Show(ShowArgs),
}

/// How the case came in.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ChannelArg {
    Phone,
    Email,
    Portal,
}

/// How an approval came.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ViaArg {
    /// The provider replied on the case (give --reference and --from)
    CaseReply,
}

/// How a case ended.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OutcomeArg {
    Assisted,
    Refused,
    Abandoned,
    Duplicate,
}

/// A case status.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum StatusArg {
    Open,
    AwaitingApproval,
    Approved,
    Closed,
}

/// Arguments of `case open`.
#[derive(Debug, Args)]
pub struct OpenArgs {
    /// The rep opening the case (passphrase from SUPPORT_DESK_PASSPHRASE or a no-echo prompt)
    #[arg(long, value_name = "USER")]
    pub rep: String,
    /// How the request came in
    #[arg(long, value_enum)]
    pub channel: ChannelArg,
    /// The caller (requestor) account id
    #[arg(long, value_name = "ACCOUNT")]
    pub caller: String,
    /// The request is about this other account
    #[arg(long, value_name = "ACCOUNT", conflicts_with = "unlock")]
    pub on_behalf_of: Option<String>,
    /// The caller asks to unlock their own account
    #[arg(long)]
    pub unlock: bool,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// A case id and the rep acting on it.
#[derive(Debug, Args)]
pub struct RepCaseArgs {
    /// The case id
    pub id: i64,
    /// The rep (passphrase from SUPPORT_DESK_PASSPHRASE or a no-echo prompt)
    #[arg(long, value_name = "USER")]
    pub rep: String,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `case approve`.
#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The case id
    pub id: i64,
    /// The rep recording the approval
    #[arg(long, value_name = "USER")]
    pub rep: String,
    /// How the approval came
    #[arg(long, value_enum)]
    pub via: ViaArg,
    /// The reply's message id or ticket link
    #[arg(long, value_name = "REF")]
    pub reference: String,
    /// The address the reply came from (must be the approving provider's email of record)
    #[arg(long, value_name = "ADDRESS")]
    pub from: String,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `case unlock`.
#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// The case id
    pub id: i64,
    /// The rep unlocking
    #[arg(long, value_name = "USER")]
    pub rep: String,
    /// How the caller was identified (e.g. "called back on the number of record"); never a PIN
    #[arg(long, value_name = "TEXT")]
    pub identified_by: String,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `case close`.
#[derive(Debug, Args)]
pub struct CloseArgs {
    /// The case id
    pub id: i64,
    /// The rep closing the case
    #[arg(long, value_name = "USER")]
    pub rep: String,
    /// How the case ended
    #[arg(long, value_enum)]
    pub outcome: OutcomeArg,
    /// With --outcome duplicate: the case this one duplicates
    #[arg(long, value_name = "CASE")]
    pub duplicate_of: Option<i64>,
}

/// Arguments of `case list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only cases with this status
    #[arg(long, value_enum)]
    pub status: Option<StatusArg>,
    /// At most this many
    #[arg(long, default_value_t = 50, value_name = "N", value_parser = super::at_least_one)]
    pub limit: u32,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `case show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The case id
    pub id: i64,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// Runs a `case` subcommand.
pub fn run(db: &Path, cmd: &CaseCommand) -> Result<Exit, CliError> {
    match cmd {
        CaseCommand::Open(args) => open(db, args),
        CaseCommand::Verdict(args) => verdict(db, args),
        CaseCommand::Approve(args) => approve(db, args),
        CaseCommand::Unlock(args) => unlock(db, args),
        CaseCommand::Note(args) => note(db, args),
        CaseCommand::Await(args) => awaiting(db, args),
        CaseCommand::Close(args) => close(db, args),
        CaseCommand::List(args) => list(db, args),
        CaseCommand::Show(args) => show(db, args),
    }
}

fn open(db: &Path, args: &OpenArgs) -> Result<Exit, CliError> {
    let channel = match args.channel {
        ChannelArg::Phone => Channel::Phone,
        ChannelArg::Email => Channel::Email,
        ChannelArg::Portal => Channel::Portal,
    };
    let mut desk = open_desk(db)?;
    let request = match (&args.on_behalf_of, args.unlock) {
        (Some(t), _) => Request::OnBehalfOf(desk.canonical_account_id(t)),
        (None, true) => Request::Unlock,
        (None, false) => Request::OwnAccount,
    };
    let caller = desk.canonical_account_id(&args.caller);
    let session = sign_in(&mut desk, &args.rep)?;
    let result = desk.open_case(&session, channel, &caller, &request);
    sign_out(&mut desk, &session);
    let id = result?;
    if args.json {
        output::print_json(&serde_json::json!({ "case_id": id }))?;
    } else {
        output::print(&format!("{id}\n"))?;
    }
    Ok(Exit::Ok)
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

/// The verdict of a case as text.
pub fn verdict_text(v: &CaseVerdict, detail: Option<&CaseDetail>) -> String {
    let verdict = &v.shown.decision.verdict;
    let mut text = format!("case {}: {} {}", v.case_id, symbol(verdict), verdict.headline());
    if let Verdict::NeedsApproval { approver } = verdict {
        text.push_str(&format!(": {} ({})", output::fit(&approver.name, 60), approver.id));
    }
    text.push('\n');
    text.push_str(&format!("  {}\n", output::fit(&v.shown.policy_row, 600)));
    text.push_str(&format!("  Next step: {}\n", output::fit(&v.shown.next_step, 400)));
    if let (Verdict::NeedsApproval { .. }, Some(d)) = (verdict, detail)
        && let Some(email) = &d.approver_email
    {
        text.push_str(&format!(
            "  Two ways to approve: a reply on the case from {} (case approve --via case-reply), or the \
             provider calls and gives their own Support PIN (pin check {} --case {}).\n",
            output::fit(email, 80),
            d.approver.as_ref().map(|a| a.id.as_str()).unwrap_or(""),
            v.case_id
        ));
    }
    if let Some(a) = &v.expired_approval {
        text.push_str(&format!("  Approval #{} expired at {}; a new approval is needed.\n", a.id, a.expires_at));
    }
    text.push_str(&format!("  Status: {}\n", v.status.label()));
    text
}

fn verdict(db: &Path, args: &RepCaseArgs) -> Result<Exit, CliError> {
    let mut desk = open_desk(db)?;
    let session = sign_in(&mut desk, &args.rep)?;
    let result = desk.case_verdict(&session, CaseId(args.id));
    sign_out(&mut desk, &session);
    let v = result?;
    if args.json {
        output::print_json(&serde_json::json!({ "headline": v.shown.decision.verdict.headline(), "verdict": v }))?;
    } else {
        let detail = desk.case_detail(v.case_id).ok();
        output::print(&verdict_text(&v, detail.as_ref()))?;
    }
    Ok(Exit::Ok)
}

fn unlock(db: &Path, args: &UnlockArgs) -> Result<Exit, CliError> {
    let mut desk = open_desk(db)?;
    let session = sign_in(&mut desk, &args.rep)?;
    let result = desk.unlock_in_case(&session, CaseId(args.id), &args.identified_by);
    sign_out(&mut desk, &session);
    let u = result?;
    if args.json {
        output::print_json(&serde_json::json!({ "headline": u.verdict.decision.verdict.headline(), "unlocked": u.unlocked, "verdict": u.verdict }))?;
        return Ok(Exit::Ok);
    }
    let done = match (u.verdict.decision.verdict == Verdict::Assist, u.unlocked) {
        (true, true) => "unlocked: the caller can sign in again; password, two-factor and email are unchanged",
        (true, false) => "not locked: nothing was changed",
        (false, _) => "not unlocked",
    };
    output::print(&format!(
        "case {}: {}\n  {}\n  {}\n  Next step: {}\n",
        args.id,
        done,
        u.verdict.decision.verdict.headline(),
        u.verdict.policy_row,
        output::fit(&u.verdict.next_step, 400)
    ))?;
    Ok(Exit::Ok)
}

fn approve(db: &Path, args: &ApproveArgs) -> Result<Exit, CliError> {
    let ViaArg::CaseReply = args.via;
    let mut desk = open_desk(db)?;
    let session = sign_in(&mut desk, &args.rep)?;
    let result = desk.approve_by_reply(&session, CaseId(args.id), &args.reference, &args.from);
    sign_out(&mut desk, &session);
    let outcome = result?;
    if args.json {
        output::print_json(&outcome)?;
    }
    match outcome {
        ApprovalOutcome::Recorded { approval } => {
            if !args.json {
                output::print(&format!(
                    "approved: case {} by {} ({}), valid until {}\n",
                    args.id,
                    output::fit(&approval.provider.name, 60),
                    approval.provider.id,
                    approval.expires_at
                ))?;
            }
            Ok(Exit::Ok)
        }
        ApprovalOutcome::Refused { reason, .. } => {
            if !args.json {
                output::print(&format!("not approved: {}\n", output::fit(&reason, 600)))?;
            }
            Ok(Exit::AuthFailed)
        }
    }
}

fn note(db: &Path, args: &RepCaseArgs) -> Result<Exit, CliError> {
    let mut desk = open_desk(db)?;
    // Both the passphrase and the note are read before anything is written.
    let passphrase = secrets::sign_in_passphrase(&args.rep)?;
    let mut text = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut text)
        .map_err(|e| CliError::usage(format!("could not read the note from stdin: {e}")))?;
    let session = sign_in_with(&mut desk, &args.rep, &passphrase)?;
    let result = desk.add_case_note(&session, CaseId(args.id), &text);
    sign_out(&mut desk, &session);
    result?;
    output::print(&format!("noted on case {}\n", args.id))?;
    Ok(Exit::Ok)
}

fn awaiting(db: &Path, args: &RepCaseArgs) -> Result<Exit, CliError> {
    let mut desk = open_desk(db)?;
    let session = sign_in(&mut desk, &args.rep)?;
    let result = desk.set_case_status(&session, CaseId(args.id), CaseStatus::AwaitingApproval);
    sign_out(&mut desk, &session);
    result?;
    output::print(&format!("case {}: awaiting approval\n", args.id))?;
    Ok(Exit::Ok)
}

fn close(db: &Path, args: &CloseArgs) -> Result<Exit, CliError> {
    let outcome = match args.outcome {
        OutcomeArg::Assisted => CaseOutcome::Assisted,
        OutcomeArg::Refused => CaseOutcome::Refused,
        OutcomeArg::Abandoned => CaseOutcome::Abandoned,
        OutcomeArg::Duplicate => CaseOutcome::Duplicate,
    };
    let mut desk = open_desk(db)?;
    let session = sign_in(&mut desk, &args.rep)?;
    let result = match (outcome, args.duplicate_of) {
        (CaseOutcome::Duplicate, Some(of)) => desk.close_case_as_duplicate(&session, CaseId(args.id), CaseId(of)),
        (_, Some(_)) => Err(crate::desk::DeskError::Invalid("--duplicate-of goes with --outcome duplicate".into())),
        (_, None) => desk.close_case(&session, CaseId(args.id), outcome),
    };
    sign_out(&mut desk, &session);
    result?;
    let of = args.duplicate_of.map(|c| format!(" of case {c}")).unwrap_or_default();
    output::print(&format!("case {} closed: {}{of}\n", args.id, outcome.as_str()))?;
    Ok(Exit::Ok)
}

/// How long ago `at` was, in the largest whole unit ("3m", "5h", "2d").
pub fn age(at: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let Some(t) = crate::desk::clock::from_db(at) else { return "?".into() };
    let minutes = (now - t).num_minutes().max(0);
    if minutes < 60 {
        format!("{minutes}m")
    } else if minutes < 48 * 60 {
        format!("{}h", minutes / 60)
    } else {
        format!("{}d", minutes / (24 * 60))
    }
}

fn summary_row(c: &CaseSummary, now: chrono::DateTime<chrono::Utc>) -> Vec<String> {
    vec![
        c.id.to_string(),
        match c.outcome {
            Some(o) => format!("closed ({})", o.as_str()),
            None => c.status.label().to_string(),
        },
        c.channel.as_str().to_string(),
        format!("{} ({})", c.caller.name, c.caller.id),
        c.opened_by.clone(),
        age(&c.opened_at, now),
        c.request_label(),
    ]
}

fn list(db: &Path, args: &ListArgs) -> Result<Exit, CliError> {
    let desk = open_desk(db)?;
    let status = args.status.map(|s| match s {
        StatusArg::Open => CaseStatus::Open,
        StatusArg::AwaitingApproval => CaseStatus::AwaitingApproval,
        StatusArg::Approved => CaseStatus::Approved,
        StatusArg::Closed => CaseStatus::Closed,
    });
    let cases = desk.list_cases(&CaseFilter { status, limit: args.limit as usize, ..CaseFilter::default() })?;
    if args.json {
        output::print_json(&cases)?;
        return Ok(Exit::Ok);
    }
    let now = desk.now();
    let rows: Vec<Vec<String>> = cases.iter().map(|c| summary_row(c, now)).collect();
    output::print(&output::table(&["CASE", "STATUS", "CHANNEL", "CALLER", "REP", "AGE", "REQUEST"], &rows))?;
    Ok(Exit::Ok)
}

fn show(db: &Path, args: &ShowArgs) -> Result<Exit, CliError> {
    let desk = open_desk(db)?;
    let d = desk.case_detail(CaseId(args.id))?;
    if args.json {
        output::print_json(&d)?;
        return Ok(Exit::Ok);
    }
    let s = &d.summary;
    let mut text = format!(
        "Case {}  {}  {}\n  Caller:   {} ({})\n  Request:  {}\n  Opened:   {} by {}\n",
        s.id,
        match s.outcome {
            Some(o) => format!("closed ({})", o.as_str()),
            None => s.status.label().to_string(),
        },
        s.channel.as_str(),
        output::fit(&s.caller.name, 60),
        s.caller.id,
        output::fit(&s.request_label(), 120),
        s.opened_at,
        s.opened_by
    );
    if let Some(closed) = &s.closed_at {
        text.push_str(&format!("  Closed:   {closed}\n"));
    }
    text.push_str(&format!("  Reps:     {}\n", d.touched_by.join(", ")));
    if let Some(a) = &d.approver {
        text.push_str(&format!(
            "  Approver: {} ({}), email of record {}\n",
            output::fit(&a.name, 60),
            a.id,
            output::fit(d.approver_email.as_deref().unwrap_or(""), 80)
        ));
    }
    let v = &d.verification;
    text.push_str(&format!(
        "  Verified: {}{}\n",
        match (&v.matched_at, v.counts) {
            (Some(at), true) => format!("yes (Support PIN matched {at})"),
            (Some(at), false) => format!("no longer (matched {at}, past the idle timeout)"),
            (None, _) => "no".into(),
        },
        if v.ended { format!("; ended after {} failed checks in this case", v.failures) } else { String::new() }
    ));
    for a in &d.approvals {
        text.push_str(&format!(
            "  Approval #{}: {}{}\n",
            a.id,
            output::fit(&a.citation(), 400),
            if a.expired { " (expired)" } else { "" }
        ));
    }
    text.push_str("\nTimeline:\n");
    let rows: Vec<Vec<String>> = d
        .timeline
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                e.at.clone(),
                e.rep.clone().unwrap_or_default(),
                e.kind.clone(),
                e.account_id.clone().unwrap_or_default(),
                e.outcome.clone(),
                e.detail.clone().unwrap_or_default(),
            ]
        })
        .collect();
    text.push_str(&output::table(&["SEQ", "AT", "REP", "EVENT", "ACCOUNT", "OUTCOME", "DETAIL"], &rows));
    output::print(&text)?;
    Ok(Exit::Ok)
}
