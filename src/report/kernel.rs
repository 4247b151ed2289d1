//! The kernel's side of a run as tables: per traced case (`--trace`) its kernel stages with what
//! the tracer saw and cost, and over the profiled cases (`--profile`) the CPU shares by category.
//! The terminal, summary.md and report.html print the same rows.

use crate::store::kernel::{CpuProfileRecord, KernelTraceRecord};
use crate::store::record::{CaseSummary, RunRecord};
use crate::store::stages::{StageMap, StageSummary};
use crate::text::us;
use crate::trace::stages::Stage;

/// One traced case's stage table and the lines that go under it.
pub struct KernelTable {
    /// The case id.
    pub case: String,
    /// The columns.
    pub header: Vec<String>,
    /// One row per stage, request then response, in path order.
    pub rows: Vec<Vec<String>>,
    /// What the tracer saw, what the stages add up to, and what tracing cost.
    pub notes: Vec<String>,
}

/// The stage table's columns.
const HEADER: [&str; 8] = [
    "kernel stage",
    "p50 µs",
    "p90 µs",
    "p99 µs",
    "share of RTT",
    "messages",
    "absent",
    "not summed",
];

/// What the stage table's columns and rows mean.
pub const LEGEND: &str = "send_syscall = send entered → NET_RX softirq (or, without one, the \
receiver's waking); protocol = softirq entry → receiver's sched_waking; wakeup = waking → \
receiver on its CPU; recv_return = on CPU → receive returned; wake_to_return = waking → receive \
returned where the switch-in was not traced; wait_for_cpu = send (or its softirq) → on CPU for a \
receiver not woken in the leg; already_running = send (or its softirq) → receive returned for a \
receiver neither woken nor seen switching in (on its CPU throughout, or switched in untraced). These path stages follow one another: each leg's add up to its \
one-way time exactly, and Σ kernel sums their medians, each weighted by the share of legs that \
took it. Parallel stages, not summed: wake_issue = waking → softirq exit (the waker's side, \
while the wake-up is in flight), idle_exit = waking → the receiver's CPU left idle (within \
wakeup), early_wakeup = a waking before the send → on CPU (covers wait_for_cpu). A stage absent \
on a leg's path (no softirq on Unix sockets, no IPI on one core) is counted in 'absent', never \
as zero. 'other path' marks the path stages of legs that did not take the stacked chain";

/// The stage's path role, from a run.json key (`request.wake_issue`): the stage it runs
/// parallel to, if it is a parallel stage.
fn parallel_to(key: &str) -> Option<Stage> {
    let (_, name) = key.split_once('.')?;
    Stage::ALL
        .into_iter()
        .find(|s| s.name() == name)?
        .parallel_to()
}

/// The tables of every traced case of `r`, in case order.
pub fn kernel_tables(r: &RunRecord) -> Vec<KernelTable> {
    r.cases
        .iter()
        .filter_map(|c| {
            let s = c.summary.as_ref()?;
            let trace = s.extras.kernel_trace.as_ref()?;
            Some(KernelTable {
                case: c.case_id.to_string(),
                header: HEADER.iter().map(|h| h.to_string()).collect(),
                rows: rows(&s.extras.kernel_stages),
                notes: notes(s, trace),
            })
        })
        .collect()
}

/// Where `key` (`request.wakeup`) stands along the round trip: request before response, each
/// direction's stages in path order, unknown keys last.
pub fn path_position(key: &str) -> (usize, usize) {
    let (direction, stage) = key.split_once('.').unwrap_or((key, ""));
    let d = ["request", "response"]
        .iter()
        .position(|&n| n == direction)
        .unwrap_or(2);
    let s = Stage::ALL
        .iter()
        .position(|st| st.name() == stage)
        .unwrap_or(Stage::ALL.len());
    (d, s)
}

fn rows(stages: &StageMap<StageSummary>) -> Vec<Vec<String>> {
    let mut ordered: Vec<(&str, &StageSummary)> = stages.iter().collect();
    ordered.sort_by_key(|(name, _)| path_position(name));
    ordered
        .into_iter()
        .map(|(name, st)| {
            let seen = st.latency.count > 0;
            let cell = |ns: u64| if seen { us(ns as f64) } else { "-".into() };
            vec![
                name.to_string(),
                cell(st.latency.p50_ns),
                cell(st.latency.p90_ns),
                cell(st.latency.p99_ns),
                if seen && st.within.is_none() {
                    format!("{:.0} %", st.share_of_rtt * 100.0)
                } else {
                    "-".into()
                },
                st.latency.count.to_string(),
                st.absent.to_string(),
                match (parallel_to(name), &st.within) {
                    (Some(p), _) => {
                        let direction = name.split_once('.').map_or("", |(d, _)| d);
                        format!("parallel to {direction}.{}", p.name())
                    }
                    (None, Some(w)) => format!("other path (chain: {w})"),
                    (None, None) => String::new(),
                },
            ]
        })
        .collect()
}

/// Σ kernel: every path stage's median weighted by the share of its direction's legs that took
/// it (a stage on every leg counts fully; the stages of paths fewer legs took count for those
/// legs), parallel stages left out; `None` without path stages.
pub fn path_sum_ns(stages: &StageMap<StageSummary>) -> Option<u64> {
    let sum: f64 = stages
        .iter()
        .filter(|(name, st)| parallel_to(name).is_none() && st.latency.count > 0)
        .map(|(_, st)| {
            let legs = (st.latency.count + st.absent) as f64;
            st.latency.p50_ns as f64 * st.latency.count as f64 / legs
        })
        .sum();
    (sum > 0.0).then_some(sum.round() as u64)
}

/// Σ kernel plus the server's turnaround against the traced round trip, and the stacked chain's
/// medians (the path most legs took).
fn sum_line(s: &CaseSummary, t: &KernelTraceRecord) -> Option<String> {
    let stacked: u64 = t
        .chain
        .iter()
        .filter_map(|k| s.extras.kernel_stages.get(k))
        .filter(|st| st.latency.count > 0)
        .map(|st| st.latency.p50_ns)
        .sum();
    let rtt = s.latency.p50_ns;
    let path = path_sum_ns(&s.extras.kernel_stages)?;
    (rtt > 0).then(|| {
        let turn = t.server_turnaround_p50_ns;
        let pct = |ns: u64| (ns + turn) as f64 / rtt as f64 * 100.0;
        format!(
            "Σ kernel: the path stages' medians, each weighted by the share of legs that took it, plus the server's turnaround ({} µs) make {} µs: {:.0} % of the traced round trip's median ({} µs; {} µs from the client's send entry to its receive's return); parallel stages not summed. The stacked chain ({}) makes {} µs with the turnaround: {:.0} %",
            us(turn as f64),
            us((path + turn) as f64),
            pct(path),
            us(rtt as f64),
            us(t.kernel_rtt_p50_ns as f64),
            t.chain.join(" + "),
            us((stacked + turn) as f64),
            pct(stacked),
        )
    })
}

fn notes(s: &CaseSummary, t: &KernelTraceRecord) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(sum_line(s, t));
    let w = &t.wakeups;
    out.push(format!(
        "{} round trips attributed ({} left out for lost events, {} unmatched); {} events read, {} lost{}",
        t.round_trips,
        t.dropped_for_loss,
        t.unmatched,
        t.events,
        t.lost_events,
        if t.undecoded > 0 {
            format!(", {} undecoded", t.undecoded)
        } else {
            String::new()
        }
    ));
    out.push(format!(
        "wake-ups: {} in the legs ({} with an IPI, {} without, {} followed by an idle exit, {} whose switch-in was not traced); {} legs not woken",
        w.woken, w.with_ipi, w.without_ipi, w.idle_exits, w.switch_unseen, w.not_woken
    ));
    for m in &t.per_message {
        out.push(format!(
            "per {} message: {:.2} softirqs ({} µs), send call {} µs, {:.2} wake-ups",
            m.direction,
            m.softirqs_per_message,
            m.softirq_ns_p50.map_or("-".into(), |ns| us(ns as f64)),
            m.send_call_ns_p50.map_or("-".into(), |ns| us(ns as f64)),
            m.wakeups_per_message,
        ));
    }
    out.push(match &t.overhead {
        Some(o) => format!(
            "tracing cost: round-trip median {} µs traced vs {} µs untraced ({}), ×{:.2}",
            us(o.traced_p50_ns as f64),
            us(o.untraced_p50_ns as f64),
            o.untraced_case,
            o.ratio
        ),
        None => "tracing cost unknown: run the case untraced too (--trace off,on)".into(),
    });
    out
}

/// The CPU profile table: one row per category, one column per profiled case (all sides), in
/// percent of the workers' CPU time; `None` when no case was profiled.
pub fn profile_table(r: &RunRecord) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let profiled: Vec<(&str, &CpuProfileRecord)> = r
        .cases
        .iter()
        .filter_map(|c| {
            let p = c.summary.as_ref()?.extras.cpu_profile.as_ref()?;
            Some((c.case_id.as_str(), p))
        })
        .collect();
    let first = profiled.first()?.1;
    let mut header = vec!["CPU category".to_string()];
    header.extend(profiled.iter().map(|(id, _)| id.to_string()));
    let mut rows: Vec<Vec<String>> = first
        .categories
        .iter()
        .map(|rule| {
            let mut row = vec![rule.category.clone()];
            row.extend(profiled.iter().map(|(_, p)| {
                p.side("all").map_or("-".into(), |a| {
                    format!("{:.1} %", a.share(&rule.category) * 100.0)
                })
            }));
            row
        })
        .collect();
    let mut samples = vec!["samples (lost)".to_string()];
    samples.extend(
        profiled
            .iter()
            .map(|(_, p)| format!("{} ({})", p.samples, p.lost)),
    );
    rows.push(samples);
    Some((header, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::stages::StageSet;
    use crate::report::fixture;
    use crate::spec::{CaseId, EngineKind, Placement, Transport};
    use crate::store::kernel::{SideProfile, TraceOverhead};
    use crate::store::stages::summarize;

    fn traced_run() -> RunRecord {
        let mut data = fixture::run(&[fixture::rr(
            Transport::Tcp4,
            EngineKind::Blocking,
            Placement::CrossCore,
            64,
            &[10_000],
        )]);
        let s = data.record.cases[0].summary.as_mut().unwrap();
        let mut set = StageSet::default();
        for (key, ns) in [
            ("request.send_syscall", 2_000),
            ("request.wakeup", 3_000),
            ("response.send_syscall", 2_000),
            ("response.wakeup", 2_000),
        ] {
            set.record(key, ns);
        }
        set.stage_mut("request.idle_exit").absent = 1;
        set.stage_mut("request.idle_exit").within = Some("request.wakeup".into());
        s.extras.kernel_stages = summarize(&set, s.latency.p50_ns);
        s.extras.kernel_trace = Some(KernelTraceRecord {
            round_trips: 1,
            server_turnaround_p50_ns: 500,
            chain: vec![
                "request.send_syscall".into(),
                "request.wakeup".into(),
                "response.send_syscall".into(),
                "response.wakeup".into(),
            ],
            overhead: Some(TraceOverhead {
                untraced_case: CaseId("tcp4-rr".into()),
                untraced_p50_ns: 8_000,
                traced_p50_ns: 10_000,
                ratio: 1.25,
            }),
            ..KernelTraceRecord::default()
        });
        data.record
    }

    #[test]
    fn a_traced_case_lists_its_stages_the_sum_and_the_tracing_cost() {
        let r = traced_run();
        let rtt = r.cases[0].summary.as_ref().unwrap().latency.p50_ns;
        let tables = kernel_tables(&r);
        assert_eq!(tables.len(), 1);
        let t = &tables[0];
        let names: Vec<&str> = t.rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(
            names,
            [
                "request.send_syscall",
                "request.wakeup",
                "request.idle_exit",
                "response.send_syscall",
                "response.wakeup",
            ]
        );
        // A stage that never occurred has no figures and is not given a share.
        assert_eq!(t.rows[2][1..5], ["-", "-", "-", "-"]);
        assert_eq!(t.rows[2][6..], ["1", "parallel to request.wakeup"]);
        let expected = format!("{:.0} %", 9_500.0 / rtt as f64 * 100.0);
        assert!(t.notes[0].contains(&expected), "{}", t.notes[0]);
        assert!(t.notes.last().unwrap().contains("×1.25"));
    }

    #[test]
    fn sigma_kernel_weights_each_path_stage_by_its_legs_and_leaves_parallel_stages_out() {
        let mut set = StageSet::default();
        // Four request legs: three waited for the CPU (2 µs) then returned (1 µs), one was
        // already running (1.6 µs); the early wake-up (parallel) is not summed.
        for ns in [2_000, 2_000, 2_000] {
            set.record("request.wait_for_cpu", ns);
            set.record("request.recv_return", 1_000);
            set.record("request.early_wakeup", 50_000);
        }
        set.stage_mut("request.wait_for_cpu").absent = 1;
        set.stage_mut("request.recv_return").absent = 1;
        set.stage_mut("request.early_wakeup").absent = 1;
        set.record("request.already_running", 1_600);
        set.stage_mut("request.already_running").absent = 3;
        set.stage_mut("request.wake_issue").absent = 4;
        let map = summarize(&set, 10_000);
        // 2 × 3/4 + 1 × 3/4 + 1.6 × 1/4 µs: the mean one-way time of these legs.
        assert_eq!(path_sum_ns(&map), Some(2_650));
        let mut only_parallel = StageSet::default();
        only_parallel.record("response.idle_exit", 9_000);
        assert_eq!(path_sum_ns(&summarize(&only_parallel, 10_000)), None);
    }

    #[test]
    fn untraced_runs_have_no_kernel_tables_and_profiles_a_column_per_case() {
        let mut r = traced_run();
        r.cases[0].summary.as_mut().unwrap().extras.kernel_trace = None;
        assert!(kernel_tables(&r).is_empty());
        assert!(profile_table(&r).is_none());
        let rule = |c: &str| crate::store::kernel::CategoryRule {
            category: c.into(),
            ..Default::default()
        };
        r.cases[0].summary.as_mut().unwrap().extras.cpu_profile = Some(CpuProfileRecord {
            samples: 40,
            categories: vec![rule("data_copy"), rule("other")],
            sides: vec![SideProfile {
                side: "all".into(),
                shares: vec![("data_copy".into(), 0.75), ("other".into(), 0.25)],
                ..Default::default()
            }],
            ..Default::default()
        });
        let (header, rows) = profile_table(&r).unwrap();
        assert_eq!(header.len(), 2);
        assert_eq!(rows[0], ["data_copy", "75.0 %"]);
        assert_eq!(rows[1], ["other", "25.0 %"]);
        assert_eq!(rows[2], ["samples (lost)", "40 (0)"]);
    }
}
