//! The two searches for change points: binary segmentation with Student's test, and Matteson &
//! James's procedure with the permutation test. Both return the accepted splits unsorted.

use std::ops::Range;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::energy::{self, Scratch, best_split, ranks};
use super::model::Config;
use super::significance::{PermutationInput, permutation_p, student_bonferroni};

/// A split accepted by the search: where, its p-value and Q̂.
pub type Found = (usize, f64, f64);

/// Binary segmentation with Student's test: every segment's best split is tested on its own.
pub fn student(logs: &[f64], config: &Config) -> Vec<Found> {
    let (mut found, mut scratch) = (Vec::new(), Scratch::default());
    let whole: Range<usize> = 0..logs.len();
    let mut stack = vec![whole];
    while let Some(seg) = stack.pop() {
        let part = &logs[seg.clone()];
        let Some(split) = best_split(part, &ranks(part), config.min_size, &mut scratch) else {
            continue;
        };
        let tau = seg.start + split.at;
        let candidates = seg.len() + 1 - 2 * config.min_size;
        let p = student_bonferroni(&logs[seg.start..tau], &logs[tau..seg.end], candidates);
        if p <= config.alpha {
            found.push((tau, p, split.q_hat));
            stack.push(seg.start..tau);
            stack.push(tau..seg.end);
        }
    }
    found
}

/// Matteson & James's procedure: the largest Q̂ over all segments is tested against the same
/// maximum over within-segment permutations; the first non-significant candidate ends it.
pub fn permutation(logs: &[f64], config: &Config, permutations: usize) -> Vec<Found> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut pairs: Vec<(f64, u32)> = logs.iter().copied().zip(ranks(logs)).collect();
    let whole: Range<usize> = 0..logs.len();
    let mut segments = vec![whole];
    let (mut found, mut scratch) = (Vec::new(), Scratch::default());
    loop {
        let mut best: Option<(usize, energy::Split)> = None;
        for (k, seg) in segments.iter().enumerate() {
            let (v, r): (Vec<f64>, Vec<u32>) = pairs[seg.clone()].iter().copied().unzip();
            let split = best_split(&v, &r, config.min_size, &mut scratch);
            if let Some(s) = split.filter(|s| best.is_none_or(|(_, b)| s.q_hat > b.q_hat)) {
                best = Some((k, s));
            }
        }
        let Some((k, split)) = best else { break };
        let input = PermutationInput {
            values: &pairs,
            segments: &segments,
            min_size: config.min_size,
            observed: split.q_hat,
            alpha: config.alpha,
        };
        let p = permutation_p(&input, permutations, &mut rng);
        if p > config.alpha {
            break;
        }
        let seg = segments.remove(k);
        let tau = seg.start + split.at;
        for half in [seg.start..tau, tau..seg.end] {
            let r = ranks(&logs[half.clone()]);
            for (i, rank) in half.clone().zip(r) {
                pairs[i].1 = rank;
            }
            segments.push(half);
        }
        found.push((tau, p, split.q_hat));
    }
    found
}
