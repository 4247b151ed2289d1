//! Taking turns with another run: `loopbench ab` (with `--interleave iterations`, its default)
//! starts the BASE and the NEW command at the same time and lets them measure one slot (an
//! iteration or a warm-up) each in turn, so each NEW iteration has a BASE iteration measured a
//! few hundred milliseconds away, not a whole run away.
//!
//! Why: on a VM the cost of a cross-core wake-up drifts within seconds (the host moves and halts
//! vCPUs). Measured on the 2-vCPU guest, the p50 of one 300 ms iteration correlates 0.69 with the
//! next one's and 0.46 with the one a run later, so pairs a turn apart cancel more of the drift
//! than whole runs taken in turn (README, "What the trust features measured").
//!
//! The protocol runs over two pipes whose descriptors `ab` passes in [`TURNS_ENV`] as
//! `READ,WRITE`: before every slot the run writes one byte ("idle: my previous slot and its
//! bookkeeping are done") and then waits for one byte ("your turn"). It never writes a byte after
//! its last slot: the pipe closes when the process exits, so the other side measures only once
//! this run has written its files and its report. End of file on the turn pipe (the orchestrator
//! is gone or stopped the session) ends the run as an interruption would: what finished is kept.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::mem::ManuallyDrop;
use std::os::fd::{AsFd, FromRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::poll::{PollFd, PollFlags, poll};

use crate::error::UsageError;
use crate::run::runner::{Event, Observer};
use crate::store::record::RunRecord;

/// The variable `ab` sets to the two descriptors, `READ,WRITE`.
pub const TURNS_ENV: &str = "LOOPBENCH_TURNS";

/// How often a wait for a byte looks at its interrupt flag, in milliseconds.
const WAIT_TICK_MS: u16 = 50;

/// The two ends a run takes turns through.
#[derive(Debug)]
pub struct Turns {
    /// One byte per turn given.
    take: File,
    /// One byte per "idle"; never closed here: it closes when the process exits.
    idle: ManuallyDrop<File>,
}

impl Turns {
    /// The turns [`TURNS_ENV`] names, or `None` when it is unset or empty. A value that does not
    /// name two open pipes is a usage error (it is set by `loopbench ab`, not by hand).
    pub fn from_env() -> Result<Option<Turns>> {
        match std::env::var(TURNS_ENV) {
            Ok(v) if !v.trim().is_empty() => Turns::from_spec(&v).map(Some),
            _ => Ok(None),
        }
    }

    /// Parses `READ,WRITE` and takes over the two descriptors.
    fn from_spec(spec: &str) -> Result<Turns> {
        let bad = |why: String| {
            UsageError(format!(
                "{TURNS_ENV}={spec}: {why}; it is set by `loopbench ab` for the commands it \
                 runs: unset it to run on your own"
            ))
        };
        let fds: Vec<RawFd> = spec
            .split(',')
            .map(|s| s.trim().parse::<RawFd>())
            .collect::<Result<_, _>>()
            .map_err(|_| bad("not two descriptor numbers `READ,WRITE`".into()))?;
        let [read, write] = fds[..] else {
            return Err(bad("not two descriptor numbers `READ,WRITE`".into()).into());
        };
        if read == write || [read, write].iter().any(|fd| *fd <= 2 || !is_pipe(*fd)) {
            return Err(bad("not two open pipes".into()).into());
        }
        // SAFETY: both descriptors were checked to be distinct open pipes above, inherited for
        // this purpose and owned by nothing else in this process; each is wrapped once.
        let (take, idle) = unsafe { (File::from_raw_fd(read), File::from_raw_fd(write)) };
        for f in [&take, &idle] {
            // Not passed on to anything this process starts.
            fcntl(f.as_fd(), FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))?;
        }
        Ok(Turns::new(take, idle))
    }

    /// Turns over two ends (tests pass pipes of their own).
    pub fn new(take: File, idle: File) -> Turns {
        Turns {
            take,
            idle: ManuallyDrop::new(idle),
        }
    }

    /// Says this run is idle (its previous slot, if any, and the bookkeeping after it are done),
    /// then waits for the next turn. Returns false when no turn will come (end of file: the
    /// session ended), or when `interrupt` was set while waiting.
    pub fn wait_for_turn(&self, interrupt: &AtomicBool) -> Result<bool> {
        match (&*self.idle).write_all(b"i") {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::BrokenPipe => return Ok(false),
            Err(e) => return Err(anyhow::Error::from(e).context("cannot tell ab this run is idle")),
        }
        Ok(read_byte(&self.take, interrupt).context("waiting for a turn")? == Some(true))
    }
}

/// Waits for one byte on `pipe`: `Some(true)` when one came, `Some(false)` at end of file, `None`
/// when `interrupt` was set first (looked at every 50 ms). Shared with `ab`'s side of
/// the protocol.
pub fn read_byte(pipe: &File, interrupt: &AtomicBool) -> Result<Option<bool>> {
    loop {
        if interrupt.load(Ordering::SeqCst) {
            return Ok(None);
        }
        let mut fds = [PollFd::new(pipe.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, WAIT_TICK_MS) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
        let mut byte = [0u8];
        return match (&*pipe).read(&mut byte) {
            Ok(0) => Ok(Some(false)),
            Ok(_) => Ok(Some(true)),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => Err(e.into()),
        };
    }
}

/// Whether `fd` is an open descriptor of a pipe. Through libc: nix's `fstat` takes only a
/// borrowed descriptor, which must be open, and whether it is open is the question.
fn is_pipe(fd: RawFd) -> bool {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes a `stat` into `st` on success and touches nothing else; on a closed
    // descriptor it fails with EBADF.
    let ok = unsafe { libc::fstat(fd, st.as_mut_ptr()) } == 0;
    // SAFETY: initialised by the successful fstat.
    ok && (unsafe { st.assume_init() }.st_mode & libc::S_IFMT) == libc::S_IFIFO
}

/// The observer that makes a run take turns: before every slot, [`Turns::wait_for_turn`]; when
/// no turn will come, the run stops as on an interrupt (what finished is kept). It goes last
/// among a run's observers, so a slot's files are written before the other side's turn.
pub struct TurnTaker<'a> {
    /// The pipes.
    pub turns: &'a Turns,
    /// The run's interrupt flag.
    pub interrupt: &'a AtomicBool,
}

impl Observer for TurnTaker<'_> {
    fn on_event(&mut self, _: &mut RunRecord, event: Event<'_>) -> Result<()> {
        if let Event::SlotStarted { .. } = event {
            if !self.turns.wait_for_turn(self.interrupt)? {
                self.interrupt.store(true, Ordering::SeqCst);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::fd::OwnedFd;

    fn pipe() -> (File, File) {
        let (r, w): (OwnedFd, OwnedFd) = nix::unistd::pipe().unwrap();
        (File::from(r), File::from(w))
    }

    #[test]
    fn a_run_says_it_is_idle_then_waits_for_each_turn() {
        let (take_r, mut take_w) = pipe();
        let (mut idle_r, idle_w) = pipe();
        let turns = Turns::new(take_r, idle_w);
        let never = AtomicBool::new(false);
        take_w.write_all(b"tt").unwrap();
        assert!(turns.wait_for_turn(&never).unwrap());
        assert!(turns.wait_for_turn(&never).unwrap());
        let mut got = [0u8; 2];
        idle_r.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"ii", "one idle byte before each turn");
        // The orchestrator closes its end: no more turns.
        drop(take_w);
        assert!(!turns.wait_for_turn(&never).unwrap());
    }

    #[test]
    fn an_interrupt_ends_the_wait() {
        let (take_r, _take_w) = pipe();
        let (_idle_r, idle_w) = pipe();
        let turns = Turns::new(take_r, idle_w);
        let interrupted = AtomicBool::new(true);
        assert!(!turns.wait_for_turn(&interrupted).unwrap());
    }

    #[test]
    fn a_value_that_names_no_pipes_is_a_usage_error() {
        for spec in ["", "3", "a,b", "1,2", "9999,9998"] {
            let err = Turns::from_spec(spec).unwrap_err();
            assert!(crate::error::is_usage_error(&err), "{spec}: {err:#}");
            assert!(
                format!("{err:#}").contains("loopbench ab"),
                "{spec}: {err:#}"
            );
        }
    }
}
