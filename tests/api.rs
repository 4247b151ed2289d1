//! The library as an outside crate uses it: only public items, no access to internals.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use loopbench::framing::LengthPrefix;
use loopbench::pair::Pair;
use loopbench::session::Run;
use loopbench::spec::{Placement, Spec, Transport};

/// A tiny length-prefixed protocol: the handler answers `len:u32be body` with the body reversed,
/// under the same kind of prefix, and counts what it served.
type BoxedHandler = Box<dyn FnMut(&[u8], &mut Vec<u8>) + Send>;

fn reverse_handler(served: Arc<AtomicU64>) -> impl Fn() -> BoxedHandler {
    move || {
        let served = served.clone();
        Box::new(move |request: &[u8], response: &mut Vec<u8>| {
            served.fetch_add(1, Ordering::Relaxed);
            response.extend_from_slice(&request[..4]);
            response.extend(request[4..].iter().rev());
        })
    }
}

#[test]
fn a_custom_handler_answers_every_round_trip_over_two_transports() {
    let served = Arc::new(AtomicU64::new(0));
    let specs: Vec<Spec> = [Transport::Tcp4, Transport::UnixStream]
        .into_iter()
        .map(|t| {
            let make = reverse_handler(served.clone());
            Spec::builder(t)
                .placement(Placement::Unpinned)
                .length_prefix(LengthPrefix::U32_BE)
                .handler("reverse", move || make())
                .size(64)
                .iterations(2)
                .count(300)
                .warmup(Duration::ZERO)
                .build()
                .expect("a valid spec")
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let result = Run::new(specs)
        .seed(1)
        .results_dir(dir.path())
        .execute()
        .expect("the run");
    assert!(
        !result.has_errors(),
        "{:?}",
        result
            .record
            .cases
            .iter()
            .map(|c| &c.errors)
            .collect::<Vec<_>>()
    );
    let mut total = 0;
    for (case, histograms) in result.cases() {
        let summary = case.summary.as_ref().expect("measured");
        assert_eq!(histograms.merged.len(), 600, "{}", case.case_id);
        assert_eq!(summary.latency.count, 600, "{}", case.case_id);
        assert_eq!(histograms.iterations.len(), 2);
        assert!(histograms.iterations.iter().all(|h| h.len() == 300));
        assert_eq!(
            summary.server.counters.messages, 600,
            "the handler's server answered each"
        );
        total += histograms.merged.len();
        assert!(
            case.case_id
                .as_str()
                .ends_with("-prefixu32be-handler-reverse"),
            "{}",
            case.case_id
        );
    }
    assert_eq!(
        served.load(Ordering::Relaxed),
        total,
        "the handler ran once per round trip"
    );
    // Stored exactly like the command line stores runs.
    let run_dir = result.dir.expect("stored");
    let back = loopbench::store::load_run(&run_dir).unwrap();
    assert_eq!(back.cases.len(), 2);
    assert!(run_dir.join("cases").read_dir().unwrap().count() == 2);
}

#[test]
fn a_pair_drives_round_trips_through_a_handler() {
    let spec = Spec::builder(Transport::UnixStream)
        .placement(Placement::Unpinned)
        .handler("echo", loopbench::handler::echo)
        .size(32)
        .build()
        .unwrap();
    let mut pair = Pair::start(&spec).unwrap();
    let batch = pair.round_trips(500).unwrap();
    assert_eq!(batch.latency.len(), 500);
    assert_eq!(batch.counters.messages, 500);
    assert!(batch.elapsed > Duration::ZERO);
}

/// A crr case against a service of the test's own: every connection must carry the request the
/// user gave, not `size` bytes of filler, and responses are framed by the delimiter given.
#[test]
fn crr_against_a_service_sends_the_users_request() {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicBool;

    use loopbench::framing::MessageFraming;
    use loopbench::spec::Workload;

    const REQUEST: &[u8] = b"GET /kv/1 HTTP/1.1\r\nHost: x\r\n\r\n";
    const RESPONSE: &[u8] = b"HTTP/1.1 204 No Content\r\n\r\n";
    const TRANSACTIONS: u64 = 50;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    // One connection at a time (one flow): read the request (its length is known), answer,
    // wait for the client's close. Bounded by `stop` and a 30 s deadline.
    let server = {
        let (received, stop) = (received.clone(), stop.clone());
        std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while !stop.load(Ordering::Relaxed) && std::time::Instant::now() < deadline {
                let mut conn = match listener.accept() {
                    Ok((c, _)) => c,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(1));
                        continue;
                    }
                };
                conn.set_nonblocking(false).unwrap();
                conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut request = vec![0; REQUEST.len()];
                if conn.read_exact(&mut request).is_err() {
                    continue;
                }
                received.lock().unwrap().push(request);
                if conn.write_all(RESPONSE).is_err() {
                    continue;
                }
                let mut rest = Vec::new();
                let _ = conn.read_to_end(&mut rest);
            }
        })
    };
    let spec = Spec::builder(Transport::Tcp4)
        .workload(Workload::Crr)
        .placement(Placement::Unpinned)
        .connect(&format!("127.0.0.1:{port}"))
        .framing(MessageFraming {
            request: Some(REQUEST.to_vec()),
            response_delimiter: Some(b"\r\n\r\n".to_vec()),
            length_prefix: None,
            ..MessageFraming::default()
        })
        .iterations(1)
        .count(TRANSACTIONS)
        .warmup(Duration::ZERO)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("crr takes a request against a service");
    let dir = tempfile::tempdir().unwrap();
    let result = Run::new(vec![spec])
        .seed(1)
        .results_dir(dir.path())
        .execute();
    stop.store(true, Ordering::Relaxed);
    server.join().unwrap();
    let result = result.expect("the run");
    let errors: Vec<_> = result.record.cases.iter().map(|c| &c.errors).collect();
    assert!(!result.has_errors(), "{errors:?}");
    let (case, histograms) = result.cases().next().expect("one case");
    assert_eq!(histograms.merged.len(), TRANSACTIONS, "{}", case.case_id);
    let received = received.lock().unwrap();
    assert!(received.len() as u64 >= TRANSACTIONS, "{}", received.len());
    assert!(
        received.iter().all(|r| r == REQUEST),
        "the service got {:?}",
        String::from_utf8_lossy(&received[0])
    );
}
