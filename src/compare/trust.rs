//! The gate on a noisy machine: for each compared case, which iterations were disturbed (the
//! canary bands over both sides together, the interference thresholds), whether they are left
//! out (only when both sides keep enough), both sides' canaries, and whether those differ beyond
//! their band (then the machine changed between BASE and NEW, and a change of the figures may
//! not be the program's).

use std::collections::BTreeMap;

use serde::Serialize;

use super::input::PooledCase;
use crate::stats::robust::{Band, Evidence, Policy, classify};
use crate::stats::{Alternative, mann_whitney_u, median};
use crate::store::record::IterationRecord;
use crate::store::trust::CanarySummary;
use crate::store::trust_tally::{canary_group, evidence};

/// Significance level of the test that BASE and NEW canaries differ: the warning needs both a
/// Mann–Whitney p below this and a shift of the medians beyond the band.
pub const CANARY_ALPHA: f64 = 0.001;

/// One side's disturbed iterations and canary.
#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SideTrust {
    /// Iterations of the case on this side.
    pub iterations: usize,
    /// Of those, disturbed.
    pub disturbed: usize,
    /// Disturbed iterations per reason (an iteration may have several).
    pub reasons: BTreeMap<String, usize>,
    /// The side's median canary.
    pub canary: Option<CanarySummary>,
}

/// What trust says about one compared case.
#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CaseTrust {
    /// BASE.
    pub base: SideTrust,
    /// NEW.
    pub new: SideTrust,
    /// True when the disturbed iterations were left out of the comparison.
    pub left_out: bool,
    /// Rounds (a BASE run and its NEW run) left out whole because a run of each had every
    /// iteration disturbed; 0 unless the sides are paired by round.
    pub rounds_dropped: usize,
    /// What was left out and why, or why nothing was, in words.
    pub note: String,
    /// BASE and NEW canaries differ beyond their band: the figures, in words.
    pub canary_differs: Option<String>,
}

impl CaseTrust {
    /// The note, when any iteration of either side was disturbed (left out or not): for the
    /// outputs that show only the verdicts (JUnit, GitHub annotations).
    pub fn disturbed_note(&self) -> Option<&str> {
        (self.base.disturbed + self.new.disturbed > 0).then_some(self.note.as_str())
    }
}

/// Which iterations of each side are disturbed, by the same bands: the canary band over both
/// sides together (the canary does not depend on the program under test), switch and interrupt
/// bands per side.
pub fn disturbed(
    base: &PooledCase<'_>,
    new: &PooledCase<'_>,
) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let mut run: Vec<Evidence> = Vec::new();
    let mut pairs: Vec<[usize; 2]> = Vec::new();
    for (side, case) in [base, new].into_iter().enumerate() {
        for it in &case.iterations {
            run.push(Evidence {
                canary_group: canary_group(&mut pairs, it),
                case_group: side,
                ..evidence(it, case.pinned)
            });
        }
    }
    let reasons: Vec<Vec<String>> = classify(&run, &Policy::default())
        .reasons
        .iter()
        .map(|r| r.iter().map(|x| x.kind().to_string()).collect())
        .collect();
    let (b, n) = reasons.split_at(base.iterations.len());
    (b.to_vec(), n.to_vec())
}

/// Counts one side's marks.
fn side(case: &PooledCase<'_>, marks: &[Vec<String>]) -> SideTrust {
    let mut reasons = BTreeMap::new();
    for kinds in marks {
        for k in kinds {
            *reasons.entry(k.clone()).or_insert(0) += 1;
        }
    }
    SideTrust {
        iterations: marks.len(),
        disturbed: marks.iter().filter(|m| !m.is_empty()).count(),
        reasons,
        canary: CanarySummary::of(case.iterations.iter().copied()),
    }
}

/// `3 of 18 (canary_spin 2, foreign_cpu 1)`.
fn describe(s: &SideTrust) -> String {
    let mut why: Vec<(&String, &usize)> = s.reasons.iter().collect();
    why.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let why: Vec<String> = why.iter().map(|(k, n)| format!("{k} {n}")).collect();
    if why.is_empty() {
        format!("{} of {}", s.disturbed, s.iterations)
    } else {
        format!("{} of {} ({})", s.disturbed, s.iterations, why.join(", "))
    }
}

/// How the comparison pairs the two sides, which decides what leaving out may not empty.
#[derive(Clone, Copy, Debug)]
pub enum Pairing<'r> {
    /// The iterations are the samples (one set of runs, or runs taken as independent).
    Iterations,
    /// Each run is a sample of its own: every run must keep an iteration.
    WholeRuns,
    /// Runs paired by round, [BASE run, NEW run] per round (indices into each side's runs): a
    /// round with a run that keeps no iteration is dropped whole, its partner run with it.
    Rounds(&'r [[usize; 2]]),
}

/// Per run of `case`, whether it has iterations but keeps none of them.
fn emptied(case: &PooledCase<'_>, keep: &[bool]) -> Vec<bool> {
    let mut rest = keep;
    case.per_run
        .iter()
        .map(|&n| {
            let (run, tail) = rest.split_at(n);
            rest = tail;
            n > 0 && !run.iter().any(|x| *x)
        })
        .collect()
}

/// Clears `keep` for every iteration of the runs `drop` names.
fn drop_runs(case: &PooledCase<'_>, keep: &mut [bool], drop: &[bool]) {
    let mut at = 0;
    for (&n, &d) in case.per_run.iter().zip(drop) {
        if d {
            keep[at..at + n].fill(false);
        }
        at += n;
    }
}

/// The case's trust: marks both sides and decides whether to leave the disturbed iterations out:
/// only when both sides keep at least `min_kept`, and, as `pairing` asks, every run keeps one or
/// (round-paired) the rounds whose run would keep none are dropped whole and at least `min_kept`
/// rounds remain. Compares the canaries. Returns it with the iterations to keep per side (all
/// when nothing is left out).
pub fn assess(
    base: &PooledCase<'_>,
    new: &PooledCase<'_>,
    min_kept: usize,
    pairing: &Pairing<'_>,
) -> (CaseTrust, Vec<bool>, Vec<bool>) {
    let (bm, nm) = disturbed(base, new);
    let (bs, ns) = (side(base, &bm), side(new, &nm));
    let keep = |m: &[Vec<String>]| m.iter().map(Vec::is_empty).collect::<Vec<bool>>();
    let (mut bk, mut nk) = (keep(&bm), keep(&nm));
    let kept = |k: &[bool]| k.iter().filter(|x| **x).count();
    let (be, ne) = (emptied(base, &bk), emptied(new, &nk));
    let mut rounds_dropped = 0;
    let mut rounds_left = None;
    let runs_ok = match pairing {
        Pairing::Iterations => true,
        Pairing::WholeRuns => !be.iter().chain(&ne).any(|e| *e),
        Pairing::Rounds(rounds) => {
            let gone: Vec<&[usize; 2]> = rounds.iter().filter(|[b, n]| be[*b] || ne[*n]).collect();
            rounds_dropped = gone.len();
            rounds_left = Some(rounds.len() - gone.len());
            let (mut bd, mut nd) = (vec![false; be.len()], vec![false; ne.len()]);
            for [b, n] in gone {
                (bd[*b], nd[*n]) = (true, true);
            }
            drop_runs(base, &mut bk, &bd);
            drop_runs(new, &mut nk, &nd);
            // Fewer rounds than the gate needs are its business (inconclusive), not trust's.
            rounds_dropped == 0 || rounds.len() - rounds_dropped >= min_kept
        }
    };
    let any = bs.disturbed + ns.disturbed > 0;
    let enough = kept(&bk) >= min_kept && kept(&nk) >= min_kept && runs_ok;
    let sides = format!("base {}, new {}", describe(&bs), describe(&ns));
    let rounds_text = |left: usize| {
        format!(
            "{rounds_dropped} of {} rounds whole (a run of each had every iteration disturbed; \
             its partner run goes too, so the pairs stay paired)",
            left + rounds_dropped
        )
    };
    let note = if !any {
        format!(
            "no iteration disturbed ({} base, {} new)",
            bs.iterations, ns.iterations
        )
    } else if enough {
        match rounds_left.filter(|_| rounds_dropped > 0) {
            Some(left) => format!(
                "left out as disturbed: {sides}; with them {}",
                rounds_text(left)
            ),
            None => format!("left out as disturbed: {sides}"),
        }
    } else {
        let why = match (pairing, rounds_left) {
            (Pairing::Rounds(_), Some(left)) if !runs_ok => format!(
                "dropping the {rounds_dropped} round(s) with a wholly disturbed run would leave \
                 {left} round(s), under {min_kept}"
            ),
            (Pairing::WholeRuns, _) if !runs_ok => {
                "leaving them out would leave a run without any".to_string()
            }
            _ => format!("leaving them out would leave a side under {min_kept} iterations"),
        };
        format!("disturbed but kept ({why}): {sides}")
    };
    let canary_differs = canary_difference(base, new);
    let left_out = any && enough;
    let trust = CaseTrust {
        base: bs,
        new: ns,
        left_out,
        rounds_dropped: if left_out { rounds_dropped } else { 0 },
        note,
        canary_differs,
    };
    if trust.left_out {
        (trust, bk, nk)
    } else {
        let all = |c: &PooledCase<'_>| vec![true; c.iterations.len()];
        (trust, all(base), all(new))
    }
}

/// The canary p50s of one probe over a side's iterations.
fn probe_values(
    its: &[&IterationRecord],
    get: fn(&crate::metrics::canary::CanaryFigures) -> Option<u64>,
) -> Vec<f64> {
    its.iter()
        .filter_map(|i| i.extras.canary.as_ref().and_then(get))
        .map(|v| v as f64)
        .collect()
}

/// Whether BASE's and NEW's canaries differ: for either probe, a two-sided Mann–Whitney p below
/// [`CANARY_ALPHA`] AND medians further apart than the band (max(3.5 · 1.4826 · MAD, 5 %) of the
/// log values, each side centred on its own median). Both, because a two-state canary's median
/// jumps between states by chance while the distributions stay alike, and a tiny but
/// significant shift is no reason to doubt a comparison.
pub fn canary_difference(base: &PooledCase<'_>, new: &PooledCase<'_>) -> Option<String> {
    let policy = Policy::default();
    let mut found = Vec::new();
    for (name, get) in [
        (
            "spin",
            (|c| c.spin.p50_ns) as fn(&crate::metrics::canary::CanaryFigures) -> Option<u64>,
        ),
        ("wake-up", |c| c.wake.p50_ns),
    ] {
        let (b, n) = (
            probe_values(&base.iterations, get),
            probe_values(&new.iterations, get),
        );
        if b.len() < policy.min_values || n.len() < policy.min_values {
            continue;
        }
        let (mb, mn) = (median(&b), median(&n));
        if mb <= 0.0 || mn <= 0.0 {
            continue;
        }
        let centred: Vec<f64> = b
            .iter()
            .map(|v| (v / mb).ln())
            .chain(n.iter().map(|v| (v / mn).ln()))
            .map(|l| l.exp())
            .collect();
        let Some(band) = Band::log(
            &centred,
            policy.k,
            policy.min_half_width_rel,
            policy.min_values,
        ) else {
            continue;
        };
        let shift = mn / mb;
        let p = match (
            mann_whitney_u(&b, &n, Alternative::Greater),
            mann_whitney_u(&b, &n, Alternative::Less),
        ) {
            (Ok(g), Ok(l)) => (2.0 * g.p_value.min(l.p_value)).min(1.0),
            _ => continue,
        };
        if p < CANARY_ALPHA && !band.contains(shift) {
            found.push(format!(
                "{name} canary base {} vs new {} ({:+.0} %, p = {p:.1e}; its band is ±{:.0} %)",
                ns_text(mb),
                ns_text(mn),
                (shift - 1.0) * 100.0,
                (band.upper - 1.0) * 100.0
            ));
        }
    }
    (!found.is_empty()).then(|| found.join("; "))
}

/// `103 ns`, `30.2 µs`.
fn ns_text(ns: f64) -> String {
    if ns < 1000.0 {
        format!("{ns:.0} ns")
    } else {
        format!("{:.1} µs", ns / 1000.0)
    }
}

/// The canaries of both sides in words: `canary p50 (spin / wake-up): base 103 ns / 30.2 µs, new
/// 104 ns / 29.8 µs`; `None` when neither side has one.
pub fn canaries(t: &CaseTrust) -> Option<String> {
    let text = |c: &Option<CanarySummary>| match c {
        Some(c) => format!(
            "{} / {}",
            c.spin_p50_ns.map_or("-".into(), ns_text),
            c.wake_p50_ns.map_or("-".into(), ns_text)
        ),
        None => "-".into(),
    };
    (t.base.canary.is_some() || t.new.canary.is_some()).then(|| {
        format!(
            "canary p50 (spin / wake-up): base {}, new {}",
            text(&t.base.canary),
            text(&t.new.canary)
        )
    })
}
