//! Reading a study's runs back: per-iteration samples by case, figure and variant, pooled over
//! the rounds, and each variant's settings as read back.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;

use super::figure::Figure;
use crate::compare::gate::Samples as GateSamples;
use crate::compare::input::PooledCase;
use crate::spec::{CaseId, Spec};
use crate::store::load_run;
use crate::store::record::IterationRecord;
use crate::study::cpucost::CpuCost;
use crate::study::record::{RunStatus, StudyRecord, VariantRunRecord, read_json};

/// Per-iteration samples of one figure of one case for one variant, pooled over rounds.
#[derive(Clone, Debug, Default)]
pub struct VariantSamples {
    /// Runs that contributed.
    pub runs: usize,
    /// One value per iteration.
    pub values: Vec<f64>,
    /// The round of each value.
    pub rounds: Vec<u32>,
    /// The iteration each value comes from: its index in the variant's `Pool` of the case
    /// (a stage absent from some iterations has fewer values than the pool has iterations).
    pub iterations: Vec<usize>,
    /// The fewest latency samples any of these iterations holds (p99 is gated only with
    /// ≥ 100k).
    pub min_latency_count: Option<u64>,
}

impl VariantSamples {
    /// The values for the gate, grouped by run (consecutive values of one round).
    pub(super) fn samples(&self) -> GateSamples {
        let mut runs: Vec<usize> = Vec::new();
        for (i, r) in self.rounds.iter().enumerate() {
            match runs.last_mut() {
                Some(n) if i > 0 && self.rounds[i - 1] == *r => *n += 1,
                _ => runs.push(1),
            }
        }
        GateSamples {
            values: self.values.clone(),
            runs,
            min_latency_count: self.min_latency_count.unwrap_or(0),
        }
    }
}

/// Samples by (study case, figure), then by variant.
pub type Samples = BTreeMap<(CaseId, Figure), BTreeMap<String, VariantSamples>>;

/// What a variant's runs of one case show besides its figures: the cost and the stages.
#[derive(Clone, Debug, Default)]
pub struct CaseExtras {
    /// CPU time per message of both sides together (client + server), per iteration, ns.
    pub cpu_per_msg: VariantSamples,
    /// Each stage's per-iteration medians, ns: user-space stages by name, kernel stages as
    /// `kernel <key>`.
    pub stages: BTreeMap<String, VariantSamples>,
}

/// Extras by study case, then by variant.
pub type Extras = BTreeMap<CaseId, BTreeMap<String, CaseExtras>>;

/// One variant's iterations of one study case, run after run (in the order of the samples'
/// values), for the gate's trust code.
#[derive(Clone, Debug, Default)]
pub struct Pool {
    /// The spec of its first run.
    pub spec: Option<Spec>,
    /// Every iteration.
    pub iterations: Vec<IterationRecord>,
    /// How many of `iterations` each run contributed, in order.
    pub per_run: Vec<usize>,
    /// Each run's id.
    pub run_ids: Vec<String>,
    /// True when the workers were pinned (in its first run).
    pub pinned: bool,
}

impl Pool {
    /// As the gate pools a side's case; `None` before any run.
    pub fn pooled(&self) -> Option<PooledCase<'_>> {
        Some(PooledCase {
            spec: self.spec.as_ref()?,
            iterations: self.iterations.iter().collect(),
            per_run: self.per_run.clone(),
            run_ids: self.run_ids.iter().map(String::as_str).collect(),
            errors: Vec::new(),
            lengths: Vec::new(),
            pinned: self.pinned,
        })
    }
}

/// Pools by study case, then by variant.
pub type Pools = BTreeMap<CaseId, BTreeMap<String, Pool>>;

/// Everything the report reads from a study's runs.
#[derive(Default)]
pub struct Collected {
    /// The figures' samples.
    pub samples: Samples,
    /// The iterations behind them.
    pub pools: Pools,
    /// Cost and stages.
    pub extras: Extras,
    /// Each variant's settings as its first stored run read them back.
    pub settings: BTreeMap<String, VariantRunRecord>,
    /// Each variant's CPU cost, one per stored run.
    pub costs: BTreeMap<String, Vec<CpuCost>>,
}

impl VariantSamples {
    /// Only the values of the iterations whose `keep` entry is true (one entry per iteration
    /// of the pool, as the gate's trust code marks them).
    pub(super) fn kept(&self, keep: &[bool]) -> VariantSamples {
        let mut out = VariantSamples {
            runs: self.runs,
            min_latency_count: self.min_latency_count,
            ..VariantSamples::default()
        };
        for ((&v, &r), &i) in self.values.iter().zip(&self.rounds).zip(&self.iterations) {
            if keep.get(i).copied().unwrap_or(true) {
                out.push(r, i, v);
            }
        }
        out
    }

    /// Adds the value of the pool's iteration `iteration`, measured in `round`.
    pub(super) fn push(&mut self, round: u32, iteration: usize, value: f64) {
        self.values.push(value);
        self.rounds.push(round);
        self.iterations.push(iteration);
    }
}

/// Reads every stored run of the study in `dir`: the samples, the extras, each variant's
/// settings as read back (from its first stored run) and its runs' CPU costs.
pub fn collect(dir: &Path, record: &StudyRecord) -> Result<Collected> {
    let mut c = Collected::default();
    for run in &record.runs {
        let Some(id) = &run.run_id else { continue };
        if run.status == RunStatus::Failed {
            continue;
        }
        let run_dir = dir.join("runs").join(id);
        let rec = load_run(&run_dir)?;
        let variant: VariantRunRecord = read_json(&run_dir.join("variant.json"))?;
        for case in &rec.cases {
            let Some(m) = variant.cases.iter().find(|m| m.run_case == case.case_id) else {
                continue;
            };
            // The pool's index of this run's first iteration.
            let first = c
                .pools
                .get(&m.study_case)
                .and_then(|v| v.get(&run.variant))
                .map_or(0, |p| p.iterations.len());
            for f in Figure::for_workload(case.spec.workload) {
                let s = c
                    .samples
                    .entry((m.study_case.clone(), f))
                    .or_default()
                    .entry(run.variant.clone())
                    .or_default();
                s.runs += 1;
                for (k, it) in case.iterations.iter().enumerate() {
                    s.push(run.round, first + k, f.value(it, case.spec.workload));
                    let n = it.latency.count;
                    s.min_latency_count = Some(s.min_latency_count.map_or(n, |m| m.min(n)));
                }
            }
            let pool = c
                .pools
                .entry(m.study_case.clone())
                .or_default()
                .entry(run.variant.clone())
                .or_default();
            if pool.spec.is_none() {
                pool.spec = Some(case.spec.clone());
                pool.pinned = !case.requested_cpus.client.is_empty();
            }
            pool.iterations.extend(case.iterations.iter().cloned());
            pool.per_run.push(case.iterations.len());
            pool.run_ids.push(rec.run_id.clone());
            let e = c
                .extras
                .entry(m.study_case.clone())
                .or_default()
                .entry(run.variant.clone())
                .or_default();
            e.cpu_per_msg.runs += 1;
            for (k, it) in case.iterations.iter().enumerate() {
                let cpu = it.client.usage.cpu_ns_per_msg + it.server.usage.cpu_ns_per_msg;
                e.cpu_per_msg.push(run.round, first + k, cpu);
                let user = it.extras.stages.iter().map(|(n, v)| (n.to_string(), v));
                let kernel = it
                    .extras
                    .kernel_stages
                    .iter()
                    .map(|(n, v)| (format!("kernel {n}"), v));
                for (name, &ns) in user.chain(kernel) {
                    e.stages
                        .entry(name)
                        .or_default()
                        .push(run.round, first + k, ns as f64);
                }
            }
        }
        if let Some(cost) = &variant.cpu_cost {
            c.costs
                .entry(run.variant.clone())
                .or_default()
                .push(cost.clone());
        }
        c.settings.entry(run.variant.clone()).or_insert(variant);
    }
    Ok(c)
}
