//! Per-stage percentiles of a [`Timeline`], per direction, with how often each stage was absent,
//! and the wake-up counts (with/without IPI, with idle exit).

use crate::trace::timeline::{Leg, RoundTrip, Stage, Timeline};

/// Which leg of the round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client → server.
    Request,
    /// Server → client.
    Response,
}

impl Direction {
    /// Both directions.
    pub const ALL: [Direction; 2] = [Self::Request, Self::Response];

    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::Response => "response",
        }
    }

    /// This direction's leg of a round trip.
    pub fn leg(self, rt: &RoundTrip) -> &Leg {
        match self {
            Self::Request => &rt.request,
            Self::Response => &rt.response,
        }
    }
}

/// Percentiles of a set of durations, in ns (nearest-rank).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Percentiles {
    /// Number of values.
    pub count: usize,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
}

impl Percentiles {
    /// Sorts `values` in place and reads the percentiles; `None` when empty.
    pub fn of(values: &mut [u64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        values.sort_unstable();
        let at =
            |q: f64| values[((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
        Some(Self {
            count: values.len(),
            p50_ns: at(0.5),
            p90_ns: at(0.9),
            p99_ns: at(0.99),
        })
    }
}

/// One stage of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageSummary {
    /// Request or response leg.
    pub direction: Direction,
    /// The stage.
    pub stage: Stage,
    /// Its percentiles over the legs where it was present; `None` when it never was.
    pub present: Option<Percentiles>,
    /// Legs where the kernel took a path without this stage.
    pub absent: usize,
}

/// Wake-up counts over both directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wakeups {
    /// Legs whose receiver was woken (sched_waking seen).
    pub woken: usize,
    /// Cross-CPU wake-ups that sent an IPI to the receiver's CPU.
    pub with_ipi: usize,
    /// Cross-CPU wake-ups without an IPI (the target CPU was polling, or running).
    pub without_ipi: usize,
    /// Wake-ups whose target CPU left idle (power:cpu_idle exit) before the switch.
    pub idle_exits: usize,
    /// Legs whose receiver got the data without a wake-up (it had not slept).
    pub not_woken: usize,
    /// Wake-ups whose switch-in was not seen (not traced, or the receiver was still on its CPU).
    pub switch_unseen: usize,
}

/// What the demo and reports print for a timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Each direction × stage.
    pub stages: Vec<StageSummary>,
    /// Kernel-view round-trip time (client send entered → client receive returned).
    pub rtt: Option<Percentiles>,
    /// Server receive returned → server send entered.
    pub server_turnaround: Option<Percentiles>,
    /// One-way paths, per direction.
    pub one_way: [Option<Percentiles>; 2],
    /// Wake-up counts.
    pub wakeups: Wakeups,
}

/// Summarises a timeline.
pub fn summarize(timeline: &Timeline) -> Summary {
    let rts = &timeline.round_trips;
    let collect = |f: &dyn Fn(&RoundTrip) -> Option<u64>| -> (Vec<u64>, usize) {
        let values: Vec<u64> = rts.iter().filter_map(f).collect();
        let absent = rts.len() - values.len();
        (values, absent)
    };
    let mut stages = Vec::new();
    for direction in Direction::ALL {
        for stage in Stage::ALL {
            let (mut values, absent) = collect(&|rt| direction.leg(rt).stage_ns(stage));
            stages.push(StageSummary {
                direction,
                stage,
                present: Percentiles::of(&mut values),
                absent,
            });
        }
    }
    let mut wakeups = Wakeups::default();
    for leg in rts.iter().flat_map(|rt| [&rt.request, &rt.response]) {
        match (leg.waking_ns, leg.ipi) {
            (None, _) => wakeups.not_woken += 1,
            (Some(_), Some(true)) => wakeups.with_ipi += 1,
            (Some(_), Some(false)) => wakeups.without_ipi += 1,
            (Some(_), None) => {}
        }
        wakeups.woken += leg.waking_ns.is_some() as usize;
        wakeups.idle_exits += leg.idle_exit_ns.is_some() as usize;
        wakeups.switch_unseen += (leg.waking_ns.is_some() && leg.on_cpu_ns.is_none()) as usize;
    }
    let of =
        |f: &dyn Fn(&RoundTrip) -> u64| Percentiles::of(&mut rts.iter().map(f).collect::<Vec<_>>());
    Summary {
        stages,
        rtt: of(&|rt| rt.rtt_ns()),
        server_turnaround: of(&|rt| rt.server_turnaround_ns()),
        one_way: [
            of(&|rt| rt.request.one_way_ns()),
            of(&|rt| rt.response.one_way_ns()),
        ],
        wakeups,
    }
}

impl Summary {
    /// The stage summary for one direction and stage.
    pub fn stage(&self, direction: Direction, stage: Stage) -> &StageSummary {
        self.stages
            .iter()
            .find(|s| s.direction == direction && s.stage == stage)
            .expect("all stages summarised")
    }
}

fn us(p: Option<Percentiles>) -> String {
    p.map_or("-".into(), |p| format!("{:.1}", p.p50_ns as f64 / 1000.0))
}

/// The stage table: p50 in µs per direction, with (present/absent) counts, and the wake-up counts.
impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "kernel-view RTT p50 {} µs, server turnaround p50 {} µs, one-way p50 request {} / response {} µs",
            us(self.rtt),
            us(self.server_turnaround),
            us(self.one_way[0]),
            us(self.one_way[1])
        )?;
        writeln!(
            f,
            "{:<15} {:>22} {:>22}",
            "stage p50 µs", "request (n/absent)", "response (n/absent)"
        )?;
        for stage in Stage::ALL {
            let cell = |d| {
                let x = self.stage(d, stage);
                format!(
                    "{} ({}/{})",
                    us(x.present),
                    x.present.map_or(0, |p| p.count),
                    x.absent
                )
            };
            writeln!(
                f,
                "{:<15} {:>22} {:>22}",
                stage.name(),
                cell(Direction::Request),
                cell(Direction::Response)
            )?;
        }
        let w = self.wakeups;
        write!(
            f,
            "wake-ups: {} woken ({} with IPI, {} without), {} idle exits, {} switch-ins unseen, {} legs not woken",
            w.woken, w.with_ipi, w.without_ipi, w.idle_exits, w.switch_unseen, w.not_woken
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<u64> = (1..=100).rev().collect();
        let p = Percentiles::of(&mut v).unwrap();
        assert_eq!((p.count, p.p50_ns, p.p90_ns, p.p99_ns), (100, 50, 90, 99));
        assert_eq!(Percentiles::of(&mut [7]).unwrap().p99_ns, 7);
        assert_eq!(Percentiles::of(&mut []), None);
    }
}
