//! The verdict: a word, a symbol and a colour (never colour alone), the policy row that decided
//! it, and the next step as a sentence the rep can say.

use crate::desk::{Verdict, VerdictShown};
use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, Key, ScreenId, command};
use crate::tui::screens::View;
use crate::tui::theme::{Theme, verdict_symbol};
use crate::tui::widgets::text::{fit, wrap};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

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
        let width = area.width as usize;
        let verdict = &self.shown.decision.verdict;
        let style = theme.verdict(verdict);
        let label_w = 12usize;
        let text_w = width.saturating_sub(label_w).max(1);
        let all = |text: &str| wrap(text, text_w, usize::MAX);
        let next_step = all(&format!("“{}”", self.shown.next_step));
        let outcome = self.outcome.as_deref().map(all).unwrap_or_default();
        let recorded = all(&format!(
            "audit event #{} under policy version {}",
            self.shown.audit_seq, self.shown.policy_version
        ));
        let rule_full = all(&self.shown.policy_row).len();
        let approver = match verdict {
            Verdict::NeedsApproval { approver } => Some(format!("  Approver: {} ({})", approver.name, approver.id)),
            _ => None,
        };
        // In a short window the spacing, then the record line, then the rule's last lines give
        // way; who, the verdict and the next step (wrapped, never cut) always show.
        let mut fit_in = Fit { gaps: true, roomy_banner: true, recorded: true, rule: rule_full };
        loop {
            let banner = if fit_in.roomy_banner { 5 } else { 3 + usize::from(approver.is_some()) };
            let rows = [fit_in.rule, next_step.len(), outcome.len(), if fit_in.recorded { recorded.len() } else { 0 }];
            let shown = rows.iter().filter(|n| **n > 0).count();
            let gaps = if fit_in.gaps { shown } else { 0 };
            if 2 + banner + rows.iter().sum::<usize>() + gaps <= area.height as usize {
                break;
            }
            if fit_in.gaps {
                fit_in.gaps = false;
            } else if fit_in.roomy_banner {
                fit_in.roomy_banner = false;
            } else if fit_in.recorded {
                fit_in.recorded = false;
            } else if fit_in.rule > 1 {
                fit_in.rule -= 1;
            } else {
                break;
            }
        }
        let banner_h = if fit_in.roomy_banner { 5 } else { 3 + u16::from(approver.is_some()) };
        let [who, banner, body] =
            Layout::vertical([Constraint::Length(2), Constraint::Length(banner_h), Constraint::Min(0)]).areas(area);
        f.render_widget(
            Paragraph::new(vec![
                Line::from(vec![Span::styled(" Caller:  ", theme.dim()), Span::raw(fit(&self.caller_name, width.saturating_sub(11)))]),
                Line::from(vec![Span::styled(" Request: ", theme.dim()), Span::raw(fit(&self.request, width.saturating_sub(11)))]),
            ]),
            who,
        );
        let mut banner_lines = Vec::new();
        if fit_in.roomy_banner {
            banner_lines.push(Line::raw(""));
        }
        banner_lines.push(Line::styled(format!("  {}  {}", verdict_symbol(verdict), verdict.headline().to_uppercase()), style));
        if let Some(approver) = approver {
            banner_lines.push(Line::styled(fit(&approver, width.saturating_sub(2)), style));
        }
        let block = Block::bordered().border_style(style);
        f.render_widget(Paragraph::new(banner_lines).style(style).block(block), banner);
        let plain = ratatui::style::Style::new();
        let mut rows: Vec<(&str, Vec<String>, ratatui::style::Style)> = vec![
            ("Rule", wrap(&self.shown.policy_row, text_w, fit_in.rule), plain),
            ("Next step", next_step, theme.title()),
        ];
        if !outcome.is_empty() {
            rows.push(("Account", outcome, theme.good()));
        }
        if fit_in.recorded {
            rows.push(("Recorded", recorded, theme.dim()));
        }
        let gap = u16::from(fit_in.gaps);
        let mut y = body.y + gap;
        for (label, text, style) in rows {
            if y >= body.bottom() {
                break;
            }
            let h = (text.len() as u16).min(body.bottom() - y);
            let label_rect = Rect { x: body.x, y, width: (label_w as u16).min(body.width), height: 1 };
            f.render_widget(Paragraph::new(Line::styled(format!(" {label}"), theme.dim())), label_rect);
            let text_rect = Rect { x: body.x + label_rect.width, y, width: body.width - label_rect.width, height: h };
            f.render_widget(Paragraph::new(text.into_iter().map(|l| Line::styled(l, style)).collect::<Vec<_>>()), text_rect);
            y = y.saturating_add(h + gap);
        }
    }
}

/// What of the verdict screen is drawn in the window's height.
struct Fit {
    /// A blank row after the banner and after each row.
    gaps: bool,
    /// The banner with a blank row above the headline.
    roomy_banner: bool,
    /// The "Recorded" row.
    recorded: bool,
    /// How many lines of the rule (the last ends in "…" when it is cut).
    rule: usize,
}
