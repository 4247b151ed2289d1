//! The figures a study compares across variants: what each one is, how it is read from an
//! iteration, shown in a table and drawn on a chart.

use crate::compare::metric::{Metric, Unit};
use crate::report::plots::style::us_label;
use crate::spec::Workload;
use crate::store::record::IterationRecord;
use crate::study::plot::{FigureAxis, gib_label, ns_label};
use crate::text::{bandwidth, us};

/// A figure compared across variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Figure {
    /// Median round trip of an iteration (rr), lower is better.
    P50,
    /// 99th percentile round trip of an iteration (rr), lower is better.
    P99,
    /// Received bytes per second of an iteration (stream), higher is better.
    Throughput,
    /// The receiver's CPU time per message of an iteration (stream), lower is better: less
    /// disturbed by other load than throughput, since it counts only the receiver's own time.
    ReceiverCpu,
}

impl Figure {
    /// The figures a case of workload `w` is compared on: its workload's
    /// [`compared_on`](crate::workload::WorkloadDef::compared_on) metrics (bulk workloads by
    /// throughput and receiver CPU, all others by latency).
    pub(super) fn for_workload(w: Workload) -> Vec<Figure> {
        let metrics = crate::workload::def(w).compared_on();
        metrics.iter().filter_map(|&m| Figure::of(m)).collect()
    }

    /// The figure of a gate metric, if the study report draws one.
    fn of(metric: Metric) -> Option<Figure> {
        [
            Figure::P50,
            Figure::P99,
            Figure::Throughput,
            Figure::ReceiverCpu,
        ]
        .into_iter()
        .find(|f| f.metric() == metric)
    }

    /// The gate's metric for this figure.
    pub(super) fn metric(self) -> Metric {
        match self {
            Figure::P50 => Metric::P50,
            Figure::P99 => Metric::P99,
            Figure::Throughput => Metric::Throughput,
            Figure::ReceiverCpu => Metric::ReceiverCpu,
        }
    }

    /// The unit of the figure's values (throughput is drawn in bytes per second).
    pub(super) fn unit(self) -> Unit {
        match self {
            Figure::Throughput => Unit::BytesPerSec,
            Figure::P50 | Figure::P99 | Figure::ReceiverCpu => Unit::Nanoseconds,
        }
    }

    /// The figure in headings: `p50 µs`.
    pub(super) fn name(self) -> &'static str {
        match self {
            Figure::P50 => "p50 µs",
            Figure::P99 => "p99 µs",
            Figure::Throughput => "throughput",
            Figure::ReceiverCpu => "receiver CPU ns per message",
        }
    }

    /// The gate's value of this figure in one iteration (an iteration without latency samples
    /// counts as 0, as its summary says).
    pub(super) fn value(self, it: &IterationRecord, w: Workload) -> f64 {
        self.metric().value(it, w).unwrap_or(0.0)
    }

    /// How the figure is drawn: its y axis.
    pub(super) fn axis(self) -> FigureAxis {
        match self {
            Figure::P50 | Figure::P99 => FigureAxis {
                label: "round-trip latency (µs)",
                scale: 1e-3,
                log: true,
                format: us_label,
            },
            Figure::Throughput => FigureAxis {
                label: "throughput (GiB/s)",
                scale: 1.0 / (1u64 << 30) as f64,
                log: false,
                format: gib_label,
            },
            Figure::ReceiverCpu => FigureAxis {
                label: "receiver CPU per message (ns)",
                scale: 1.0,
                log: false,
                format: ns_label,
            },
        }
    }

    /// The figure in a sentence: `p50`.
    pub(super) fn short(self) -> &'static str {
        match self {
            Figure::P50 => "p50",
            Figure::P99 => "p99",
            Figure::Throughput => "throughput",
            Figure::ReceiverCpu => "receiver CPU per message",
        }
    }

    /// The figure's part of a chart's file name.
    pub(super) fn slug(self) -> &'static str {
        match self {
            Figure::P50 => "p50",
            Figure::P99 => "p99",
            Figure::Throughput => "throughput",
            Figure::ReceiverCpu => "receiver-cpu",
        }
    }

    /// A value of the figure as the tables show it.
    pub(super) fn show(self, v: f64) -> String {
        match self {
            Figure::Throughput => bandwidth(v),
            Figure::ReceiverCpu => format!("{v:.0}"),
            _ => us(v),
        }
    }
}
