//! Pieces shared by screens.

pub mod footer;
pub mod pin_cells;
pub mod text;
