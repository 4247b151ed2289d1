//! A run.json ([`RunRecord`]) as the history stores it: per case the summary figures, every
//! iteration's figures (so statistics can be recomputed), the stage medians when the run measured
//! stages, and the machine with its loopback settings in one line.

use std::collections::BTreeMap;

use crate::host::environment::Environment;
use crate::store::metric::Metric;
use crate::store::record::{CaseRecord, CaseSummary, IterationRecord, RunRecord};
use crate::workload;

use super::figures::{CaseFigures, IterationFigures, RunEnvironment, RunFigures};

/// Where a run came from in version control, and its label; `None` leaves it unknown (the
/// label then defaults to the run's own `--label`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provenance {
    /// The commit measured.
    pub commit: Option<String>,
    /// Its branch.
    pub branch: Option<String>,
    /// A label for the history (overrides the run's).
    pub label: Option<String>,
}

/// The loopback settings of `env` in one canonical line: per loopback interface its MTU, queue
/// length, state and offloads, e.g. `lo mtu=65536 txqueuelen=1000 up tso=on gso=on gro=on`.
pub fn lo_settings(env: &Environment) -> String {
    env.loopback
        .iter()
        .map(|lo| {
            let num = |v: Option<u32>| v.map_or("?".to_string(), |v| v.to_string());
            let mut line = format!(
                "{} mtu={} txqueuelen={} {}",
                lo.name,
                num(lo.mtu),
                num(lo.tx_queue_len),
                if lo.up { "up" } else { "down" }
            );
            for (offload, on) in &lo.offloads {
                line.push_str(&format!(" {offload}={}", if *on { "on" } else { "off" }));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The machine part of a run's environment.
pub fn run_environment(env: &Environment) -> RunEnvironment {
    RunEnvironment {
        host: env.hostname.clone(),
        kernel: env.kernel_release.clone(),
        cpu_model: env.cpu_model.clone(),
        cpu_count: env.online_cpus as u32,
        virtualization: env.virtualization.clone(),
        lo_settings: lo_settings(env),
    }
}

fn iteration(it: &IterationRecord, case: &CaseRecord) -> IterationFigures {
    let value = |m: Metric| m.value(it, case.spec.workload);
    IterationFigures {
        p50_ns: value(Metric::P50),
        p99_ns: value(Metric::P99),
        p999_ns: value(Metric::P999),
        throughput: value(Metric::Throughput),
        receiver_cpu_ns: value(Metric::ReceiverCpu),
    }
}

/// The median of every measured stage (`--stages`: user space, by its name; `--trace`: kernel
/// stages as `kernel:<name>`), in ns.
fn stage_medians(summary: &CaseSummary) -> BTreeMap<String, f64> {
    let user = summary
        .extras
        .stages
        .iter()
        .map(|(n, s)| (n.to_string(), s));
    let kernel = summary
        .extras
        .kernel_stages
        .iter()
        .map(|(n, s)| (format!("kernel:{n}"), s));
    user.chain(kernel)
        .filter(|(_, s)| s.latency.count > 0)
        .map(|(n, s)| (n, s.latency.p50_ns as f64))
        .collect()
}

/// A case's figures, or `None` for a case that finished no iteration.
pub fn case_figures(case: &CaseRecord) -> Option<CaseFigures> {
    let summary = case.summary.as_ref()?;
    let def = workload::def(case.spec.workload);
    let unit = Metric::Throughput.unit(case.spec.workload);
    let latency = |v: u64| (summary.latency.count > 0).then_some(v as f64);
    let figures = IterationFigures {
        p50_ns: latency(summary.latency.p50_ns),
        p99_ns: latency(summary.latency.p99_ns),
        p999_ns: latency(summary.latency.p999_ns),
        throughput: Some(match unit {
            crate::store::metric::Unit::BytesPerSec => summary.bytes_per_sec,
            _ => summary.msgs_per_sec,
        }),
        receiver_cpu_ns: def
            .counted_by_server()
            .then_some(summary.server.usage.cpu_ns_per_msg),
    };
    let min_latency_samples = case
        .iterations
        .iter()
        .map(|it| it.latency.count)
        .min()
        .filter(|&n| n > 0);
    Some(CaseFigures {
        case_id: case.case_id.0.clone(),
        throughput_unit: unit,
        summary: figures,
        iterations: case
            .iterations
            .iter()
            .map(|it| iteration(it, case))
            .collect(),
        stage_medians_ns: stage_medians(summary),
        min_latency_samples,
    })
}

/// The figures of `record` with their provenance.
pub fn run_figures(record: &RunRecord, provenance: &Provenance) -> RunFigures {
    RunFigures {
        run_id: record.run_id.clone(),
        started_at: record.started_at.clone(),
        complete: record.complete,
        environment: run_environment(&record.environment),
        commit: provenance.commit.clone(),
        branch: provenance.branch.clone(),
        label: provenance.label.clone().or_else(|| record.label.clone()),
        cases: record.cases.iter().filter_map(case_figures).collect(),
    }
}
