//! Reading secrets: rep passphrases (from `SUPPORT_DESK_PASSPHRASE` or a no-echo prompt) and the
//! Support PIN (one line on stdin, or a no-echo prompt). Never from the command line, never echoed.

use super::exit::CliError;
use crate::desk::{Pin, check_passphrase};
use std::io::{BufRead, IsTerminal, Read};
use zeroize::Zeroizing;

/// The environment variable a script uses to give a rep's passphrase.
pub const PASSPHRASE_ENV: &str = "SUPPORT_DESK_PASSPHRASE";

/// Longest line read as a Support PIN; anything longer is not a PIN anyway.
const MAX_PIN_LINE: u64 = 64;

fn env_passphrase() -> Result<Option<Zeroizing<String>>, CliError> {
    match std::env::var_os(PASSPHRASE_ENV) {
        None => Ok(None),
        Some(raw) => match raw.into_string() {
            Ok(text) => Ok(Some(Zeroizing::new(text))),
            Err(_) => Err(CliError::usage(format!("{PASSPHRASE_ENV} is not valid UTF-8"))),
        },
    }
}

/// True when someone can answer a prompt: the prompt goes to and is read from the terminal.
fn has_terminal() -> bool {
    std::io::stdin().is_terminal() || std::io::stderr().is_terminal()
}

fn prompt(text: &str) -> Result<Zeroizing<String>, CliError> {
    if !has_terminal() {
        return Err(CliError::usage(format!(
            "no terminal to ask for the passphrase; set {PASSPHRASE_ENV} (nothing was recorded)"
        )));
    }
    rpassword::prompt_password(text)
        .map(Zeroizing::new)
        .map_err(|e| CliError::usage(format!("could not read the passphrase from the terminal: {e}")))
}

/// The passphrase of a rep signing in.
pub fn sign_in_passphrase(username: &str) -> Result<Zeroizing<String>, CliError> {
    match env_passphrase()? {
        Some(p) => Ok(p),
        None => prompt(&format!("Passphrase for {username}: ")),
    }
}

/// A new rep's passphrase: from the environment, or typed twice at a no-echo prompt. Its length is
/// checked before anything is written.
pub fn new_passphrase(username: &str) -> Result<Zeroizing<String>, CliError> {
    if let Some(p) = env_passphrase()? {
        check_passphrase(&p)?;
        return Ok(p);
    }
    let first = prompt(&format!("New passphrase for {username}: "))?;
    check_passphrase(&first)?;
    let second = prompt("Type it again: ")?;
    if first != second {
        return Err(CliError::usage("the two passphrases differ; nothing was changed"));
    }
    Ok(first)
}

/// Reads the Support PIN: at a no-echo prompt when stdin is a terminal, else one line from stdin.
/// A line that is not exactly four digits is a usage error; the message never repeats it.
pub fn read_pin() -> Result<Pin, CliError> {
    let stdin = std::io::stdin();
    let line: Zeroizing<String> = if stdin.is_terminal() {
        rpassword::prompt_password("Support PIN (not shown): ")
            .map(Zeroizing::new)
            .map_err(|e| CliError::usage(format!("could not read the Support PIN from the terminal: {e}")))?
    } else {
        let mut bytes = Zeroizing::new(Vec::new());
        let read = stdin
            .lock()
            .take(MAX_PIN_LINE)
            .read_until(b'\n', &mut bytes)
            .map_err(|e| CliError::usage(format!("could not read the Support PIN from stdin: {e}")))?;
        if read == 0 {
            return Err(CliError::usage(
                "no Support PIN on stdin: give it as one line (e.g. from a file or a pipe); nothing was recorded",
            ));
        }
        match std::str::from_utf8(&bytes) {
            Ok(text) => Zeroizing::new(text.to_string()),
            Err(_) => return Err(not_a_pin("a Support PIN has digits 0-9 only")),
        }
    };
    Pin::parse(&line).map_err(|e| not_a_pin(&e.to_string()))
}

fn not_a_pin(why: &str) -> CliError {
    CliError::usage(format!("the line given is not a Support PIN ({why}); nothing was recorded"))
}
