//! `support-desk key check|rotate|prune`: the PIN key file and the database it belongs to.

use super::exit::{CliError, Exit};
use super::{open_desk, output};
use crate::desk::pin_key::key_path_for;
use clap::{Args, Subcommand};
use std::path::Path;

/// The `key` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Say whether the database and the key file belong together, and how many hashes use each key
    Check(CheckArgs),
    /// Make a new PIN key current; old keys stay in the key file until no hash uses them
    Rotate,
    /// Drop old keys that no hash uses any more from the key file
    Prune,
}

/// Arguments of `key check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

fn refuse_env_key() -> Result<(), CliError> {
    if std::env::var_os("SUPPORT_DESK_KEY").is_some() {
        return Err(CliError::usage(
            "the PIN key comes from SUPPORT_DESK_KEY; rotate it where it is kept (this command changes key files only)",
        ));
    }
    Ok(())
}

/// Runs a `key` subcommand. `key check` exits 6 when the key does not belong or some hashes use a
/// key the file does not hold.
pub fn run(db: &Path, cmd: &KeyCommand) -> Result<Exit, CliError> {
    match cmd {
        KeyCommand::Check(args) => {
            let desk = open_desk(db)?;
            let status = desk.key_status()?;
            if args.json {
                output::print_json(&status)?;
            } else {
                let mut text = String::new();
                text.push_str(&format!(
                    "database key: {}\n",
                    status.database_key_id.as_deref().unwrap_or("none recorded yet (no keyed hash so far)")
                ));
                match &status.key_error {
                    Some(e) => text.push_str(&format!("key file: {}\n", output::fit(e, usize::MAX))),
                    None => text.push_str(&format!("key file: {} key(s), newest first: {}\n", status.key_file_ids.len(), status.key_file_ids.join(", "))),
                }
                let rows: Vec<Vec<String>> = status
                    .uses
                    .iter()
                    .map(|u| {
                        let state = match (&u.key_id, u.current, u.in_key_file) {
                            (None, _, _) => "unkeyed (imported or example): keyed at the next match",
                            (_, true, _) => "current key",
                            (_, false, true) => "old key: re-keyed at the next match",
                            (_, false, false) => "MISSING from the key file: these PINs cannot match",
                        };
                        vec![u.key_id.clone().unwrap_or_else(|| "-".into()), u.hashes.to_string(), state.to_string()]
                    })
                    .collect();
                text.push_str(&output::table(&["KEY ID", "HASHES", "STATE"], &rows));
                if !status.unused_old_keys.is_empty() {
                    text.push_str(&format!(
                        "{} old key(s) no hash uses any more: `support-desk key prune` drops them\n",
                        status.unused_old_keys.len()
                    ));
                }
                text.push_str(if status.healthy() {
                    "ok: the database and the key file belong together\n"
                } else if !status.belongs {
                    "PROBLEM: the key file does not belong to this database; no Support PIN can be checked\n"
                } else {
                    "PROBLEM: some hashes use a key the key file does not hold; those holders must make a new PIN\n"
                });
                output::print(&text)?;
            }
            Ok(if status.healthy() { Exit::Ok } else { Exit::Storage })
        }
        KeyCommand::Rotate => {
            refuse_env_key()?;
            let mut desk = open_desk(db)?;
            let key_file = key_path_for(db);
            let r = desk.rotate_key(&key_file)?;
            output::print(&format!(
                "new PIN key {} is current (was {}); {} hash(es) are re-keyed at their next match\nold keys kept: {}; dropped: {}\n",
                r.new_key_id,
                r.old_key_id,
                r.hashes_to_rekey,
                if r.kept_old_keys.is_empty() { "none".into() } else { r.kept_old_keys.join(", ") },
                if r.dropped_old_keys.is_empty() { "none".into() } else { r.dropped_old_keys.join(", ") },
            ))?;
            say!(
                "support-desk: restart every running support-desk: a desk started before the rotation refuses PIN checks until it is"
            );
            Ok(Exit::Ok)
        }
        KeyCommand::Prune => {
            refuse_env_key()?;
            let mut desk = open_desk(db)?;
            let dropped = desk.prune_keys(&key_path_for(db))?;
            output::print(&if dropped.is_empty() {
                "no old key to drop: every key in the file is current or still used\n".to_string()
            } else {
                format!("dropped {} old key(s): {}\n", dropped.len(), dropped.join(", "))
            })?;
            Ok(Exit::Ok)
        }
    }
}
