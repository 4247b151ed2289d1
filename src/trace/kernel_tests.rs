//! Against the running kernel: the tracer's events line up with user-space CLOCK_MONOTONIC
//! stamps and carry the right thread, overruns are counted; the profiler delivers call chains.
//! Root only.

use std::io::Write;

use crate::trace::events::{Event, EventKind};
use crate::trace::profiler::{ProfileConfig, Profiler};
use crate::trace::tracefs::Tracefs;
use crate::trace::tracer::{TraceConfig, Tracer};

fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec to write into.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn pin_to(cpu: usize) {
    let mut set = nix::sched::CpuSet::new();
    set.set(cpu).unwrap();
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set).unwrap();
}

#[test]
#[ignore = "needs root: perf_event_open on tracepoints and tracefs"]
fn syscall_events_carry_our_tid_and_monotonic_stamps_between_our_own() {
    pin_to(0);
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::gettid() } as u32;
    let tracefs = Tracefs::locate_or_mount().unwrap();
    let config = TraceConfig {
        cpus: vec![0],
        tids: vec![tid],
        buffer_bytes_per_cpu: 1 << 20,
    };
    let mut tracer = Tracer::open(&tracefs, &config).unwrap();
    let mut devnull = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .unwrap();
    tracer.enable().unwrap();
    let before = now_ns();
    for _ in 0..10 {
        devnull.write_all(b"x").unwrap();
    }
    let after = now_ns();
    let mut events: Vec<Event> = Vec::new();
    let stats = tracer.finish(&mut events).unwrap();
    let writes: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::SysEnter { nr, .. } if nr == libc::SYS_write))
        .collect();
    assert_eq!(writes.len(), 10, "{events:?}");
    assert!(writes.iter().all(|e| e.tid == tid && e.cpu == 0));
    assert!(
        writes.iter().all(|e| before < e.ts_ns && e.ts_ns < after),
        "{before} {after} {writes:?}"
    );
    assert!(
        events
            .iter()
            .all(|e| e.tid == tid || !matches!(e.kind, EventKind::SysEnter { .. }))
    );
    assert_eq!((stats.lost_events, stats.undecoded), (0, 0));
}

#[test]
#[ignore = "needs root: perf_event_open cpu-clock sampling with kernel call chains"]
fn the_profiler_samples_a_busy_thread_on_its_cpu() {
    pin_to(0);
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::gettid() } as u32;
    let config = ProfileConfig {
        cpus: vec![0],
        frequency_hz: 4000,
        buffer_bytes_per_cpu: 1 << 20,
    };
    let mut p = Profiler::open(&config).unwrap();
    p.enable().unwrap();
    let end = now_ns() + 50_000_000;
    let mut x = 0u64;
    while now_ns() < end {
        x = x.wrapping_mul(31).wrapping_add(7);
    }
    std::hint::black_box(x);
    p.disable().unwrap();
    let (mut ours, mut chains) = (0, 0);
    p.drain(|s| {
        ours += (s.tid == tid) as u32;
        chains += (!s.callchain.is_empty()) as u32;
    });
    // 50 ms at 4 kHz is ~200 samples; a loaded machine can take the CPU away for part of it.
    assert!(ours >= 20, "only {ours} samples of this thread");
    assert!(
        chains as u64 == p.stats().samples,
        "every sample has a call chain"
    );
}

#[test]
#[ignore = "needs root: perf_event_open on tracepoints and tracefs"]
fn an_overrun_ring_buffer_is_counted_and_becomes_gap_events() {
    pin_to(0);
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::gettid() } as u32;
    let tracefs = Tracefs::locate_or_mount().unwrap();
    // One 4 KiB data page holds ~60 syscall samples: 2000 writes overrun it.
    let config = TraceConfig {
        cpus: vec![0],
        tids: vec![tid],
        buffer_bytes_per_cpu: 4096,
    };
    let mut tracer = Tracer::open(&tracefs, &config).unwrap();
    let mut devnull = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .unwrap();
    tracer.enable().unwrap();
    for _ in 0..2000 {
        devnull.write_all(b"x").unwrap();
    }
    let mut events: Vec<Event> = Vec::new();
    tracer.drain(&mut events);
    // Samples after the drain close the gap the overrun left.
    for _ in 0..5 {
        devnull.write_all(b"x").unwrap();
    }
    let stats = tracer.finish(&mut events).unwrap();
    let in_gaps: u64 = events
        .iter()
        .map(|e| match e.kind {
            EventKind::Lost { count, .. } => count,
            _ => 0,
        })
        .sum();
    assert!(stats.lost_events > 1000, "{stats:?}");
    assert_eq!(
        in_gaps, stats.lost_events,
        "every lost event is in a gap event"
    );
    // Each write is a sys_enter and a sys_exit; the tracer's own enable/disable ioctls and the
    // drain add a few more of this thread's syscalls.
    let seen = stats.events + stats.lost_events;
    assert!((2 * 2005..2 * 2005 + 100).contains(&seen), "{stats:?}");
}
