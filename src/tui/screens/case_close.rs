//! Closing a case: pick its outcome.

use crate::desk::CaseOutcome;
use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, Key, ScreenId, command};
use crate::tui::screens::View;
use crate::tui::theme::Theme;
use crate::tui::widgets::text::fit;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

/// The outcome picker for the case on screen.
#[derive(Debug)]
pub struct CaseClose {
    pub title: String,
}

impl View for CaseClose {
    fn id(&self) -> ScreenId {
        ScreenId::CaseClose
    }

    fn handle_key(&mut self, key: Key) -> Option<Action> {
        Some(match command(ScreenId::CaseClose, key)? {
            Cmd::Assisted => Action::CloseCase(CaseOutcome::Assisted),
            Cmd::Refused => Action::CloseCase(CaseOutcome::Refused),
            Cmd::Abandoned => Action::CloseCase(CaseOutcome::Abandoned),
            Cmd::Duplicate => Action::CloseCase(CaseOutcome::Duplicate),
            Cmd::Back => Action::Back,
            _ => return None,
        })
    }

    fn render(&self, f: &mut Frame<'_>, area: Rect, _theme: Theme) {
        let block = Block::bordered().title(" Close the case ");
        let inner = block.inner(area);
        f.render_widget(block, area);
        let w = inner.width as usize;
        let lines = vec![
            Line::raw(fit(&format!(" {}", self.title), w)),
            Line::raw(""),
            Line::raw(" How did it end?"),
            Line::raw("   a  assisted"),
            Line::raw("   r  refused"),
            Line::raw("   b  abandoned"),
            Line::raw("   d  duplicate"),
        ];
        f.render_widget(Paragraph::new(lines), inner);
    }
}
