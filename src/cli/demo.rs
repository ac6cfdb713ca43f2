//! `support-desk demo`: a working copy of the bundled example database, then the screen on it.

use super::exit::{CliError, Exit};
use crate::desk::pin_key::{PinKey, key_path_for};
use crate::desk::setup::database_files;
use crate::desk::store::OpenMode;
use crate::desk::Desk;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The example's file name.
pub const EXAMPLE_FILE: &str = "support-desk.sqlite.example";

/// Arguments of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Start over: remove the working copy, its -wal/-shm and its key file, then copy again
    #[arg(long)]
    pub reset: bool,
    /// Only prepare the working copy; do not open the screen
    #[arg(long)]
    pub no_open: bool,
    /// The example to copy [default: ./support-desk.sqlite.example, else the one in the source tree]
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
}

const HINT: &str = "support-desk: demo reps: rita (rep, passphrase rita-demo-pass) and leo (lead, passphrase \
leo-demo-pass). The demo callers and their Support PINs are listed in the README and in assets/demo/directory.csv.";

/// Where the example is: `--from`, else the current directory, else the source tree this binary
/// was built from.
pub fn find_example(from: Option<&Path>) -> Result<PathBuf, CliError> {
    let candidates: Vec<PathBuf> = match from {
        Some(p) => vec![p.to_path_buf()],
        None => vec![
            PathBuf::from(EXAMPLE_FILE),
            Path::new(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE_FILE),
        ],
    };
    candidates.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
        let tried: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
        CliError::new(
            Exit::NotFound,
            format!("the example database was not found (looked for {}); give it with --from FILE", tried.join(", ")),
        )
    })
}

/// Makes (or keeps) the working copy at `db` and opens the screen on it unless `--no-open`.
pub fn run(db: &Path, args: &DemoArgs) -> Result<Exit, CliError> {
    // Before anything else: `--reset` would otherwise advise removing the directory.
    crate::desk::store::refuse_directory(db)?;
    let example = find_example(args.from.as_deref())?;
    if same_file(&example, db) || db.extension().is_some_and(|e| e == "example") {
        return Err(CliError::usage(format!(
            "--db {} would be the example itself; give the working copy another name",
            db.display()
        )));
    }
    let exists = db.symlink_metadata().is_ok();
    if exists && args.reset {
        reset(db)?;
    }
    let desk = if db.symlink_metadata().is_ok() {
        let mut desk = Desk::open(db, OpenMode::Existing)?;
        // A copy whose key was never bound (an interrupted demo) gets it now; a bound one ignores
        // this. A missing key is reported by the checks that need it.
        let _ = desk.bind_key();
        say!(
            "support-desk: keeping the working copy {} as it is (use --reset to start over)",
            db.display()
        );
        desk
    } else {
        let desk = make_copy(&example, db)?;
        say!(
            "support-desk: copied {} to {} (mode 600); PIN key in {} (mode 600)",
            example.display(),
            db.display(),
            key_path_for(db).display()
        );
        desk
    };
    say!("{HINT}");
    if args.no_open {
        return Ok(Exit::Ok);
    }
    crate::tui::run(desk)?;
    Ok(Exit::Ok)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Removes a working copy, but only one made from the example: `--reset` must never throw away a
/// real database given by mistake.
fn reset(db: &Path) -> Result<(), CliError> {
    let is_copy = Desk::open(db, OpenMode::Existing)
        .and_then(|desk| desk.is_example_copy())
        .map_err(|e| {
            CliError::new(
                Exit::Storage,
                format!("{e}; demo --reset only removes a copy of the example it can read, so remove {} yourself", db.display()),
            )
        })?;
    if !is_copy {
        return Err(CliError::usage(format!(
            "{} is not a copy of the example database; demo --reset leaves it alone",
            db.display()
        )));
    }
    for file in database_files(db).into_iter().chain([PinKey::default_path(db)]) {
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(CliError::new(Exit::Storage, format!("could not remove {}: {e}", file.display())));
            }
            _ => {}
        }
    }
    say!("support-desk: removed the working copy {} and its key file", db.display());
    Ok(())
}

/// Copies the example byte for byte (never opening it with SQLite) to a new 0600 file, then makes
/// or loads the key and binds it. If anything fails, the copy (and a key made for it) is removed.
fn make_copy(example: &Path, db: &Path) -> Result<Desk, CliError> {
    // No database here, so any -wal/-shm beside it are orphans; SQLite would apply a stale WAL to
    // the fresh copy.
    for file in database_files(db).into_iter().skip(1) {
        let _ = std::fs::remove_file(file);
    }
    let key_path = key_path_for(db);
    let key_existed = std::env::var_os("SUPPORT_DESK_KEY").is_some() || key_path.symlink_metadata().is_ok();
    let made = copy_private(example, db).and_then(|()| {
        let key = PinKey::load_or_create_for(db)?;
        let mut desk = Desk::open_with_key(db, OpenMode::Existing, key)?;
        desk.bind_key()?;
        Ok(desk)
    });
    if made.is_err() {
        for file in database_files(db) {
            let _ = std::fs::remove_file(file);
        }
        if !key_existed {
            let _ = std::fs::remove_file(&key_path);
        }
    }
    made
}

fn copy_private(from: &Path, to: &Path) -> Result<(), CliError> {
    let io = |what: &str, path: &Path, e: std::io::Error| {
        CliError::new(Exit::Storage, format!("could not {what} {}: {e}", path.display()))
    };
    let mut tmp_name = to.as_os_str().to_owned();
    tmp_name.push(".copying");
    let tmp = PathBuf::from(tmp_name);
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let copied = (|| {
        let mut source = std::fs::File::open(from).map_err(|e| io("read", from, e))?;
        let mut dest = options.open(&tmp).map_err(|e| io("create", &tmp, e))?;
        std::io::copy(&mut source, &mut dest).map_err(|e| io("write", &tmp, e))?;
        dest.flush().and_then(|_| dest.sync_all()).map_err(|e| io("write", &tmp, e))?;
        std::fs::rename(&tmp, to).map_err(|e| io("create", to, e))
    })();
    if copied.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    copied
}
