//! `support-desk example build`: regenerates the bundled example database from `assets/demo/`.

use super::demo::EXAMPLE_FILE;
use super::exit::{CliError, Exit};
use crate::desk::example;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

/// The `example` subcommands.
#[derive(Debug, Subcommand)]
pub enum ExampleCommand {
    /// Regenerate support-desk.sqlite.example from assets/demo/ (directory, reps, past calls)
    Build(BuildArgs),
}

/// Arguments of `example build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Where to write it [default: support-desk.sqlite.example at the top of the source tree]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The demo data [default: assets/demo in the current directory, else in the source tree]
    #[arg(long, value_name = "DIR")]
    pub assets: Option<PathBuf>,
}

/// Runs an `example` subcommand.
pub fn run(cmd: &ExampleCommand) -> Result<Exit, CliError> {
    let ExampleCommand::Build(args) = cmd;
    let root = if Path::new("assets/demo").is_dir() {
        PathBuf::from(".")
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    };
    let assets = args.assets.clone().unwrap_or_else(|| root.join("assets/demo"));
    let out = args.out.clone().unwrap_or_else(|| root.join(EXAMPLE_FILE));
    if !assets.join("directory.csv").is_file() {
        return Err(CliError::new(
            Exit::NotFound,
            format!("{} has no directory.csv; give the demo data with --assets DIR", assets.display()),
        ));
    }
    example::build(&assets, &out, chrono::Utc::now())?;
    say!("support-desk: wrote {} from {}", out.display(), assets.display());
    Ok(Exit::Ok)
}
