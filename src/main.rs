//! The `support-desk` binary: parse the command line, run the command, exit with its code. The only
//! `process::exit` of the program is here.

use std::io::Write;
use support_desk::cli::{self, Exit};

fn main() {
    forbid_core_dumps();
    let exit = match cli::parse(std::env::args_os()) {
        Ok(parsed) => match cli::dispatch(parsed) {
            Ok(exit) => exit,
            Err(e) => {
                // A closed stderr is ignored (no panic): the exit code still tells.
                let _ = writeln!(std::io::stderr(), "support-desk: {}", e.message);
                e.exit
            }
        },
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            Exit::Ok
        }
        Err(e) => {
            let _ = write!(std::io::stderr(), "{}", redact_digit_runs(&e.render().to_string()));
            Exit::Usage
        }
    };
    std::process::exit(exit.code());
}

/// A core dump of a desk process could hold a Support PIN or a passphrase typed a moment ago, so
/// the process makes none (core size limit 0, not dumpable). Best effort: if the system refuses,
/// the desk still runs.
fn forbid_core_dumps() {
    use rustix::process::{Resource, Rlimit, setrlimit};
    let _ = setrlimit(Resource::Core, Rlimit { current: Some(0), maximum: Some(0) });
    let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
}

/// clap quotes what it could not parse; if that was a Support PIN typed on the command line by
/// mistake, it must not be repeated. Runs of four or more digits become `****`.
fn redact_digit_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 4 {
            out.push_str("****");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::redact_digit_runs;

    #[test]
    fn digit_runs_of_four_or_more_are_hidden() {
        assert_eq!(redact_digit_runs("unexpected argument '0071' found"), "unexpected argument '****' found");
        assert_eq!(redact_digit_runs("'--pin=12345'"), "'--pin=****'");
        assert_eq!(redact_digit_runs("exit 2 after 123"), "exit 2 after 123");
        assert_eq!(redact_digit_runs("S-2002"), "S-****");
    }
}
