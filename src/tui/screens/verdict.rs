//! The verdict: a word, a symbol and a colour (never colour alone), the policy row that decided
//! it, and the next step as a sentence the rep can say.

use crate::desk::{Verdict, VerdictShown};
use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, Key, ScreenId, command};
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

impl VerdictView {
    pub fn handle_key(&mut self, key: Key) -> Option<Action> {
        Some(match command(ScreenId::Verdict, key)? {
            Cmd::Back => Action::Back,
            Cmd::NewCall => Action::NewCall,
            _ => return None,
        })
    }

    pub fn render(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
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
        let mut lines = vec![
            Line::raw(""),
            Line::from(vec![Span::styled(" Rule       ", theme.dim()), Span::raw(self.shown.policy_row.clone())]),
            Line::raw(""),
            Line::from(vec![Span::styled(" Next step  ", theme.dim()), Span::styled(format!("“{}”", self.shown.next_step), theme.title())]),
        ];
        if let Some(outcome) = &self.outcome {
            lines.push(Line::raw(""));
            lines.push(Line::from(vec![Span::styled(" Account    ", theme.dim()), Span::styled(outcome.clone(), theme.good())]));
        }
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!(" Recorded as audit event #{} under policy version {}.", self.shown.audit_seq, self.shown.policy_version),
            theme.dim(),
        ));
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
    }
}
