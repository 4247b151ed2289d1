//! The table of a run: one row per case. The terminal prints it aligned; the markdown export
//! uses the same [`HEADER`] and [`row`].

use crate::store::record::{CaseRecord, RunRecord};
use crate::text::{align, bandwidth, bytes, si, us};

/// The columns.
pub const HEADER: &[&str] = &[
    "case",
    "iters",
    "p50 µs",
    "p99 µs",
    "p99.9 µs",
    "max µs",
    "p50 spread",
    "msgs/s",
    "cli ns/msg",
    "cli sw/msg",
    "srv ns/msg",
    "srv sw/msg",
    "cpus c/s",
    "notes",
];

/// What the table's abbreviations mean.
pub const LEGEND: &str = "latency = round trip (rr, crr: per transaction; rate: from the intended send time); \
msgs/s counted at the receiver for stream; p50 spread = half the range of per-iteration medians; \
sw = context switches; copy eff = throughput / memcpy bandwidth";

fn cpus(v: &[usize]) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        v.iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Half the range of the per-iteration medians as a percentage of their median.
pub fn spread_pct(min: f64, max: f64, median: f64) -> f64 {
    if median <= 0.0 {
        0.0
    } else {
        (max - min) / 2.0 / median * 100.0
    }
}

/// One cell per column of [`HEADER`], for one case; a case without results has dashes and says
/// why in its notes.
pub fn row(case: &CaseRecord) -> Vec<String> {
    let mut notes = Vec::new();
    let Some(s) = &case.summary else {
        let status = match case.errors.first() {
            Some(e) => format!("FAILED: {e}"),
            None => "not run".to_string(),
        };
        let mut cells = vec![case.case_id.to_string(), "0".into()];
        cells.extend(std::iter::repeat_n("-".to_string(), HEADER.len() - 3));
        cells.push(status);
        return cells;
    };
    let l = &s.latency;
    let p = &s.p50_ns_spread;
    notes.extend(throughput_notes(case.spec.workload, s));
    for c in &case.clamped {
        notes.push(format!(
            "{} clamped to {}",
            c.flag,
            bytes(c.effective as u64)
        ));
    }
    if !case.errors.is_empty() {
        notes.push(format!("errors: {}", case.errors.len()));
    }
    if !case.complete {
        notes.push("incomplete".into());
    }
    // Workloads without a latency (stream) show dashes rather than zeros.
    let lat = |ns: u64| {
        if l.count == 0 {
            "-".to_string()
        } else {
            us(ns as f64)
        }
    };
    vec![
        case.case_id.to_string(),
        s.iterations.to_string(),
        lat(l.p50_ns),
        lat(l.p99_ns),
        lat(l.p999_ns),
        lat(l.max_ns),
        if l.count == 0 {
            "-".to_string()
        } else {
            format!("±{:.1}%", spread_pct(p.min, p.max, p.median))
        },
        si(s.msgs_per_sec),
        format!("{:.0}", s.client.usage.cpu_ns_per_msg),
        format!("{:.2}", s.client.usage.switches_per_msg),
        format!("{:.0}", s.server.usage.cpu_ns_per_msg),
        format!("{:.2}", s.server.usage.switches_per_msg),
        format!("{}/{}", cpus(&s.client.cpus), cpus(&s.server.cpus)),
        notes.join("; "),
    ]
}

/// What the notes column says about throughput, losses, the workload's own parts (its
/// [`notes`](crate::workload::WorkloadDef::notes)) and the memory load.
fn throughput_notes(
    workload: crate::spec::Workload,
    s: &crate::store::record::CaseSummary,
) -> Vec<String> {
    let mut notes = Vec::new();
    if s.memcpy.is_some() {
        notes.push(bandwidth(s.bytes_per_sec));
    }
    if let Some(e) = s.copy_efficiency {
        notes.push(format!("copy eff {e:.3}"));
    }
    let c = &s.client.counters;
    if c.lost > 0 || c.late > 0 {
        notes.push(format!("lost {} late {}", c.lost, c.late));
    }
    let r = &s.server.counters;
    if r.lost + r.reordered + r.duplicated > 0 {
        let sent = s.client.counters.messages.max(1);
        notes.push(format!(
            "rx lost {} ({:.2}%) reordered {} dup {}",
            r.lost,
            r.lost as f64 * 100.0 / sent as f64,
            r.reordered,
            r.duplicated
        ));
    }
    if s.client.engine_threads.is_some() || s.server.engine_threads.is_some() {
        let per_msg = |e: &Option<crate::metrics::rusage::SideUsage>| {
            e.as_ref().map_or(0.0, |u| u.cpu_ns_per_msg)
        };
        notes.push(format!(
            "engine threads c/s {:.0}/{:.0} ns/msg (in cli/srv ns/msg)",
            per_msg(&s.client.engine_threads),
            per_msg(&s.server.engine_threads)
        ));
    }
    notes.extend(zerocopy_notes(s));
    notes.extend(crate::workload::def(workload).notes(&s.extras));
    if let Some(m) = &s.extras.memory_load {
        notes.push(format!("memload {}", bandwidth(m.bytes_per_sec)));
    }
    notes
}

/// `--zerocopy`: what the kernel reported doing with each side's bytes.
fn zerocopy_notes(s: &crate::store::record::CaseSummary) -> Vec<String> {
    let sides = [
        ("send", &s.client.counters.zerocopy),
        ("recv", &s.server.counters.zerocopy),
    ];
    let mut notes = Vec::new();
    for (side, z) in sides {
        if let Some(f) = z.zerocopy_fraction() {
            notes.push(format!("zc {side}: {:.1}% not copied", f * 100.0));
        } else if z.by_reference_bytes > 0 {
            notes.push(format!("zc {side}: by page reference (unreported)"));
        }
    }
    notes
}

/// A case's merged latency distribution: a header and one row (no row without results).
pub fn percentiles(case: &CaseRecord) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "min", "p50", "p90", "p99", "p99.9", "p99.99", "max", "mean", "stddev",
    ]
    .iter()
    .map(|h| format!("{h} µs"))
    .collect();
    let rows = case
        .summary
        .iter()
        .map(|s| {
            let l = &s.latency;
            [
                l.min_ns, l.p50_ns, l.p90_ns, l.p99_ns, l.p999_ns, l.p9999_ns, l.max_ns,
            ]
            .iter()
            .map(|v| us(*v as f64))
            .chain([us(l.mean_ns), us(l.stddev_ns)])
            .collect()
        })
        .collect();
    (header, rows)
}

/// A case's iterations, one row each, in the order they ran.
pub fn iterations(case: &CaseRecord) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "iteration",
        "started s",
        "p50 µs",
        "p99 µs",
        "max µs",
        "msgs/s",
        "cli ns/msg",
        "srv ns/msg",
        "cli sw/msg",
        "srv sw/msg",
        "cpus c/s",
    ]
    .iter()
    .map(|h| h.to_string())
    .collect();
    let rows = case
        .iterations
        .iter()
        .map(|it| {
            vec![
                (it.index + 1).to_string(),
                format!("{:.2}", it.started_offset_ns as f64 / 1e9),
                us(it.latency.p50_ns as f64),
                us(it.latency.p99_ns as f64),
                us(it.latency.max_ns as f64),
                si(it.msgs_per_sec),
                format!("{:.0}", it.client.usage.cpu_ns_per_msg),
                format!("{:.0}", it.server.usage.cpu_ns_per_msg),
                format!("{:.2}", it.client.usage.switches_per_msg),
                format!("{:.2}", it.server.usage.switches_per_msg),
                format!("{}/{}", cpus(&it.client.cpus), cpus(&it.server.cpus)),
            ]
        })
        .collect();
    (header, rows)
}

/// Renders the table; latencies are round trips for `rr`.
pub fn render(record: &RunRecord) -> String {
    let rows: Vec<Vec<String>> = record.cases.iter().map(row).collect();
    let mut out = align(HEADER, &rows);
    out.push_str(LEGEND);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use crate::spec::{EngineKind, Placement, Transport};

    #[test]
    fn rows_align_and_failed_cases_keep_their_row() {
        let mut data = fixture::run(&[
            fixture::rr(
                Transport::Tcp4,
                EngineKind::Blocking,
                Placement::CrossCore,
                64,
                &[5000, 6000],
            ),
            fixture::rr(
                Transport::Pipe,
                EngineKind::Spin,
                Placement::SameCore,
                64,
                &[1000],
            ),
        ]);
        let failed = &mut data.record.cases[1];
        failed.summary = None;
        failed
            .errors
            .push("iteration 1: peer made no progress".into());
        let text = render(&data.record);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("case") && lines[0].ends_with("notes"));
        assert!(
            lines[1].starts_with("tcp4-rr-blocking-cross-core-64B      2  "),
            "{}",
            lines[1]
        );
        assert!(lines[1].contains("±9.1%"), "{}", lines[1]);
        assert!(
            lines[2].ends_with("FAILED: iteration 1: peer made no progress"),
            "{}",
            lines[2]
        );
        assert_eq!(row(&data.record.cases[1]).len(), HEADER.len());
        assert_eq!(lines.last().unwrap(), &LEGEND);
    }
}
