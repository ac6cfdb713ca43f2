//! `support-desk completions SHELL` and `support-desk man`: generated from the clap definitions, so
//! they never disagree with `--help`.

use super::exit::{CliError, Exit};
use clap::Args;
use clap_complete::Shell;

/// Arguments of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write completions for
    #[arg(value_enum)]
    pub shell: Shell,
}

fn write_error(e: std::io::Error) -> CliError {
    CliError::new(Exit::Storage, format!("could not write the output: {e}"))
}

/// Writes the completion script to stdout.
pub fn completions(args: &CompletionsArgs) -> Result<Exit, CliError> {
    let mut cmd = super::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "support-desk", &mut out);
    super::output::print(&String::from_utf8_lossy(&out))?;
    Ok(Exit::Ok)
}

/// Writes the man page (roff) to stdout.
pub fn man() -> Result<Exit, CliError> {
    let mut out = Vec::new();
    clap_mangen::Man::new(super::command()).render(&mut out).map_err(write_error)?;
    super::output::print(&String::from_utf8_lossy(&out))?;
    Ok(Exit::Ok)
}
