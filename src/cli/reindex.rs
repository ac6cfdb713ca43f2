//! `support-desk reindex`: rebuilds the lookup's search index from the directory, when `check`
//! says it is out of step.

use super::exit::{CliError, Exit};
use super::open_desk;
use std::path::Path;

/// Rebuilds the index in one transaction and says how many accounts it holds.
pub fn run(db: &Path) -> Result<Exit, CliError> {
    let mut desk = open_desk(db)?;
    let accounts = desk.rebuild_search_index()?;
    say!("support-desk: rebuilt the search index of {accounts} accounts; `support-desk check` should now find it in step");
    Ok(Exit::Ok)
}
