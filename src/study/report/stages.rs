//! Which stages of the round trip moved between the baseline and a variant: each stage's
//! per-iteration medians compared with the gate's statistics (two-sided Mann–Whitney U, Holm over
//! the variant's stages of the case) and the difference of medians with a two-stage bootstrap
//! interval (rounds, then iterations). A stage moved when it is significant and its interval
//! excludes zero.

use std::collections::BTreeMap;

use super::samples::VariantSamples;
use crate::compare::gate::{DEFAULT_ALPHA, DEFAULT_CONFIDENCE, DEFAULT_SEED};
use crate::stats::{Alternative, Estimate, difference_of_medians_clustered, holm, mann_whitney_u};

/// Resamples per stage interval: a study compares dozens of stages, and the interval's ends
/// need not be finer than the µs they are printed in.
const RESAMPLES: usize = 2_000;

/// One stage of one variant against the baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct StageChange {
    /// The stage (`wakeup`, `kernel response.idle_exit`).
    pub stage: String,
    /// Median of the baseline's per-iteration medians, ns.
    pub base_ns: f64,
    /// variant − baseline of the medians, ns, with its interval.
    pub difference: Estimate,
    /// Two-sided p-value, Holm-adjusted over the stages compared.
    pub p_holm: f64,
    /// Significant at α = 0.05 and the interval excludes zero.
    pub moved: bool,
}

/// Compares every stage both sides have; results ordered by the size of the change, largest
/// first. `seed` varies the bootstrap between calls.
pub fn compare(
    base: &BTreeMap<String, VariantSamples>,
    variant: &BTreeMap<String, VariantSamples>,
    seed: u64,
) -> Vec<StageChange> {
    let mut out = Vec::new();
    let mut p = Vec::new();
    for (k, (stage, b)) in base.iter().enumerate() {
        let Some(v) = variant.get(stage) else {
            continue;
        };
        let (bs, vs) = (b.samples(), v.samples());
        let Ok(difference) = difference_of_medians_clustered(
            &bs.clusters(),
            &vs.clusters(),
            DEFAULT_CONFIDENCE,
            DEFAULT_SEED ^ seed ^ (k as u64).wrapping_mul(0x9e37_79b9),
            RESAMPLES,
        ) else {
            continue;
        };
        let two_sided = match (
            mann_whitney_u(&b.values, &v.values, Alternative::Less),
            mann_whitney_u(&b.values, &v.values, Alternative::Greater),
        ) {
            (Ok(l), Ok(g)) => (2.0 * l.p_value.min(g.p_value)).min(1.0),
            _ => 1.0,
        };
        p.push(two_sided);
        out.push(StageChange {
            stage: stage.clone(),
            base_ns: crate::stats::median(&b.values),
            difference,
            p_holm: 1.0,
            moved: false,
        });
    }
    for (c, adjusted) in out.iter_mut().zip(holm(&p)) {
        c.p_holm = adjusted;
        let ci = c.difference.confidence_interval;
        c.moved = adjusted < DEFAULT_ALPHA && (ci.lower_bound > 0.0 || ci.upper_bound < 0.0);
    }
    out.sort_by(|a, b| {
        b.difference
            .point
            .abs()
            .total_cmp(&a.difference.point.abs())
    });
    out
}

/// `wakeup −22.1 µs [−23.0, −21.2]`.
pub fn describe(c: &StageChange) -> String {
    let ci = c.difference.confidence_interval;
    format!(
        "{} {} µs [{}, {}]",
        c.stage,
        signed_us(c.difference.point),
        signed_us(ci.lower_bound),
        signed_us(ci.upper_bound)
    )
}

/// A difference in ns as signed µs with one decimal and a real minus sign: `−22.1`, `+0.4`.
pub fn signed_us(ns: f64) -> String {
    let us = ns / 1000.0;
    if us < 0.0 {
        format!("−{:.1}", -us)
    } else {
        format!("+{us:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(values: &[f64]) -> VariantSamples {
        VariantSamples {
            runs: 2,
            values: values.to_vec(),
            rounds: values
                .iter()
                .enumerate()
                .map(|(i, _)| 1 + (2 * i / values.len()) as u32)
                .collect(),
            iterations: (0..values.len()).collect(),
            min_latency_count: None,
        }
    }

    fn spread(center: f64, n: usize) -> Vec<f64> {
        (0..n).map(|i| center + (i % 5) as f64 * 10.0).collect()
    }

    #[test]
    fn a_stage_that_shrank_moved_and_one_that_did_not_stayed() {
        let base: BTreeMap<String, VariantSamples> = [
            ("wakeup".to_string(), samples(&spread(25_000.0, 20))),
            ("client_send".to_string(), samples(&spread(3_000.0, 20))),
            ("only_in_base".to_string(), samples(&spread(1_000.0, 20))),
        ]
        .into();
        let variant: BTreeMap<String, VariantSamples> = [
            ("wakeup".to_string(), samples(&spread(3_000.0, 20))),
            ("client_send".to_string(), samples(&spread(3_000.0, 20))),
        ]
        .into();
        let c = compare(&base, &variant, 0);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].stage, "wakeup");
        assert!(c[0].moved, "{c:?}");
        assert_eq!(c[0].difference.point, -22_000.0);
        assert!(!c[1].moved, "{c:?}");
        assert!(
            describe(&c[0]).starts_with("wakeup −22.0 µs ["),
            "{}",
            describe(&c[0])
        );
        assert_eq!(signed_us(400.0), "+0.4");
    }

    #[test]
    fn too_few_iterations_cannot_move_a_stage() {
        let base: BTreeMap<String, VariantSamples> =
            [("wakeup".to_string(), samples(&[25_000.0, 26_000.0]))].into();
        let variant: BTreeMap<String, VariantSamples> =
            [("wakeup".to_string(), samples(&[3_000.0, 3_100.0]))].into();
        let c = compare(&base, &variant, 0);
        assert!(
            !c[0].moved,
            "two iterations a side cannot reach p < 0.05: {c:?}"
        );
    }
}
