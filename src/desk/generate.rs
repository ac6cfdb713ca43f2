//! A synthetic directory and audit history for measuring the desk at scale: practices of
//! realistic sizes, providers and staff with primary providers, names from many languages and
//! scripts, and an audit trail with a realistic mix of event kinds and bursts of failures.
//! Deterministic for a given seed. It only ever writes a new file or one it generated before.

use super::audit::{AuditEvent, GENESIS};
use super::clock::to_db;
use super::directory::search_text;
use super::error::DeskError;
use super::pin::Pin;
use super::pin_hash::hash_unkeyed;
use super::pin_key::PinKey;
use super::store::{OpenMode, sql};
use super::text::{digits, normalize};
use super::{Desk, NewRep, RepRole};
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rusqlite::params;
use std::path::Path;

/// The `meta` row that marks a generated database; nothing else is ever overwritten.
pub const SYNTHETIC_MARKER: &str = "synthetic_seed";

/// The passphrase of every generated rep (`rep0001` ...).
pub const REP_PASSPHRASE: &str = "synthetic-rep-passphrase";

/// How many generated accounts get a real (unkeyed) Support PIN hash; the PIN of account number
/// `n` (1-based, `SYN-0000001`) is `n mod 10000`, zero-padded. Hashing a million PINs would take
/// hours, and the rest are accounts "without a PIN yet".
pub const ACCOUNTS_WITH_PIN: usize = 200;

const GIVEN: &[&str] = &[
    "Ada", "Ben", "Carla", "Dev", "Elena", "Farid", "Zoë", "Wei", "José", "Siobhán", "Aoife", "Nguyễn", "Thảo",
    "Łukasz", "Søren", "Åsa", "Björn", "Chloé", "Mateo", "Lucía", "Olusegun", "Chidi", "Amara", "Kwame", "Priya",
    "Arjun", "Ananya", "Mohammed", "Fatima", "Omar", "Layla", "Yusuf", "Noa", "Yael", "Dmitri", "Анна", "Иван",
    "Ольга", "Νίκος", "Ελένη", "花子", "太郎", "美咲", "伟", "芳", "민준", "서연", "محمد", "فاطمة", "مريم", "דנה",
    "יוסי", "प्रिया", "राहुल", "Ngozi", "Thandiwe", "Ayşe", "Mehmet", "Ingrid", "Kai", "Leilani", "Mei", "Hamid",
];
const FAMILY: &[&str] = &[
    "Okafor", "Lindqvist", "Mendes", "Patel", "Sato", "Haddad", "Ångström", "Zhang", "O'Brien", "Smith-Jones",
    "Nguyễn", "Trần", "Kowalski", "Jørgensen", "García", "Fernández", "Adeyemi", "Mensah", "Sharma", "Iyer",
    "Al-Sayed", "Haddad", "Cohen", "Levi", "Иванов", "Петрова", "Παπαδόπουλος", "山田", "佐藤", "鈴木", "王", "李",
    "김", "이", "العلي", "الحسن", "כהן", "לוי", "शर्मा", "वर्मा", "Yılmaz", "Demir", "Müller", "Schmidt", "Dubois",
    "Rossi", "Kahananui", "Ōta", "Wong", "Khan", "van der Berg", "MacDonald", "D'Angelo",
];
const PLACES: &[&str] = &[
    "Harbor", "Northside", "Cedar", "Sakura", "Riverbend", "Lakeview", "Maple", "Summit", "Bayside", "Oakwood",
    "Pinecrest", "Sunrise", "Westgate", "Hillcrest", "Meadow", "Granite", "Coral", "Prairie", "Canyon", "Aurora",
];
const KINDS: &[&str] = &[
    "Family Medicine", "Pediatrics", "Internal Medicine", "Dermatology", "Cardiology", "Orthopedics",
    "Women's Health", "Behavioral Health", "Dental Group", "Urgent Care", "Clinic",
];

/// What was generated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generated {
    pub practices: usize,
    pub accounts: usize,
    pub audit_events: usize,
}

/// One generated account: id, role, name, email, phone, primary provider, PIN hash.
type Row = (String, String, String, String, String, Option<String>, Option<String>);

/// Writes a batch of practices and their accounts in one transaction.
fn write_practices(desk: &mut Desk, pending: &[(String, Vec<Row>)], set_at: &str) -> Result<(), DeskError> {
    desk.store.write(|tx| {
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO accounts (id, role, name, email, phone, phone_digits, practice_id, \
                 primary_provider, pin_hash, pin_set_at, search_text) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .map_err(sql)?;
        for (practice, rows) in pending {
            tx.execute("INSERT INTO practices (name) VALUES (?1)", [practice]).map_err(sql)?;
            let practice_id = tx.last_insert_rowid();
            for (id, role, name, email, phone, primary, hash) in rows {
                let name = normalize(name);
                stmt.execute(params![
                    id,
                    role,
                    name,
                    email,
                    phone,
                    digits(phone),
                    practice_id,
                    primary,
                    hash,
                    hash.as_ref().map(|_| set_at),
                    search_text(id, &name, email, phone, practice)
                ])
                .map_err(sql)?;
            }
        }
        Ok(())
    })
}

fn refuse(path: &Path, why: &str) -> DeskError {
    DeskError::Invalid(format!("{}: {why}", path.display()))
}

/// Generates `accounts` accounts and `audit_events` audit events into `path` (a new file, or one
/// generated before, which is replaced). `progress` is called now and then with (done, total).
pub fn generate(
    path: &Path,
    accounts: usize,
    audit_events: usize,
    seed: u64,
    now: DateTime<Utc>,
    mut progress: impl FnMut(&str, usize, usize),
) -> Result<Generated, DeskError> {
    if path.exists() {
        let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|_| refuse(path, "exists and is not a database this command generated; it was left alone"))?;
        let marked: bool = conn
            .query_row("SELECT count(*) FROM meta WHERE key = ?1", [SYNTHETIC_MARKER], |r| r.get::<_, i64>(0))
            .map(|n| n > 0)
            .unwrap_or(false);
        drop(conn);
        if !marked {
            return Err(refuse(path, "exists and is not a synthetic database; generate only writes new files or its own"));
        }
        for p in super::setup::database_files(path) {
            let _ = std::fs::remove_file(p);
        }
    }
    // A key file like `init` makes, so PIN checks work on the generated database.
    let key = PinKey::load_or_create_for(path)?;
    let mut desk = Desk::open_with_key(path, OpenMode::Create, key)?;
    desk.bind_key()?;
    let mut rng = StdRng::seed_from_u64(seed);
    // A synthetic database is rebuilt, never recovered: skip the per-commit fsync while filling it.
    desk.store.conn().execute_batch("PRAGMA synchronous = OFF").map_err(|e| desk.store.read_error(e))?;
    desk.store.write(|tx| {
        tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", params![SYNTHETIC_MARKER, seed.to_string()])
            .map_err(sql)?;
        Ok(())
    })?;
    for i in 0..20 {
        desk.add_rep(
            &NewRep {
                username: &format!("rep{:04}", i + 1),
                display_name: &format!("Synthetic Rep {}", i + 1),
                role: if i < 3 { RepRole::Lead } else { RepRole::Rep },
                passphrase: REP_PASSPHRASE,
                account_id: None,
            },
            None,
        )?;
    }

    // Directory: practices of realistic sizes (most small, a few large), each with providers and
    // staff whose primary provider is one of the practice's providers.
    let mut made = 0usize;
    let mut practices = 0usize;
    let mut ids: Vec<String> = Vec::with_capacity(accounts);
    let set_at = to_db(now - Duration::days(30));
    let mut pending: Vec<(String, Vec<Row>)> = Vec::new();
    let mut pending_rows = 0usize;
    while made < accounts {
        let size = match rng.random_range(0..100) {
            0..=59 => rng.random_range(2..8),
            60..=89 => rng.random_range(8..30),
            90..=98 => rng.random_range(30..120),
            _ => rng.random_range(120..600),
        }
        .min(accounts - made)
        .max(1);
        practices += 1;
        let practice = format!(
            "{} {} {}",
            PLACES[rng.random_range(0..PLACES.len())],
            KINDS[rng.random_range(0..KINDS.len())],
            practices
        );
        let batch: Vec<Row> = {
            let providers = (size / 5).max(1);
            let mut rows = Vec::with_capacity(size);
            let mut provider_ids = Vec::new();
            for k in 0..size {
                let n = made + k + 1;
                let is_provider = k < providers;
                let id = format!("SYN-{n:07}");
                let given = GIVEN[rng.random_range(0..GIVEN.len())];
                let family = FAMILY[rng.random_range(0..FAMILY.len())];
                let name = if is_provider { format!("Dr. {given} {family}") } else { format!("{given} {family}") };
                let email = format!("user{n}@p{practices}.example");
                let phone = format!("+1 ({:03}) {:03}-{:04}", 200 + n % 800, (n / 800) % 1000, n % 10_000);
                let primary = if is_provider {
                    provider_ids.push(id.clone());
                    None
                } else {
                    Some(provider_ids[rng.random_range(0..provider_ids.len())].clone())
                };
                let hash = (n <= ACCOUNTS_WITH_PIN).then(|| hash_unkeyed(&Pin::from_number((n % 10_000) as u16)));
                let role = if is_provider { "provider" } else { "staff" };
                rows.push((id, role.to_string(), name, email, phone, primary, hash));
            }
            rows
        };
        pending_rows += batch.len();
        pending.push((practice, batch));
        if pending_rows >= 20_000 || made + size >= accounts {
            write_practices(&mut desk, &pending, &set_at)?;
            for (_, rows) in pending.drain(..) {
                ids.extend(rows.into_iter().map(|b| b.0));
            }
            pending_rows = 0;
        }
        made += size;
        if practices.is_multiple_of(500) || made == accounts {
            progress("accounts", made, accounts);
        }
    }

    // Audit history: sign-ins, card views, PIN checks (mostly matches), verdicts, a few unlocks,
    // and bursts of failures (a caller trying PINs, one rep fumbling many accounts), spread over
    // the year before `now`, in sequence order with a correct hash chain.
    let kinds_weighted: &[(&str, &str, u32)] = &[
        ("signed_in", "ok", 8),
        ("sign_in_failed", "fail", 1),
        ("account_viewed", "ok", 30),
        ("pin_validated", "ok", 20),
        ("pin_rejected", "fail", 6),
        ("verdict_shown", "assist", 15),
        ("verdict_shown", "needs_approval", 4),
        ("verdict_shown", "refused", 1),
        ("verdict_shown", "verify_first", 2),
        ("account_unlocked", "ok", 1),
        ("signed_out", "ok", 8),
    ];
    let total_weight: u32 = kinds_weighted.iter().map(|k| k.2).sum();
    let span_ms = Duration::days(365).num_milliseconds().max(1);
    let start = now - Duration::days(365);
    let mut prev = GENESIS.to_string();
    let mut seq = desk
        .store
        .conn()
        .query_row("SELECT coalesce(max(seq), 0) FROM audit_events", [], |r| r.get::<_, i64>(0))
        .map_err(|e| desk.store.read_error(e))?;
    if seq > 0 {
        prev = desk
            .store
            .conn()
            .query_row("SELECT hash FROM audit_events WHERE seq = ?1", [seq], |r| r.get(0))
            .map_err(|e| desk.store.read_error(e))?;
    }
    let mut written = 0usize;
    let batch = 50_000usize;
    let mut burst_left = 0u32;
    let mut burst_account = String::new();
    while written < audit_events {
        let n = batch.min(audit_events - written);
        let mut events = Vec::with_capacity(n);
        for i in 0..n {
            seq += 1;
            let at_ms = span_ms * (written + i) as i64 / audit_events.max(1) as i64;
            let at = to_db(start + Duration::milliseconds(at_ms));
            let rep = format!("rep{:04}", rng.random_range(1..=20));
            let account = if ids.is_empty() { None } else { Some(ids[rng.random_range(0..ids.len())].clone()) };
            let (kind, outcome) = if burst_left > 0 {
                burst_left -= 1;
                ("pin_rejected", "fail")
            } else if rng.random_range(0..2000) == 0 {
                burst_left = rng.random_range(3..9);
                burst_account = account.clone().unwrap_or_default();
                ("pin_rejected", "fail")
            } else {
                let mut pick = rng.random_range(0..total_weight);
                let mut chosen = ("account_viewed", "ok");
                for (k, o, w) in kinds_weighted {
                    if pick < *w {
                        chosen = (k, o);
                        break;
                    }
                    pick -= w;
                }
                chosen
            };
            let account = if kind == "pin_rejected" && burst_left > 0 { Some(burst_account.clone()) } else { account };
            let account = match kind {
                "signed_in" | "signed_out" | "sign_in_failed" => None,
                _ => account,
            };
            let mut e = AuditEvent {
                seq,
                at,
                rep: Some(rep),
                case_id: None,
                kind: kind.to_string(),
                account_id: account,
                other_account: None,
                outcome: outcome.to_string(),
                reason: None,
                policy_version: kind.starts_with("verdict").then_some(1),
                detail: None,
                prev_hash: prev.clone(),
                hash: String::new(),
            };
            e.hash = e.expected_hash();
            prev = e.hash.clone();
            events.push(e);
        }
        desk.store.write(|tx| {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO audit_events (seq, at, rep, case_id, kind, account_id, other_account, outcome, \
                     reason, policy_version, detail, prev_hash, hash) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                )
                .map_err(sql)?;
            for e in &events {
                stmt.execute(params![
                    e.seq, e.at, e.rep, e.case_id, e.kind, e.account_id, e.other_account, e.outcome, e.reason,
                    e.policy_version, e.detail, e.prev_hash, e.hash
                ])
                .map_err(sql)?;
            }
            Ok(())
        })?;
        written += n;
        progress("audit events", written, audit_events);
    }
    Ok(Generated { practices, accounts: made, audit_events: written })
}
