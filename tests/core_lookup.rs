//! Finding callers in a directory exported by a spreadsheet (byte-order mark, CRLF, quoted fields,
//! decomposed accents, wide glyphs, right-to-left text, SQL wildcards in names, an id with leading
//! zeros, a PIN hash from another argon2): every lookup in `cases/README.md`, and no query errors.

mod common;

use common::*;
use support_desk::desk::import::ImportOptions;
use support_desk::desk::text::escape_hazards;
use support_desk::desk::PinCheck;

/// A desk with `tests/data/directory-spreadsheet-export.csv` imported by the real importer.
fn imported() -> Fixture {
    let mut f = Fixture::empty();
    let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/directory-spreadsheet-export.csv"));
    let report = f.desk.import_directory(path, ImportOptions::default(), &mut |_| {}).expect("import");
    assert!(report.problems.is_empty() && report.written, "{:?}", report.problems);
    assert_eq!(report.added, 16);
    f.add_rep("rita", "Rita Alvarez", support_desk::desk::RepRole::Rep, RITA_PASS, None);
    f
}

fn ids(f: &Fixture, query: &str) -> Vec<String> {
    f.desk
        .lookup(query, 50)
        .unwrap_or_else(|e| panic!("{query:?}: {e}"))
        .into_iter()
        .map(|a| a.id.to_string())
        .collect()
}

#[test]
fn a_composed_query_finds_a_decomposed_name() {
    let f = imported();
    for query in ["José", "Jose\u{301}", "jose", "JOSÉ", "josé prueba", "José  Prueba", "josé\tprueba"] {
        assert_eq!(ids(&f, query), ["S-0005"], "{query:?}");
    }
    // Stored as one composed glyph.
    let account = f.desk.account(&id("S-0005")).expect("read").expect("exists");
    assert_eq!(account.name, "Jos\u{e9} Prueba");
}

#[test]
fn words_in_another_order_or_across_fields_find_the_caller_after_the_text_as_typed() {
    let f = imported();
    // Surname first, as callers often say it; with a short word; across name and practice.
    assert_eq!(ids(&f, "okafor amara"), ["P-0001"]);
    assert_eq!(ids(&f, "Okafor  Dr"), ["P-0001"]);
    assert_eq!(ids(&f, "prueba josé"), ["S-0005"]);
    assert_eq!(ids(&f, "prueba sakura"), ["S-0004"]);
    assert_eq!(ids(&f, "ana prueba"), ["S-0004"], "the sunflower between the words is no obstacle");
    // Every word must be there: no account has both.
    assert!(ids(&f, "okafor prueba").is_empty());
    // The text as typed ranks first; the any-order matches follow it.
    let both = ids(&f, "okafor ike");
    assert_eq!(both, ["S-0011"]);
    let as_typed = ids(&f, "prueba");
    assert!(as_typed.len() >= 3 && as_typed.contains(&"S-0005".to_string()), "{as_typed:?}");
}

#[test]
fn sql_wildcards_in_a_query_match_themselves() {
    let f = imported();
    assert_eq!(ids(&f, "Al_"), ["S-0008"]);
    assert_eq!(ids(&f, "al_test"), ["S-0008"]);
    assert_eq!(ids(&f, "%"), ["S-0010"]);
    assert_eq!(ids(&f, "100%"), ["S-0010"]);
    assert_eq!(ids(&f, "0%"), ["S-0010"]);
    assert!(ids(&f, "_").contains(&"S-0008".to_string()));
    assert!(ids(&f, "_").iter().all(|i| i == "S-0008"), "only Al_Test has an underscore");
    assert!(ids(&f, "\\").is_empty());
}

#[test]
fn apostrophes_hyphens_and_quotes_find_their_rows() {
    let f = imported();
    assert_eq!(ids(&f, "O'Brien"), ["S-0006"]);
    assert_eq!(ids(&f, "o'brien, siobhan"), ["S-0006"]);
    assert_eq!(ids(&f, "Smith-Jones"), ["S-0007"]);
    assert_eq!(ids(&f, "Anne-Marie"), ["S-0007"]);
    assert_eq!(ids(&f, "\"Junior\""), ["S-0011"]);
    let ike = f.desk.account(&id("S-0011")).expect("read").expect("exists");
    assert_eq!(ike.name, "Ike Okafor, Jr. \"Junior\"");
}

#[test]
fn an_id_with_leading_zeros_stays_text() {
    let f = imported();
    assert_eq!(ids(&f, "00123").first().map(String::as_str), Some("00123"));
    assert!(f.desk.account(&id("00123")).expect("read").is_some());
    assert!(f.desk.account(&id("123")).expect("read").is_none());
    let n: i64 = f.raw().query_row("SELECT count(*) FROM accounts WHERE id = '00123'", [], |r| r.get(0)).expect("count");
    assert_eq!(n, 1);
}

#[test]
fn wide_and_right_to_left_names_are_found_and_escaped_where_needed() {
    let f = imported();
    assert_eq!(ids(&f, "山田"), ["P-0003"]);
    assert_eq!(ids(&f, "🌻"), ["S-0004"]);
    assert_eq!(ids(&f, "مريم"), ["P-0012"]);
    assert_eq!(ids(&f, "דנה"), ["S-0013"]);
    assert_eq!(ids(&f, "Evil"), ["S-0014"]);
    let evil = f.desk.account(&id("S-0014")).expect("read").expect("exists");
    assert!(evil.name.contains('\u{202E}'), "stored as given");
    let shown = escape_hazards(&evil.name);
    assert!(!shown.contains('\u{202E}') && shown.contains("\\u{202E}"), "{shown}");
    // Phone numbers are found however they are written.
    assert_eq!(ids(&f, "555 010 0107"), ["S-0007"]);
    assert_eq!(ids(&f, "(555) 010-0107"), ["S-0007"]);
    assert_eq!(ids(&f, "carla.mendes@harbor.example"), ["S-0002"]);
}

#[test]
fn no_query_ever_errors() {
    let f = imported();
    let long_emoji: String = "🌻".repeat(1000);
    let long_percent: String = "%".repeat(1000);
    let long_backslash: String = "\\".repeat(1000);
    let pasted_book: String = "O'Brien %_\\ ".repeat(6000);
    let huge: String = "a".repeat(100_000);
    let queries: Vec<&str> = vec![
        "", " ", "'", "''", "\"", "`", "';--", "\" OR 1=1 --", "%%", "%_%", "\\%", "\\_", "\\\\", "[", "]", "*",
        "?", "^", "$", "(", ")", "\u{0}", "\u{1}\u{1f}\u{7f}", "\t\r\n", "\u{202E}", "\u{1f}", "🌻", "👩‍⚕️", "🏳️‍🌈",
        "ｆｕｌｌ", "İ", "ß", "\u{301}", "a\u{0}b", &long_emoji, &long_percent, &long_backslash, &pasted_book, &huge,
    ];
    for q in queries {
        let short: String = q.chars().take(20).collect();
        match f.desk.lookup(q, 25) {
            Ok(found) => assert!(found.len() <= 25, "{short:?}"),
            Err(e) => panic!("query {short:?} ({} chars) failed: {e}", q.chars().count()),
        }
    }
    assert!(ids(&f, &huge).is_empty());
}

#[test]
fn a_hash_from_another_argon2_validates_its_pin() {
    let mut f = imported();
    let rita = f.rita();
    let p16 = id("P-0016");
    assert_eq!(f.desk.check_pin(&rita, &p16, &pin("0428")).expect("check"), PinCheck::Rejected { attempts_left: 4 });
    assert_eq!(f.desk.check_pin(&rita, &p16, &pin("0427")).expect("check"), PinCheck::Matched);
    assert_eq!(f.account_column::<Option<String>>("P-0016", "pin_key_id"), Some(key().id()));
}

/// The ids a fresh connection finds (no state from earlier keystrokes).
fn fresh_ids(f: &Fixture, query: &str) -> Vec<String> {
    let searcher = support_desk::desk::Searcher::open(&f.path).expect("searcher");
    searcher.lookup(query, 50).expect("lookup").into_iter().map(|a| a.id.to_string()).collect()
}

#[test]
fn typing_on_narrows_the_last_matches_and_finds_the_same_as_a_fresh_lookup() {
    let f = imported();
    // Typed letter by letter, with a change of mind (backspace) and a jump to another name.
    for typed in ["o'brien", "o'bx", "o'b", "smith-jones", "prueba", "jos", "josé p", "555 0", "@example", "zzzq"] {
        let chars: Vec<char> = typed.chars().collect();
        for k in 1..=chars.len() {
            let prefix: String = chars[..k].iter().collect();
            assert_eq!(ids(&f, &prefix), fresh_ids(&f, &prefix), "{prefix:?}");
        }
    }
}

#[test]
fn an_account_added_by_another_process_shows_on_the_next_keystroke() {
    let f = imported();
    assert!(ids(&f, "zyl").is_empty());
    // Another process adds an account while the rep types (a direct insert: an import or the
    // system of record's sync would do the same).
    let (practice, practice_name): (i64, String) =
        f.raw().query_row("SELECT id, name FROM practices ORDER BY id LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?))).expect("practice");
    use support_desk::desk::text::{digits, fold};
    // The search text as the desk builds it: folded fields joined by a unit separator.
    let search = [fold("Dr. Zylberstein"), fold("P-9999"), fold("z@x.example"), fold("555 999"), digits("555 999"), fold(&practice_name)]
        .join("\u{1f}");
    f.raw()
        .execute(
            "INSERT INTO accounts (id, role, name, email, phone, phone_digits, practice_id, search_text) \
             VALUES ('P-9999', 'provider', 'Dr. Zylberstein', 'z@x.example', '555 999', '555999', ?1, ?2)",
            rusqlite::params![practice, search],
        )
        .expect("insert");
    // "zylb" narrows "zyl", which found nothing before: the narrowing must not hide the new account.
    assert_eq!(ids(&f, "zylb"), ["P-9999"]);
}

/// The search index is derived from the directory; `check` compares them (read-only) and the
/// rebuild puts them back in step.
#[test]
fn check_finds_a_search_index_out_of_step_and_the_rebuild_mends_it() {
    use support_desk::desk::check::check;
    let mut f = Fixture::new();
    let health = check(&f.path).expect("check");
    assert_eq!(health.search_index, Some(Vec::new()), "{health:?}");
    assert!(health.is_sound());
    assert_eq!(ids(&f, "arla"), ["S-2001"]);
    {
        let conn = f.raw();
        // Carla's entry removed, Dev's replaced by older text: as a damaged or hand-edited index would be.
        conn.execute_batch(
            "INSERT INTO account_search (account_search, rowid, search_text) \
               SELECT 'delete', rowid, search_text FROM accounts WHERE id = 'S-2001'; \
             INSERT INTO account_search (account_search, rowid, search_text) \
               SELECT 'delete', rowid, search_text FROM accounts WHERE id = 'S-2002'; \
             INSERT INTO account_search (rowid, search_text) SELECT rowid, 'qqq an old name' FROM accounts WHERE id = 'S-2002';",
        )
        .expect("damage the index");
    }
    assert!(ids(&f, "arla").is_empty(), "Carla cannot be found by part of her name any more");
    let health = check(&f.path).expect("check");
    let problems = health.search_index.clone().expect("checked");
    assert!(problems.iter().any(|p| p.contains("1 account(s) have no entry")), "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("1 sampled account(s) are not found by their own text")), "{problems:?}");
    assert!(!health.is_sound());
    let rebuilt = f.desk.rebuild_search_index().expect("rebuild");
    let accounts: i64 = f.raw().query_row("SELECT count(*) FROM accounts", [], |r| r.get(0)).expect("count");
    assert_eq!(rebuilt, accounts);
    let health = check(&f.path).expect("check");
    assert_eq!(health.search_index, Some(Vec::new()), "{health:?}");
    assert_eq!(ids(&f, "arla"), ["S-2001"]);
}
