//! Reading a study's runs back: per-iteration samples by case, figure and variant, pooled over
//! the rounds, and each variant's settings as read back.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;

use super::figure::Figure;
use crate::compare::gate::Samples as GateSamples;
use crate::spec::CaseId;
use crate::store::load_run;
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

/// Reads every stored run of the study in `dir`: the samples, and each variant's settings as
/// read back (from its first stored run).
pub fn collect(
    dir: &Path,
    record: &StudyRecord,
) -> Result<(Samples, BTreeMap<String, VariantRunRecord>)> {
    let mut samples: Samples = BTreeMap::new();
    let mut settings = BTreeMap::new();
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
            for f in Figure::for_workload(case.spec.workload) {
                let s = samples
                    .entry((m.study_case.clone(), f))
                    .or_default()
                    .entry(run.variant.clone())
                    .or_default();
                s.runs += 1;
                for it in &case.iterations {
                    s.values.push(f.value(it, case.spec.workload));
                    s.rounds.push(run.round);
                    let n = it.latency.count;
                    s.min_latency_count = Some(s.min_latency_count.map_or(n, |m| m.min(n)));
                }
            }
        }
        settings.entry(run.variant.clone()).or_insert(variant);
    }
    Ok((samples, settings))
}
