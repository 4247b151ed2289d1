use super::*;

const IRQ: &str = "  CPU0 CPU1\n LOC: 100 200 Local\n RES: 10 20 Resched\n";
const SOFT: &str = "  CPU0 CPU1\n NET_RX: 5 6\n SCHED: 1 1\n";

fn snap(at_ns: u64, stat: &str, irq: &str, soft: &str) -> Snapshot {
    Snapshot::from_texts(at_ns, stat, irq, soft).unwrap()
}

/// One second, 100 Hz ticks: CPU 1 busy 80 ticks of which the workers spent 0.5 s, CPU 0 busy
/// 10 ticks; CPU 1 lost 3 ticks to steal.
#[test]
fn foreign_time_is_busy_time_minus_the_workers_own() {
    let before = snap(
        0,
        "cpu0 100 0 50 0 0 0 0 0\ncpu1 100 0 50 0 0 0 0 0\n",
        IRQ,
        SOFT,
    );
    let after = snap(
        1_000_000_000,
        "cpu0 105 0 55 90 0 0 0 0\ncpu1 160 0 65 0 0 3 2 3\n",
        "  CPU0 CPU1\n LOC: 150 300 Local\n RES: 10 25 Resched\n",
        "  CPU0 CPU1\n NET_RX: 5 16\n SCHED: 1 2\n",
    );
    let w = WorkerUsage {
        cpu_ns: 500_000_000,
        involuntary_switches: 4,
        migrations: Some(0),
    };
    let i = between(&before, &after, &[0, 1, 1], w, 10_000_000);
    assert_eq!(i.cpus.len(), 2, "a CPU given twice counts once");
    assert_eq!(i.cpus[0].busy_ns, 100_000_000);
    assert_eq!(i.cpus[1].busy_ns, 800_000_000);
    assert_eq!(i.foreign_cpu_ns, 400_000_000);
    assert!((i.foreign_share.unwrap() - 0.2).abs() < 1e-12, "{i:?}");
    assert!((i.steal_share.unwrap() - 0.03).abs() < 1e-12, "{i:?}");
    // One of the three ticks may be the counter's rounding: two are steal for sure.
    assert!(
        (i.resolved_steal_share().unwrap() - 0.02).abs() < 1e-12,
        "{i:?}"
    );
    assert_eq!((i.cpus[1].interrupts, i.cpus[1].softirqs), (105, 11));
    assert_eq!((i.cpus[0].interrupts, i.cpus[0].softirqs), (50, 0));
    assert!(i.to_string().contains("steal 3.0 %, foreign 20.0 %"), "{i}");
    assert_eq!(i.irqs_per_sec(), Some(166.0), "105 + 11 + 50 in one second");
}

#[test]
fn workers_above_the_sampled_busy_time_leave_no_foreign_time() {
    let s = "cpu0 100 0 50 0 0 0 0 0\n";
    let (before, after) = (snap(0, s, IRQ, SOFT), snap(300_000_000, s, IRQ, SOFT));
    let w = WorkerUsage {
        cpu_ns: 5_000_000,
        ..WorkerUsage::default()
    };
    let i = between(&before, &after, &[0, 7], w, 10_000_000);
    assert_eq!(
        (i.foreign_cpu_ns, i.foreign_share, i.steal_share),
        (0, Some(0.0), Some(0.0))
    );
    assert_eq!(i.cpus[1].busy_ns, 0, "CPU 7 is not in the snapshots");
    let short = between(
        &before,
        &snap(190_000_000, s, IRQ, SOFT),
        &[0],
        w,
        10_000_000,
    );
    assert_eq!(
        (short.foreign_share, short.steal_share),
        (None, None),
        "19 ticks"
    );
    assert!(
        short.to_string().starts_with("steal n/a, foreign n/a"),
        "{short}"
    );
}

#[test]
fn this_machine_can_be_snapshotted() {
    let a = Snapshot::take().unwrap();
    assert!(a.cpu_ticks.contains_key(&0));
    assert!(!a.interrupts.rows.is_empty() && !a.softirqs.rows.is_empty());
    assert!(tick_ns() >= 1_000_000, "USER_HZ above 1000?");
}

/// 300 ms with one tick of steal: 3.3 % as counted, none for sure (the tick may be rounding);
/// two ticks leave one, 3.3 %.
#[test]
fn one_tick_of_steal_is_within_the_counters_resolution() {
    let before = snap(0, "cpu0 0 0 0 0 0 0 0 0\ncpu1 0 0 0 0 0 0 0 0\n", IRQ, SOFT);
    let w = WorkerUsage {
        cpu_ns: 0,
        involuntary_switches: 0,
        migrations: Some(0),
    };
    let after = |steal: u32| {
        let stat = format!("cpu0 0 0 0 30 0 0 0 0\ncpu1 0 0 0 30 0 0 0 {steal}\n");
        between(
            &before,
            &snap(300_000_000, &stat, IRQ, SOFT),
            &[0, 1],
            w,
            10_000_000,
        )
    };
    let one = after(1);
    assert!(
        (one.steal_share.unwrap() - 1.0 / 30.0).abs() < 1e-12,
        "{one:?}"
    );
    assert_eq!(one.resolved_steal_share(), Some(0.0));
    let two = after(2);
    assert!(
        (two.resolved_steal_share().unwrap() - 1.0 / 30.0).abs() < 1e-12,
        "{two:?}"
    );
}
