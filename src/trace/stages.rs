//! The kernel stages of one round trip: a leg's points (one one-way path) and the stage
//! durations between them, `None` where the kernel took a path without that point.

/// A kernel stage of one leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// Send syscall entered → NET_RX softirq entry on the sender's CPU; where no softirq runs
    /// (Unix sockets, pipes: the send itself queues the data and wakes the reader), → the
    /// receiver's sched_waking.
    SendSyscall,
    /// Softirq entry → the receiver's sched_waking (the stack's receive processing).
    Protocol,
    /// sched_waking → softirq exit (issuing the wake-up, IPI included).
    WakeIssue,
    /// sched_waking → the receiver switched in on its CPU.
    Wakeup,
    /// sched_waking → the receiver's CPU leaves idle (only when it was idle).
    IdleExit,
    /// Receiver switched in → its receive syscall returns.
    RecvReturn,
    /// sched_waking → the receive syscall returns, where the switch-in was not seen (this VM's
    /// CPU 1 emits no tracepoints from idle): `wakeup + recv_return` of the other legs.
    WakeToReturn,
    /// Send syscall entered → the receiver switched in, where the receiver was not woken during
    /// the leg: it was runnable already (preempted on a shared CPU, or woken before the data was
    /// sent by the peer's previous receive freeing write space, as Unix sockets do).
    WaitForCpu,
    /// sched_waking before the send → the receiver switched in (the legs of `wait_for_cpu` whose
    /// early wake-up was seen).
    EarlyWakeup,
    /// Send syscall entered (or its softirq entered) → the receive syscall returns, where the
    /// receiver was neither woken nor seen switching in during the leg: it was on its CPU
    /// already, or (as `wake_to_return`) its switch-in from this VM's CPU 1 idle was not traced.
    AlreadyRunning,
}

impl Stage {
    /// Every stage, in path order.
    pub const ALL: [Stage; 10] = [
        Self::SendSyscall,
        Self::Protocol,
        Self::WakeIssue,
        Self::Wakeup,
        Self::IdleExit,
        Self::RecvReturn,
        Self::WakeToReturn,
        Self::WaitForCpu,
        Self::EarlyWakeup,
        Self::AlreadyRunning,
    ];

    /// The name used in reports and files.
    pub fn name(self) -> &'static str {
        match self {
            Self::SendSyscall => "send_syscall",
            Self::Protocol => "protocol",
            Self::WakeIssue => "wake_issue",
            Self::Wakeup => "wakeup",
            Self::IdleExit => "idle_exit",
            Self::RecvReturn => "recv_return",
            Self::WakeToReturn => "wake_to_return",
            Self::WaitForCpu => "wait_for_cpu",
            Self::EarlyWakeup => "early_wakeup",
            Self::AlreadyRunning => "already_running",
        }
    }

    /// The path stage this one runs alongside, for the stages that overlap the path
    /// (`wake_issue` and `idle_exit` start at the waking, as `wakeup` does; `early_wakeup`
    /// starts before the send and ends where `wait_for_cpu` does); `None` for path stages,
    /// which follow one another and add up to the one-way path ([`Leg::path`]).
    pub fn parallel_to(self) -> Option<Stage> {
        match self {
            Self::WakeIssue | Self::IdleExit => Some(Self::Wakeup),
            Self::EarlyWakeup => Some(Self::WaitForCpu),
            _ => None,
        }
    }
}

/// The points of one one-way path (CLOCK_MONOTONIC ns); `None` where the kernel took another path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leg {
    /// The sender entered its send syscall.
    pub send_enter_ns: u64,
    /// NET_RX softirq entry on the sender's CPU, during the send.
    pub softirq_entry_ns: Option<u64>,
    /// sched_waking of the receiver during the leg.
    pub waking_ns: Option<u64>,
    /// sched_waking of the receiver after it last went to sleep but before the send (it was
    /// woken early, e.g. by write space freed on its socket), when none followed in the leg.
    pub early_waking_ns: Option<u64>,
    /// The NET_RX softirq that woke the receiver ended.
    pub softirq_exit_ns: Option<u64>,
    /// The receiver's CPU left idle after the waking.
    pub idle_exit_ns: Option<u64>,
    /// The receiver was switched in after the waking (or, not woken in the leg, after the send).
    pub on_cpu_ns: Option<u64>,
    /// The receiver's receive syscall returned with data.
    pub recv_exit_ns: u64,
    /// Whether the waker sent an IPI to the receiver's CPU; `None` without a cross-CPU waking.
    pub ipi: Option<bool>,
    /// The whole message's kernel work (a large message takes many softirqs and reads).
    pub totals: LegTotals,
}

/// What the kernel did for a whole message, however many segments and reads it took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LegTotals {
    /// The sender's send syscall returned.
    pub send_exit_ns: Option<u64>,
    /// NET_RX softirqs completed on the sender's CPU between the send and the last read.
    pub softirqs: u32,
    /// Their time, summed (ns).
    pub softirq_ns: u64,
    /// sched_waking events of the receiver in the leg (one per time it went to sleep).
    pub wakings: u32,
}

impl LegTotals {
    /// The sender's send call, entry to return (ns), given the leg's send entry.
    pub fn send_call_ns(&self, send_enter_ns: u64) -> Option<u64> {
        self.send_exit_ns?.checked_sub(send_enter_ns)
    }
}

impl Leg {
    /// The stage's duration in ns, `None` when a point it needs is absent.
    pub fn stage_ns(&self, stage: Stage) -> Option<u64> {
        self.stage_span(stage).map(|(from, to)| to - from)
    }

    /// The stage's start and end (ns), `None` when a point it needs is absent.
    pub fn stage_span(&self, stage: Stage) -> Option<(u64, u64)> {
        let span = |a: Option<u64>, b: Option<u64>| Some((a?, b?)).filter(|(a, b)| a <= b);
        match stage {
            Stage::WakeIssue => span(self.waking_ns, self.softirq_exit_ns),
            Stage::IdleExit => span(self.waking_ns, self.idle_exit_ns),
            Stage::EarlyWakeup if self.waking_ns.is_none() => {
                span(self.early_waking_ns, self.on_cpu_ns)
            }
            Stage::EarlyWakeup => None,
            _ => self
                .path()
                .into_iter()
                .find(|(s, _, _)| *s == stage)
                .map(|(_, from, to)| (from, to)),
        }
    }

    /// The path stages of this leg, in order, each as (stage, start, end): each ends where the
    /// next starts, the first starts at the send's entry and the last ends at the receive's
    /// return, so they add up to [`Leg::one_way_ns`] exactly. Which stages a leg has depends on
    /// the path the kernel took: `send_syscall` ends at the softirq (TCP, UDP) or, without one,
    /// at the waking its send issued (Unix); a woken receiver has `wakeup` + `recv_return` (or
    /// `wake_to_return` where its switch-in was not traced); a receiver not woken in the leg has
    /// `wait_for_cpu` + `recv_return` (runnable, switched in later) or `already_running` (on its
    /// CPU throughout). A point out of order (a softirq after the waking) is not cut at.
    pub fn path(&self) -> Vec<(Stage, u64, u64)> {
        let (send, end) = (self.send_enter_ns, self.recv_exit_ns);
        let within = |p: Option<u64>, from: u64| p.filter(|&t| from <= t && t <= end);
        let waking = within(self.waking_ns, send);
        let softirq =
            within(self.softirq_entry_ns, send).filter(|&t| waking.is_none_or(|w| t <= w));
        // A switch-in before the last cut (the reader ran during the sender's softirq) is
        // not cut at either: the leg's end then follows that cut.
        let on_cpu = within(self.on_cpu_ns, waking.or(softirq).unwrap_or(send));
        let mut path = Vec::with_capacity(4);
        let mut at = send;
        let mut cut = |stage: Stage, to: u64| {
            path.push((stage, at, to));
            at = to;
        };
        if let Some(t) = softirq {
            cut(Stage::SendSyscall, t);
        }
        match (waking, on_cpu) {
            (Some(w), on_cpu) => {
                cut(
                    if softirq.is_some() {
                        Stage::Protocol
                    } else {
                        Stage::SendSyscall
                    },
                    w,
                );
                match on_cpu {
                    Some(o) => {
                        cut(Stage::Wakeup, o);
                        cut(Stage::RecvReturn, end);
                    }
                    None => cut(Stage::WakeToReturn, end),
                }
            }
            (None, Some(o)) => {
                cut(Stage::WaitForCpu, o);
                cut(Stage::RecvReturn, end);
            }
            (None, None) => cut(Stage::AlreadyRunning, end),
        }
        path
    }

    /// Send syscall entered → receive syscall returned.
    pub fn one_way_ns(&self) -> u64 {
        self.recv_exit_ns - self.send_enter_ns
    }
}

/// One request and its response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundTrip {
    /// Which of the client's sends it began with (1-based): the message's sequence number when
    /// every message is one send.
    pub seq: u64,
    /// Client → server.
    pub request: Leg,
    /// Server → client.
    pub response: Leg,
}

impl RoundTrip {
    /// Client's send entered → client's receive returned.
    pub fn rtt_ns(&self) -> u64 {
        self.response.recv_exit_ns - self.request.send_enter_ns
    }

    /// Server's receive returned → server's send entered (user space on the server).
    pub fn server_turnaround_ns(&self) -> u64 {
        self.response.send_enter_ns - self.request.recv_exit_ns
    }
}
