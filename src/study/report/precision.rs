//! `study --precision`: how narrow each comparison's 95 % interval is after the rounds so far,
//! read from the study's stored runs with the report's own statistics. A case of a variant is
//! judged on its main figure (p50, or throughput for bulk workloads): the interval of its ratio
//! to the baseline, as the report shows it, or of its own median when the study has one variant.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Result;

use super::comparison::compare;
use super::curve::estimate;
use super::samples::{Samples, collect};
use super::trust::{self, Trusts};
use crate::compare::gate::DEFAULT_SEED;
use crate::stats::Estimate;
use crate::study::record::{StudyCasePrecision, StudyRecord};

/// Every case and variant of the study in `dir`, with the precision its rounds so far reach
/// against `target_rel` (the interval's half-width relative to its point).
pub fn assess(
    dir: &Path,
    record: &StudyRecord,
    target_rel: f64,
) -> Result<Vec<StudyCasePrecision>> {
    let collected = collect(dir, record)?;
    let names: Vec<String> = record.variants.iter().map(|v| v.name.clone()).collect();
    let trusts = trust::assess(&collected.pools, &names);
    Ok(precisions(&collected.samples, &trusts, &names, target_rel))
}

/// The precision of each case's main figure (the first of its figures) for every variant but
/// the baseline (for the baseline itself when it is the only variant), without the disturbed
/// iterations where the report leaves them out.
fn precisions(
    samples: &Samples,
    trusts: &Trusts,
    names: &[String],
    target_rel: f64,
) -> Vec<StudyCasePrecision> {
    let mut seen = BTreeSet::new();
    let mut keys = Vec::new();
    let mut pairs = Vec::new();
    let mut out = Vec::new();
    let record = |case, variant: &String, figure: super::Figure, e: Option<Estimate>| {
        let w = e.map_or(f64::INFINITY, |e| e.half_width_rel());
        StudyCasePrecision {
            case,
            variant: variant.clone(),
            figure: figure.short().to_string(),
            estimate: e,
            half_width_rel: w,
            reached: w <= target_rel,
        }
    };
    for ((case, figure), by_variant) in samples {
        if !seen.insert(case.clone()) {
            continue; // the first figure of a case is its main one
        }
        let of = |n: &String| by_variant.get(n).cloned().unwrap_or_default();
        match names {
            [] => {}
            [only] => {
                let e = estimate(&of(only), DEFAULT_SEED);
                out.push(record(case.clone(), only, *figure, e));
            }
            [base, rest @ ..] => {
                for name in rest {
                    keys.push((case.clone(), *figure, name.clone()));
                    let (b, v) = trust::pair(trusts, case, name, of(base), of(name));
                    pairs.push((*figure, b, v));
                }
            }
        }
    }
    for ((case, figure, name), c) in keys.into_iter().zip(compare(&pairs)) {
        out.push(record(case, &name, figure, c.estimate));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Spec, Transport};
    use crate::study::report::{Figure, VariantSamples};

    /// `rounds` rounds of 3 iterations around `center`, spread ±`spread` (relative) evenly.
    fn samples(center: f64, spread: f64, rounds: u32) -> VariantSamples {
        let mut s = VariantSamples::default();
        for r in 1..=rounds {
            s.runs += 1;
            for k in 0..3 {
                let step = (f64::from(r * 3 + k) * 0.618).fract() * 2.0 - 1.0;
                let at = s.values.len();
                s.push(r, at, center * (1.0 + spread * step));
            }
        }
        s
    }

    fn study(base: VariantSamples, other: Option<VariantSamples>) -> Samples {
        let case = Spec::new(Transport::Tcp4).case_id();
        let mut by_variant = std::collections::BTreeMap::new();
        by_variant.insert("base".to_string(), base.clone());
        if let Some(o) = other {
            by_variant.insert("other".to_string(), o);
        }
        let mut s = Samples::new();
        // p99 of the same case: not the main figure, never assessed.
        s.insert((case.clone(), Figure::P99), by_variant.clone());
        s.insert((case, Figure::P50), by_variant);
        s
    }

    #[test]
    fn narrow_samples_reach_the_target_and_wide_ones_do_not() {
        let names = ["base".to_string(), "other".to_string()];
        let narrow = study(
            samples(10_000.0, 0.001, 6),
            Some(samples(11_000.0, 0.001, 6)),
        );
        let p = precisions(&narrow, &Trusts::new(), &names, 0.02);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(
            (p[0].variant.as_str(), p[0].figure.as_str()),
            ("other", "p50")
        );
        let ratio = p[0].estimate.unwrap().point;
        assert!((ratio - 1.1).abs() < 0.01, "{ratio}");
        assert!(p[0].reached && p[0].half_width_rel < 0.02, "{p:?}");

        let wide = study(samples(10_000.0, 0.3, 6), Some(samples(11_000.0, 0.3, 6)));
        let p = precisions(&wide, &Trusts::new(), &names, 0.02);
        assert!(!p[0].reached && p[0].half_width_rel > 0.02, "{p:?}");
    }

    #[test]
    fn a_variant_without_runs_has_not_reached_and_one_variant_is_judged_on_its_median() {
        let names = ["base".to_string(), "other".to_string()];
        let p = precisions(
            &study(samples(10_000.0, 0.001, 6), None),
            &Trusts::new(),
            &names,
            0.02,
        );
        assert!(p[0].estimate.is_none() && !p[0].reached, "{p:?}");
        assert!(p[0].half_width_rel.is_infinite());

        let only = ["base".to_string()];
        let p = precisions(
            &study(samples(10_000.0, 0.001, 6), None),
            &Trusts::new(),
            &only,
            0.02,
        );
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].variant, "base");
        assert!(
            (p[0].estimate.unwrap().point - 10_000.0).abs() < 20.0,
            "{p:?}"
        );
        assert!(p[0].reached, "{p:?}");
    }
}
