//! Per-iteration latency over the run: the p50 and p99 of every iteration of a case at the time it
//! ran. Iterations of all cases are interleaved, so drift of the machine shows up here as a trend
//! and a warm-up effect as outlying first points.

use super::axis::{Axis, Scale};
use super::lines::{Legend, LineChart, Series};
use super::style;
use crate::report::data::RunData;

/// The chart of one case; `None` when it has no iteration.
pub fn chart(data: &RunData, case: usize) -> Option<LineChart> {
    let c = &data.record.cases[case];
    if c.iterations.is_empty() {
        return None;
    }
    let line =
        |label: &str, color, pick: fn(&crate::metrics::histogram::LatencySummary) -> u64| Series {
            markers: true,
            ..Series::new(
                label,
                color,
                c.iterations
                    .iter()
                    .map(|it| {
                        (
                            it.started_offset_ns as f64 / 1e9,
                            pick(&it.latency) as f64 / 1000.0,
                        )
                    })
                    .collect(),
            )
        };
    Some(LineChart {
        title: format!("{}: latency per iteration", c.case_id),
        x: Axis::new(
            "time since the run started (s)",
            Scale::Linear,
            style::round2_label,
        ),
        y: Axis::new("round-trip latency (µs)", Scale::Log, style::us_label),
        series: vec![
            line("p99", style::color(3), |l| l.p99_ns),
            line("p50", style::color(0), |l| l.p50_ns),
        ],
        legend: Legend::UpperRight,
        note: Some(format!(
            "{} iterations, interleaved with the other cases' iterations",
            c.iterations.len()
        )),
    })
}
