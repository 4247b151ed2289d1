//! Each blocking step of a server process ends within its bound when the other side is silent
//! or gone: the parent waiting for an announcement, the parent reaping it, the server accepting.
//! The margins are for a loaded machine; a hang would take forever.

use std::time::Instant;

use super::*;

#[test]
fn a_silent_server_process_is_given_up_on_within_the_timeout_and_reaped() {
    // A server process that never says a word (here: `sleep`, which also ignores its stdin).
    let mut command = Command::new("sleep");
    command.arg("600");
    let process = ServerProcess::start(command).unwrap();
    let pid = process.child.id();
    let started = Instant::now();
    let err = process.next(Duration::from_millis(200)).unwrap_err();
    assert!(
        format!("{err:#}").contains("said nothing within 200ms"),
        "{err:#}"
    );
    drop(process);
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(200 + 1000) + Duration::from_secs(10),
        "{took:?}"
    );
    // Killed and waited for: its pid is gone (no zombie is left either).
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
}

#[test]
fn a_server_process_that_dies_is_noticed_at_once_not_after_the_timeout() {
    let mut command = Command::new("sh");
    command.args(["-c", "exit 3"]);
    let process = ServerProcess::start(command).unwrap();
    let started = Instant::now();
    let err = process.next(Duration::from_secs(600)).unwrap_err();
    assert!(format!("{err:#}").contains("said nothing"), "{err:#}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_server_accepting_clients_that_never_come_stops_at_its_deadline_or_on_a_signal() {
    let spec = Spec::new(crate::spec::Transport::Tcp4);
    let listener = CrrListener::open(&spec).unwrap();
    let started = Instant::now();
    let deadline = monotonic_ns() + 200_000_000;
    let never = AtomicBool::new(false);
    let err = listener
        .accept_or_stop(Some(deadline), &never)
        .err()
        .unwrap();
    assert!(
        format!("{err:#}").contains("no client connected"),
        "{err:#}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // No deadline (a server of its own): a Ctrl-C ends the wait.
    let stop = AtomicBool::new(true);
    let err = listener.accept_or_stop(None, &stop).err().unwrap();
    assert!(
        err.downcast_ref::<crate::error::Interrupted>().is_some(),
        "{err:#}"
    );
}
