//! Timeline rebuilding on fixtures: hand-built edge cases with exact expected stages, and
//! sequences recorded on a 2-vCPU KVM guest (kernel 6.18) by `demo record`.

use super::*;
use crate::trace::events::parse_events;

/// A fixture's events and the pair named on its `# pair client=TID@CPU server=TID@CPU` line.
fn fixture(name: &str) -> (Vec<Event>, Pair) {
    let path = format!(
        "{}/tests/data/trace/timeline/{name}.events",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    (
        parse_events(&text).unwrap(),
        Pair::from_fixture_header(&text).expect("fixture has a # pair line"),
    )
}

fn stages(leg: &Leg) -> Vec<Option<u64>> {
    Stage::ALL.iter().map(|&s| leg.stage_ns(s)).collect()
}

#[test]
fn cross_core_round_trip_splits_into_exact_stages() {
    let (events, pair) = fixture("handbuilt_tcp_cross_core");
    let tl = rebuild(&events, &pair);
    assert_eq!(
        (tl.round_trips.len(), tl.unmatched, tl.dropped_for_loss),
        (1, 0, 0)
    );
    let rt = tl.round_trips[0];
    // send_syscall, protocol, wake_issue, wakeup, idle_exit, recv_return, wake_to_return
    assert_eq!(
        stages(&rt.request),
        [
            Some(500),
            Some(500),
            Some(600),
            Some(2500),
            Some(2000),
            Some(500),
            None,
            None,
            None,
            None
        ]
    );
    assert_eq!(
        stages(&rt.response),
        [
            Some(400),
            Some(400),
            Some(800),
            Some(500),
            Some(300),
            Some(1000),
            None,
            None,
            None,
            None
        ]
    );
    assert_eq!((rt.request.ipi, rt.response.ipi), (Some(true), Some(false)));
    assert_eq!((rt.rtt_ns(), rt.server_turnaround_ns()), (6500, 200));
    // The chain send → softirq → waking → on CPU → return covers the one-way path exactly.
    for leg in [rt.request, rt.response] {
        let chain: u64 = [
            Stage::SendSyscall,
            Stage::Protocol,
            Stage::Wakeup,
            Stage::RecvReturn,
        ]
        .iter()
        .map(|&s| leg.stage_ns(s).unwrap())
        .sum();
        assert_eq!(chain, leg.one_way_ns());
    }
}

#[test]
fn per_cpu_buffers_drained_one_after_another_give_the_same_timeline() {
    let (events, pair) = fixture("handbuilt_tcp_cross_core");
    let in_order = rebuild(&events, &pair);
    // What a drain produces: all of CPU 1's buffer, then all of CPU 0's.
    let mut by_cpu: Vec<Event> = events.iter().filter(|e| e.cpu == 1).copied().collect();
    by_cpu.extend(events.iter().filter(|e| e.cpu == 0));
    assert_ne!(by_cpu, events);
    assert_eq!(rebuild(&by_cpu, &pair), in_order);
    let mut reversed = events.clone();
    reversed.reverse();
    assert_eq!(rebuild(&reversed, &pair).round_trips.len(), 1);
}

/// The hand-built round trip repeated `n` times, 10 µs apart.
fn repeated(n: u64) -> (Vec<Event>, Pair) {
    let (events, pair) = fixture("handbuilt_tcp_cross_core");
    let all = (0..n)
        .flat_map(|i| {
            events.iter().map(move |e| Event {
                ts_ns: e.ts_ns + i * 10_000,
                ..*e
            })
        })
        .collect();
    (all, pair)
}

#[test]
fn round_trips_overlapping_a_loss_are_dropped_and_counted() {
    let (mut events, pair) = repeated(3);
    // CPU 1 lost 7 events between 13.0 and 14.9 µs: inside the second round trip (11.0–17.5 µs).
    events.push(Event {
        ts_ns: 13_000,
        cpu: 1,
        tid: 0,
        kind: EventKind::Lost {
            count: 7,
            until_ns: 14_900,
        },
    });
    let tl = rebuild(&events, &pair);
    assert_eq!(
        (tl.round_trips.len(), tl.dropped_for_loss, tl.lost_events),
        (2, 1, 7)
    );
    let starts: Vec<u64> = tl
        .round_trips
        .iter()
        .map(|rt| rt.request.send_enter_ns)
        .collect();
    assert_eq!(starts, [1000, 21_000]);
}

#[test]
fn a_loss_between_round_trips_drops_nothing_and_an_open_gap_drops_the_rest() {
    let (mut events, pair) = repeated(3);
    events.push(Event {
        ts_ns: 8_000,
        cpu: 0,
        tid: 0,
        kind: EventKind::Lost {
            count: 2,
            until_ns: 10_500,
        },
    });
    let tl = rebuild(&events, &pair);
    assert_eq!(
        (tl.round_trips.len(), tl.dropped_for_loss, tl.lost_events),
        (3, 0, 2)
    );
    // A loss that no later sample closed runs to the end of the trace.
    events.push(Event {
        ts_ns: 19_000,
        cpu: 1,
        tid: 0,
        kind: EventKind::Lost {
            count: 1,
            until_ns: u64::MAX,
        },
    });
    let tl = rebuild(&events, &pair);
    assert_eq!(
        (tl.round_trips.len(), tl.dropped_for_loss, tl.lost_events),
        (2, 1, 3)
    );
}

#[test]
fn losses_on_other_cpus_do_not_drop_round_trips() {
    let (mut events, pair) = repeated(2);
    events.push(Event {
        ts_ns: 1_000,
        cpu: 5,
        tid: 0,
        kind: EventKind::Lost {
            count: 9,
            until_ns: 30_000,
        },
    });
    let tl = rebuild(&events, &pair);
    assert_eq!(
        (tl.round_trips.len(), tl.dropped_for_loss, tl.lost_events),
        (2, 0, 0)
    );
}

#[test]
fn same_core_has_no_ipi_and_no_idle_exit() {
    let (events, pair) = fixture("handbuilt_tcp_same_core");
    let tl = rebuild(&events, &pair);
    assert_eq!(tl.round_trips.len(), 1);
    let rt = tl.round_trips[0];
    assert_eq!(
        stages(&rt.request),
        [
            Some(400),
            Some(400),
            Some(400),
            Some(800),
            None,
            Some(400),
            None,
            None,
            None,
            None
        ]
    );
    assert_eq!(
        stages(&rt.response),
        [
            Some(300),
            Some(400),
            Some(400),
            Some(800),
            None,
            Some(400),
            None,
            None,
            None,
            None
        ]
    );
    assert_eq!((rt.request.ipi, rt.response.ipi), (None, None));
}

#[test]
fn unix_path_without_softirq_marks_softirq_stages_absent() {
    let (events, pair) = fixture("handbuilt_unix_cross_core");
    let tl = rebuild(&events, &pair);
    assert_eq!(tl.round_trips.len(), 1);
    let rt = tl.round_trips[0];
    // The writer wakes the reader from its own send: send_syscall ends at the waking.
    assert_eq!(
        stages(&rt.request),
        [
            Some(600),
            None,
            None,
            Some(1700),
            Some(1400),
            Some(500),
            None,
            None,
            None,
            None
        ]
    );
    assert_eq!(rt.request.ipi, Some(true));
    // The client had not slept when the response landed: no wake-up and no switch-in, so its
    // whole leg is `already_running`.
    let mut running = [None; 10];
    running[9] = Some(500);
    assert_eq!(stages(&rt.response), running);
    assert_eq!(
        (rt.response.waking_ns, rt.response.one_way_ns()),
        (None, 500)
    );
}

#[test]
fn a_send_without_a_matching_receive_is_counted_unmatched() {
    let (mut events, pair) = fixture("handbuilt_tcp_cross_core");
    // A second client send whose request never shows up at the server.
    events.push(Event {
        ts_ns: 9_000,
        cpu: 0,
        tid: 100,
        kind: EventKind::SysEnter {
            nr: 44,
            fd: crate::trace::events::UNKNOWN_FD,
        },
    });
    let tl = rebuild(&events, &pair);
    assert_eq!((tl.round_trips.len(), tl.unmatched), (1, 1));
}

#[test]
fn failed_receives_do_not_end_a_leg() {
    let (mut events, pair) = fixture("handbuilt_tcp_cross_core");
    // An EAGAIN read by the server before the real one must not be taken as the request's arrival.
    events.push(Event {
        ts_ns: 1_200,
        cpu: 1,
        tid: 200,
        kind: EventKind::SysExit { nr: 45, ret: -11 },
    });
    let tl = rebuild(&events, &pair);
    assert_eq!(tl.round_trips[0].request.recv_exit_ns, 5000);
}

#[test]
fn a_switch_in_that_was_not_traced_leaves_wake_to_return_only() {
    let (events, pair) = fixture("handbuilt_tcp_cross_core");
    // This VM's CPU 1 emits no tracepoints from its idle task: drop the server's idle exit and
    // switch-in, as recorded runs show.
    let seen: Vec<Event> = events
        .into_iter()
        .filter(|e| !(e.cpu == 1 && e.tid == 0))
        .collect();
    let rt = rebuild(&seen, &pair).round_trips[0];
    assert_eq!(
        stages(&rt.request),
        [
            Some(500),
            Some(500),
            Some(600),
            None,
            None,
            None,
            Some(3000),
            None,
            None,
            None
        ]
    );
    assert_eq!(rt.request.ipi, Some(true));
}

/// Lines of a recorded fixture's text containing every one of `words` (an independent count).
fn count_lines(name: &str, words: &[&str]) -> usize {
    let path = format!(
        "{}/tests/data/trace/timeline/{name}.events",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && words.iter().all(|w| l.contains(w)))
        .count()
}

/// Points of every leg come in path order wherever they are present.
fn assert_ordered(tl: &Timeline) {
    for leg in tl
        .round_trips
        .iter()
        .flat_map(|rt| [rt.request, rt.response])
    {
        let chain = [
            Some(leg.send_enter_ns),
            leg.softirq_entry_ns,
            leg.waking_ns,
            leg.idle_exit_ns,
            leg.on_cpu_ns,
            Some(leg.recv_exit_ns),
        ];
        let present: Vec<u64> = chain.into_iter().flatten().collect();
        assert!(present.windows(2).all(|w| w[0] <= w[1]), "{leg:?}");
        if let (Some(w), Some(x)) = (leg.waking_ns, leg.softirq_exit_ns) {
            assert!(w <= x, "{leg:?}");
        }
    }
}

fn median(tl: &Timeline, response: bool, stage: Stage) -> u64 {
    let mut v: Vec<u64> = tl
        .round_trips
        .iter()
        .filter_map(|rt| if response { rt.response } else { rt.request }.stage_ns(stage))
        .collect();
    v.sort_unstable();
    v[v.len() / 2]
}

#[test]
fn recorded_tcp_cross_core_attributes_every_wakeup_and_ipi() {
    let name = "tcp_cross_core";
    let (events, pair) = fixture(name);
    let tl = rebuild(&events, &pair);
    assert_eq!(
        (tl.round_trips.len(), tl.unmatched, tl.dropped_for_loss),
        (30, 0, 0)
    );
    assert_ordered(&tl);
    let (c, s) = (pair.client.tid, pair.server.tid);
    let legs = |f: &dyn Fn(&RoundTrip) -> bool| tl.round_trips.iter().filter(|rt| f(rt)).count();
    assert_eq!(
        legs(&|rt| rt.request.waking_ns.is_some()),
        count_lines(name, &["waking", &format!("pid={s} ")])
    );
    assert_eq!(
        legs(&|rt| rt.response.waking_ns.is_some()),
        count_lines(name, &["waking", &format!("pid={c} ")])
    );
    let ipis = tl
        .round_trips
        .iter()
        .flat_map(|rt| [rt.request.ipi, rt.response.ipi])
        .filter(|i| *i == Some(true));
    assert_eq!(ipis.count(), count_lines(name, &["ipi target_cpu"]));
    // The client's CPU 0 shows every switch-in and idle exit. The server's CPU 1 emits no
    // tracepoints from its idle task on this VM: its switch-ins appear only when it left
    // another task, never idle.
    assert_eq!(
        legs(&|rt| rt.response.on_cpu_ns.is_some() && rt.response.idle_exit_ns.is_some()),
        30
    );
    let server_switch_ins = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Switch { prev_pid, next_pid, .. } if next_pid == s && prev_pid != 0))
        .count();
    assert_eq!(
        legs(&|rt| rt.request.on_cpu_ns.is_some()),
        server_switch_ins
    );
    assert_eq!(
        count_lines(name, &[" 1 0 "]),
        0,
        "nothing recorded from CPU 1's idle task"
    );
    assert_eq!(legs(&|rt| rt.request.idle_exit_ns.is_some()), 0);
}

#[test]
fn recorded_cpu_dma_latency_zero_shrinks_wakeup_and_wake_issue_but_not_protocol() {
    let (normal, pair) = fixture("tcp_cross_core");
    let normal = rebuild(&normal, &pair);
    let (held, pair) = fixture("tcp_cross_core_dma0");
    let held = rebuild(&held, &pair);
    assert_eq!(held.round_trips.len(), 30);
    assert_ordered(&held);
    // Polling idle CPUs need no IPI to be woken.
    assert_eq!(count_lines("tcp_cross_core_dma0", &["ipi"]), 0);
    assert!(
        held.round_trips
            .iter()
            .all(|rt| rt.request.ipi == Some(false) && rt.response.ipi == Some(false))
    );
    for stage in [Stage::Wakeup, Stage::IdleExit, Stage::WakeIssue] {
        let (before, after) = (median(&normal, true, stage), median(&held, true, stage));
        assert!(
            after * 2 < before,
            "{}: {before} -> {after} ns",
            stage.name()
        );
    }
    let (before, after) = (
        median(&normal, true, Stage::Protocol),
        median(&held, true, Stage::Protocol),
    );
    assert!(
        after * 10 > before * 7 && after * 10 < before * 13,
        "protocol {before} -> {after} ns"
    );
}

#[test]
fn recorded_same_core_has_no_ipi_no_idle_and_some_receivers_not_woken() {
    let name = "tcp_same_core";
    let (events, pair) = fixture(name);
    let tl = rebuild(&events, &pair);
    assert_eq!((tl.round_trips.len(), tl.unmatched), (30, 0));
    assert_ordered(&tl);
    let legs: Vec<Leg> = tl
        .round_trips
        .iter()
        .flat_map(|rt| [rt.request, rt.response])
        .collect();
    assert!(
        legs.iter()
            .all(|l| l.ipi.is_none() && l.idle_exit_ns.is_none())
    );
    let woken = legs.iter().filter(|l| l.waking_ns.is_some()).count();
    assert_eq!(woken, count_lines(name, &["waking"]));
    // A receiver preempted by the sender's wake-up is runnable, not asleep, when the next message
    // lands: no waking, so no protocol/wake stages for that leg (they are absent, not zero).
    assert!(woken < legs.len());
    assert!(
        legs.iter()
            .filter(|l| l.waking_ns.is_none())
            .all(|l| l.stage_ns(Stage::Protocol).is_none())
    );
}

#[test]
fn recorded_unix_stream_has_no_softirq_stages() {
    let name = "unix_cross_core";
    let (events, pair) = fixture(name);
    let tl = rebuild(&events, &pair);
    assert_eq!((tl.round_trips.len(), tl.unmatched), (30, 0));
    assert_ordered(&tl);
    assert_eq!(count_lines(name, &["softirq"]), 0);
    let legs: Vec<Leg> = tl
        .round_trips
        .iter()
        .flat_map(|rt| [rt.request, rt.response])
        .collect();
    for leg in &legs {
        for stage in [Stage::Protocol, Stage::WakeIssue] {
            assert_eq!(leg.stage_ns(stage), None);
        }
        // The send wakes the reader itself: send_syscall ends at the waking, when there is one.
        assert_eq!(
            leg.stage_ns(Stage::SendSyscall),
            leg.waking_ns.map(|w| w - leg.send_enter_ns)
        );
        if leg.waking_ns.is_none() {
            assert_eq!(
                leg.stage_ns(Stage::WaitForCpu),
                leg.on_cpu_ns.map(|o| o - leg.send_enter_ns)
            );
        }
        if let Some(early) = leg.early_waking_ns {
            assert!(
                early < leg.send_enter_ns && leg.waking_ns.is_none(),
                "{leg:?}"
            );
        }
    }
    // The reader is mostly woken before the data is sent: the peer's receive frees write space
    // on the reader's socket, whose wait queue it sleeps on.
    let early = legs.iter().filter(|l| l.early_waking_ns.is_some()).count();
    let woken = legs.iter().filter(|l| l.waking_ns.is_some()).count();
    assert!(early > woken, "early {early}, woken in the leg {woken}");
}

#[test]
fn recorded_events_drained_per_cpu_with_a_loss_keep_every_other_round_trip() {
    let (events, pair) = fixture("tcp_cross_core");
    let whole = rebuild(&events, &pair);
    // What the tracer hands over: CPU 1's buffer first, then CPU 0's, and a loss on CPU 1 in the
    // middle of the 11th round trip (from its request's waking to its response's send).
    let rt = whole.round_trips[10];
    let mut drained: Vec<Event> = events.iter().filter(|e| e.cpu == 1).copied().collect();
    drained.push(Event {
        ts_ns: rt.request.waking_ns.unwrap(),
        cpu: 1,
        tid: 0,
        kind: EventKind::Lost {
            count: 4,
            until_ns: rt.response.send_enter_ns,
        },
    });
    drained.extend(events.iter().filter(|e| e.cpu == 0));
    let tl = rebuild(&drained, &pair);
    assert_eq!(
        (tl.round_trips.len(), tl.dropped_for_loss, tl.lost_events),
        (29, 1, 4)
    );
    let mut kept = whole.round_trips.clone();
    kept.remove(10);
    assert_eq!(tl.round_trips, kept);
}

#[test]
fn reads_on_other_descriptors_are_not_taken_for_the_request() {
    let (events, pair) = fixture("handbuilt_tcp_cross_core");
    // The client's syscalls are on fd 3, the server's on fd 4; between receiving the request
    // and answering, the server reads a /proc file (fd 9).
    let mut events: Vec<Event> = events
        .into_iter()
        .map(|mut e| {
            if let EventKind::SysEnter { nr, .. } = e.kind {
                let fd = if e.tid == pair.client.tid { 3 } else { 4 };
                e.kind = EventKind::SysEnter { nr, fd };
            }
            e
        })
        .collect();
    let proc_read = [
        (5_050, EventKind::SysEnter { nr: 0, fd: 9 }),
        (5_100, EventKind::SysExit { nr: 0, ret: 300 }),
    ];
    events.extend(proc_read.map(|(ts_ns, kind)| Event {
        ts_ns,
        cpu: 1,
        tid: pair.server.tid,
        kind,
    }));
    let any_fd = rebuild(&events, &pair);
    assert_eq!(any_fd.round_trips[0].request.recv_exit_ns, 5_100, "taken");
    let by_fd_pair = pair.clone().with_fds(vec![3], vec![4]);
    let header = by_fd_pair.fixture_header();
    assert_eq!(
        Pair::from_fixture_header(&header).map(|p| (p.client_fds, p.server_fds)),
        Some((vec![3], vec![4]))
    );
    let by_fd = rebuild(&events, &by_fd_pair);
    let without_proc_read = rebuild(&events[..events.len() - 2], &pair);
    assert_eq!(by_fd.round_trips, without_proc_read.round_trips);
    assert_eq!(by_fd.round_trips[0].request.recv_exit_ns, 5_000);
}

#[test]
fn a_message_of_several_segments_ends_at_its_last_read_and_counts_its_softirqs_and_wakeups() {
    let (events, pair) = fixture("handbuilt_tcp_segments");
    let tl = rebuild(&events, &pair);
    assert_eq!((tl.round_trips.len(), tl.unmatched), (1, 0));
    let rt = tl.round_trips[0];
    assert_eq!(rt.seq, 1);
    let req = rt.request;
    assert_eq!((req.recv_exit_ns, req.one_way_ns()), (2_600, 1_600));
    // The first segment's stages, as for a small message.
    assert_eq!(
        stages(&req)[..4],
        [Some(100), Some(100), Some(100), Some(500)]
    );
    let want = LegTotals {
        send_exit_ns: Some(2_400),
        softirqs: 3,
        softirq_ns: 200 + 200 + 300,
        wakings: 2,
    };
    assert_eq!(req.totals, want);
    assert_eq!(req.totals.send_call_ns(req.send_enter_ns), Some(1_400));
    let resp = rt.response.totals;
    assert_eq!((resp.softirqs, resp.softirq_ns, resp.wakings), (1, 100, 1));
    assert_eq!(rt.server_turnaround_ns(), 100);
}

/// Checks that `leg`'s path stages partition its one-way path: the first starts at the send's
/// entry, each starts where the one before ended, the last ends at the receive's return, no
/// parallel stage is among them, and each agrees with [`Leg::stage_ns`]. Returns their sum.
fn assert_partition(leg: &Leg) -> u64 {
    let path = leg.path();
    let mut at = leg.send_enter_ns;
    for &(stage, from, to) in &path {
        assert_eq!(
            from, at,
            "{stage:?} does not start where the stage before ended: {leg:?}"
        );
        assert!(from <= to, "{stage:?} ends before it starts: {leg:?}");
        assert_eq!(stage.parallel_to(), None, "{stage:?} is parallel: {leg:?}");
        assert_eq!(leg.stage_ns(stage), Some(to - from));
        at = to;
    }
    assert_eq!(at, leg.recv_exit_ns, "the path stops short: {leg:?}");
    let sum: u64 = path.iter().map(|(_, from, to)| to - from).sum();
    assert_eq!(sum, leg.one_way_ns());
    // Every path stage the leg does not take is absent, not zero.
    for stage in Stage::ALL.into_iter().filter(|s| s.parallel_to().is_none()) {
        if !path.iter().any(|(s, _, _)| *s == stage) {
            assert_eq!(leg.stage_ns(stage), None, "{stage:?}: {leg:?}");
        }
    }
    sum
}

/// How many legs of `tl` took each path stage, in [`Stage::ALL`] order (parallel stages 0).
fn path_counts(tl: &Timeline) -> Vec<usize> {
    let legs: Vec<&Leg> = tl
        .round_trips
        .iter()
        .flat_map(|rt| [&rt.request, &rt.response])
        .collect();
    Stage::ALL
        .iter()
        .map(|&s| {
            legs.iter()
                .filter(|l| l.path().iter().any(|(p, _, _)| *p == s))
                .count()
        })
        .collect()
}

#[test]
fn every_recorded_leg_is_partitioned_by_its_path_stages_and_they_add_up_to_the_round_trip() {
    for name in [
        "tcp_cross_core",
        "tcp_cross_core_dma0",
        "tcp_same_core",
        "unix_cross_core",
        "unix_stream_cross_core_partition",
        "unix_stream_same_core_partition",
        "handbuilt_tcp_cross_core",
        "handbuilt_tcp_same_core",
        "handbuilt_unix_cross_core",
        "handbuilt_tcp_segments",
    ] {
        let (events, pair) = fixture(name);
        let tl = rebuild(&events, &pair);
        assert!(!tl.round_trips.is_empty(), "{name}");
        for rt in &tl.round_trips {
            let sum = assert_partition(&rt.request)
                + rt.server_turnaround_ns()
                + assert_partition(&rt.response);
            assert_eq!(sum, rt.rtt_ns(), "{name} round trip {}", rt.seq);
        }
    }
}

#[test]
fn recorded_unix_stream_cross_core_takes_three_paths_without_overlap() {
    // Unix sockets have no softirq: the send wakes the reader itself, and the reader's peer
    // frees write space when it reads, which wakes the reader early (before the data is sent).
    let name = "unix_stream_cross_core_partition";
    let (events, pair) = fixture(name);
    let tl = rebuild(&events, &pair);
    assert_eq!(
        (tl.round_trips.len(), tl.unmatched, tl.lost_events),
        (40, 0, 0)
    );
    assert_ordered(&tl);
    // The NET_RX softirqs recorded on the client's CPU are other tasks' (the harness's own
    // threads), not in a worker's send: no leg takes them.
    assert!(count_lines(name, &["softirq_entry"]) > 0);
    let counts = path_counts(&tl);
    let at = |s: Stage| counts[Stage::ALL.iter().position(|&x| x == s).unwrap()];
    // Every leg is one of: woken by the send (send_syscall, then wakeup + recv_return or
    // wake_to_return), runnable and waiting for its CPU (wait_for_cpu + recv_return), or on
    // its CPU throughout (already_running).
    assert_eq!(at(Stage::Protocol), 0);
    assert_eq!(
        at(Stage::SendSyscall),
        at(Stage::Wakeup) + at(Stage::WakeToReturn)
    );
    assert_eq!(
        at(Stage::SendSyscall) + at(Stage::WaitForCpu) + at(Stage::AlreadyRunning),
        80
    );
    assert!(
        at(Stage::WaitForCpu) > 0 && at(Stage::AlreadyRunning) > 0,
        "{counts:?}"
    );
    assert_eq!(
        at(Stage::RecvReturn),
        at(Stage::Wakeup) + at(Stage::WaitForCpu)
    );
    // The wake-up issued by the send runs on the sender's CPU while the send returns: there is
    // no softirq to end, so wake_issue is absent on every leg, never zero.
    for rt in &tl.round_trips {
        for leg in [rt.request, rt.response] {
            assert_eq!(leg.stage_ns(Stage::WakeIssue), None);
        }
    }
}

#[test]
fn recorded_unix_stream_same_core_has_no_ipi_and_its_paths_add_up() {
    let name = "unix_stream_same_core_partition";
    let (events, pair) = fixture(name);
    let tl = rebuild(&events, &pair);
    assert_eq!(
        (tl.round_trips.len(), tl.unmatched, tl.lost_events),
        (40, 0, 0)
    );
    assert_ordered(&tl);
    let counts = path_counts(&tl);
    let at = |s: Stage| counts[Stage::ALL.iter().position(|&x| x == s).unwrap()];
    // One CPU: no IPI, no idle exit, no softirq; the reader runs when the writer blocks.
    for rt in &tl.round_trips {
        for leg in [rt.request, rt.response] {
            assert_eq!((leg.ipi, leg.idle_exit_ns), (None, None), "{leg:?}");
            assert_eq!(leg.stage_ns(Stage::IdleExit), None);
        }
    }
    assert_eq!(at(Stage::Protocol), 0);
    let paths = at(Stage::SendSyscall) + at(Stage::WaitForCpu) + at(Stage::AlreadyRunning);
    assert_eq!(paths, 80, "{counts:?}");
}

#[test]
fn a_receiver_not_woken_waits_from_the_softirq_not_from_the_send() {
    // Same core, tcp: the server was preempted (runnable) when the client's send ran the
    // softirq, so no waking; its wait for the CPU starts where send_syscall ends.
    let (events, pair) = fixture("handbuilt_tcp_same_core");
    let events: Vec<Event> = events
        .into_iter()
        .filter(|e| !(e.ts_ns == 1800 && matches!(e.kind, EventKind::Waking { .. })))
        .collect();
    let rt = rebuild(&events, &pair).round_trips[0];
    let path: Vec<(Stage, u64)> = rt
        .request
        .path()
        .iter()
        .map(|&(s, from, to)| (s, to - from))
        .collect();
    assert_eq!(
        path,
        [
            (Stage::SendSyscall, 400),
            (Stage::WaitForCpu, 1200),
            (Stage::RecvReturn, 400)
        ]
    );
    assert_eq!(rt.request.stage_ns(Stage::Protocol), None);
}

#[test]
fn a_switch_in_during_the_senders_softirq_is_not_cut_at() {
    // Not woken, and switched in (at 1200) before the softirq entry (1400) the send ran: the
    // path never goes backwards; the leg is send_syscall then already_running.
    let (events, pair) = fixture("handbuilt_tcp_same_core");
    let mut events: Vec<Event> = events
        .into_iter()
        .filter(|e| !(e.ts_ns == 1800 && matches!(e.kind, EventKind::Waking { .. })))
        .collect();
    for e in events.iter_mut().filter(|e| e.ts_ns == 2600) {
        e.ts_ns = 1200;
    }
    let rt = rebuild(&events, &pair).round_trips[0];
    assert_eq!(rt.request.on_cpu_ns, Some(1200));
    let sum = assert_partition(&rt.request);
    assert_eq!(
        rt.request.path().iter().map(|p| p.0).collect::<Vec<_>>(),
        [Stage::SendSyscall, Stage::AlreadyRunning]
    );
    assert_eq!(sum, 2000);
}
