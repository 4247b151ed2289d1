//! Measuring to a precision (`--precision 2%`): keep adding interleaved rounds until every case's
//! p50 has a 95 % interval no wider than ±2 %, or the time budget is spent.
//!
//! **Statistic.** A case's p50 is the median of its per-iteration p50s over all rounds so far
//! (`ab`: the ratio NEW/BASE of the gate). Its interval comes from a caller-supplied function
//! over the rounds (one slice of values per round); `run` passes the two-stage percentile
//! bootstrap [`median_with_interval_clustered`](super::median_with_interval_clustered) (rounds with replacement, then
//! iterations within each drawn round), which is Kalibera & Jones' hierarchical bootstrap
//! ("Quantifying performance changes with effect size confidence intervals", Tech. Report 4-12,
//! University of Kent, 2012): rounds are the independent units, iterations inside a round
//! share that round's minute on the machine.
//!
//! **Stopping rule.** After each round every case is assessed; the run stops when all reach
//! the target half-width (and at least [`Target::min_rounds`] rounds ran), or when another round
//! would not fit in the budget. Stopping when a width falls below a fixed bound is the
//! fixed-width sequential interval of Chow & Robbins ("On the asymptotic theory of fixed-width
//! sequential confidence intervals for the mean", Ann. Math. Statist. 36, 1965): its coverage
//! tends to the nominal level as the width shrinks. With few rounds a bootstrap interval can be
//! narrow by chance and stop the run early; the minimum of 5 rounds keeps the coverage close to
//! nominal (measured in the tests and NOTES.md).
//!
//! **How many more rounds.** The half-width of a median over k independent rounds shrinks like
//! 1/√k, so a case at half-width w after k rounds needs about k·(w/target)² rounds in all
//! (Kalibera & Jones, "Rigorous benchmarking in reasonable time", ISMM 2013, choose the number
//! of top-level repetitions the same way, from the variance at that level).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::estimate::Estimate;

/// What `--precision` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// Largest accepted half-width relative to the p50 (0.02 for ±2 %).
    pub half_width_rel: f64,
    /// Confidence level of the interval (0.95).
    pub confidence: f64,
    /// Fewest rounds before the target may count as reached.
    pub min_rounds: usize,
}

impl Target {
    /// ±`half_width_rel` at 95 %, after at least [`DEFAULT_MIN_ROUNDS`] rounds.
    pub fn new(half_width_rel: f64) -> Target {
        Target {
            half_width_rel,
            confidence: 0.95,
            min_rounds: DEFAULT_MIN_ROUNDS,
        }
    }
}

/// Fewest rounds before a precision counts as reached: below 5 the two-stage bootstrap has too
/// few distinct resamples of rounds and its intervals are too often narrow by chance.
pub const DEFAULT_MIN_ROUNDS: usize = 5;

/// One case's precision after some rounds: what it records in run.json.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CasePrecision {
    /// The p50 (or ratio) and its interval.
    pub estimate: Estimate,
    /// The interval's half-width relative to the p50 (the "±X %" reached).
    pub half_width_rel: f64,
    /// Rounds measured so far.
    pub rounds: usize,
    /// True when the target half-width is met and at least `min_rounds` rounds ran.
    pub reached: bool,
    /// Projected total rounds for the target (= `rounds` once reached).
    pub rounds_needed: usize,
}

/// Assesses one case from its `rounds` (per-iteration p50s, one slice per round) with `interval`
/// (rounds, confidence → interval of the median). `None` when there is no value yet.
pub fn assess(
    rounds: &[&[f64]],
    target: &Target,
    interval: impl Fn(&[&[f64]], f64) -> Option<Estimate>,
) -> Option<CasePrecision> {
    let done = rounds.iter().filter(|r| !r.is_empty()).count();
    let iv = interval(rounds, target.confidence)?;
    let w = iv.half_width_rel();
    let reached = w <= target.half_width_rel && done >= target.min_rounds;
    Some(CasePrecision {
        estimate: iv,
        half_width_rel: w,
        rounds: done,
        reached,
        rounds_needed: if reached {
            done
        } else {
            projected_rounds(done, w, target)
        },
    })
}

/// Total rounds a case at half-width `w` after `done` rounds likely needs: done·(w/target)²,
/// at least `min_rounds` and at least one more than done.
pub fn projected_rounds(done: usize, w: f64, target: &Target) -> usize {
    let scaled = done as f64 * (w / target.half_width_rel).powi(2);
    let total = if scaled.is_finite() {
        scaled.ceil().min(1e9) as usize
    } else {
        usize::MAX / 2
    };
    total.max(target.min_rounds).max(done + 1)
}

/// The time the run may spend and has spent.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    /// `--max-time`.
    pub max: Duration,
    /// Spent so far.
    pub spent: Duration,
    /// What one more round of all cases costs (e.g. the mean of the rounds so far).
    pub per_round: Duration,
}

/// What to do after a round.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Decision {
    /// Every case reached the target: stop.
    Reached,
    /// Not yet: about `rounds` more are likely needed; `within_budget` says whether they fit.
    More {
        /// Projected further rounds (the largest over the cases).
        rounds: usize,
        /// True when that many rounds fit in the remaining budget.
        within_budget: bool,
    },
    /// Another round would not fit in the budget: stop, reporting the precision reached.
    BudgetSpent,
}

/// The decision over all cases after a round.
pub fn decide(cases: &[CasePrecision], budget: &Budget) -> Decision {
    if !cases.is_empty() && cases.iter().all(|c| c.reached) {
        return Decision::Reached;
    }
    if budget.spent + budget.per_round > budget.max {
        return Decision::BudgetSpent;
    }
    let more = cases
        .iter()
        .filter(|c| !c.reached)
        .map(|c| c.rounds_needed.saturating_sub(c.rounds))
        .max()
        .unwrap_or(1)
        .max(1);
    let left = budget.max.saturating_sub(budget.spent);
    let within_budget = (more as u128) * budget.per_round.as_nanos() <= left.as_nanos();
    Decision::More {
        rounds: more,
        within_budget,
    }
}

#[cfg(test)]
#[path = "precision_tests.rs"]
mod tests;
