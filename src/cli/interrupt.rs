//! Ctrl-C and SIGTERM: the first one asks the run to stop (finished results are kept, the run is
//! marked incomplete and its report written); a second one at least [`REPEAT_WINDOW_NS`] later
//! exits at once. Signals closer together than that are one Ctrl-C delivered twice: GNU
//! `timeout -s INT` and a terminal both signal the process and then its process group.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Signals this close after the first count as the same Ctrl-C, not as a request to abort.
pub const REPEAT_WINDOW_NS: u64 = 1_000_000_000;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// CLOCK_MONOTONIC of the first signal (0: none yet).
static FIRST_NS: AtomicU64 = AtomicU64::new(0);

/// True when a signal at `now_ns` after a first one at `first_ns` asks to abort at once.
fn aborts(first_ns: u64, now_ns: u64) -> bool {
    now_ns.saturating_sub(first_ns) >= REPEAT_WINDOW_NS
}

/// CLOCK_MONOTONIC in nanoseconds, at least 1 (0 marks "no signal yet").
fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime is async-signal-safe and writes only into `ts`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64).max(1)
}

extern "C" fn on_signal(_: libc::c_int) {
    let now = now_ns();
    match FIRST_NS.compare_exchange(0, now, Ordering::SeqCst, Ordering::SeqCst) {
        Ok(_) => INTERRUPTED.store(true, Ordering::SeqCst),
        Err(first) if aborts(first, now) => {
            // SAFETY: _exit is async-signal-safe.
            unsafe { libc::_exit(130) };
        }
        Err(_) => {}
    }
}

extern "C" fn on_signal_patient(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Installs the handlers and returns the flag they set.
pub fn install() -> &'static AtomicBool {
    install_with(on_signal)
}

/// Like [`install`], but a second Ctrl-C does not exit at once: for commands that must clean up
/// (a study restores host settings) and that check the flag at least every few milliseconds.
pub fn install_patient() -> &'static AtomicBool {
    install_with(on_signal_patient)
}

fn install_with(handler: extern "C" fn(libc::c_int)) -> &'static AtomicBool {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    // Both signals blocked while either handler runs: a SIGTERM cannot interrupt the SIGINT
    // handler halfway.
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGINT);
    mask.add(Signal::SIGTERM);
    let action = SigAction::new(SigHandler::Handler(handler), SaFlags::SA_RESTART, mask);
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handlers only touch atomics, read the clock and call _exit, all
        // async-signal-safe.
        let _ = unsafe { sigaction(sig, &action) };
    }
    &INTERRUPTED
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeat_inside_the_window_is_the_same_ctrl_c_and_a_later_one_aborts() {
        let first = 5_000_000_000;
        assert!(!aborts(first, first));
        assert!(!aborts(first, first + 30_000)); // timeout -s INT: child, then group
        assert!(!aborts(first, first + REPEAT_WINDOW_NS - 1));
        assert!(aborts(first, first + REPEAT_WINDOW_NS));
        assert!(aborts(first, first + 60 * REPEAT_WINDOW_NS));
        assert!(
            !aborts(first, first - 1),
            "a clock that seems to go back does not abort"
        );
    }
}
