use std::time::Duration;

use super::*;

fn tiny() -> CanaryConfig {
    CanaryConfig {
        spin_round_trips: 200,
        spin_batch: 8,
        spin_budget: Duration::from_millis(200),
        wake_round_trips: 50,
        wake_budget: Duration::from_millis(200),
        warmup_round_trips: 4,
    }
}

#[test]
fn nearest_rank_quantiles() {
    let v = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    assert_eq!(nearest_rank(&v, 0.5), Some(50));
    assert_eq!(nearest_rank(&v, 0.9), Some(90));
    assert_eq!(nearest_rank(&v, 0.0), Some(10));
    assert_eq!(nearest_rank(&[7], 0.9), Some(7));
    assert_eq!(nearest_rank(&[], 0.5), None);
}

/// Counts only: a canary that was not cut short recorded exactly what it was asked for, on one
/// CPU and on two (when the machine has two).
#[test]
fn a_canary_records_its_round_trips() {
    let cpus: Vec<usize> = crate::host::topology::allowed_cpus().into_iter().collect();
    let mut pairs = vec![[cpus[0], cpus[0]]];
    if cpus.len() > 1 {
        pairs.push([cpus[0], cpus[1]]);
    }
    for pair in pairs {
        let f = run_canary(&HostThreads, pair, &tiny()).unwrap();
        assert_eq!(f.cpus, pair);
        for (probe, asked) in [(f.spin, 200), (f.wake, 50)] {
            assert_eq!(probe.asked, asked);
            assert!(probe.round_trips <= asked);
            assert_eq!(probe.incomplete(), probe.round_trips * 2 < asked);
            if !probe.timed_out {
                assert_eq!(probe.round_trips, asked, "{f:?}");
            }
            if probe.round_trips > 0 {
                let (p10, p50, p90) = (probe.p10_ns, probe.p50_ns, probe.p90_ns);
                assert!(p10 <= p50 && p50 <= p90, "{f:?}");
                assert!(probe.mean_ns.is_some());
            }
        }
        assert!(f.elapsed_ns >= f.spin.elapsed_ns + f.wake.elapsed_ns);
    }
}

/// A starter that runs only the initiator: the probe ends by its budgets, says it timed out
/// and recorded nothing.
#[test]
fn a_missing_responder_ends_the_probe_by_its_budget() {
    let lone = |_cpus: [usize; 2], jobs: [PinnedJob; 2]| -> Result<()> {
        let [initiator, _responder] = jobs;
        initiator();
        Ok(())
    };
    let f = run_canary(&lone, [0, 1], &tiny()).unwrap();
    assert!(f.spin.timed_out && f.wake.timed_out, "{f:?}");
    assert_eq!((f.spin.round_trips, f.wake.round_trips), (0, 0));
    assert!(f.spin.incomplete() && f.wake.incomplete() && f.incomplete());
    assert_eq!(f.spin.p50_ns, None);
}

#[test]
fn starter_failures_are_reported_with_the_cpus() {
    let refuse = |_: [usize; 2], _: [PinnedJob; 2]| -> Result<()> { bail!("no CPU 3 here") };
    let e = format!("{:#}", run_canary(&refuse, [2, 3], &tiny()).unwrap_err());
    assert!(e.contains("CPUs 2, 3") && e.contains("no CPU 3"), "{e}");
    let idle = |_: [usize; 2], _: [PinnedJob; 2]| -> Result<()> { Ok(()) };
    let e = format!("{:#}", run_canary(&idle, [0, 1], &tiny()).unwrap_err());
    assert!(e.contains("without running"), "{e}");
    let e = format!(
        "{:#}",
        run_canary(&HostThreads, [0, 1023], &tiny()).unwrap_err()
    );
    assert!(e.contains("CPU 1023"), "{e}");
}
