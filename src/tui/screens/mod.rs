//! One file per screen: its state, `handle_key` (which only changes its own state or returns an
//! [`Action`]) and drawing from `&self`. Every screen is a [`View`]; the app keeps them as a stack
//! of [`Screen`]s and talks to whichever is on top through that one trait.

pub mod audit_review;
pub mod caller_card;
pub mod case_close;
pub mod case_queue;
pub mod case_view;
pub mod form;
pub mod lookup;
pub mod new_case;
pub mod pin_entry;
pub mod sign_in;
pub mod verdict;

use crate::tui::action::Action;
use crate::tui::keymap::{Key, ScreenId};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;

/// What every screen does.
pub trait View {
    /// Which key table is in force (it names the screen in the header, the footer and help).
    fn id(&self) -> ScreenId;
    /// A key press: changes only the screen's own state, or asks the app for an action.
    fn handle_key(&mut self, key: Key) -> Option<Action>;
    /// Pasted text (most screens take none).
    fn paste(&mut self, _text: &str) -> Option<Action> {
        None
    }
    /// True while printable keys are text (`?` is then typed, not help).
    fn captures_text(&self) -> bool {
        false
    }
    /// Draws the screen's body; never changes state and never touches the database.
    fn render(&self, f: &mut Frame<'_>, area: Rect, theme: Theme);
}

/// A screen type the app can find on its stack (see [`Screen`]).
pub trait Holds: Sized {
    fn held(screen: &Screen) -> Option<&Self>;
    fn held_mut(screen: &mut Screen) -> Option<&mut Self>;
}

/// Declares [`Screen`] with one variant per screen type, its one dispatch to [`View`], and the
/// conversions the app uses to push and find screens.
macro_rules! screens {
    ($($variant:ident($ty:ty),)*) => {
        /// One screen on the app's stack.
        // The stack holds a handful of screens at most: their sizes differing costs nothing.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug)]
        pub enum Screen {
            $($variant($ty),)*
        }

        impl Screen {
            fn view(&self) -> &dyn View {
                match self {
                    $(Screen::$variant(s) => s,)*
                }
            }

            fn view_mut(&mut self) -> &mut dyn View {
                match self {
                    $(Screen::$variant(s) => s,)*
                }
            }
        }

        $(
            impl From<$ty> for Screen {
                fn from(s: $ty) -> Screen {
                    Screen::$variant(s)
                }
            }

            impl Holds for $ty {
                fn held(screen: &Screen) -> Option<&Self> {
                    match screen {
                        Screen::$variant(s) => Some(s),
                        _ => None,
                    }
                }

                fn held_mut(screen: &mut Screen) -> Option<&mut Self> {
                    match screen {
                        Screen::$variant(s) => Some(s),
                        _ => None,
                    }
                }
            }
        )*
    };
}

screens! {
    SignIn(sign_in::SignIn),
    Lookup(lookup::Lookup),
    Card(caller_card::Card),
    PinEntry(pin_entry::PinEntry),
    Verdict(verdict::VerdictView),
    Form(form::Form),
    Cases(case_queue::CaseQueue),
    NewCase(new_case::NewCase),
    Case(case_view::CaseView),
    CaseClose(case_close::CaseClose),
    Review(audit_review::AuditReview),
}

impl Screen {
    pub fn id(&self) -> ScreenId {
        self.view().id()
    }

    pub fn handle_key(&mut self, key: Key) -> Option<Action> {
        self.view_mut().handle_key(key)
    }

    pub fn paste(&mut self, text: &str) -> Option<Action> {
        self.view_mut().paste(text)
    }

    pub fn captures_text(&self) -> bool {
        self.view().captures_text()
    }

    pub fn render(&self, f: &mut Frame<'_>, area: Rect, theme: Theme) {
        self.view().render(f, area, theme)
    }
}
