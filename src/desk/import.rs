//! Importing the directory export of the system of record (CSV), as a sync.
//!
//! The file is read in three streaming passes. The first checks every row and every link between
//! rows (duplicate ids, staff whose primary provider is missing or in another practice). The second
//! compares the good rows with the directory inside a read snapshot, holding no lock, and notes the
//! lines that would change something. The third writes only those lines, in one `BEGIN IMMEDIATE`
//! transaction together with the import's audit event, so an import is whole or not at all, and a
//! nightly sync that changes a few hundred accounts holds the write lock for milliseconds, not for
//! the seconds a million-row comparison takes (reps' PIN checks wait for that lock). The file's
//! SHA-256 is computed in every pass; if the file changed in between, nothing is written. If another
//! import committed between the comparison and the write, nothing is written either.
//!
//! A file that would mark a large part of the directory inactive (an export cut short by a
//! spreadsheet's row limit or a failed transfer looks exactly like that) is refused unless the
//! admin says the removals are meant.
//!
//! Text rules: a byte-order mark before the first header is ignored; header names are matched
//! case-insensitively and in any order; ids, phones and PIN hashes stay text. A line break or tab
//! inside a field (a spreadsheet cell that wrapped) becomes one space; any other control character
//! refuses the row. Names and practices are NFC-normalised. Bidi overrides are kept as given and
//! escaped wherever they are shown or exported.

use super::audit::{self, EventKind, NewEvent};
use super::clock::to_db;
use super::directory::search_text;
use super::error::DeskError;
use super::pin_hash::inspect;
use super::policy::Role;
use super::store::sql;
use super::text::{digits, escape_hazards, normalize};
use super::Desk;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

/// How an import behaves.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImportOptions {
    /// Import the good rows and report the bad ones, instead of refusing the whole file.
    pub skip_bad: bool,
    /// Check and count everything, write nothing (not even an audit event).
    pub dry_run: bool,
    /// Accept a file that marks many accounts inactive (see [`MASS_REMOVAL_MIN`]).
    pub allow_removals: bool,
}

/// A file that would mark at least this many accounts inactive, and more than
/// [`MASS_REMOVAL_PERCENT`] % of the active directory, is refused without `allow_removals`.
pub const MASS_REMOVAL_MIN: u64 = 25;
/// See [`MASS_REMOVAL_MIN`].
pub const MASS_REMOVAL_PERCENT: u64 = 10;
/// On a small directory: at least [`SMALL_REMOVAL_MIN`] accounts and more than
/// [`SMALL_REMOVAL_PERCENT`] % of it are refused too (a 16-account desk loses everyone to a
/// wrong file long before 25 removals).
pub const SMALL_REMOVAL_MIN: u64 = 3;
/// See [`SMALL_REMOVAL_MIN`].
pub const SMALL_REMOVAL_PERCENT: u64 = 25;

/// Which pass an import is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportPhase {
    /// Reading and checking every row; nothing is written.
    Checking,
    /// Comparing the good rows with the directory; nothing is written, no lock is held.
    Comparing,
    /// Writing the rows that change something.
    Writing,
}

/// How far an import has come, for a progress line.
#[derive(Clone, Copy, Debug)]
pub struct ImportProgress {
    pub phase: ImportPhase,
    /// Rows read so far in this pass.
    pub rows: u64,
    /// Rows in the file, once known (the writing pass).
    pub total_rows: Option<u64>,
    /// Bytes read so far in this pass.
    pub bytes: u64,
    /// Size of the file.
    pub total_bytes: u64,
}

/// One problem with the file, by line and column. Never carries a PIN hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The line the row starts on (1 is the header).
    pub line: u64,
    /// The column's header name, when the problem is in one field.
    pub column: Option<String>,
    /// The column's position (1-based), when the problem is in one field.
    pub column_number: Option<usize>,
    /// The row's account id, when it has one.
    pub account_id: Option<String>,
    /// What is wrong, in words.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}", self.line)?;
        if let (Some(name), Some(n)) = (&self.column, self.column_number) {
            write!(f, ", column {n} ({name})")?;
        }
        if let Some(id) = &self.account_id {
            write!(f, " [{}]", escape_hazards(id))?;
        }
        write!(f, ": {}", self.message)
    }
}

/// What an import did (or, refused or dry run, would have done).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// SHA-256 of the file, hex.
    pub file_sha256: String,
    /// Data rows in the file.
    pub rows: u64,
    /// Accounts new to the desk.
    pub added: u64,
    /// Accounts whose directory data (or imported PIN hash, or active flag) changed.
    pub updated: u64,
    /// Accounts already exactly as the file has them.
    pub unchanged: u64,
    /// Active accounts the file no longer lists: marked inactive (never deleted).
    pub removed: u64,
    /// Bad rows left out (`--skip-bad`).
    pub skipped: u64,
    /// Every problem, in line order.
    pub problems: Vec<Problem>,
    /// Things worth knowing that are not problems (ignored columns, kept PINs).
    pub notes: Vec<String>,
    /// True when the directory was changed.
    pub written: bool,
    /// True for `--dry-run`.
    pub dry_run: bool,
    /// True when the file is refused (a header problem, or any problem without `skip_bad`):
    /// nothing was (or, in a dry run, would be) written.
    pub refused: bool,
    /// The import's audit event, when one was recorded.
    pub audit_seq: Option<i64>,
}

/// The columns the file must have (`pin_hash` may be left out).
const REQUIRED: [&str; 7] = ["account_id", "role", "name", "email", "phone", "practice", "primary_provider"];
/// Longest field accepted, in characters: anything longer is a broken file, not a name.
const MAX_FIELD_CHARS: usize = 512;
/// How often (rows) progress is reported.
const PROGRESS_EVERY: u64 = 8192;

#[derive(Clone, Copy)]
struct Columns {
    id: usize,
    role: usize,
    name: usize,
    email: usize,
    phone: usize,
    practice: usize,
    primary: usize,
    pin_hash: Option<usize>,
    width: usize,
}

/// One good row, ready to store.
struct Row {
    id: String,
    role: Role,
    name: String,
    email: String,
    phone: String,
    practice: String,
    primary: Option<String>,
    pin_hash: Option<String>,
}

/// What the checking pass keeps of each row to check links between rows.
struct Seen {
    line: u64,
    role: Option<Role>,
    practice: u32,
    primary: Option<Box<str>>,
    /// A hash of the trimmed, lower-cased email (0 when there is none), to find staff who share
    /// their primary provider's address without keeping every address in memory.
    email: u64,
    bad: bool,
}

/// The [`Seen::email`] of an address: 0 for none.
fn email_key(email: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let email = email.trim().to_lowercase();
    if email.is_empty() {
        return 0;
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    email.hash(&mut h);
    h.finish().max(1)
}

/// Staff sharing their primary provider's email address listed by id in the import's note; the
/// rest are counted.
const SHARED_EMAIL_LISTED: usize = 20;

/// A reader that feeds every byte it reads to SHA-256.
struct Hashing<R> {
    inner: R,
    sha: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha.update(&buf[..n]);
        Ok(n)
    }
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> DeskError {
    DeskError::Invalid(format!("could not read {}: {e}", path.display()))
}

/// What the start of the file says about how it was saved.
#[derive(Clone, Copy, Debug, Default)]
struct Sniffed {
    /// The column separator: `,`, or `;` / tab when the header line has those and no comma (a
    /// spreadsheet set to a locale that writes decimal commas saves "CSV" with semicolons).
    delimiter: u8,
    /// UTF-16 text (a byte-order mark, or NUL bytes in the first line): "Unicode text" as some
    /// spreadsheets save it. Not read: every name would come out with NULs between its letters.
    utf16: bool,
    /// Nothing in the file at all.
    empty: bool,
}

/// The CSV reader over the file, how many lines to add to the reader's line numbers, and what the
/// file's start says about how it was saved. The reader takes `\r\n` as one record end but places
/// the next record at its `\n`, one line early; files with CRLF line ends (what spreadsheets
/// write) are therefore counted one line on.
fn open_csv(path: &Path) -> Result<(csv::Reader<Hashing<std::fs::File>>, u64, Sniffed), DeskError> {
    let mut file = std::fs::File::open(path).map_err(|e| file_error(path, e))?;
    let mut head = vec![0u8; 64 * 1024];
    let n = file.read(&mut head).map_err(|e| file_error(path, e))?;
    let head = &head[..n];
    let crlf = head.iter().position(|&b| b == b'\n').is_some_and(|i| i > 0 && head[i - 1] == b'\r');
    let first_line = &head[..head.iter().position(|&b| b == b'\n').unwrap_or(head.len())];
    let utf16 = head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) || first_line.contains(&0);
    let delimiter = if first_line.contains(&b',') {
        b','
    } else if first_line.contains(&b';') {
        b';'
    } else if first_line.contains(&b'\t') {
        b'\t'
    } else {
        b','
    };
    let sniffed = Sniffed { delimiter, utf16, empty: n == 0 };
    let file = std::fs::File::open(path).map_err(|e| file_error(path, e))?;
    let reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(Hashing { inner: file, sha: Sha256::new() });
    Ok((reader, u64::from(crlf), sniffed))
}

fn finish_sha(reader: csv::Reader<Hashing<std::fs::File>>) -> String {
    hex::encode(reader.into_inner().sha.finalize())
}

/// Reads the header row: which column holds what. Problems are about the whole file.
fn read_columns(headers: &csv::ByteRecord, notes: &mut Vec<String>) -> Result<Columns, Vec<Problem>> {
    let names: Vec<String> = headers
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let text = String::from_utf8_lossy(raw);
            let text = if i == 0 { text.trim_start_matches('\u{feff}') } else { &text };
            text.trim().to_lowercase().replace([' ', '-'], "_")
        })
        .collect();
    let mut problems = Vec::new();
    let header_problem = |column: Option<(usize, &str)>, message: String| Problem {
        line: 1,
        column: column.map(|(_, n)| n.to_string()),
        column_number: column.map(|(i, _)| i + 1),
        account_id: None,
        message,
    };
    let mut position = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        if position.insert(name.as_str(), i).is_some() {
            problems.push(header_problem(Some((i, name)), "this column appears twice in the header".into()));
        }
        if matches!(name.as_str(), "pin" | "support_pin" | "pin_plaintext" | "plaintext_pin") {
            problems.push(header_problem(
                Some((i, name)),
                "a plaintext Support PIN column is never imported; export pin_hash instead".into(),
            ));
        } else if !REQUIRED.contains(&name.as_str()) && name != "pin_hash" {
            notes.push(format!("column {} ({}) is not used and was ignored", i + 1, escape_hazards(name)));
        }
    }
    let missing: Vec<&str> = REQUIRED.iter().copied().filter(|c| !position.contains_key(c)).collect();
    if !missing.is_empty() {
        problems.push(header_problem(None, format!("the header lacks the column(s): {}", missing.join(", "))));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let at = |name: &str| position.get(name).copied().unwrap_or(usize::MAX);
    Ok(Columns {
        id: at("account_id"),
        role: at("role"),
        name: at("name"),
        email: at("email"),
        phone: at("phone"),
        practice: at("practice"),
        primary: at("primary_provider"),
        pin_hash: position.get("pin_hash").copied(),
        width: names.len(),
    })
}

/// A value quoted for a problem message: hazards escaped, cut short.
fn quoted(text: &str) -> String {
    let cut: String = text.chars().take(40).collect();
    let more = if text.chars().count() > 40 { "…" } else { "" };
    format!("\"{}{more}\"", escape_hazards(&cut))
}

/// Cleans one field: line breaks and tabs become spaces, other control characters are refused.
fn clean(raw: &str) -> Result<String, String> {
    if let Some(c) = raw.chars().find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(format!("contains the control character U+{:04X}; fix the source", c as u32));
    }
    if raw.chars().count() > MAX_FIELD_CHARS {
        return Err(format!("is longer than {MAX_FIELD_CHARS} characters"));
    }
    if raw.contains(['\n', '\r', '\t']) {
        Ok(raw.split_whitespace().collect::<Vec<_>>().join(" "))
    } else {
        Ok(raw.trim().to_string())
    }
}

/// Checks one record on its own. Every problem of the row is listed, not only the first.
fn parse_row(cols: &Columns, headers: &[String], line: u64, record: &csv::ByteRecord) -> Result<Row, Vec<Problem>> {
    let mut problems = Vec::new();
    let id_guess = record.get(cols.id).and_then(|b| std::str::from_utf8(b).ok()).map(|s| s.trim().to_string());
    let id_guess = id_guess.filter(|s| !s.is_empty() && !s.chars().any(char::is_control));
    let problem = |col: Option<usize>, message: String| Problem {
        line,
        column: col.map(|c| headers.get(c).cloned().unwrap_or_default()),
        column_number: col.map(|c| c + 1),
        account_id: id_guess.clone(),
        message,
    };
    if record.len() != cols.width {
        problems.push(problem(None, format!("has {} fields; the header has {}", record.len(), cols.width)));
    }
    let mut field = |col: usize, required: bool| -> String {
        let Some(bytes) = record.get(col) else {
            if required {
                problems.push(problem(Some(col), "is missing".into()));
            }
            return String::new();
        };
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                problems.push(problem(Some(col), "is not valid UTF-8 (save the file as UTF-8)".into()));
                return String::new();
            }
        };
        match clean(text) {
            Ok(t) if t.is_empty() && required => {
                problems.push(problem(Some(col), "is empty".into()));
                t
            }
            Ok(t) => t,
            Err(why) => {
                problems.push(problem(Some(col), why));
                String::new()
            }
        }
    };
    let id = field(cols.id, true);
    let role_text = field(cols.role, true);
    let name = normalize(&field(cols.name, true));
    let email = field(cols.email, false);
    let phone = field(cols.phone, false);
    let practice = normalize(&field(cols.practice, true));
    let primary = field(cols.primary, false);
    let pin_hash = cols.pin_hash.map(|c| field(c, false)).unwrap_or_default();
    let role = Role::parse(&role_text);
    if role.is_none() && !role_text.is_empty() {
        problems.push(problem(Some(cols.role), format!("unknown role {}; expected provider or staff", quoted(&role_text))));
    }
    match role {
        Some(Role::Staff) if primary.is_empty() => {
            problems.push(problem(Some(cols.primary), "is empty; staff need their primary provider".into()));
        }
        Some(Role::Provider) if !primary.is_empty() => problems.push(problem(
            Some(cols.primary),
            format!("is {}; a provider has no primary provider", quoted(&primary)),
        )),
        _ => {}
    }
    // `inspect` names what is wrong with the form of the hash, never its content.
    if let Some(Err(why)) = Some(&pin_hash).filter(|h| !h.is_empty()).map(|h| inspect(h)) {
        problems.push(problem(cols.pin_hash, format!("{why}; the hash is refused")));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Row {
        id,
        role: role.unwrap_or(Role::Staff),
        name,
        email,
        phone,
        practice,
        primary: Some(primary).filter(|p| !p.is_empty()),
        pin_hash: Some(pin_hash).filter(|h| !h.is_empty()),
    })
}

/// The result of the checking pass.
struct Checked {
    sha: String,
    rows: u64,
    columns: Columns,
    headers: Vec<String>,
    /// Every account id the file lists (good rows or bad), so a bad row never counts as removed.
    ids: HashSet<Box<str>>,
    /// Lines of rows that are left out.
    bad_lines: HashSet<u64>,
    problems: Vec<Problem>,
    notes: Vec<String>,
}

fn check_file(path: &Path, total_bytes: u64, progress: &mut dyn FnMut(&ImportProgress)) -> Result<Checked, DeskError> {
    let (mut reader, line_shift, sniffed) = open_csv(path)?;
    let mut notes = Vec::new();
    let header_record = reader.byte_headers().map_err(|e| file_error(path, e))?.clone();
    let whole_file = |message: &str| Problem { line: 1, column: None, column_number: None, account_id: None, message: message.into() };
    let columns = if sniffed.empty {
        Err(vec![whole_file("the file is empty: no header line and no rows (was the export cut short?)")])
    } else if sniffed.utf16 {
        Err(vec![whole_file(
            "the file is UTF-16 text (\"Unicode text\" in some spreadsheets), not UTF-8: save it as \"CSV UTF-8\" \
             and import that file",
        )])
    } else {
        if sniffed.delimiter != b',' {
            notes.push(
                if sniffed.delimiter == b';' {
                    "the columns are separated by semicolons (as a spreadsheet set to a locale with decimal commas saves CSV); read that way"
                } else {
                    "the columns are separated by tabs (a spreadsheet's \"tab-delimited text\"); read that way"
                }
                .into(),
            );
        }
        read_columns(&header_record, &mut notes)
    };
    let columns = match columns {
        Ok(c) => c,
        Err(problems) => {
            // Read the rest so the SHA-256 covers the whole file.
            let mut sink = Vec::new();
            let mut inner = reader.into_inner();
            inner.read_to_end(&mut sink).map_err(|e| file_error(path, e))?;
            return Ok(Checked {
                sha: hex::encode(inner.sha.finalize()),
                rows: 0,
                columns: Columns { id: 0, role: 0, name: 0, email: 0, phone: 0, practice: 0, primary: 0, pin_hash: None, width: 0 },
                headers: Vec::new(),
                ids: HashSet::new(),
                bad_lines: HashSet::new(),
                problems,
                notes,
            });
        }
    };
    let headers: Vec<String> = header_record
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let t = String::from_utf8_lossy(h);
            let t = if i == 0 { t.trim_start_matches('\u{feff}').to_string() } else { t.to_string() };
            escape_hazards(t.trim())
        })
        .collect();
    let mut problems = Vec::new();
    let mut seen: HashMap<Box<str>, Seen> = HashMap::new();
    let mut duplicates: HashMap<Box<str>, Vec<u64>> = HashMap::new();
    let mut bad_lines = HashSet::new();
    let mut practices: HashMap<String, u32> = HashMap::new();
    let mut record = csv::ByteRecord::new();
    let mut rows = 0u64;
    let mut ids_for_missing_rows = HashSet::new();
    while reader.read_byte_record(&mut record).map_err(|e| file_error(path, e))? {
        rows += 1;
        let line = record.position().map(|p| p.line() + line_shift).unwrap_or(rows + 1);
        if rows.is_multiple_of(PROGRESS_EVERY) {
            let bytes = record.position().map(|p| p.byte()).unwrap_or(0);
            progress(&ImportProgress { phase: ImportPhase::Checking, rows, total_rows: None, bytes, total_bytes });
        }
        match parse_row(&columns, &headers, line, &record) {
            Ok(row) => {
                let next = practices.len() as u32;
                let practice = *practices.entry(row.practice).or_insert(next);
                let id: Box<str> = row.id.into();
                if let Some(first) = seen.get(&id) {
                    duplicates.entry(id.clone()).or_insert_with(|| vec![first.line]).push(line);
                    continue;
                }
                let email = email_key(&row.email);
                seen.insert(id, Seen { line, role: Some(row.role), practice, primary: row.primary.map(Into::into), email, bad: false });
            }
            Err(row_problems) => {
                bad_lines.insert(line);
                if let Some(id) = row_problems.first().and_then(|p| p.account_id.clone()) {
                    let id: Box<str> = id.into();
                    match seen.get(&id) {
                        Some(first) => duplicates.entry(id.clone()).or_insert_with(|| vec![first.line]).push(line),
                        None => {
                            seen.insert(id.clone(), Seen { line, role: None, practice: u32::MAX, primary: None, email: 0, bad: true });
                        }
                    }
                    ids_for_missing_rows.insert(id);
                }
                problems.extend(row_problems);
            }
        }
    }
    progress(&ImportProgress { phase: ImportPhase::Checking, rows, total_rows: Some(rows), bytes: total_bytes, total_bytes });
    // A duplicated id is ambiguous: every row carrying it is left out.
    for (id, lines) in &duplicates {
        for &line in lines {
            let others: Vec<String> = lines.iter().filter(|&&l| l != line).map(u64::to_string).collect();
            if bad_lines.insert(line) {
                problems.push(Problem {
                    line,
                    column: Some(headers[columns.id].clone()),
                    column_number: Some(columns.id + 1),
                    account_id: Some(id.to_string()),
                    message: format!("duplicate account id (also on line {})", others.join(", ")),
                });
            }
        }
        if let Some(s) = seen.get_mut(id) {
            s.bad = true;
        }
    }
    // Staff need a primary provider that is a good provider row of the same practice.
    let mut staff_problems = Vec::new();
    let mut shared_email: Vec<(u64, &str, &str)> = Vec::new();
    for (id, s) in &seen {
        if s.bad || s.role != Some(Role::Staff) {
            continue;
        }
        let Some(primary) = &s.primary else { continue };
        let why = match seen.get(primary) {
            None => format!("names {}, which is not in the file", quoted(primary)),
            Some(p) if p.role == Some(Role::Staff) => format!("names {}, which is staff, not a provider", quoted(primary)),
            Some(p) if p.bad => format!("names {}, whose own row (line {}) is bad", quoted(primary), p.line),
            Some(p) if p.practice != s.practice => {
                format!("names {}, a provider in another practice", quoted(primary))
            }
            Some(p) => {
                if s.email != 0 && s.email == p.email {
                    shared_email.push((s.line, id, primary));
                }
                continue;
            }
        };
        staff_problems.push(Problem {
            line: s.line,
            column: Some(headers[columns.primary].clone()),
            column_number: Some(columns.primary + 1),
            account_id: Some(id.to_string()),
            message: why,
        });
    }
    for p in staff_problems {
        bad_lines.insert(p.line);
        problems.push(p);
    }
    // Not a problem with the file, but approvals by reply from such an address are refused: it
    // cannot show whether the provider or the staff member sent it.
    if !shared_email.is_empty() {
        shared_email.sort_unstable();
        let listed: Vec<String> = shared_email
            .iter()
            .take(SHARED_EMAIL_LISTED)
            .map(|(_, staff, provider)| format!("{} (primary provider {})", escape_hazards(staff), escape_hazards(provider)))
            .collect();
        let more = shared_email.len().saturating_sub(SHARED_EMAIL_LISTED);
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        notes.push(format!(
            "{} staff member(s) share their primary provider's email address: {}{more}. A reply from such an \
             address cannot show which of them sent it, so it is refused as an approval; the provider approves \
             by calling in with their own Support PIN",
            shared_email.len(),
            listed.join(", ")
        ));
    }
    problems.sort_by_key(|p| (p.line, p.column_number));
    let mut ids: HashSet<Box<str>> = seen.into_keys().collect();
    ids.extend(ids_for_missing_rows);
    if rows == 0 {
        problems.push(Problem {
            line: 1,
            column: None,
            column_number: None,
            account_id: None,
            message: "the file holds no accounts; importing it would mark every account inactive".into(),
        });
    }
    Ok(Checked { sha: finish_sha(reader), rows, columns, headers, ids, bad_lines, problems, notes })
}

/// Counts of the writing pass.
#[derive(Default)]
struct Counts {
    added: u64,
    updated: u64,
    unchanged: u64,
    removed: u64,
    pins_kept: u64,
}

fn pin_digest(phc: &str) -> String {
    hex::encode(Sha256::digest(phc.as_bytes()))
}

/// What comparing the file with the directory found: the counts, and what the writing pass does.
struct Plan {
    counts: Counts,
    sha: String,
    /// The lines (ascending) whose rows add or change an account.
    lines: Vec<u64>,
    /// Active accounts the file no longer lists.
    gone: Vec<String>,
    /// Active accounts before the import.
    active: u64,
    /// The last import's audit sequence when the comparison ran (see [`directory_generation`]).
    generation: Option<i64>,
}

/// Which pass of [`sync`] runs.
#[derive(Clone, Copy)]
enum Pass<'a> {
    /// Compare every good row with the directory; write nothing.
    Compare,
    /// Write the lines the comparison picked.
    Write(&'a Plan),
}

/// Only imports change the directory data an import compares (names, roles, practices, links,
/// the active flag, the imported PIN digest); the newest import's audit sequence therefore tells
/// whether a comparison is still current.
fn directory_generation(conn: &Connection) -> Result<Option<i64>, DeskError> {
    conn.query_row(
        "SELECT max(seq) FROM audit_events WHERE kind = ?1",
        [EventKind::DirectoryImported.as_str()],
        |r| r.get(0),
    )
    .map_err(sql)
}

/// The second and third passes. `Compare` classifies every good row against the directory inside a
/// read snapshot; `Write` runs inside the write transaction and stores only the lines the
/// comparison picked (each is compared again there, so it writes exactly what changed).
fn sync(
    conn: &Connection,
    path: &Path,
    checked: &Checked,
    pass: Pass<'_>,
    now: &str,
    total_bytes: u64,
    progress: &mut dyn FnMut(&ImportProgress),
) -> Result<Plan, DeskError> {
    let write = matches!(pass, Pass::Write(_));
    let (phase, mut picked) = match pass {
        Pass::Compare => (ImportPhase::Comparing, None),
        Pass::Write(plan) => (ImportPhase::Writing, Some(plan.lines.iter().copied().peekable())),
    };
    let generation = directory_generation(conn)?;
    let mut lines = Vec::new();
    let cols = checked.columns;
    let (mut reader, line_shift, _) = open_csv(path)?;
    reader.byte_headers().map_err(|e| file_error(path, e))?;
    let mut existing = conn
        .prepare(
            "SELECT a.role, a.name, a.email, a.phone, p.name, a.primary_provider, a.active, \
             EXISTS (SELECT 1 FROM imported_pin_digests d WHERE d.account_id = a.id AND d.digest = ?2) \
             FROM accounts a JOIN practices p ON p.id = a.practice_id WHERE a.id = ?1",
        )
        .map_err(sql)?;
    // New and changed accounts are staged in temporary tables and written to the directory a
    // batch at a time (see [`Staged`]).
    let mut staged = if write { Some(Staged::new(conn)?) } else { None };
    let mut insert = conn
        .prepare(if write {
            "INSERT INTO temp.import_added (id, role, name, email, phone, phone_digits, practice_id, \
             primary_provider, pin_hash, pin_set_at, import_pin_digest, search_text) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
        } else {
            // Never run on the comparison pass; prepared so the loop reads the same either way.
            "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12"
        })
        .map_err(sql)?;
    let mut update = conn
        .prepare(if write {
            "INSERT INTO temp.import_updated (id, role, name, email, phone, phone_digits, practice_id, \
             primary_provider, search_text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        } else {
            "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9"
        })
        .map_err(sql)?;
    let mut set_pin = conn
        .prepare(
            "UPDATE accounts SET pin_hash = ?2, pin_key_id = NULL, pin_set_at = ?3, pin_failures = 0, pin_locked = 0, \
             import_pin_digest = ?4 WHERE id = ?1",
        )
        .map_err(sql)?;
    let mut remember_digest = conn
        .prepare("INSERT OR IGNORE INTO imported_pin_digests (account_id, digest) VALUES (?1, ?2)")
        .map_err(sql)?;
    let mut practice_ids: HashMap<String, i64> = HashMap::new();
    let mut counts = Counts::default();
    let mut record = csv::ByteRecord::new();
    let mut rows = 0u64;
    type Existing = (String, String, String, String, String, Option<String>, bool, bool);
    while reader.read_byte_record(&mut record).map_err(|e| file_error(path, e))? {
        rows += 1;
        if rows.is_multiple_of(PROGRESS_EVERY) {
            let bytes = record.position().map(|p| p.byte()).unwrap_or(0);
            progress(&ImportProgress { phase, rows, total_rows: Some(checked.rows), bytes, total_bytes });
        }
        let line = record.position().map(|p| p.line() + line_shift).unwrap_or(rows + 1);
        if checked.bad_lines.contains(&line) {
            continue;
        }
        if let Some(picked) = picked.as_mut() {
            while picked.next_if(|&l| l < line).is_some() {}
            if picked.next_if_eq(&line).is_none() {
                continue;
            }
        }
        let row = parse_row(&cols, &checked.headers, line, &record)
            .map_err(|_| DeskError::Invalid(format!("{} changed while it was imported; nothing was written", path.display())))?;
        let practice_id = match practice_ids.get(&row.practice) {
            Some(id) => Some(*id),
            None => {
                let found: Option<i64> = conn
                    .query_row("SELECT id FROM practices WHERE name = ?1", [&row.practice], |r| r.get(0))
                    .optional()
                    .map_err(sql)?;
                let id = match (found, write) {
                    (Some(id), _) => Some(id),
                    (None, true) => {
                        conn.execute("INSERT INTO practices (name) VALUES (?1)", [&row.practice]).map_err(sql)?;
                        Some(conn.last_insert_rowid())
                    }
                    (None, false) => None,
                };
                if let Some(id) = id {
                    practice_ids.insert(row.practice.clone(), id);
                }
                id
            }
        };
        let digest = row.pin_hash.as_deref().map(pin_digest);
        let before: Option<Existing> = existing
            .query_row(params![row.id, digest], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
            })
            .optional()
            .map_err(sql)?;
        let search = || search_text(&row.id, &row.name, &row.email, &row.phone, &row.practice);
        let Some((role, name, email, phone, practice, primary, active, applied_before)) = before else {
            counts.added += 1;
            lines.push(line);
            if write {
                insert
                    .execute(params![
                        row.id,
                        row.role.as_str(),
                        row.name,
                        row.email,
                        row.phone,
                        digits(&row.phone),
                        practice_id,
                        row.primary,
                        row.pin_hash,
                        row.pin_hash.as_ref().map(|_| now),
                        digest,
                        search()
                    ])
                    .map_err(sql)?;
                if let Some(staged) = staged.as_mut() {
                    staged.added(conn)?;
                }
            }
            continue;
        };
        let data_changed = role != row.role.as_str()
            || name != row.name
            || email != row.email
            || phone != row.phone
            || practice != row.practice
            || primary != row.primary
            || !active;
        // A hash from the file replaces the desk's only when no import ever applied it to this
        // account: the system of record made a new PIN. A stale hash (the last file's, or an older
        // file's imported again) never brings back a PIN the desk has already rotated away.
        let pin_changed = digest.is_some() && !applied_before;
        if row.pin_hash.is_some() && !pin_changed {
            counts.pins_kept += 1;
        }
        if data_changed || pin_changed {
            counts.updated += 1;
            lines.push(line);
        } else {
            counts.unchanged += 1;
        }
        if write && data_changed {
            update
                .execute(params![
                    row.id,
                    row.role.as_str(),
                    row.name,
                    row.email,
                    row.phone,
                    digits(&row.phone),
                    practice_id,
                    row.primary,
                    search()
                ])
                .map_err(sql)?;
            if let Some(staged) = staged.as_mut() {
                staged.added(conn)?;
            }
        }
        if write && pin_changed {
            set_pin.execute(params![row.id, row.pin_hash, now, digest]).map_err(sql)?;
            remember_digest.execute(params![row.id, digest]).map_err(sql)?;
        }
    }
    if let Some(staged) = staged {
        staged.finish(conn)?;
    }
    progress(&ImportProgress { phase, rows, total_rows: Some(checked.rows), bytes: total_bytes, total_bytes });
    let sha = finish_sha(reader);
    if let Pass::Write(plan) = pass {
        return Ok(Plan { counts, sha, lines, gone: Vec::new(), active: plan.active, generation });
    }
    // Active accounts the file no longer lists.
    let mut gone = Vec::new();
    let mut active = 0;
    {
        let mut stmt = conn.prepare("SELECT id FROM accounts WHERE active = 1").map_err(sql)?;
        let mut rows = stmt.query([]).map_err(sql)?;
        while let Some(r) = rows.next().map_err(sql)? {
            active += 1;
            let id: String = r.get(0).map_err(sql)?;
            if !checked.ids.contains(id.as_str()) {
                gone.push(id);
            }
        }
    }
    counts.removed = gone.len() as u64;
    Ok(Plan { counts, sha, lines, gone, active, generation })
}

/// New and changed accounts waiting to be written to the directory. Written one statement per
/// row, each row would also be one statement on the trigram index (through its triggers), and the
/// index writes what it holds to disk at every statement: a segment per account, merged over and
/// over (most of a first import's time). Written [`STAGED_BATCH`] rows per `INSERT ... SELECT` or
/// `UPDATE ... FROM`, the index writes one segment per batch. Same transaction, same rows, same
/// triggers and constraints (foreign keys are deferred to the commit either way).
struct Staged {
    pending: usize,
}

/// Rows moved into the directory per statement.
const STAGED_BATCH: usize = 20_000;

impl Staged {
    fn new(conn: &Connection) -> Result<Staged, DeskError> {
        conn.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS import_added (id, role, name, email, phone, phone_digits, \
             practice_id, primary_provider, pin_hash, pin_set_at, import_pin_digest, search_text); \
             CREATE TEMP TABLE IF NOT EXISTS import_updated (id, role, name, email, phone, phone_digits, \
             practice_id, primary_provider, search_text); \
             DELETE FROM temp.import_added; DELETE FROM temp.import_updated;",
        )
        .map_err(sql)?;
        Ok(Staged { pending: 0 })
    }

    /// One more row was staged (added or changed).
    fn added(&mut self, conn: &Connection) -> Result<(), DeskError> {
        self.pending += 1;
        if self.pending >= STAGED_BATCH { self.flush(conn) } else { Ok(()) }
    }

    fn flush(&mut self, conn: &Connection) -> Result<(), DeskError> {
        if self.pending > 0 {
            conn.execute_batch(
                "INSERT INTO main.accounts (id, role, name, email, phone, phone_digits, practice_id, \
                 primary_provider, pin_hash, pin_set_at, import_pin_digest, search_text) \
                 SELECT id, role, name, email, phone, phone_digits, practice_id, primary_provider, pin_hash, \
                 pin_set_at, import_pin_digest, search_text FROM temp.import_added ORDER BY rowid; \
                 INSERT OR IGNORE INTO main.imported_pin_digests (account_id, digest) \
                 SELECT id, import_pin_digest FROM temp.import_added WHERE import_pin_digest IS NOT NULL; \
                 DELETE FROM temp.import_added; \
                 UPDATE main.accounts SET role = u.role, name = u.name, email = u.email, phone = u.phone, \
                 phone_digits = u.phone_digits, practice_id = u.practice_id, primary_provider = u.primary_provider, \
                 active = 1, search_text = u.search_text FROM temp.import_updated u WHERE main.accounts.id = u.id; \
                 DELETE FROM temp.import_updated;",
            )
            .map_err(sql)?;
            self.pending = 0;
        }
        Ok(())
    }

    fn finish(mut self, conn: &Connection) -> Result<(), DeskError> {
        self.flush(conn)?;
        conn.execute_batch("DROP TABLE temp.import_added; DROP TABLE temp.import_updated").map_err(sql)
    }
}

/// The end of the write: the comparison must still be current (no import committed since), and
/// the accounts the file no longer lists are marked inactive, never deleted (the audit trail refers
/// to them).
fn finish_write(conn: &Connection, plan: &Plan) -> Result<(), DeskError> {
    if directory_generation(conn)? != plan.generation {
        return Err(DeskError::Invalid(
            "another import changed the directory while this one was being compared; nothing was written \
             (run the import again)"
                .into(),
        ));
    }
    let mut deactivate = conn.prepare("UPDATE accounts SET active = 0 WHERE id = ?1").map_err(sql)?;
    for id in &plan.gone {
        deactivate.execute([id]).map_err(sql)?;
    }
    Ok(())
}

/// Why a file is refused for the number of accounts it would mark inactive, if it is.
fn mass_removal(plan: &Plan) -> Option<String> {
    let removed = plan.counts.removed;
    let over = |min: u64, percent: u64| removed >= min && removed * 100 > plan.active * percent;
    let percent = if over(MASS_REMOVAL_MIN, MASS_REMOVAL_PERCENT) {
        MASS_REMOVAL_PERCENT
    } else if over(SMALL_REMOVAL_MIN, SMALL_REMOVAL_PERCENT) {
        SMALL_REMOVAL_PERCENT
    } else {
        return None;
    };
    Some(format!(
        "the file would mark {removed} of {} active accounts inactive (more than {percent} %); \
         an export cut short (a spreadsheet's row limit, a failed transfer) looks like this. Check the file; \
         if the removals are meant, run again with --allow-removals",
        plan.active
    ))
}

impl Desk {
    /// Imports the directory file at `path` as a sync: new accounts are added, changed ones
    /// updated, accounts the file no longer lists marked inactive (never deleted). By default one
    /// bad row refuses the whole file and nothing changes (no audit event either); with `skip_bad`
    /// the good rows are imported and the bad ones reported. Every import that writes is one audit
    /// event, in the same transaction, with its counts and the file's SHA-256.
    pub fn import_directory(
        &mut self,
        path: &Path,
        options: ImportOptions,
        progress: &mut dyn FnMut(&ImportProgress),
    ) -> Result<ImportReport, DeskError> {
        let total_bytes = std::fs::metadata(path).map_err(|e| file_error(path, e))?.len();
        let checked = check_file(path, total_bytes, progress)?;
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut report = ImportReport {
            file_sha256: checked.sha.clone(),
            rows: checked.rows,
            added: 0,
            updated: 0,
            unchanged: 0,
            removed: 0,
            skipped: checked.bad_lines.len() as u64,
            problems: checked.problems.clone(),
            notes: checked.notes.clone(),
            written: false,
            dry_run: options.dry_run,
            refused: false,
            audit_seq: None,
        };
        let header_bad = checked.problems.iter().any(|p| p.line == 1);
        let refuse = header_bad || (!options.skip_bad && !checked.problems.is_empty());
        report.refused = refuse;
        let now_at = self.clock.now();
        let now = to_db(now_at);
        if refuse {
            // Refused: nothing changes, not even the audit trail (the admin sees every problem).
            report.skipped = 0;
            return Ok(report);
        }
        // Compare inside a read snapshot: no lock is held while a large file is compared.
        let plan = {
            let tx = self.store.conn().unchecked_transaction().map_err(|e| self.store.read_error(e))?;
            sync(&tx, path, &checked, Pass::Compare, &now, total_bytes, progress)?
        };
        if plan.sha != checked.sha {
            return Err(DeskError::Invalid(format!("{} changed while it was imported; nothing was written", path.display())));
        }
        if let Some(why) = mass_removal(&plan).filter(|_| !options.allow_removals) {
            report.refused = true;
            report.skipped = 0;
            report.removed = plan.counts.removed;
            report.notes.push(why);
            return Ok(report);
        }
        if !options.dry_run {
            let conn = self.store.conn();
            // A bigger page cache for the bulk write; put back afterwards.
            let _ = conn.execute_batch("PRAGMA cache_size = -131072");
            let counts = &plan.counts;
            let result = self.store.write(|tx| {
                tx.execute_batch("PRAGMA defer_foreign_keys = ON").map_err(sql)?;
                // Nothing to add or change (a sync of an unchanged file): the file is not read again.
                if !plan.lines.is_empty() {
                    let written = sync(tx, path, &checked, Pass::Write(&plan), &now, total_bytes, progress)?;
                    if written.sha != checked.sha {
                        return Err(DeskError::Invalid(format!(
                            "{} changed while it was imported; nothing was written",
                            path.display()
                        )));
                    }
                }
                finish_write(tx, &plan)?;
                let detail = format!(
                    "{}: {} row(s); added {}, updated {}, unchanged {}, removed {} (marked inactive), skipped {}; sha256 {}",
                    file_name, checked.rows, counts.added, counts.updated, counts.unchanged, counts.removed,
                    checked.bad_lines.len(), checked.sha
                );
                audit::append(tx, now_at, EventKind::DirectoryImported, &NewEvent {
                    outcome: "ok".into(),
                    reason: Some(if options.skip_bad && !checked.problems.is_empty() { "skipped_bad_rows" } else { "sync" }.into()),
                    detail: Some(detail),
                    ..NewEvent::default()
                })
            });
            let _ = self.store.conn().execute_batch("PRAGMA cache_size = -2000");
            report.audit_seq = Some(result?);
            report.written = true;
        }
        let counts = plan.counts;
        if counts.pins_kept > 0 {
            report.notes.push(format!(
                "{} PIN hash(es) in the file were already imported before and were not applied again: \
                 the desk's current PIN stays (it may have been rotated since)",
                counts.pins_kept
            ));
        }
        report.added = counts.added;
        report.updated = counts.updated;
        report.unchanged = counts.unchanged;
        report.removed = counts.removed;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_cleaned_or_refused() {
        assert_eq!(clean("  Ada  "), Ok("Ada".into()));
        assert_eq!(clean("Ada\r\nLovelace"), Ok("Ada Lovelace".into()));
        assert_eq!(clean("a\tb"), Ok("a b".into()));
        assert!(clean("Ada\u{1b}[31m").expect_err("refused").contains("U+001B"));
        assert!(clean("nul\u{0}").is_err());
        assert!(clean("\u{85}next line").is_err(), "C1 controls are refused");
        assert_eq!(clean("Evil\u{202E}x"), Ok("Evil\u{202E}x".into()), "bidi is kept; escaped on display");
    }

    #[test]
    fn quoted_values_are_escaped_and_short() {
        assert_eq!(quoted("Evil\u{202E}"), "\"Evil\\u{202E}\"");
        assert_eq!(quoted(&"x".repeat(50)).chars().count(), 43);
    }
}
