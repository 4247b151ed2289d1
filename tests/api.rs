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
