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

/// Waits for every worker, winding the servers down once the clients are done, and enforcing the
/// deadline, the no-progress limit and the interrupt flag.
pub(crate) fn watch(
    control: &Control,
    rx: &mpsc::Receiver<WorkerReport>,
    handles: &mut [(Side, Started<()>, bool)],
    heartbeats: &[Heartbeat],
    limits: Limits,
    interrupt: &AtomicBool,
    clients_gone: Option<&AtomicBool>,
) -> Result<Vec<WorkerReport>> {
    let started = Instant::now();
    let clients = handles.iter().filter(|h| h.0 == Side::Client).count();
    let mut reports: Vec<WorkerReport> = Vec::new();
    let mut aborted_at: Option<Instant> = None;
    let mut failure: Option<String> = None;
    let beats = || heartbeats.iter().map(Heartbeat::read).sum::<u64>();
    let mut progress = Progress::new(beats());
    let mut clients_done_at: Option<Instant> = None;
    while reports.len() < handles.len() {
        match rx.recv_timeout(WATCH_INTERVAL) {
            Ok(r) => {
                if let Some(h) = handles
                    .iter_mut()
                    .find(|h| h.0 == r.side && !h.2 && index_of(h, &r))
                {
                    h.2 = true;
                }
                reports.push(r);
                if clients_done_at.is_none()
                    && reports.iter().filter(|r| r.side == Side::Client).count() == clients
                {
                    clients_done_at = Some(Instant::now());
                    if !limits.servers_end_at_eof {
                        control.set(RunState::WindDown);
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if interrupt.load(Ordering::Relaxed) {
            control.set(RunState::Abort);
        }
        // A server process: its clients are in another process, which says when they are done.
        if clients == 0 && clients_done_at.is_none() {
            if clients_gone.is_some_and(|g| g.load(Ordering::Relaxed)) {
                clients_done_at = Some(Instant::now());
                if !limits.servers_end_at_eof {
                    control.set(RunState::WindDown);
                }
            } else {
                progress.hold();
            }
        }
        progress.observe(beats());
        if failure.is_none() && control.state() == RunState::Running {
            if limits.deadline.is_some_and(|d| started.elapsed() > d) {
                failure = Some(format!(
                    "the iteration did not finish within {:?} (its length + --timeout): a worker is stuck",
                    limits.deadline.unwrap_or_default()
                ));
            } else if let Some(done) = clients_done_at {
                if done.elapsed() > limits.stall {
                    failure = Some(format!(
                        "the server did not reach end of stream within {:?} (--timeout) after the client closed",
                        limits.stall
                    ));
                }
            } else if progress.still_for() > limits.stall {
                failure = Some(format!(
                    "no message completed for {:?} (--timeout): the peer is stuck or gone",
                    limits.stall
                ));
            }
            if failure.is_some() {
                control.set(RunState::Abort);
            }
        }
        if let Some(loss) = limits.loss {
            if control.state() == RunState::Running && progress.kick_for_loss(loss) {
                for (side, handle, reported) in handles.iter() {
                    if *side == Side::Client && !reported {
                        kick(handle);
                    }
                }
            }
        }
        if control.state() != RunState::Running {
            // Wake whoever still sleeps in a system call; repeated, because a kick that lands
            // just before a thread blocks is lost.
            for (_, handle, reported) in handles.iter() {
                if !reported {
                    kick(handle);
                }
            }
        }
        if control.state() == RunState::Abort {
            let at = *aborted_at.get_or_insert_with(Instant::now);
            if at.elapsed() > ABORT_GRACE {
                return Err(anyhow!(
                    "{} worker thread(s) did not stop within {ABORT_GRACE:?} of being aborted; they were abandoned",
                    handles.len() - reports.len()
                ));
            }
        }
    }
    if let Some(f) = failure {
        return Err(anyhow!(f));
    }
    if interrupt.load(Ordering::Relaxed) {
        return Err(crate::error::Interrupted.into());
    }
    Ok(reports)
}

fn index_of(h: &(Side, Started<()>, bool), r: &WorkerReport) -> bool {
    h.1.thread()
        .name()
        .is_some_and(|n| n.ends_with(&format!("-{}", r.index)))
}
