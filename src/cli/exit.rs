//! The exit codes of every subcommand.

/// Exit code when a case failed (its results, and every other case's, are still written).
pub const EXIT_CASE_FAILED: u8 = 1;
/// Exit code of `compare` and `ab` when the gate finds a regression.
pub const EXIT_REGRESSION: u8 = 1;
/// Exit code for anything the user can fix: bad flags, bad addresses, ports in use.
pub const EXIT_USAGE: u8 = 2;
/// Exit code after Ctrl-C or SIGTERM.
pub const EXIT_INTERRUPTED: u8 = 130;
