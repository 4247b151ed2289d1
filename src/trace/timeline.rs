//! Rebuilds each round trip of a client/server pair from kernel events into per-leg stage points.
//!
//! A leg is one one-way path: the sender's send syscall is entered, the NET_RX softirq starts on the
//! sender's CPU, it wakes the receiver (sched_waking, maybe with an IPI to the receiver's CPU), the
//! softirq ends, the receiver's CPU leaves idle, the receiver is switched in, its receive syscall
//! returns. Where the kernel took another path (no softirq for Unix sockets, no wake-up because the
//! receiver had not gone to sleep yet, same CPU so no IPI) the point is `None` and every stage that
//! needs it is absent, never zero.
//!
//! Pure: events in (any order, from any number of per-CPU buffers), round trips out.

use crate::trace::events::{Event, EventKind, IDLE_EXIT, NET_RX, UNKNOWN_FD};
pub use crate::trace::stages::{Leg, LegTotals, RoundTrip, Stage};

/// A worker thread and the CPU it is pinned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// Thread id.
    pub tid: u32,
    /// CPU it runs on.
    pub cpu: u32,
}

/// The two workers and the syscalls that send and receive.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The thread that sends requests and receives responses.
    pub client: Endpoint,
    /// The thread that receives requests and sends responses.
    pub server: Endpoint,
    /// Syscall numbers that send (write, sendto, sendmsg, ...).
    pub send_nrs: Vec<i64>,
    /// Syscall numbers that receive (read, recvfrom, recvmsg, ...).
    pub recv_nrs: Vec<i64>,
    /// The client's descriptors (its socket, or pipe ends): its sends and receives are the
    /// syscalls on these; empty takes any (a worker also reads /proc files with `read`).
    pub client_fds: Vec<i64>,
    /// The server's descriptors, likewise.
    pub server_fds: Vec<i64>,
}

impl Pair {
    /// A pair using this architecture's read/write/send/recv syscall numbers.
    pub fn new(client: Endpoint, server: Endpoint) -> Self {
        Self {
            client,
            server,
            send_nrs: vec![
                libc::SYS_write,
                libc::SYS_writev,
                libc::SYS_sendto,
                libc::SYS_sendmsg,
            ],
            recv_nrs: vec![
                libc::SYS_read,
                libc::SYS_readv,
                libc::SYS_recvfrom,
                libc::SYS_recvmsg,
            ],
            client_fds: Vec::new(),
            server_fds: Vec::new(),
        }
    }

    /// The same pair, counting only syscalls on these descriptors of each side.
    pub fn with_fds(mut self, client_fds: Vec<i64>, server_fds: Vec<i64>) -> Self {
        self.client_fds = client_fds;
        self.server_fds = server_fds;
        self
    }
}

impl Pair {
    /// The pair named on a fixture's `# pair client=TID@CPU server=TID@CPU` line (which may
    /// add `client_fds=3 server_fds=4,5`).
    pub fn from_fixture_header(text: &str) -> Option<Self> {
        let line = text.lines().find_map(|l| l.strip_prefix("# pair "))?;
        let word = |key: &str| line.split_whitespace().find_map(|w| w.strip_prefix(key));
        let endpoint = |key: &str| -> Option<Endpoint> {
            let (tid, cpu) = word(key)?.split_once('@')?;
            Some(Endpoint {
                tid: tid.parse().ok()?,
                cpu: cpu.parse().ok()?,
            })
        };
        let fds = |key: &str| -> Vec<i64> {
            word(key).map_or_else(Vec::new, |w| {
                w.split(',').filter_map(|f| f.parse().ok()).collect()
            })
        };
        let pair = Self::new(endpoint("client=")?, endpoint("server=")?);
        Some(pair.with_fds(fds("client_fds="), fds("server_fds=")))
    }

    /// The `# pair ...` line [`Pair::from_fixture_header`] reads.
    pub fn fixture_header(&self) -> String {
        let list = |fds: &[i64]| {
            let text: Vec<String> = fds.iter().map(i64::to_string).collect();
            text.join(",")
        };
        format!(
            "# pair client={}@{} server={}@{} client_fds={} server_fds={}",
            self.client.tid,
            self.client.cpu,
            self.server.tid,
            self.server.cpu,
            list(&self.client_fds),
            list(&self.server_fds)
        )
    }
}

/// Every round trip found, and what could not be attributed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    /// Complete round trips, in time order.
    pub round_trips: Vec<RoundTrip>,
    /// Round trips that overlapped a lost-event gap on a worker CPU (left out, counted).
    pub dropped_for_loss: u64,
    /// Client sends whose request/response could not be matched (left out, counted).
    pub unmatched: u64,
    /// Events the kernel reported lost on the workers' CPUs.
    pub lost_events: u64,
}

/// Rebuilds the round trips of `pair` from `events` (any order; merged by timestamp here).
pub fn rebuild(events: &[Event], pair: &Pair) -> Timeline {
    let mut sorted = events.to_vec();
    // Stable: events of one CPU with equal stamps keep their buffer order.
    sorted.sort_by_key(|e| e.ts_ns);
    let (client, server) = (pair.client, pair.server);
    let on_workers = |cpu| cpu == client.cpu || cpu == server.cpu;
    let gaps: Vec<(u64, u64, u64)> = sorted
        .iter()
        .filter(|e| on_workers(e.cpu))
        .filter_map(|e| match e.kind {
            EventKind::Lost { count, until_ns } => Some((e.ts_ns, until_ns, count)),
            _ => None,
        })
        .collect();
    let fds = syscall_fds(&sorted);
    let is = |i: usize, tid: u32, enter: bool, nrs: &[i64]| {
        let e = &sorted[i];
        let own = if tid == client.tid {
            &pair.client_fds
        } else {
            &pair.server_fds
        };
        let fd_matches = own.is_empty() || fds[i] == UNKNOWN_FD || own.contains(&fds[i]);
        e.tid == tid
            && fd_matches
            && match e.kind {
                EventKind::SysEnter { nr, .. } => enter && nrs.contains(&nr),
                EventKind::SysExit { nr, ret } => !enter && ret > 0 && nrs.contains(&nr),
                _ => false,
            }
    };
    let sends: Vec<usize> = (0..sorted.len())
        .filter(|&i| is(i, client.tid, true, &pair.send_nrs))
        .collect();
    let mut timeline = Timeline {
        lost_events: gaps.iter().map(|g| g.2).sum(),
        ..Timeline::default()
    };
    for (k, &start) in sends.iter().enumerate() {
        let limit = sends.get(k + 1).copied().unwrap_or(sorted.len());
        let find = |from: usize, tid: u32, enter: bool, nrs: &[i64]| {
            (from..limit).find(|&i| is(i, tid, enter, nrs))
        };
        let Some(req_end) = find(start + 1, server.tid, false, &pair.recv_nrs) else {
            timeline.unmatched += 1;
            continue;
        };
        let Some(resp_start) = find(req_end + 1, server.tid, true, &pair.send_nrs) else {
            timeline.unmatched += 1;
            continue;
        };
        let Some(resp_end) = find(resp_start + 1, client.tid, false, &pair.recv_nrs) else {
            timeline.unmatched += 1;
            continue;
        };
        // A message that takes several reads ends at the last read before the reader's next
        // send (one read for small messages).
        let last = |first: usize, until: usize, tid: u32| {
            (first..until)
                .rev()
                .find(|&i| is(i, tid, false, &pair.recv_nrs))
                .unwrap_or(first)
        };
        let (req_end, resp_end) = (
            last(req_end, resp_start, server.tid),
            last(resp_end, limit, client.tid),
        );
        let (from_ns, to_ns) = (sorted[start].ts_ns, sorted[resp_end].ts_ns);
        if gaps
            .iter()
            .any(|&(gap_from, gap_to, _)| gap_from <= to_ns && from_ns <= gap_to)
        {
            timeline.dropped_for_loss += 1;
            continue;
        }
        let request = leg(&sorted, start, req_end, resp_end, client, server);
        let response = leg(&sorted, resp_start, resp_end, limit, server, client);
        timeline.round_trips.push(RoundTrip {
            seq: k as u64 + 1,
            request,
            response,
        });
    }
    timeline
}

/// The descriptor of each syscall event: a sys_enter's own first argument, and for a sys_exit
/// that of its thread's last sys_enter ([`UNKNOWN_FD`] for other events).
fn syscall_fds(sorted: &[Event]) -> Vec<i64> {
    let mut last: Vec<(u32, i64)> = Vec::new();
    sorted
        .iter()
        .map(|e| match e.kind {
            EventKind::SysEnter { fd, .. } => {
                match last.iter_mut().find(|(t, _)| *t == e.tid) {
                    Some(entry) => entry.1 = fd,
                    None => last.push((e.tid, fd)),
                }
                fd
            }
            EventKind::SysExit { .. } => last
                .iter()
                .find(|(t, _)| *t == e.tid)
                .map_or(UNKNOWN_FD, |(_, fd)| *fd),
            _ => UNKNOWN_FD,
        })
        .collect()
}

/// What the kernel did for a whole message between its send (the first event) and the receiver's
/// last read (the end): the send call, the NET_RX softirqs on the sender's CPU, the wake-ups.
fn totals(events: &[Event], sender: Endpoint, receiver: Endpoint) -> LegTotals {
    let mut t = LegTotals::default();
    let mut open_softirq = None;
    for e in events {
        match e.kind {
            EventKind::SysExit { .. } if e.tid == sender.tid && t.send_exit_ns.is_none() => {
                t.send_exit_ns = Some(e.ts_ns);
            }
            EventKind::SoftirqEntry { vec: NET_RX } if e.cpu == sender.cpu => {
                open_softirq = Some(e.ts_ns);
            }
            EventKind::SoftirqExit { vec: NET_RX } if e.cpu == sender.cpu => {
                if let Some(from) = open_softirq.take() {
                    t.softirqs += 1;
                    t.softirq_ns += e.ts_ns - from;
                }
            }
            EventKind::Waking { pid, .. } if pid == receiver.tid => t.wakings += 1,
            _ => {}
        }
    }
    t
}

/// How far back [`early_waking`] looks for the receiver's last syscall entry.
const LOOK_BACK: usize = 4096;

/// The receiver's wake-up that came before the send at `start`: a sched_waking of it after its
/// last syscall entry (the receive it blocked in) that no sleep followed.
fn early_waking(events: &[Event], start: usize, receiver: Endpoint) -> Option<u64> {
    let from = start.saturating_sub(LOOK_BACK);
    let entered = (from..start).rev().find(|&i| {
        events[i].tid == receiver.tid && matches!(events[i].kind, EventKind::SysEnter { .. })
    })?;
    let mut early = None;
    for e in &events[entered..start] {
        match e.kind {
            EventKind::Waking { pid, .. } if pid == receiver.tid => early = Some(e.ts_ns),
            EventKind::Switch {
                prev_pid,
                prev_state,
                ..
            } if prev_pid == receiver.tid && prev_state != 0 => early = None,
            _ => {}
        }
    }
    early
}

/// Finds one leg's points between the send at `start` and the receive return at `end`; the
/// softirq's exit may come after `end` (the receiver can run before the waker finishes), up to `bound`.
fn leg(
    events: &[Event],
    start: usize,
    end: usize,
    bound: usize,
    sender: Endpoint,
    receiver: Endpoint,
) -> Leg {
    let mut leg = Leg {
        send_enter_ns: events[start].ts_ns,
        softirq_entry_ns: None,
        waking_ns: None,
        early_waking_ns: early_waking(events, start, receiver),
        softirq_exit_ns: None,
        idle_exit_ns: None,
        on_cpu_ns: None,
        recv_exit_ns: events[end].ts_ns,
        ipi: None,
        totals: totals(&events[start..end], sender, receiver),
    };
    let mut sender_in_send = true;
    let mut waker_cpu = None;
    for (i, e) in events.iter().enumerate().take(bound).skip(start + 1) {
        let before_end = i < end;
        let woken_not_running = leg.waking_ns.is_some() && leg.on_cpu_ns.is_none() && before_end;
        match e.kind {
            EventKind::SysExit { .. } if e.tid == sender.tid => sender_in_send = false,
            EventKind::SoftirqEntry { vec: NET_RX }
                if e.cpu == sender.cpu
                    && sender_in_send
                    && before_end
                    && leg.softirq_entry_ns.is_none() =>
            {
                leg.softirq_entry_ns = Some(e.ts_ns);
            }
            EventKind::Waking { pid, .. }
                if pid == receiver.tid && before_end && leg.waking_ns.is_none() =>
            {
                leg.waking_ns = Some(e.ts_ns);
                // A switch-in before this waking only found the data not there yet.
                leg.on_cpu_ns = None;
                leg.early_waking_ns = None;
                waker_cpu = Some(e.cpu);
                if e.cpu != receiver.cpu {
                    leg.ipi = Some(false);
                }
            }
            EventKind::SoftirqExit { vec: NET_RX }
                if e.cpu == sender.cpu
                    && leg.softirq_entry_ns.is_some()
                    && leg.softirq_exit_ns.is_none() =>
            {
                leg.softirq_exit_ns = Some(e.ts_ns);
            }
            EventKind::IpiSend { target_cpu }
                if woken_not_running
                    && Some(e.cpu) == waker_cpu
                    && target_cpu == receiver.cpu
                    && leg.ipi.is_some() =>
            {
                leg.ipi = Some(true);
            }
            EventKind::CpuIdle { state: IDLE_EXIT }
                if woken_not_running && e.cpu == receiver.cpu && leg.idle_exit_ns.is_none() =>
            {
                leg.idle_exit_ns = Some(e.ts_ns);
            }
            EventKind::Switch { next_pid, .. }
                if next_pid == receiver.tid
                    && e.cpu == receiver.cpu
                    && (woken_not_running
                        || (leg.waking_ns.is_none() && leg.on_cpu_ns.is_none() && before_end)) =>
            {
                leg.on_cpu_ns = Some(e.ts_ns);
            }
            _ => {}
        }
        if !before_end && leg.softirq_exit_ns.is_some() {
            break;
        }
        if !before_end && leg.softirq_entry_ns.is_none() {
            break;
        }
    }
    leg
}

#[cfg(test)]
#[path = "timeline_tests.rs"]
mod tests;
