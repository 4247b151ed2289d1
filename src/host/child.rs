//! Supervising a child process that leads its own process group (ab's commands, a study's
//! variant runs): wait for it, kill it when it runs past its timeout, and on an interrupt pass
//! the stop on to its whole group, escalating until it ends.

use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// How often a running child is looked at (exit, interrupt, timeout).
const POLL: Duration = Duration::from_millis(20);

/// How a supervised child ended.
#[derive(Debug)]
pub enum Ended {
    /// It exited by itself; `interrupted` when that was after an interrupt was passed on.
    Exited {
        /// Its exit status.
        status: ExitStatus,
        /// Whether the stop signals had begun.
        interrupted: bool,
    },
    /// It ran past its timeout and was killed.
    Overdue,
    /// After an interrupt it did not stop before the last stop signal, SIGKILL.
    KilledAfterInterrupt,
}

/// Sends `signal` to the process group `child` leads.
fn signal_group(child: &Child, signal: Signal) {
    let _ = killpg(Pid::from_raw(child.id() as i32), signal);
}

/// Waits for `child`, which must lead its own process group. Past `timeout` the group is
/// killed. Once `interrupt` is set, each of `stop` (delay since the interrupt, signal) is sent
/// to the group when its delay has passed; the last should be SIGKILL.
pub fn supervise(
    child: &mut Child,
    timeout: Duration,
    interrupt: &AtomicBool,
    stop: &[(Duration, Signal)],
) -> std::io::Result<Ended> {
    let started = Instant::now();
    let mut interrupted_at: Option<Instant> = None;
    let mut sent = 0;
    loop {
        if let Some(status) = child.try_wait()? {
            let killed = sent > 0 && stop[sent - 1].1 == Signal::SIGKILL;
            return Ok(if killed {
                Ended::KilledAfterInterrupt
            } else {
                Ended::Exited {
                    status,
                    interrupted: interrupted_at.is_some(),
                }
            });
        }
        if interrupt.load(Ordering::SeqCst) {
            let at = *interrupted_at.get_or_insert_with(Instant::now);
            while sent < stop.len() && at.elapsed() >= stop[sent].0 {
                signal_group(child, stop[sent].1);
                sent += 1;
            }
        } else if started.elapsed() > timeout {
            signal_group(child, Signal::SIGKILL);
            child.wait()?;
            return Ok(Ended::Overdue);
        }
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    fn sh(script: &str) -> Child {
        Command::new("sh")
            .args(["-c", script])
            .process_group(0)
            .spawn()
            .unwrap()
    }

    const STOP: &[(Duration, Signal)] = &[
        (Duration::ZERO, Signal::SIGINT),
        (Duration::from_secs(1), Signal::SIGKILL),
    ];

    #[test]
    fn a_child_that_exits_is_waited_for() {
        let never = AtomicBool::new(false);
        let ended = supervise(&mut sh("exit 3"), Duration::from_secs(10), &never, STOP).unwrap();
        assert!(
            matches!(ended, Ended::Exited { status, interrupted: false } if status.code() == Some(3)),
            "{ended:?}"
        );
    }

    #[test]
    fn a_child_past_its_timeout_is_killed() {
        let never = AtomicBool::new(false);
        let started = Instant::now();
        let ended = supervise(
            &mut sh("sleep 30"),
            Duration::from_millis(100),
            &never,
            STOP,
        );
        assert!(matches!(ended.unwrap(), Ended::Overdue));
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn an_interrupt_is_passed_on_and_escalated() {
        let interrupted = AtomicBool::new(true);
        let timeout = Duration::from_secs(30);
        // sh ends on SIGINT (its own exit, with the stop signals begun) ... The SIGKILL comes
        // late here: on a loaded machine sh may take over a second to be scheduled and die.
        let patient = &[
            (Duration::ZERO, Signal::SIGINT),
            (Duration::from_secs(20), Signal::SIGKILL),
        ];
        let ended = supervise(&mut sh("sleep 30"), timeout, &interrupted, patient).unwrap();
        assert!(
            matches!(
                ended,
                Ended::Exited {
                    interrupted: true,
                    ..
                }
            ),
            "{ended:?}"
        );
        // ... a child that ignores it is killed by the last stop signal.
        let mut stubborn = Command::new("sh")
            .args(["-c", "trap '' INT; echo ignoring; sleep 30 & wait"])
            .stdout(std::process::Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap();
        let mut line = String::new();
        let stdout = stubborn.stdout.take().unwrap();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        assert_eq!(line, "ignoring\n", "the trap is set before the interrupt");
        let ended = supervise(&mut stubborn, timeout, &interrupted, STOP).unwrap();
        assert!(matches!(ended, Ended::KilledAfterInterrupt), "{ended:?}");
    }
}
