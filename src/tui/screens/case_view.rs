//! One case: who asked for what, who must approve and how, the verification in this case, the
//! approvals, and the timeline (every audit event of the case, in order, with rep and time).

use crate::desk::{CaseDetail, CaseStatus};
use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, Key, ScreenId, command};
use crate::tui::screens::View;
use crate::tui::theme::Theme;
use crate::tui::widgets::table::fixed;
use crate::tui::widgets::notice::notice;
use crate::tui::widgets::text::fit;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

/// The case on screen.
#[derive(Debug)]
pub struct CaseView {
    pub detail: CaseDetail,
    /// How many timeline rows are scrolled off the top.
    pub scroll: usize,
    /// Why the case could not be read again after a change: said instead of the old timeline.
    pub failed: Option<String>,
    /// When the case was read, as stored (an approval whose end is before this has run out;
    /// drawing never reads a clock).
    pub read_at: String,
}

/// "09:32" for an audit timestamp, in local time; the date too when it is not `today`.
fn when(at: &str, today: Option<chrono::NaiveDate>) -> String {
    match crate::desk::clock::from_db(at) {
        Some(t) => {
            let local = t.with_timezone(&chrono::Local);
            if Some(local.date_naive()) == today { local.format("%H:%M").to_string() } else { local.format("%m-%d %H:%M").to_string() }
        }
        None => at.to_string(),
    }
}

impl CaseView {
    pub fn new(detail: CaseDetail, now: chrono::DateTime<chrono::Utc>) -> CaseView {
        // Start at the end of the timeline: the newest events are what the rep just did.
        let scroll = detail.timeline.len();
        CaseView { detail, scroll, failed: None, read_at: crate::desk::clock::to_db(now) }
    }

    /// "Case #3: Carla Mendes, on behalf of Dr. Ada Okafor (P-1001)"
    pub fn title(&self) -> String {
        let s = &self.detail.summary;
        format!("Case #{}: {}, {}", s.id, s.caller.name, s.request_label())
    }
}

impl View for CaseView {
    fn id(&self) -> ScreenId {
        ScreenId::Case
    }

    fn handle_key(&mut self, key: Key) -> Option<Action> {
        Some(match command(ScreenId::Case, key)? {
            Cmd::CheckPin => Action::StartCasePin { approver: false },
            Cmd::CheckApproverPin => Action::StartCasePin { approver: true },
            Cmd::CaseVerdict => Action::CaseVerdict,
            Cmd::Unlock => Action::StartCaseUnlock,
            Cmd::RecordReply => Action::StartReply,
            Cmd::AddNote => Action::StartNote,
            Cmd::NewCall => Action::NewCall,
            Cmd::MarkAwaiting => Action::MarkAwaiting,
            Cmd::CloseCase => Action::StartClose,
            Cmd::Up => {
                self.scroll = self.scroll.saturating_sub(1);
                return None;
            }
            Cmd::Down => {
                self.scroll = (self.scroll + 1).min(self.detail.timeline.len());
                return None;
            }
            Cmd::Back => Action::Back,
            _ => return None,
        })
    }

    fn render(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
        let d = &self.detail;
        let s = &d.summary;
        let w = area.width.saturating_sub(2) as usize;
        let plain = ratatui::style::Style::new();
        let row = |label: &str, value: String, style| {
            Line::from(vec![Span::styled(format!(" {label:<13}"), theme.dim()), Span::styled(fit(&value, w.saturating_sub(14)), style)])
        };
        let status = match s.outcome {
            Some(o) => format!("closed: {}", o.as_str()),
            None => s.status.label().to_string(),
        };
        let status_style = match s.status {
            CaseStatus::Approved => theme.good(),
            CaseStatus::AwaitingApproval => theme.warn(),
            _ => plain,
        };
        let mut lines = vec![
            row("Status", format!("{status} · {} · opened {} by {}", s.channel.as_str(), s.opened_at.get(..16).unwrap_or(&s.opened_at).replace('T', " "), s.opened_by), status_style),
            row("Caller", format!("{} ({})", s.caller.name, s.caller.id), theme.title()),
            row("Request", s.request_label(), plain),
        ];
        let v = &d.verification;
        let unlock = s.as_request() == crate::desk::Request::Unlock;
        let verified = if unlock && s.outcome.is_none() {
            ("not needed for an unlock: note how the caller was identified, then unlock (u)".to_string(), plain)
        } else if unlock {
            ("not needed for an unlock".to_string(), plain)
        } else if v.ended {
            (format!("ended after {} failed checks in this case", v.failures), theme.error())
        } else if v.counts {
            ("✔ Support PIN matched in this case".to_string(), theme.good())
        } else if v.matched_at.is_some() {
            ("no longer: the match is older than the idle timeout (p)".to_string(), theme.warn())
        } else if v.failures > 0 {
            (format!("not yet ({} of {} failed checks used) (p)", v.failures, v.limit), theme.warn())
        } else {
            ("not yet: check the caller's Support PIN (p)".to_string(), plain)
        };
        lines.push(row("Verified", verified.0, verified.1));
        if let Some(a) = &d.approver {
            let current = d.approvals.iter().rev().find(|x| x.provider.id == a.id && !x.expired);
            let until = |x: &crate::desk::Approval| x.expires_at.get(..16).unwrap_or(&x.expires_at).replace('T', " ");
            match current {
                // Its end has passed but no verdict has recorded that yet: it no longer counts.
                Some(x) if x.expires_at <= self.read_at => lines.push(row(
                    "Approval",
                    format!("✖ {}'s approval ran out at {}: v records it; a new approval is needed", x.provider.name, until(x)),
                    theme.error(),
                )),
                Some(x) => lines.push(row(
                    "Approval",
                    format!("✔ {} by {}, until {}", x.provider.name, x.method.label(), until(x)),
                    theme.good(),
                )),
                None => {
                    lines.push(row("Approver", format!("{} ({}) must approve", a.name, a.id), theme.warn()));
                    let call_in = if d.approver_failures >= d.verification.limit {
                        format!("i: closed after {} failed PINs", d.approver_failures)
                    } else {
                        "i: they call in with their own PIN".to_string()
                    };
                    lines.push(row(
                        "Two ways",
                        format!("r: their reply from {} · {call_in}", d.approver_email.as_deref().unwrap_or("?")),
                        plain,
                    ));
                }
            }
        }
        if d.touched_by.len() > 1 {
            lines.push(row("Reps", d.touched_by.join(", "), plain));
        }
        let head_h = lines.len() as u16 + 2;
        let [head, timeline] = Layout::vertical([Constraint::Length(head_h), Constraint::Min(3)]).areas(area);
        let block = Block::bordered().title(Span::styled(format!(" Case #{} ", s.id), theme.title()));
        f.render_widget(Paragraph::new(lines).block(block), head);

        if let Some(why) = &self.failed {
            let block = Block::bordered().title(" Timeline ");
            let inner = block.inner(timeline);
            f.render_widget(block, timeline);
            let text = format!("The case could not be read again: {why}. What shows above may be out of date.");
            notice(f, inner, &text, " ", theme.error());
            return;
        }
        let n = d.timeline.len();
        let block = Block::bordered().title(format!(" Timeline ({n} event{}) ", if n == 1 { "" } else { "s" }));
        let inner = block.inner(timeline);
        f.render_widget(block, timeline);
        let today = crate::desk::clock::from_db(&s.opened_at).map(|t| t.with_timezone(&chrono::Local).date_naive());
        let visible = inner.height.saturating_sub(1) as usize;
        // Show the rows ending at `scroll`, keeping the window full.
        let end = self.scroll.clamp(visible.min(d.timeline.len()), d.timeline.len());
        let start = end.saturating_sub(visible);
        let (seq_w, at_w, rep_w, kind_w) = (6, 11, 8, 18);
        let detail_w = (inner.width as usize).saturating_sub(seq_w + at_w + rep_w + kind_w + 4);
        let rows: Vec<Row> = d.timeline[start..end]
            .iter()
            .map(|e| {
                let text = match (&e.outcome[..], &e.detail) {
                    ("ok", Some(dt)) => dt.clone(),
                    (o, Some(dt)) => format!("{o}: {dt}"),
                    (o, None) => o.to_string(),
                };
                let style = if matches!(&e.outcome[..], "fail" | "refused" | "locked" | "expired") { theme.warn() } else { plain };
                Row::new([
                    Cell::from(format!("#{}", e.seq)),
                    Cell::from(when(&e.at, today)),
                    Cell::from(fit(e.rep.as_deref().unwrap_or(""), rep_w)),
                    Cell::from(fit(&e.kind, kind_w)),
                    Cell::from(fit(&text, detail_w)),
                ])
                .style(style)
            })
            .collect();
        let widths = fixed([seq_w, at_w, rep_w, kind_w, detail_w]);
        let header = Row::new(["Seq", "Time", "Rep", "Event", "What"]).style(theme.title());
        f.render_widget(Table::new(rows, widths).header(header).column_spacing(1), inner);
    }
}
