//! `--trace` into records: each iteration's rebuilt round trips become the kernel stage
//! histograms (`request.<stage>`, `response.<stage>`; absent where the kernel took a path without
//! the stage), the tracer's counts ([`KernelTraceRecord`]) and a typical round trip's kernel
//! spans; a case merges its iterations. The traced case's overhead is read against its untraced
//! twin once the run is done ([`link_overheads`]).

use crate::metrics::histogram::{LatencyHistogram, new_histogram, record};
use crate::metrics::stages::StageSet;
use crate::run::worker::probes::TraceOutcome;
use crate::spec::{CaseId, Spec};
use crate::store::kernel::{KernelTraceRecord, MessageTotals, TraceOverhead, WakeupCounts};
use crate::store::record::RunRecord;
use crate::store::stages::{Lane, Layer, Span, Timeline as TypicalRoundTrip};
use crate::trace::summary::{Direction, summarize};
use crate::trace::timeline::{Leg, RoundTrip, Stage, Timeline};

/// The run.json key of a stage of a direction: `request.wakeup`.
pub fn stage_key(direction: Direction, stage: Stage) -> String {
    format!("{}.{}", direction.name(), stage.name())
}

/// One iteration's kernel stages: a histogram per direction × stage, and how often each was
/// absent.
pub fn stage_set(timeline: &Timeline) -> StageSet {
    let mut set = StageSet::default();
    for direction in Direction::ALL {
        for stage in Stage::ALL {
            let key = stage_key(direction, stage);
            set.stage_mut(&key);
            for rt in &timeline.round_trips {
                match direction.leg(rt).stage_ns(stage) {
                    Some(ns) => set.record(&key, ns),
                    None => set.stage_mut(&key).absent += 1,
                }
            }
        }
    }
    mark_within(&mut set);
    set
}

/// The ways a leg's path stages follow one another from the send to the receive's return
/// ([`Leg::path`]): through a softirq that wakes the receiver (seen switching in, or not),
/// through a send that wakes it itself (Unix sockets, pipes), or to a receiver that was
/// runnable already (switched in later) or running (never switched out).
const CHAINS: [&[Stage]; 8] = [
    &[
        Stage::SendSyscall,
        Stage::Protocol,
        Stage::Wakeup,
        Stage::RecvReturn,
    ],
    &[Stage::SendSyscall, Stage::Protocol, Stage::WakeToReturn],
    &[Stage::SendSyscall, Stage::Wakeup, Stage::RecvReturn],
    &[Stage::SendSyscall, Stage::WakeToReturn],
    &[Stage::SendSyscall, Stage::WaitForCpu, Stage::RecvReturn],
    &[Stage::WaitForCpu, Stage::RecvReturn],
    &[Stage::SendSyscall, Stage::AlreadyRunning],
    &[Stage::AlreadyRunning],
];

/// The chain most of a direction's legs took: the one whose rarest stage was seen most often.
fn chain_of(set: &StageSet, direction: Direction) -> &'static [Stage] {
    let count = |stage| {
        set.get(&stage_key(direction, stage))
            .map_or(0, |s| s.histogram.len())
    };
    let mut best = CHAINS[0];
    let mut best_legs = 0;
    for chain in CHAINS {
        let legs = chain.iter().map(|&s| count(s)).min().unwrap_or(0);
        if legs > best_legs {
            (best, best_legs) = (chain, legs);
        }
    }
    best
}

/// The chain's stage that holds the wake-up, under which the other stages are listed.
fn wake_stage(chain: &[Stage]) -> Stage {
    chain
        .iter()
        .copied()
        .find(|s| matches!(s, Stage::Wakeup | Stage::WakeToReturn | Stage::WaitForCpu))
        .unwrap_or(chain[0])
}

/// The keys whose medians stack along the round trip, request then response.
pub fn chain(set: &StageSet) -> Vec<String> {
    Direction::ALL
        .into_iter()
        .flat_map(|d| chain_of(set, d).iter().map(move |&s| stage_key(d, s)))
        .collect()
}

/// Marks every stage not in the chain as not stacked (`within` names a chain stage): a
/// parallel stage ([`Stage::parallel_to`]: `wake_issue`, `idle_exit`, `early_wakeup`) names the
/// stage it overlaps, when the chain has it, else the chain's wake-up stage; a path stage of
/// another path (the legs that went another way) names the chain's wake-up stage.
pub fn mark_within(set: &mut StageSet) {
    for direction in Direction::ALL {
        let chain = chain_of(set, direction);
        let wake = wake_stage(chain);
        for stage in Stage::ALL.into_iter().filter(|s| !chain.contains(s)) {
            let parent = stage
                .parallel_to()
                .filter(|p| chain.contains(p))
                .unwrap_or(wake);
            set.stage_mut(&stage_key(direction, stage)).within = Some(stage_key(direction, parent));
        }
        for stage in chain {
            set.stage_mut(&stage_key(direction, *stage)).within = None;
        }
    }
}

/// The tracer's counts for one iteration (medians, chain and buffer size are the case's).
pub fn trace_record(out: &TraceOutcome) -> KernelTraceRecord {
    let tl = &out.timeline;
    let w = summarize(tl).wakeups;
    KernelTraceRecord {
        events: out.stats.events,
        lost_events: out.stats.lost_events,
        undecoded: out.stats.undecoded,
        round_trips: tl.round_trips.len() as u64,
        dropped_for_loss: tl.dropped_for_loss,
        unmatched: tl.unmatched,
        wakeups: WakeupCounts {
            woken: w.woken as u64,
            with_ipi: w.with_ipi as u64,
            without_ipi: w.without_ipi as u64,
            idle_exits: w.idle_exits as u64,
            switch_unseen: w.switch_unseen as u64,
            not_woken: w.not_woken as u64,
        },
        buffer_bytes_per_cpu: out.buffer_bytes_per_cpu as u64,
        drained_on_cpu: out.drained_on,
        ..KernelTraceRecord::default()
    }
}

/// Per-message figures of one direction over a case: histograms of what each message's leg took.
#[derive(Clone, Debug)]
struct DirectionTotals {
    softirq_ns: LatencyHistogram,
    send_call_ns: LatencyHistogram,
    softirqs: u64,
    wakings: u64,
    legs: u64,
}

impl Default for DirectionTotals {
    fn default() -> Self {
        DirectionTotals {
            softirq_ns: new_histogram(),
            send_call_ns: new_histogram(),
            softirqs: 0,
            wakings: 0,
            legs: 0,
        }
    }
}

impl DirectionTotals {
    fn add(&mut self, leg: &Leg) {
        let t = leg.totals;
        if t.softirq_ns > 0 {
            record(&mut self.softirq_ns, t.softirq_ns);
        }
        if let Some(ns) = t.send_call_ns(leg.send_enter_ns) {
            record(&mut self.send_call_ns, ns);
        }
        self.softirqs += u64::from(t.softirqs);
        self.wakings += u64::from(t.wakings);
        self.legs += 1;
    }

    fn record(&self, direction: Direction) -> MessageTotals {
        let p50 = |h: &LatencyHistogram| (!h.is_empty()).then(|| h.value_at_quantile(0.5));
        let per_leg = |n: u64| n as f64 / self.legs.max(1) as f64;
        MessageTotals {
            direction: direction.name().to_string(),
            softirqs_per_message: per_leg(self.softirqs),
            softirq_ns_p50: p50(&self.softirq_ns),
            send_call_ns_p50: p50(&self.send_call_ns),
            wakeups_per_message: per_leg(self.wakings),
        }
    }
}

/// What a traced case gathers over its iterations besides the stage histograms.
#[derive(Clone, Debug)]
pub struct CaseTrace {
    counts: KernelTraceRecord,
    kernel_rtt: LatencyHistogram,
    turnaround: LatencyHistogram,
    totals: [DirectionTotals; 2],
    typicals: Vec<TypicalRoundTrip>,
}

impl Default for CaseTrace {
    fn default() -> Self {
        CaseTrace {
            counts: KernelTraceRecord::default(),
            kernel_rtt: new_histogram(),
            turnaround: new_histogram(),
            totals: Default::default(),
            typicals: Vec::new(),
        }
    }
}

impl CaseTrace {
    /// Adds iteration `index`: its stages go into `stages` (the case's); returns the
    /// iteration's own record and its stages.
    pub fn add(
        &mut self,
        index: u32,
        out: &TraceOutcome,
        cpus: (Option<usize>, Option<usize>),
        stages: &mut StageSet,
    ) -> Result<(KernelTraceRecord, StageSet), hdrhistogram::AdditionError> {
        let set = stage_set(&out.timeline);
        stages.add(&set)?;
        mark_within(stages);
        let mut rec = trace_record(out);
        let mut rtt = new_histogram();
        for rt in &out.timeline.round_trips {
            record(&mut rtt, rt.rtt_ns());
            record(&mut self.turnaround, rt.server_turnaround_ns());
            self.totals[0].add(&rt.request);
            self.totals[1].add(&rt.response);
        }
        rec.kernel_rtt_p50_ns = crate::metrics::stages::median(&rtt);
        rec.chain = chain(&set);
        self.kernel_rtt.add(&rtt)?;
        self.counts.add(&rec);
        self.counts.buffer_bytes_per_cpu = rec.buffer_bytes_per_cpu;
        self.counts.drained_on_cpu = rec.drained_on_cpu;
        let target = rec.kernel_rtt_p50_ns;
        let nearest = out
            .timeline
            .round_trips
            .iter()
            .min_by_key(|rt| rt.rtt_ns().abs_diff(target));
        self.typicals
            .extend(nearest.map(|rt| typical(rt, index, cpus)));
        Ok((rec, set))
    }

    /// The case's record: counts summed, medians over every iteration's round trips.
    pub fn record(&self, stages: &StageSet) -> KernelTraceRecord {
        let mut rec = self.counts.clone();
        rec.kernel_rtt_p50_ns = crate::metrics::stages::median(&self.kernel_rtt);
        rec.server_turnaround_p50_ns = crate::metrics::stages::median(&self.turnaround);
        rec.chain = chain(stages);
        rec.per_message = vec![
            self.totals[0].record(Direction::Request),
            self.totals[1].record(Direction::Response),
        ];
        rec
    }

    /// The typical round trip of the case: the iterations' typical one nearest the case's
    /// kernel-view median.
    pub fn typical(&self) -> Option<TypicalRoundTrip> {
        let target = crate::metrics::stages::median(&self.kernel_rtt);
        self.typicals
            .iter()
            .min_by_key(|t| t.rtt_ns.abs_diff(target))
            .cloned()
    }
}

/// One round trip's kernel stages as spans across the two CPUs, from the client's send entry.
pub fn typical(
    rt: &RoundTrip,
    iteration: u32,
    cpus: (Option<usize>, Option<usize>),
) -> TypicalRoundTrip {
    let origin = rt.request.send_enter_ns;
    let mut spans = Vec::new();
    for (direction, sender, receiver) in [
        (Direction::Request, Lane::Client, Lane::Server),
        (Direction::Response, Lane::Server, Lane::Client),
    ] {
        let leg = direction.leg(rt);
        for stage in Stage::ALL {
            let Some((start, end)) = leg.stage_span(stage) else {
                continue;
            };
            let (from, to) = match stage {
                Stage::SendSyscall | Stage::Protocol | Stage::WakeIssue => (sender, sender),
                Stage::RecvReturn | Stage::AlreadyRunning => (receiver, receiver),
                Stage::Wakeup
                | Stage::IdleExit
                | Stage::WakeToReturn
                | Stage::WaitForCpu
                | Stage::EarlyWakeup => (sender, receiver),
            };
            let ns = end - start;
            let start_ns = start as i64 - origin as i64;
            spans.push(Span {
                name: stage_key(direction, stage),
                layer: Layer::Kernel,
                from,
                to,
                start_ns,
                end_ns: start_ns + ns as i64,
            });
        }
    }
    spans.sort_by_key(|s| s.start_ns);
    TypicalRoundTrip {
        iteration,
        message: rt.seq,
        flow: 0,
        rtt_ns: rt.rtt_ns(),
        client_cpu: cpus.0,
        server_cpu: cpus.1,
        spans,
    }
}

/// Fills each traced case's overhead from its untraced twin in the same run (the same case id
/// without `-trace`), when both have a summary.
pub fn link_overheads(run: &mut RunRecord) {
    let medians: Vec<(CaseId, u64)> = run
        .cases
        .iter()
        .filter_map(|c| Some((c.case_id.clone(), c.summary.as_ref()?.latency.p50_ns)))
        .collect();
    for case in &mut run.cases {
        let spec = case.spec.clone();
        let Some(s) = case.summary.as_mut() else {
            continue;
        };
        let traced = s.latency.p50_ns;
        if let Some(t) = s.extras.kernel_trace.as_mut() {
            t.overhead = overhead(&spec, traced, &medians);
        }
    }
}

/// A traced case's overhead against its untraced twin among `medians` (case id, p50).
pub fn overhead(
    traced: &Spec,
    traced_p50_ns: u64,
    medians: &[(CaseId, u64)],
) -> Option<TraceOverhead> {
    if !traced.probes.trace {
        return None;
    }
    let mut twin = traced.clone();
    twin.probes.trace = false;
    let twin = twin.case_id();
    let untraced = medians.iter().find(|(id, _)| *id == twin)?.1;
    (untraced > 0).then(|| TraceOverhead {
        untraced_case: twin,
        untraced_p50_ns: untraced,
        traced_p50_ns,
        ratio: traced_p50_ns as f64 / untraced as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Transport;
    use crate::trace::events::parse_events;
    use crate::trace::timeline::{Pair, rebuild};

    fn recorded(name: &str) -> Timeline {
        let path = format!(
            "{}/tests/data/trace/timeline/{name}.events",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(path).unwrap();
        let pair = Pair::from_fixture_header(&text).unwrap();
        rebuild(&parse_events(&text).unwrap(), &pair)
    }

    #[test]
    fn the_chain_takes_the_wakeup_stages_that_were_seen_and_lists_the_rest_within() {
        // The server's CPU 1 emits nothing from idle: its switch-ins are unseen, so the
        // request's wake-up is `wake_to_return`; the client's CPU 0 shows them.
        let set = stage_set(&recorded("tcp_cross_core"));
        assert_eq!(
            chain(&set),
            [
                "request.send_syscall",
                "request.protocol",
                "request.wake_to_return",
                "response.send_syscall",
                "response.protocol",
                "response.wakeup",
                "response.recv_return",
            ]
        );
        let within = |k: &str| set.get(k).unwrap().within.clone();
        assert_eq!(
            within("request.wakeup").as_deref(),
            Some("request.wake_to_return")
        );
        assert_eq!(
            within("response.idle_exit").as_deref(),
            Some("response.wakeup")
        );
        assert_eq!(
            within("response.wake_issue").as_deref(),
            Some("response.wakeup")
        );
        assert_eq!(within("response.wakeup"), None);
        for s in &set.stages {
            assert_eq!(s.histogram.len() + s.absent, 30, "{}", s.name);
        }
    }

    #[test]
    fn unix_sockets_leave_the_softirq_stages_absent_not_zero() {
        let tl = recorded("unix_cross_core");
        let set = stage_set(&tl);
        for key in [
            "request.protocol",
            "response.protocol",
            "request.wake_issue",
            "response.wake_issue",
        ] {
            let s = set.get(key).unwrap();
            assert_eq!((s.histogram.len(), s.absent), (0, 30), "{key}");
        }
        // send_syscall ends at the waking the send itself issues, where there is one.
        let woken = tl
            .round_trips
            .iter()
            .filter(|rt| rt.request.waking_ns.is_some())
            .count();
        let s = set.get("request.send_syscall").unwrap();
        assert_eq!(
            (s.histogram.len(), s.absent),
            (woken as u64, 30 - woken as u64)
        );
        // The client is mostly woken before the response is sent (the server's receive frees
        // write space on its socket): its leg waits for the CPU, it is not woken by the send.
        // The server mostly had not gone to sleep when the request came (its CPU was still
        // running it): the request leg is `already_running` from the send to the return.
        assert_eq!(
            chain(&set),
            [
                "request.already_running",
                "response.wait_for_cpu",
                "response.recv_return"
            ]
        );
    }

    #[test]
    fn the_typical_round_trip_lays_each_stage_on_its_lanes_from_the_clients_send() {
        let tl = recorded("handbuilt_tcp_cross_core");
        let t = typical(&tl.round_trips[0], 3, (Some(0), Some(1)));
        assert_eq!((t.iteration, t.message, t.rtt_ns), (3, 1, 6500));
        let span = |name: &str| t.spans.iter().find(|s| s.name == name).unwrap();
        let wakeup = span("request.wakeup");
        assert_eq!((wakeup.start_ns, wakeup.end_ns), (1000, 3500));
        assert_eq!((wakeup.from, wakeup.to), (Lane::Client, Lane::Server));
        let back = span("response.recv_return");
        assert_eq!(
            (back.start_ns, back.end_ns, back.from),
            (5500, 6500, Lane::Client)
        );
        assert!(t.spans.windows(2).all(|w| w[0].start_ns <= w[1].start_ns));
        assert!(t.spans.iter().all(|s| s.layer == Layer::Kernel));
    }

    #[test]
    fn the_overhead_is_read_against_the_untraced_twin() {
        let mut spec = Spec::new(Transport::Tcp4);
        let plain = spec.case_id();
        spec.probes.trace = true;
        let o = overhead(&spec, 60_000, &[(plain.clone(), 40_000)]).unwrap();
        assert_eq!((o.untraced_case, o.ratio), (plain, 1.5));
        assert!(overhead(&spec, 60_000, &[]).is_none(), "no twin in the run");
        spec.probes.trace = false;
        assert!(overhead(&spec, 60_000, &[(spec.case_id(), 40_000)]).is_none());
    }
}
