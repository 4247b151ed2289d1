//! The stated maxima of every size, duration and count a case takes. A value beyond one is an
//! exit-2 error before anything runs, never a silent wrap-around or clamp; the README's
//! "Reliability" section lists them. Memory and file descriptors are checked against the machine
//! separately (`run::resources`), since what fits depends on it.

use std::time::Duration;

use crate::error::ConfigError;

/// Largest request or response of a stream transport (one message of `rr`, one write of
/// `stream`): 256 MiB. Datagram transports have their own, smaller limits.
pub const MAX_MESSAGE_BYTES: usize = 256 << 20;

/// Largest `--sndbuf`/`--rcvbuf`: 1 GiB, the kernel's own cap (it doubles the value into an
/// `int`, INT_MAX / 2).
pub const MAX_SOCKET_BUFFER_BYTES: usize = 1 << 30;

/// Largest `--notsent-lowat`: the option is a C `int`.
pub const MAX_NOTSENT_LOWAT: u32 = i32::MAX as u32;

/// Largest `--busy-poll-us` (SO_BUSY_POLL): the option is a C `int`.
pub const MAX_BUSY_POLL_US: u32 = i32::MAX as u32;

/// Longest iteration (`--duration`) and warm-up (`--warmup`): 24 hours.
pub const MAX_ITERATION_NS: u64 = 24 * 3600 * 1_000_000_000;

/// Longest `--timeout` and `--loss-timeout`: one hour.
pub const MAX_TIMEOUT_NS: u64 = 3600 * 1_000_000_000;

/// Most measured iterations of one case (`--iterations`).
pub const MAX_ITERATIONS: u32 = 10_000;

/// Most messages of one iteration (`--count`): 10¹², a day and a half at ten million per second.
pub const MAX_COUNT: u64 = 1_000_000_000_000;

/// Most flows of one case (`--flows`); file descriptors and memory usually limit sooner.
pub const MAX_FLOWS: u32 = 1 << 20;

/// Most worker threads per side (`--threads`).
pub const MAX_THREADS: u32 = 1024;

/// Highest `--rate` per flow: one request per nanosecond, the resolution of the send schedule.
pub const MAX_RATE_PER_SEC: u64 = 1_000_000_000;

/// Largest `--max-in-flight` per flow.
pub const MAX_IN_FLIGHT: u32 = 1 << 24;

/// An error for `flag` when `value` is above `max`.
pub fn above(flag: &'static str, value: impl ToString, max: impl ToString) -> ConfigError {
    ConfigError::AboveMaximum {
        flag,
        value: value.to_string(),
        max: max.to_string(),
    }
}

/// Refuses `value` (of `flag`) above `max`.
pub fn at_most<T: PartialOrd + ToString>(
    flag: &'static str,
    value: T,
    max: T,
) -> Result<(), ConfigError> {
    if value > max {
        Err(above(flag, value, max))
    } else {
        Ok(())
    }
}

/// Refuses a size in bytes (`flag`) above `max`; both are printed with binary units too.
pub fn size_at_most(flag: &'static str, bytes: usize, max: usize) -> Result<(), ConfigError> {
    if bytes > max {
        let show = |b: usize| format!("{b} ({})", crate::text::bytes(b as u64));
        Err(above(flag, show(bytes), show(max)))
    } else {
        Ok(())
    }
}

/// Refuses a duration (`flag`, in ns) above `max_ns`; both are printed as durations.
pub fn duration_at_most(flag: &'static str, ns: u64, max_ns: u64) -> Result<(), ConfigError> {
    if ns > max_ns {
        Err(above(flag, human_ns(ns), human_ns(max_ns)))
    } else {
        Ok(())
    }
}

/// `1h`, `500ms`; `u64::MAX`, where a longer duration saturates, is "more than 584 years" (not a
/// value the user wrote).
pub fn human_ns(ns: u64) -> String {
    if ns == u64::MAX {
        return "more than 584 years".into();
    }
    humantime::format_duration(Duration::from_nanos(ns)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_above_a_maximum_are_named_with_it() {
        at_most("--flows", MAX_FLOWS, MAX_FLOWS).unwrap();
        let err = at_most("--flows", MAX_FLOWS + 1, MAX_FLOWS).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--flows 1048577 is above the maximum of 1048576"
        );
        let err = duration_at_most("--duration", u64::MAX, MAX_ITERATION_NS).unwrap_err();
        assert!(err.to_string().contains("maximum of 1day"), "{err}");
        assert!(
            err.to_string().contains("--duration more than 584 years"),
            "{err}"
        );
    }

    #[test]
    fn the_socket_buffer_cap_is_the_kernels() {
        assert_eq!(MAX_SOCKET_BUFFER_BYTES * 2, (i32::MAX as usize) + 1);
    }
}
