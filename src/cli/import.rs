//! `support-desk import FILE.csv`: bring the directory export of the system of record in, as a sync.

use super::exit::{CliError, Exit};
use super::{open_desk, output};
use crate::desk::import::{ImportOptions, ImportPhase, ImportProgress, ImportReport};
use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Arguments of `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The CSV file (columns account_id, role, name, email, phone, practice, primary_provider and
    /// optionally pin_hash; header names in any case and order)
    #[arg(value_name = "FILE.csv")]
    pub file: PathBuf,
    /// Import the good rows and report the bad ones (default: one bad row refuses the whole file)
    #[arg(long)]
    pub skip_bad: bool,
    /// Check and count everything, change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Accept a file that marks many accounts inactive (by default a file that would mark at least
    /// 25 accounts and more than 10 % of the active directory inactive, or at least 3 and more than
    /// 25 %, is refused: that is what an export cut short looks like)
    #[arg(long)]
    pub allow_removals: bool,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

/// A progress line on stderr, drawn only when stderr is a terminal, at most ten times a second.
struct ProgressLine {
    on: bool,
    started: Instant,
    /// Rows already counted when this phase's clock started.
    start_rows: u64,
    phase: Option<ImportPhase>,
    last_draw: Option<Instant>,
    drawn: bool,
}

impl ProgressLine {
    fn new() -> ProgressLine {
        ProgressLine {
            on: std::io::stderr().is_terminal(),
            started: Instant::now(),
            start_rows: 0,
            phase: None,
            last_draw: None,
            drawn: false,
        }
    }

    fn update(&mut self, p: &ImportProgress) {
        if !self.on {
            return;
        }
        if self.phase != Some(p.phase) {
            // The first report of a phase starts its clock; rates are measured from there.
            self.phase = Some(p.phase);
            self.started = Instant::now();
            self.start_rows = p.rows;
            return;
        }
        let now = Instant::now();
        if self.last_draw.is_some_and(|t| now.duration_since(t) < Duration::from_millis(100)) {
            return;
        }
        self.last_draw = Some(now);
        let secs = now.duration_since(self.started).as_secs_f64().max(0.001);
        let rate = p.rows.saturating_sub(self.start_rows) as f64 / secs;
        let done = match p.total_rows {
            Some(total) if total > 0 => p.rows as f64 / total as f64,
            _ if p.total_bytes > 0 => p.bytes as f64 / p.total_bytes as f64,
            _ => 0.0,
        };
        let eta = if done > 0.0 { secs * (1.0 - done) / done } else { 0.0 };
        let what = match p.phase {
            ImportPhase::Checking => "checking",
            ImportPhase::Comparing => "comparing",
            ImportPhase::Writing => "writing",
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{what}: {} rows, {:.0} rows/s, {:>3.0}%, ETA {:.0} s",
            p.rows,
            rate,
            done * 100.0,
            eta.max(0.0)
        );
        let _ = err.flush();
        self.drawn = true;
    }

    fn clear(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

fn summary(report: &ImportReport) -> String {
    let mut text = String::new();
    let verb = if report.dry_run {
        "Dry run (nothing changed)"
    } else if report.written {
        "Imported"
    } else {
        "Refused (nothing changed)"
    };
    text.push_str(&format!("{verb}: {} row(s), file SHA-256 {}\n", report.rows, report.file_sha256));
    if !report.refused {
        text.push_str(&format!(
            "  added {}, updated {}, unchanged {}, removed from source {} (marked inactive), skipped {}\n",
            report.added, report.updated, report.unchanged, report.removed, report.skipped
        ));
    }
    if !report.problems.is_empty() {
        text.push_str(&format!("{} problem(s):\n", report.problems.len()));
        for p in &report.problems {
            text.push_str(&format!("  {}\n", output::fit(&p.to_string(), usize::MAX)));
        }
        if report.refused && report.problems.iter().any(|p| p.line == 1) {
            // The header (or the whole file) is wrong: skipping rows cannot help.
            text.push_str("Fix the file and import it again; nothing was imported.\n");
        } else if report.refused {
            text.push_str("Fix the rows above, or run again with --skip-bad to import the good rows only.\n");
        }
    }
    for note in &report.notes {
        text.push_str(&format!("note: {}\n", output::fit(note, usize::MAX)));
    }
    text
}

/// Runs the import. A refused file exits 2 with every problem listed; nothing changed.
pub fn run(db: &Path, args: &ImportArgs) -> Result<Exit, CliError> {
    let mut desk = open_desk(db)?;
    let mut line = ProgressLine::new();
    let options = ImportOptions { skip_bad: args.skip_bad, dry_run: args.dry_run, allow_removals: args.allow_removals };
    let result = desk.import_directory(&args.file, options, &mut |p| line.update(p));
    line.clear();
    let report = result?;
    if args.json {
        output::print_json(&report)?;
    } else {
        output::print(&summary(&report))?;
    }
    if report.refused {
        return Ok(Exit::Usage);
    }
    Ok(Exit::Ok)
}
