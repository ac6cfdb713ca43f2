//! `support-desk audit list|verify`: reading the audit trail and proving its hash chain intact.

use super::exit::{CliError, Exit};
use super::{open_desk, output};
use crate::desk::audit::{ChainStatus, EventKind};
use crate::desk::AuditFilter;
use clap::builder::PossibleValuesParser;
use clap::{Args, Subcommand};
use std::path::Path;

/// The `audit` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List audit events, newest first
    List(ListArgs),
    /// Verify the hash chain: exit 0 and print the head when intact, exit 1 naming the first bad event
    Verify(VerifyArgs),
}

/// Arguments of `audit list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Most events to show
    #[arg(long, default_value_t = 50, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
    /// Only events by this rep
    #[arg(long, value_name = "USER")]
    pub rep: Option<String>,
    /// Only events about this account (as caller or other account)
    #[arg(long, value_name = "ACCOUNT")]
    pub account: Option<String>,
    /// Only events of this kind
    #[arg(long, value_name = "KIND", value_parser = PossibleValuesParser::new(EventKind::ALL.iter().map(|k| k.as_str())))]
    pub kind: Option<String>,
    /// Only failures, refusals and lockouts (outcome other than ok/assist)
    #[arg(long)]
    pub failures: bool,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `audit verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// Runs an `audit` subcommand.
pub fn run(db: &Path, cmd: &AuditCommand) -> Result<Exit, CliError> {
    match cmd {
        AuditCommand::List(args) => list(db, args),
        AuditCommand::Verify(args) => verify(db, args),
    }
}

fn list(db: &Path, args: &ListArgs) -> Result<Exit, CliError> {
    let desk = open_desk(db)?;
    let kind = match &args.kind {
        Some(name) => Some(
            EventKind::parse(name).ok_or_else(|| CliError::usage(format!("unknown event kind {name}")))?,
        ),
        None => None,
    };
    let events = desk.audit_events(&AuditFilter {
        rep: args.rep.clone(),
        account: args.account.clone(),
        kind,
        failures_only: args.failures,
        limit: args.limit as usize,
    })?;
    if args.json {
        output::print_json(&events)?;
        return Ok(Exit::Ok);
    }
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                e.at.clone(),
                e.rep.clone().unwrap_or_default(),
                e.kind.clone(),
                e.account_id.clone().unwrap_or_default(),
                e.other_account.clone().unwrap_or_default(),
                e.outcome.clone(),
                e.reason.clone().unwrap_or_default(),
                e.detail.clone().unwrap_or_default(),
            ]
        })
        .collect();
    output::print(&output::table(
        &["SEQ", "AT (UTC)", "REP", "KIND", "ACCOUNT", "OTHER", "OUTCOME", "REASON", "DETAIL"],
        &rows,
    ))?;
    Ok(Exit::Ok)
}

/// Verifies the chain, prints the result, then records the verification as an audit event (best
/// effort: a verification that cannot be recorded still reports what it found).
fn verify(db: &Path, args: &VerifyArgs) -> Result<Exit, CliError> {
    let mut desk = open_desk(db)?;
    let status = desk.verify_chain()?;
    if args.json {
        output::print_json(&status)?;
    } else {
        let line = match &status {
            ChainStatus::Intact { events, head_seq, head_hash } => {
                format!("intact: {events} events, head {head_seq}:{head_hash}")
            }
            ChainStatus::Broken { first_bad_seq, problem } => {
                format!("broken at sequence {first_bad_seq}: {problem}")
            }
        };
        output::print(&format!("{line}\n"))?;
    }
    if let Err(e) = desk.record_verification(&status, None) {
        eprintln!("support-desk: note: this verification was not recorded in the audit trail: {e}");
    }
    match status {
        ChainStatus::Intact { .. } => Ok(Exit::Ok),
        ChainStatus::Broken { first_bad_seq, .. } => {
            eprintln!(
                "support-desk: the audit trail was changed behind the app's back: first bad event is sequence {first_bad_seq}"
            );
            Ok(Exit::NoMatch)
        }
    }
}
