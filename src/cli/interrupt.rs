//! Ctrl-C and SIGTERM: the first one asks the run to stop (finished results are kept and the run
//! is marked incomplete); a second Ctrl-C exits at once.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    if INTERRUPTED.swap(true, Ordering::SeqCst) {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(130) };
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
    let action = SigAction::new(
        SigHandler::Handler(handler),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only touches an atomic and calls _exit, both async-signal-safe.
        let _ = unsafe { sigaction(sig, &action) };
    }
    &INTERRUPTED
}
