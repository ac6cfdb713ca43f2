//! Colours and emphasis. Meaning is always carried by words and symbols too; with `NO_COLOR` set
//! the theme uses bold and reverse video only.

use crate::desk::Verdict;
use ratatui::style::{Color, Modifier, Style};

/// The styles the screens use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to anything non-empty (https://no-color.org).
    pub fn from_env() -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme { color: !no_color }
    }

    fn fg(self, c: Color) -> Style {
        if self.color { Style::new().fg(c) } else { Style::new() }
    }

    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn dim(self) -> Style {
        if self.color { Style::new().fg(Color::DarkGray) } else { Style::new() }
    }

    pub fn key(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn selected(self) -> Style {
        if self.color {
            Style::new().bg(Color::Blue).fg(Color::White).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    pub fn error(self) -> Style {
        self.fg(Color::LightRed).add_modifier(Modifier::BOLD)
    }

    pub fn good(self) -> Style {
        self.fg(Color::LightGreen).add_modifier(Modifier::BOLD)
    }

    pub fn warn(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn focus(self) -> Style {
        self.fg(Color::Cyan)
    }

    /// The verdict banner: colour is an extra cue, never the only one.
    pub fn verdict(self, verdict: &Verdict) -> Style {
        let base = Style::new().add_modifier(Modifier::BOLD);
        if !self.color {
            return base.add_modifier(Modifier::REVERSED);
        }
        let (bg, fg) = match verdict {
            Verdict::Assist => (Color::Green, Color::Black),
            Verdict::NeedsApproval { .. } => (Color::Yellow, Color::Black),
            Verdict::Refused => (Color::Red, Color::White),
            Verdict::VerifyFirst => (Color::Blue, Color::White),
        };
        base.bg(bg).fg(fg)
    }
}

/// The symbol shown with a verdict, so it reads without colour.
pub fn verdict_symbol(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Assist => "✔",
        Verdict::NeedsApproval { .. } => "⚠",
        Verdict::Refused => "✖",
        Verdict::VerifyFirst => "»",
    }
}
