//! `support-desk audit list|verify|review|export`: reading the audit trail, proving its hash chain
//! intact (also against recorded and external heads, and in an exported file), recording a lead's
//! review and exporting the trail.

use super::exit::{CliError, Exit};
use super::{open_desk, output};
use crate::desk::audit::{ChainStatus, EventKind};
use crate::desk::AuditFilter;
use clap::builder::PossibleValuesParser;
use clap::{Args, Subcommand};
use crate::desk::export::{ExportFormat, FileCheck, verify_export};
use crate::desk::review::{ReviewFilter, TimeRange, parse_time};
use crate::desk::{Anchor, Desk, VerifySplit};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The `audit` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List audit events, newest first
    List(ListArgs),
    /// Verify the hash chain: exit 0 and print the head when intact, exit 1 naming the first bad event
    Verify(VerifyArgs),
    /// Record a lead's review (range, verified chain head, note) as an audit event; leads only
    Review(ReviewArgs),
    /// Export events with their chain fields as CSV or JSONL (streamed); the export is audited
    Export(ExportArgs),
}

/// Arguments of `audit list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Most events to show
    #[arg(long, default_value_t = 50, value_name = "N", value_parser = super::at_least_one)]
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
    /// Also check that the trail still holds this head (SEQ:HASH, as printed by an earlier verify)
    #[arg(long, value_name = "SEQ:HASH", conflicts_with = "file")]
    pub head: Option<String>,
    /// Re-check an exported JSONL file on its own instead of the database (names the first bad line)
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Threads checking the chain at once (default: one per core for long trails; 1 to spare a busy host)
    #[arg(long, value_name = "N", conflicts_with = "file", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: Option<u16>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// The time range and filters shared by `audit review` and `audit export`.
#[derive(Debug, Args)]
pub struct RangeArgs {
    /// Start: 2031-06-09, "2031-06-09 13:05" (local time), an RFC 3339 time, or an age (24h, 7d, 2w)
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// End (exclusive), in the same forms as --since
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
}

/// Arguments of `audit review`.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// The lead recording the review (passphrase from SUPPORT_DESK_PASSPHRASE or a prompt)
    #[arg(long, value_name = "USER")]
    pub rep: String,
    /// What was reviewed and found
    #[arg(long, value_name = "TEXT")]
    pub note: String,
    #[command(flatten)]
    pub range: RangeArgs,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `audit export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// csv (for spreadsheets) or jsonl (re-verifiable with `audit verify --file`)
    #[arg(long, value_parser = ["csv", "jsonl"])]
    pub format: String,
    /// Write here instead of stdout (created mode 600; an existing file is refused)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub range: RangeArgs,
    /// Only events by this rep
    #[arg(long, value_name = "USER")]
    pub rep_filter: Option<String>,
    /// Only events about this account (id or name)
    #[arg(long, value_name = "ACCOUNT")]
    pub account: Option<String>,
    /// Only events of this kind
    #[arg(long, value_name = "KIND", value_parser = PossibleValuesParser::new(EventKind::ALL.iter().map(|k| k.as_str())))]
    pub kind: Option<String>,
    /// Only failures, refusals and lockouts
    #[arg(long)]
    pub failures: bool,
    /// Only events of this case
    #[arg(long, value_name = "ID")]
    pub case: Option<i64>,
    /// Export as this lead (recorded in the export event); without it, as the holder of the file
    #[arg(long, value_name = "USER")]
    pub rep: Option<String>,
}

/// Runs an `audit` subcommand.
pub fn run(db: &Path, cmd: &AuditCommand) -> Result<Exit, CliError> {
    match cmd {
        AuditCommand::List(args) => list(db, args),
        AuditCommand::Verify(args) => verify(db, args),
        AuditCommand::Review(args) => review(db, args),
        AuditCommand::Export(args) => export(db, args),
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
    if let Some(file) = &args.file {
        return verify_file(file, args.json);
    }
    let external = match &args.head {
        Some(text) => vec![Anchor::parse(text)?],
        None => Vec::new(),
    };
    let mut desk = open_desk(db)?;
    let split = args.threads.map(|n| VerifySplit::threads(usize::from(n))).unwrap_or_default();
    let (status, heads) = desk.verify_trail_split(&external, split)?;
    if args.json {
        output::print_json(&status)?;
    } else {
        let line = match &status {
            ChainStatus::Intact { events, head_seq, head_hash } => {
                let against = if heads > 0 { format!(" (checked against {heads} recorded head(s))") } else { String::new() };
                format!("intact: {events} events, head {head_seq}:{head_hash}{against}")
            }
            ChainStatus::Broken { first_bad_seq, problem } => {
                format!("broken at sequence {first_bad_seq}: {problem}")
            }
        };
        output::print(&format!("{line}\n"))?;
    }
    if let Err(e) = desk.record_verification(&status, None) {
        say!("support-desk: note: this verification was not recorded in the audit trail: {e}");
    }
    match status {
        ChainStatus::Intact { .. } => Ok(Exit::Ok),
        ChainStatus::Broken { first_bad_seq, .. } => {
            // Only the head given from outside disagrees when the trail is intact without it: the
            // trail was changed, or that head is wrong; it is not proof of tampering on its own.
            let given_only = !external.is_empty()
                && matches!(desk.verify_trail_split(&[], split), Ok((ChainStatus::Intact { .. }, _)));
            if given_only {
                say!(
                    "support-desk: the audit trail does not hold the head given with --head (first difference at \
                     sequence {first_bad_seq}): either it was changed behind the app's back, or the head given is \
                     wrong (mistyped, or from another database)"
                );
            } else {
                say!(
                    "support-desk: the audit trail was changed behind the app's back: first bad event is sequence {first_bad_seq}"
                );
            }
            Ok(Exit::NoMatch)
        }
    }
}

/// Re-checks an exported JSONL file without a database.
fn verify_file(file: &Path, json: bool) -> Result<Exit, CliError> {
    let reader = std::fs::File::open(file)
        .map_err(|e| CliError::new(Exit::NotFound, format!("cannot open {}: {e}", file.display())))?;
    // A directory opens but cannot be read: that is a wrong argument, not a changed export.
    if !reader.metadata().is_ok_and(|m| m.is_file()) {
        return Err(CliError::new(Exit::NotFound, format!("{} is not a file (give the exported .jsonl file)", file.display())));
    }
    let check = verify_export(std::io::BufReader::new(reader));
    if json {
        output::print_json(&check)?;
    }
    match check {
        FileCheck::Intact { events, first_seq, last_seq, contiguous, .. } => {
            if !json {
                let span = match (first_seq, last_seq) {
                    (Some(a), Some(b)) => format!("sequences {a} to {b}"),
                    _ => "no events".into(),
                };
                let kind = if contiguous { "unbroken piece of the chain" } else { "filtered export" };
                output::print(&format!("intact: {events} events, {span} ({kind})\n"))?;
            }
            Ok(Exit::Ok)
        }
        FileCheck::Broken { line, problem } => {
            if !json {
                output::print(&format!("broken at line {line}: {problem}\n"))?;
            }
            say!("support-desk: {} was changed after it was exported: first bad line is {line}", file.display());
            Ok(Exit::NoMatch)
        }
    }
}

/// The time range from --since/--until (local dates in the machine's time zone).
fn time_range(desk: &Desk, args: &RangeArgs) -> Result<TimeRange, CliError> {
    let offset = *chrono::Local::now().offset();
    let since = args.since.as_deref().map(|t| parse_time(t, desk.now(), offset)).transpose()?;
    let until = args.until.as_deref().map(|t| crate::desk::review::parse_until(t, desk.now(), offset)).transpose()?;
    Ok(TimeRange::between(since, until)?)
}

fn review(db: &Path, args: &ReviewArgs) -> Result<Exit, CliError> {
    let mut desk = open_desk(db)?;
    let range = time_range(&desk, &args.range)?;
    let session = super::sign_in(&mut desk, &args.rep)?;
    let result = desk.record_review(&session, &range, &args.note);
    super::sign_out(&mut desk, &session);
    let record = result?;
    if args.json {
        output::print_json(&record)?;
    } else {
        output::print(&format!(
            "review recorded as audit event {}: events {} to {} reviewed, chain intact up to head {}:{}\n",
            record.event_seq, record.first_seq, record.last_seq, record.head_seq, record.head_hash
        ))?;
    }
    Ok(Exit::Ok)
}

fn export(db: &Path, args: &ExportArgs) -> Result<Exit, CliError> {
    let mut desk = open_desk(db)?;
    let format = if args.format == "csv" { ExportFormat::Csv } else { ExportFormat::Jsonl };
    let kind = match &args.kind {
        Some(name) => Some(EventKind::parse(name).ok_or_else(|| CliError::usage(format!("unknown event kind {name}")))?),
        None => None,
    };
    let filter = ReviewFilter {
        range: time_range(&desk, &args.range)?,
        rep: args.rep_filter.clone(),
        account: args.account.clone(),
        kind,
        failures_only: args.failures,
        case_id: args.case,
    };
    let session = match &args.rep {
        Some(user) => Some(super::sign_in(&mut desk, user)?),
        None => None,
    };
    let result = match &args.out {
        Some(path) => {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let file = options
                .open(path)
                .map_err(|e| CliError::new(Exit::Storage, format!("cannot create {}: {e} (an existing file is never overwritten)", path.display())))?;
            let mut out = std::io::BufWriter::new(file);
            let r = desk.export_events(session.as_ref(), &filter, format, &mut out);
            let r = r.and_then(|s| out.flush().map(|_| s).map_err(|e| crate::desk::DeskError::NotRecorded { cause: format!("could not write the export: {e}") }));
            if r.is_err() {
                // Refused or cut short: no empty or partial file is left to be taken for an export
                // (this command created it, so nothing else is removed).
                drop(out);
                let _ = std::fs::remove_file(path);
            }
            r
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            desk.export_events(session.as_ref(), &filter, format, &mut out)
        }
    };
    if let Some(s) = &session {
        super::sign_out(&mut desk, s);
    }
    let summary = result?;
    say!(
        "support-desk: exported {} events; the export is audit event {} and covered head {}:{}",
        summary.events, summary.event_seq, summary.head_seq, summary.head_hash
    );
    Ok(Exit::Ok)
}
