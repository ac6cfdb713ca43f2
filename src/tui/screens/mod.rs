//! One file per screen: its state, `handle_key` (which only changes its own state or returns an
//! [`Action`](crate::tui::action::Action)) and drawing from `&self`.

pub mod audit_review;
pub mod caller_card;
pub mod lookup;
pub mod pin_entry;
pub mod sign_in;
pub mod unlock;
pub mod verdict;
