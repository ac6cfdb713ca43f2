//! `support-desk rep add|list|disable|enable`: administering reps and leads.

use super::exit::{CliError, Exit};
use super::{open_desk, output, secrets};
use crate::desk::{AccountId, NewRep, RepRole, check_username};
use clap::{Args, Subcommand, ValueEnum};
use std::path::Path;

/// The `rep` subcommands.
#[derive(Debug, Subcommand)]
pub enum RepCommand {
    /// Add a rep or lead (passphrase from SUPPORT_DESK_PASSPHRASE, or typed twice without echo)
    Add(AddArgs),
    /// List reps and leads
    List(ListArgs),
    /// Disable a rep: they can no longer sign in
    Disable(UserArg),
    /// Enable a rep again (also clears a sign-in lockout)
    Enable(UserArg),
    /// Reset a rep's passphrase (new one from SUPPORT_DESK_PASSPHRASE, or typed twice without echo)
    Passphrase(PassphraseArgs),
}

/// A rep's role on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    Rep,
    Lead,
}

/// Arguments of `rep add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// Username (lower-case letters, digits, '.', '_', '-')
    pub user: String,
    /// Display name
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// Role
    #[arg(long, value_enum)]
    pub role: RoleArg,
    /// The rep's own directory account, on which they may never act
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
}

/// Arguments of `rep list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// A username argument.
#[derive(Debug, Args)]
pub struct UserArg {
    /// Username
    pub user: String,
}

/// Arguments of `rep passphrase`.
#[derive(Debug, Args)]
pub struct PassphraseArgs {
    /// Username
    pub user: String,
    /// Anything else on the command line: refused unread, so a passphrase typed there is never used
    #[arg(hide = true)]
    pub stray: Vec<String>,
}

/// Runs a `rep` subcommand. These are admin commands: whoever can write the database file is the
/// admin, and the audit event records no rep.
pub fn run(db: &Path, cmd: &RepCommand) -> Result<Exit, CliError> {
    match cmd {
        RepCommand::Add(args) => {
            let mut desk = open_desk(db)?;
            check_username(&args.user)?;
            let passphrase = secrets::new_passphrase(&args.user)?;
            let role = match args.role {
                RoleArg::Rep => RepRole::Rep,
                RoleArg::Lead => RepRole::Lead,
            };
            desk.add_rep(
                &NewRep {
                    username: &args.user,
                    display_name: &args.name,
                    role,
                    passphrase: &passphrase,
                    account_id: args.account.as_ref().map(AccountId::new),
                },
                None,
            )?;
            say!("support-desk: added {} as {}", args.user, role.as_str());
            Ok(Exit::Ok)
        }
        RepCommand::List(args) => {
            let desk = open_desk(db)?;
            let reps = desk.list_reps()?;
            if args.json {
                output::print_json(&reps)?;
            } else {
                let rows: Vec<Vec<String>> = reps
                    .iter()
                    .map(|r| {
                        let status = if r.disabled {
                            "disabled"
                        } else if r.locked {
                            "locked"
                        } else {
                            "active"
                        };
                        vec![
                            r.username.clone(),
                            r.display_name.clone(),
                            r.role.as_str().to_string(),
                            r.account_id.clone().unwrap_or_default(),
                            status.to_string(),
                        ]
                    })
                    .collect();
                output::print(&output::table(&["USER", "NAME", "ROLE", "ACCOUNT", "STATUS"], &rows))?;
            }
            Ok(Exit::Ok)
        }
        RepCommand::Passphrase(PassphraseArgs { user, stray }) => {
            if !stray.is_empty() {
                return Err(CliError::usage(
                    "a passphrase is never taken from the command line; set SUPPORT_DESK_PASSPHRASE or type it \
                     at the prompt (nothing was changed)",
                ));
            }
            let mut desk = open_desk(db)?;
            check_username(user)?;
            if !desk.list_reps()?.iter().any(|r| &r.username == user) {
                return Err(CliError::new(Exit::NotFound, format!("rep {user} not found")));
            }
            let passphrase = secrets::new_passphrase(user)?;
            desk.reset_passphrase(user, &passphrase, None)?;
            say!("support-desk: passphrase of {user} reset (a sign-in lockout was cleared too)");
            Ok(Exit::Ok)
        }
        RepCommand::Disable(UserArg { user }) | RepCommand::Enable(UserArg { user }) => {
            let enable = matches!(cmd, RepCommand::Enable(_));
            let mut desk = open_desk(db)?;
            desk.set_rep_enabled(user, enable, None)?;
            say!("support-desk: {} {user}", if enable { "enabled" } else { "disabled" });
            Ok(Exit::Ok)
        }
    }
}
