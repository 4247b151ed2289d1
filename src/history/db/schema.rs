//! The history's schema and its migrations. The version is SQLite's `PRAGMA user_version`: the
//! number of migrations applied. Each migration runs in its own `BEGIN IMMEDIATE` transaction
//! together with the version bump, so a crash leaves the previous version intact and two
//! processes opening a new file at once migrate it once (the second sees the new version once
//! it gets the write lock).

use rusqlite::{Connection, TransactionBehavior};

/// Schema version 1: runs, cases, summary figures, per-iteration figures, stage medians.
const V1: &str = r#"
CREATE TABLE runs (
    id             INTEGER PRIMARY KEY,
    run_id         TEXT NOT NULL,
    started_at     TEXT NOT NULL,          -- RFC 3339 UTC: text order is time order
    complete       INTEGER NOT NULL,
    host           TEXT NOT NULL,
    kernel         TEXT NOT NULL,
    cpu_model      TEXT NOT NULL,
    cpu_count      INTEGER NOT NULL,
    virtualization TEXT,                   -- NULL on bare metal
    lo_settings    TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,          -- machine identity, see Environment::machine_fingerprint
    commit_sha     TEXT,
    branch         TEXT,
    label          TEXT,
    added_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (run_id, fingerprint)           -- run ids are unique per machine, not across a fleet
);
CREATE INDEX runs_by_time ON runs (started_at, run_id);
CREATE TABLE cases (
    id      INTEGER PRIMARY KEY,
    run     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    case_id TEXT NOT NULL,
    min_latency_samples INTEGER,           -- fewest latency samples of an iteration; NULL: none
    UNIQUE (run, case_id)
);
CREATE INDEX cases_by_case ON cases (case_id, run);
CREATE TABLE figures (
    case_row INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    metric   TEXT NOT NULL,
    unit     TEXT NOT NULL,
    value    REAL NOT NULL,
    PRIMARY KEY (case_row, metric)
) WITHOUT ROWID;
CREATE TABLE iteration_figures (
    case_row  INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    metric    TEXT NOT NULL,
    iteration INTEGER NOT NULL,
    value     REAL NOT NULL,
    PRIMARY KEY (case_row, metric, iteration)
) WITHOUT ROWID;
CREATE TABLE stage_medians (
    case_row  INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    stage     TEXT NOT NULL,
    median_ns REAL NOT NULL,
    PRIMARY KEY (case_row, stage)
) WITHOUT ROWID;
"#;

/// Every migration, oldest first; the schema version is how many have run.
pub const MIGRATIONS: &[&str] = &[V1];

/// The version this build writes.
pub fn current_version() -> u32 {
    MIGRATIONS.len() as u32
}

/// The file's schema version.
pub fn version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Why a history file cannot be opened at this build's schema.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// The file was written by a newer loopbench.
    #[error(
        "the history file has schema version {found}; this loopbench knows up to {known}: upgrade loopbench, or point --history at another file"
    )]
    TooNew {
        /// Version in the file.
        found: u32,
        /// Newest version this build knows.
        known: u32,
    },
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Brings the file up to `migrations.len()`, one transaction per step.
pub fn migrate_with(conn: &mut Connection, migrations: &[&str]) -> Result<u32, MigrationError> {
    let known = migrations.len() as u32;
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found = version(&tx)?;
        if found > known {
            return Err(MigrationError::TooNew { found, known });
        }
        if found == known {
            tx.commit()?;
            return Ok(found);
        }
        tx.execute_batch(migrations[found as usize])?;
        tx.pragma_update(None, "user_version", found + 1)?;
        tx.commit()?;
    }
}

/// Brings the file up to this build's schema.
pub fn migrate(conn: &mut Connection) -> Result<u32, MigrationError> {
    migrate_with(conn, MIGRATIONS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_gets_every_migration_and_a_second_run_changes_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), current_version());
        assert_eq!(migrate(&mut conn).unwrap(), current_version());
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 5);
    }

    #[test]
    fn a_later_migration_upgrades_an_older_file_in_place() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        conn.execute(
            "INSERT INTO runs (run_id, started_at, complete, host, kernel, cpu_model, cpu_count, lo_settings, fingerprint)
             VALUES ('r1', '2026-01-01T00:00:00Z', 1, 'h', 'k', 'c', 2, 'lo', 'f')",
            [],
        )
        .unwrap();
        let v2 = "ALTER TABLE runs ADD COLUMN suite TEXT;";
        assert_eq!(migrate_with(&mut conn, &[V1, v2]).unwrap(), 2);
        let suite: Option<String> = conn
            .query_row("SELECT suite FROM runs WHERE run_id = 'r1'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(suite, None);
        // The file is now newer than this build.
        let err = migrate(&mut conn).unwrap_err();
        assert!(
            matches!(err, MigrationError::TooNew { found: 2, known: 1 }),
            "{err}"
        );
        assert!(err.to_string().contains("upgrade loopbench"));
    }
}
