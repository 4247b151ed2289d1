//! The terminal table of a run: one row per case.

use std::fmt::Write as _;

use super::format::{bandwidth, si, us};
use crate::store::record::{CaseRecord, RunRecord};

/// One cell per column, for one case.
fn row(case: &CaseRecord) -> Vec<String> {
    let id = case.case_id.to_string();
    let Some(s) = &case.summary else {
        let status = if case.errors.is_empty() {
            "not run".to_string()
        } else {
            format!("FAILED: {}", case.errors[0])
        };
        return vec![id, "0".into(), status];
    };
    let l = &s.latency;
    let cpus = |v: &[usize]| {
        if v.is_empty() {
            "-".into()
        } else {
            v.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(",")
        }
    };
    let mut cells = vec![
        id,
        s.iterations.to_string(),
        us(l.p50_ns as f64),
        us(l.p99_ns as f64),
        us(l.p999_ns as f64),
        us(l.max_ns as f64),
        format!(
            "±{:.1}%",
            spread_pct(
                s.p50_ns_spread.min,
                s.p50_ns_spread.max,
                s.p50_ns_spread.median
            )
        ),
        si(s.msgs_per_sec),
        format!("{:.0}", s.client.usage.cpu_ns_per_msg),
        format!("{:.2}", s.client.usage.switches_per_msg),
        format!("{:.0}", s.server.usage.cpu_ns_per_msg),
        format!("{:.2}", s.server.usage.switches_per_msg),
        format!("{}/{}", cpus(&s.client.cpus), cpus(&s.server.cpus)),
    ];
    if l.count == 0 {
        for cell in &mut cells[2..7] {
            *cell = "-".into();
        }
    }
    let c = &s.client.counters;
    let mut notes = Vec::new();
    if s.memcpy.is_some() {
        notes.push(bandwidth(s.bytes_per_sec));
    }
    if let Some(e) = s.copy_efficiency {
        notes.push(format!("copy eff {e:.3}"));
    }
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
    let x = &s.extras;
    if let Some(r) = &x.rate {
        let verdict = if r.sustained { "" } else { " NOT SUSTAINED" };
        notes.push(format!(
            "rate {}/{} req/s{verdict}",
            si(r.achieved_per_sec),
            si(r.target_per_sec)
        ));
    }
    if let Some(k) = &x.connections {
        notes.push(format!(
            "ports {} EADDRNOTAVAIL {}",
            k.ports_used, k.addr_not_avail
        ));
    }
    if let Some(m) = &x.memory_load {
        notes.push(format!("memload {}", bandwidth(m.bytes_per_sec)));
    }
    if !case.errors.is_empty() {
        notes.push(format!("errors: {}", case.errors.len()));
    }
    if !case.complete {
        notes.push("incomplete".into());
    }
    cells.push(notes.join("; "));
    cells
}

fn spread_pct(min: f64, max: f64, median: f64) -> f64 {
    if median <= 0.0 {
        0.0
    } else {
        (max - min) / 2.0 / median * 100.0
    }
}

const HEADER: &[&str] = &[
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

/// Renders the table; latencies are round trips for `rr`.
pub fn render(record: &RunRecord) -> String {
    let rows: Vec<Vec<String>> = record.cases.iter().map(row).collect();
    let mut widths: Vec<usize> = HEADER.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        if r.len() == HEADER.len() {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            let pad = w.saturating_sub(c.chars().count());
            if i == 0 || i == cells.len() - 1 {
                let _ = write!(out, "{c}{}", " ".repeat(pad));
            } else {
                let _ = write!(out, "{}{c}", " ".repeat(pad));
            }
            out.push_str("  ");
        }
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        out.push('\n');
    };
    line(
        &HEADER.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
        &mut out,
    );
    for r in &rows {
        if r.len() == HEADER.len() {
            line(r, &mut out);
        } else {
            let _ = writeln!(out, "{}  {}", r[0], r[2..].join("  "));
        }
    }
    out.push_str(
        "latency = round trip (rr); msgs/s counted at the receiver (stream); p50 spread = half the \
         range of per-iteration medians; sw = context switches; copy eff = throughput / memcpy\n",
    );
    out
}
