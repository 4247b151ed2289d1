//! The anatomy as text: the table every output prints, and what it lacks.

use super::model::{Anatomy, Layer, Panel, Step};
use crate::spec::CaseId;
use crate::text::us;

impl Step {
    /// The step's size as text: `1.00 ±0.10` for the floor, `+2.00 ±0.14` or `−0.31 ±0.20` (µs)
    /// for the layers above it, `missing` without its cases.
    pub fn label(&self) -> String {
        match self.estimate {
            None => "missing".to_string(),
            Some(e) => {
                let sign = match self.layer {
                    Layer::Floor => "",
                    _ if e.point_ns < 0.0 => "−",
                    _ => "+",
                };
                format!("{sign}{} ±{}", us(e.point_ns.abs()), us(e.half_width_ns()))
            }
        }
    }
}

/// The anatomy as a table: a header and one row per panel with data (see [`absent`] for the
/// others), each layer as `+2.00 ±0.14` (µs) or `missing`.
pub fn table(a: &Anatomy) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header = vec!["placement".to_string(), "engine".to_string()];
    header.extend(
        Layer::ALL
            .iter()
            .map(|l| format!("{} ({})", l.name(), l.formula())),
    );
    let rows = a
        .panels
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut row = vec![p.placement.to_string(), p.engine.to_string()];
            row.extend(p.steps.iter().map(Step::label));
            row
        })
        .collect();
    (header, rows)
}

/// The placement and engine of every panel without any data: `same-core spin`.
pub fn absent(a: &Anatomy) -> Vec<String> {
    a.panels
        .iter()
        .filter(|p| p.is_empty())
        .map(|p| format!("{} {}", p.placement, p.engine))
        .collect()
}

/// Every case the panels with data lack, once each.
pub fn missing(a: &Anatomy) -> Vec<CaseId> {
    let mut all: Vec<CaseId> = a
        .panels
        .iter()
        .filter(|p| !p.is_empty())
        .flat_map(Panel::missing)
        .collect();
    all.sort();
    all.dedup();
    all
}

/// How to read the anatomy's numbers, for every output.
pub const EXPLANATION: &str = "µs per round trip; each layer is the difference of the medians of two cases (floor: the shm median itself), ± half its 95% percentile-bootstrap interval over the per-iteration medians";

/// What a reader must know beside the table, one sentence each: panels that measure something
/// else than their layers, placements and engines not in the run, cases the panels lack.
pub fn notes(a: &Anatomy) -> Vec<String> {
    let mut out: Vec<String> = a
        .panels
        .iter()
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            Some(format!(
                "At {} with {}: {}",
                p.placement,
                p.engine,
                p.caveat()?
            ))
        })
        .collect();
    let gone = absent(a);
    if !gone.is_empty() {
        out.push(format!("Not in this run: {}", gone.join(", ")));
    }
    let lacking: Vec<String> = missing(a).iter().map(|c| c.to_string()).collect();
    if !lacking.is_empty() {
        out.push(format!("Missing cases: {}", lacking.join(", ")));
    }
    out
}
