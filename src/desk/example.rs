//! Building the bundled example database (`support-desk.sqlite.example`) from the reviewable text
//! under `assets/demo/`: the directory, the reps, and a few days of past calls replayed through
//! the real use cases so the audit trail is a genuine chain.

use super::audit::{self, EventKind, NewEvent};
use super::clock::{Clock, FixedClock, to_db};
use super::directory::search_text;
use super::error::DeskError;
use super::ids::AccountId;
use super::pin::Pin;
use super::pin_hash::hash_unkeyed;
use super::pin_key::PinKey;
use super::policy::{Request, Role};
use super::reps::{NewRep, RepRole, SignIn};
use super::store::{OpenMode, sql};
use super::text::{digits, normalize};
use super::Desk;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use rusqlite::{OptionalExtension, params};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// The `meta` key [`build`] sets: a database carrying it is the example or a copy of it, which
/// `demo --reset` may throw away; any other database it must leave alone.
pub const EXAMPLE_MARKER: &str = "example_built_at";

impl Desk {
    /// True when this database is the example or a copy of it (see [`EXAMPLE_MARKER`]).
    pub fn is_example_copy(&self) -> Result<bool, DeskError> {
        Ok(self.meta(EXAMPLE_MARKER)?.is_some())
    }
}

/// One account to put in the directory.
#[derive(Clone, Debug)]
pub struct DirectoryRow {
    pub id: String,
    pub role: Role,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub practice: String,
    pub primary_provider: Option<String>,
    pub pin_hash: Option<String>,
    pub account_locked: bool,
}

impl Desk {
    /// Adds one account (and its practice, if new) with the given PIN hash, unkeyed.
    pub fn put_account(&mut self, row: &DirectoryRow) -> Result<(), DeskError> {
        let now = to_db(self.clock.now());
        self.store.write(|tx| {
            tx.execute("INSERT OR IGNORE INTO practices (name) VALUES (?1)", [&row.practice]).map_err(sql)?;
            let practice_id: i64 = tx
                .query_row("SELECT id FROM practices WHERE name = ?1", [&row.practice], |r| r.get(0))
                .map_err(sql)?;
            let name = normalize(&row.name);
            tx.execute(
                "INSERT INTO accounts (id, role, name, email, phone, phone_digits, practice_id, \
                 primary_provider, account_locked, pin_hash, pin_set_at, search_text) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    row.id,
                    row.role.as_str(),
                    name,
                    row.email,
                    row.phone,
                    digits(&row.phone),
                    practice_id,
                    row.primary_provider,
                    row.account_locked,
                    row.pin_hash,
                    row.pin_hash.as_ref().map(|_| now.clone()),
                    search_text(&row.id, &name, &row.email, &row.phone, &row.practice)
                ],
            )
            .map_err(sql)?;
            Ok(())
        })
    }

    /// Sets a known PIN, unkeyed, as the holder would by generating it (example builder only).
    fn holder_sets_pin(&mut self, id: &str, pin: &Pin) -> Result<(), DeskError> {
        let hash = hash_unkeyed(pin);
        let now = self.clock.now();
        self.store.write(|tx| {
            tx.execute(
                "UPDATE accounts SET pin_hash = ?2, pin_key_id = NULL, pin_set_at = ?3, pin_failures = 0, \
                 pin_locked = 0 WHERE id = ?1",
                params![id, hash, to_db(now)],
            )
            .map_err(sql)?;
            for kind in [EventKind::PinGenerated, EventKind::PinViewed] {
                audit::append(tx, now, kind, &NewEvent {
                    account_id: Some(id.to_string()),
                    outcome: "ok".into(),
                    reason: Some("holder".into()),
                    detail: Some("by the account holder".into()),
                    ..NewEvent::default()
                })?;
            }
            Ok(())
        })
    }
}

fn bad(what: impl Into<String>) -> DeskError {
    DeskError::Invalid(what.into())
}

fn read_csv(path: &Path) -> Result<Vec<HashMap<String, String>>, DeskError> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    let headers = reader.headers().map_err(|e| bad(format!("{}: {e}", path.display())))?.clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad(format!("{}: {e}", path.display())))?;
        rows.push(headers.iter().map(str::to_string).zip(record.iter().map(str::to_string)).collect());
    }
    Ok(rows)
}

/// Builds the example database at `out` from the files in `assets` (`directory.csv`, `reps.csv`,
/// `history.csv`), with history ending the day before `today`. The PIN hashes it leaves are
/// unkeyed and match the documented demo PINs; no key is recorded, so `demo` binds its own.
pub fn build(assets: &Path, out: &Path, today: DateTime<Utc>) -> Result<(), DeskError> {
    let tmp = out.with_extension("building");
    for p in [tmp.clone(), tmp.with_extension("building-wal"), tmp.with_extension("building-shm")] {
        let _ = std::fs::remove_file(p);
    }
    let start_day = today.date_naive() - Duration::days(5);
    let clock = Arc::new(FixedClock::at(start_day.and_time(NaiveTime::MIN).and_utc()));
    let mut desk = Desk::open_with_key(&tmp, OpenMode::Create, PinKey::generate())?.with_clock(clock.clone());

    let directory = read_csv(&assets.join("directory.csv"))?;
    let mut pins: HashMap<String, Pin> = HashMap::new();
    let field = |row: &HashMap<String, String>, name: &str| row.get(name).cloned().unwrap_or_default();
    // Providers first, so staff rows can name them.
    let mut ordered: Vec<&HashMap<String, String>> = directory.iter().collect();
    ordered.sort_by_key(|r| Role::parse(&field(r, "role")) != Some(Role::Provider));
    for row in ordered {
        let id = field(row, "account_id");
        let pin = Pin::parse(&field(row, "support_pin")).map_err(|e| bad(format!("{id}: {e}")))?;
        let role = Role::parse(&field(row, "role")).ok_or_else(|| bad(format!("{id}: unknown role")))?;
        let primary = Some(field(row, "primary_provider")).filter(|p| !p.is_empty());
        desk.put_account(&DirectoryRow {
            id: id.clone(),
            role,
            name: field(row, "name"),
            email: field(row, "email"),
            phone: field(row, "phone"),
            practice: field(row, "practice"),
            primary_provider: primary,
            pin_hash: Some(hash_unkeyed(&pin)),
            account_locked: field(row, "account_locked") == "yes",
        })?;
        pins.insert(id, pin);
    }
    let mut passphrases = HashMap::new();
    for row in read_csv(&assets.join("reps.csv"))? {
        let role = RepRole::parse(&field(&row, "role")).ok_or_else(|| bad("reps.csv: unknown role"))?;
        desk.add_rep(
            &NewRep {
                username: &field(&row, "username"),
                display_name: &field(&row, "display_name"),
                role,
                passphrase: &field(&row, "passphrase"),
                account_id: None,
            },
            None,
        )?;
        passphrases.insert(field(&row, "username"), field(&row, "passphrase"));
    }

    let mut sessions = HashMap::new();
    let mut rotated = Vec::new();
    for row in read_csv(&assets.join("history.csv"))? {
        let day: i64 = field(&row, "day").parse().map_err(|_| bad("history.csv: bad day"))?;
        let time = NaiveTime::parse_from_str(&field(&row, "time"), "%H:%M").map_err(|_| bad("history.csv: bad time"))?;
        let date = today.date_naive() + Duration::days(day);
        clock.set(date.and_time(time).and_utc());
        let rep = field(&row, "rep");
        let account = AccountId::new(field(&row, "account"));
        let input = field(&row, "input");
        match field(&row, "action").as_str() {
            "sign_in" => {
                let pass = passphrases.get(&rep).cloned().unwrap_or_default();
                let typed = if input == "ok" { pass } else { format!("{pass}-typo") };
                if let SignIn::SignedIn(s) = desk.sign_in(&rep, &typed)? {
                    sessions.insert(rep.clone(), s);
                }
            }
            action => {
                let session = sessions.get(&rep).cloned().ok_or_else(|| bad(format!("history: {rep} not signed in")))?;
                match action {
                    "sign_out" => desk.sign_out(&session, false)?,
                    "view" => {
                        desk.open_card(&session, &account)?;
                    }
                    "pin" => {
                        let right = pins.get(account.as_str()).cloned().ok_or_else(|| bad("history: unknown account"))?;
                        let pin = if input == "right" { right } else { Pin::from_number(((right.reveal_to_holder().parse::<u16>().unwrap_or(0)) + 1) % 10_000) };
                        if desk.check_pin(&session, &account, &pin)? == super::PinCheck::Matched {
                            rotated.push(account.to_string());
                        }
                    }
                    "verdict" => {
                        let other = field(&row, "other");
                        let request = if other.is_empty() { Request::OwnAccount } else { Request::OnBehalfOf(AccountId::new(other)) };
                        desk.decide(&session, &account, &request)?;
                    }
                    other => return Err(bad(format!("history.csv: unknown action {other}"))),
                }
            }
        }
        clock.advance(Duration::seconds(7));
    }
    // The holders whose PINs rotated during the history generate the documented PIN again, so the
    // demo PINs in the README work on a fresh copy.
    clock.set(today.date_naive().and_time(NaiveTime::MIN).and_utc() - Duration::hours(2));
    rotated.sort();
    rotated.dedup();
    for id in rotated {
        let pin = pins.get(&id).cloned().ok_or_else(|| bad("history: unknown account"))?;
        desk.holder_sets_pin(&id, &pin)?;
        clock.advance(Duration::minutes(3));
    }
    let built_at = to_db(today);
    desk.store.write(|tx| {
        tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", params![EXAMPLE_MARKER, built_at])
            .map_err(sql)?;
        Ok(())
    })?;
    let seal = |desk: &Desk| -> rusqlite::Result<()> {
        let conn = desk.store.conn();
        // Every hash left is unkeyed (the holders re-made their PINs), so the builder's throwaway
        // key must not stay recorded: `demo` binds the working copy's own key.
        conn.execute("DELETE FROM meta WHERE key = 'key_id'", [])?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        conn.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(())).optional()?;
        conn.execute_batch("VACUUM")
    };
    seal(&desk).map_err(|e| desk.store.read_error(e))?;
    drop(desk);
    std::fs::rename(&tmp, out).map_err(|e| bad(format!("could not write {}: {e}", out.display())))
}

/// The clock's current time, for callers that only have a `Clock`.
pub fn today(clock: &dyn Clock) -> DateTime<Utc> {
    clock.now()
}
