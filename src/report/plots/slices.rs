//! Throughput over time: what the receiver counted in each time slice (100 ms by default) of every
//! iteration of a case, at the time it ran. Shows ramp-up and stalls inside an iteration.

use super::axis::{Axis, Scale};
use super::lines::{Legend, LineChart, Series};
use super::style;
use crate::report::data::RunData;

/// The chart of one case; `None` when its iterations keep no time series.
pub fn chart(data: &RunData, case: usize) -> Option<LineChart> {
    let c = &data.record.cases[case];
    if c.iterations.iter().all(|it| it.slices.is_empty()) {
        return None;
    }
    let bytes = c
        .iterations
        .iter()
        .flat_map(|it| &it.slices)
        .any(|s| s.bytes > 0);
    let (label, format): (&str, fn(f64) -> String) = if bytes {
        ("throughput (Gbit/s)", style::round2_label)
    } else {
        ("messages per second", crate::text::si)
    };
    let series = c
        .iterations
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let points = it
                .slices
                .iter()
                .filter(|s| s.duration_ns > 0)
                .map(|s| {
                    let t = (it.started_offset_ns + s.start_ns + s.duration_ns / 2) as f64 / 1e9;
                    let secs = s.duration_ns as f64 / 1e9;
                    let v = if bytes {
                        s.bytes as f64 * 8.0 / 1e9 / secs
                    } else {
                        s.msgs as f64 / secs
                    };
                    (t, v)
                })
                .collect();
            Series {
                label: (i == 0).then(|| "per slice, one line per iteration".to_string()),
                markers: true,
                ..Series::new("", style::transport_color(c.spec.transport), points)
            }
        })
        .collect();
    Some(LineChart {
        title: format!("{}: throughput per time slice", c.case_id),
        x: Axis::new(
            "time since the run started (s)",
            Scale::Linear,
            style::round2_label,
        ),
        y: Axis::new(label, Scale::Linear, format),
        series,
        legend: Legend::LowerRight,
        note: Some("counted at the receiver".into()),
    })
}
