//! Whole runs read back out of a history as [`RunFigures`]: what merging one history file into
//! another (`history import OTHER.sqlite`) adds, with the commit, branch and label they had.

use std::collections::BTreeMap;

use rusqlite::params;

use super::error::HistoryError;
use super::history::History;
use crate::history::figures::{CaseFigures, IterationFigures, RunEnvironment, RunFigures};
use crate::store::metric::{Metric, Unit};

fn set(figures: &mut IterationFigures, metric: Metric, value: f64) {
    let slot = match metric {
        Metric::P50 => &mut figures.p50_ns,
        Metric::P99 => &mut figures.p99_ns,
        Metric::P999 => &mut figures.p999_ns,
        Metric::Throughput => &mut figures.throughput,
        Metric::ReceiverCpu => &mut figures.receiver_cpu_ns,
    };
    *slot = Some(value);
}

fn unit(name: &str) -> Unit {
    match name {
        "bytes/s" => Unit::BytesPerSec,
        "msgs/s" => Unit::MsgsPerSec,
        _ => Unit::Nanoseconds,
    }
}

impl History {
    /// Every run in the file, oldest first, as it was added.
    pub fn run_figures(&self) -> Result<Vec<RunFigures>, HistoryError> {
        let conn = self.connection();
        let mut runs_stmt = conn.prepare(
            "SELECT id, run_id, started_at, complete, host, kernel, cpu_model, cpu_count,
                    virtualization, lo_settings, commit_sha, branch, label
             FROM runs ORDER BY started_at, run_id",
        )?;
        let runs: Vec<(i64, RunFigures)> = runs_stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    RunFigures {
                        run_id: r.get(1)?,
                        started_at: r.get(2)?,
                        complete: r.get(3)?,
                        environment: RunEnvironment {
                            host: r.get(4)?,
                            kernel: r.get(5)?,
                            cpu_model: r.get(6)?,
                            cpu_count: r.get(7)?,
                            virtualization: r.get(8)?,
                            lo_settings: r.get(9)?,
                        },
                        commit: r.get(10)?,
                        branch: r.get(11)?,
                        label: r.get(12)?,
                        cases: Vec::new(),
                    },
                ))
            })?
            .collect::<Result<_, _>>()?;
        let mut cases_stmt = conn.prepare_cached(
            "SELECT id, case_id, min_latency_samples FROM cases WHERE run = ?1 ORDER BY id",
        )?;
        let mut figures_stmt =
            conn.prepare_cached("SELECT metric, unit, value FROM figures WHERE case_row = ?1")?;
        let mut iterations_stmt = conn.prepare_cached(
            "SELECT metric, iteration, value FROM iteration_figures WHERE case_row = ?1",
        )?;
        let mut stages_stmt =
            conn.prepare_cached("SELECT stage, median_ns FROM stage_medians WHERE case_row = ?1")?;
        let mut out = Vec::with_capacity(runs.len());
        for (row, mut run) in runs {
            let cases: Vec<(i64, String, Option<i64>)> = cases_stmt
                .query_map(params![row], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?;
            for (case_row, case_id, samples) in cases {
                let mut case = CaseFigures {
                    case_id,
                    throughput_unit: Unit::MsgsPerSec,
                    summary: IterationFigures::default(),
                    iterations: Vec::new(),
                    stage_medians_ns: BTreeMap::new(),
                    min_latency_samples: samples.map(|n| n as u64),
                };
                let mut rows = figures_stmt.query(params![case_row])?;
                while let Some(r) = rows.next()? {
                    let (metric, unit_name, value): (String, String, f64) =
                        (r.get(0)?, r.get(1)?, r.get(2)?);
                    let Ok(metric) = metric.parse::<Metric>() else {
                        continue;
                    };
                    if metric == Metric::Throughput {
                        case.throughput_unit = unit(&unit_name);
                    }
                    set(&mut case.summary, metric, value);
                }
                let mut rows = iterations_stmt.query(params![case_row])?;
                while let Some(r) = rows.next()? {
                    let (metric, index, value): (String, i64, f64) =
                        (r.get(0)?, r.get(1)?, r.get(2)?);
                    let Ok(metric) = metric.parse::<Metric>() else {
                        continue;
                    };
                    let index = index as usize;
                    if case.iterations.len() <= index {
                        case.iterations
                            .resize(index + 1, IterationFigures::default());
                    }
                    set(&mut case.iterations[index], metric, value);
                }
                let mut rows = stages_stmt.query(params![case_row])?;
                while let Some(r) = rows.next()? {
                    case.stage_medians_ns.insert(r.get(0)?, r.get(1)?);
                }
                run.cases.push(case);
            }
            out.push(run);
        }
        Ok(out)
    }
}
