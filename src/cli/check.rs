//! `support-desk check`: a read-only integrity check of the database file and its audit chain.

use super::exit::{CliError, Exit};
use super::output;
use crate::desk::audit::ChainStatus;
use crate::desk::check::check;
use crate::desk::failure_slots::SlotMismatch;
use crate::desk::DeskError;
use crate::desk::store::SCHEMA_VERSION;
use clap::Args;
use std::path::Path;

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// The failure rollup's line: it agrees with the events, or where it does not.
fn rollup_line(mismatches: Option<&[SlotMismatch]>) -> String {
    match mismatches {
        None => String::new(),
        Some([]) => "failure rollup: matches the audit events\n".into(),
        Some(all @ [first, ..]) => format!(
            "failure rollup: differs from the audit events in {} quarter hour(s), first at {} \
             (rollup {} failures {} lockouts, events {} failures {} lockouts): the failure chart would be wrong there; \
             it was changed behind the app's back (the audit events are what the chain proves)\n",
            all.len(),
            first.start,
            first.rollup.0,
            first.rollup.1,
            first.events.0,
            first.events.1
        ),
    }
}

/// Prints what the check found; exit 0 when sound, 1 when something is wrong.
pub fn run(db: &Path, args: &CheckArgs) -> Result<Exit, CliError> {
    let health = match check(db) {
        Ok(h) => h,
        Err(DeskError::Damaged { path }) => {
            output::print(&format!(
                "file: damaged: SQLite cannot read {} as a database (malformed, truncated or not a database). \
                 Nothing was changed; restore it from a backup.\n",
                path.display()
            ))?;
            return Ok(Exit::NoMatch);
        }
        Err(e) => return Err(e.into()),
    };
    if args.json {
        output::print_json(&health)?;
    } else {
        let mut text = String::new();
        if health.problems.is_empty() {
            text.push_str("file: sound (SQLite integrity check ok)\n");
        } else {
            text.push_str(&format!(
                "file: {} problem(s) found (SQLite's integrity check and the desk's own guards):\n",
                health.problems.len()
            ));
            for p in health.problems.iter().take(20) {
                text.push_str(&format!("  {p}\n"));
            }
        }
        if health.schema_version > SCHEMA_VERSION {
            text.push_str(&format!(
                "schema: version {} is newer than this build knows ({SCHEMA_VERSION}); use the newer support-desk\n",
                health.schema_version
            ));
        } else {
            text.push_str(&format!("schema: version {}\n", health.schema_version));
        }
        match &health.chain {
            Some(ChainStatus::Intact { events, head_seq, head_hash }) => {
                text.push_str(&format!("audit chain: intact: {events} events, head {head_seq}:{head_hash}\n"))
            }
            Some(ChainStatus::Broken { first_bad_seq, problem }) => {
                text.push_str(&format!("audit chain: broken at sequence {first_bad_seq}: {problem}\n"))
            }
            None => text.push_str("audit chain: not checked (no audit trail this build can read)\n"),
        }
        text.push_str(&rollup_line(health.failure_rollup.as_deref()));
        match health.search_index.as_deref() {
            None => {}
            Some([]) => text.push_str("search index: in step with the directory\n"),
            Some(problems) => {
                text.push_str("search index: out of step with the directory:\n");
                for p in problems {
                    text.push_str(&format!("  {p}\n"));
                }
            }
        }
        output::print(&text)?;
    }
    Ok(if health.is_sound() { Exit::Ok } else { Exit::NoMatch })
}
