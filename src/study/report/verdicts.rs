//! The verdict table: per case, one row per variant with the change of its main figure against
//! the baseline, the stages that moved and by how much, and the cost next to the benefit (CPU
//! per message of both sides, and the workers' CPUs' idle polling and busy time); and the same as
//! one printed sentence per variant, so the reading is not left to the reader.

use std::collections::BTreeMap;

use super::comparison::Comparison;
use super::figure::Figure;
use super::samples::{CaseExtras, Collected, VariantSamples};
use super::stages::{self, StageChange};
use super::trust::{self, Trusts};
use crate::compare::gate::{DEFAULT_CONFIDENCE, DEFAULT_SEED, Verdict};
use crate::spec::CaseId;
use crate::stats::{Estimate, median, ratio_of_medians_clustered};
use crate::study::cpucost::CpuCost;

/// The columns of a verdict table.
pub const VERDICT_HEADER: [&str; 9] = [
    "variant",
    "median",
    "change [95% CI]",
    "verdict",
    "stages that moved",
    "CPU/msg client+server",
    "CPU/msg change [95% CI]",
    "idle polling",
    "busy",
];

/// Samples by stage name.
type StageSamples = BTreeMap<String, VariantSamples>;

/// One case's verdicts.
pub struct CaseVerdicts {
    /// The study case.
    pub case: CaseId,
    /// The figure the verdicts are about (the workload's first: p50, or throughput).
    pub figure: Figure,
    /// One row per variant, the baseline first (see [`VERDICT_HEADER`]).
    pub rows: Vec<Vec<String>>,
    /// One sentence per variant but the baseline.
    pub sentences: Vec<String>,
}

/// A ratio as a signed percentage with a real minus sign: `−75 %`, `+12 %`.
pub fn signed_pct(ratio: f64) -> String {
    let pct = (ratio - 1.0) * 100.0;
    if pct < 0.0 {
        format!("−{:.0} %", -pct)
    } else {
        format!("+{pct:.0} %")
    }
}

/// `−75 % [−77 %, −73 %]`.
fn change(e: &Estimate) -> String {
    let ci = e.confidence_interval;
    format!(
        "{} [{}, {}]",
        signed_pct(e.point),
        signed_pct(ci.lower_bound),
        signed_pct(ci.upper_bound)
    )
}

fn pct(share: Option<f64>) -> String {
    share.map_or("-".into(), |s| format!("{:.0} %", s * 100.0))
}

/// The median over a variant's runs of one CPU-cost share.
fn cost_share(costs: Option<&Vec<CpuCost>>, f: fn(&CpuCost) -> Option<f64>) -> Option<f64> {
    let v: Vec<f64> = costs?.iter().filter_map(f).collect();
    (!v.is_empty()).then(|| median(&v))
}

/// The CPU per message of `variant` against `base`: ratio of medians with its interval.
fn cpu_change(base: &VariantSamples, variant: &VariantSamples) -> Option<Estimate> {
    let (b, v) = (base.samples(), variant.samples());
    ratio_of_medians_clustered(
        &b.clusters(),
        &v.clusters(),
        DEFAULT_CONFIDENCE,
        DEFAULT_SEED,
        crate::stats::DEFAULT_RESAMPLES,
    )
    .ok()
}

/// What the stages say, for the table and the sentence.
fn stage_words(changes: &[StageChange], recorded: bool) -> String {
    let moved: Vec<String> = changes
        .iter()
        .filter(|c| c.moved)
        .map(stages::describe)
        .collect();
    if !recorded {
        "stages not recorded".into()
    } else if moved.is_empty() {
        "none significantly".into()
    } else {
        moved.join(", ")
    }
}

fn verdict_word(c: Option<&Comparison>) -> String {
    match c.map(|c| c.outcome) {
        Some(Verdict::Improvement) => "better".into(),
        Some(Verdict::Regression) => "worse".into(),
        Some(v) => v.label().into(),
        None => "-".into(),
    }
}

/// Each stage's samples of the baseline and of a variant as their comparison takes them: without
/// the disturbed iterations when trust left them out of the figures' comparison.
fn paired_stages(
    trusts: &Trusts,
    case: &CaseId,
    name: &str,
    base: &CaseExtras,
    variant: &CaseExtras,
) -> (StageSamples, StageSamples) {
    let (mut b, mut v) = (StageSamples::new(), StageSamples::new());
    for (stage, bs) in &base.stages {
        let Some(vs) = variant.stages.get(stage) else {
            continue;
        };
        let (kb, kv) = trust::pair(trusts, case, name, bs.clone(), vs.clone());
        b.insert(stage.clone(), kb);
        v.insert(stage.clone(), kv);
    }
    (b, v)
}

/// The verdicts of every case, from the collected runs and the comparisons of the figures. The
/// CPU and stage comparisons leave out the iterations the figures' comparison left out as
/// disturbed ([`Trusts`]); the medians shown are over all iterations.
pub fn build(
    names: &[String],
    collected: &Collected,
    versus: &BTreeMap<(CaseId, Figure, String), Comparison>,
    trusts: &Trusts,
) -> Vec<CaseVerdicts> {
    let mut out = Vec::new();
    let mut last: Option<&CaseId> = None;
    for ((case, figure), by_variant) in &collected.samples {
        if last == Some(case) {
            continue; // the first figure of a case is its main one (p50, or throughput)
        }
        last = Some(case);
        let extras = collected.extras.get(case);
        let of = |n: &String| extras.and_then(|e| e.get(n)).cloned().unwrap_or_default();
        let base = of(&names[0]);
        let base_poll = cost_share(collected.costs.get(&names[0]), CpuCost::poll_share);
        let mut rows = Vec::new();
        let mut sentences = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let v = of(name);
            let values = by_variant
                .get(name)
                .map(|s| s.values.clone())
                .unwrap_or_default();
            let cmp = versus.get(&(case.clone(), *figure, name.clone()));
            let recorded = !base.stages.is_empty() && !v.stages.is_empty();
            let changes = if i == 0 {
                Vec::new()
            } else {
                let (bs, vs) = paired_stages(trusts, case, name, &base, &v);
                stages::compare(&bs, &vs, i as u64)
            };
            let cpu = (!v.cpu_per_msg.values.is_empty()).then(|| median(&v.cpu_per_msg.values));
            let cpu_vs = (i > 0)
                .then(|| {
                    let (b, n) = trust::pair(
                        trusts,
                        case,
                        name,
                        base.cpu_per_msg.clone(),
                        v.cpu_per_msg.clone(),
                    );
                    cpu_change(&b, &n)
                })
                .flatten();
            let poll = cost_share(collected.costs.get(name), CpuCost::poll_share);
            let busy = cost_share(collected.costs.get(name), CpuCost::busy_share);
            let estimate = cmp.and_then(|c| c.estimate);
            rows.push(vec![
                if i == 0 {
                    format!("{name} (baseline)")
                } else {
                    name.clone()
                },
                if values.is_empty() {
                    "-".into()
                } else {
                    figure.show(median(&values))
                },
                estimate.as_ref().map_or("-".into(), change),
                if i == 0 {
                    "-".into()
                } else {
                    verdict_word(cmp)
                },
                if i == 0 {
                    "-".into()
                } else {
                    stage_words(&changes, recorded)
                },
                cpu.map_or("-".into(), |c| format!("{c:.0} ns")),
                cpu_vs.as_ref().map_or("-".into(), change),
                pct(poll),
                pct(busy),
            ]);
            if i == 0 {
                continue;
            }
            let mut s = format!(
                "{name}: {} {}",
                figure.short(),
                estimate.as_ref().map_or("-".into(), change)
            );
            s.push_str(&format!(" ({})", verdict_word(cmp)));
            if recorded {
                s.push_str(&format!(", of which {}", stage_words(&changes, true)));
            } else {
                s.push_str("; stages not recorded");
            }
            if let Some(e) = &cpu_vs {
                s.push_str(&format!("; CPU per message {}", change(e)));
            }
            if poll.is_some() || base_poll.is_some() {
                s.push_str(&format!(
                    "; idle polling {} of the workers' CPUs (baseline {})",
                    pct(poll),
                    pct(base_poll)
                ));
            }
            if let Some(d) = cmp.and_then(|c| c.disturbed.as_ref()) {
                s.push_str(&format!("; against the baseline (base), {d}"));
            }
            sentences.push(s);
        }
        out.push(CaseVerdicts {
            case: case.clone(),
            figure: *figure,
            rows,
            sentences,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_signed_with_a_real_minus() {
        assert_eq!(signed_pct(0.25), "−75 %");
        assert_eq!(signed_pct(1.12), "+12 %");
        assert_eq!(pct(Some(0.853)), "85 %");
        assert_eq!(pct(None), "-");
    }
}
