//! `support-desk generate`: a synthetic database for measuring the desk at scale.

use super::exit::{CliError, Exit};
use crate::desk::generate::{ACCOUNTS_WITH_PIN, REP_PASSPHRASE, generate};
use clap::Args;
use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

/// Arguments of `generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// How many accounts
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub accounts: usize,
    /// How many audit events
    #[arg(long, value_name = "M", default_value_t = 100_000)]
    pub audit_events: usize,
    /// The random seed (the same seed gives the same database)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Builds the database at `db`: a new file, or one this command made before (never another).
pub fn run(db: &Path, args: &GenerateArgs) -> Result<Exit, CliError> {
    let started = Instant::now();
    let tty = std::io::stderr().is_terminal();
    let result = generate(db, args.accounts, args.audit_events, args.seed, chrono::Utc::now(), |what, done, total| {
        if tty {
            let secs = started.elapsed().as_secs_f64().max(0.001);
            say_part!("\r{what}: {done}/{total} ({:.0}/s)      ", done as f64 / secs);
        }
    })?;
    if tty {
        say!();
    }
    say!(
        "support-desk: generated {} practices, {} accounts, {} audit events in {:.1} s into {}",
        result.practices,
        result.accounts,
        result.audit_events,
        started.elapsed().as_secs_f64(),
        db.display()
    );
    say!(
        "support-desk: reps rep0001..rep0020 (rep0001-rep0003 are leads), passphrase {REP_PASSPHRASE}; \
         the first {ACCOUNTS_WITH_PIN} accounts have Support PINs (SYN-0000001 has 0001, and so on)"
    );
    Ok(Exit::Ok)
}
