//! The order of a study: rounds, each running every variant once in its own shuffled order
//! (seeded), so drift of the machine over minutes spreads over all variants instead of landing on
//! whichever ran last.

use serde::{Deserialize, Serialize};

use crate::run::schedule::Scheduler;

/// One run of the study: a variant in a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// Round, from 1.
    pub round: u32,
    /// Index of the variant in the study file.
    pub variant: usize,
    /// Seed of the run's own interleaved case order.
    pub run_seed: u64,
}

/// Every run of the study in order: `rounds` rounds of all `variants`, shuffled per round.
pub fn schedule(variants: usize, rounds: u32, seed: u64) -> Vec<Slot> {
    let mut scheduler = Scheduler::seeded(seed);
    let mut out = Vec::with_capacity(variants * rounds as usize);
    for round in 1..=rounds {
        for variant in scheduler.round(variants) {
            let run_seed = scheduler.nested_seed();
            out.push(Slot {
                round,
                variant,
                run_seed,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_runs_once_per_round() {
        let s = schedule(3, 4, 7);
        assert_eq!(s.len(), 12);
        for round in 1..=4 {
            let mut v: Vec<usize> = s
                .iter()
                .filter(|x| x.round == round)
                .map(|x| x.variant)
                .collect();
            v.sort();
            assert_eq!(v, vec![0, 1, 2]);
        }
    }

    #[test]
    fn the_order_is_seeded_and_shuffled() {
        assert_eq!(schedule(4, 5, 1), schedule(4, 5, 1));
        assert_ne!(schedule(4, 5, 1), schedule(4, 5, 2));
        let s = schedule(4, 20, 3);
        let firsts: std::collections::BTreeSet<usize> =
            s.chunks(4).map(|round| round[0].variant).collect();
        assert!(firsts.len() > 1, "the first variant of a round changes");
    }

    #[test]
    fn more_rounds_begin_with_the_fewer_rounds_schedule() {
        // study --precision adds round n+1 as the last round of the n+1-round schedule.
        for n in 1..8 {
            assert_eq!(
                schedule(3, n + 1, 9)[..3 * n as usize],
                schedule(3, n, 9)[..]
            );
        }
    }
}
