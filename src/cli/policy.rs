//! `support-desk policy`: the delegation table and every policy value in force.

use super::exit::{CliError, Exit};
use super::{open_desk, output};
use crate::desk::Rule;
use clap::Args;
use serde::Serialize;
use std::path::Path;

/// Arguments of `policy`.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
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
    text.push_str("\nValues\n");
    text.push_str(&output::table(&["NAME", "VALUE", "MEANING"], &values));
    output::print(&text)?;
    Ok(Exit::Ok)
}
