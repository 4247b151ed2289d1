//! What can stop tracing or profiling from starting, each with what to do about it.

use thiserror::Error;

/// Why tracing or profiling could not start (the caller maps these to exit code 2).
#[derive(Debug, Error)]
pub enum TraceError {
    /// perf_event_open was refused: not root and no CAP_PERFMON.
    #[error(
        "--trace/--profile need root (or CAP_PERFMON with kernel.perf_event_paranoid <= 1): \
         perf_event_open on CPU {cpu} failed: {source}; run as root or drop --trace/--profile"
    )]
    Permission {
        /// The CPU whose event could not be opened.
        cpu: u32,
        /// The OS error (EACCES or EPERM).
        source: std::io::Error,
    },
    /// tracefs is neither mounted nor mountable.
    #[error(
        "--trace needs root and tracefs: {detail} (tracefs is mounted with \
         `mount -t tracefs nodev /sys/kernel/tracing`; the kernel needs CONFIG_TRACING)"
    )]
    NoTracefs {
        /// What was tried and what failed.
        detail: String,
    },
    /// A tracepoint this kernel does not have.
    #[error("--trace: this kernel has no tracepoint {tracepoint} ({detail})")]
    MissingTracepoint {
        /// `system:name`.
        tracepoint: String,
        /// The path that was read and the error.
        detail: String,
    },
    /// A `format` file that does not parse or lacks a field the decoder needs.
    #[error("--trace: tracepoint {tracepoint} has an unexpected format: {detail}")]
    BadFormat {
        /// `system:name`.
        tracepoint: String,
        /// What was wrong.
        detail: String,
    },
    /// /proc/kallsyms is unreadable or hides addresses.
    #[error(
        "--profile needs kernel symbols: {detail}; run as root with kernel.kptr_restrict <= 1 \
         (`sysctl kernel.kptr_restrict=0`)"
    )]
    NoKallsyms {
        /// What was wrong.
        detail: String,
    },
    /// Any other perf_event_open or ioctl failure.
    #[error("perf {what} on CPU {cpu}: {source}")]
    Perf {
        /// What was being done (open, set filter, mmap, enable...).
        what: String,
        /// The CPU concerned.
        cpu: u32,
        /// The OS error.
        source: std::io::Error,
    },
}

impl TraceError {
    /// Maps an open() failure to `Permission` when the OS says so, to `Perf` otherwise.
    pub fn open_failed(what: &str, cpu: u32, source: std::io::Error) -> Self {
        match source.raw_os_error() {
            Some(libc::EACCES) | Some(libc::EPERM) => Self::Permission { cpu, source },
            _ => Self::Perf {
                what: what.into(),
                cpu,
                source,
            },
        }
    }
}
