//! Presenting results: the terminal table (and, with the report issue, markdown, CSV, HTML and
//! plots). Everything here reads a [`RunRecord`](crate::store::record::RunRecord) and nothing else.

pub mod format;
pub mod table;
