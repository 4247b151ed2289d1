//! The results history: runs across commits and hosts in one SQLite file, change points in each
//! case's metrics, and exports to the tools teams already run.
//!
//! - [`db`]: the file (`results/history.sqlite` by default): WAL, one transaction per run,
//!   idempotent adds, a versioned schema with migrations, queries that never mix machines.
//! - [`figures`] and [`from_record`]: what is stored of a run.json; [`import`] fills a history
//!   from result directories or merges another history; [`git`] names the commit measured.
//! - [`changepoint`]: E-divisive means with a significance test and the newest-segment rule;
//!   [`check`] runs it over a history and [`check_output`] prints it like `compare`.
//! - [`show`] and [`page`]: one series as a table and as an HTML chart over commits.
//! - [`export`]: JSON lines, CSV, OpenMetrics, Bencher Metric Format.

pub mod changepoint;
pub mod check;
pub mod check_output;
pub mod db;
pub mod export;
pub mod figures;
pub mod from_record;
pub mod git;
pub mod import;
pub mod page;
pub mod show;

/// The history file's name under the results directory.
pub const DEFAULT_FILE: &str = "history.sqlite";
