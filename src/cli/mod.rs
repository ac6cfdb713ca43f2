//! The command line: one file per subcommand, each with its clap `Args` and a `run` that calls the
//! core. `main` parses, calls [`dispatch`] and turns the result into an exit code ([`Exit`]).

/// A line on stderr. A closed stderr (`2>&1 | head -1` in a script) is ignored: the command has
/// already done its work, and `eprintln!` would panic (exit 101) after a PIN was used up.
macro_rules! say {
    () => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr());
    }};
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Like [`say!`], without the line end (progress lines).
macro_rules! say_part {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut err = std::io::stderr();
        let _ = write!(err, $($arg)*);
        let _ = err.flush();
    }};
}

pub mod audit;
pub mod backup;
pub mod case;
pub mod check;
pub mod demo;
pub mod docs;
pub mod example;
pub mod exit;
pub mod generate;
pub mod import;
pub mod init;
pub mod key;
pub mod lookup;
pub mod output;
pub mod pin;
pub mod policy;
pub mod reindex;
pub mod rep;
pub mod secrets;
pub mod verdict;

pub use exit::{CliError, Exit};

use crate::desk::store::{OpenMode, waiting};
use crate::desk::{Desk, Session, SignIn};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// support-desk: find the caller, check their Support PIN, see the delegation verdict; every step
/// lands in a tamper-evident audit trail. Without a command it opens the screen (TUI).
#[derive(Debug, Parser)]
#[command(name = "support-desk", version)]
pub struct Cli {
    /// The database file
    #[arg(long, global = true, env = "SUPPORT_DESK_DB", default_value = "./support-desk.sqlite", value_name = "PATH")]
    pub db: PathBuf,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `--version`: the program's version and the database schema version it writes.
pub fn version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| {
        format!("{} (database schema {})", env!("CARGO_PKG_VERSION"), crate::desk::store::SCHEMA_VERSION)
    })
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new empty database, its key file and its first lead
    Init(init::InitArgs),
    /// Copy the example database to --db (once) and open the screen on it
    Demo(demo::DemoArgs),
    /// Add, list, disable and enable reps and leads
    #[command(subcommand)]
    Rep(rep::RepCommand),
    /// The holder's "Generate New PIN", and checking a Support PIN read from stdin
    #[command(subcommand)]
    Pin(pin::PinCommand),
    /// The delegation verdict for a caller's request, recorded in the audit trail
    Verdict(verdict::VerdictArgs),
    /// Cases: open, verdict, approve, note, await, close, list, show
    #[command(subcommand)]
    Case(case::CaseCommand),
    /// Find accounts by name, email, phone, account id or practice
    Lookup(lookup::LookupArgs),
    /// List the audit trail and verify its hash chain
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Print the delegation table and every policy value
    Policy(policy::PolicyArgs),
    /// Import the directory CSV of the system of record (a sync: add, update, mark removed inactive)
    Import(import::ImportArgs),
    /// Check the PIN key file against the database; rotate the key; drop unused old keys
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Write a consistent copy of the live database to a new file
    Backup(backup::BackupArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell)
    Completions(docs::CompletionsArgs),
    /// Print the man page (roff)
    Man,
    /// Check the database file and its audit chain, read-only (safe on a damaged file)
    Check(check::CheckArgs),
    /// Rebuild the lookup's search index from the directory (when `check` finds it out of step)
    Reindex,
    /// Build the bundled example database
    #[command(subcommand)]
    Example(example::ExampleCommand),
    /// Build a synthetic database for benchmarks (refuses to touch any other database)
    Generate(generate::GenerateArgs),
}

/// The clap command with the exit code table under every command's help.
pub fn command() -> clap::Command {
    fn with_table(cmd: clap::Command, table: &str) -> clap::Command {
        let table = table.to_string();
        cmd.after_help(table.clone()).mut_subcommands(move |sub| with_table(sub, &table))
    }
    with_table(Cli::command().version(version()), &exit::help_table())
}

/// Parses the command line.
pub fn parse<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut matches = command().try_get_matches_from(args)?;
    Cli::from_arg_matches_mut(&mut matches)
}

/// Runs the parsed command.
pub fn dispatch(cli: Cli) -> Result<Exit, CliError> {
    let db = cli.db.as_path();
    if cli.command.is_some() {
        announce_waits();
    }
    match cli.command {
        None => {
            let desk = open_desk(db)?;
            crate::tui::run(desk)?;
            Ok(Exit::Ok)
        }
        Some(Command::Init(args)) => init::run(db, &args),
        Some(Command::Demo(args)) => demo::run(db, &args),
        Some(Command::Rep(cmd)) => rep::run(db, &cmd),
        Some(Command::Pin(cmd)) => pin::run(db, &cmd),
        Some(Command::Verdict(args)) => verdict::run(db, &args),
        Some(Command::Case(cmd)) => case::run(db, &cmd),
        Some(Command::Lookup(args)) => lookup::run(db, &args),
        Some(Command::Audit(cmd)) => audit::run(db, &cmd),
        Some(Command::Policy(args)) => policy::run(db, &args),
        Some(Command::Import(args)) => import::run(db, &args),
        Some(Command::Key(cmd)) => key::run(db, &cmd),
        Some(Command::Backup(args)) => backup::run(db, &args),
        Some(Command::Completions(args)) => docs::completions(&args),
        Some(Command::Man) => docs::man(),
        Some(Command::Check(args)) => check::run(db, &args),
        Some(Command::Reindex) => reindex::run(db),
        Some(Command::Example(cmd)) => example::run(&cmd),
        Some(Command::Generate(args)) => generate::run(db, &args),
    }
}

/// A count of 1 or more, for `--limit`. Its own words: clap's range message would print the upper
/// bound, a run of digits that the argument-error redaction (a PIN typed on the command line by
/// mistake) turns into `****`.
pub fn at_least_one(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("give a whole number, 1 or more".into()),
    }
}

/// A command that meets another program's lock waits for it (up to about 25 s); on a terminal it
/// says so once, on stderr, instead of hanging silently. Redirected output gets nothing.
fn announce_waits() {
    use std::io::{IsTerminal, Write};
    if !std::io::stderr().is_terminal() {
        return;
    }
    std::thread::spawn(|| {
        loop {
            std::thread::sleep(std::time::Duration::from_millis(100));
            if waiting::waiting().is_some_and(|d| d >= std::time::Duration::from_secs(1)) {
                let _ = writeln!(
                    std::io::stderr(),
                    "support-desk: waiting for the database, which another program holds (Ctrl-C stops; nothing is decided)"
                );
                return;
            }
        }
    });
}

/// Opens an existing database. The tracked example is refused: opening it with SQLite would
/// change it (WAL mode), and it must stay byte for byte as committed; `demo` makes a copy.
pub fn open_desk(db: &Path) -> Result<Desk, CliError> {
    if db.extension().is_some_and(|e| e == "example") {
        return Err(CliError::usage(format!(
            "{} is the bundled example; it is never opened directly. Run `support-desk demo` to work on a copy",
            db.display()
        )));
    }
    Ok(Desk::open(db, OpenMode::Existing)?)
}

/// Signs `username` in with the passphrase from `SUPPORT_DESK_PASSPHRASE` or a no-echo prompt.
/// An unknown rep, a wrong passphrase and a disabled or locked rep get the same message.
pub fn sign_in(desk: &mut Desk, username: &str) -> Result<Session, CliError> {
    let passphrase = secrets::sign_in_passphrase(username)?;
    sign_in_with(desk, username, &passphrase)
}

/// Signs in with a passphrase already read.
pub fn sign_in_with(desk: &mut Desk, username: &str, passphrase: &str) -> Result<Session, CliError> {
    match desk.sign_in(username, passphrase)? {
        SignIn::SignedIn(session) => Ok(session),
        SignIn::Refused => Err(CliError::new(
            Exit::AuthFailed,
            "sign-in refused: unknown rep or wrong passphrase (or the rep is disabled or locked)",
        )),
    }
}

/// Ends a command's session (audited as signed out). Best effort: the command's own result was
/// already recorded, so a failure here is only reported.
pub fn sign_out(desk: &mut Desk, session: &Session) {
    if let Err(e) = desk.sign_out(session, false) {
        say!("support-desk: note: the sign-out was not recorded: {e}");
    }
}
