//! `support-desk backup FILE`: a consistent copy of a live database, safe while reps work.

use super::exit::{CliError, Exit};
use super::open_desk;
use clap::Args;
use std::path::{Path, PathBuf};

/// Arguments of `backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The new file to write (never an existing one)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// Copies the database with SQLite's online backup; the copy is created owner-only (0600).
pub fn run(db: &Path, args: &BackupArgs) -> Result<Exit, CliError> {
    let desk = open_desk(db)?;
    let pages = desk.backup_to(&args.file)?;
    say!(
        "support-desk: copied {} to {} ({pages} pages). Keep the key file {} with it, stored apart from the copy.",
        db.display(),
        args.file.display(),
        crate::desk::pin_key::key_path_for(db).display()
    );
    Ok(Exit::Ok)
}
