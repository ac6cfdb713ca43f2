//! The case queue: my open cases, all cases awaiting approval, recently closed; filtered as the
//! rep types, with each case's age.

use crate::desk::{CaseId, CaseSummary};
use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, Key, ScreenId, command};
use crate::tui::screens::View;
use crate::tui::theme::Theme;
use crate::tui::widgets::table::{first_shown, fixed, mark};
use crate::tui::widgets::text_field::input_box;
use crate::tui::widgets::notice::notice;
use crate::tui::widgets::text::{fit, one_line, pop_grapheme};
use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

/// The three lists of the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueList {
    Mine,
    Awaiting,
    Closed,
}

impl QueueList {
    const ALL: [QueueList; 3] = [QueueList::Mine, QueueList::Awaiting, QueueList::Closed];

    pub fn title(self) -> &'static str {
        match self {
            QueueList::Mine => "My open cases",
            QueueList::Awaiting => "All awaiting approval",
            QueueList::Closed => "Recently closed",
        }
    }
}

/// The queue's lists as loaded, the filter and the selection.
#[derive(Debug)]
pub struct CaseQueue {
    pub list: QueueList,
    pub mine: Vec<CaseSummary>,
    pub awaiting: Vec<CaseSummary>,
    pub closed: Vec<CaseSummary>,
    pub filter: String,
    pub selected: usize,
    /// When the lists were loaded (ages are counted from here; drawing never reads a clock).
    pub loaded_at: DateTime<Utc>,
    /// Why the lists could not be read again: shown instead of them (never as "no cases").
    pub failed: Option<String>,
}

/// How long ago `at` was, in its largest whole unit ("3m", "5h", "2d").
pub fn age(at: &str, now: DateTime<Utc>) -> String {
    let Some(t) = crate::desk::clock::from_db(at) else { return "?".into() };
    let minutes = (now - t).num_minutes().max(0);
    if minutes < 60 {
        format!("{minutes}m")
    } else if minutes < 48 * 60 {
        format!("{}h", minutes / 60)
    } else {
        format!("{}d", minutes / (24 * 60))
    }
}

impl CaseQueue {
    pub fn new(mine: Vec<CaseSummary>, awaiting: Vec<CaseSummary>, closed: Vec<CaseSummary>, now: DateTime<Utc>) -> Self {
        CaseQueue {
            list: QueueList::Mine,
            mine,
            awaiting,
            closed,
            filter: String::new(),
            selected: 0,
            loaded_at: now,
            failed: None,
        }
    }

    /// The lists could not be read: the old ones go (a case in them may have changed) and the
    /// queue says why.
    pub fn set_failed(&mut self, why: String) {
        self.mine.clear();
        self.awaiting.clear();
        self.closed.clear();
        self.selected = 0;
        self.failed = Some(why);
    }

    /// The cases of the current list that match the filter (case id, names, ids, status, channel,
    /// opening rep; case and accents as typed, compared folded).
    pub fn visible(&self) -> Vec<&CaseSummary> {
        let all = match self.list {
            QueueList::Mine => &self.mine,
            QueueList::Awaiting => &self.awaiting,
            QueueList::Closed => &self.closed,
        };
        let needle = crate::desk::text::fold(self.filter.trim());
        all.iter()
            .filter(|c| {
                if needle.is_empty() {
                    return true;
                }
                let hay = crate::desk::text::fold(&format!(
                    "{} {} {} {} {} {} {}",
                    c.id,
                    c.caller.name,
                    c.caller.id,
                    c.request_label(),
                    c.status.label(),
                    c.channel.as_str(),
                    c.opened_by
                ));
                hay.contains(&needle)
            })
            .collect()
    }
}

impl View for CaseQueue {
    fn id(&self) -> ScreenId {
        ScreenId::Cases
    }

    fn paste(&mut self, text: &str) -> Option<Action> {
        self.filter.push_str(&one_line(text));
        self.selected = 0;
        None
    }

    fn handle_key(&mut self, key: Key) -> Option<Action> {
        if let Key::Char(c) = key {
            self.filter.push(c);
            self.selected = 0;
            return None;
        }
        let last = self.visible().len().saturating_sub(1);
        match command(ScreenId::Cases, key)? {
            Cmd::NextList => {
                let i = QueueList::ALL.iter().position(|l| *l == self.list).unwrap_or(0);
                self.list = QueueList::ALL[(i + 1) % QueueList::ALL.len()];
                self.selected = 0;
            }
            Cmd::Up => self.selected = self.selected.saturating_sub(1),
            Cmd::Down => self.selected = (self.selected + 1).min(last),
            Cmd::Erase => {
                pop_grapheme(&mut self.filter);
                self.selected = 0;
            }
            Cmd::Submit => {
                let id: CaseId = self.visible().get(self.selected)?.id;
                return Some(Action::ViewCase(id));
            }
            Cmd::Back => return Some(Action::Back),
            _ => {}
        }
        None
    }

    fn render(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
        let [tabs, input, table] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(3), Constraint::Min(1)]).areas(area);
        let mut spans = Vec::new();
        for l in QueueList::ALL {
            let count = match l {
                _ if self.failed.is_some() => "?".to_string(),
                QueueList::Mine => self.mine.len().to_string(),
                QueueList::Awaiting => self.awaiting.len().to_string(),
                QueueList::Closed => self.closed.len().to_string(),
            };
            let text = format!(" {} ({count}) ", l.title());
            spans.push(if l == self.list { Span::styled(format!("▸{text}"), theme.selected()) } else { Span::styled(format!(" {text}"), theme.dim()) });
        }
        f.render_widget(Paragraph::new(Line::from(spans)), tabs);
        input_box(f, input, "Filter", &self.filter, theme);

        if let Some(why) = &self.failed {
            notice(f, table, &format!("The case lists could not be read: {why}"), "", theme.error());
            return;
        }
        let cases = self.visible();
        if cases.is_empty() {
            let msg = if self.filter.trim().is_empty() {
                format!("No cases in “{}”.", self.list.title())
            } else {
                format!("No case in “{}” matches “{}”.", self.list.title(), fit(&self.filter, 30))
            };
            f.render_widget(Paragraph::new(Line::styled(msg, theme.dim())), table);
            return;
        }
        let total = table.width as usize;
        let (id_w, status_w, age_w, rep_w) = (6, 20, 5, 8);
        let rest = total.saturating_sub(id_w + status_w + age_w + rep_w + 5);
        let caller_w = rest * 45 / 100;
        let request_w = rest - caller_w;
        let header = Row::new(["Case", "Status", "Age", "Caller", "Request", "Rep"]).style(theme.title());
        let rows: Vec<Row> = cases
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let status = match c.outcome {
                    Some(o) => format!("closed: {}", o.as_str()),
                    None => c.status.label().to_string(),
                };
                let row = Row::new([
                    Cell::from(format!("#{}", c.id)),
                    Cell::from(fit(&status, status_w)),
                    Cell::from(age(c.closed_at.as_deref().unwrap_or(&c.opened_at), self.loaded_at)),
                    Cell::from(fit(&c.caller.name, caller_w)),
                    Cell::from(fit(&c.request_label(), request_w)),
                    Cell::from(fit(&c.opened_by, rep_w)),
                ]);
                mark(row, i == self.selected, theme)
            })
            .collect();
        let widths = fixed([id_w, status_w, age_w, caller_w, request_w, rep_w]);
        let visible = table.height.saturating_sub(1) as usize;
        let skip = first_shown(self.selected, visible);
        let rows: Vec<Row> = rows.into_iter().skip(skip).collect();
        f.render_widget(Table::new(rows, widths).header(header).column_spacing(1), table);
    }
}
