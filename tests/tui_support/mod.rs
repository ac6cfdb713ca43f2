//! Shared set-up for screen tests: a copy of the example database built from `assets/demo/`, an
//! `App` on it, and a `TestBackend` to draw into.

// Each screen-test binary uses a different part of this module.
#![allow(dead_code)]

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;
use support_desk::desk::pin_key::PinKey;
use support_desk::desk::store::OpenMode;
use support_desk::desk::{Desk, example};
use support_desk::tui::app::App;
use support_desk::tui::keymap::Key;
use support_desk::tui::theme::Theme;

/// The example database, built once per test binary.
fn template() -> &'static Path {
    static TEMPLATE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("example.sqlite");
        let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
        example::build(&assets, &path, chrono::Utc::now()).expect("build example");
        (dir, path)
    });
    path
}

pub struct Harness {
    pub app: App,
    pub term: Terminal<TestBackend>,
    pub dir: tempfile::TempDir,
}

impl Harness {
    pub fn new(width: u16, height: u16, theme: Theme) -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("desk.sqlite");
        std::fs::copy(template(), &db).expect("copy example");
        let desk = Desk::open_with_key(&db, OpenMode::Existing, PinKey::from_bytes([3u8; 32])).expect("open");
        let app = App::new(desk, theme);
        let term = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        let mut h = Harness { app, term, dir };
        h.draw();
        h
    }

    pub fn draw(&mut self) {
        let app = &self.app;
        self.term.draw(|f| app.render(f)).expect("draw");
    }

    /// Presses a key, runs what it started (a PIN check) and redraws.
    pub fn press(&mut self, key: Key) {
        self.app.handle_key(key);
        self.draw();
        if self.app.has_pending() {
            self.app.run_pending();
            self.draw();
        }
    }

    /// Presses a key without running what it starts (to see "checking...").
    pub fn press_only(&mut self, key: Key) {
        self.app.handle_key(key);
        self.draw();
    }

    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.press(Key::Char(c));
        }
    }

    pub fn paste(&mut self, text: &str) {
        self.app.handle_event(ratatui::crossterm::event::Event::Paste(text.to_string()), Instant::now());
        self.draw();
    }

    /// The screen as text, one line per row.
    pub fn screen(&self) -> String {
        let buf = self.term.backend().buffer();
        let mut out = String::new();
        for y in 0..buf.area.height {
            let mut skip = 0;
            for x in 0..buf.area.width {
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                let sym = buf[(x, y)].symbol();
                out.push_str(sym);
                skip = unicode_width::UnicodeWidthStr::width(sym).saturating_sub(1);
            }
            out.push('\n');
        }
        out
    }

    pub fn sign_in(&mut self, user: &str, pass: &str) {
        self.type_text(user);
        self.press(Key::Tab);
        self.type_text(pass);
        self.press(Key::Enter);
    }

    /// Signs in as rita, finds `query` and opens the first result's card.
    pub fn open_caller(&mut self, query: &str) {
        self.sign_in("rita", "rita-demo-pass");
        self.type_text(query);
        self.press(Key::Enter);
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("desk.sqlite")
    }

    /// Audit events (kind, account, outcome) after sequence `after`, oldest first.
    pub fn events_after(&self, after: i64) -> Vec<(String, Option<String>, String)> {
        let conn = rusqlite::Connection::open(self.db()).expect("open");
        let mut stmt = conn
            .prepare("SELECT kind, account_id, outcome FROM audit_events WHERE seq > ?1 ORDER BY seq")
            .expect("prepare");
        stmt.query_map([after], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }

    /// Damages the database file under the running app, as a failing disk would: the b-tree
    /// root pages of `tables` and of their indexes are overwritten with garbage (after a
    /// checkpoint, so no newer copy of them waits in the WAL), then another connection commits a
    /// change, so the app's connection drops its cached pages and reads the damaged ones.
    pub fn damage(&self, tables: &[&str]) {
        use std::io::{Seek, SeekFrom, Write};
        let conn = rusqlite::Connection::open(self.db()).expect("open");
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).expect("checkpoint");
        let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).expect("page size");
        let mut roots = Vec::new();
        for table in tables {
            let mut stmt =
                conn.prepare("SELECT rootpage FROM sqlite_master WHERE tbl_name = ?1 AND rootpage > 0").expect("prepare");
            let found: Vec<i64> =
                stmt.query_map([table], |r| r.get(0)).expect("roots").collect::<Result<_, _>>().expect("roots");
            assert!(!found.is_empty(), "no table {table}");
            roots.extend(found);
        }
        let mut file = std::fs::OpenOptions::new().write(true).open(self.db()).expect("open the file");
        for root in roots {
            file.seek(SeekFrom::Start(((root - 1) * page) as u64)).expect("seek");
            file.write_all(&vec![0xAB; page as usize]).expect("write garbage");
        }
        file.sync_all().expect("sync");
        conn.execute_batch("CREATE TABLE touched(x); DROP TABLE touched;").expect("a change by another connection");
    }

    pub fn head_seq(&self) -> i64 {
        let conn = rusqlite::Connection::open(self.db()).expect("open");
        conn.query_row("SELECT coalesce(max(seq), 0) FROM audit_events", [], |r| r.get(0)).expect("head")
    }
}
