//! One `ab` round with `--interleave iterations`: the BASE and the NEW command start together,
//! and each measures one slot (iteration or warm-up) at a time, taking turns in a seeded random
//! order, through the pipes of [`crate::run::turns`]. Only one side measures at any moment; the
//! other waits in a blocking read, using no CPU.
//!
//! Each command leads its own process group and is supervised on a thread of its own
//! ([`supervise`]: the command timeout, the interrupt passed on); the turns are given here. A side
//! that ends (exit, kill, or a command that never takes turns) is simply given no more turns.

use std::fs::File;
use std::io::{ErrorKind, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::fcntl::OFlag;
use nix::sys::signal::Signal;

use crate::host::child::{Ended, supervise};
use crate::run::schedule::Scheduler;
use crate::run::turns::{TURNS_ENV, read_byte};
use crate::store::OUTPUT_ENV;

/// One side's command, ready to start.
pub struct SideCommand<'a> {
    /// The shell command line.
    pub command: &'a str,
    /// Its side directory (`LOOPBENCH_OUTPUT`).
    pub out: &'a Path,
    /// Its log file.
    pub log: &'a Path,
}

impl SideCommand<'_> {
    /// `sh -c` of the command, leading its own process group, with [`OUTPUT_ENV`] set to its
    /// side directory, no stdin, and stdout and stderr into its (new) log.
    pub fn shell(&self) -> Result<Command> {
        let log = File::create(self.log)
            .with_context(|| format!("cannot create {}", self.log.display()))?;
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(self.command)
            .env(OUTPUT_ENV, self.out)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0);
        Ok(cmd)
    }
}

/// How one side's command ended.
#[derive(Debug)]
pub struct SideOutcome {
    /// As the supervisor saw it.
    pub ended: Ended,
    /// Turns it took.
    pub turns: u32,
    /// Wall time from the start of the round to its end, in seconds.
    pub seconds: f64,
}

/// The orchestrator's ends of one side's pipes.
struct Ends {
    /// Writes one byte per turn given; dropped to say "no more turns".
    give: Option<File>,
    /// Reads one byte per "idle"; end of file once the command has exited.
    idle: File,
    /// Still able to take turns.
    alive: bool,
    turns: u32,
}

/// A pipe whose both ends close on exec.
fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(OFlag::O_CLOEXEC).context("cannot create a pipe")
}

/// Starts `side` with its two ends of the turn pipes inherited (and named in [`TURNS_ENV`]).
fn spawn(side: &SideCommand<'_>) -> Result<(std::process::Child, Ends)> {
    let (take_r, give_w) = pipe()?;
    let (idle_r, idle_w) = pipe()?;
    let (keep_a, keep_b) = (take_r.as_raw_fd(), idle_w.as_raw_fd());
    let mut cmd = side.shell()?;
    cmd.env(TURNS_ENV, format!("{keep_a},{keep_b}"));
    // SAFETY: runs in the forked child before exec and only calls fcntl, which is
    // async-signal-safe; it clears close-on-exec on the two descriptors the command inherits.
    unsafe {
        cmd.pre_exec(move || {
            for fd in [keep_a, keep_b] {
                if libc::fcntl(fd, libc::F_SETFD, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let child = cmd.spawn().context("cannot start sh")?;
    // The command's ends now live in the command only, so its exit is our end of file.
    drop((take_r, idle_w));
    let ends = Ends {
        give: Some(File::from(give_w)),
        idle: File::from(idle_r),
        alive: true,
        turns: 0,
    };
    Ok((child, ends))
}

/// Waits until `side` says it is idle (true) or has ended (false); stops waiting (false) when
/// `interrupt` is set.
fn wait_idle(side: &mut Ends, interrupt: &AtomicBool) -> Result<bool> {
    if !side.alive {
        return Ok(false);
    }
    match read_byte(&side.idle, interrupt).context("waiting for a command")? {
        Some(true) => Ok(true),
        Some(false) => {
            side.alive = false;
            Ok(false)
        }
        None => Ok(false),
    }
}

/// Gives `side` one turn and waits until it is idle again or has ended.
fn give_turn(side: &mut Ends, interrupt: &AtomicBool) -> Result<()> {
    let Some(give) = side.give.as_mut() else {
        return Ok(());
    };
    match give.write_all(b"t") {
        Ok(()) => side.turns += 1,
        Err(e) if e.kind() == ErrorKind::BrokenPipe => side.alive = false,
        Err(e) => return Err(anyhow::Error::from(e).context("cannot give a command its turn")),
    }
    wait_idle(side, interrupt)?;
    Ok(())
}

/// Runs both commands of one round taking turns, the order of each pair of turns drawn from
/// `scheduler`; each is killed past `timeout`, and sent `stop` ([`supervise`]) once `interrupt`
/// is set. Returns how each ended, in the order of `sides`.
pub fn run_round(
    sides: [SideCommand<'_>; 2],
    scheduler: &mut Scheduler,
    timeout: Duration,
    stop: &[(Duration, Signal)],
    interrupt: &AtomicBool,
) -> Result<[SideOutcome; 2]> {
    let started = Instant::now();
    let (mut a, ends_a) = spawn(&sides[0])?;
    let (mut b, ends_b) = match spawn(&sides[1]) {
        Ok(x) => x,
        Err(e) => {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(a.id() as i32),
                Signal::SIGKILL,
            );
            let _ = a.wait();
            return Err(e);
        }
    };
    let mut ends = [ends_a, ends_b];
    std::thread::scope(|scope| {
        let supervisors = [&mut a, &mut b].map(|child| {
            scope.spawn(move || -> Result<(Ended, f64)> {
                let ended = supervise(child, timeout, interrupt, stop)?;
                Ok((ended, started.elapsed().as_secs_f64()))
            })
        });
        let given = give_turns(&mut ends, scheduler, interrupt);
        // No more turns: a command still waiting for one reads end of file and stops.
        for side in &mut ends {
            side.give = None;
        }
        let [sa, sb] = supervisors.map(|s| s.join().expect("a supervisor thread panicked"));
        given?;
        let outcome = |(ended, seconds), side: &Ends| SideOutcome {
            ended,
            turns: side.turns,
            seconds,
        };
        Ok([outcome(sa?, &ends[0]), outcome(sb?, &ends[1])])
    })
}

/// The turn loop: once both sides are idle (or ended), pairs of turns in a random order until
/// neither is alive or the interrupt is set.
fn give_turns(
    ends: &mut [Ends; 2],
    scheduler: &mut Scheduler,
    interrupt: &AtomicBool,
) -> Result<()> {
    for side in ends.iter_mut() {
        wait_idle(side, interrupt)?;
    }
    while ends.iter().any(|s| s.alive) && !interrupt.load(Ordering::SeqCst) {
        for i in scheduler.round(2) {
            if ends[i].alive {
                give_turn(&mut ends[i], interrupt)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake turn-taking command: for each of N slots, says idle, waits for its turn, and logs
    /// `<name> <slot>` to the shared file (the order the turns were taken in). Through
    /// /proc/self/fd: dash cannot redirect descriptors above 9.
    fn taker(name: &str, slots: u32, order: &Path) -> String {
        let fds = "${LOOPBENCH_TURNS%,*} ${LOOPBENCH_TURNS#*,}";
        format!(
            "set -- {fds}; i=0; while [ $i -lt {slots} ]; do printf i >/proc/self/fd/$2; \
             [ -n \"$(head -c1 </proc/self/fd/$1)\" ] || exit 0; echo {name} $i >> '{}'; i=$((i+1)); done",
            order.display()
        )
    }

    const STOP: &[(Duration, Signal)] = &[
        (Duration::ZERO, Signal::SIGINT),
        (Duration::from_secs(5), Signal::SIGKILL),
    ];

    fn sides<'a>(dir: &'a Path, cmds: &'a [String; 2]) -> [SideCommand<'a>; 2] {
        [
            SideCommand {
                command: &cmds[0],
                out: dir,
                log: Box::leak(dir.join("a.log").into_boxed_path()),
            },
            SideCommand {
                command: &cmds[1],
                out: dir,
                log: Box::leak(dir.join("b.log").into_boxed_path()),
            },
        ]
    }

    #[test]
    fn the_sides_take_their_slots_one_at_a_time_in_pairs_of_turns() {
        let dir = tempfile::tempdir().unwrap();
        let order = dir.path().join("order");
        let cmds = [taker("A", 4, &order), taker("B", 3, &order)];
        let never = AtomicBool::new(false);
        let mut scheduler = Scheduler::seeded(5);
        let out = run_round(
            sides(dir.path(), &cmds),
            &mut scheduler,
            Duration::from_secs(20),
            STOP,
            &never,
        )
        .unwrap();
        let lines: Vec<String> = std::fs::read_to_string(&order)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        assert_eq!(lines.len(), 7, "{lines:?}");
        // Every pair of turns holds one slot of each side, until B has none left.
        for (k, pair) in lines[..6].chunks(2).enumerate() {
            let mut got: Vec<&str> = pair.iter().map(|s| s.as_str()).collect();
            got.sort();
            assert_eq!(got, [format!("A {k}"), format!("B {k}")], "{lines:?}");
        }
        assert_eq!(lines[6], "A 3");
        assert_eq!((out[0].turns, out[1].turns), (4, 3));
        assert!(
            out.iter()
                .all(|o| matches!(o.ended, Ended::Exited { status, .. } if status.success()))
        );
    }

    #[test]
    fn a_command_that_takes_no_turns_ends_without_blocking_the_other() {
        let dir = tempfile::tempdir().unwrap();
        let order = dir.path().join("order");
        let cmds = ["true".to_string(), taker("B", 2, &order)];
        let never = AtomicBool::new(false);
        let out = run_round(
            sides(dir.path(), &cmds),
            &mut Scheduler::seeded(1),
            Duration::from_secs(20),
            STOP,
            &never,
        )
        .unwrap();
        assert_eq!(out[0].turns, 0);
        assert_eq!(
            std::fs::read_to_string(&order).unwrap(),
            "B 0\nB 1\n",
            "B measured alone"
        );
    }

    #[test]
    fn an_interrupt_ends_the_round_without_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let order = dir.path().join("order");
        let cmds = [taker("A", 1000, &order), taker("B", 1000, &order)];
        let interrupted = AtomicBool::new(true);
        let started = Instant::now();
        let out = run_round(
            sides(dir.path(), &cmds),
            &mut Scheduler::seeded(1),
            Duration::from_secs(20),
            STOP,
            &interrupted,
        )
        .unwrap();
        assert!(started.elapsed() < Duration::from_secs(15));
        assert!(out.iter().all(|o| o.turns == 0), "{out:?}");
    }
}
