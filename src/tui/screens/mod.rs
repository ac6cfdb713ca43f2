//! One file per screen: its state, `handle_key` (which only changes its own state or returns an
//! [`Action`](crate::tui::action::Action)) and drawing from `&self`.

pub mod audit_review;
pub mod caller_card;
pub mod case_close;
pub mod case_form;
pub mod case_queue;
pub mod case_view;
pub mod clear_lock;
pub mod lookup;
pub mod new_case;
pub mod pin_entry;
pub mod sign_in;
pub mod unlock;
pub mod verdict;
