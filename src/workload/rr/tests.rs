use super::*;
use crate::metrics::clock::{Clock, MonotonicClock};
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
        flow: 0,
        stamps: None,
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

/// A clock that moves 10 ns forward at every read, shared by both sides: the stamps of a flow
/// driven on one thread are then known exactly.
#[derive(Clone, Default)]
struct Ticking(Arc<std::sync::atomic::AtomicU64>);

impl Clock for Ticking {
    fn now_ns(&self) -> u64 {
        self.0.fetch_add(10, Ordering::SeqCst)
    }
}

#[test]
fn stages_stamp_each_side_at_its_calls_and_returns() {
    use crate::metrics::stamps::{ClientStamps, ServerStamps, StampLog};
    let spec = Spec::new(Transport::UnixStream);
    let (mut c, mut s) = connector(&spec).unwrap().pair().unwrap();
    c.set_nonblocking(true).unwrap();
    s.set_nonblocking(true).unwrap();
    let clock = Ticking::default();
    let env = ClientEnv {
        clock: clock.clone(),
        length: IterationLength::Count { messages: 1 },
        heartbeat: Heartbeat::default(),
        flow: 0,
        stamps: Some(StampLog::with_capacity(4)),
    };
    let mut client = RrClient::new(&spec, env);
    let mut server = RrServer::new(&spec, clock).stamped(0, Some(StampLog::with_capacity(4)));
    // Client: reads 0 (start, send call), 10 (send returned), 20 (would block: stall check).
    assert_eq!(client.progress(&mut c).unwrap(), Wait::Read);
    // Server: 30 (received), 40 (send call), 50 (send returned).
    assert_eq!(server.progress(&mut s).unwrap(), Wait::Read);
    // Client: 60 (received), 70 (iteration over).
    assert_eq!(client.progress(&mut c).unwrap(), Wait::Done);
    let (client, server) = (Box::new(client).report(), Box::new(server).report());
    assert_eq!(client.latency.unwrap().max(), 60);
    assert_eq!(
        client.client_stamps.unwrap().entries(),
        [ClientStamps {
            start: 0,
            send_call: 0,
            send_return: 10,
            recv_return: 60
        }]
    );
    assert_eq!(
        server.server_stamps.unwrap().entries(),
        [ServerStamps {
            seq: 1,
            flow: 0,
            handler_ns: 0,
            recv_return: 30,
            send_call: 40,
            send_return: 50
        }]
    );
}

#[test]
fn a_stamped_datagram_flow_joins_by_sequence_number_and_counts_its_losses() {
    use crate::metrics::stamps::StampLog;
    use crate::run::worker::stages::{Logs, join};
    let mut spec = Spec::new(Transport::Udp4);
    spec.instrument.stages = true;
    spec.server_drop_every = 10;
    spec.timing.loss_timeout_ns = 30_000_000;
    let (mut c, mut s) = connector(&spec).unwrap().pair().unwrap();
    let mut server =
        RrServer::new(&spec, MonotonicClock).stamped(0, Some(StampLog::with_capacity(100)));
    let tick = std::time::Duration::from_millis(5);
    let client_done = Arc::new(AtomicBool::new(false));
    let done = client_done.clone();
    let t = std::thread::spawn(move || {
        s.set_wait_tick(tick).unwrap();
        while server.progress(&mut s).unwrap() != Wait::Done && !done.load(Ordering::SeqCst) {}
        Box::new(server).report()
    });
    let env = ClientEnv {
        clock: MonotonicClock,
        length: IterationLength::Count { messages: 100 },
        heartbeat: Heartbeat::default(),
        flow: 0,
        stamps: Some(StampLog::with_capacity(100)),
    };
    let mut client = RrClient::new(&spec, env);
    c.set_wait_tick(tick).unwrap();
    while client.progress(&mut c).unwrap() != Wait::Done {}
    client_done.store(true, Ordering::SeqCst);
    let (client, server) = (Box::new(client).report(), t.join().unwrap());
    let latency = client.latency.unwrap();
    let logs = Logs {
        clients: vec![client.client_stamps],
        servers: server.server_stamps.into_iter().collect(),
    };
    let out = join(&spec, logs, &latency, (None, None));
    // Requests 10, 20, ..., 100 are dropped on purpose: their responses never come.
    let cov = out.coverage;
    assert_eq!(cov.matched, latency.len(), "{cov:?}");
    assert_eq!(cov.lost_responses, client.counters.lost, "{cov:?}");
    assert_eq!(cov.matched + cov.lost_responses, 100, "{cov:?}");
    assert_eq!((cov.lost_requests, cov.beyond_capacity), (0, 0));
    let total: u64 = out.set.stages.iter().map(|s| s.histogram.len()).sum();
    assert_eq!(
        total,
        5 * cov.matched,
        "every matched message has its five stages"
    );
}

#[test]
fn a_server_delay_is_all_in_the_turnaround() {
    use crate::metrics::stamps::StampLog;
    let mut spec = Spec::new(Transport::UnixStream);
    spec.server_delay_ns = 20_000;
    let (mut c, mut s) = connector(&spec).unwrap().pair().unwrap();
    let mut server =
        RrServer::new(&spec, MonotonicClock).stamped(0, Some(StampLog::with_capacity(200)));
    let t = std::thread::spawn(move || {
        while server.progress(&mut s).unwrap() != Wait::Done {}
        Box::new(server).report()
    });
    let env = ClientEnv {
        clock: MonotonicClock,
        length: IterationLength::Count { messages: 200 },
        heartbeat: Heartbeat::default(),
        flow: 0,
        stamps: None,
    };
    let mut client = RrClient::new(&spec, env);
    while client.progress(&mut c).unwrap() != Wait::Done {}
    drop(c);
    let server = t.join().unwrap();
    // The busy wait sits between the receive's stamp and the send call's: every turnaround
    // holds the whole delay, whatever the machine does meanwhile.
    let stamps = server.server_stamps.unwrap();
    assert_eq!(stamps.entries().len(), 200);
    for e in stamps.entries() {
        assert!(e.send_call - e.recv_return >= 20_000, "{e:?}");
    }
}
