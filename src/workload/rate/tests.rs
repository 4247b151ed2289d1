use std::sync::Arc;

use super::*;
use crate::metrics::clock::MockClock;
use crate::spec::Transport;
use crate::transport::connector;

/// The mock clock, shared between the test (which moves it) and the client.
#[derive(Clone)]
struct Shared(Arc<MockClock>);

impl Clock for Shared {
    fn now_ns(&self) -> u64 {
        self.0.now_ns()
    }
}

const MS: u64 = 1_000_000;

/// Runs a rate client against a server played by the test on one thread, on mock time in 1 ms
/// steps. The server answers every request at once, except that it holds every answer while
/// the mock time is within `stall` and sends them all when the stall ends.
fn run_with_stall(max_in_flight: u32, stall: std::ops::Range<u64>) -> RateClient<Shared> {
    run_at(
        1000,
        max_in_flight,
        IterationLength::Count { messages: 200 },
        stall,
    )
}

/// [`run_with_stall`] at `rate` requests per second for `length`.
fn run_at(
    rate: u64,
    max_in_flight: u32,
    length: IterationLength,
    stall: std::ops::Range<u64>,
) -> RateClient<Shared> {
    let mut spec = Spec::new(Transport::UnixStream);
    spec.workload = crate::spec::Workload::Rate;
    spec.rate.rate_per_sec = rate;
    spec.rate.max_in_flight = max_in_flight;
    let (mut c, mut s) = connector(&spec).unwrap().pair().unwrap();
    c.set_nonblocking(true).unwrap();
    s.set_nonblocking(true).unwrap();
    let clock = Arc::new(MockClock::new(1_000 * MS));
    let env = ClientEnv {
        clock: Shared(clock.clone()),
        length,
        heartbeat: Heartbeat::default(),
        flow: 0,
        stamps: None,
    };
    let mut client = RateClient::new(&spec, env);
    let mut held = 0usize;
    let mut buf = [0u8; 64];
    for step in 0..1000u64 {
        clock.set(1_000 * MS + step * MS);
        // Exchange until nothing moves at this instant.
        loop {
            if client.progress(&mut c).unwrap() == Wait::Done {
                return client;
            }
            let mut got = 0;
            while let Ok(64) = s.read(&mut buf) {
                got += 1;
            }
            held += got;
            if stall.contains(&(step * MS)) || held == 0 {
                if got == 0 {
                    break;
                }
                continue;
            }
            for _ in 0..held {
                assert_eq!(s.write(&[0xa5; 64]).unwrap(), 64);
            }
            held = 0;
        }
    }
    panic!("the client did not finish in 1000 mock milliseconds");
}

fn at_least(h: &LatencyHistogram, ns: u64) -> u64 {
    h.iter_recorded()
        .filter(|v| v.value_iterated_to() >= ns)
        .map(|v| v.count_at_value())
        .sum()
}

#[test]
fn the_corrected_histogram_contains_a_server_stall_and_the_actual_one_does_not() {
    // One request in flight (a closed-loop connection, like wrk's): during the 50 ms stall the
    // sender cannot send, so requests 51..100 go out late, all at once when the stall ends.
    let client = run_with_stall(1, 50 * MS..100 * MS);
    let report = Box::new(client).report();
    let corrected = report.latency.unwrap();
    let actual = report.latency_actual.unwrap();
    let stats = report.schedule.unwrap();
    assert_eq!((stats.sent, stats.completed), (200, 200));
    assert_eq!(corrected.len(), 200);
    assert_eq!(actual.len(), 200);
    // Corrected: every request intended during the stall waited for its end (50 ms .. 1 ms).
    assert!(
        at_least(&corrected, 10 * MS) >= 40,
        "{}",
        at_least(&corrected, 10 * MS)
    );
    assert!(corrected.max() >= 49 * MS, "{}", corrected.max());
    assert!(corrected.value_at_quantile(0.9) >= 10 * MS);
    // Actual: only the one request in flight when the stall began saw it.
    assert_eq!(at_least(&actual, MS), 1);
    assert!(actual.value_at_quantile(0.99) < MS);
    assert!(stats.window_full >= 1);
    assert!(stats.max_send_lag_ns >= 49 * MS);
}

#[test]
fn without_a_stall_both_histograms_agree_and_the_schedule_is_kept() {
    let client = run_with_stall(1, 0..0);
    let report = Box::new(client).report();
    let stats = report.schedule.unwrap();
    assert_eq!((stats.sent, stats.completed, stats.lost), (200, 200, 0));
    assert_eq!(stats.max_send_lag_ns, 0);
    assert_eq!(
        report.latency.unwrap().max(),
        report.latency_actual.unwrap().max()
    );
    // 200 requests at 1000/s: the last is intended 199 ms after the first.
    assert_eq!(stats.span_ns, 199 * MS);
}

#[test]
fn the_schedule_is_exact_in_integer_nanoseconds() {
    let mut spec = Spec::new(Transport::UnixStream);
    spec.rate.rate_per_sec = 3;
    let env = ClientEnv {
        clock: Shared(Arc::new(MockClock::new(0))),
        length: IterationLength::Count { messages: 4 },
        heartbeat: Heartbeat::default(),
        flow: 0,
        stamps: None,
    };
    let c = RateClient::new(&spec, env);
    assert_eq!(c.intended_ns(7, 1), 7);
    assert_eq!(c.intended_ns(7, 2), 7 + 333_333_333);
    assert_eq!(c.intended_ns(7, 4), 7 + 1_000_000_000);
}

#[test]
fn an_unreachable_rate_ends_on_time_and_is_not_sustained() {
    // Ten million requests per second against a server that answers one request per mock
    // millisecond: about a hundred complete in the 100 ms iteration, which stops sending at its
    // end instead of working through the million requests it was meant to send.
    let mut spec = Spec::new(Transport::UnixStream);
    spec.workload = crate::spec::Workload::Rate;
    spec.rate.rate_per_sec = 10_000_000;
    spec.rate.max_in_flight = 64;
    let (mut c, mut s) = connector(&spec).unwrap().pair().unwrap();
    c.set_nonblocking(true).unwrap();
    s.set_nonblocking(true).unwrap();
    let clock = Arc::new(MockClock::new(1_000 * MS));
    let env = ClientEnv {
        clock: Shared(clock.clone()),
        length: IterationLength::Duration {
            duration_ns: 100 * MS,
        },
        heartbeat: Heartbeat::default(),
        flow: 0,
        stamps: None,
    };
    let mut client = RateClient::new(&spec, env);
    let mut buf = [0u8; 64];
    let mut step = 0u64;
    while client.progress(&mut c).unwrap() != Wait::Done {
        assert!(
            step < 1000,
            "the client did not stop in 1000 mock milliseconds"
        );
        if s.read(&mut buf).is_ok() {
            assert_eq!(s.write(&[0xa5; 64]).unwrap(), 64);
        }
        step += 1;
        clock.set(1_000 * MS + step * MS);
    }
    let report = Box::new(client).report();
    let stats = report.schedule.unwrap();
    assert!(step <= 100 + 64 + 2, "ended at mock {step} ms");
    assert!(
        stats.sent <= 100 + 64 && stats.completed <= stats.sent,
        "sent {} requests, completed {}",
        stats.sent,
        stats.completed
    );
    let record = crate::store::optional::RateRecord::of(&stats);
    assert!(!record.sustained);
    assert!(
        record.achieved_per_sec < 2000.0,
        "{}",
        record.achieved_per_sec
    );
}
