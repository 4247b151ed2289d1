//! The gate with disturbed iterations (synthetic runs, no measuring): a CPU hog during some of
//! one side's iterations marks them `foreign_cpu`, they are left out, and the comparison is the
//! one the runs without them give; a canary that moved between BASE and NEW warns, and
//! `--strict-env` makes the case inconclusive.

use super::gate::MetricResult;
use super::input::{LoadedRun, Side};
use super::*;
use crate::metrics::canary::{CanaryFigures, ProbeFigures};
use crate::metrics::interference::{CpuInterference, Interference};

/// Deterministic spread in [−1, 1): the golden-ratio sequence.
fn spread(i: usize) -> f64 {
    ((i as f64 + 1.0) * 0.618_034).fract() * 2.0 - 1.0
}

fn probe(p50_ns: f64) -> ProbeFigures {
    ProbeFigures {
        p50_ns: Some(p50_ns as u64),
        round_trips: 150,
        asked: 150,
        ..ProbeFigures::default()
    }
}

/// How one side was measured.
struct Measured {
    /// Median round trip of an undisturbed iteration, ns (each iteration ±1 % around it).
    p50_ns: f64,
    /// Spin canary p50, ns (±1 %).
    spin_ns: f64,
    /// Iterations.
    n: usize,
    /// Iterations that ran beside a CPU hog: 40 % slower, half the workers' CPU time foreign.
    hogged: Vec<usize>,
}

/// One run of tcp4 rr 64 B blocking cross-core as `m` describes, with its canaries and
/// interference, `salt` varying the spread between runs.
fn run(id: &str, m: &Measured, salt: usize) -> LoadedRun {
    let p50s: Vec<u64> = (0..m.n)
        .map(|i| {
            let hog = if m.hogged.contains(&i) { 1.4 } else { 1.0 };
            (m.p50_ns * hog * (1.0 + 0.01 * spread(i + salt))) as u64
        })
        .collect();
    let mut run = LoadedRun::tcp4_rr(id, &p50s);
    for (i, it) in run.record.cases[0].iterations.iter_mut().enumerate() {
        let spin = m.spin_ns * (1.0 + 0.01 * spread(i + salt + 7));
        it.extras.canary = Some(CanaryFigures {
            cpus: [0, 1],
            spin: probe(spin),
            wake: probe(40_000.0),
            elapsed_ns: 3_000_000,
        });
        let foreign = if m.hogged.contains(&i) { 0.5 } else { 0.0 };
        let cpu = |cpu| CpuInterference {
            cpu,
            busy_ns: 900_000_000,
            steal_ns: 0,
            interrupts: 5_000,
            softirqs: 5_000,
        };
        it.extras.interference = Some(Interference {
            wall_ns: 1_000_000_000,
            tick_ns: 10_000_000,
            cpus: vec![cpu(0), cpu(1)],
            worker_cpu_ns: 1_800_000_000,
            foreign_cpu_ns: (foreign * 2e9) as u64,
            foreign_share: Some(foreign),
            steal_share: Some(0.0),
            involuntary_switches: 0,
            migrations: Some(0),
        });
    }
    run
}

fn side(run: LoadedRun) -> Side {
    Side {
        inputs: vec![run.record.run_id.clone()],
        runs: vec![run],
    }
}

/// The same run without the iterations `hogged` names: what the run would have been had the
/// hog never run.
fn without_hogged(mut run: LoadedRun, hogged: &[usize]) -> LoadedRun {
    let its = &mut run.record.cases[0].iterations;
    let mut i = 0;
    its.retain(|_| {
        i += 1;
        !hogged.contains(&(i - 1))
    });
    run
}

fn options(strict_env: bool) -> CompareOptions {
    let mut gate = GateConfig::default();
    gate.thresholds.apply("2").unwrap();
    CompareOptions {
        gate,
        strict_env,
        ..CompareOptions::default()
    }
}

fn p50(c: &Comparison) -> &MetricResult {
    c.cases[0]
        .metrics
        .iter()
        .find(|m| m.metric == Metric::P50)
        .unwrap()
}

/// Compares BASE and NEW twice: as measured, and with the hogged iterations never measured.
/// Checks that the hogged ones are marked `foreign_cpu` and left out, and that both comparisons
/// give the same estimate and verdict; returns the verdict.
fn verdict_with_a_hog(base: Measured, new: Measured) -> Verdict {
    let (b, n) = (run("base", &base, 0), run("new", &new, 3));
    let c = compare(&side(b.clone()), &side(n.clone()), &options(false)).unwrap();
    let t = c.cases[0].trust.as_ref().unwrap();
    let hogged = base.hogged.len() + new.hogged.len();
    assert_eq!(t.base.disturbed + t.new.disturbed, hogged, "{t:?}");
    for s in [&t.base, &t.new] {
        let want: BTreeMap<String, usize> = (s.disturbed > 0)
            .then(|| ("foreign_cpu".to_string(), s.disturbed))
            .into_iter()
            .collect();
        assert_eq!(s.reasons, want, "{t:?}");
    }
    assert!(t.left_out, "{}", t.note);
    assert!(t.note.starts_with("left out as disturbed"), "{}", t.note);
    let m = p50(&c);
    assert_eq!(
        m.base.iterations + m.new.iterations,
        base.n + new.n - hogged
    );

    let clean = compare(
        &side(without_hogged(b, &base.hogged)),
        &side(without_hogged(n, &new.hogged)),
        &options(false),
    )
    .unwrap();
    let k = p50(&clean);
    assert_eq!(m.ratio, k.ratio, "the hogged iterations leave no trace");
    assert_eq!(m.verdict, k.verdict);
    m.verdict
}

#[test]
fn a_hog_on_one_side_is_left_out_and_does_not_change_the_verdict() {
    let m = |p50_ns, hogged: &[usize]| Measured {
        p50_ns,
        spin_ns: 100.0,
        n: 12,
        hogged: hogged.to_vec(),
    };
    // A/A, NEW hogged in 3 of 12 iterations (40 % slower there): still no change.
    let aa = verdict_with_a_hog(m(50_000.0, &[]), m(50_000.0, &[2, 5, 9]));
    assert_eq!(aa, Verdict::NoChange);
    // +10 %, BASE hogged (its slow iterations would hide part of the change): still caught.
    let p10 = verdict_with_a_hog(m(50_000.0, &[1, 6, 10]), m(55_000.0, &[]));
    assert_eq!(p10, Verdict::Regression);
}

#[test]
fn a_hog_that_would_leave_a_side_too_few_iterations_is_kept_and_said() {
    let m = |hogged: Vec<usize>| Measured {
        p50_ns: 50_000.0,
        spin_ns: 100.0,
        n: 6,
        hogged,
    };
    let (b, n) = (run("base", &m(vec![]), 0), run("new", &m(vec![0, 1]), 3));
    let c = compare(&side(b), &side(n), &options(false)).unwrap();
    let t = c.cases[0].trust.as_ref().unwrap();
    assert_eq!(t.new.disturbed, 2);
    assert!(!t.left_out);
    assert!(t.note.starts_with("disturbed but kept"), "{}", t.note);
    assert_eq!(p50(&c).new.iterations, 6);
}

#[test]
fn a_canary_that_moved_between_base_and_new_warns_and_strict_env_makes_it_inconclusive() {
    let m = |spin_ns| Measured {
        p50_ns: 50_000.0,
        spin_ns,
        n: 12,
        hogged: Vec::new(),
    };
    // The machine changed (spin canary ×3), the figures did not: a warning, not a verdict.
    let (b, n) = (run("base", &m(100.0), 0), run("new", &m(300.0), 3));
    let c = compare(&side(b.clone()), &side(n.clone()), &options(false)).unwrap();
    let differs = c.cases[0].trust.as_ref().unwrap().canary_differs.clone();
    assert!(
        differs.is_some_and(|d| d.contains("spin")),
        "{:?}",
        c.cases[0]
    );
    assert!(
        c.warnings.iter().any(|w| w.contains("the canaries differ")),
        "{:?}",
        c.warnings
    );
    assert_eq!(p50(&c).verdict, Verdict::NoChange);
    let strict = compare(&side(b), &side(n), &options(true)).unwrap();
    assert_eq!(p50(&strict).verdict, Verdict::Inconclusive);
    // The same canary on both sides: no warning.
    let (b, n) = (run("base", &m(100.0), 0), run("new", &m(100.0), 3));
    let c = compare(&side(b), &side(n), &options(true)).unwrap();
    assert!(c.cases[0].trust.as_ref().unwrap().canary_differs.is_none());
    assert_eq!(p50(&c).verdict, Verdict::NoChange);
}

/// `ab`'s rounds: per round a BASE run and a NEW run of 3 iterations, started one after the
/// other (BASE first in even rounds), `base_p50`/`new_p50` as in [`Measured`], every iteration of
/// BASE's run in round `hogged` beside a CPU hog. Rounds listed in `skip` were never measured.
fn rounds(n: usize, base_p50: f64, new_p50: f64, hogged: usize, skip: &[usize]) -> (Side, Side) {
    let (mut base, mut new) = (Vec::new(), Vec::new());
    for r in (0..n).filter(|r| !skip.contains(r)) {
        let m = |p50_ns, hogged: bool| Measured {
            p50_ns,
            spin_ns: 100.0,
            n: 3,
            hogged: if hogged { vec![0, 1, 2] } else { Vec::new() },
        };
        let mut b = run(&format!("b{r}"), &m(base_p50, r == hogged), 3 * r);
        let mut k = run(&format!("n{r}"), &m(new_p50, false), 3 * r + 1);
        let (first, second) = if r % 2 == 0 { (0, 1) } else { (1, 0) };
        b.record.started_at = format!("2026-01-01T00:{:02}:{first}0Z", r);
        k.record.started_at = format!("2026-01-01T00:{:02}:{second}0Z", r);
        base.push(b);
        new.push(k);
    }
    let side = |runs: Vec<LoadedRun>| Side {
        inputs: runs.iter().map(|r| r.record.run_id.clone()).collect(),
        runs,
    };
    (side(base), side(new))
}

#[test]
fn a_round_with_a_wholly_hogged_run_is_dropped_with_its_partner_and_the_verdict_is_that_without_it()
{
    // +10 %, BASE's run of round 2 hogged in all 3 iterations (40 % slower: it would hide the
    // change in that round's pair).
    let (b, n) = rounds(8, 50_000.0, 55_000.0, 2, &[]);
    let c = compare(&b, &n, &options(false)).unwrap();
    let t = c.cases[0].trust.as_ref().unwrap();
    assert_eq!((t.base.disturbed, t.new.disturbed), (3, 0), "{t:?}");
    assert_eq!(t.base.reasons.get("foreign_cpu"), Some(&3), "{t:?}");
    assert!(t.left_out, "{}", t.note);
    assert_eq!(t.rounds_dropped, 1);
    assert!(t.note.contains("1 of 8 rounds whole"), "{}", t.note);
    let m = p50(&c);
    assert_eq!(m.pairs, 7, "a dropped round takes both sides' pair");
    assert_eq!((m.base.iterations, m.new.iterations), (21, 21));

    let (cb, cn) = rounds(8, 50_000.0, 55_000.0, 2, &[2]);
    let clean = compare(&cb, &cn, &options(false)).unwrap();
    let k = p50(&clean);
    assert_eq!(k.pairs, 7);
    assert_eq!(m.ratio, k.ratio, "the dropped round leaves no trace");
    assert_eq!(m.verdict, k.verdict);
    assert_eq!(m.verdict, Verdict::Regression);
    // Every format says it: the notes (text, markdown, json) and the verdict-only outputs.
    for text in [
        output::table::render(&c),
        output::markdown::render(&c),
        output::json::render(&c),
        output::junit::render(&c),
        output::github::annotations(&c).join("\n"),
    ] {
        assert!(text.contains("1 of 8 rounds whole"), "{text}");
    }
}

#[test]
fn a_hogged_round_is_kept_and_said_when_too_few_rounds_would_remain() {
    // 5 rounds, the gate's minimum of pairs: dropping one would leave 4.
    let (b, n) = rounds(5, 50_000.0, 50_000.0, 1, &[]);
    let c = compare(&b, &n, &options(false)).unwrap();
    let t = c.cases[0].trust.as_ref().unwrap();
    assert_eq!(t.base.disturbed, 3);
    assert!(!t.left_out);
    assert_eq!(t.rounds_dropped, 0);
    assert!(
        t.note.starts_with(
            "disturbed but kept (dropping the 1 round(s) with a wholly disturbed run would leave 4 round(s), under 5)"
        ),
        "{}",
        t.note
    );
    assert_eq!(p50(&c).pairs, 5);
    assert!(output::junit::render(&c).contains("disturbed but kept"));
}
