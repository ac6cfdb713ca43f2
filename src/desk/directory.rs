//! The account directory: finding a caller as the rep types, and the caller card.

use super::audit::{self, EventKind, NewEvent};
use super::error::DeskError;
use super::ids::AccountId;
use super::policy::{AccountFacts, Role};
use super::reps::{Session, require_active};
use super::store::sql;
use super::text::{digits, fold};
use super::Desk;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

/// One row of the lookup results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountSummary {
    pub id: AccountId,
    pub name: String,
    pub role: Role,
    pub practice: String,
    pub email: String,
    pub account_locked: bool,
    pub pin_locked: bool,
    pub active: bool,
}

/// Everything the caller card shows about an account. Never a PIN or a hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub role: Role,
    pub email: String,
    pub phone: String,
    pub practice_id: i64,
    pub practice: String,
    pub primary_provider: Option<AccountId>,
    pub account_locked: bool,
    pub active: bool,
    /// Whether the account has a Support PIN at all.
    pub has_pin: bool,
    pub pin_set_at: Option<String>,
    pub pin_validated_at: Option<String>,
    pub pin_failures: i64,
    pub pin_locked: bool,
}

impl Account {
    /// The facts a verdict depends on.
    pub fn facts(&self) -> AccountFacts {
        AccountFacts {
            id: self.id.clone(),
            name: self.name.clone(),
            role: self.role,
            practice_id: self.practice_id,
            primary_provider: self.primary_provider.clone(),
            active: self.active,
        }
    }
}

/// A name with its account id, for lists on the card.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Person {
    pub id: AccountId,
    pub name: String,
}

/// The caller card: the account, its primary provider (staff) or its staff (provider).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CallerCard {
    pub account: Account,
    pub primary_provider: Option<Person>,
    pub staff: Vec<Person>,
}

const ACCOUNT_COLUMNS: &str = "a.id, a.name, a.role, a.email, a.phone, a.practice_id, p.name, \
    a.primary_provider, a.account_locked, a.active, a.pin_hash IS NOT NULL, a.pin_set_at, \
    a.pin_validated_at, a.pin_failures, a.pin_locked";

fn account_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        id: AccountId(r.get(0)?),
        name: r.get(1)?,
        role: Role::parse(&r.get::<_, String>(2)?).unwrap_or(Role::Staff),
        email: r.get(3)?,
        phone: r.get(4)?,
        practice_id: r.get(5)?,
        practice: r.get(6)?,
        primary_provider: r.get::<_, Option<String>>(7)?.map(AccountId),
        account_locked: r.get(8)?,
        active: r.get(9)?,
        has_pin: r.get(10)?,
        pin_set_at: r.get(11)?,
        pin_validated_at: r.get(12)?,
        pin_failures: r.get(13)?,
        pin_locked: r.get(14)?,
    })
}

/// The text searched for an account: folded name, id, email, phone, phone digits and practice,
/// separated by a unit separator so a match never spans two fields.
pub fn search_text(id: &str, name: &str, email: &str, phone: &str, practice: &str) -> String {
    [fold(name), fold(id), fold(email), fold(phone), digits(phone), fold(practice)].join("\u{1f}")
}

/// Query text beyond this many characters is ignored.
pub const MAX_QUERY_CHARS: usize = 200;

/// How many trigram matches a substring lookup reads before ordering them by name.
pub const SUBSTRING_CANDIDATES: usize = 250;
/// How many accounts a 1-2 character substring lookup looks through.
pub const SHORT_SCAN_ROWS: usize = 3_000;

const SUMMARY_COLUMNS: &str =
    "a.search_text, a.id, a.name, a.role, p.name, a.email, a.account_locked, a.pin_locked, a.active";

fn summary_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, AccountSummary)> {
    Ok((
        r.get(0)?,
        AccountSummary {
            id: AccountId(r.get(1)?),
            name: r.get(2)?,
            role: Role::parse(&r.get::<_, String>(3)?).unwrap_or(Role::Staff),
            practice: r.get(4)?,
            email: r.get(5)?,
            account_locked: r.get(6)?,
            pin_locked: r.get(7)?,
            active: r.get(8)?,
        },
    ))
}

/// True when `needle` starts a word of `name` (after a space or punctuation).
fn starts_a_word(name: &str, needle: &str) -> bool {
    name.match_indices(needle).any(|(i, _)| {
        name[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric())
    })
}

/// Results in tier order, each account once, at most `limit`.
struct Ranked {
    limit: usize,
    seen: std::collections::HashSet<AccountId>,
    rows: Vec<AccountSummary>,
}

impl Ranked {
    fn new(limit: usize) -> Ranked {
        Ranked { limit, seen: std::collections::HashSet::new(), rows: Vec::new() }
    }

    /// Adds a result; callers push the best tier first, so order is rank.
    fn push(&mut self, summary: AccountSummary) {
        if !self.is_full() && self.seen.insert(summary.id.clone()) {
            self.rows.push(summary);
        }
    }

    fn is_full(&self) -> bool {
        self.rows.len() >= self.limit
    }

    fn finish(self) -> Vec<AccountSummary> {
        self.rows
    }
}

/// Substring matches of a needle: the account's search text and its summary.
type Candidates = Vec<(String, AccountSummary)>;

/// The last substring lookup whose matches were all read (fewer than [`SUBSTRING_CANDIDATES`]).
/// A rep types a name letter by letter, and every match of "nguyen th" contains "nguyen t": when
/// the shorter text's matches are all known, the longer text's are found among them without the
/// trigram index, whose cost grows with the number of trigrams and how common they are. Valid only
/// while the directory is as it was: any commit by another connection changes `data_version`,
/// any write on this one changes `total_changes`.
#[derive(Default)]
pub(crate) struct Narrowing(std::sync::Mutex<Option<Complete>>);

struct Complete {
    needle: String,
    version: (i64, u64),
    matches: Candidates,
}

impl Narrowing {
    /// The matches of `needle` found among the last complete lookup's, if it still holds.
    fn narrow(&self, needle: &str, version: (i64, u64)) -> Option<Candidates> {
        let mut last = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let known = last.as_mut().filter(|c| c.version == version && needle.contains(c.needle.as_str()))?;
        known.matches.retain(|(search, _)| search.contains(needle));
        known.needle = needle.to_string();
        Some(known.matches.clone())
    }

    /// Keeps `matches` when they are all of `needle`'s.
    fn remember(&self, needle: &str, version: (i64, u64), matches: &Candidates) {
        let complete = matches.len() < SUBSTRING_CANDIDATES;
        let mut last = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *last = complete.then(|| Complete { needle: needle.to_string(), version, matches: matches.clone() });
    }
}

/// What identifies the directory's state as this connection sees it (see [`Narrowing`]).
fn directory_version(conn: &rusqlite::Connection) -> rusqlite::Result<(i64, u64)> {
    let data: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
    Ok((data, conn.total_changes()))
}

/// The substring tier through the trigram index: the first [`SUBSTRING_CANDIDATES`] matches,
/// unranked, or fewer found by narrowing the last complete lookup.
fn substring_matches(conn: &rusqlite::Connection, needle: &str, narrowing: &Narrowing) -> rusqlite::Result<Candidates> {
    let version = directory_version(conn)?;
    if let Some(found) = narrowing.narrow(needle, version) {
        return Ok(found);
    }
    let found = trigram_matches(conn, &fts_phrase(needle))?;
    narrowing.remember(needle, version, &found);
    Ok(found)
}

/// `text` as one full-text phrase (quotes doubled), so that no character is query syntax.
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The first [`SUBSTRING_CANDIDATES`] accounts the trigram index finds for a full-text query.
fn trigram_matches(conn: &rusqlite::Connection, query: &str) -> rusqlite::Result<Candidates> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM account_search s \
         JOIN accounts a ON a.rowid = s.rowid JOIN practices p ON p.id = a.practice_id \
         WHERE account_search MATCH ?1 LIMIT ?2"
    ))?;
    stmt.query_map(params![query, SUBSTRING_CANDIDATES as i64], summary_from_row)?.collect()
}

/// Accounts whose text holds every word, in any order and in any field: "okafor ada" for Ada
/// Okafor, "ada riverside" for the Ada of Riverside Clinic. The index is asked for the words of
/// three or more characters (the shortest it can find); every word is then checked on the text.
fn any_order_matches(conn: &rusqlite::Connection, words: &[&str]) -> rusqlite::Result<Vec<AccountSummary>> {
    let indexed: Vec<String> = words.iter().filter(|w| w.chars().count() >= 3).map(|w| fts_phrase(w)).collect();
    if indexed.is_empty() {
        return Ok(Vec::new());
    }
    let mut found: Vec<AccountSummary> = trigram_matches(conn, &indexed.join(" AND "))?
        .into_iter()
        .filter(|(search, _)| words.iter().all(|w| search.contains(w)))
        .map(|(_, summary)| summary)
        .collect();
    found.sort_by(by_active_then_name);
    Ok(found)
}

/// Active accounts first, then by name, then by id.
fn by_active_then_name(a: &AccountSummary, b: &AccountSummary) -> std::cmp::Ordering {
    b.active.cmp(&a.active).then_with(|| a.name.cmp(&b.name)).then_with(|| a.id.cmp(&b.id))
}

/// The lookup itself, on any connection (the desk's, or a [`Searcher`]'s own).
fn lookup_on(
    conn: &rusqlite::Connection,
    narrowing: &Narrowing,
    query: &str,
    limit: usize,
) -> rusqlite::Result<Vec<AccountSummary>> {
    let trimmed = query.trim();

    // Control characters never belong to a name and the full-text index refuses some (NUL).
    // Nothing in the directory is longer than this; a longer paste would only cost time. Runs of
    // spaces (a double space typed, a name pasted from a table) count as one.
    let folded: String = fold(trimmed)
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| !c.is_control())
        .take(MAX_QUERY_CHARS)
        .collect();
    let folded = folded.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    // Digits are matched against phone numbers only when the text looks like a phone number,
    // so that "P-1001" does not also list every phone containing 1001.
    let phone_like = trimmed.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    let query_digits = if phone_like && digits(trimmed).len() >= 4 { digits(trimmed) } else { String::new() };
    let run = || -> rusqlite::Result<Vec<AccountSummary>> {
        let mut out = Ranked::new(limit);
        // One index lookup per kind of exact match (an OR across the three would let the planner
        // scan the whole table).
        let mut exact = conn.prepare_cached(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM accounts a JOIN practices p ON p.id = a.practice_id \
             WHERE a.rowid IN (SELECT rowid FROM accounts WHERE id = ?1 COLLATE NOCASE \
                               UNION ALL SELECT rowid FROM accounts WHERE email = ?1 COLLATE NOCASE \
                               UNION ALL SELECT rowid FROM accounts WHERE phone_digits = ?2) \
             ORDER BY a.active DESC, a.name LIMIT ?3"
        ))?;
        let phone = (!query_digits.is_empty()).then_some(query_digits.as_str());
        for row in exact.query_map(params![trimmed, phone, limit as i64], summary_from_row)? {
            out.push(row?.1);
        }
        let exact_hit = !out.rows.is_empty();
        let mut prefix = conn.prepare_cached(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM accounts a JOIN practices p ON p.id = a.practice_id \
             WHERE a.search_text >= ?1 AND a.search_text < ?1 || char(1114111) \
             ORDER BY a.search_text LIMIT ?2"
        ))?;
        for row in prefix.query_map(params![folded, limit as i64], summary_from_row)? {
            out.push(row?.1);
        }
        // Account ids starting with the text (ids often share a long prefix, which the trigram
        // index is slowest at).
        let mut id_prefix = conn.prepare_cached(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM accounts a JOIN practices p ON p.id = a.practice_id \
             WHERE a.id >= ?1 COLLATE NOCASE AND a.id < ?1 || char(1114111) COLLATE NOCASE \
             ORDER BY a.id COLLATE NOCASE LIMIT ?2"
        ))?;
        for row in id_prefix.query_map(params![trimmed, limit as i64], summary_from_row)? {
            out.push(row?.1);
        }
        // An id, email or phone number was typed (digits or an @ in it, so not a name) and it
        // matched exactly or as an id prefix: those accounts are the answer.
        let looks_like_key = trimmed.chars().any(|c| c.is_ascii_digit() || c == '@');
        if out.is_full() || (looks_like_key && (exact_hit || !out.rows.is_empty())) {
            return Ok(out.finish());
        }
        // Phone-like text is looked for among the digits of phone numbers, however written.
        let needle = if query_digits.is_empty() { folded.as_str() } else { query_digits.as_str() };
        let candidates: Candidates = if needle.chars().count() >= 3 {
            substring_matches(conn, needle, narrowing)?
        } else {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {SUMMARY_COLUMNS} FROM accounts a JOIN practices p ON p.id = a.practice_id \
                 WHERE a.rowid < (SELECT min(rowid) FROM accounts) + ?2 \
                   AND instr(a.search_text, ?1) > 0 LIMIT ?3"
            ))?;
            stmt.query_map(params![needle, SHORT_SCAN_ROWS as i64, SUBSTRING_CANDIDATES as i64], summary_from_row)?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut word = Vec::new();
        let mut other = Vec::new();
        for (search, summary) in candidates {
            let name = search.split('\u{1f}').next().unwrap_or("");
            // (A name prefix the prefix tier had no room for also starts a word.)
            if starts_a_word(name, &folded) {
                word.push(summary);
            } else {
                other.push(summary);
            }
        }
        for mut list in [word, other] {
            list.sort_by(by_active_then_name);
            for summary in list {
                out.push(summary);
            }
        }
        // Several words not found as typed: the same words in another order, last.
        let words: Vec<&str> = folded.split(' ').collect();
        if words.len() > 1 && query_digits.is_empty() && !out.is_full() {
            for summary in any_order_matches(conn, &words)? {
                out.push(summary);
            }
        }
        Ok(out.finish())
    };
    run()
}

/// A second, read-only connection for looking accounts up on another thread, so that typing
/// never waits for a query: the screen interrupts a running lookup when a newer keystroke
/// arrives (see [`Searcher::interrupt_handle`]).
pub struct Searcher {
    conn: rusqlite::Connection,
    path: std::path::PathBuf,
    narrowing: Narrowing,
}

impl Searcher {
    /// Opens the database at `path` read-only for lookups.
    pub fn open(path: &std::path::Path) -> Result<Searcher, DeskError> {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = rusqlite::Connection::open_with_flags(path, flags).map_err(|e| DeskError::Storage {
            path: path.to_path_buf(),
            cause: super::error::describe_sqlite(&e),
        })?;
        Ok(Searcher { conn, path: path.to_path_buf(), narrowing: Narrowing::default() })
    }

    /// Stops the lookup running on this connection (from another thread); it then returns an
    /// "interrupted" error, which the caller drops.
    pub fn interrupt_handle(&self) -> rusqlite::InterruptHandle {
        self.conn.get_interrupt_handle()
    }

    /// The same lookup as [`Desk::lookup`].
    pub fn lookup(&self, query: &str, limit: usize) -> Result<Vec<AccountSummary>, DeskError> {
        lookup_on(&self.conn, &self.narrowing, query, limit).map_err(|e| DeskError::Storage {
            path: self.path.clone(),
            cause: super::error::describe_sqlite(&e),
        })
    }
}

pub(crate) fn load_account(conn: &rusqlite::Connection, id: &AccountId) -> rusqlite::Result<Option<Account>> {
    conn.query_row(
        &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a JOIN practices p ON p.id = a.practice_id WHERE a.id = ?1"),
        [id.as_str()],
        account_from_row,
    )
    .optional()
}

impl Desk {
    /// Rebuilds the lookup's trigram index from the directory (when `check` finds it out of step),
    /// in one write transaction; returns the number of accounts indexed. The audit trail is not
    /// touched: the index is derived from the accounts, and reps keep looking up meanwhile (they
    /// see the old index until the rebuild commits).
    pub fn rebuild_search_index(&mut self) -> Result<i64, DeskError> {
        self.store.write(|tx| {
            tx.execute("INSERT INTO account_search (account_search) VALUES ('rebuild')", []).map_err(sql)?;
            tx.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0)).map_err(sql)
        })
    }

    /// Finds accounts matching what the rep typed, best first: exact account id, email or phone;
    /// then names starting with the text; then names with a word starting with it; then any
    /// other match (in any field). Any text is safe to pass; `%` and `_` match themselves.
    ///
    /// Every tier is an index lookup, so a keystroke costs about the same on a million accounts as
    /// on ten: exact matches and name prefixes use b-tree indexes; substrings of 3 or more
    /// characters use the trigram index (the first [`SUBSTRING_CANDIDATES`] matches, unranked, are
    /// then ordered by name); 1-2 character substrings look through the first
    /// [`SHORT_SCAN_ROWS`] accounts only. Only the first [`MAX_QUERY_CHARS`] characters count.
    pub fn lookup(&self, query: &str, limit: usize) -> Result<Vec<AccountSummary>, DeskError> {
        lookup_on(self.store.conn(), &self.lookups, query, limit).map_err(|e| self.store.read_error(e))
    }

    /// The account id as stored for what was typed: the exact id if it exists, else the one id
    /// that differs only in letter case (`s-2001` is `S-2001`), else the text as typed (which then
    /// answers like any unknown account).
    pub fn canonical_account_id(&self, typed: &str) -> AccountId {
        let typed = AccountId::new(typed);
        let conn = self.store.conn();
        let exact: Option<String> = conn
            .query_row("SELECT id FROM accounts WHERE id = ?1", [typed.as_str()], |r| r.get(0))
            .optional()
            .ok()
            .flatten();
        if exact.is_some() {
            return typed;
        }
        let mut stmt = match conn.prepare_cached("SELECT id FROM accounts WHERE id = ?1 COLLATE NOCASE LIMIT 2") {
            Ok(s) => s,
            Err(_) => return typed,
        };
        let ids: Vec<String> = stmt
            .query_map([typed.as_str()], |r| r.get(0))
            .map(|rows| rows.filter_map(Result::ok).collect())
            .unwrap_or_default();
        match ids.as_slice() {
            [one] => AccountId(one.clone()),
            _ => typed,
        }
    }

    /// An account by id, without auditing (for internal use and the CLI's own checks).
    pub fn account(&self, id: &AccountId) -> Result<Option<Account>, DeskError> {
        load_account(self.store.conn(), id).map_err(|e| self.store.read_error(e))
    }

    /// Opens the caller card. Audited as `account_viewed` (who looked at whose record) before the
    /// card is returned.
    pub fn open_card(&mut self, session: &Session, id: &AccountId) -> Result<CallerCard, DeskError> {
        let now = self.clock.now();
        self.store.write(|tx| {
            require_active(tx, session)?;
            let account = load_account(tx, id)
                .map_err(sql)?
                .ok_or_else(|| DeskError::account_not_found(&id))?;
            let primary_provider = match &account.primary_provider {
                Some(pid) => tx
                    .query_row("SELECT id, name FROM accounts WHERE id = ?1", [pid.as_str()], |r| {
                        Ok(Person { id: AccountId(r.get(0)?), name: r.get(1)? })
                    })
                    .optional()
                    .map_err(sql)?,
                None => None,
            };
            let staff = if account.role == Role::Provider {
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT id, name FROM accounts WHERE primary_provider = ?1 AND active = 1 ORDER BY name",
                    )
                    .map_err(sql)?;
                let rows = stmt
                    .query_map([account.id.as_str()], |r| Ok(Person { id: AccountId(r.get(0)?), name: r.get(1)? }))
                    .map_err(sql)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)?
            } else {
                Vec::new()
            };
            audit::append(tx, now, EventKind::AccountViewed, &NewEvent {
                rep: Some(session.username.clone()),
                account_id: Some(account.id.to_string()),
                outcome: "ok".into(),
                ..NewEvent::default()
            })?;
            Ok(CallerCard { account, primary_provider, staff })
        })
    }
}
