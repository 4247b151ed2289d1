//! Pairs of runs that took turns (`loopbench ab --interleave iterations`): in each round the
//! BASE and the NEW run were alive together and measured one slot each in turn, so every NEW
//! iteration has a BASE iteration measured right before or after it. Those two are paired: the
//! drift of the machine between them is a turn (a few hundred milliseconds), not a whole run.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::input::PooledCase;
use super::metric::Metric;
use crate::store::record::IterationRecord;

/// When each run started and finished, by run id (runs not finished are absent).
pub type Spans<'a> = BTreeMap<&'a str, (SystemTime, SystemTime)>;

/// The spans of `runs` whose start and end parse.
pub fn spans<'a>(runs: impl IntoIterator<Item = &'a crate::store::record::RunRecord>) -> Spans<'a> {
    runs.into_iter()
        .filter_map(|r| {
            let start = humantime::parse_rfc3339_weak(&r.started_at).ok()?;
            let end = humantime::parse_rfc3339_weak(r.finished_at.as_deref()?).ok()?;
            Some((r.run_id.as_str(), (start, end)))
        })
        .collect()
}

/// True when there are rounds and in every one the BASE and the NEW run overlapped in time.
pub fn took_turns(
    base: &PooledCase<'_>,
    new: &PooledCase<'_>,
    rounds: &[[usize; 2]],
    spans: &Spans<'_>,
) -> bool {
    !rounds.is_empty()
        && rounds.iter().all(|&[b, n]| {
            match (spans.get(base.run_ids[b]), spans.get(new.run_ids[n])) {
                (Some(&(bs, be)), Some(&(ns, ne))) => bs < ne && ns < be,
                _ => false,
            }
        })
}

/// Per round, NEW iterations matched with BASE iterations of the same round, closest in time
/// first, each iteration in at most one pair: (BASE value, NEW value). Where the two runs took
/// turns every NEW iteration meets the BASE iteration of its turn; iterations one side measured
/// alone (it had more) stay unpaired rather than share a distant partner. Only for runs that
/// [`took_turns`].
pub fn turn_pairs(
    base: &PooledCase<'_>,
    new: &PooledCase<'_>,
    rounds: &[[usize; 2]],
    spans: &Spans<'_>,
    metric: Metric,
) -> Vec<(f64, f64)> {
    let (bruns, nruns) = (base.by_run(), new.by_run());
    // (start time, value) of the iterations of one run that have the metric.
    let timed = |(id, its): (&str, &[&IterationRecord]), workload| -> Vec<(SystemTime, f64)> {
        let Some(&(start, _)) = spans.get(id) else {
            return Vec::new();
        };
        its.iter()
            .filter_map(|it| {
                let at = start + Duration::from_nanos(it.started_offset_ns);
                Some((at, metric.value(it, workload)?))
            })
            .collect()
    };
    let gap = |a: SystemTime, b: SystemTime| {
        a.duration_since(b)
            .or_else(|_| b.duration_since(a))
            .unwrap_or_default()
    };
    let mut pairs = Vec::new();
    for &[b, n] in rounds {
        let bt = timed(bruns[b], base.spec.workload);
        let nt = timed(nruns[n], new.spec.workload);
        let mut candidates: Vec<(Duration, usize, usize)> = nt
            .iter()
            .enumerate()
            .flat_map(|(j, &(tn, _))| {
                bt.iter()
                    .enumerate()
                    .map(move |(i, &(tb, _))| (gap(tb, tn), i, j))
            })
            .collect();
        candidates.sort();
        let (mut used_b, mut used_n) = (vec![false; bt.len()], vec![false; nt.len()]);
        let mut round_pairs = Vec::new();
        for (_, i, j) in candidates {
            if !used_b[i] && !used_n[j] {
                (used_b[i], used_n[j]) = (true, true);
                round_pairs.push((j, (bt[i].1, nt[j].1)));
            }
        }
        round_pairs.sort_by_key(|&(j, _)| j);
        pairs.extend(round_pairs.into_iter().map(|(_, p)| p));
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::super::input::{LoadedRun, Side};
    use super::super::{CompareOptions, compare};
    use super::*;
    use crate::compare::gate::{GateConfig, Verdict};
    use std::time::UNIX_EPOCH;

    /// Drift of the machine per turn: ±20 %, the same for the two iterations of one pair of
    /// turns (they ran a few hundred milliseconds apart), different between pairs.
    fn drift(round: usize, i: usize) -> f64 {
        1.0 + 0.2
            * (((round * 3 + i) as f64 + 1.0) * 0.618_034)
                .fract()
                .mul_add(2.0, -1.0)
    }

    fn at(s: f64) -> String {
        humantime::format_rfc3339_nanos(UNIX_EPOCH + Duration::from_secs_f64(1.7e9 + s)).to_string()
    }

    /// Round `round`'s run of one side: `n` iterations, 2 s apart, the run starting `start_s`
    /// seconds into the round; NEW is `factor` × BASE.
    fn run(id: String, round: usize, start_s: f64, factor: f64, n: usize) -> LoadedRun {
        let p50s: Vec<u64> = (0..n)
            .map(|i| (50_000.0 * drift(round, i) * factor) as u64)
            .collect();
        let mut run = LoadedRun::tcp4_rr(&id, &p50s);
        let t0 = round as f64 * 100.0 + start_s;
        let record = &mut run.record;
        record.started_at = at(t0);
        record.finished_at = Some(at(t0 + 1.0 + 2.0 * n as f64));
        for (i, it) in record.cases[0].iterations.iter_mut().enumerate() {
            it.started_offset_ns = (1e9 * (1.0 + 2.0 * i as f64)) as u64;
        }
        run
    }

    /// Six rounds, BASE runs of 3 iterations and NEW runs of `new_its`; NEW's runs start
    /// `new_start_s` into each round (0.5: while BASE runs, its iterations falling between
    /// BASE's; 10: after BASE has finished).
    fn sides(new_start_s: f64, new_its: usize) -> (Side, Side) {
        let side = |name: &str, start: f64, factor: f64, n: usize| {
            let runs: Vec<LoadedRun> = (0..6)
                .map(|r| run(format!("{name}{r}"), r, start, factor, n))
                .collect();
            Side {
                inputs: runs.iter().map(|r| r.record.run_id.clone()).collect(),
                runs,
            }
        };
        (
            side("b", 0.0, 1.0, 3),
            side("n", new_start_s, 1.05, new_its),
        )
    }

    fn options() -> CompareOptions {
        let mut gate = GateConfig::default();
        gate.thresholds.apply("2").unwrap();
        CompareOptions {
            gate,
            ..CompareOptions::default()
        }
    }

    #[test]
    fn runs_that_took_turns_are_paired_iteration_by_iteration() {
        let (b, n) = sides(0.5, 3);
        let c = compare(&b, &n, &options()).unwrap();
        let p50 = &c.cases[0].metrics[0];
        assert_eq!(
            p50.pairs, 18,
            "every NEW iteration with its turn's BASE iteration"
        );
        let ci = p50.ratio.unwrap().confidence_interval;
        // Each pair shares its turn's drift: the ±20 % cancels, the +5 % is all that is left.
        assert!(ci.lower_bound > 1.049 && ci.upper_bound < 1.051, "{ci:?}");
        assert_eq!(p50.verdict, Verdict::Regression);
        assert!(c.cases[0].notes.iter().any(|n| n.contains("took turns")));
    }

    #[test]
    fn iterations_one_side_measured_alone_stay_unpaired() {
        // NEW had 5 iterations a round, BASE 3: NEW's last two ran after BASE had ended.
        let (b, n) = sides(0.5, 5);
        let c = compare(&b, &n, &options()).unwrap();
        let p50 = &c.cases[0].metrics[0];
        assert_eq!(
            p50.pairs, 18,
            "3 pairs a round, no BASE iteration used twice"
        );
        let ci = p50.ratio.unwrap().confidence_interval;
        assert!(ci.lower_bound > 1.049 && ci.upper_bound < 1.051, "{ci:?}");
    }

    #[test]
    fn runs_one_after_the_other_are_paired_by_round() {
        let (b, n) = sides(10.0, 3);
        let c = compare(&b, &n, &options()).unwrap();
        assert_eq!(
            c.cases[0].metrics[0].pairs, 6,
            "one pair of run medians per round"
        );
        assert!(!c.cases[0].notes.iter().any(|n| n.contains("took turns")));
        let mut unpaired = options();
        unpaired.unpaired = true;
        let (b, n) = sides(0.5, 3);
        let c = compare(&b, &n, &unpaired).unwrap();
        assert_eq!(c.cases[0].metrics[0].pairs, 0, "--unpaired pairs nothing");
    }
}
