//! Reading the history: the runs, which series exist, and the series of a case in run order
//! (start time: the history has no commit graph, and CI measures commits in order). A series
//! never mixes machines silently: [`History::series`] refuses figures from two machines unless
//! the filter names one, and [`History::case_series`] returns one series per machine.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rusqlite::{ToSql, params_from_iter};

use super::error::HistoryError;
use super::history::History;

/// Version of the JSON layout of `history list --json` and `history show --json`
/// (docs/schema/history-list.schema.json, history-show.schema.json).
pub const SCHEMA_VERSION: u32 = 1;

/// What `history list --json` prints.
#[derive(Clone, Debug, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct RunList {
    /// Layout version ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The runs, as [`History::list_runs`] returns them.
    pub runs: Vec<RunSummary>,
}

/// One stored run, as `history list` shows it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct RunSummary {
    /// loopbench's run id.
    pub run_id: String,
    /// RFC 3339 UTC start.
    pub started_at: String,
    /// False for an interrupted run.
    pub complete: bool,
    /// Host name.
    pub host: String,
    /// Machine fingerprint.
    pub fingerprint: String,
    /// Kernel release.
    pub kernel: String,
    /// Loopback settings line.
    pub lo_settings: String,
    /// Commit, when known.
    pub commit: Option<String>,
    /// Branch, when known.
    pub branch: Option<String>,
    /// Label, when given.
    pub label: Option<String>,
    /// Cases stored for it.
    pub cases: usize,
}

/// Which runs a query looks at; `None` matches anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeriesFilter {
    /// Only this branch.
    pub branch: Option<String>,
    /// Only this host.
    pub host: Option<String>,
    /// Only this machine fingerprint.
    pub fingerprint: Option<String>,
    /// Only this kernel release.
    pub kernel: Option<String>,
}

/// One series that exists in the history: a case's metric on one machine.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SeriesKey {
    /// The case id.
    pub case_id: String,
    /// The metric name (`p50`, `throughput`, ...).
    pub metric: String,
    /// The machine fingerprint.
    pub fingerprint: String,
}

/// One run's figure in a series.
#[derive(Clone, Debug, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct SeriesPoint {
    /// The run.
    pub run_id: String,
    /// Its start time.
    pub started_at: String,
    /// Its commit.
    pub commit: Option<String>,
    /// Its branch.
    pub branch: Option<String>,
    /// Its label.
    pub label: Option<String>,
    /// Host name.
    pub host: String,
    /// Machine fingerprint.
    pub fingerprint: String,
    /// Kernel release (a change point where it changed is worth naming).
    pub kernel: String,
    /// Loopback settings (likewise).
    pub lo_settings: String,
    /// The run's figure.
    pub value: f64,
    /// Its unit (`ns`, `msgs/s`, `bytes/s`).
    pub unit: String,
    /// The fewest latency samples of the case's iterations in this run.
    pub min_latency_samples: Option<u64>,
    /// The per-iteration values, in the order they ran (empty when not stored).
    pub iterations: Vec<f64>,
}

/// Every metric of one case on one machine: what `history check` analyses together.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseSeries {
    /// The case id.
    pub case_id: String,
    /// The machine fingerprint.
    pub fingerprint: String,
    /// Per metric name, its points oldest first.
    pub metrics: BTreeMap<String, Vec<SeriesPoint>>,
}

/// `AND` clauses and their parameters for a filter, numbered from `first`.
fn filter_sql(filter: &SeriesFilter, first: usize) -> (String, Vec<Option<String>>) {
    let columns = ["r.branch", "r.host", "r.fingerprint", "r.kernel"];
    let values = [
        &filter.branch,
        &filter.host,
        &filter.fingerprint,
        &filter.kernel,
    ];
    let sql = columns
        .iter()
        .enumerate()
        .map(|(k, c)| format!(" AND (?{n} IS NULL OR {c} = ?{n})", n = first + k))
        .collect();
    (sql, values.into_iter().cloned().collect())
}

/// The columns of a [`SeriesPoint`] after the case row and the metric, in this order.
const POINT_COLUMNS: &str = "r.run_id, r.started_at, r.commit_sha, r.branch, r.label, r.host,
    r.fingerprint, r.kernel, r.lo_settings, f.value, f.unit, c.min_latency_samples";

fn point(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<SeriesPoint> {
    Ok(SeriesPoint {
        run_id: r.get(at)?,
        started_at: r.get(at + 1)?,
        commit: r.get(at + 2)?,
        branch: r.get(at + 3)?,
        label: r.get(at + 4)?,
        host: r.get(at + 5)?,
        fingerprint: r.get(at + 6)?,
        kernel: r.get(at + 7)?,
        lo_settings: r.get(at + 8)?,
        value: r.get(at + 9)?,
        unit: r.get(at + 10)?,
        min_latency_samples: r.get::<_, Option<i64>>(at + 11)?.map(|n| n as u64),
        iterations: Vec::new(),
    })
}

impl History {
    /// Every run that matches `filter`, oldest first.
    pub fn list_runs(&self, filter: &SeriesFilter) -> Result<Vec<RunSummary>, HistoryError> {
        let (where_sql, params) = filter_sql(filter, 1);
        let sql = format!(
            "SELECT r.run_id, r.started_at, r.complete, r.host, r.fingerprint, r.kernel,
                    r.lo_settings, r.commit_sha, r.branch, r.label,
                    (SELECT count(*) FROM cases c WHERE c.run = r.id)
             FROM runs r WHERE 1 = 1{where_sql} ORDER BY r.started_at, r.run_id"
        );
        let mut stmt = self.connection().prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(params), |r| {
            Ok(RunSummary {
                run_id: r.get(0)?,
                started_at: r.get(1)?,
                complete: r.get(2)?,
                host: r.get(3)?,
                fingerprint: r.get(4)?,
                kernel: r.get(5)?,
                lo_settings: r.get(6)?,
                commit: r.get(7)?,
                branch: r.get(8)?,
                label: r.get(9)?,
                cases: r.get::<_, i64>(10)? as usize,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every (case, metric, machine) series with figures in runs matching `filter`.
    pub fn series_keys(&self, filter: &SeriesFilter) -> Result<Vec<SeriesKey>, HistoryError> {
        let (where_sql, params) = filter_sql(filter, 1);
        let sql = format!(
            "SELECT DISTINCT c.case_id, f.metric, r.fingerprint
             FROM runs r JOIN cases c ON c.run = r.id JOIN figures f ON f.case_row = c.id
             WHERE 1 = 1{where_sql} ORDER BY 1, 2, 3"
        );
        let mut stmt = self.connection().prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(params), |r| {
            Ok(SeriesKey {
                case_id: r.get(0)?,
                metric: r.get(1)?,
                fingerprint: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The case ids with figures in runs matching `filter`, sorted.
    pub fn case_ids(&self, filter: &SeriesFilter) -> Result<Vec<String>, HistoryError> {
        let ids: BTreeSet<String> = self
            .series_keys(filter)?
            .into_iter()
            .map(|k| k.case_id)
            .collect();
        Ok(ids.into_iter().collect())
    }

    /// Every metric of `case_id` over the runs matching `filter` (one metric when `metric` is
    /// given), one [`CaseSeries`] per machine, each series oldest first with its per-iteration
    /// values. Two queries, whatever the number of metrics.
    pub fn case_series(
        &self,
        case_id: &str,
        metric: Option<&str>,
        filter: &SeriesFilter,
    ) -> Result<Vec<CaseSeries>, HistoryError> {
        let (where_sql, filters) = filter_sql(filter, 3);
        let mut params: Vec<Box<dyn ToSql>> = vec![
            Box::new(case_id.to_string()),
            Box::new(metric.map(String::from)),
        ];
        params.extend(filters.into_iter().map(|f| Box::new(f) as Box<dyn ToSql>));
        let from = |table: &str, alias: &str| {
            format!(
                "FROM runs r JOIN cases c ON c.run = r.id
                 JOIN {table} {alias} ON {alias}.case_row = c.id AND (?2 IS NULL OR {alias}.metric = ?2)
                 WHERE c.case_id = ?1{where_sql}"
            )
        };
        let points_sql = format!(
            "SELECT c.id, f.metric, {POINT_COLUMNS} {} ORDER BY r.started_at, r.run_id",
            from("figures", "f")
        );
        let mut stmt = self.connection().prepare_cached(&points_sql)?;
        let rows: Vec<(i64, String, SeriesPoint)> = stmt
            .query_map(params_from_iter(params.iter()), |r| {
                Ok((r.get(0)?, r.get(1)?, point(r, 2)?))
            })?
            .collect::<Result<_, _>>()?;
        let iterations_sql = format!(
            "SELECT c.id, i.metric, i.value {} ORDER BY c.id, i.metric, i.iteration",
            from("iteration_figures", "i")
        );
        let mut per_case: HashMap<(i64, String), Vec<f64>> = HashMap::new();
        let mut stmt = self.connection().prepare_cached(&iterations_sql)?;
        let mut it_rows = stmt.query(params_from_iter(params.iter()))?;
        while let Some(r) = it_rows.next()? {
            per_case
                .entry((r.get(0)?, r.get(1)?))
                .or_default()
                .push(r.get(2)?);
        }
        let mut machines: BTreeMap<String, CaseSeries> = BTreeMap::new();
        for (case_row, metric, mut point) in rows {
            point.iterations = per_case
                .remove(&(case_row, metric.clone()))
                .unwrap_or_default();
            machines
                .entry(point.fingerprint.clone())
                .or_insert_with(|| CaseSeries {
                    case_id: case_id.to_string(),
                    fingerprint: point.fingerprint.clone(),
                    metrics: BTreeMap::new(),
                })
                .metrics
                .entry(metric)
                .or_default()
                .push(point);
        }
        Ok(machines.into_values().collect())
    }

    /// One case's metric over the runs matching `filter`, oldest first, with the per-iteration
    /// values. Figures from more than one machine are refused unless `filter` names one.
    pub fn series(
        &self,
        case_id: &str,
        metric: &str,
        filter: &SeriesFilter,
    ) -> Result<Vec<SeriesPoint>, HistoryError> {
        let mut machines = self.case_series(case_id, Some(metric), filter)?;
        if machines.len() > 1 {
            return Err(HistoryError::MixedMachines {
                case: case_id.into(),
                metric: metric.into(),
                fingerprints: machines.into_iter().map(|m| m.fingerprint).collect(),
            });
        }
        Ok(machines
            .pop()
            .and_then(|mut m| m.metrics.remove(metric))
            .unwrap_or_default())
    }

    /// The stage medians of `case_id` per run id (runs matching `filter`), by stage name.
    pub fn stage_medians(
        &self,
        case_id: &str,
        filter: &SeriesFilter,
    ) -> Result<BTreeMap<String, BTreeMap<String, f64>>, HistoryError> {
        let (where_sql, filters) = filter_sql(filter, 2);
        let mut params: Vec<Box<dyn ToSql>> = vec![Box::new(case_id.to_string())];
        params.extend(filters.into_iter().map(|f| Box::new(f) as Box<dyn ToSql>));
        let sql = format!(
            "SELECT r.run_id, s.stage, s.median_ns FROM runs r JOIN cases c ON c.run = r.id
             JOIN stage_medians s ON s.case_row = c.id WHERE c.case_id = ?1{where_sql}"
        );
        let mut stmt = self.connection().prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(params.iter()))?;
        let mut out: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
        while let Some(r) = rows.next()? {
            out.entry(r.get(0)?)
                .or_default()
                .insert(r.get(1)?, r.get(2)?);
        }
        Ok(out)
    }
}
