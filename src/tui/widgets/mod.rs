//! Pieces shared by screens.

pub mod footer;
pub mod help;
pub mod notice;
pub mod pin_cells;
pub mod table;
pub mod text;
pub mod text_field;
