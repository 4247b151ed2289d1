//! Is a candidate split real? Two tests, chosen by [`Significance`]:
//!
//! - **Student** (the default): Student's two-sample t-test (pooled variance) on the log figures
//!   either side of the split, Bonferroni-corrected for the number of splits the search could
//!   have picked in that segment. This is Otava/Hunter's choice of a t-test for speed and small
//!   samples (Fleming et al. 2023, `ttest_ind_from_stats` with equal variances), with the
//!   correction Otava leaves out: without it, the best of many splits passes a plain t-test far
//!   more often than α. Under the null (no change: one normal distribution on the log scale)
//!   the pooled test is exact, so the correction bounds the false-positive rate by α whatever
//!   the dependence between splits; it is conservative for long segments. (Welch's version was
//!   tried first: with 3 runs on one side its df approximation is liberal in the far tail that
//!   Bonferroni needs, 2.1 % false positives at α = 1 %.)
//! - **Permutation**: Matteson & James's test: permute the figures within every segment,
//!   recompute the largest Q̂, and count how often it reaches the observed one. Exact for
//!   exchangeable noise of any shape, but a permutation can never give p below the share of
//!   orderings that put the change in the same place: for 6 + 4 runs that is 2/C(10,4) ≈ 0.0095,
//!   so short histories cannot reach a small α. Stops early (Besag & Clifford 1991) once the
//!   exceedances already rule out significance.

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::energy::{Scratch, best_split};

/// Which test decides whether a candidate change point is significant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Significance {
    /// Student's t-test on log figures, Bonferroni over the segment's candidate splits.
    Student,
    /// Matteson & James's permutation test with this many permutations (199 in their paper).
    Permutation {
        /// Permutations drawn; the smallest reachable p-value is 1/(permutations + 1).
        permutations: usize,
    },
}

/// Two-sided Student t-test p-value of `a` against `b`, times `candidates` (Bonferroni), at
/// most 1.
pub fn student_bonferroni(a: &[f64], b: &[f64], candidates: usize) -> f64 {
    (student_p(a, b) * candidates.max(1) as f64).min(1.0)
}

/// Mean and sum of squared deviations.
fn mean_ss(v: &[f64]) -> (f64, f64) {
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    (mean, v.iter().map(|x| (x - mean).powi(2)).sum())
}

/// Two-sided p-value of Student's two-sample t-test with pooled variance (each side needs at
/// least one value, both together three).
pub fn student_p(a: &[f64], b: &[f64]) -> f64 {
    let ((ma, ssa), (mb, ssb)) = (mean_ss(a), mean_ss(b));
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let df = na + nb - 2.0;
    let se2 = (ssa + ssb) / df * (1.0 / na + 1.0 / nb);
    if se2 == 0.0 {
        // No noise at all: any difference is certain, none is no evidence.
        return if ma == mb { 1.0 } else { 0.0 };
    }
    let t = (mb - ma) / se2.sqrt();
    match StudentsT::new(0.0, 1.0, df) {
        Ok(dist) => (2.0 * dist.sf(t.abs())).min(1.0),
        Err(_) => 1.0,
    }
}

/// The observed statistic and how to reproduce it: every segment's values with their ranks.
pub struct PermutationInput<'a> {
    /// The series (log figures) and the dense ranks of each value within its own segment.
    pub values: &'a [(f64, u32)],
    /// The current segments, as index ranges into `values`.
    pub segments: &'a [std::ops::Range<usize>],
    /// Minimum values on each side of a split.
    pub min_size: usize,
    /// The largest Q̂ over the segments, observed on the unpermuted series.
    pub observed: f64,
    /// Significance level: permutations stop once p can no longer reach it.
    pub alpha: f64,
}

/// Matteson & James's permutation p-value, `(1 + exceedances) / (1 + permutations)`; when the
/// exceedances already exclude p ≤ α the loop stops and returns the p-value it has reached
/// (a lower bound, above α).
pub fn permutation_p(input: &PermutationInput, permutations: usize, rng: &mut ChaCha8Rng) -> f64 {
    let mut work: Vec<(f64, u32)> = input.values.to_vec();
    let (mut vals, mut rks) = (Vec::new(), Vec::new());
    let mut scratch = Scratch::default();
    // p = (1+g)/(R+1) ≤ α  ⇔  g ≤ α(R+1) − 1: one more exceedance decides "not significant".
    let allowed = (input.alpha * (permutations + 1) as f64 - 1.0)
        .floor()
        .max(-1.0) as i64;
    let mut exceed = 0i64;
    for done in 1..=permutations {
        let mut best = f64::NEG_INFINITY;
        for seg in input.segments {
            let part = &mut work[seg.clone()];
            part.shuffle(rng);
            vals.clear();
            rks.clear();
            vals.extend(part.iter().map(|p| p.0));
            rks.extend(part.iter().map(|p| p.1));
            if let Some(s) = best_split(&vals, &rks, input.min_size, &mut scratch) {
                best = best.max(s.q_hat);
            }
        }
        // The same split of the same values can come out a few ulps apart after a shuffle
        // (another summation order): such a tie must count as reaching the observed value.
        if best >= input.observed - 1e-9 * input.observed.abs() {
            exceed += 1;
            if exceed > allowed {
                return (1 + exceed) as f64 / (1 + done) as f64;
            }
        }
    }
    (1 + exceed) as f64 / (1 + permutations) as f64
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::super::energy::ranks;
    use super::*;

    fn p_of(values: &[f64], alpha: f64, permutations: usize) -> f64 {
        let pairs: Vec<(f64, u32)> = values.iter().copied().zip(ranks(values)).collect();
        let observed = best_split(values, &ranks(values), 3, &mut Scratch::default()).unwrap();
        let whole: std::ops::Range<usize> = 0..values.len();
        let segments = std::slice::from_ref(&whole);
        let input = PermutationInput {
            values: &pairs,
            segments,
            min_size: 3,
            observed: observed.q_hat,
            alpha,
        };
        permutation_p(&input, permutations, &mut ChaCha8Rng::seed_from_u64(3))
    }

    #[test]
    fn a_clean_step_beats_every_permutation_and_flat_data_stops_early() {
        let step: Vec<f64> = (0..40)
            .map(|i| {
                if i < 25 {
                    1.0 + 0.001 * i as f64
                } else {
                    2.0 + 0.001 * i as f64
                }
            })
            .collect();
        assert_eq!(p_of(&step, 0.01, 199), 1.0 / 200.0);
        // Every shuffle of a constant series matches it: at α = 0.01 and R = 199 the second
        // exceedance, after two permutations, ends the loop with p = (1 + 2)/(1 + 2).
        let flat = vec![5.0; 40];
        assert_eq!(p_of(&flat, 0.01, 199), 3.0 / 3.0);
    }

    #[test]
    fn student_matches_a_textbook_value() {
        // R: t.test(1:5, 6:10, var.equal = TRUE) gives t = -5, df = 8, p-value = 0.001053.
        let p = student_p(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0]);
        assert!((p - 0.0010528).abs() < 1e-6, "{p}");
    }

    #[test]
    fn bonferroni_multiplies_and_caps() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [6.0, 7.0, 8.0, 9.0, 10.0];
        assert!((student_bonferroni(&a, &b, 10) - 10.0 * student_p(&a, &b)).abs() < 1e-12);
        assert_eq!(student_bonferroni(&a, &a, 10), 1.0);
    }

    #[test]
    fn noiseless_sides_are_certain_or_no_evidence() {
        assert_eq!(student_p(&[1.0, 1.0], &[2.0, 2.0]), 0.0);
        assert_eq!(student_p(&[1.0, 1.0], &[1.0, 1.0]), 1.0);
    }
}
