//! The tables of cases measured against a service: latency per request kind beside the
//! total, and a line each for the HTTP status codes and what TCP_INFO said.

use crate::metrics::histogram::LatencySummary;
use crate::store::record::{CaseRecord, RunRecord};
use crate::text::us;

/// One service case's table.
pub struct ServiceTable {
    /// The case id.
    pub case: String,
    /// The columns.
    pub header: Vec<String>,
    /// The total, then one row per request kind.
    pub rows: Vec<Vec<String>>,
    /// Status codes and TCP_INFO, one line each.
    pub lines: Vec<String>,
}

/// The table's columns.
const HEADER: [&str; 7] = [
    "requests",
    "count",
    "p50 µs",
    "p90 µs",
    "p99 µs",
    "p99.9 µs",
    "max µs",
];

fn row(name: &str, l: &LatencySummary) -> Vec<String> {
    [name.to_string(), l.count.to_string()]
        .into_iter()
        .chain(
            [l.p50_ns, l.p90_ns, l.p99_ns, l.p999_ns, l.max_ns]
                .iter()
                .map(|v| us(*v as f64)),
        )
        .collect()
}

/// The table of one case, when it was measured against a service.
pub fn service_table(c: &CaseRecord) -> Option<ServiceTable> {
    let s = c.summary.as_ref()?;
    let service = s.extras.service.as_ref()?;
    let mut rows = Vec::new();
    if !service.kinds.is_empty() {
        rows.push(row("all", &s.latency));
        rows.extend(service.kinds.iter().map(|k| row(&k.name, &k.latency)));
    }
    let mut lines = Vec::new();
    if !service.status.is_empty() {
        let codes: Vec<String> = service
            .status
            .iter()
            .map(|st| match st.code {
                0 => format!("other {}", st.responses),
                code => format!("{code} {}", st.responses),
            })
            .collect();
        lines.push(format!("HTTP status: {}", codes.join(", ")));
    }
    if let Some(t) = &service.tcp {
        lines.push(format!(
            "TCP_INFO ({} connections): {:.1} segments per response, {:.1} per request; rtt {} µs (±{}), ato {} ms; retransmits {}; most unacked {}, most not sent {} B",
            t.connections,
            t.segments_per_response(),
            t.segments_per_request(),
            t.rtt_us,
            t.rttvar_us,
            t.ato_us / 1000,
            t.retransmits,
            t.max_unacked,
            t.max_notsent_bytes
        ));
    }
    (!rows.is_empty() || !lines.is_empty()).then(|| ServiceTable {
        case: c.case_id.to_string(),
        header: HEADER.iter().map(|h| h.to_string()).collect(),
        rows,
        lines,
    })
}

/// The tables of a run's service cases.
pub fn service_tables(r: &RunRecord) -> Vec<ServiceTable> {
    r.cases.iter().filter_map(service_table).collect()
}
