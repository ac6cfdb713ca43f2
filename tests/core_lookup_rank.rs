//! Lookup ranking and short queries: exact id / email / phone first, then name prefixes, then
//! names with a word starting with the text, then other matches; 1-2 character queries answer
//! sensibly; no text a rep can type is an error; the index follows renames.

mod common;

use support_desk::desk::Role;
use support_desk::desk::example::DirectoryRow;

fn row(id: &str, name: &str, email: &str, phone: &str) -> DirectoryRow {
    DirectoryRow {
        id: id.into(),
        role: Role::Provider,
        name: name.into(),
        email: email.into(),
        phone: phone.into(),
        practice: "Rank Practice".into(),
        primary_provider: None,
        pin_hash: None,
        account_locked: false,
    }
}

fn fixture() -> common::Fixture {
    let mut f = common::Fixture::empty();
    for r in [
        row("A-1", "Diana Prince", "diana@rank.example", "+1 555 000 1111"),
        row("A-2", "Jo Ana Silva", "jo@rank.example", "+1 555 000 2222"),
        row("A-3", "Anabel Ruiz", "anabel@rank.example", "+1 555 000 3333"),
        row("A-4", "Zed Example", "ana@rank.example", "+1 555 000 4444"),
        row("ANA", "Quentin Blake", "q@rank.example", "+1 555 000 5555"),
        row("A-6", "Bob Anderson-Ana", "bob@rank.example", "+1 555 000 6666"),
    ] {
        f.desk.put_account(&r).expect("account");
    }
    f
}

fn ids(f: &common::Fixture, q: &str) -> Vec<String> {
    f.desk.lookup(q, 50).expect("lookup").into_iter().map(|a| a.id.to_string()).collect()
}

#[test]
fn exact_id_then_name_prefix_then_word_prefix_then_substring() {
    let f = fixture();
    // "ana": the account whose id is ANA first; Anabel (name prefix); Jo Ana and Bob
    // Anderson-Ana (a word starts with it), by name; Diana (substring); Zed's email contains it.
    assert_eq!(ids(&f, "ana"), ["ANA", "A-3", "A-6", "A-2", "A-1", "A-4"]);
}

#[test]
fn exact_email_and_phone_come_first() {
    let f = fixture();
    assert_eq!(ids(&f, "ana@rank.example")[0], "A-4");
    assert_eq!(ids(&f, "ANA@RANK.EXAMPLE")[0], "A-4", "email case does not matter");
    assert_eq!(ids(&f, "+1 555 000 2222")[0], "A-2");
    assert_eq!(ids(&f, "5550002222"), ["A-2"], "phone digits match however written");
    assert_eq!(ids(&f, "a-2")[0], "A-2", "id case does not matter");
}

#[test]
fn one_and_two_character_queries_answer_with_prefixes_first() {
    let f = fixture();
    let one = ids(&f, "a");
    assert_eq!(&one[..1], ["A-3"], "the name starting with a comes first: {one:?}");
    assert!(one.len() >= 5, "short queries still find substrings in a small directory: {one:?}");
    let two = ids(&f, "jo");
    assert_eq!(two[0], "A-2");
    assert!(ids(&f, "zz").is_empty());
}

#[test]
fn no_text_a_rep_can_type_is_an_error() {
    let f = fixture();
    for q in [
        "\"", "\"\"", "*", "ana*", "AND", "ana AND bob", "OR", "NOT ana", "NEAR(ana bob)", "^ana", "-ana", "ana:",
        "(", ")", "{ana}", "'", "' OR 1=1 --", "%", "_", "\\", "\u{0}", "a\u{0}na", "🌻🌻🌻", "ana\"bob", "a",
        "ab", "abc", &"x".repeat(30), &"é".repeat(3000),
    ] {
        assert!(f.desk.lookup(q, 50).is_ok(), "{q:?}");
    }
}

#[test]
fn the_index_follows_renames_and_deletions() {
    let f = fixture();
    let conn = f.raw();
    conn.execute(
        "UPDATE accounts SET name = 'Anya Newname', search_text = replace(search_text, 'diana prince', 'anya newname') WHERE id = 'A-1'",
        [],
    )
    .expect("rename");
    assert!(ids(&f, "prince").is_empty(), "the old name is gone from the index");
    assert_eq!(ids(&f, "newname"), ["A-1"]);
}
