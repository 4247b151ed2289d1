//! What a run needs from the machine besides CPUs: file descriptors and memory, estimated from
//! its cases and checked before anything runs, so a run that cannot fit is an exit-2 error that
//! names the limit, not a failed case (or the out-of-memory killer) halfway through.

use anyhow::{Context, Result};
use nix::sys::resource::{Resource, getrlimit, setrlimit};

use crate::error::ConfigError;
use crate::metrics::histogram::HISTOGRAM_BYTES;
use crate::metrics::stages::names;
use crate::metrics::stamps;
use crate::spec::{Spec, Transport};
use crate::text::bytes;
use crate::workload::{self, Connections};

/// Descriptors one iteration holds besides its flows: the server's listener, a server process's
/// pipes, the file being written, a /proc file being read.
const FIXED_FDS: u64 = 8;

/// Descriptors per worker thread and side: an epoll set and a timerfd, or a runtime's poller and
/// waker.
const FDS_PER_THREAD: u64 = 3;

/// Stack of one worker thread (Rust's default), counted against an address-space limit.
const THREAD_STACK_BYTES: u64 = 2 << 20;

/// Descriptors the process has open now.
pub fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(16, |d| d.count() as u64)
}

/// Descriptors one iteration of `spec` opens: per flow its sockets or pipes (a crr flow up to
/// five: a placeholder or connection, a retired one, the listener's dup, the accepted one and a
/// retired one), per thread and side an engine's own, and a few fixed ones.
pub fn iteration_fds(spec: &Spec) -> u64 {
    let per_flow = match (workload::connections(spec), spec.transport) {
        (Connections::PerTransaction, _) => 5,
        (Connections::PerFlow, Transport::Pipe) => 4,
        (Connections::PerFlow, Transport::Shm) => 0,
        (Connections::PerFlow, _) => 2,
    };
    u64::from(spec.flows) * per_flow + u64::from(spec.threads) * 2 * FDS_PER_THREAD + FIXED_FDS
}

/// Descriptors the process needs for an iteration of `spec`: what it holds now and what the
/// iteration opens.
pub fn fds_needed(spec: &Spec) -> u64 {
    open_fds() + iteration_fds(spec)
}

/// Refuses a case whose descriptors cannot fit under RLIMIT_NOFILE's hard limit (the soft limit
/// is raised as needed when the iteration starts: [`raise_fd_limit`]).
pub fn check_fds(spec: &Spec) -> Result<(), ConfigError> {
    let needed = fds_needed(spec);
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap_or((u64::MAX, u64::MAX));
    if hard >= needed {
        return Ok(());
    }
    Err(ConfigError::Invalid(format!(
        "--flows {} needs about {needed} file descriptors ({} open already), but the hard limit \
         of RLIMIT_NOFILE is {hard}; raise it (as root: ulimit -Hn {needed}, or LimitNOFILE= \
         for a service) or use fewer flows",
        spec.flows,
        open_fds()
    )))
}

/// Raises RLIMIT_NOFILE's soft limit to what an iteration of `spec` needs when it is lower; a
/// hard limit below it is a usage error that names the limit.
pub fn raise_fd_limit(spec: &Spec) -> Result<()> {
    let needed = fds_needed(spec);
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).context("reading RLIMIT_NOFILE")?;
    if soft >= needed {
        return Ok(());
    }
    check_fds(spec)?;
    setrlimit(Resource::RLIMIT_NOFILE, needed.min(hard), hard).context("raising RLIMIT_NOFILE")?;
    Ok(())
}

/// Bytes one iteration of `spec` allocates while it runs: every flow's buffers and
/// histograms, shm rings, the histograms its threads merge into, a memcpy reference, a memory
/// load, `--stages`' stamp logs and stage histograms.
pub fn iteration_bytes(spec: &Spec) -> u64 {
    let flows = u64::from(spec.flows);
    let ring = match spec.transport {
        Transport::Shm => {
            2 * spec
                .socket
                .sndbuf
                .unwrap_or(crate::transport::ring::DEFAULT_CAPACITY) as u64
        }
        _ => 0,
    };
    let merged = (2 * u64::from(spec.threads) + 2) * HISTOGRAM_BYTES;
    let memcpy = if workload::moves_bulk_data(spec.workload) {
        2 * spec.size as u64
    } else {
        0
    };
    let load = spec
        .interference
        .memory_load_cpu
        .map_or(0, |_| 2 * crate::metrics::memload::BUFFER_BYTES as u64);
    flows * (workload::memory_per_flow(spec) + ring)
        + merged
        + memcpy
        + load
        + stamps::most_log_bytes(spec)
        + stage_histograms(spec)
}

/// Bytes of `--stages`' histograms: one per stage, for an iteration and for the case.
fn stage_histograms(spec: &Spec) -> u64 {
    if spec.instrument.stages {
        names::ALL.len() as u64 * HISTOGRAM_BYTES
    } else {
        0
    }
}

/// Bytes a case keeps until the run ends: a histogram per iteration (two for `rate`), the
/// merged ones and `--stages`' merged stages.
pub fn kept_bytes(spec: &Spec) -> u64 {
    (u64::from(spec.timing.iterations) + 1) * workload::histograms(spec).max(1) * HISTOGRAM_BYTES
        + stage_histograms(spec)
}

/// Bytes a run of `specs` needs at its peak: what every case keeps, and the largest iteration.
pub fn memory_needed(specs: &[&Spec]) -> u64 {
    let kept: u64 = specs.iter().map(|s| kept_bytes(s)).sum();
    let peak = specs.iter().map(|s| iteration_bytes(s)).max().unwrap_or(0);
    kept.saturating_add(peak)
}

/// How much memory the process may still use, and which limit says so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Headroom {
    /// Bytes.
    pub bytes: u64,
    /// The limit, for messages: `MemAvailable in /proc/meminfo`, the cgroup's memory limit
    /// and its file, `RLIMIT_AS`.
    pub limit: String,
    /// True for an address-space limit, which thread stacks count against too.
    pub virtual_memory: bool,
}

/// Every memory limit that applies to this process, with its headroom.
pub fn headroom() -> Vec<Headroom> {
    let mut out = Vec::new();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    if let Some(kib) = field_kib(&meminfo, "MemAvailable:") {
        out.push(Headroom {
            bytes: kib * 1024,
            limit: "MemAvailable in /proc/meminfo".into(),
            virtual_memory: false,
        });
    }
    if let Some(cgroup) = crate::host::cgroup::memory_limit() {
        out.push(Headroom {
            bytes: cgroup.headroom,
            limit: format!("the memory limit of its cgroup ({})", cgroup.file.display()),
            virtual_memory: false,
        });
    }
    if let Ok((soft, _)) = getrlimit(Resource::RLIMIT_AS) {
        if soft != libc::RLIM_INFINITY {
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            let used = field_kib(&status, "VmSize:").unwrap_or(0) * 1024;
            out.push(Headroom {
                bytes: soft.saturating_sub(used),
                limit: format!("RLIMIT_AS ({} of {} in use)", bytes(used), bytes(soft)),
                virtual_memory: true,
            });
        }
    }
    out
}

/// A `Name:   123 kB` line of /proc/meminfo or /proc/self/status, in KiB.
fn field_kib(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Refuses a run of `specs` that needs more memory than some limit leaves (see [`headroom`]);
/// the message says how much, what for, and which limit.
pub fn check_memory(specs: &[&Spec], limits: &[Headroom]) -> Result<(), ConfigError> {
    let needed = memory_needed(specs);
    let stacks = specs
        .iter()
        .map(|s| 2 * u64::from(s.threads) * THREAD_STACK_BYTES)
        .max()
        .unwrap_or(0);
    for h in limits {
        let need = if h.virtual_memory {
            needed + stacks
        } else {
            needed
        };
        if need > h.bytes {
            let biggest = specs
                .iter()
                .max_by_key(|s| iteration_bytes(s))
                .map(|s| {
                    let logs = match stamps::most_log_bytes(s) {
                        0 => String::new(),
                        b => format!(", of which --stages' stamp logs {}", bytes(b)),
                    };
                    format!(
                        "; its largest case, {}, needs {} per iteration (--size {}, \
                         --response-size {}, --flows {}{logs})",
                        s.case_id(),
                        bytes(iteration_bytes(s)),
                        s.size,
                        s.response_size,
                        s.flows
                    )
                })
                .unwrap_or_default();
            return Err(ConfigError::Invalid(format!(
                "this run needs about {} of memory, but only {} is left under {}{biggest}; use \
                 smaller sizes, fewer flows, fewer iterations or fewer cases",
                bytes(need),
                bytes(h.bytes),
                h.limit
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Workload;

    fn limit(bytes: u64, virtual_memory: bool) -> Vec<Headroom> {
        vec![Headroom {
            bytes,
            limit: "a test limit".into(),
            virtual_memory,
        }]
    }

    #[test]
    fn one_flow_fits_in_64_descriptors() {
        let spec = Spec::new(Transport::Tcp4);
        assert!(iteration_fds(&spec) <= 32, "{}", iteration_fds(&spec));
        let mut crr = Spec::new(Transport::Tcp4);
        crr.workload = Workload::Crr;
        crr.flows = 100;
        crr.threads = 100;
        assert_eq!(iteration_fds(&crr), 100 * 5 + 100 * 6 + FIXED_FDS);
    }

    #[test]
    fn a_huge_message_is_refused_with_the_limit_and_the_case() {
        let mut spec = Spec::new(Transport::Tcp4);
        spec.workload = Workload::Stream;
        spec.size = 10 << 30;
        let err = check_memory(&[&spec], &limit(8 << 30, false)).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("a test limit"), "{text}");
        assert!(text.contains("tcp4-stream"), "{text}");
        assert!(text.contains("GiB of memory"), "{text}");
        let small = Spec::new(Transport::Tcp4);
        check_memory(&[&small], &limit(8 << 30, false)).unwrap();
    }

    #[test]
    fn iterations_keep_histograms_and_thread_stacks_count_against_address_space() {
        let mut spec = Spec::new(Transport::Tcp4);
        spec.timing.iterations = 10_000;
        assert!(kept_bytes(&spec) > 2 << 30, "{}", kept_bytes(&spec));
        let spec = Spec::new(Transport::Tcp4);
        let needed = memory_needed(&[&spec]);
        check_memory(&[&spec], &limit(needed, false)).unwrap();
        assert!(check_memory(&[&spec], &limit(needed, true)).is_err());
    }

    #[test]
    fn stamp_logs_count_and_are_named_in_the_refusal() {
        let mut spec = Spec::new(Transport::Tcp4);
        spec.flows = 10_000;
        spec.threads = 100;
        let without = iteration_bytes(&spec);
        spec.instrument.stages = true;
        let logs = stamps::most_log_bytes(&spec);
        // 4096 entries per flow at least, 73 bytes each: about 2.8 GiB over 10 000 flows.
        assert_eq!(logs, 10_000 * 4096 * 73);
        assert!(iteration_bytes(&spec) >= without + logs);
        let limits = limit(without + 100 * HISTOGRAM_BYTES + (1 << 30), false);
        let text = check_memory(&[&spec], &limits).unwrap_err().to_string();
        assert!(text.contains("--stages' stamp logs"), "{text}");
        spec.instrument.stages = false;
        check_memory(&[&spec], &limits).unwrap();
    }

    #[test]
    fn this_machine_reports_its_available_memory() {
        let h = headroom();
        assert!(
            h.iter()
                .any(|h| h.limit.contains("MemAvailable") && h.bytes > 0),
            "{h:?}"
        );
    }
}
