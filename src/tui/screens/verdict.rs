//! The verdict: a word, a symbol and a colour (never colour alone), the policy row that decided
//! it, and the next step as a sentence the rep can say.

use crate::desk::{Verdict, VerdictShown};
use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, Key, ScreenId, command};
use crate::tui::screens::View;
use crate::tui::theme::{Theme, verdict_symbol};
use crate::tui::widgets::text::fit;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

/// A verdict on screen.
#[derive(Debug)]
pub struct VerdictView {
    pub shown: VerdictShown,
    /// "Own account", "On behalf of Dr. Ada Okafor (P-1001)", "Account unlock".
    pub request: String,
    pub caller_name: String,
    /// For an unlock: what happened to the account.
    pub outcome: Option<String>,
}

impl View for VerdictView {
    fn id(&self) -> ScreenId {
        ScreenId::Verdict
    }

    fn handle_key(&mut self, key: Key) -> Option<Action> {
        Some(match command(ScreenId::Verdict, key)? {
            Cmd::Back => Action::Back,
            Cmd::NewCall => Action::NewCall,
            _ => return None,
        })
    }

    fn render(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
        let [who, banner, body] =
            Layout::vertical([Constraint::Length(2), Constraint::Length(5), Constraint::Min(1)]).areas(area);
        let width = area.width as usize;
        f.render_widget(
            Paragraph::new(vec![
                Line::from(vec![Span::styled(" Caller:  ", theme.dim()), Span::raw(fit(&self.caller_name, width - 11))]),
                Line::from(vec![Span::styled(" Request: ", theme.dim()), Span::raw(fit(&self.request, width - 11))]),
            ]),
            who,
        );
        let verdict = &self.shown.decision.verdict;
        let style = theme.verdict(verdict);
        let mut banner_lines = vec![
            Line::raw(""),
            Line::styled(format!("  {}  {}", verdict_symbol(verdict), verdict.headline().to_uppercase()), style),
        ];
        if let Verdict::NeedsApproval { approver } = verdict {
            banner_lines.push(Line::styled(
                fit(&format!("  Approver: {} ({})", approver.name, approver.id), width.saturating_sub(2)),
                style,
            ));
        }
        let block = Block::bordered().border_style(style);
        f.render_widget(Paragraph::new(banner_lines).style(style).block(block), banner);
        let mut rows: Vec<(&str, String, ratatui::style::Style)> = vec![
            ("Rule", self.shown.policy_row.clone(), ratatui::style::Style::new()),
            ("Next step", format!("“{}”", self.shown.next_step), theme.title()),
        ];
        if let Some(outcome) = &self.outcome {
            rows.push(("Account", outcome.clone(), theme.good()));
        }
        rows.push((
            "Recorded",
            format!("audit event #{} under policy version {}", self.shown.audit_seq, self.shown.policy_version),
            theme.dim(),
        ));
        let label_w = 12u16;
        let text_w = body.width.saturating_sub(label_w).max(1);
        let mut y = body.y + 1;
        for (label, text, style) in rows {
            let para = Paragraph::new(Line::styled(text, style)).wrap(Wrap { trim: true });
            let height = (para.line_count(text_w) as u16).max(1);
            if y >= body.bottom() {
                break;
            }
            let h = height.min(body.bottom() - y);
            f.render_widget(Paragraph::new(Line::styled(format!(" {label}"), theme.dim())), Rect { x: body.x, y, width: label_w.min(body.width), height: 1 });
            f.render_widget(para, Rect { x: body.x + label_w.min(body.width), y, width: text_w, height: h });
            y += h + 1;
        }
    }
}
