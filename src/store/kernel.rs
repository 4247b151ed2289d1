//! What run.json keeps of `--trace` and `--profile`: per case (and per iteration, for the
//! tracer) a [`KernelTraceRecord`] of what the tracer saw and could attribute, and per case a
//! [`CpuProfileRecord`] of where the workers' CPUs went, by category and side, with the category
//! table it used. The kernel stages themselves are [`StageSummary`](super::stages::StageSummary)
//! entries under the summary's `kernel_stages` (`request.<stage>`, `response.<stage>`).

use serde::{Deserialize, Serialize};

use crate::spec::CaseId;

/// How the receivers were woken, over the legs of the attributed round trips.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct WakeupCounts {
    /// Legs whose receiver was woken (sched_waking seen within the leg).
    pub woken: u64,
    /// Cross-CPU wake-ups that sent an IPI to the receiver's CPU.
    pub with_ipi: u64,
    /// Cross-CPU wake-ups without an IPI (the target CPU was polling in idle, or running).
    pub without_ipi: u64,
    /// Wake-ups after which the receiver's CPU left idle (power:cpu_idle exit).
    pub idle_exits: u64,
    /// Wake-ups whose switch-in was not seen (no tracepoint from that CPU's idle task, or the
    /// receiver was still on its CPU): `wake_to_return` stands for `wakeup + recv_return`.
    pub switch_unseen: u64,
    /// Legs whose receiver got the data without being woken in the leg (it had not slept, or
    /// was woken before the data was sent).
    pub not_woken: u64,
}

impl WakeupCounts {
    /// Adds another iteration's counts.
    pub fn add(&mut self, o: &WakeupCounts) {
        self.woken += o.woken;
        self.with_ipi += o.with_ipi;
        self.without_ipi += o.without_ipi;
        self.idle_exits += o.idle_exits;
        self.switch_unseen += o.switch_unseen;
        self.not_woken += o.not_woken;
    }
}

/// The traced case's round trip set against its untraced twin in the same run
/// (`--trace off,on`): what tracing costs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TraceOverhead {
    /// The untraced case.
    pub untraced_case: CaseId,
    /// Its round-trip median (ns).
    pub untraced_p50_ns: u64,
    /// The traced case's round-trip median (ns).
    pub traced_p50_ns: u64,
    /// `traced / untraced` medians.
    pub ratio: f64,
}

/// What one direction's messages took in the kernel as a whole: a message of many segments
/// goes through many softirqs and may wake its reader several times.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MessageTotals {
    /// `request` or `response`.
    pub direction: String,
    /// NET_RX softirqs on the sender's CPU per message (mean).
    pub softirqs_per_message: f64,
    /// Their time per message, summed, median (ns); `None` without softirqs (Unix sockets).
    pub softirq_ns_p50: Option<u64>,
    /// The sender's send call, entry to return, median (ns).
    pub send_call_ns_p50: Option<u64>,
    /// Times the reader was woken per message (mean).
    pub wakeups_per_message: f64,
}

/// What the tracer saw of a case (summed over its iterations) or of one iteration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KernelTraceRecord {
    /// Tracepoint events read from the workers' CPUs (after the kernel's filters).
    pub events: u64,
    /// Events the kernel dropped because a ring buffer was full (counted, never silent).
    pub lost_events: u64,
    /// Records that did not decode (0 unless the kernel's formats surprise the decoder).
    pub undecoded: u64,
    /// Round trips rebuilt with every leg attributed.
    pub round_trips: u64,
    /// Round trips left out because events were lost during them.
    pub dropped_for_loss: u64,
    /// Client sends whose request or response was not found (left out).
    pub unmatched: u64,
    /// How the receivers were woken.
    pub wakeups: WakeupCounts,
    /// Median kernel-view round trip: the client's send entered → its receive returned (ns).
    pub kernel_rtt_p50_ns: u64,
    /// Median server turnaround in the kernel's view: its receive returned → its send entered.
    pub server_turnaround_p50_ns: u64,
    /// Per direction, what whole messages took (softirqs, send call, wake-ups).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_message: Vec<MessageTotals>,
    /// The stage keys that follow one another along the round trip, in order: their medians
    /// stack up to the kernel-view round trip, less the server's turnaround. The other keys are
    /// parts of these (`within`).
    pub chain: Vec<String>,
    /// Ring-buffer bytes per traced CPU.
    pub buffer_bytes_per_cpu: u64,
    /// The CPU a drainer emptied the buffers on during the iterations; `None`: after each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drained_on_cpu: Option<usize>,
    /// Tracing's cost, when the run also measured the case untraced (`--trace off,on`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overhead: Option<TraceOverhead>,
}

impl KernelTraceRecord {
    /// Adds another iteration's counts (medians, chain and buffer are set by the caller).
    pub fn add(&mut self, o: &KernelTraceRecord) {
        self.events += o.events;
        self.lost_events += o.lost_events;
        self.undecoded += o.undecoded;
        self.round_trips += o.round_trips;
        self.dropped_for_loss += o.dropped_for_loss;
        self.unmatched += o.unmatched;
        self.wakeups.add(&o.wakeups);
    }
}

/// One category of the table the profile used: its name, what it holds, and the kernel
/// function-name patterns that select it (first match wins, in table order).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CategoryRule {
    /// `data_copy`, `protocol`, ...
    pub category: String,
    /// What the category covers.
    pub description: String,
    /// Exact names, `prefix*`, `*suffix` or `*infix*`.
    pub patterns: Vec<String>,
}

/// Where one side's CPU time went.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SideProfile {
    /// `client`, `server`, `shared_idle` (idle of a CPU both sides use) or `all`.
    pub side: String,
    /// Samples attributed.
    pub samples: u64,
    /// CPU time the samples stand for (ns).
    pub cpu_ns: u64,
    /// Category → share of `cpu_ns` (0..=1), in the table's order.
    pub shares: Vec<(String, f64)>,
    /// `stream`: category → CPU ns per payload byte received.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ns_per_byte: Vec<(String, f64)>,
    /// Samples whose leaf matched no pattern and took their nearest matching caller's category.
    pub by_caller: u64,
    /// Samples whose leaf was sampling skid (an irq-enabling unlock) and took their caller's.
    pub skid: u64,
}

/// `--profile`: where the workers' CPUs went over a case, by category (after Cai et al.,
/// "Understanding Host Network Stack Overheads", SIGCOMM 2021) and side.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CpuProfileRecord {
    /// How samples were taken (`cpu-clock`: a software timer; no hardware PMU needed).
    pub event: String,
    /// Samples per second per CPU.
    pub frequency_hz: u64,
    /// Samples taken on the workers' CPUs (every thread, idle included).
    pub samples: u64,
    /// Samples the kernel dropped (full buffer).
    pub lost: u64,
    /// CPU time of other tasks on the workers' CPUs (ns), left out of every share.
    pub other_tasks_ns: u64,
    /// Per side, then `all` (the sides and shared idle together).
    pub sides: Vec<SideProfile>,
    /// The leaf functions of the samples that stayed `other`, heaviest first (ns).
    pub other_symbols: Vec<(String, u64)>,
    /// Leaf functions treated as sampling skid (their samples go to the caller's category).
    pub skid_leaves: Vec<String>,
    /// The category table, as data.
    pub categories: Vec<CategoryRule>,
}

impl CpuProfileRecord {
    /// The side called `name`.
    pub fn side(&self, name: &str) -> Option<&SideProfile> {
        self.sides.iter().find(|s| s.side == name)
    }
}

impl SideProfile {
    /// The share of `category` (0 when it has none).
    pub fn share(&self, category: &str) -> f64 {
        self.shares
            .iter()
            .find(|(c, _)| c == category)
            .map_or(0.0, |(_, s)| *s)
    }
}
