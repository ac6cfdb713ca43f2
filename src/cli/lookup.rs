//! `support-desk lookup`: find accounts as the TUI's caller lookup does.

use super::exit::{CliError, Exit};
use super::{open_desk, output};
use crate::desk::AccountSummary;
use clap::Args;
use std::path::Path;

/// Arguments of `lookup`.
#[derive(Debug, Args)]
pub struct LookupArgs {
    /// Name, email, phone, account id or practice (any part; accents and case do not matter)
    pub query: String,
    /// Most results to show
    #[arg(long, default_value_t = 20, value_name = "N", value_parser = super::at_least_one)]
    pub limit: u32,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

fn status(a: &AccountSummary) -> String {
    let mut parts = Vec::new();
    if !a.active {
        parts.push("inactive");
    }
    if a.account_locked {
        parts.push("account locked");
    }
    if a.pin_locked {
        parts.push("PIN locked");
    }
    if parts.is_empty() {
        "active".into()
    } else {
        parts.join(", ")
    }
}

/// Prints the matching accounts, best first. No match is not an error (exit 0, empty list).
pub fn run(db: &Path, args: &LookupArgs) -> Result<Exit, CliError> {
    let desk = open_desk(db)?;
    let found = desk.lookup(&args.query, args.limit as usize)?;
    if args.json {
        output::print_json(&found)?;
        return Ok(Exit::Ok);
    }
    if found.is_empty() {
        say!("support-desk: no account matches");
        return Ok(Exit::Ok);
    }
    let rows: Vec<Vec<String>> = found
        .iter()
        .map(|a| {
            vec![
                a.id.to_string(),
                a.role.label().to_string(),
                a.name.clone(),
                a.practice.clone(),
                a.email.clone(),
                status(a),
            ]
        })
        .collect();
    output::print(&output::table(&["ID", "ROLE", "NAME", "PRACTICE", "EMAIL", "STATUS"], &rows))?;
    if found.len() >= args.limit as usize {
        say!("support-desk: the first {} matches; there may be more (a longer query or --limit N)", found.len());
    }
    Ok(Exit::Ok)
}
