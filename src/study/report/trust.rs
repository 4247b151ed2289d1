//! Disturbed iterations in a study: each variant against the baseline, per case, by the gate's
//! own rule ([`crate::compare::trust`]: the same marks, left out only when both keep at least the
//! gate's minimum and every run keeps one, since the gate resamples a variant's runs), with the
//! gate's words for how many and why.

use std::collections::BTreeMap;

use super::samples::{Pools, VariantSamples};
use crate::compare::gate::DEFAULT_MIN_ITERATIONS;
use crate::compare::trust::{CaseTrust, Pairing, assess as assess_case};
use crate::spec::CaseId;

/// What trust says of one variant of one case against the baseline.
#[derive(Clone, Debug)]
pub struct Kept {
    /// The gate's trust record (`base`: the baseline, `new`: the variant).
    pub trust: CaseTrust,
    /// Per baseline iteration, whether the comparison keeps it.
    pub base: Vec<bool>,
    /// Per variant iteration, whether the comparison keeps it.
    pub variant: Vec<bool>,
}

/// Trust by (study case, variant), for every variant but the baseline.
pub type Trusts = BTreeMap<(CaseId, String), Kept>;

/// Marks each variant's iterations against the baseline's, case by case.
pub fn assess(pools: &Pools, names: &[String]) -> Trusts {
    let mut out = Trusts::new();
    let Some((baseline, rest)) = names.split_first() else {
        return out;
    };
    for (case, by_variant) in pools {
        let Some(base) = by_variant.get(baseline).and_then(|p| p.pooled()) else {
            continue;
        };
        for name in rest {
            let Some(variant) = by_variant.get(name).and_then(|p| p.pooled()) else {
                continue;
            };
            let (trust, b, v) =
                assess_case(&base, &variant, DEFAULT_MIN_ITERATIONS, &Pairing::WholeRuns);
            out.insert(
                (case.clone(), name.clone()),
                Kept {
                    trust,
                    base: b,
                    variant: v,
                },
            );
        }
    }
    out
}

/// The baseline's and the variant's samples of `case` as the comparison takes them: without the
/// disturbed iterations when trust left them out.
pub fn pair(
    trusts: &Trusts,
    case: &CaseId,
    variant: &str,
    base: VariantSamples,
    samples: VariantSamples,
) -> (VariantSamples, VariantSamples) {
    match trusts.get(&(case.clone(), variant.to_string())) {
        Some(k) if k.trust.left_out => (base.kept(&k.base), samples.kept(&k.variant)),
        _ => (base, samples),
    }
}

/// The gate's note (base: the baseline, new: the variant) when any iteration of either side was
/// disturbed.
pub fn note(trusts: &Trusts, case: &CaseId, variant: &str) -> Option<String> {
    trusts
        .get(&(case.clone(), variant.to_string()))
        .and_then(|k| k.trust.disturbed_note())
        .map(str::to_string)
}
