use super::*;
use crate::metrics::clock::MonotonicClock;
use crate::spec::IterationLength;
use crate::spec::Transport;
use crate::transport::connector;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Runs one client and one server flow over `spec` on two threads, blocking with a 5 ms tick.
fn run_pair(spec: &Spec, messages: u64) -> (FlowReport, FlowReport) {
    let (mut c, mut s) = connector(spec).unwrap().pair().unwrap();
    let mut server = RrServer::new(spec, MonotonicClock);
    let client_done = Arc::new(AtomicBool::new(false));
    let done = client_done.clone();
    let tick = std::time::Duration::from_millis(5);
    let t = std::thread::spawn(move || {
        s.set_wait_tick(tick).unwrap();
        // A datagram server never sees end-of-stream: it stops at the first idle tick after
        // the client is done.
        while server.progress(&mut s).unwrap() != Wait::Done && !done.load(Ordering::SeqCst) {}
        Box::new(server).report()
    });
    let env = ClientEnv {
        clock: MonotonicClock,
        length: IterationLength::Count { messages },
        heartbeat: Heartbeat::default(),
    };
    let mut client = RrClient::new(spec, env);
    c.set_wait_tick(tick).unwrap();
    while client.progress(&mut c).unwrap() != Wait::Done {}
    client_done.store(true, Ordering::SeqCst);
    drop(c);
    (Box::new(client).report(), t.join().unwrap())
}

#[test]
fn stream_rr_counts_every_round_trip() {
    let mut spec = Spec::new(Transport::Tcp4);
    spec.size = 100;
    spec.response_size = 3000;
    let (client, server) = run_pair(&spec, 500);
    assert_eq!(client.counters.messages, 500);
    assert_eq!(client.latency.unwrap().len(), 500);
    assert_eq!(client.counters.bytes_received, 500 * 3000);
    assert_eq!(server.counters.messages, 500);
    assert_eq!(server.counters.bytes_received, 500 * 100);
}

#[test]
fn datagram_losses_are_counted_exactly_and_never_hang() {
    let mut spec = Spec::new(Transport::Udp4);
    spec.server_drop_every = 10;
    spec.timing.loss_timeout_ns = 30_000_000;
    let (client, server) = run_pair(&spec, 200);
    // Requests 10, 20, ..., 200 are dropped by the server: 20 of 200. On a loaded machine an
    // answer may also come after the loss timeout: it is counted lost, then late.
    let c = client.counters;
    assert_eq!(c.lost - c.late, 20, "{c:?}");
    assert_eq!(c.messages + c.lost, 200, "{c:?}");
    assert_eq!(client.latency.unwrap().len(), c.messages);
    assert_eq!(server.counters.dropped_on_purpose, 20);
    assert_eq!(server.counters.lost, 0, "no request was lost on the way");
}
