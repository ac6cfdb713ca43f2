//! Starting a case from the caller card: the channel and the request.

use crate::desk::{Channel, Request};
use crate::tui::action::Action;
use crate::tui::keymap::{Cmd, Key, ScreenId, command};
use crate::tui::screens::View;
use crate::tui::theme::Theme;
use crate::tui::widgets::text::fit;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

/// The new-case form for the caller on the card.
#[derive(Debug)]
pub struct NewCase {
    pub caller_name: String,
    pub channel: Channel,
}

impl NewCase {
    pub fn new(caller_name: String) -> NewCase {
        NewCase { caller_name, channel: Channel::Phone }
    }
}

impl View for NewCase {
    fn id(&self) -> ScreenId {
        ScreenId::NewCase
    }

    fn handle_key(&mut self, key: Key) -> Option<Action> {
        Some(match command(ScreenId::NewCase, key)? {
            Cmd::NextChannel => {
                let i = Channel::ALL.iter().position(|c| *c == self.channel).unwrap_or(0);
                self.channel = Channel::ALL[(i + 1) % Channel::ALL.len()];
                return None;
            }
            Cmd::OwnAccount => Action::OpenCase(Request::OwnAccount),
            Cmd::OnBehalf => Action::ChooseTarget,
            Cmd::Unlock => Action::OpenCase(Request::Unlock),
            Cmd::Back => Action::Back,
            _ => return None,
        })
    }

    fn render(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
        let block = Block::bordered().title(" New case ");
        let inner = block.inner(area);
        f.render_widget(block, area);
        let w = inner.width as usize;
        let mut channel = vec![Span::styled(" Channel   ", theme.dim())];
        for c in Channel::ALL {
            let label = format!(" {} ", c.as_str());
            channel.push(if c == self.channel { Span::styled(format!("[{label}]"), theme.selected()) } else { Span::raw(format!(" {label} ")) });
        }
        let lines = vec![
            Line::raw(fit(&format!(" Caller    {}", self.caller_name), w)),
            Line::from(channel),
            Line::raw(""),
            Line::raw(fit(" What does the caller ask for?", w)),
            Line::raw(fit("   a  help with their own account", w)),
            Line::raw(fit("   o  help with someone else's account (pick the target next)", w)),
            Line::raw(fit("   u  an unlock of their own account", w)),
            Line::raw(""),
            Line::styled(fit(" The Support PIN is then checked inside the case: a verification belongs to its case.", w), theme.dim()),
        ];
        f.render_widget(Paragraph::new(lines), inner);
    }
}
