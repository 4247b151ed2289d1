//! Engines: how a worker waits for its connections. Workloads are state machines ([`Flow`]) that
//! make as much progress as they can and say what they wait for; an engine decides what waiting
//! means (sleep in read, busy-poll, epoll, an async reactor). One file per engine; the table in
//! [`engine_for`] is the only place that knows them all.

pub mod blocking;
pub mod epoll;
pub mod spin;
#[cfg(feature = "tokio")]
pub mod tokio;

use std::io;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use anyhow::Result;

use crate::metrics::counters::Counters;
use crate::metrics::histogram::LatencyHistogram;
use crate::metrics::rusage::ThreadUsage;
use crate::metrics::series::Slice;
use crate::spec::EngineKind;
use crate::transport::Conn;

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

/// One side of one flow of a workload: a state machine over one connection.
///
/// `progress` must do as much work as it can and return when the connection would block (or a
/// blocking call returned early: `WouldBlock` after the wait tick, `Interrupted` by the watchdog)
/// or when the flow is done. It may be called when nothing is ready and must tolerate that.
///
/// A flow may replace `*conn` with a new connection (`crr` does, once per transaction). It must
/// then keep the old one open until its next `progress` call (see [`Retired`]), so that an engine
/// can still deregister the old file descriptor by number without hitting a reused one.
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
    pub schedule: Option<crate::workload::rate::ScheduleStats>,
    /// `crr` clients: the local ports their connections used.
    pub ports: Option<Box<crate::workload::crr::PortSet>>,
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

/// What the runner wants the workers to do, shared between them.
#[derive(Debug, Default)]
pub struct Control {
    state: AtomicU8,
}

/// The states of [`Control`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// Keep going.
    Running,
    /// The clients are done: servers finish what they are waiting for and return normally.
    WindDown,
    /// Stop now and report failure (watchdog, Ctrl-C, a failed peer).
    Abort,
}

impl Control {
    /// The current state.
    #[inline]
    pub fn state(&self) -> RunState {
        match self.state.load(Ordering::Relaxed) {
            0 => RunState::Running,
            1 => RunState::WindDown,
            _ => RunState::Abort,
        }
    }

    /// Moves to a later state (never back).
    pub fn set(&self, state: RunState) {
        let v = match state {
            RunState::Running => 0,
            RunState::WindDown => 1,
            RunState::Abort => 2,
        };
        self.state.fetch_max(v, Ordering::SeqCst);
    }
}

/// The error an engine returns when the runner aborted it.
#[derive(Debug, thiserror::Error)]
#[error("stopped by the runner (watchdog timeout, interruption or a failed peer)")]
pub struct Aborted;

/// Checks the control after a flow could not progress: `Ok(true)` to return normally.
#[inline]
pub fn should_return(control: &Control) -> Result<bool> {
    match control.state() {
        RunState::Running => Ok(false),
        RunState::WindDown => Ok(true),
        RunState::Abort => Err(Aborted.into()),
    }
}

/// An engine: drives a thread's flows until they are done or the runner stops them.
pub trait Engine: Sync {
    /// Which engine this is.
    fn kind(&self) -> EngineKind;

    /// Largest number of flows one thread can drive (the blocking engine waits on one fd).
    fn max_flows_per_thread(&self) -> usize {
        usize::MAX
    }

    /// Runs `slots` until every flow is done, the runner winds down, or it aborts. The slots are
    /// handed back in the same order (an engine may move them into tasks meanwhile).
    /// `tick` bounds one sleep, so the control is checked at least that often.
    ///
    /// Returns the CPU usage of helper threads the engine started (tokio-mt's runtime workers),
    /// which the worker adds to its own; engines that run on the calling thread return zero.
    fn drive(
        &self,
        slots: &mut Vec<FlowSlot>,
        control: &Control,
        tick: Duration,
    ) -> Result<ThreadUsage>;
}

/// The engine table.
pub fn engine_for(kind: EngineKind) -> &'static dyn Engine {
    match kind {
        EngineKind::Blocking => &blocking::Blocking,
        EngineKind::Spin => &spin::Spin,
        EngineKind::Epoll => &epoll::Epoll,
        #[cfg(feature = "tokio")]
        EngineKind::Tokio => &tokio::Tokio {
            multi_thread: false,
        },
        #[cfg(feature = "tokio")]
        EngineKind::TokioMt => &tokio::Tokio { multi_thread: true },
        #[cfg(not(feature = "tokio"))]
        EngineKind::Tokio => &NotBuilt(EngineKind::Tokio),
        #[cfg(not(feature = "tokio"))]
        EngineKind::TokioMt => &NotBuilt(EngineKind::TokioMt),
    }
}

/// True when this build has the engine (the tokio engines need the `tokio` feature).
pub fn is_built(kind: EngineKind) -> bool {
    cfg!(feature = "tokio") || !matches!(kind, EngineKind::Tokio | EngineKind::TokioMt)
}

/// An engine this build leaves out; validation refuses it first, this is the last line.
#[cfg(not(feature = "tokio"))]
struct NotBuilt(EngineKind);

#[cfg(not(feature = "tokio"))]
impl Engine for NotBuilt {
    fn kind(&self) -> EngineKind {
        self.0
    }

    fn drive(&self, _: &mut Vec<FlowSlot>, _: &Control, _: Duration) -> Result<ThreadUsage> {
        anyhow::bail!(
            "the {} engine is not in this build: enable loopbench's `tokio` feature",
            self.0
        )
    }
}

/// Sleeps in ppoll(2) until `fd` is ready for `wait`, `until_ns` (CLOCK_MONOTONIC) passes, or a
/// signal (the watchdog's kick) arrives. Used for timed flows by engines that otherwise block in
/// read/write. Nanosecond timeout; the worker sets its timer slack to 1 ns.
pub fn wait_fd(fd: std::os::fd::RawFd, wait: Wait, until_ns: Option<u64>) -> io::Result<()> {
    let events = match wait {
        Wait::Read => libc::POLLIN,
        Wait::Write => libc::POLLOUT,
        Wait::Done => return Ok(()),
    };
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    let timeout = until_ns.map(|t| {
        let left = t.saturating_sub(crate::metrics::clock::monotonic_ns());
        libc::timespec {
            tv_sec: (left / 1_000_000_000) as libc::time_t,
            tv_nsec: (left % 1_000_000_000) as libc::c_long,
        }
    });
    let ts = timeout
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `pfd` is one valid pollfd on this frame; `ts` is null or points to a timespec on
    // this frame; a null sigmask keeps the thread's mask.
    let ret = unsafe { libc::ppoll(&mut pfd, 1, ts, std::ptr::null()) };
    if ret < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(())
}

/// True for the errors that mean "try again later" rather than failure.
#[inline]
pub fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

/// True for the errors that mean the peer has gone away.
pub fn is_disconnect(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::NotConnected
    )
}

#[cfg(test)]
mod tests;
