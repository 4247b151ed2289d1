//! The watchdog: winds servers down, enforces deadlines and the no-progress limit, and interrupts
//! blocked system calls with a signal ("kick").

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};

use super::outcome::{Side, WorkerReport};
use crate::engine::{Control, RunState};
use crate::host::pinned::Started;
use crate::workload::Heartbeat;

/// Whether workers still make progress: their heartbeat count, when it last moved, and when the
/// clients were last woken to count a lost datagram. Shared by the watchdog and `Pair`.
pub(crate) struct Progress {
    beats: u64,
    moved: Instant,
    kicked: Instant,
}

impl Progress {
    /// Starts watching at heartbeat count `beats`.
    pub(crate) fn new(beats: u64) -> Progress {
        let now = Instant::now();
        Progress {
            beats,
            moved: now,
            kicked: now,
        }
    }

    /// Takes the current heartbeat count.
    pub(crate) fn observe(&mut self, beats: u64) {
        if beats != self.beats {
            (self.beats, self.moved) = (beats, Instant::now());
        }
    }

    /// Counts now as progress (nothing here is expected to move).
    pub(crate) fn hold(&mut self) {
        self.moved = Instant::now();
    }

    /// How long the count has not moved.
    pub(crate) fn still_for(&self) -> Duration {
        self.moved.elapsed()
    }

    /// True, at most once per `loss`, when nothing moved for `loss`: time to wake the clients so
    /// they count a lost datagram and go on.
    pub(crate) fn kick_for_loss(&mut self, loss: Duration) -> bool {
        if self.moved.elapsed() >= loss && self.kicked.elapsed() >= loss {
            self.kicked = Instant::now();
            true
        } else {
            false
        }
    }
}

/// How often the watchdog looks at the workers, and re-sends kicks.
const WATCH_INTERVAL: Duration = Duration::from_millis(10);

/// How long aborted workers get to stop before they are abandoned.
const ABORT_GRACE: Duration = Duration::from_secs(3);

/// The signal used to interrupt blocked workers. A real-time signal, so it does not collide
/// with SIGUSR1/2 that an embedding program may use; its handler does nothing.
fn kick_signal() -> libc::c_int {
    libc::SIGRTMIN() + 3
}

extern "C" fn ignore_kick(_: libc::c_int) {}

/// Installs the no-op kick handler (once per process), without SA_RESTART so blocked system
/// calls return EINTR.
pub(crate) fn install_kick_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: a zeroed sigaction with a valid handler and empty mask is a valid argument;
        // the handler is async-signal-safe (it does nothing).
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = ignore_kick as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            sa.sa_flags = 0;
            libc::sigaction(kick_signal(), &sa, std::ptr::null_mut());
        }
    });
}

/// Interrupts whatever system call the thread of `handle` is blocked in.
pub(crate) fn kick<T>(handle: &JoinHandle<T>) {
    use std::os::unix::thread::JoinHandleExt;
    // SAFETY: the thread has not been joined yet (we hold its handle), so its pthread_t is valid
    // even if it already exited; pthread_kill on such a thread is defined.
    unsafe { libc::pthread_kill(handle.as_pthread_t(), kick_signal()) };
}

/// When the watchdog steps in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// The whole iteration must end by then (duration-based iterations).
    pub(crate) deadline: Option<Duration>,
    /// Some client flow must complete a message at least this often.
    pub(crate) stall: Duration,
    /// Datagram loss timeout: a client without progress for this long is kicked so it can count
    /// the loss and go on.
    pub(crate) loss: Option<Duration>,
    /// Stream transports: servers finish on their own at end of stream, after draining all data
    /// the clients wrote. Datagram transports have no end of stream: their servers are wound
    /// down (drain what is queued, then stop) once the clients are done.
    pub(crate) servers_end_at_eof: bool,
}

/// A worker thread under watch.
pub(crate) struct Watched {
    /// Its side.
    pub(crate) side: Side,
    /// Its index within the side.
    pub(crate) index: usize,
    /// Its handle (to kick it, and to join it once it reported).
    pub(crate) handle: Started<()>,
    /// Whether it has sent its report.
    pub(crate) reported: bool,
}

/// Waits for every worker, winding the servers down once the clients are done, and enforcing the
/// deadline, the no-progress limit and the interrupt flag.
pub(crate) fn watch(
    control: &Control,
    rx: &mpsc::Receiver<WorkerReport>,
    workers: &mut [Watched],
    heartbeats: &[Heartbeat],
    limits: Limits,
    interrupt: &AtomicBool,
    clients_gone: Option<&AtomicBool>,
) -> Result<Vec<WorkerReport>> {
    let mut watch = Watch::new(control, workers, heartbeats, limits);
    while watch.reports.len() < watch.workers.len() {
        match rx.recv_timeout(WATCH_INTERVAL) {
            Ok(report) => watch.take(report),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if interrupt.load(Ordering::Relaxed) {
            control.set(RunState::Abort);
        }
        watch.look_for_remote_clients(clients_gone);
        watch.progress.observe(beats(heartbeats));
        watch.enforce_limits();
        watch.kick_sleepers();
        watch.give_up_on_the_aborted()?;
    }
    if let Some(f) = watch.failure {
        return Err(anyhow!(f));
    }
    if interrupt.load(Ordering::Relaxed) {
        return Err(crate::error::Interrupted.into());
    }
    Ok(watch.reports)
}

/// The watchdog's state over one iteration.
struct Watch<'a> {
    control: &'a Control,
    workers: &'a mut [Watched],
    limits: Limits,
    started: Instant,
    /// Client threads (none in a server process).
    clients: usize,
    reports: Vec<WorkerReport>,
    progress: Progress,
    clients_done_at: Option<Instant>,
    aborted_at: Option<Instant>,
    /// Why the watchdog aborted the iteration.
    failure: Option<String>,
}

impl<'a> Watch<'a> {
    fn new(
        control: &'a Control,
        workers: &'a mut [Watched],
        heartbeats: &[Heartbeat],
        limits: Limits,
    ) -> Watch<'a> {
        let clients = workers.iter().filter(|w| w.side == Side::Client).count();
        Watch {
            control,
            workers,
            limits,
            started: Instant::now(),
            clients,
            reports: Vec::new(),
            progress: Progress::new(beats(heartbeats)),
            clients_done_at: None,
            aborted_at: None,
            failure: None,
        }
    }

    /// Takes a worker's report; the last client's starts the servers' wind-down.
    fn take(&mut self, report: WorkerReport) {
        if let Some(w) = self
            .workers
            .iter_mut()
            .find(|w| w.side == report.side && w.index == report.index && !w.reported)
        {
            w.reported = true;
        }
        self.reports.push(report);
        let clients_reported = self.reports.iter().filter(|r| r.side == Side::Client);
        if self.clients_done_at.is_none() && clients_reported.count() == self.clients {
            self.clients_are_done();
        }
    }

    /// Notes that the clients are done; servers without an end of stream are wound down.
    fn clients_are_done(&mut self) {
        self.clients_done_at = Some(Instant::now());
        if !self.limits.servers_end_at_eof {
            self.control.set(RunState::WindDown);
        }
    }

    /// A server process: its clients are in another process, which says when they are done.
    /// Until then nothing here is expected to move.
    fn look_for_remote_clients(&mut self, clients_gone: Option<&AtomicBool>) {
        if self.clients == 0 && self.clients_done_at.is_none() {
            if clients_gone.is_some_and(|g| g.load(Ordering::Relaxed)) {
                self.clients_are_done();
            } else {
                self.progress.hold();
            }
        }
    }

    /// Aborts the iteration when it breaks a limit, and keeps the first reason.
    fn enforce_limits(&mut self) {
        if self.failure.is_none() && self.control.state() == RunState::Running {
            self.failure = self.broken_limit();
            if self.failure.is_some() {
                self.control.set(RunState::Abort);
            }
        }
    }

    /// Which limit the iteration breaks, if any: it overruns its deadline, the servers do not
    /// end after the clients closed, or no message completes for too long.
    fn broken_limit(&self) -> Option<String> {
        if let Some(deadline) = self.limits.deadline.filter(|d| self.started.elapsed() > *d) {
            return Some(format!(
                "the iteration did not finish within {deadline:?} (its length + --timeout): a worker is stuck"
            ));
        }
        let stall = self.limits.stall;
        match self.clients_done_at {
            Some(done) => (done.elapsed() > stall).then(|| format!(
                "the server did not reach end of stream within {stall:?} (--timeout) after the client closed"
            )),
            None => (self.progress.still_for() > stall).then(|| {
                format!("no message completed for {stall:?} (--timeout): the peer is stuck or gone")
            }),
        }
    }

    /// Wakes clients that may wait for a lost datagram, and, once the iteration winds down or
    /// is aborted, whoever still sleeps in a system call (repeatedly: a kick that lands just
    /// before a thread blocks is lost).
    fn kick_sleepers(&mut self) {
        let running = self.control.state() == RunState::Running;
        let for_loss = running
            && self
                .limits
                .loss
                .is_some_and(|loss| self.progress.kick_for_loss(loss));
        for w in self.workers.iter().filter(|w| !w.reported) {
            if !running || (for_loss && w.side == Side::Client) {
                kick(&w.handle);
            }
        }
    }

    /// Fails when aborted workers do not stop within the grace period.
    fn give_up_on_the_aborted(&mut self) -> Result<()> {
        if self.control.state() != RunState::Abort {
            return Ok(());
        }
        let at = *self.aborted_at.get_or_insert_with(Instant::now);
        if at.elapsed() > ABORT_GRACE {
            return Err(anyhow!(
                "{} worker thread(s) did not stop within {ABORT_GRACE:?} of being aborted; they were abandoned",
                self.workers.len() - self.reports.len()
            ));
        }
        Ok(())
    }
}

/// The heartbeat count summed over flows.
fn beats(heartbeats: &[Heartbeat]) -> u64 {
    heartbeats.iter().map(Heartbeat::read).sum()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn a_worker_that_ignores_the_abort_is_abandoned_after_the_grace_period() {
        // The worker sleeps in a loop and never reports (a thread stuck where a kick cannot
        // reach it): the stall limit aborts the iteration, and joining it ends after the grace
        // period instead of waiting for the thread.
        install_kick_handler();
        let control = Control::default();
        let (_reports, rx) = mpsc::channel();
        let release = Arc::new(AtomicBool::new(false));
        let r = release.clone();
        let handle: Started<()> = std::thread::spawn(move || {
            while !r.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(5));
            }
            None
        });
        let mut workers = [Watched {
            side: Side::Client,
            index: 0,
            handle,
            reported: false,
        }];
        let limits = Limits {
            deadline: None,
            stall: Duration::from_millis(100),
            loss: None,
            servers_end_at_eof: true,
        };
        let started = Instant::now();
        let never = AtomicBool::new(false);
        let result = watch(&control, &rx, &mut workers, &[], limits, &never, None);
        let took = started.elapsed();
        release.store(true, Ordering::Relaxed);
        let text = format!("{:#}", result.err().expect("must fail"));
        assert!(text.contains("did not stop within 3s"), "{text}");
        assert_eq!(control.state(), RunState::Abort);
        // Its bound is the stall limit and the grace period; the margin is for a loaded machine
        // (a hang would take forever).
        assert!(took >= ABORT_GRACE, "{took:?}");
        assert!(
            took < limits.stall + ABORT_GRACE + Duration::from_secs(10),
            "{took:?}"
        );
    }

    #[test]
    fn a_deadline_ends_an_iteration_whose_workers_keep_beating() {
        // Progress without an end (a peer that trickles): the iteration's deadline aborts it,
        // and the worker, which stops when told, is joined.
        let control = Arc::new(Control::default());
        let (tx, rx) = mpsc::channel::<WorkerReport>();
        let heartbeat = Heartbeat::default();
        let (beat, told) = (heartbeat.clone(), control.clone());
        let handle: Started<()> = std::thread::spawn(move || {
            while told.state() == RunState::Running {
                beat.beat(1);
                std::thread::sleep(Duration::from_millis(5));
            }
            drop(tx);
            None
        });
        let mut workers = [Watched {
            side: Side::Client,
            index: 0,
            handle,
            reported: false,
        }];
        let limits = Limits {
            deadline: Some(Duration::from_millis(200)),
            stall: Duration::from_secs(3600),
            loss: None,
            servers_end_at_eof: true,
        };
        let never = AtomicBool::new(false);
        let started = Instant::now();
        let result = watch(
            &control,
            &rx,
            &mut workers,
            &[heartbeat],
            limits,
            &never,
            None,
        );
        let took = started.elapsed();
        let text = format!("{:#}", result.err().expect("must fail"));
        assert!(text.contains("did not finish within 200ms"), "{text}");
        // Bounded by the deadline (the margin is for a loaded machine; a hang takes forever).
        assert!(
            took < Duration::from_millis(200) + Duration::from_secs(10),
            "{took:?}"
        );
    }
}
