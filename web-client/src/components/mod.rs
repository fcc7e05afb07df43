//! The page's parts, one component (or a few small ones) per file. Each takes
//! the model and the session from context.

pub mod connect_form;
pub mod console;
pub mod dialogs;
pub mod file_table;
pub mod icons;
pub mod login_form;
pub mod status;
pub mod transfers;
