//! Rebuilds and summarises the kernel timeline of an events file (the fixture form that
//! `LOOPBENCH_TRACE_DUMP=FILE loopbench run --trace ...` writes, with its `# pair` line).
//! `cargo run --example trace_timeline FILE`.

use loopbench::trace::events::parse_events;
use loopbench::trace::summary::summarize;
use loopbench::trace::timeline::{Pair, rebuild};

fn main() {
    let path = std::env::args().nth(1).expect("usage: trace_timeline FILE");
    let text = std::fs::read_to_string(&path).expect("read the events file");
    let pair = Pair::from_fixture_header(&text).expect("a `# pair client=TID@CPU ...` line");
    let events = parse_events(&text).expect("events parse");
    let tl = rebuild(&events, &pair);
    println!(
        "{} events; {} round trips, {} unmatched, {} dropped for {} lost events",
        events.len(),
        tl.round_trips.len(),
        tl.unmatched,
        tl.dropped_for_loss,
        tl.lost_events
    );
    println!("{}", summarize(&tl));
}
