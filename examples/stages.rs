//! Where your round trip's time goes (`--stages` through the `Spec` builder): a tcp4 64 B round
//! trip answered by the harness's own server and by your handler, each message stamped by both
//! workers. Each case prints every stage's median and its share of the round trip's median;
//! with your handler its own time is a stage of its own (`handler`), apart from the server's
//! turnaround. Each message's stages add up to its round trip exactly; their medians need not.
//!
//! `cargo run --release --example stages [-- ITERATIONS MESSAGES]` (defaults 3 × 20000).

use std::time::Duration;

use loopbench::host::topology::Topology;
use loopbench::session::Run;
use loopbench::spec::{Placement, Spec, Transport};

/// The handler: a stand-in for decode, process, encode (a checksum of the request, 64 rounds).
fn handler() -> impl FnMut(&[u8], &mut Vec<u8>) + Send {
    |request: &[u8], response: &mut Vec<u8>| {
        let mut sum = 0u8;
        for _ in 0..64 {
            sum = request.iter().fold(sum, |a, b| a.rotate_left(1) ^ b);
        }
        response.extend_from_slice(request);
        response[0] = sum;
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>());
    let iterations = args.next().transpose()?.unwrap_or(3) as u32;
    let messages = args.next().transpose()?.unwrap_or(20_000);
    let placement = if Topology::detect().physical_cores() >= 2 {
        Placement::CrossCore
    } else {
        Placement::SameCore
    };
    let base = Spec::builder(Transport::Tcp4)
        .placement(placement)
        .size(64)
        .iterations(iterations)
        .count(messages)
        .warmup(Duration::from_millis(100))
        .stages(true);
    let specs = vec![
        base.clone().build()?,
        base.handler("checksum", handler).build()?,
    ];
    let result = Run::new(specs).seed(1).execute()?;
    for (case, _) in result.cases() {
        let Some(s) = &case.summary else {
            println!("{} failed: {:?}", case.case_id.as_str(), case.errors);
            continue;
        };
        println!(
            "{}: round trip p50 {:.2} µs",
            case.case_id.as_str(),
            s.latency.p50_ns as f64 / 1e3
        );
        for (stage, st) in s.extras.stages.iter() {
            println!(
                "  {stage:<18} p50 {:>8.2} µs  p99 {:>8.2} µs  {:>5.1} % of the round trip",
                st.latency.p50_ns as f64 / 1e3,
                st.latency.p99_ns as f64 / 1e3,
                st.share_of_rtt * 100.0
            );
        }
        if let Some(c) = s.extras.stage_coverage {
            println!("  {} round trips stamped", c.matched);
        }
    }
    Ok(())
}
