//! Typed kernel events (CLOCK_MONOTONIC ns, CPU, thread id) and their one-line text form.
//!
//! The text form is what fixture files hold, one event a line:
//! `<ts_ns> <cpu> <tid> <kind> key=value ...`, e.g. `1000 0 4242 sys_enter nr=44`; `#` starts a
//! comment. Recorded runs and hand-built edge cases use the same form.

use std::fmt;
use std::str::FromStr;

/// `power:cpu_idle`'s `state` when the CPU leaves idle (PWR_EVENT_EXIT, (u32)-1).
pub const IDLE_EXIT: u32 = u32::MAX;
/// A `sys_enter` whose first argument was not recorded: it matches any descriptor.
pub const UNKNOWN_FD: i64 = -1;
/// The NET_RX softirq vector.
pub const NET_RX: u32 = 3;

/// One kernel event on one CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// CLOCK_MONOTONIC timestamp in ns (comparable with user-space `clock_gettime` stamps).
    pub ts_ns: u64,
    /// The CPU the event happened on.
    pub cpu: u32,
    /// The thread that was current (0 for the idle task).
    pub tid: u32,
    /// What happened.
    pub kind: EventKind,
}

/// What happened, with the payload fields the timeline needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// `raw_syscalls:sys_enter`.
    SysEnter {
        /// Syscall number.
        nr: i64,
        /// Its first argument: the file descriptor of read/write/send/recv calls
        /// ([`UNKNOWN_FD`] in fixtures recorded without it).
        fd: i64,
    },
    /// `raw_syscalls:sys_exit`.
    SysExit {
        /// Syscall number.
        nr: i64,
        /// Return value (bytes, or -errno).
        ret: i64,
    },
    /// `irq:softirq_entry`.
    SoftirqEntry {
        /// Softirq vector (3 = NET_RX).
        vec: u32,
    },
    /// `irq:softirq_exit`.
    SoftirqExit {
        /// Softirq vector.
        vec: u32,
    },
    /// `sched:sched_waking`: `tid` (the current thread) starts waking `pid`.
    Waking {
        /// The thread being woken.
        pid: u32,
        /// The CPU the woken thread is meant to run on.
        target_cpu: u32,
    },
    /// `sched:sched_switch` on this CPU.
    Switch {
        /// The thread leaving the CPU.
        prev_pid: u32,
        /// Its state (0 = runnable/preempted, 1 = interruptible sleep, ...).
        prev_state: i64,
        /// The thread getting the CPU (0 = idle).
        next_pid: u32,
    },
    /// `ipi:ipi_send_cpu`: this CPU sends an IPI to `target_cpu`.
    IpiSend {
        /// The IPI's destination.
        target_cpu: u32,
    },
    /// `power:cpu_idle` for this CPU: entering idle `state`, or leaving idle ([`IDLE_EXIT`]).
    CpuIdle {
        /// The idle state index, or [`IDLE_EXIT`].
        state: u32,
    },
    /// PERF_RECORD_LOST on this CPU: `count` events lost between `ts_ns` (the last event read
    /// before the loss) and `until_ns` (the first one after it; `u64::MAX` if none followed).
    Lost {
        /// Number of events the kernel dropped.
        count: u64,
        /// End of the gap.
        until_ns: u64,
    },
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {} ", self.ts_ns, self.cpu, self.tid)?;
        match self.kind {
            EventKind::SysEnter { nr, fd: UNKNOWN_FD } => write!(f, "sys_enter nr={nr}"),
            EventKind::SysEnter { nr, fd } => write!(f, "sys_enter nr={nr} fd={fd}"),
            EventKind::SysExit { nr, ret } => write!(f, "sys_exit nr={nr} ret={ret}"),
            EventKind::SoftirqEntry { vec } => write!(f, "softirq_entry vec={vec}"),
            EventKind::SoftirqExit { vec } => write!(f, "softirq_exit vec={vec}"),
            EventKind::Waking { pid, target_cpu } => {
                write!(f, "waking pid={pid} target_cpu={target_cpu}")
            }
            EventKind::Switch {
                prev_pid,
                prev_state,
                next_pid,
            } => {
                write!(
                    f,
                    "switch prev={prev_pid} prev_state={prev_state} next={next_pid}"
                )
            }
            EventKind::IpiSend { target_cpu } => write!(f, "ipi target_cpu={target_cpu}"),
            EventKind::CpuIdle { state: IDLE_EXIT } => write!(f, "idle state=exit"),
            EventKind::CpuIdle { state } => write!(f, "idle state={state}"),
            EventKind::Lost { count, until_ns } => write!(f, "lost count={count} until={until_ns}"),
        }
    }
}

/// A fixture line that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad event line {line:?}: {why}")]
pub struct ParseEventError {
    /// The line.
    pub line: String,
    /// What was wrong with it.
    pub why: &'static str,
}

impl FromStr for Event {
    type Err = ParseEventError;

    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let err = |why| ParseEventError {
            line: line.into(),
            why,
        };
        let mut words = line.split_whitespace();
        let mut num = |why| {
            words
                .next()
                .and_then(|w| w.parse::<u64>().ok())
                .ok_or_else(|| err(why))
        };
        let (ts_ns, cpu, tid) = (num("timestamp")?, num("cpu")? as u32, num("tid")? as u32);
        let kind_word = words.next().ok_or_else(|| err("no kind"))?;
        let args: Vec<(&str, &str)> = words.filter_map(|w| w.split_once('=')).collect();
        let arg = |key: &str| -> Result<i64, ParseEventError> {
            let value = args
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v)
                .ok_or_else(|| err("missing field"))?;
            if value == "exit" {
                Ok(IDLE_EXIT as i64)
            } else {
                value.parse().map_err(|_| err("bad number"))
            }
        };
        let kind = match kind_word {
            "sys_enter" => EventKind::SysEnter {
                nr: arg("nr")?,
                fd: arg("fd").unwrap_or(UNKNOWN_FD),
            },
            "sys_exit" => EventKind::SysExit {
                nr: arg("nr")?,
                ret: arg("ret")?,
            },
            "softirq_entry" => EventKind::SoftirqEntry {
                vec: arg("vec")? as u32,
            },
            "softirq_exit" => EventKind::SoftirqExit {
                vec: arg("vec")? as u32,
            },
            "waking" => EventKind::Waking {
                pid: arg("pid")? as u32,
                target_cpu: arg("target_cpu")? as u32,
            },
            "switch" => EventKind::Switch {
                prev_pid: arg("prev")? as u32,
                prev_state: arg("prev_state")?,
                next_pid: arg("next")? as u32,
            },
            "ipi" => EventKind::IpiSend {
                target_cpu: arg("target_cpu")? as u32,
            },
            "idle" => EventKind::CpuIdle {
                state: arg("state")? as u32,
            },
            "lost" => EventKind::Lost {
                count: arg("count")? as u64,
                until_ns: arg("until")? as u64,
            },
            _ => return Err(err("unknown kind")),
        };
        Ok(Event {
            ts_ns,
            cpu,
            tid,
            kind,
        })
    }
}

/// Parses a fixture: one event a line, `#` comments and blank lines skipped.
pub fn parse_events(text: &str) -> Result<Vec<Event>, ParseEventError> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::parse)
        .collect()
}

/// Writes events in the fixture form, one a line.
pub fn write_events(events: &[Event], out: &mut impl std::io::Write) -> std::io::Result<()> {
    events.iter().try_for_each(|e| writeln!(out, "{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_text() {
        let kinds = [
            EventKind::SysEnter { nr: 44, fd: 5 },
            EventKind::SysEnter {
                nr: 44,
                fd: UNKNOWN_FD,
            },
            EventKind::SysExit { nr: 45, ret: -11 },
            EventKind::SoftirqEntry { vec: 3 },
            EventKind::SoftirqExit { vec: 3 },
            EventKind::Waking {
                pid: 7,
                target_cpu: 1,
            },
            EventKind::Switch {
                prev_pid: 0,
                prev_state: 0,
                next_pid: 7,
            },
            EventKind::IpiSend { target_cpu: 1 },
            EventKind::CpuIdle { state: 1 },
            EventKind::CpuIdle { state: IDLE_EXIT },
            EventKind::Lost {
                count: 5,
                until_ns: 99,
            },
        ];
        for (i, kind) in kinds.into_iter().enumerate() {
            let e = Event {
                ts_ns: 1000 + i as u64,
                cpu: 1,
                tid: 42,
                kind,
            };
            assert_eq!(e.to_string().parse::<Event>(), Ok(e), "{e}");
        }
    }

    #[test]
    fn comments_and_blank_lines_are_skipped_and_bad_lines_named() {
        let events = parse_events("# header\n\n10 0 1 sys_enter nr=1  # trailing\n").unwrap();
        assert_eq!(events.len(), 1);
        let err = parse_events("10 0 1 teleport x=1").unwrap_err();
        assert_eq!(err.why, "unknown kind");
        assert_eq!(
            parse_events("10 0 1 sys_exit nr=1").unwrap_err().why,
            "missing field"
        );
    }
}
