//! The README's key tables are generated from the TUI's key table; this test keeps them equal.
//! To refresh them, run this test and paste the block it prints between the markers.

#[test]
fn readme_key_tables_match_the_key_table() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let start = "<!-- keys:start (generated from src/tui/keymap.rs; tests/readme_keys.rs checks it) -->\n";
    let end = "<!-- keys:end -->";
    let expected = support_desk::tui::keymap::markdown();
    let found = readme
        .split_once(start)
        .and_then(|(_, rest)| rest.split_once(end))
        .map(|(block, _)| block.to_string());
    assert_eq!(found.as_deref(), Some(expected.as_str()), "README key tables are stale; put this between the markers:\n{start}{expected}{end}");
}
