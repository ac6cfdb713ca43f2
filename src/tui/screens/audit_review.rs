//! The team lead's audit review: the event list with its filters always visible, a detail pane,
//! the pattern views, the failure chart and the chain status. The core refuses a rep; this screen
//! only holds what the app fetched for it.

use crate::desk::audit::{AuditEvent, ChainStatus, EventKind, short_hash};
use crate::desk::review::{
    BucketSize, EventDetail, EventView, FailureChart, FailureSpread, ReviewFilter, SPREAD_ROWS, TimeRange,
};
use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, Key, ScreenId, command};
use crate::tui::screens::View;
use crate::tui::theme::Theme;
use crate::tui::widgets::table::{first_shown, fixed, mark, shrink};
use crate::tui::widgets::notice::notice;
use crate::tui::widgets::text::{fit, one_line, pop_grapheme, width};
use chrono::FixedOffset;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, Block, Cell, Paragraph, Row, Table, Wrap};

/// How many events one fetch brings.
pub const PAGE: usize = 100;

/// What the screen shows under the filter line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewView {
    Events(EventView),
    AccountsAcrossReps,
    RepsAcrossAccounts,
    Chart,
}

impl ReviewView {
    /// The views in the order Tab visits them.
    pub const ALL: [ReviewView; 9] = [
        ReviewView::Events(EventView::All),
        ReviewView::Events(EventView::FailedPinChecks),
        ReviewView::Chart,
        ReviewView::Events(EventView::Unlocks),
        ReviewView::Events(EventView::Approvals),
        ReviewView::Events(EventView::SignInFailures),
        ReviewView::AccountsAcrossReps,
        ReviewView::RepsAcrossAccounts,
        ReviewView::Events(EventView::VerdictsWithoutPin),
    ];

    /// The view's name.
    pub fn title(self) -> &'static str {
        match self {
            ReviewView::Events(v) => v.title(),
            ReviewView::AccountsAcrossReps => "Accounts failing across reps",
            ReviewView::RepsAcrossAccounts => "Reps failing across accounts",
            ReviewView::Chart => "Chart of failed PIN checks",
        }
    }
}

/// A one-line field the lead is typing into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prompt {
    Rep,
    Account,
    Case,
    Custom,
    Note,
}

impl Prompt {
    fn label(self) -> &'static str {
        match self {
            Prompt::Rep => "Rep (username)",
            Prompt::Account => "Account (name or id)",
            Prompt::Case => "Case number",
            Prompt::Custom => "Range: SINCE..UNTIL (2031-06-01..2031-06-08, 7d.., ..2031-06-01 12:00)",
            Prompt::Note => "Review note (what you looked at and found); Enter records",
        }
    }
}

/// The review screen's state.
#[derive(Debug)]
pub struct AuditReview {
    pub filter: ReviewFilter,
    pub view: ReviewView,
    pub events: Vec<AuditEvent>,
    pub more: bool,
    pub spreads: Vec<FailureSpread>,
    pub chart: Option<FailureChart>,
    pub selected: usize,
    pub detail: Option<EventDetail>,
    /// `None` while the chain is being verified; with how many recorded heads were checked.
    pub chain: Option<(ChainStatus, usize)>,
    pub prompt: Option<(Prompt, String)>,
    /// The viewer's time zone (times are stored in UTC).
    pub offset: FixedOffset,
    /// Why the view could not be loaded: shown instead of it (never as "no events match").
    pub failed: Option<String>,
}

impl AuditReview {
    pub fn new(offset: FixedOffset) -> AuditReview {
        AuditReview {
            filter: ReviewFilter::default(),
            view: ReviewView::Events(EventView::All),
            events: Vec::new(),
            more: false,
            spreads: Vec::new(),
            chart: None,
            selected: 0,
            detail: None,
            chain: None,
            prompt: None,
            offset,
            failed: None,
        }
    }

    /// New results for the current view (selection back to the top).
    pub fn set_events(&mut self, events: Vec<AuditEvent>, more: bool) {
        self.events = events;
        self.more = more;
        self.selected = 0;
        self.detail = None;
        self.failed = None;
    }

    /// New rows for a pattern view (selection back to the top).
    pub fn set_spreads(&mut self, spreads: Vec<FailureSpread>) {
        self.spreads = spreads;
        self.selected = 0;
        self.failed = None;
    }

    /// The review note or the custom range the core refused, back in its prompt to be corrected
    /// (never thrown away with the refusal).
    pub fn reopen_prompt(&mut self, note: bool, text: String) {
        self.prompt = Some((if note { Prompt::Note } else { Prompt::Custom }, text));
    }

    /// A new chart.
    pub fn set_chart(&mut self, chart: FailureChart) {
        self.chart = Some(chart);
        self.failed = None;
    }

    /// The view could not be loaded: what was shown goes (it answered other filters) and the
    /// screen says why.
    pub fn set_failed(&mut self, why: String) {
        self.events.clear();
        self.more = false;
        self.spreads.clear();
        self.chart = None;
        self.selected = 0;
        self.failed = Some(why);
    }

    /// An older page, appended.
    pub fn append_events(&mut self, events: Vec<AuditEvent>, more: bool) {
        self.events.extend(events);
        self.more = more;
    }

    fn rows(&self) -> usize {
        match self.view {
            ReviewView::Events(_) => self.events.len(),
            ReviewView::AccountsAcrossReps | ReviewView::RepsAcrossAccounts => self.spreads.len(),
            ReviewView::Chart => 0,
        }
    }

    /// Puts a live prompt's text into the filter and asks for a refresh.
    fn apply_prompt(&mut self) -> Action {
        if let Some((kind, value)) = &self.prompt {
            let text = value.trim();
            let some = (!text.is_empty()).then(|| text.to_string());
            match kind {
                Prompt::Rep => self.filter.rep = some,
                Prompt::Account => self.filter.account = some,
                Prompt::Case => self.filter.case_id = text.parse().ok(),
                Prompt::Custom | Prompt::Note => {}
            }
        }
        Action::RefreshReview
    }

    fn handle_prompt(&mut self, key: Key) -> Option<Action> {
        let (kind, value) = self.prompt.as_mut()?;
        let kind = *kind;
        match key {
            Key::Char(c) => {
                if kind == Prompt::Case && !c.is_ascii_digit() {
                    return None;
                }
                value.push(c);
            }
            Key::Backspace => pop_grapheme(value),
            Key::Esc => {
                // Cancels the field: a filter being typed is removed, a note is dropped.
                value.clear();
                let action = self.apply_prompt();
                self.prompt = None;
                return matches!(kind, Prompt::Rep | Prompt::Account | Prompt::Case).then_some(action);
            }
            Key::Enter => {
                let text = value.clone();
                self.prompt = None;
                return match kind {
                    Prompt::Note => Some(Action::RecordReview(text)),
                    Prompt::Custom => Some(Action::SetReviewRange(text)),
                    _ => None,
                };
            }
            _ => return None,
        }
        match kind {
            Prompt::Rep | Prompt::Account | Prompt::Case => Some(self.apply_prompt()),
            Prompt::Custom | Prompt::Note => None,
        }
    }

    /// Keys while one event is shown in full (`ScreenId::AuditEvent`): closing it goes back to
    /// the list as it was.
    fn handle_detail_key(&mut self, key: Key) -> Option<Action> {
        match command(ScreenId::AuditEvent, key)? {
            Cmd::OpenEventCase => Some(Action::OpenEventCase),
            Cmd::Back => {
                self.detail = None;
                None
            }
            _ => None,
        }
    }

    /// The case of the event shown in full, if it belongs to one.
    pub fn detail_case(&self) -> Option<i64> {
        self.detail.as_ref().and_then(|d| d.event.case_id)
    }

    fn local(&self, at: &str) -> String {
        crate::desk::clock::from_db(at)
            .map(|t| t.with_timezone(&self.offset).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| at.to_string())
    }

    /// "12-02 22:12": the local time without the year, for narrow windows.
    fn local_short(&self, at: &str) -> String {
        crate::desk::clock::from_db(at)
            .map(|t| t.with_timezone(&self.offset).format("%m-%d %H:%M").to_string())
            .unwrap_or_else(|| at.to_string())
    }

    fn zone(&self) -> String {
        let secs = self.offset.local_minus_utc();
        if secs == 0 { "UTC".into() } else { format!("UTC{}", self.offset) }
    }

    /// The filter lines: the view, every active filter (wrapped onto more lines rather than cut,
    /// so none is ever hidden), and the field being typed, if any.
    fn filter_lines(&self, w: usize, theme: Theme) -> Vec<Line<'static>> {
        let mut lines = vec![Line::from(vec![
            Span::styled(fit(&format!("View: {} ", self.view.title()), w), theme.title()),
            Span::styled(fit(&format!("(Tab next · times in {})", self.zone()), w.saturating_sub(width(self.view.title()) + 7)), theme.dim()),
        ])];
        const LABEL: &str = "Filters: ";
        let room = w.saturating_sub(LABEL.len());
        let active = self.filter.describe(self.offset);
        let mut rows: Vec<String> = Vec::new();
        if active.is_empty() {
            rows.push(fit("none (x clears, t time, r rep, a account, k kind, f failures)", room));
        }
        for item in active {
            let item = fit(&item, room);
            match rows.last_mut() {
                Some(row) if width(row) + 3 + width(&item) <= room => {
                    row.push_str(" · ");
                    row.push_str(&item);
                }
                _ => rows.push(item),
            }
        }
        for (i, row) in rows.into_iter().enumerate() {
            let label = if i == 0 { Span::styled(LABEL, theme.key()) } else { Span::raw(" ".repeat(LABEL.len())) };
            lines.push(Line::from(vec![label, Span::raw(row)]));
        }
        if let Some((kind, value)) = &self.prompt {
            let label = fit(&format!("{}: ", kind.label()), w.saturating_sub(2));
            lines.push(Line::from(vec![
                Span::styled(label.clone(), theme.key()),
                Span::raw(crate::tui::widgets::text::tail(value, w.saturating_sub(width(&label) + 1))),
                Span::styled("▏", theme.focus()),
            ]));
        }
        lines
    }

    fn render_chain(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
        let w = area.width as usize;
        let (text, style) = match &self.chain {
            None => ("Chain: verifying the audit chain...".to_string(), theme.dim()),
            Some((ChainStatus::Intact { head_seq, head_hash, .. }, heads)) => (
                format!(
                    "Chain: ✔ intact up to #{head_seq} (head {}…){}",
                    short_hash(head_hash),
                    if *heads > 0 { format!(", matches {heads} recorded head(s)") } else { String::new() }
                ),
                theme.good(),
            ),
            Some((ChainStatus::Broken { first_bad_seq, problem }, _)) => {
                (format!("Chain: ✖ BROKEN at #{first_bad_seq}: {problem}"), theme.error())
            }
        };
        f.render_widget(Paragraph::new(Line::styled(fit(&text, w), style)), area);
    }

    fn render_events(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
        if self.events.is_empty() {
            notice(f, area, "No events match. x clears the filters; t changes the time range.", "", theme.dim());
            return;
        }
        // Narrow windows: a shorter time, and the rep, event and account columns give way before
        // the outcome (each cut with "…").
        let total = (area.width as usize).saturating_sub(5);
        let short_time = total < 16 + 8 + 17 + 9 + 5 + 12;
        let time_w = if short_time { 11 } else { 16 };
        let [time_w, rep_w, kind_w, acct_w, case_w, outcome_w] =
            shrink(total, &[(time_w, time_w), (5, 8), (10, 17), (6, 9), (4, 5), (12, 12)])[..]
        else {
            return;
        };
        let head = |t: &str, w: usize| Cell::from(fit(t, w));
        let header = Row::new([
            head("Time", time_w),
            head("Rep", rep_w),
            head("Event", kind_w),
            head("Account", acct_w),
            head("Case", case_w),
            head("Outcome", outcome_w),
        ])
        .style(theme.title());
        let visible = area.height.saturating_sub(1) as usize;
        let skip = first_shown(self.selected, visible);
        let rows: Vec<Row> = self
            .events
            .iter()
            .enumerate()
            .skip(skip)
            .take(visible)
            .map(|(i, e)| {
                let failed = !matches!(e.outcome.as_str(), "ok" | "assist");
                let outcome = match &e.reason {
                    Some(r) if failed => format!("{} ({r})", e.outcome),
                    _ => e.outcome.clone(),
                };
                let at = if short_time { self.local_short(&e.at) } else { self.local(&e.at) };
                let row = Row::new([
                    Cell::from(fit(&at, time_w)),
                    Cell::from(fit(e.rep.as_deref().unwrap_or("-"), rep_w)),
                    Cell::from(fit(&e.kind.replace('_', " "), kind_w)),
                    Cell::from(fit(e.account_id.as_deref().unwrap_or("-"), acct_w)),
                    Cell::from(fit(&e.case_id.map(|c| format!("#{c}")).unwrap_or_else(|| "-".into()), case_w)),
                    Cell::from(Span::styled(
                        fit(&outcome, outcome_w),
                        if failed { theme.warn() } else { Style::new() },
                    )),
                ]);
                mark(row, i == self.selected, theme)
            })
            .collect();
        let widths = fixed([time_w, rep_w, kind_w, acct_w, case_w, outcome_w]);
        f.render_widget(Table::new(rows, widths).header(header).column_spacing(1), area);
    }

    fn render_spreads(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
        let accounts = self.view == ReviewView::AccountsAcrossReps;
        if self.spreads.is_empty() {
            let msg = if accounts {
                "No account has failed PIN checks by several reps in this range."
            } else {
                "No rep has failed PIN checks on many accounts in this range."
            };
            f.render_widget(Paragraph::new(Line::styled(msg, theme.dim())), area);
            return;
        }
        let total = (area.width as usize).saturating_sub(5);
        let short_time = total < 10 + 6 + 8 * 3 + 16;
        let when = if short_time { 12 } else { 16 };
        // The name column takes what is left; the others give way (cut with "…") before it
        // drops under 6.
        let [key_w, fail_w, lock_w, spread_w, when_w, name_w] =
            shrink(total, &[(7, 10), (5, 8), (5, 8), (5, 8), (when, when), (6, 6)])[..]
        else {
            return;
        };
        let titles = [
            (if accounts { "Account" } else { "Rep" }, key_w),
            ("Name", name_w),
            ("Failures", fail_w),
            ("Lockouts", lock_w),
            (if accounts { "Reps" } else { "Accounts" }, spread_w),
            ("Last failure", when_w),
        ];
        let header = Row::new(titles.map(|(t, w)| fit(t, w))).style(theme.title());
        // Only the rows that fit are drawn, scrolled so the selected one shows.
        let mut area = area;
        if self.spreads.len() >= SPREAD_ROWS && area.height > 2 {
            let note = format!("The {SPREAD_ROWS} widest shown; a shorter range or a filter shows the rest.");
            let last = Rect { y: area.y + area.height - 1, height: 1, ..area };
            f.render_widget(Paragraph::new(Line::styled(fit(&note, area.width as usize), theme.dim())), last);
            area.height -= 1;
        }
        let visible = area.height.saturating_sub(1) as usize;
        let rows: Vec<Row> = self
            .spreads
            .iter()
            .enumerate()
            .skip(first_shown(self.selected, visible))
            .take(visible)
            .map(|(i, s)| {
                let last = if short_time { self.local_short(&s.last_at) } else { self.local(&s.last_at) };
                let row = Row::new([
                    fit(&s.key, key_w),
                    fit(s.name.as_deref().unwrap_or("(not in the directory)"), name_w),
                    fit(&s.failures.to_string(), fail_w),
                    fit(&s.lockouts.to_string(), lock_w),
                    fit(&s.spread.to_string(), spread_w),
                    fit(&last, when_w),
                ]);
                mark(row, i == self.selected, theme)
            })
            .collect();
        let widths = fixed([key_w, name_w, fail_w, lock_w, spread_w, when_w]);
        f.render_widget(Table::new(rows, widths).header(header).column_spacing(1), area);
    }

    fn render_chart(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
        let Some(chart) = &self.chart else { return };
        let (failures, lockouts) = chart.totals();
        let per = match chart.size {
            BucketSize::Hour => "hour",
            BucketSize::Day => "day",
            BucketSize::Week => "week",
        };
        let [top, graph, legend] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(3), Constraint::Length(2)]).areas(area);
        let fmt = match chart.size {
            BucketSize::Hour => "%m-%d %H:00",
            _ => "%Y-%m-%d",
        };
        let span = match (chart.buckets.first(), chart.buckets.last()) {
            (Some(a), Some(b)) => format!(" from {} to {}", a.start.format(fmt), b.start.format(fmt)),
            _ => String::new(),
        };
        f.render_widget(
            Paragraph::new(Line::styled(
                fit(
                    &format!("Failed PIN checks {failures}, lockouts {lockouts} (a bar counts both), per {per}{span}"),
                    top.width as usize,
                ),
                theme.title(),
            )),
            top,
        );
        let n = chart.buckets.len().max(1);
        let avail = graph.width as usize;
        // As wide as fits; the oldest buckets give way when even one column each does not fit.
        let (bar_w, gap) = if n * 3 <= avail { (((avail / n).saturating_sub(1)).clamp(1, 4), 1) } else if n * 2 <= avail { (1, 1) } else { (1, 0) };
        let shown = (avail / (bar_w + gap)).min(n);
        let bars: Vec<Bar> = chart.buckets[n.saturating_sub(shown).min(chart.buckets.len())..]
            .iter()
            .map(|b| {
                let label = match chart.size {
                    BucketSize::Hour => b.start.format("%H").to_string(),
                    _ => b.start.format("%d").to_string(),
                };
                let total = (b.failures + b.lockouts).max(0) as u64;
                let style = if b.lockouts > 0 { theme.error() } else { theme.warn() };
                // Without colour a bar with lockouts is marked "!" on its number, so it never rests on colour alone.
                let mark = if b.lockouts > 0 && !theme.color { "!" } else { "" };
                let bar = Bar::default().value(total).style(style).text_value(if total > 0 { format!("{total}{mark}") } else { String::new() });
                if bar_w >= 2 { bar.label(Line::raw(label)) } else { bar }
            })
            .collect();
        f.render_widget(BarChart::new(bars).bar_width(bar_w as u16).bar_gap(gap as u16), graph);
        let locked: Vec<String> = chart
            .buckets
            .iter()
            .filter(|b| b.lockouts > 0)
            .map(|b| format!("{} ({})", b.start.format(fmt), b.lockouts))
            .collect();
        let words = if locked.is_empty() {
            "No lockouts in this range.".to_string()
        } else {
            let marked = if theme.color { "red bars" } else { "bars marked !" };
            format!("Lockouts ({marked}): {}", locked.join(", "))
        };
        f.render_widget(Paragraph::new(Line::raw(fit(&words, legend.width as usize * 2))).wrap(Wrap { trim: true }), legend);
    }

    fn render_detail(&self, f: &mut Frame<'_>, area: Rect, theme: Theme, d: &EventDetail) {
        let e = &d.event;
        let w = area.width.saturating_sub(22) as usize;
        let named = |a: &Option<crate::desk::review::NamedAccount>| -> String {
            match a {
                None => "-".into(),
                Some(a) => match (&a.name, &a.practice) {
                    (Some(name), Some(practice)) => format!("{name} ({}), {practice}", a.id),
                    _ => format!("{} (not in the directory)", a.id),
                },
            }
        };
        let rows: Vec<(&str, String)> = vec![
            ("Sequence", format!("#{}", e.seq)),
            ("Time", format!("{} ({}); stored {}", self.local(&e.at), self.zone(), e.at)),
            ("Rep", match (&e.rep, &d.rep_name) {
                (Some(u), Some(n)) => format!("{n} ({u})"),
                (Some(u), None) => u.clone(),
                _ => "-".into(),
            }),
            ("Event", e.kind.replace('_', " ")),
            ("Account", named(&d.account)),
            ("Other account", named(&d.other)),
            ("Case", e.case_id.map(|c| format!("#{c} (o opens its timeline)")).unwrap_or_else(|| "- (this event belongs to no case)".into())),
            ("Outcome", e.outcome.clone()),
            ("Reason", e.reason.clone().unwrap_or_else(|| "-".into())),
            ("Policy version", e.policy_version.map(|v| v.to_string()).unwrap_or_else(|| "-".into())),
            ("Detail", e.detail.clone().unwrap_or_else(|| "-".into())),
            ("Chain", format!("prev {}… hash {}…", short_hash(&e.prev_hash), short_hash(&e.hash))),
        ];
        let lines: Vec<Line> = rows
            .into_iter()
            .map(|(k, v)| Line::from(vec![Span::styled(format!(" {k:<18} "), theme.key()), Span::raw(fit(&v, w))]))
            .collect();
        let block = Block::bordered().title(Span::styled(" Audit event (Esc closes) ", theme.title()));
        f.render_widget(Paragraph::new(lines).block(block), area);
    }
}

impl View for AuditReview {
    fn id(&self) -> ScreenId {
        if self.detail.is_some() { ScreenId::AuditEvent } else { ScreenId::AuditReview }
    }

    /// True while a text field takes the keys (`?` is then a character).
    fn captures_text(&self) -> bool {
        self.prompt.is_some()
    }

    fn paste(&mut self, text: &str) -> Option<Action> {
        let (kind, value) = self.prompt.as_mut()?;
        if *kind == Prompt::Case {
            // "#5 " as the lists show a case: its digits, as typing would keep them.
            value.extend(text.chars().filter(char::is_ascii_digit));
        } else {
            value.push_str(&one_line(text));
        }
        matches!(kind, Prompt::Rep | Prompt::Account | Prompt::Case).then(|| self.apply_prompt())
    }

    fn handle_key(&mut self, key: Key) -> Option<Action> {
        if self.prompt.is_some() {
            return self.handle_prompt(key);
        }
        if self.detail.is_some() {
            return self.handle_detail_key(key);
        }
        let cmd = command(ScreenId::AuditReview, key)?;
        let last = self.rows().saturating_sub(1);
        let mut moved = false;
        match cmd {
            Cmd::Up => self.selected = self.selected.saturating_sub(1),
            Cmd::Down => {
                self.selected = (self.selected + 1).min(last);
                moved = true;
            }
            Cmd::PageUp => self.selected = self.selected.saturating_sub(10),
            Cmd::PageDown => {
                self.selected = (self.selected + 10).min(last);
                moved = true;
            }
            Cmd::NextField | Cmd::PrevField => {
                let views = ReviewView::ALL;
                let at = views.iter().position(|v| *v == self.view).unwrap_or(0);
                let next = if cmd == Cmd::NextField { (at + 1) % views.len() } else { (at + views.len() - 1) % views.len() };
                self.view = views[next];
                return Some(Action::RefreshReview);
            }
            Cmd::Submit => {
                if let ReviewView::Events(_) = self.view {
                    return self.events.get(self.selected).map(|e| Action::ShowAuditEvent(e.seq));
                }
            }
            Cmd::ReviewTime => {
                let quick = TimeRange::QUICK;
                let at = quick.iter().position(|r| *r == self.filter.range);
                self.filter.range = quick[at.map(|i| (i + 1) % quick.len()).unwrap_or(0)].clone();
                return Some(Action::RefreshReview);
            }
            Cmd::ReviewCustomTime => self.prompt = Some((Prompt::Custom, String::new())),
            Cmd::ReviewRep => self.prompt = Some((Prompt::Rep, self.filter.rep.clone().unwrap_or_default())),
            Cmd::ReviewAccount => self.prompt = Some((Prompt::Account, self.filter.account.clone().unwrap_or_default())),
            Cmd::ReviewCase => {
                self.prompt = Some((Prompt::Case, self.filter.case_id.map(|c| c.to_string()).unwrap_or_default()))
            }
            Cmd::ReviewKind => {
                let all = EventKind::ALL;
                self.filter.kind = match self.filter.kind {
                    None => all.first().copied(),
                    Some(k) => all.iter().position(|x| *x == k).and_then(|i| all.get(i + 1)).copied(),
                };
                return Some(Action::RefreshReview);
            }
            Cmd::ReviewFailures => {
                self.filter.failures_only = !self.filter.failures_only;
                return Some(Action::RefreshReview);
            }
            Cmd::ReviewClear => {
                self.filter = ReviewFilter::default();
                return Some(Action::RefreshReview);
            }
            Cmd::RecordReview => self.prompt = Some((Prompt::Note, String::new())),
            Cmd::VerifyChain => return Some(Action::VerifyChain),
            Cmd::Back => return Some(Action::Back),
            _ => {}
        }
        // Near the end of what is loaded: fetch the next (older) page.
        if moved && self.more && matches!(self.view, ReviewView::Events(_)) && self.selected + 5 >= self.events.len() {
            return self.events.last().map(|e| Action::MoreReview(e.seq));
        }
        None
    }

    fn render(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
        let filter_lines = self.filter_lines(area.width as usize, theme);
        let [filters, chain, body] = Layout::vertical([
            Constraint::Length(filter_lines.len() as u16),
            Constraint::Length(1),
            Constraint::Min(3),
        ])
        .areas(area);
        f.render_widget(Paragraph::new(filter_lines), filters);
        self.render_chain(f, chain, theme);
        if let Some(d) = &self.detail {
            return self.render_detail(f, body, theme, d);
        }
        if let Some(why) = &self.failed {
            notice(f, body, &format!("This view could not be loaded: {why}"), "", theme.error());
            return;
        }
        match self.view {
            ReviewView::Events(_) => self.render_events(f, body, theme),
            ReviewView::AccountsAcrossReps | ReviewView::RepsAcrossAccounts => self.render_spreads(f, body, theme),
            ReviewView::Chart => self.render_chart(f, body, theme),
        }
    }
}
