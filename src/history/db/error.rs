//! Why the history could not be read or written, and what adding a run did.

use super::schema::MigrationError;

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The file could not be opened or migrated.
    #[error("cannot open the history at {path}: {source}")]
    Open {
        /// The file.
        path: String,
        /// What failed.
        source: MigrationError,
    },
    /// A query asked for one series but the figures come from several machines.
    #[error("{case} {metric}: figures from {} machines ({}); pick one with --host or --fingerprint (`loopbench history list` shows each run's host and fingerprint)", fingerprints.len(), fingerprints.join(", "))]
    MixedMachines {
        /// The case.
        case: String,
        /// The metric.
        metric: String,
        /// The machine fingerprints found.
        fingerprints: Vec<String>,
    },
    /// SQLite failed.
    #[error("history database: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// What [`History::add`](super::History::add) did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddOutcome {
    /// The run was stored.
    Added,
    /// A run with this id was already stored; nothing changed.
    AlreadyPresent,
}
