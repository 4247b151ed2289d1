//! The history file: opening (WAL, busy timeout, migrations) and adding a run in one
//! transaction.
//!
//! Concurrency: the file is in WAL mode, every connection waits up to
//! [`DEFAULT_BUSY_TIMEOUT`] for a lock, and a run is added in one `BEGIN IMMEDIATE` transaction
//! (the write lock is taken before the existence check, so two processes adding the same run
//! cannot both insert it, and no transaction has to upgrade a read lock, which SQLite answers
//! with an immediate `SQLITE_BUSY` whatever the timeout). `synchronous = NORMAL`: in WAL mode a
//! power cut can lose the last commits but never corrupts the file.
//!
//! Adding is idempotent: a run id already in the file is left as it is.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};

use super::error::{AddOutcome, HistoryError};
use super::schema::{self, MigrationError};
use crate::history::figures::{RunFigures, unit_name};
use crate::store::metric::Metric;

/// How long a connection waits for another writer before giving up.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// WAL mode, the connection's pragmas and the schema migrations of a freshly opened file.
fn prepare(conn: &mut Connection) -> Result<(), MigrationError> {
    // journal_mode returns the mode as a row; WAL persists in the file once set.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    debug_assert_eq!(mode.to_ascii_lowercase(), "wal");
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
    schema::migrate(conn)?;
    Ok(())
}

/// SQLITE_BUSY that the busy handler was not asked about: two processes opening a new file at
/// once, one switching it to WAL while the other reads it, get it at once whatever the timeout.
fn is_busy(e: &MigrationError) -> bool {
    matches!(
        e,
        MigrationError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::DatabaseBusy
    )
}

/// An open history file.
pub struct History {
    conn: Connection,
}

impl History {
    /// Opens (creating and migrating when needed) the history at `path`.
    pub fn open(path: &Path) -> Result<History, HistoryError> {
        Self::open_with_timeout(path, DEFAULT_BUSY_TIMEOUT)
    }

    /// [`History::open`] with another busy timeout.
    pub fn open_with_timeout(path: &Path, busy: Duration) -> Result<History, HistoryError> {
        let wrap = |source: MigrationError| HistoryError::Open {
            path: path.display().to_string(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
        let mut conn = Connection::open_with_flags(path, flags).map_err(|e| wrap(e.into()))?;
        conn.busy_timeout(busy).map_err(|e| wrap(e.into()))?;
        let started = Instant::now();
        loop {
            match prepare(&mut conn) {
                Err(e) if is_busy(&e) && started.elapsed() < busy => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => return Err(wrap(e)),
                Ok(()) => return Ok(History { conn }),
            }
        }
    }

    /// Stores `run` unless a run with its id, from the same machine, is already there.
    pub fn add(&mut self, run: &RunFigures) -> Result<AddOutcome, HistoryError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let env = &run.environment;
        let fingerprint = env.machine_fingerprint();
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM runs WHERE run_id = ?1 AND fingerprint = ?2)",
            [&run.run_id, &fingerprint],
            |r| r.get(0),
        )?;
        if exists {
            return Ok(AddOutcome::AlreadyPresent);
        }
        tx.execute(
            "INSERT INTO runs (run_id, started_at, complete, host, kernel, cpu_model, cpu_count,
                               virtualization, lo_settings, fingerprint, commit_sha, branch, label)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                run.run_id,
                run.started_at,
                run.complete,
                env.host,
                env.kernel,
                env.cpu_model,
                env.cpu_count,
                env.virtualization,
                env.lo_settings,
                fingerprint,
                run.commit,
                run.branch,
                run.label
            ],
        )?;
        let run_row = tx.last_insert_rowid();
        {
            let mut case_stmt = tx.prepare(
                "INSERT INTO cases (run, case_id, min_latency_samples) VALUES (?1, ?2, ?3)",
            )?;
            let mut fig_stmt = tx.prepare(
                "INSERT INTO figures (case_row, metric, unit, value) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut it_stmt = tx.prepare(
                "INSERT INTO iteration_figures (case_row, metric, iteration, value) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut stage_stmt = tx.prepare(
                "INSERT INTO stage_medians (case_row, stage, median_ns) VALUES (?1, ?2, ?3)",
            )?;
            for case in &run.cases {
                let samples = case.min_latency_samples.map(|n| n as i64);
                case_stmt.execute(params![run_row, case.case_id, samples])?;
                let case_row = tx.last_insert_rowid();
                // SQLite has no NaN (it would be stored as NULL): figures that are not finite
                // are left out, as a figure the case does not have.
                let finite = |(m, v): (Metric, f64)| v.is_finite().then_some((m, v));
                for (metric, value) in case.summary.named().into_iter().filter_map(finite) {
                    let unit = unit_name(case.unit(metric));
                    fig_stmt.execute(params![case_row, metric.name(), unit, value])?;
                }
                for (i, it) in case.iterations.iter().enumerate() {
                    for (metric, value) in it.named().into_iter().filter_map(finite) {
                        it_stmt.execute(params![case_row, metric.name(), i as i64, value])?;
                    }
                }
                for (stage, median) in &case.stage_medians_ns {
                    if median.is_finite() {
                        stage_stmt.execute(params![case_row, stage, median])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(AddOutcome::Added)
    }

    /// The underlying connection, for queries this module does not offer.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}
