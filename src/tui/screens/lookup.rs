//! Finding an account as the rep types: for the caller, or for the account the caller asks about.

use crate::desk::{AccountSummary, Role};
use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, Key, ScreenId, command};
use crate::tui::screens::View;
use crate::tui::theme::Theme;
use crate::tui::widgets::table::{first_shown, fixed, mark};
use crate::tui::widgets::text_field::input_box;
use crate::tui::widgets::notice::notice;
use crate::tui::widgets::text::{fit, one_line, pop_grapheme, width};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

/// How many results a lookup shows.
pub const RESULT_LIMIT: usize = 50;

/// A search box with its results.
#[derive(Debug)]
pub struct Lookup {
    pub screen: ScreenId,
    pub query: String,
    pub results: Vec<AccountSummary>,
    pub selected: usize,
    /// For the target lookup: who is asking.
    pub caller_name: Option<String>,
    /// For the target lookup: Enter opens a case for the request instead of showing a verdict.
    pub for_case: bool,
    /// Why the last lookup failed: shown instead of results (never as "no account matches").
    pub failed: Option<String>,
    /// The text changed since the results shown were found (their lookup is still running on the
    /// search thread): Enter must not open one of them.
    pub stale: bool,
}

impl Lookup {
    pub fn new(screen: ScreenId) -> Lookup {
        Lookup {
            screen,
            query: String::new(),
            results: Vec::new(),
            selected: 0,
            caller_name: None,
            for_case: false,
            failed: None,
            stale: false,
        }
    }

    /// Replaces the results (after a search) and keeps the selection in range.
    pub fn set_results(&mut self, results: Vec<AccountSummary>) {
        self.results = results;
        self.selected = 0;
        self.failed = None;
        self.stale = false;
    }

    /// The lookup failed: the earlier results go (none of them may be chosen as if they answered
    /// this query) and the screen says why instead of "no account matches".
    pub fn set_failed(&mut self, why: String) {
        self.results.clear();
        self.selected = 0;
        self.failed = Some(why);
        self.stale = false;
    }

    /// The text changed: look it up again.
    fn changed(&mut self) -> Option<Action> {
        self.stale = true;
        Some(Action::Search(self.query.clone()))
    }

    /// What Enter does with the selected result.
    pub fn choose(&self) -> Option<Action> {
        let chosen = self.results.get(self.selected)?;
        let request = crate::desk::Request::OnBehalfOf(chosen.id.clone());
        Some(match self.screen {
            ScreenId::TargetLookup if self.for_case => Action::OpenCase(request),
            ScreenId::TargetLookup => Action::Decide(request),
            _ => Action::OpenCard(chosen.id.clone()),
        })
    }
}

impl View for Lookup {
    fn id(&self) -> ScreenId {
        self.screen
    }

    fn paste(&mut self, text: &str) -> Option<Action> {
        self.query.push_str(&one_line(text));
        self.changed()
    }

    fn handle_key(&mut self, key: Key) -> Option<Action> {
        if let Key::Char(c) = key {
            self.query.push(c);
            return self.changed();
        }
        let last = self.results.len().saturating_sub(1);
        match command(self.screen, key)? {
            Cmd::Up => self.selected = self.selected.saturating_sub(1),
            Cmd::Down => self.selected = (self.selected + 1).min(last),
            Cmd::PageUp => self.selected = self.selected.saturating_sub(10),
            Cmd::PageDown => self.selected = (self.selected + 10).min(last),
            Cmd::Erase => {
                pop_grapheme(&mut self.query);
                return self.changed();
            }
            Cmd::ClearField => {
                self.query.clear();
                return self.changed();
            }
            // Keys typed faster than the lookup answers (a burst over SSH): the results shown
            // answer an older text, so the app looks the text in the box up first.
            Cmd::Submit if self.stale => return Some(Action::SubmitLookup),
            Cmd::Submit => return self.choose(),
            Cmd::Back => return Some(Action::Back),
            Cmd::SignOut => return Some(Action::SignOut),
            Cmd::Cases => return Some(Action::ShowCases),
            Cmd::OpenReview => return Some(Action::OpenReview),
            _ => {}
        }
        None
    }

    fn render(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
        let [intro, input, table] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(3), Constraint::Min(1)]).areas(area);
        let intro_text = match &self.caller_name {
            Some(name) => format!("Caller: {}. Which account do they ask about?", fit(name, 40)),
            None => "Type a name, email, phone, account id or practice.".to_string(),
        };
        f.render_widget(Paragraph::new(Line::styled(fit(&intro_text, area.width as usize), theme.dim())), intro);
        input_box(f, input, "Search", &self.query, theme);

        if let Some(why) = &self.failed {
            notice(f, table, &format!("The lookup failed: {why}"), "", theme.error());
            return;
        }
        if self.results.is_empty() {
            let msg = if self.query.trim().is_empty() {
                String::new()
            } else {
                format!("No account matches “{}”.", fit(&self.query, 40))
            };
            f.render_widget(Paragraph::new(Line::styled(msg, theme.dim())), table);
            return;
        }
        let total = table.width as usize;
        let role_w = 8;
        let status_w = 14;
        let id_w = self.results.iter().map(|a| width(a.id.as_str())).max().unwrap_or(6).clamp(6, 12);
        let rest = total.saturating_sub(role_w + status_w + id_w + 4);
        let name_w = rest * 55 / 100;
        let practice_w = rest - name_w;
        let header = Row::new(["Name", "Id", "Role", "Practice", "Status"]).style(theme.title());
        let rows = self.results.iter().enumerate().map(|(i, a)| {
            let status = if !a.active {
                "inactive"
            } else if a.account_locked {
                "account locked"
            } else if a.pin_locked {
                "PIN locked"
            } else {
                "active"
            };
            let role = match a.role {
                Role::Provider => "Provider",
                Role::Staff => "Staff",
            };
            let row = Row::new([
                Cell::from(fit(&a.name, name_w)),
                Cell::from(fit(a.id.as_str(), id_w)),
                Cell::from(role),
                Cell::from(fit(&a.practice, practice_w)),
                Cell::from(status),
            ]);
            mark(row, i == self.selected, theme)
        });
        let widths = fixed([name_w, id_w, role_w, practice_w, status_w]);
        // A full list may not be all: say so on its last line.
        let mut table = table;
        if self.results.len() >= RESULT_LIMIT && table.height > 2 {
            let last = Rect { y: table.y + table.height - 1, height: 1, ..table };
            let note = format!("The first {RESULT_LIMIT} matches; type more to narrow them.");
            f.render_widget(Paragraph::new(Line::styled(fit(&note, total), theme.dim())), last);
            table.height -= 1;
        }
        // Keep the selected row in view without mutating state: skip rows above it.
        let visible = table.height.saturating_sub(1) as usize;
        let skip = first_shown(self.selected, visible);
        let rows: Vec<Row> = rows.skip(skip).collect();
        f.render_widget(Table::new(rows, widths).header(header).column_spacing(1), table);
    }
}
