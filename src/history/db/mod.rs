//! The results history: one SQLite file (by default `results/history.sqlite`), bundled SQLite
//! so there is nothing to install. [`History`] opens and adds; the queries read runs and series
//! back; [`schema`] holds the versioned schema and its migrations.

mod error;
mod history;
mod query;
mod read_back;
pub mod schema;

pub use error::{AddOutcome, HistoryError};
pub use history::{DEFAULT_BUSY_TIMEOUT, History};
pub use query::{
    CaseSeries, RunList, RunSummary, SCHEMA_VERSION, SeriesFilter, SeriesKey, SeriesPoint,
};
