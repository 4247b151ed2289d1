use super::*;
use crate::stats::synthetic::mean;
use crate::stats::synthetic::{normal, rng};

/// `n` clean iterations of one case on one pair of CPUs.
fn clean_run(n: usize) -> Vec<Evidence> {
    (0..n)
        .map(|i| Evidence {
            spin_p50_ns: Some(250.0 + (i % 5) as f64),
            wake_p50_ns: Some(12_000.0 + 100.0 * (i % 7) as f64),
            steal_share: Some(0.0),
            foreign_share: Some(0.01),
            irqs_per_sec: Some(20_000.0 + 100.0 * (i % 3) as f64),
            switches_per_sec: Some((i % 4) as f64),
            pinned_migrations: Some(0),
            ..Evidence::default()
        })
        .collect()
}

#[test]
fn bands_come_from_the_undisturbed_majority() {
    // ln values 0, ±0.01, ±0.02 (MAD 0.01) plus three far outliers.
    let mut v: Vec<f64> = (0..20)
        .map(|i| 100.0 * (0.01 * ((i % 5) as f64 - 2.0)).exp())
        .collect();
    v.extend([900.0, 950.0, 990.0]);
    let b = Band::log(&v, 3.0, 0.0, 5).unwrap();
    assert!((b.median - 100.0).abs() < 1e-9, "{b:?}");
    assert!((b.sigma - 0.014826).abs() < 1e-9, "{b:?}");
    assert!(
        (b.upper / 100.0 - (3.0 * 0.014826f64).exp()).abs() < 1e-9,
        "{b:?}"
    );
    assert!(b.contains(104.0) && !b.contains(900.0) && !b.contains(95.0));
    assert_eq!(Band::log(&v[..4], 3.0, 0.0, 5), None);
    let floored = Band::log(&[100.0; 10], 3.0, 0.05, 5).unwrap();
    assert!((floored.upper - 105.0).abs() < 1e-9 && (floored.lower - 100.0 / 1.05).abs() < 1e-9);
    assert_eq!(Band::log(&[0.0, -1.0, f64::NAN], 3.0, 0.05, 1), None);
    let lin = Band::linear(&[0.0, 0.0, 1.0, 0.0, 2.0], 3.5, 20.0, 5).unwrap();
    assert_eq!((lin.median, lin.upper, lin.lower), (0.0, 20.0, -20.0));
}

/// The unit test of the issue: one iteration's spin canary slowed on purpose (as a vCPU moved by
/// the hypervisor does), one's wake-up canary slowed (marked only when the wake-up probe
/// filters), another with a CPU hog's foreign time and steal, one with an incomplete canary, one
/// with a burst of interrupts and preemptions and a migration: only those are marked, each with
/// its reasons.
#[test]
fn a_slowed_canary_and_a_hog_are_marked_with_their_reasons() {
    let mut run = clean_run(20);
    run[3].spin_p50_ns = Some(990.0);
    run[7].wake_p50_ns = Some(40_000.0);
    run[12].foreign_share = Some(0.45);
    run[12].steal_share = Some(0.03);
    run[15].canary_incomplete = true;
    run[17].irqs_per_sec = Some(45_000.0);
    run[17].switches_per_sec = Some(300.0);
    run[17].pinned_migrations = Some(2);
    let c = classify(&run, &Policy::default());
    for (i, m) in c.reasons.iter().enumerate() {
        if ![3, 12, 15, 17].contains(&i) {
            assert!(m.is_empty(), "iteration {i}: {}", describe(m));
        }
    }
    assert_eq!(
        describe(&c.reasons[3]),
        "spin canary p50 990 ns outside its band 240–265 ns (median 252 ns)"
    );
    assert!(matches!(
        c.canary_bands[0].wake,
        BandUse::Reported { outside_share, .. } if (outside_share - 0.05).abs() < 1e-9
    ));
    let policy = Policy {
        wake_filters: true,
        ..Policy::default()
    };
    let c = classify(&run, &policy);
    assert!(
        matches!(
            c.reasons[7][..],
            [Reason::CanaryMoved {
                probe: Probe::Wake,
                ..
            }]
        ),
        "{:?}",
        c.reasons[7]
    );
    assert_eq!(c.reasons[7][0].kind(), "canary_wake");
    assert!(describe(&c.reasons[7]).starts_with("wake-up canary p50 40000 ns outside its band"));
    assert!(matches!(
        c.reasons[12][..],
        [Reason::Steal { .. }, Reason::ForeignCpu { .. }]
    ));
    assert_eq!(
        describe(&c.reasons[12]),
        "steal 3.0 % of a worker CPU beyond one tick (limit 2.0 %); foreign CPU time 45.0 % on the worker CPUs (limit 5.0 %)"
    );
    assert_eq!(c.reasons[15], vec![Reason::CanaryIncomplete]);
    let kinds: Vec<&str> = c.reasons[17].iter().map(Reason::kind).collect();
    assert_eq!(kinds, ["interrupts", "switches", "migrations"]);
    assert!(matches!(
        c.canary_bands[..],
        [CanaryBands {
            group: 0,
            spin: BandUse::Filter { .. },
            wake: BandUse::Filter { .. }
        }]
    ));
}

#[test]
fn thresholds_are_exclusive_and_missing_figures_mark_nothing() {
    let p = Policy::default();
    let at_limit = Evidence {
        steal_share: Some(p.max_steal_share),
        foreign_share: Some(p.max_foreign_share),
        ..Evidence::default()
    };
    assert!(classify(&[at_limit], &p).reasons[0].is_empty());
    let mut few = clean_run(4);
    few[0].spin_p50_ns = Some(10_000.0);
    few[0].switches_per_sec = Some(10_000.0);
    let c = classify(&few, &p);
    assert!(c.reasons.iter().all(Vec::is_empty), "too few for a band");
    assert_eq!(c.canary_bands[0].spin, BandUse::TooFew);
}

/// Bands are per group: canaries of a same-core case (one CPU) and of a cross-core case (two)
/// never share a band, and a case's own preemptions are its normal.
#[test]
fn groups_keep_their_own_bands() {
    let mut run = clean_run(10);
    for (i, e) in clean_run(10).into_iter().enumerate() {
        run.push(Evidence {
            canary_group: 1,
            case_group: 1,
            spin_p50_ns: Some(1_000_000.0 + i as f64),
            switches_per_sec: Some(250.0 + i as f64),
            ..e
        });
    }
    let c = classify(&run, &Policy::default());
    assert!(c.reasons.iter().all(Vec::is_empty), "{:?}", c.reasons);
    assert_eq!(c.canary_bands.len(), 2);
}

/// A wake-up probe that runs in one of two states (as on this VM) marks nothing by default; the
/// band it would have used is reported with the share outside it.
#[test]
fn a_two_state_wake_probe_marks_nothing_by_default() {
    let mut run = clean_run(20);
    for (i, e) in run.iter_mut().enumerate() {
        e.wake_p50_ns = Some(if i % 5 < 2 {
            850.0
        } else {
            40_000.0 + i as f64
        });
    }
    let c = classify(&run, &Policy::default());
    assert!(c.reasons.iter().all(Vec::is_empty), "{:?}", c.reasons);
    match c.canary_bands[0].wake {
        BandUse::Reported { outside_share, .. } => {
            assert!((outside_share - 0.4).abs() < 1e-9, "{outside_share}")
        }
        other => panic!("{other:?}"),
    }
}

/// Share of single-probe values outside the band, over `runs` runs of `n` log-normal values
/// (median 1000, log-sd 0.1: the ±5 % floor is below 3 sd, so k alone decides), plus the
/// standard error of that share estimated from the per-run shares (runs are independent; values
/// within a run share their band, so the per-run shares, not the values, are the units).
fn outside_rate(n: usize, runs: usize, seed: u64) -> (f64, f64) {
    let mut r = rng(seed);
    let p = Policy::default();
    let per_run: Vec<f64> = (0..runs)
        .map(|_| {
            let v: Vec<f64> = (0..n)
                .map(|_| 1000.0 * (0.1 * normal(&mut r)).exp())
                .collect();
            let b = Band::log(&v, p.k, p.min_half_width_rel, p.min_values).unwrap();
            v.iter().filter(|&&x| !b.contains(x)).count() as f64 / n as f64
        })
        .collect();
    let m = mean(&per_run);
    let var = per_run.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (runs - 1) as f64;
    (m, (var / runs as f64).sqrt())
}

/// With many values per group the band's estimates are exact enough that the rate is the normal
/// tail 2Φ(−3.5) = 0.047 %. Accepted within 3.9 standard errors (≈ 0.014 %); the remaining
/// finite-sample excess at 10 000 values (≈ 0.0006 %, 0.2 standard errors) puts the
/// false-failure rate at ≈ 1.5e-4 per seed drawn at random.
#[test]
fn on_normal_data_the_false_disturbed_rate_is_the_normal_tail() {
    let (rate, se) = outside_rate(10_000, 40, 1);
    let theory = 2.0 * crate::stats::synthetic::normal_cdf(-3.5);
    assert!(
        (rate - theory).abs() < 3.9 * se,
        "rate {rate}, theory {theory}, se {se}"
    );
}

/// At 20 canaries per group the estimated median and MAD widen the tail: 0.660 % ± 0.005 % per
/// probe (4 M values, measured with this band in the prototype of issue 13). Accepted within
/// 3.9 standard errors of this run's estimate (≈ 0.066 %; the reference's own error is 0.1 of
/// those): false-failure rate ≈ 1e-4.
#[test]
fn on_normal_data_twenty_canaries_mark_about_two_thirds_of_a_percent() {
    let (rate, se) = outside_rate(20, 20_000, 2);
    assert!((rate - 0.00660).abs() < 3.9 * se, "rate {rate}, se {se}");
}
