//! The page's parts, one component per file.

pub mod connect_form;
pub mod console;
pub mod file_table;
pub mod transfers;
