//! Importing the directory: the spreadsheet export of `cases/README.md` point by point, foreign
//! argon2 hashes, all-or-nothing and `--skip-bad` on a file with bad rows, dry runs, and re-import
//! as a sync.

mod common;

use common::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use support_desk::cli::output::{fit, table};
use support_desk::desk::import::{ImportOptions, ImportReport};
use support_desk::desk::pin_hash::inspect;
use support_desk::desk::text::escape_hazards;
use support_desk::desk::{PinCheck, RepRole};
use unicode_width::UnicodeWidthStr;

const EXPORT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/directory-spreadsheet-export.csv");
const HEADER: &str = "account_id,role,name,email,phone,practice,primary_provider,pin_hash\r\n";

fn import(f: &mut Fixture, path: &Path, options: ImportOptions) -> ImportReport {
    f.desk.import_directory(path, options, &mut |_| {}).unwrap_or_else(|e| panic!("import {}: {e}", path.display()))
}

fn write(f: &Fixture, name: &str, text: &str) -> PathBuf {
    let path = f.dir.path().join(name);
    std::fs::write(&path, text).expect("write the test file");
    path
}

fn sha256(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).expect("read")))
}

fn count(f: &Fixture, sql: &str) -> i64 {
    f.raw().query_row(sql, [], |r| r.get(0)).expect("count")
}

fn ids(f: &Fixture, query: &str) -> Vec<String> {
    f.desk.lookup(query, 50).expect("lookup").into_iter().map(|a| a.id.to_string()).collect()
}

fn imported_export() -> (Fixture, ImportReport) {
    let mut f = Fixture::empty();
    let report = import(&mut f, Path::new(EXPORT), ImportOptions::default());
    f.add_rep("rita", "Rita Alvarez", RepRole::Rep, RITA_PASS, None);
    (f, report)
}

#[test]
fn the_spreadsheet_export_imports_whole() {
    let (f, report) = imported_export();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!((report.rows, report.added, report.updated, report.unchanged, report.removed), (16, 16, 0, 0, 0));
    assert!(report.written);
    assert_eq!(report.file_sha256, sha256(Path::new(EXPORT)));
    // 16 accounts; the first header was recognised despite the byte-order mark.
    assert_eq!(count(&f, "SELECT count(*) FROM accounts"), 16);
    assert_eq!(count(&f, "SELECT count(*) FROM accounts WHERE id LIKE '%\u{feff}%'"), 0);
    // No field ends in a carriage return.
    let cr = count(
        &f,
        "SELECT count(*) FROM accounts WHERE id || role || name || email || phone || coalesce(primary_provider, '') \
         || coalesce(pin_hash, '') LIKE '%' || char(13) || '%'",
    );
    assert_eq!(cr, 0);
    assert_eq!(count(&f, "SELECT count(*) FROM practices WHERE name LIKE '%' || char(13) || '%'"), 0);
    // Quoted commas and doubled quotes.
    let ike = f.desk.account(&id("S-0011")).expect("read").expect("exists");
    assert_eq!(ike.name, "Ike Okafor, Jr. \"Junior\"");
    let siobhan = f.desk.account(&id("S-0006")).expect("read").expect("exists");
    assert_eq!(siobhan.name, "O'Brien, Siobhán");
    // The import is one audit event with its counts and the file's SHA-256.
    let events = f.events_after(0);
    let imports: Vec<_> = events.iter().filter(|e| e.0 == "directory_imported").collect();
    assert_eq!(imports.len(), 1);
    let detail: String = f
        .raw()
        .query_row("SELECT detail FROM audit_events WHERE kind = 'directory_imported'", [], |r| r.get(0))
        .expect("detail");
    assert!(detail.contains("added 16") && detail.contains(&report.file_sha256), "{detail}");
    assert!(!detail.contains("argon2"), "no hash in the audit trail");
}

#[test]
fn ids_stay_text_and_names_are_nfc() {
    let (f, _) = imported_export();
    assert!(f.desk.account(&id("00123")).expect("read").is_some());
    assert!(f.desk.account(&id("123")).expect("read").is_none());
    assert_eq!(count(&f, "SELECT count(*) FROM accounts WHERE typeof(id) <> 'text' OR typeof(phone) <> 'text'"), 0);
    let jose = f.desk.account(&id("S-0005")).expect("read").expect("exists");
    assert_eq!(jose.name, "Jos\u{e9} Prueba", "stored composed: one glyph");
    for query in ["José", "Jose\u{301}", "jose"] {
        assert_eq!(ids(&f, query), ["S-0005"], "{query:?}");
    }
}

#[test]
fn wide_and_right_to_left_names_keep_columns_aligned() {
    let (f, _) = imported_export();
    let names = ["P-0003", "S-0004", "P-0012", "S-0013", "S-0014", "S-0005"];
    let rows: Vec<Vec<String>> = names
        .iter()
        .map(|i| {
            let a = f.desk.account(&id(i)).expect("read").expect("exists");
            vec![a.name, a.id.to_string(), a.practice]
        })
        .collect();
    let text = table(&["NAME", "ID", "PRACTICE"], &rows);
    // Every ID cell starts at the same display column.
    let starts: Vec<usize> = text
        .lines()
        .skip(1)
        .zip(names)
        .map(|(l, i)| l[..l.find(i).expect("id cell")].width())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] == w[1]), "{text}");
    assert!(!text.contains('\u{202E}'), "the override is escaped in lists");
    // Truncation never cuts a wide glyph in half: every width is respected exactly or less.
    for i in ["P-0003", "S-0004", "P-0012", "S-0013"] {
        let name = f.desk.account(&id(i)).expect("read").expect("exists").name;
        for width in 1..=name.width() + 1 {
            let cut = fit(&name, width);
            assert!(cut.width() <= width.max(1), "{name:?} at {width}: {cut:?}");
            assert!(!cut.contains('\u{fffd}'));
        }
    }
    let evil = f.desk.account(&id("S-0014")).expect("read").expect("exists");
    assert!(evil.name.contains('\u{202E}'), "stored as given");
    assert_eq!(escape_hazards(&evil.name), "Evil\\u{202E}NAME 4321");
}

#[test]
fn searches_of_the_cases_readme() {
    let (f, _) = imported_export();
    assert_eq!(ids(&f, "Al_"), ["S-0008"]);
    assert_eq!(ids(&f, "%"), ["S-0010"]);
    assert_eq!(ids(&f, "O'Brien"), ["S-0006"]);
    assert_eq!(ids(&f, "Smith-Jones"), ["S-0007"]);
    for q in ["'", "\"", "';--", "%_%", "\\", "\u{202E}", "\u{0}"] {
        f.desk.lookup(q, 25).unwrap_or_else(|e| panic!("{q:?}: {e}"));
    }
}

#[test]
fn the_imported_foreign_hash_validates_its_pin() {
    let (mut f, _) = imported_export();
    let rita = f.rita();
    let p16 = id("P-0016");
    assert_eq!(f.account_column::<Option<String>>("P-0016", "pin_key_id"), None, "imported unkeyed");
    assert_eq!(f.desk.check_pin(&rita, &p16, &pin("0428")).expect("check"), PinCheck::Rejected { attempts_left: 4 });
    assert_eq!(f.desk.check_pin(&rita, &p16, &pin("0427")).expect("check"), PinCheck::Matched);
    assert_eq!(f.account_column::<Option<String>>("P-0016", "pin_key_id"), Some(key().id()));
}

#[test]
fn accounts_without_a_hash_answer_like_a_wrong_pin() {
    let (mut f, _) = imported_export();
    let rita = f.rita();
    // P-0001 came without a hash: no Support PIN until the holder makes one.
    assert!(!f.desk.account(&id("P-0001")).expect("read").expect("exists").has_pin);
    let no_pin = f.desk.check_pin(&rita, &id("P-0001"), &pin("0427")).expect("check");
    let wrong = f.desk.check_pin(&rita, &id("P-0016"), &pin("0428")).expect("check");
    assert_eq!(no_pin, wrong, "the same answer as a wrong PIN");
    assert_eq!(no_pin, PinCheck::Rejected { attempts_left: 4 });
    // The holder's "Generate New PIN" gives one that then matches.
    let made = f.desk.generate_pin(&id("P-0001")).expect("generate");
    assert_eq!(f.desk.check_pin(&rita, &id("P-0001"), &made).expect("check"), PinCheck::Matched);
}

fn one_provider(hash: &str) -> String {
    format!("{HEADER}P-1,provider,Dr. Hash,h@x.example,555,Clinic,,\"{hash}\"\r\n")
}

#[test]
fn every_foreign_hash_validates_its_pin_rejects_others_and_is_upgraded_after_a_match() {
    let cases = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/foreign-pin-hashes.tsv"))
        .expect("cases");
    for line in cases.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (digits, made_by, phc) = (cols[0], cols[1], cols[2]);
        let mut f = Fixture::empty();
        let path = write(&f, "one.csv", &one_provider(phc));
        let report = import(&mut f, &path, ImportOptions::default());
        assert!(report.problems.is_empty(), "{made_by}: {:?}", report.problems);
        f.add_rep("rita", "Rita Alvarez", RepRole::Rep, RITA_PASS, None);
        let rita = f.rita();
        let other = next_pin(digits);
        assert_eq!(
            f.desk.check_pin(&rita, &id("P-1"), &pin(&other)).expect("check"),
            PinCheck::Rejected { attempts_left: 4 },
            "{made_by} must reject another PIN"
        );
        let before = f.head_seq();
        assert_eq!(f.desk.check_pin(&rita, &id("P-1"), &pin(digits)).expect("check"), PinCheck::Matched, "{made_by}");
        // Upgraded: our parameters, our key, in the transaction of its audit event.
        let stored: String = f.account_column("P-1", "pin_hash");
        let info = inspect(&stored).expect("our hash");
        assert_eq!((info.algorithm.as_str(), info.m_cost, info.t_cost, info.weaker_than_ours), ("argon2id", 19_456, 2, false));
        assert_ne!(stored, phc);
        assert_eq!(f.account_column::<Option<String>>("P-1", "pin_key_id"), Some(key().id()));
        assert_eq!(f.kinds_after(before), ["pin_validated"]);
        // The old PIN was good for one validation; the rotated one ("next") now matches.
        assert_eq!(
            f.desk.check_pin(&rita, &id("P-1"), &pin(digits)).expect("check"),
            PinCheck::Rejected { attempts_left: 4 },
            "{made_by}"
        );
    }
}

#[test]
fn hashes_the_desk_cannot_check_are_refused_at_import_with_a_reason() {
    let mut f = Fixture::empty();
    let refused = [
        ("0427", "plaintext"),
        ("$argon2id$v=19$m=4194304,t=3,p=1$c2FsdHNhbHQwMQ$sTUXjNjObfH4YRmBmGa4WflpcmtiVkAlEPPySt7uktk", "KiB"),
        ("$2b$12$abcdefghijklmnopqrstuuAbcdefghijklmnopqrstuvwxyzabcd", "not a PHC"),
        ("$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHQwMg$oTeUVV9lPkcN0onU+w5lxA", "version"),
        ("$scrypt$ln=16,r=8,p=1$c2FsdA$aGFzaA", "hash"),
    ];
    for (hash, why) in refused {
        let path = write(&f, "bad-hash.csv", &one_provider(hash));
        let report = import(&mut f, &path, ImportOptions::default());
        assert!(report.refused, "{hash}");
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        let p = &report.problems[0];
        assert_eq!((p.line, p.column.as_deref(), p.column_number), (2, Some("pin_hash"), Some(8)));
        assert!(p.message.contains(why), "{}", p.message);
        assert!(!p.to_string().contains(hash), "a problem never repeats the hash: {p}");
    }
    assert_eq!(count(&f, "SELECT count(*) FROM accounts"), 0);
}

/// A file with every kind of bad row, and good rows around them.
fn bad_file() -> String {
    [
        "account_id,role,name,email,phone,practice,primary_provider,pin_hash",
        "P-1,provider,Dr. Good,good@x.example,555 0001,Clinic A,,",                 // 2 good
        "S-1,staff,Good Staff,s1@x.example,555 0002,Clinic A,P-1,",                // 3 good
        "S-2,staff,,s2@x.example,555 0003,Clinic A,P-1,",                          // 4 missing name
        "S-3,nurse,Nurse Role,s3@x.example,555 0004,Clinic A,P-1,",               // 5 unknown role
        "P-1,provider,Dr. Twin,twin@x.example,555 0005,Clinic A,,",                // 6 duplicate id
        "S-4,staff,No Provider,s4@x.example,555 0006,Clinic A,P-404,",             // 7 provider missing
        "P-2,provider,Dr. Other,o@x.example,555 0007,Clinic B,,",                  // 8 good
        "S-5,staff,Cross Practice,s5@x.example,555 0008,Clinic A,P-2,",            // 9 other practice
        "P-3,provider,Dr. Bad Hash,b@x.example,555 0009,Clinic A,,not-a-hash",     // 10 malformed hash
        "P-4,provider,Dr. Plain,p@x.example,555 0010,Clinic A,,1234",              // 11 plaintext PIN
        "S-6,staff,Esc\u{1b}ape,s6@x.example,555 0011,Clinic A,P-1,",             // 12 control char
        "S-7,staff,Short Row,s7@x.example",                                         // 13 missing fields
        "P-5,provider,Dr. Fine,f@x.example,555 0012,Clinic B,,",                   // 14 good
        "S-8,staff,Staff Of Bad,s8@x.example,555 0013,Clinic A,P-3,",              // 15 provider row bad
    ]
    .join("\r\n")
        + "\r\n"
}

#[test]
fn one_bad_row_refuses_the_whole_file_and_every_problem_is_listed() {
    let mut f = Fixture::empty();
    let path = write(&f, "bad.csv", &bad_file());
    let before = f.head_seq();
    let report = import(&mut f, &path, ImportOptions::default());
    assert!(report.refused && !report.written);
    let got: Vec<(u64, Option<&str>)> = report.problems.iter().map(|p| (p.line, p.column.as_deref())).collect();
    let want: Vec<(u64, Option<&str>)> = vec![
        (2, Some("account_id")),
        (3, Some("primary_provider")),
        (4, Some("name")),
        (5, Some("role")),
        (6, Some("account_id")),
        (7, Some("primary_provider")),
        (9, Some("primary_provider")),
        (10, Some("pin_hash")),
        (11, Some("pin_hash")),
        (12, Some("name")),
        (13, None),
        (13, Some("practice")),
        (13, Some("primary_provider")),
        (15, Some("primary_provider")),
    ];
    assert_eq!(got, want, "{:#?}", report.problems);
    let text: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    assert_eq!(text[0], "line 2, column 1 (account_id) [P-1]: duplicate account id (also on line 6)");
    assert!(text[1].contains("names \"P-1\", whose own row (line 2) is bad"), "{}", text[1]);
    assert!(text[2].contains("column 3 (name)") && text[2].contains("is empty"), "{}", text[2]);
    assert!(text[3].contains("unknown role \"nurse\""), "{}", text[3]);
    assert!(text[5].contains("not in the file"), "{}", text[5]);
    assert!(text[6].contains("another practice"), "{}", text[6]);
    assert!(text[7].contains("not a PHC hash"), "{}", text[7]);
    assert!(text[8].contains("plaintext"), "{}", text[8]);
    assert!(text[9].contains("U+001B"), "{}", text[9]);
    assert!(text[10].contains("has 4 fields; the header has 8"), "{}", text[10]);
    assert!(text[13].contains("line 10) is bad"), "{}", text[13]);
    assert!(text.iter().all(|t| !t.contains("1234")), "no PIN in any problem");
    // Nothing changed, not even the audit trail.
    assert_eq!(count(&f, "SELECT count(*) FROM accounts"), 0);
    assert_eq!(count(&f, "SELECT count(*) FROM practices"), 0);
    assert_eq!(f.head_seq(), before);
}

#[test]
fn skip_bad_imports_the_good_rows_and_reports_the_rest() {
    let mut f = Fixture::empty();
    let path = write(&f, "bad.csv", &bad_file());
    let report = import(&mut f, &path, ImportOptions { skip_bad: true, ..ImportOptions::default() });
    assert!(report.written && !report.refused);
    // P-1 is duplicated (both rows left out), so S-1 loses its provider too.
    let mut present: Vec<String> = f
        .raw()
        .prepare("SELECT id FROM accounts ORDER BY id")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("ids");
    present.sort();
    assert_eq!(present, ["P-2", "P-5"]);
    assert_eq!((report.added, report.skipped, report.rows), (2, 12, 14));
    assert!(report.problems.iter().any(|p| p.line == 3 && p.message.contains("line 2) is bad")), "{:#?}", report.problems);
    let last = f.events_after(0).pop().expect("an event");
    assert_eq!((last.0.as_str(), last.2.as_str(), last.3.as_deref()), ("directory_imported", "ok", Some("skipped_bad_rows")));
}

#[test]
fn a_dry_run_counts_and_writes_nothing() {
    let mut f = Fixture::empty();
    let before = f.head_seq();
    let report = import(&mut f, Path::new(EXPORT), ImportOptions { dry_run: true, ..ImportOptions::default() });
    assert_eq!((report.added, report.written, report.dry_run), (16, false, true));
    assert_eq!(count(&f, "SELECT count(*) FROM accounts"), 0);
    assert_eq!(count(&f, "SELECT count(*) FROM practices"), 0);
    assert_eq!(f.head_seq(), before, "a dry run records nothing");
    let path = write(&f, "bad.csv", &bad_file());
    let report = import(&mut f, &path, ImportOptions { dry_run: true, ..ImportOptions::default() });
    assert_eq!(report.problems.len(), 14);
    assert_eq!(f.head_seq(), before);
}

#[test]
fn the_file_is_taken_as_spreadsheets_write_it() {
    let mut f = Fixture::empty();
    // Headers in another order and case, a byte-order mark, CRLF, quoted commas, doubled quotes, a
    // line break inside a quoted field, an extra column, ids and phones with leading zeros, and a
    // staff row before its provider.
    let text = "\u{feff}Role,PRACTICE,Account_ID,Name,Primary_Provider,E-mail Notes,Email,Phone\r\n\
                staff,\"Clinic, North\",007,\"Multi\r\nLine \"\"Nick\"\" Name\",0042,x,m@x.example,0044 20 7946 0000\r\n\
                provider,\"Clinic, North\",0042,Dr. Zero,,y,z@x.example,+44 20 7946 0001\r\n";
    let path = write(&f, "odd.csv", text);
    let report = import(&mut f, &path, ImportOptions::default());
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    assert_eq!(report.added, 2);
    assert!(report.notes.iter().any(|n| n.contains("e_mail_notes")), "{:?}", report.notes);
    let staff = f.desk.account(&id("007")).expect("read").expect("exists");
    assert_eq!(staff.name, "Multi Line \"Nick\" Name", "a wrapped cell becomes one line");
    assert_eq!(staff.practice, "Clinic, North");
    assert_eq!(staff.phone, "0044 20 7946 0000");
    assert_eq!(staff.primary_provider.map(|p| p.0), Some("0042".to_string()));
    assert!(!staff.has_pin, "no pin_hash column: no Support PIN");
}

#[test]
fn a_header_without_required_columns_or_with_plaintext_pins_is_refused() {
    let mut f = Fixture::empty();
    let path = write(&f, "h.csv", "account_id,role,name,support_pin\r\nP-1,provider,Dr. X,0427\r\n");
    let report = import(&mut f, &path, ImportOptions { skip_bad: true, ..ImportOptions::default() });
    assert!(report.refused, "a header problem refuses even with --skip-bad");
    let text: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    assert!(text.iter().any(|t| t.contains("plaintext Support PIN column")), "{text:?}");
    assert!(text.iter().any(|t| t.contains("email, phone, practice, primary_provider")), "{text:?}");
    assert!(text.iter().all(|t| !t.contains("0427")));
    let empty = write(&f, "empty.csv", HEADER);
    assert!(import(&mut f, &empty, ImportOptions::default()).refused, "an empty file would deactivate everyone");
    assert_eq!(count(&f, "SELECT count(*) FROM accounts"), 0);
}

#[test]
fn reimporting_is_a_sync() {
    let mut f = Fixture::empty();
    let v1 = write(
        &f,
        "v1.csv",
        &format!(
            "{HEADER}P-1,provider,Dr. One,one@x.example,555 1,Clinic,,\r\n\
             S-1,staff,Staff One,s1@x.example,555 2,Clinic,P-1,\r\n\
             S-2,staff,Staff Two,s2@x.example,555 3,Clinic,P-1,\r\n"
        ),
    );
    let first = import(&mut f, &v1, ImportOptions::default());
    assert_eq!((first.added, first.updated, first.unchanged, first.removed), (3, 0, 0, 0));
    let again = import(&mut f, &v1, ImportOptions::default());
    assert_eq!((again.added, again.updated, again.unchanged, again.removed), (0, 0, 3, 0));
    // S-1 renamed, S-2 gone, S-3 new.
    let v2 = write(
        &f,
        "v2.csv",
        &format!(
            "{HEADER}P-1,provider,Dr. One,one@x.example,555 1,Clinic,,\r\n\
             S-1,staff,Staff Won,s1@x.example,555 2,Clinic,P-1,\r\n\
             S-3,staff,Staff Three,s3@x.example,555 4,Clinic,P-1,\r\n"
        ),
    );
    let second = import(&mut f, &v2, ImportOptions::default());
    assert_eq!((second.added, second.updated, second.unchanged, second.removed), (1, 1, 1, 1));
    assert_eq!(f.desk.account(&id("S-1")).expect("read").expect("exists").name, "Staff Won");
    assert_eq!(ids(&f, "won"), ["S-1"], "the search text follows the new name");
    let s2 = f.desk.account(&id("S-2")).expect("read").expect("kept, never deleted");
    assert!(!s2.active);
    // The audit events name the counts and each file's SHA-256.
    let details: Vec<String> = f
        .raw()
        .prepare("SELECT detail FROM audit_events WHERE kind = 'directory_imported' ORDER BY seq")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("details");
    assert_eq!(details.len(), 3);
    assert!(details[2].contains("added 1, updated 1, unchanged 1, removed 1") && details[2].contains(&sha256(&v2)), "{}", details[2]);
    // Back in the source: active again (an update).
    let third = import(&mut f, &v1, ImportOptions::default());
    assert_eq!((third.added, third.updated, third.unchanged, third.removed), (0, 2, 1, 1));
    assert!(f.desk.account(&id("S-2")).expect("read").expect("exists").active);
    assert!(!f.desk.account(&id("S-3")).expect("read").expect("exists").active);
}

#[test]
fn a_reimported_stale_hash_never_brings_back_a_rotated_pin() {
    let cases = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/foreign-pin-hashes.tsv"))
        .expect("cases");
    let rows: Vec<Vec<&str>> = cases.lines().skip(1).map(|l| l.split('\t').collect()).collect();
    // Two hashes of the cheap kind: the weak m=4MiB ones.
    let weak_0031 = rows.iter().find(|r| r[0] == "0031").expect("weak hash")[2];
    let weak_0427 = rows.iter().find(|r| r[2].starts_with("$argon2i$")).expect("argon2i")[2];
    let mut f = Fixture::empty();
    f.add_rep("rita", "Rita Alvarez", RepRole::Rep, RITA_PASS, None);
    let v1 = write(&f, "v1.csv", &one_provider(weak_0031));
    import(&mut f, &v1, ImportOptions::default());
    let rita = f.rita();
    assert_eq!(f.desk.check_pin(&rita, &id("P-1"), &pin("0031")).expect("check"), PinCheck::Matched);
    // The same export again: the used PIN stays used.
    let again = import(&mut f, &v1, ImportOptions::default());
    assert_eq!((again.updated, again.unchanged), (0, 1));
    assert!(again.notes.iter().any(|n| n.contains("not applied again")), "{:?}", again.notes);
    assert_eq!(f.desk.check_pin(&rita, &id("P-1"), &pin("0031")).expect("check"), PinCheck::Rejected { attempts_left: 4 });
    // Lock the PIN, then the system of record exports a new hash: it replaces the PIN and the lock.
    for _ in 0..4 {
        f.desk.check_pin(&rita, &id("P-1"), &pin("9999")).expect("check");
    }
    assert!(f.account_column::<bool>("P-1", "pin_locked"));
    let v2 = write(&f, "v2.csv", &one_provider(weak_0427));
    let changed = import(&mut f, &v2, ImportOptions::default());
    assert_eq!((changed.updated, changed.unchanged), (1, 0));
    assert!(!f.account_column::<bool>("P-1", "pin_locked"));
    assert_eq!(f.desk.check_pin(&rita, &id("P-1"), &pin("0427")).expect("check"), PinCheck::Matched);
}

/// The spreadsheet export with P-0016's hash of 0427 replaced by `hash` (the system of record
/// changed it); every other row as it was.
fn export_with_p0016_hash(f: &Fixture, name: &str, hash: &str) -> PathBuf {
    let text = std::fs::read_to_string(EXPORT).expect("export");
    let mut changed = 0;
    let lines: Vec<String> = text
        .split_inclusive('\n')
        .map(|line| {
            if !line.starts_with("P-0016,") {
                return line.to_string();
            }
            changed += 1;
            let start = line.find("\"$argon2").expect("P-0016 has a quoted hash");
            let end = line[start + 1..].find('"').expect("closing quote") + start + 2;
            format!("{}\"{hash}\"{}", &line[..start], &line[end..])
        })
        .collect();
    assert_eq!(changed, 1);
    write(f, name, &lines.concat())
}

/// A second hash of 0427 (argon2i m=4 MiB), not the one the spreadsheet export carries.
fn another_hash_of_0427() -> String {
    let cases = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/foreign-pin-hashes.tsv"))
        .expect("cases");
    let row = cases.lines().skip(1).map(|l| l.split('\t').collect::<Vec<_>>()).find(|r| r[0] == "0427" && r[2].starts_with("$argon2i$"));
    row.expect("an argon2i hash of 0427")[2].to_string()
}

#[test]
fn an_older_file_imported_again_never_brings_back_a_rotated_pin() {
    let (mut f, _) = imported_export();
    let rita = f.rita();
    let p16 = id("P-0016");
    let old_file = Path::new(EXPORT);
    assert_eq!(f.desk.check_pin(&rita, &p16, &pin("0427")).expect("check"), PinCheck::Matched);
    // The system of record gave P-0016 a new hash (of the same digits, as it happens).
    let new_file = export_with_p0016_hash(&f, "new.csv", &another_hash_of_0427());
    let changed = import(&mut f, &new_file, ImportOptions::default());
    assert_eq!((changed.added, changed.updated), (0, 1), "{:?}", changed.notes);
    assert_eq!(f.desk.check_pin(&rita, &p16, &pin("0427")).expect("check"), PinCheck::Matched);
    // The first file again: its hash was applied before and is not applied again.
    let stale = import(&mut f, old_file, ImportOptions::default());
    assert_eq!((stale.added, stale.updated, stale.removed), (0, 0, 0), "{:?}", stale.notes);
    assert!(stale.notes.iter().any(|n| n.contains("1 PIN hash(es)") && n.contains("not applied again")), "{:?}", stale.notes);
    assert!(stale.notes.iter().all(|n| !n.contains("argon2") && !n.contains("0427")), "{:?}", stale.notes);
    assert_eq!(f.desk.check_pin(&rita, &p16, &pin("0427")).expect("check"), PinCheck::Rejected { attempts_left: 4 });
    // And the second file again: nothing comes back either.
    let stale = import(&mut f, &new_file, ImportOptions::default());
    assert_eq!((stale.added, stale.updated), (0, 0));
    assert_eq!(f.desk.check_pin(&rita, &p16, &pin("0427")).expect("check"), PinCheck::Rejected { attempts_left: 3 });
}

#[test]
fn a_database_from_before_the_digest_history_keeps_its_last_imported_hash() {
    let (mut f, _) = imported_export();
    let rita = f.rita();
    assert_eq!(f.desk.check_pin(&rita, &id("P-0016"), &pin("0427")).expect("check"), PinCheck::Matched);
    // Back to schema 9, which knew only the last import's digest.
    f.raw()
        .execute_batch("DROP TABLE imported_pin_digests; PRAGMA user_version = 9;")
        .expect("back to schema 9");
    let reopened = f.another_desk();
    f.desk = reopened;
    let backfilled: i64 = count(&f, "SELECT count(*) FROM imported_pin_digests WHERE account_id = 'P-0016'");
    assert_eq!(backfilled, 1, "the migration keeps the digest the column held");
    let stale = import(&mut f, Path::new(EXPORT), ImportOptions::default());
    assert_eq!(stale.updated, 0);
    assert_eq!(f.desk.check_pin(&rita, &id("P-0016"), &pin("0427")).expect("check"), PinCheck::Rejected { attempts_left: 4 });
}

#[test]
fn staff_sharing_their_primary_providers_email_are_noted_not_refused() {
    let mut f = Fixture::empty();
    let path = write(
        &f,
        "shared.csv",
        &format!(
            "{HEADER}P-1,provider,Dr. One,front@clinic.example,555 1,Clinic,,\r\n\
             P-2,provider,Dr. Two,two@clinic.example,555 2,Clinic,,\r\n\
             S-1,staff,Staff One, Front@Clinic.example ,555 3,Clinic,P-1,\r\n\
             S-2,staff,Staff Two,s2@clinic.example,555 4,Clinic,P-1,\r\n\
             S-3,staff,Staff Three,front@clinic.example,555 5,Clinic,P-2,\r\n\
             S-4,staff,Staff Four,,555 6,Clinic,P-2,\r\n"
        ),
    );
    let report = import(&mut f, &path, ImportOptions::default());
    assert!(!report.refused && report.problems.is_empty(), "{report:?}");
    assert_eq!(report.added, 6);
    let shared: Vec<&String> = report.notes.iter().filter(|n| n.contains("share their primary provider's email")).collect();
    assert_eq!(shared.len(), 1, "{:?}", report.notes);
    // S-3 shares P-1's address, but P-2 is their primary provider; S-4 and P-2 have none in common.
    assert!(shared[0].starts_with("1 staff member(s)") && shared[0].contains("S-1 (primary provider P-1)"), "{}", shared[0]);
    assert!(!shared[0].contains("S-3") && !shared[0].contains("S-4"), "{}", shared[0]);
}

/// A file of `n` providers in one practice, ids `P-00001`...
fn providers(n: usize, prefix: &str) -> String {
    let mut text = String::from(HEADER);
    for i in 1..=n {
        text.push_str(&format!("{prefix}-{i:05},provider,Dr. {prefix} {i},{prefix}{i}@x.example,555 {i},Clinic,,\r\n"));
    }
    text
}

#[test]
fn a_file_that_would_empty_the_directory_is_refused_unless_removals_are_meant() {
    let mut f = Fixture::empty();
    let full = write(&f, "full.csv", &providers(200, "P"));
    assert_eq!(import(&mut f, &full, ImportOptions::default()).added, 200);
    // The same export cut short after 150 rows (a transfer that stopped): 50 of 200 would go.
    let text = providers(200, "P");
    let cut: String = text.split_inclusive('\n').take(151).collect();
    let short = write(&f, "short.csv", &cut);
    let head = f.head_seq();
    let refused = import(&mut f, &short, ImportOptions::default());
    assert!(refused.refused && !refused.written, "{refused:?}");
    assert_eq!(refused.removed, 50);
    assert!(refused.notes.iter().any(|n| n.contains("50 of 200 active accounts") && n.contains("--allow-removals")), "{:?}", refused.notes);
    assert_eq!(f.head_seq(), head, "a refused file leaves no audit event");
    assert_eq!(count(&f, "SELECT count(*) FROM accounts WHERE active = 1"), 200, "nothing was marked inactive");
    // A dry run says the same.
    let dry = import(&mut f, &short, ImportOptions { dry_run: true, ..ImportOptions::default() });
    assert!(dry.refused && !dry.written);
    // Meant: marked inactive, never deleted.
    let meant = import(&mut f, &short, ImportOptions { allow_removals: true, ..ImportOptions::default() });
    assert!(meant.written && !meant.refused);
    assert_eq!((meant.unchanged, meant.removed), (150, 50));
    assert_eq!(count(&f, "SELECT count(*) FROM accounts WHERE active = 1"), 150);
    assert_eq!(count(&f, "SELECT count(*) FROM accounts"), 200);
    // A few removals from a large directory are an ordinary sync.
    let fewer: String = providers(150, "P").split_inclusive('\n').take(141).collect();
    let fewer = write(&f, "fewer.csv", &fewer);
    let ordinary = import(&mut f, &fewer, ImportOptions::default());
    assert!(ordinary.written && ordinary.removed == 10, "{ordinary:?}");
}

#[test]
fn comparing_holds_no_lock_and_only_the_write_pass_does() {
    use support_desk::desk::import::ImportPhase;
    let mut f = Fixture::empty();
    // More rows than a progress report's stride, so each pass reports while it runs.
    let file = write(&f, "big.csv", &providers(20_000, "P"));
    import(&mut f, &file, ImportOptions::default());
    let renamed = providers(20_000, "P").replace("Dr. P 19999,", "Dr. P Renamed,");
    let file = write(&f, "big2.csv", &renamed);
    let other = f.raw();
    other.busy_timeout(std::time::Duration::ZERO).expect("no waiting");
    let mut seen = Vec::new();
    let report = f
        .desk
        .import_directory(&file, ImportOptions::default(), &mut |p| {
            if p.phase == ImportPhase::Checking || seen.last().is_some_and(|(phase, _)| *phase == p.phase) {
                return;
            }
            // Can another process write right now?
            let free = other.execute_batch("BEGIN IMMEDIATE; ROLLBACK").is_ok();
            seen.push((p.phase, free));
        })
        .expect("import");
    assert_eq!((report.updated, report.unchanged), (1, 19_999));
    assert_eq!(seen, [(ImportPhase::Comparing, true), (ImportPhase::Writing, false)]);
    assert_eq!(f.desk.account(&id("P-19999")).expect("read").expect("exists").name, "Dr. P Renamed");
}

#[test]
fn an_import_that_lands_between_comparing_and_writing_stops_this_one() {
    use support_desk::desk::import::ImportPhase;
    let mut f = Fixture::empty();
    let first = write(&f, "first.csv", &providers(20_000, "P"));
    import(&mut f, &first, ImportOptions::default());
    let renamed = write(&f, "renamed.csv", &providers(20_000, "P").replace("Dr. P 7,", "Dr. P Seven,"));
    let mut other = f.another_desk();
    let other_file = write(&f, "other.csv", &providers(20_000, "P").replace("Dr. P 8,", "Dr. P Eight,"));
    let head = f.head_seq();
    let mut done = false;
    let result = f.desk.import_directory(&renamed, ImportOptions::default(), &mut |p| {
        if p.phase == ImportPhase::Comparing && !done {
            done = true;
            let r = other.import_directory(&other_file, ImportOptions::default(), &mut |_| {}).expect("the other import");
            assert!(r.written);
        }
    });
    let err = result.expect_err("this import is stale").to_string();
    assert!(err.contains("another import changed the directory") && err.contains("nothing was written"), "{err}");
    assert_eq!(f.desk.account(&id("P-00007")).expect("read").expect("exists").name, "Dr. P 7", "nothing of this import");
    assert_eq!(f.desk.account(&id("P-00008")).expect("read").expect("exists").name, "Dr. P Eight", "the other one stands");
    assert_eq!(f.kinds_after(head), ["directory_imported"]);
}

#[test]
fn a_small_directory_is_not_emptied_by_a_wrong_file_either() {
    let mut f = Fixture::empty();
    let all = write(&f, "all.csv", &providers(16, "P"));
    import(&mut f, &all, ImportOptions::default());
    // Another desk's export by mistake: none of the 16 accounts is in it.
    let wrong = write(&f, "wrong.csv", &providers(3, "X"));
    let refused = import(&mut f, &wrong, ImportOptions::default());
    assert!(refused.refused && !refused.written, "{refused:?}");
    assert!(refused.notes.iter().any(|n| n.contains("16 of 16 active accounts")), "{:?}", refused.notes);
    assert_eq!(count(&f, "SELECT count(*) FROM accounts WHERE active = 1"), 16);
    // Two leavers of sixteen are an ordinary sync.
    let fourteen = write(&f, "fourteen.csv", &providers(14, "P"));
    let two = import(&mut f, &fourteen, ImportOptions::default());
    assert!(two.written && two.removed == 2, "{two:?}");
}

#[test]
fn a_large_first_import_lands_whole_in_the_directory_and_its_search_index() {
    // More rows than one staged batch (20,000), so some move into the directory in a second batch.
    let mut f = Fixture::empty();
    let mut text = providers(20_050, "P");
    // A staff member near the start whose provider comes in the second batch.
    text.push_str("S-1,staff,Sam Early,sam@x.example,555 0,Clinic,P-20050,\r\n");
    let path = write(&f, "large.csv", &text);
    let report = import(&mut f, &path, ImportOptions::default());
    assert!(report.written && report.added == 20_051, "{report:?}");
    assert_eq!(count(&f, "SELECT count(*) FROM accounts"), 20_051);
    // The trigram index holds every account: substrings from both batches are found through it.
    for n in [10_000, 19_999, 20_000, 20_001, 20_050] {
        assert_eq!(ids(&f, &format!("{n}@x.example")), [format!("P-{n:05}")], "{n}");
    }
    assert_eq!(ids(&f, "am earl"), ["S-1"]);
    // SQLite's own check of the full-text index against the rows it indexes.
    f.raw().execute("INSERT INTO account_search (account_search) VALUES ('integrity-check')", []).expect("index in step");

    // Again, with the staff member renamed and moved to another provider: changed rows are written
    // in batches too, and the index follows the new name.
    let text = text.replace("S-1,staff,Sam Early,sam@x.example,555 0,Clinic,P-20050,", "S-1,staff,Sam Later,sam@x.example,555 0,Clinic,P-00002,");
    let path = write(&f, "large2.csv", &text);
    let report = import(&mut f, &path, ImportOptions::default());
    assert_eq!((report.added, report.updated, report.unchanged), (0, 1, 20_050), "{report:?}");
    assert_eq!(ids(&f, "am late"), ["S-1"]);
    assert!(ids(&f, "am earl").is_empty());
    assert_eq!(count(&f, "SELECT count(*) FROM accounts WHERE id = 'S-1' AND primary_provider = 'P-00002'"), 1);
    f.raw().execute("INSERT INTO account_search (account_search) VALUES ('integrity-check')", []).expect("index in step");
}

#[test]
fn semicolons_and_tabs_are_read_while_utf16_and_empty_files_are_refused_with_what_to_do() {
    let mut f = Fixture::empty();
    let rows = [
        "account_id,role,name,email,phone,practice,primary_provider\r\n",
        "P-0001,provider,\"Dr. Nine, Jr.\",n@x.example,555 0101,Clinic,\r\n",
        "S-0001,staff,Sam Semi,s@x.example,555 0102,Clinic,P-0001\r\n",
    ]
    .concat();
    // Semicolons (a spreadsheet in a locale with decimal commas), quotes and all.
    let semi = write(&f, "semi.csv", &rows.replace(',', ";").replace("Dr. Nine; Jr.", "Dr. Nine, Jr."));
    let r = import(&mut f, &semi, ImportOptions::default());
    assert!(r.written && r.added == 2, "{r:?}");
    assert!(r.notes.iter().any(|n| n.contains("separated by semicolons")), "{:?}", r.notes);
    assert_eq!(count(&f, "SELECT count(*) FROM accounts WHERE name = 'Dr. Nine, Jr.'"), 1);
    // Tabs.
    let tabs = write(&f, "tabs.csv", &rows.replace(',', "\t").replace("Dr. Nine\t Jr.", "Dr. Nine, Jr."));
    let r = import(&mut f, &tabs, ImportOptions { dry_run: true, ..ImportOptions::default() });
    assert!(!r.refused && r.unchanged == 2, "{r:?}");
    // UTF-16 ("Unicode text"), with its byte-order mark: refused, saying how to save it.
    let mut utf16 = vec![0xff, 0xfe];
    utf16.extend(rows.encode_utf16().flat_map(|u| u.to_le_bytes()));
    let path = f.dir.path().join("unicode.csv");
    std::fs::write(&path, utf16).expect("write");
    let head = f.head_seq();
    let r = import(&mut f, &path, ImportOptions::default());
    assert!(r.refused && !r.written, "{r:?}");
    assert_eq!(r.problems.len(), 1, "{r:?}");
    assert!(r.problems[0].message.contains("UTF-16") && r.problems[0].message.contains("CSV UTF-8"), "{r:?}");
    assert!(r.notes.is_empty(), "no garbled column names: {:?}", r.notes);
    // Empty.
    let empty = write(&f, "empty.csv", "");
    let r = import(&mut f, &empty, ImportOptions::default());
    assert!(r.refused && r.problems[0].message.contains("the file is empty"), "{r:?}");
    assert_eq!(f.head_seq(), head, "refused files leave no audit event");
}
