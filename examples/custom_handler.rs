//! Your code over real loopback: a small length-prefixed protocol (`u32` big-endian length, then
//! the body) answered by your handler on the server's pinned thread, over tcp4 and unix-stream,
//! cross-core vs same-core. Beside it, in the same interleaved run, the harness's own rr server
//! with the same message sizes, so the cost of your handler (and of the plumbing) is the
//! difference.
//!
//! `cargo run --release --example custom_handler [-- ITERATIONS MESSAGES]` (defaults 5 × 20000).

use std::time::Duration;

use loopbench::framing::LengthPrefix;
use loopbench::host::topology::Topology;
use loopbench::session::Run;
use loopbench::spec::{Placement, Spec, Transport};

/// The protocol: a request `len body` is answered with `len body'` where body' is the body with
/// every byte incremented (a stand-in for decode, process, encode).
fn handler() -> impl FnMut(&[u8], &mut Vec<u8>) + Send {
    |request: &[u8], response: &mut Vec<u8>| {
        response.extend_from_slice(&request[..4]);
        response.extend(request[4..].iter().map(|b| b.wrapping_add(1)));
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>());
    let iterations = args.next().transpose()?.unwrap_or(5) as u32;
    let messages = args.next().transpose()?.unwrap_or(20_000);
    let mut placements = vec![Placement::SameCore];
    if Topology::detect().physical_cores() >= 2 {
        placements.push(Placement::CrossCore);
    }
    let mut specs = Vec::new();
    for transport in [Transport::Tcp4, Transport::UnixStream] {
        for &placement in &placements {
            let base = Spec::builder(transport)
                .placement(placement)
                .size(64)
                .iterations(iterations)
                .count(messages)
                .warmup(Duration::from_millis(100));
            // Your protocol and handler.
            specs.push(
                base.clone()
                    .length_prefix(LengthPrefix::U32_BE)
                    .handler("incr", handler)
                    .build()?,
            );
            // The harness's own server, same sizes: the reference.
            specs.push(base.build()?);
        }
    }
    let result = Run::new(specs).seed(1).execute()?;
    println!(
        "{:<62} {:>9} {:>9} {:>9}",
        "case", "p50 µs", "p99 µs", "msgs/s"
    );
    for (case, _) in result.cases() {
        match &case.summary {
            Some(s) => println!(
                "{:<62} {:>9.2} {:>9.2} {:>9.0}",
                case.case_id.as_str(),
                s.latency.p50_ns as f64 / 1e3,
                s.latency.p99_ns as f64 / 1e3,
                s.msgs_per_sec
            ),
            None => println!("{:<62} failed: {:?}", case.case_id.as_str(), case.errors),
        }
    }
    Ok(())
}
