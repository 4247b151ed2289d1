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
}

impl Stage {
    /// Every stage, in path order.
    pub const ALL: [Stage; 9] = [
        Self::SendSyscall,
        Self::Protocol,
        Self::WakeIssue,
        Self::Wakeup,
        Self::IdleExit,
        Self::RecvReturn,
        Self::WakeToReturn,
        Self::WaitForCpu,
        Self::EarlyWakeup,
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
        let span = |a: Option<u64>, b: Option<u64>| b?.checked_sub(a?);
        match stage {
            Stage::SendSyscall => span(
                Some(self.send_enter_ns),
                self.softirq_entry_ns.or(self.waking_ns),
            ),
            Stage::Protocol => span(self.softirq_entry_ns, self.waking_ns),
            Stage::WakeIssue => span(self.waking_ns, self.softirq_exit_ns),
            Stage::Wakeup => span(self.waking_ns, self.on_cpu_ns),
            Stage::IdleExit => span(self.waking_ns, self.idle_exit_ns),
            Stage::RecvReturn => span(self.on_cpu_ns, Some(self.recv_exit_ns)),
            Stage::WakeToReturn if self.on_cpu_ns.is_none() => {
                span(self.waking_ns, Some(self.recv_exit_ns))
            }
            Stage::WakeToReturn => None,
            Stage::WaitForCpu if self.waking_ns.is_none() => {
                span(Some(self.send_enter_ns), self.on_cpu_ns)
            }
            Stage::WaitForCpu => None,
            Stage::EarlyWakeup if self.waking_ns.is_none() => {
                span(self.early_waking_ns, self.on_cpu_ns)
            }
            Stage::EarlyWakeup => None,
        }
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
