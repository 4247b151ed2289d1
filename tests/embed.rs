//! The library's own errors, deadlines and pinning, as an outside crate sees them: a closure
//! failing with the caller's error type, a run against a service that never answers ended by its
//! deadline, and cross-core pairs started one after another from one thread.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use loopbench::custom::{CustomPair, Recorder};
use loopbench::session::Run;
use loopbench::spec::{Placement, Spec, Transport};

/// An error type of the user's own.
#[derive(Debug, PartialEq)]
struct BadRequest(u8);

impl std::fmt::Display for BadRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad request byte {}", self.0)
    }
}

impl std::error::Error for BadRequest {}

#[test]
fn closures_fail_with_the_users_own_error_type() {
    let spec = Spec::builder(Transport::UnixStream)
        .placement(Placement::Unpinned)
        .build()
        .unwrap();
    // The server answers bytes below 100 and fails with its own error on the first other.
    let mut pair = CustomPair::start(&spec, |mut conn| -> Result<(), BadRequest> {
        let mut b = [0u8; 1];
        while conn.read_exact(&mut b).is_ok() {
            if b[0] >= 100 {
                return Err(BadRequest(b[0]));
            }
            conn.write_all(&b).map_err(|_| BadRequest(0))?;
        }
        Ok(())
    })
    .unwrap();
    let client = pair
        .run_client(|conn| -> Result<u32, BadRequest> {
            let mut answered = 0;
            for byte in [1u8, 2, 3, 200] {
                let mut b = [byte];
                conn.write_all(&b).unwrap();
                if conn.read_exact(&mut b).is_err() {
                    return Err(BadRequest(byte));
                }
                answered += 1;
            }
            Ok(answered)
        })
        .expect("the client thread ran");
    assert_eq!(client, Err(BadRequest(200)), "the server hung up on 200");
    let err = pair.finish().expect_err("the server failed");
    let loopbench::Error::Closure(source) = &err else {
        panic!("expected the closure's error, got {err:?}");
    };
    assert_eq!(source.downcast_ref::<BadRequest>(), Some(&BadRequest(200)));
    assert_eq!(err.to_string(), "your closure failed: bad request byte 200");
}

/// A service that accepts connections and never reads or answers; bounded by the returned
/// flag and a 60 s deadline of its own.
fn silent_service() -> (u16, Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let service = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(60);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((conn, _)) => held.push(conn),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        })
    };
    (port, stop, service)
}

/// A case asking `ping` of the service at `port` and expecting 4 bytes back.
fn ping(port: u16, timeout: Duration) -> Spec {
    Spec::builder(Transport::Tcp4)
        .placement(Placement::Unpinned)
        .connect(&format!("127.0.0.1:{port}"))
        .request(b"ping".to_vec())
        .response_size(4)
        .iterations(3)
        .count(1000)
        .warmup(Duration::from_millis(100))
        .timeout(timeout)
        .build()
        .unwrap()
}

#[test]
fn a_failed_case_is_told_with_builder_methods() {
    let (port, stop, service) = silent_service();
    let result = Run::new([ping(port, Duration::from_millis(300))])
        .quiet()
        .execute();
    stop.store(true, Ordering::Relaxed);
    service.join().unwrap();
    let result = result.expect("a failed case is in the result, not an Err");
    assert!(!result.ok());
    let errors = result.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].message.contains(".timeout(..)"), "{}", errors[0]);
    assert!(!errors[0].message.contains("--"), "{}", errors[0]);
    assert!(
        result.record.cases[0].errors[0].contains("--timeout"),
        "run.json keeps the flag"
    );
}

#[test]
fn a_deadline_ends_a_run_against_a_silent_service() {
    let (port, stop, service) = silent_service();
    // The spec's timeout (a minute) is far longer than the run's deadline (one second): only
    // the deadline can end the run within the test's bound.
    let spec = ping(port, Duration::from_secs(60));
    let slots_started = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let result = {
        let slots_started = slots_started.clone();
        Run::new([spec])
            .seed(3)
            .deadline(Duration::from_secs(1))
            .on_progress(move |p| {
                if p.starting {
                    slots_started.fetch_add(1, Ordering::Relaxed);
                }
            })
            .execute()
    };
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    service.join().unwrap();
    let result = result.expect("a run ended by its deadline still returns what it has");
    assert!(took < Duration::from_secs(30), "the run took {took:?}");
    assert_eq!(result.deadline_reached, Some(Duration::from_secs(1)));
    assert!(result.record.interrupted && !result.record.complete);
    assert!(!result.ok());
    let errors = result.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].message.contains("Run::deadline"), "{}", errors[0]);
    assert_eq!(
        slots_started.load(Ordering::Relaxed),
        1,
        "only the warm-up started"
    );
    let err = result.check().expect_err("check() refuses a run cut short");
    assert!(err.to_string().contains("1 of 1 case(s)"), "{err}");
}

/// `rounds` echo round trips on `pair`'s client thread; returns the CPU it ran on.
fn echo_on_the_client_thread(pair: &mut CustomPair, rounds: u64) -> Option<usize> {
    pair.run_client(|conn| {
        let mut rec = Recorder::new();
        let mut buf = [0u8; 8];
        for i in 0..rounds {
            rec.time(|| {
                conn.write_all(&i.to_le_bytes()).unwrap();
                conn.read_exact(&mut buf).unwrap();
            });
            assert_eq!(u64::from_le_bytes(buf), i);
        }
        assert_eq!(rec.histogram().len(), rounds);
        // SAFETY: sched_getcpu has no preconditions.
        let cpu = unsafe { libc::sched_getcpu() };
        usize::try_from(cpu).ok()
    })
    .expect("the client thread ran")
}

fn echo_server(mut conn: loopbench::custom::Conn) -> std::io::Result<()> {
    let mut buf = [0u8; 8];
    while conn.read_exact(&mut buf).is_ok() {
        conn.write_all(&buf)?;
    }
    Ok(())
}

#[test]
fn cross_core_pairs_one_after_another_from_one_thread() {
    let spec = Spec::builder(Transport::Tcp4)
        .placement(Placement::CrossCore)
        .build()
        .unwrap();
    let before = loopbench::host::topology::allowed_cpus();
    for round in 0..2 {
        let mut pair = CustomPair::start(&spec, echo_server)
            .unwrap_or_else(|e| panic!("pair {round}: {e} (this test needs two physical cores)"));
        let client_cpu = pair.cpus().client[0];
        assert_ne!(client_cpu, pair.cpus().server[0]);
        let ran_on = echo_on_the_client_thread(&mut pair, 200);
        assert_eq!(
            ran_on,
            Some(client_cpu),
            "pair {round}: the client thread is pinned"
        );
        pair.finish().unwrap();
        assert_eq!(
            loopbench::host::topology::allowed_cpus(),
            before,
            "pair {round} left the calling thread's affinity as it was"
        );
    }
}

#[test]
fn a_pinned_caller_is_told_its_affinity_is_the_limit() {
    let spec = Spec::builder(Transport::Tcp4)
        .placement(Placement::CrossCore)
        .build()
        .unwrap();
    let cpu = *loopbench::host::topology::allowed_cpus()
        .iter()
        .next()
        .unwrap();
    // A thread of its own, so the test harness's thread keeps its affinity.
    let err = std::thread::spawn(move || {
        loopbench::host::pinned::pin_current_thread(cpu).unwrap();
        CustomPair::start(&spec, echo_server).err()
    })
    .join()
    .unwrap()
    .expect("one CPU cannot hold a cross-core pair");
    assert!(matches!(err, loopbench::Error::Config(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("the calling thread's CPU affinity"),
        "{message}"
    );
    assert!(message.contains("CustomPair::run_client"), "{message}");
    assert!(
        !message.contains("--placement"),
        "builder users read builder names: {message}"
    );
}
