//! Copy efficiency against message size: throughput as a share of the memcpy reference measured
//! on the receiving CPU (1 = as fast as one memcpy stream).

use super::axis::{Axis, Scale, percent_label};
use super::lines::{Legend, LineChart};
use super::style;
use super::throughput::{sweep_series, sweeps};
use crate::report::data::RunData;

/// The chart; `None` when no case sweeping the size has a memcpy reference.
pub fn chart(data: &RunData) -> Option<LineChart> {
    let groups = sweeps(data, |c| c.summary.as_ref().and_then(|s| s.copy_efficiency));
    if groups.is_empty() {
        return None;
    }
    let top = groups
        .iter()
        .flat_map(|g| &g.points)
        .map(|p| p.1)
        .fold(1.0, f64::max);
    let series = sweep_series(groups);
    Some(LineChart {
        title: "Copy efficiency by message size".into(),
        x: Axis::new("message size", Scale::Log, style::size_label),
        y: Axis::new(
            "throughput / memcpy bandwidth",
            Scale::Linear,
            percent_label,
        )
        .bounded(0.0, top),
        series,
        legend: Legend::UpperRight,
        note: Some("loopback TCP copies each byte at least twice: expect well under 100 %".into()),
    })
}
