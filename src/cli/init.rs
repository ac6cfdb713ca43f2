//! `support-desk init`: a new empty database, its key file and its first lead.

use super::exit::{CliError, Exit};
use super::secrets;
use crate::desk::pin_key::{PinKey, key_path_for};
use crate::desk::{Desk, NewRep, RepRole, check_username};
use clap::Args;
use std::path::Path;

/// Arguments of `init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Username of the first lead (lower-case letters, digits, '.', '_', '-')
    #[arg(long, value_name = "USER")]
    pub lead: String,
    /// Display name of the first lead
    #[arg(long, value_name = "NAME")]
    pub name: String,
}

/// Creates the database (refusing a path that exists), the key file beside it (mode 0600) unless a
/// key is given by environment, and the first lead, whose passphrase comes from
/// `SUPPORT_DESK_PASSPHRASE` or is typed twice at a no-echo prompt.
pub fn run(db: &Path, args: &InitArgs) -> Result<Exit, CliError> {
    crate::desk::store::refuse_directory(db)?;
    if db.symlink_metadata().is_ok() {
        return Err(CliError::usage(format!(
            "{} already exists; init never touches an existing database",
            db.display()
        )));
    }
    check_username(&args.lead)?;
    let passphrase = secrets::new_passphrase(&args.lead)?;
    let key_path = key_path_for(db);
    let key_from_env = std::env::var_os("SUPPORT_DESK_KEY").is_some();
    let key_file_existed = key_from_env || key_path.symlink_metadata().is_ok();
    let key = PinKey::load_or_create_for(db)?;
    let created = Desk::create(
        db,
        key,
        &NewRep {
            username: &args.lead,
            display_name: &args.name,
            role: RepRole::Lead,
            passphrase: &passphrase,
            account_id: None,
        },
    );
    if created.is_err() && !key_file_existed {
        // The key was made for this database only; without the database it is litter.
        let _ = std::fs::remove_file(&key_path);
    }
    created?;
    let key_note = if key_from_env {
        "the PIN key from SUPPORT_DESK_KEY".to_string()
    } else if key_file_existed {
        format!("the existing key file {}", key_path.display())
    } else {
        format!("a new key file {} (mode 600)", key_path.display())
    };
    say!(
        "support-desk: created {} (mode 600) with {key_note}; first lead: {}. Keep the key file with the database: without it no Support PIN can be checked.",
        db.display(),
        args.lead
    );
    Ok(Exit::Ok)
}
