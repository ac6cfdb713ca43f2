//! `support-desk policy`: the delegation table and every policy value in force; `policy set`
//! changes one value as a lead, within its bounds.

use super::exit::{CliError, Exit};
use super::{open_desk, output, sign_in, sign_out};
use crate::desk::Rule;
use crate::desk::admin::POLICY_BOUNDS;
use clap::{Args, Subcommand};
use serde::Serialize;
use std::path::Path;

/// Arguments of `policy`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PolicyArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Option<PolicyCommand>,
}

/// The `policy` subcommands.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Change one policy value as a lead (bounds checked; audited with old and new value)
    Set(SetArgs),
}

/// Arguments of `policy set`.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// pin_lockout_threshold (1-10), case_failure_limit (1-10), approval_lifetime_minutes
    /// (5-10080), idle_timeout_minutes (1-120) or rep_lockout_threshold (1-10)
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(POLICY_BOUNDS.iter().map(|b| b.name)))]
    pub name: String,
    /// The new value
    #[arg(allow_negative_numbers = true)]
    pub value: i64,
    /// The lead making the change (passphrase from SUPPORT_DESK_PASSPHRASE or a no-echo prompt)
    #[arg(long, value_name = "LEAD")]
    pub rep: String,
}

fn set(db: &Path, args: &SetArgs) -> Result<Exit, CliError> {
    let mut desk = open_desk(db)?;
    let session = sign_in(&mut desk, &args.rep)?;
    let result = desk.set_policy(&session, &args.name, args.value);
    sign_out(&mut desk, &session);
    let change = result?;
    output::print(&format!(
        "{}: {} -> {} (policy version {})\n",
        change.name, change.old, change.new, change.version
    ))?;
    Ok(Exit::Ok)
}

#[derive(Serialize)]
struct RuleOut {
    rule: &'static str,
    row: &'static str,
}

#[derive(Serialize)]
struct ValueOut {
    name: &'static str,
    value: i64,
    meaning: &'static str,
}

#[derive(Serialize)]
struct PolicyOut {
    version: i64,
    rules: Vec<RuleOut>,
    values: Vec<ValueOut>,
}

/// Prints the rules in the order the core applies them, then the values.
pub fn run(db: &Path, args: &PolicyArgs) -> Result<Exit, CliError> {
    if let Some(PolicyCommand::Set(set_args)) = &args.command {
        return set(db, set_args);
    }
    let desk = open_desk(db)?;
    let policy = desk.policy()?;
    let out = PolicyOut {
        version: policy.version,
        rules: Rule::ALL.iter().map(|r| RuleOut { rule: r.code(), row: r.policy_row() }).collect(),
        values: policy
            .rows()
            .into_iter()
            .map(|(name, value, meaning)| ValueOut { name, value, meaning })
            .collect(),
    };
    if args.json {
        output::print_json(&out)?;
        return Ok(Exit::Ok);
    }
    let rules: Vec<Vec<String>> = out.rules.iter().map(|r| vec![r.rule.to_string(), r.row.to_string()]).collect();
    let values: Vec<Vec<String>> = out
        .values
        .iter()
        .map(|v| vec![v.name.to_string(), v.value.to_string(), v.meaning.to_string()])
        .collect();
    let mut text = format!("Delegation policy (version {})\n", out.version);
    // Rows are long sentences; print them whole rather than cut.
    for r in &rules {
        text.push_str(&format!("  {:<22} {}\n", r[0], r[1]));
    }
    text.push_str("\nValues (change with `policy set NAME VALUE --rep LEAD`)\n");
    text.push_str(&output::table(&["NAME", "VALUE", "MEANING"], &values));
    let bounds: Vec<String> = POLICY_BOUNDS.iter().map(|b| format!("{} {}-{}", b.name, b.min, b.max)).collect();
    text.push_str(&format!("Bounds: {}\n", bounds.join(", ")));
    output::print(&text)?;
    Ok(Exit::Ok)
}
