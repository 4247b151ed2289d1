//! The interface between workloads and engines: a [`Flow`] is one side of one flow as a state
//! machine over one connection; it says what it waits for ([`Wait`]) and, at the end, what it
//! measured ([`FlowReport`]).

use anyhow::Result;

use crate::metrics::counters::Counters;
use crate::metrics::histogram::LatencyHistogram;
use crate::metrics::ports::PortSet;
use crate::metrics::schedule::ScheduleStats;
use crate::metrics::series::Slice;
use crate::metrics::stamps::{ClientStamps, ServerStamps, StampLog};
use crate::transport::Conn;
use crate::transport::wait::Interest;

/// What a flow waits for after [`Flow::progress`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// The connection to become readable.
    Read,
    /// The connection to become writable.
    Write,
    /// Nothing: the flow has finished its iteration.
    Done,
}

impl Wait {
    /// What to wait for on the connection's file descriptor; `None` once the flow is done.
    pub fn interest(self) -> Option<Interest> {
        match self {
            Wait::Read => Some(Interest::Read),
            Wait::Write => Some(Interest::Write),
            Wait::Done => None,
        }
    }
}

/// One side of one flow of a workload: a state machine over one connection.
///
/// `progress` must do as much work as it can and return when the connection would block (or a
/// blocking call returned early: `WouldBlock` after the wait tick, `Interrupted` by the watchdog)
/// or when the flow is done. It may be called when nothing is ready and must tolerate that.
///
/// A flow may replace `*conn` with a new connection (`crr` does, once per transaction). It must
/// then keep the old one open until its next `progress` call (see [`Retired`]), so that an engine
/// can still deregister the old file descriptor by number without hitting a reused one.
///
/// The one rule completion engines (io_uring) add: a `read` or `write` that returned
/// `WouldBlock` may have been submitted to the kernel, which keeps using that buffer. Retry it
/// with the same buffer (same start, same length) before using the buffer for anything else,
/// and do not end the iteration, or replace the connection, while a write you were told would
/// block is still unanswered. A call with another buffer meanwhile fails with `InvalidInput`
/// (see [`port`](crate::transport::port)).
pub trait Flow: Send {
    /// Makes as much progress as possible on `conn`.
    fn progress(&mut self, conn: &mut Conn) -> Result<Wait>;

    /// True for flows with a send schedule (`rate`): their connection stays non-blocking, and
    /// every engine wakes them by [`Flow::deadline_ns`] even when the connection stays idle.
    fn timed(&self) -> bool {
        false
    }

    /// For timed flows: the monotonic time (ns) of the next scheduled action, if any.
    fn deadline_ns(&self) -> Option<u64> {
        None
    }

    /// The flow's results, after its engine returned.
    fn report(self: Box<Self>) -> FlowReport;
}

/// What one flow measured.
#[derive(Default)]
pub struct FlowReport {
    /// Latency histogram (clients of latency workloads).
    pub latency: Option<LatencyHistogram>,
    /// Messages, bytes and datagram accounting.
    pub counters: Counters,
    /// Receivers: what arrived per time slice.
    pub slices: Vec<Slice>,
    /// Receivers: nanoseconds from the flow's first step to the last data it received.
    pub receive_span_ns: Option<u64>,
    /// `rate`: latency from the actual send time (the uncorrected view); `latency` then holds
    /// the latency from the intended send time.
    pub latency_actual: Option<LatencyHistogram>,
    /// `rate`: how the send schedule went.
    pub schedule: Option<ScheduleStats>,
    /// `crr` clients: the local ports their connections used.
    pub ports: Option<Box<PortSet>>,
    /// `--stages`, clients: each message's stamps, by sequence number.
    pub client_stamps: Option<StampLog<ClientStamps>>,
    /// `--stages`, servers: each request's stamps, in the order served.
    pub server_stamps: Option<StampLog<ServerStamps>>,
    /// Clients of a service: per-kind histograms, HTTP status codes, TCP_INFO.
    pub service: Option<Box<crate::metrics::service::ServiceMeasure>>,
}

/// A connection a flow replaced, kept open until the flow's next step (see [`Flow`]).
#[derive(Default)]
pub struct Retired(Option<Conn>);

impl Retired {
    /// Keeps `conn` open until the next [`Retired::release`] (or until replaced).
    pub fn keep(&mut self, conn: Conn) {
        self.0 = Some(conn);
    }

    /// Closes the kept connection: call at the start of each step.
    #[inline]
    pub fn release(&mut self) {
        self.0 = None;
    }
}

/// A flow and the connection it runs on.
pub struct FlowSlot {
    /// The connection.
    pub conn: Conn,
    /// The workload's state machine for this side.
    pub flow: Box<dyn Flow>,
}
