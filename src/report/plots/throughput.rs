//! Throughput against message size, one line per group of cases that differ only in size, with
//! the memcpy reference (what one core copies per second at that size) as a dashed line: loopback
//! TCP copies every byte at least twice, so it stays well below it.

use super::axis::{Axis, Scale};
use super::lines::{Legend, LineChart, Series};
use super::style;
use crate::report::data::RunData;
use crate::store::record::{CaseRecord, Spread};

/// Cases that differ only in their size: the case id with the size left out.
pub fn size_group(case: &CaseRecord) -> String {
    let mut spec = case.spec.clone();
    spec.size = 0;
    spec.response_size = 0;
    spec.case_id().0.replacen("-0B", "", 1)
}

/// Cases that differ only in their size, as points of (size, value).
pub struct Sweep {
    /// The case id without its size.
    pub name: String,
    /// (size in bytes, value), by size.
    pub points: Vec<(f64, f64)>,
}

/// The sweeps of the run: groups with at least two sizes for which `value` has a value.
pub fn sweeps(data: &RunData, value: impl Fn(&CaseRecord) -> Option<f64>) -> Vec<Sweep> {
    let mut groups: Vec<Sweep> = Vec::new();
    for c in &data.record.cases {
        let Some(v) = value(c) else { continue };
        let key = size_group(c);
        let point = (c.spec.size as f64, v);
        match groups.iter_mut().find(|g| g.name == key) {
            Some(g) => g.points.push(point),
            None => groups.push(Sweep {
                name: key,
                points: vec![point],
            }),
        }
    }
    groups.retain(|g| g.points.len() >= 2);
    for g in &mut groups {
        g.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    groups
}

/// The memcpy reference by size (the median where several cases measured one size).
pub fn memcpy_line(data: &RunData) -> Vec<(f64, f64)> {
    let mut by_size: Vec<(usize, Vec<f64>)> = Vec::new();
    for c in &data.record.cases {
        let Some(m) = c.summary.as_ref().and_then(|s| s.memcpy) else {
            continue;
        };
        match by_size.iter_mut().find(|(s, _)| *s == c.spec.size) {
            Some((_, v)) => v.push(m.bytes_per_sec),
            None => by_size.push((c.spec.size, vec![m.bytes_per_sec])),
        }
    }
    by_size.sort_by_key(|(s, _)| *s);
    by_size
        .into_iter()
        .map(|(s, v)| (s as f64, Spread::of(v).median * 8.0 / 1e9))
        .collect()
}

/// One line with markers per sweep, in palette order.
pub fn sweep_series(sweeps: Vec<Sweep>) -> Vec<Series> {
    sweeps
        .into_iter()
        .enumerate()
        .map(|(i, g)| Series {
            markers: true,
            ..Series::new(g.name, style::color(i), g.points)
        })
        .collect()
}

fn gbit(c: &CaseRecord) -> Option<f64> {
    c.summary
        .as_ref()
        .map(|s| s.bytes_per_sec * 8.0 / 1e9)
        .filter(|v| *v > 0.0)
}

/// The chart; `None` when no group of cases sweeps the message size.
pub fn chart(data: &RunData) -> Option<LineChart> {
    let groups = sweeps(data, gbit);
    if groups.is_empty() {
        return None;
    }
    let mut series = sweep_series(groups);
    let memcpy = memcpy_line(data);
    if !memcpy.is_empty() {
        series.push(Series {
            dashed: true,
            markers: true,
            ..Series::new("memcpy, one core", style::REFERENCE, memcpy)
        });
    }
    Some(LineChart {
        title: "Throughput by message size".into(),
        x: Axis::new("message size", Scale::Log, style::size_label),
        y: Axis::new("payload throughput (Gbit/s)", Scale::Log, style::us_label),
        series,
        legend: Legend::LowerRight,
        note: Some("payload bytes received per second (rr: both directions)".into()),
    })
}
