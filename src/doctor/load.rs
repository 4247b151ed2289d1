//! The `steal` and `foreign load` checks of `loopbench doctor`: how much CPU time the hypervisor
//! took and how busy the CPUs were (with loopbench idle, all of it is someone else's) over the
//! doctor's sampling window, judged by the thresholds that mark a measured iteration disturbed.

use super::finding::{Finding, Level};
use crate::metrics::interference::{Interference, Snapshot, WorkerUsage, between};
use crate::stats::robust::Policy;

/// The two findings over the window from `before` to `after` on `cpus` (loopbench's own CPU time
/// in the window is `own_cpu_ns`); `tick_ns` is the /proc/stat tick. A window too short to
/// resolve shares, or a snapshot that could not be taken, gives an `info` finding saying so.
pub fn findings(
    before: Option<&Snapshot>,
    after: Option<&Snapshot>,
    cpus: &[usize],
    own_cpu_ns: u64,
    tick_ns: u64,
) -> Vec<Finding> {
    let policy = Policy::default();
    let i: Option<Interference> = match (before, after) {
        (Some(b), Some(a)) => {
            let own = WorkerUsage {
                cpu_ns: own_cpu_ns,
                ..WorkerUsage::default()
            };
            Some(between(b, a, cpus, own, tick_ns))
        }
        _ => None,
    };
    let unknown = |check: &str| Finding {
        check: check.into(),
        level: Level::Info,
        value: "unknown".into(),
        meaning: "/proc/stat could not be sampled over a long enough window".into(),
        action: None,
    };
    let (Some(steal), Some(foreign)) = (
        i.as_ref().and_then(|i| i.steal_share),
        i.as_ref().and_then(|i| i.foreign_share),
    ) else {
        return vec![unknown("steal"), unknown("foreign load")];
    };
    let pct = |s: f64| format!("{:.1} %", s * 100.0);
    let steal_finding = if steal > policy.max_steal_share {
        Finding {
            check: "steal".into(),
            level: Level::Warn,
            value: format!("{} of the worst CPU", pct(steal)),
            meaning: format!(
                "the hypervisor runs other guests on this machine's CPUs; measured iterations \
                 with steal above {} are marked disturbed",
                pct(policy.max_steal_share)
            ),
            action: Some(
                "measure when the host is quieter, or on dedicated vCPUs; compare with --strict-env"
                    .into(),
            ),
        }
    } else {
        Finding {
            check: "steal".into(),
            level: Level::Ok,
            value: format!("{} of the worst CPU", pct(steal)),
            meaning: "the hypervisor took (almost) no CPU time from this guest".into(),
            action: None,
        }
    };
    let foreign_finding = if foreign > policy.max_foreign_share {
        Finding {
            check: "foreign load".into(),
            level: Level::Warn,
            value: format!("{} of {} CPUs busy", pct(foreign), cpus.len()),
            meaning: format!(
                "other work uses the CPUs the workers will run on; measured iterations with \
                 foreign CPU time above {} are marked disturbed",
                pct(policy.max_foreign_share)
            ),
            action: Some(
                "stop the busy processes (see above) or wait until they finish, then measure"
                    .into(),
            ),
        }
    } else {
        Finding {
            check: "foreign load".into(),
            level: Level::Ok,
            value: format!("{} of {} CPUs busy", pct(foreign), cpus.len()),
            meaning: "the CPUs are idle apart from loopbench".into(),
            action: None,
        }
    };
    vec![steal_finding, foreign_finding]
}

#[cfg(test)]
mod tests {
    use super::*;

    const IRQ: &str = "  CPU0 CPU1\n LOC: 1 1 Local\n";
    const SOFT: &str = "  CPU0 CPU1\n NET_RX: 1 1\n";

    fn snap(at_ns: u64, stat: &str) -> Snapshot {
        Snapshot::from_texts(at_ns, stat, IRQ, SOFT).unwrap()
    }

    #[test]
    fn steal_and_foreign_load_are_judged_by_the_disturbed_thresholds() {
        let before = snap(0, "cpu0 100 0 50 0 0 0 0 0\ncpu1 100 0 50 0 0 0 0 0\n");
        // One second at 100 Hz: CPU 0 busy 30 ticks, CPU 1 busy 2 ticks and 5 ticks stolen.
        let busy = snap(
            1_000_000_000,
            "cpu0 120 0 60 70 0 0 0 0\ncpu1 101 0 51 93 0 0 0 5\n",
        );
        let f = findings(Some(&before), Some(&busy), &[0, 1], 0, 10_000_000);
        assert_eq!(f[0].check, "steal");
        assert_eq!(f[0].level, Level::Warn, "{f:?}");
        assert!(f[0].value.starts_with("5.0 %"), "{f:?}");
        assert_eq!(f[1].check, "foreign load");
        assert_eq!(f[1].level, Level::Warn, "32 of 200 ticks: {f:?}");
        assert!(f.iter().all(|f| f.action.is_some()));
        // loopbench's own 0.3 s leaves 2 of 200 ticks: quiet.
        let f = findings(Some(&before), Some(&busy), &[0, 1], 300_000_000, 10_000_000);
        assert_eq!(f[1].level, Level::Ok, "{f:?}");
        let quiet = snap(
            1_000_000_000,
            "cpu0 100 0 50 100 0 0 0 0\ncpu1 100 0 50 100 0 0 0 0\n",
        );
        let f = findings(Some(&before), Some(&quiet), &[0, 1], 0, 10_000_000);
        assert!(f.iter().all(|f| f.level == Level::Ok), "{f:?}");
    }

    #[test]
    fn a_short_or_missing_window_is_unknown() {
        let before = snap(0, "cpu0 1 0 0 0 0 0 0 0\n");
        let after = snap(50_000_000, "cpu0 2 0 0 4 0 0 0 0\n");
        let f = findings(Some(&before), Some(&after), &[0], 0, 10_000_000);
        assert!(
            f.iter()
                .all(|f| f.value == "unknown" && f.level == Level::Info)
        );
        let f = findings(None, Some(&after), &[0], 0, 10_000_000);
        assert_eq!(f.len(), 2);
        assert!(f.iter().all(|f| f.value == "unknown"));
    }
}
