//! `summary.csv`: one row per case with raw numbers (nanoseconds, per second), for spreadsheets
//! and scripts. Every row starts with the run's identity (run id, start, git revision, label,
//! host), so the files of many runs can be appended into one (`tail -n +2`).

use anyhow::Result;

use super::exporter::Exporter;
use crate::report::model::Report;
use crate::store::record::{CaseRecord, RunRecord};

/// The CSV export.
pub struct Csv;

/// The file name.
pub const FILE_NAME: &str = "summary.csv";

/// The columns.
pub const HEADER: &[&str] = &[
    "run_id",
    "started_at",
    "git_revision",
    "label",
    "hostname",
    "case_id",
    "transport",
    "workload",
    "engine",
    "placement",
    "size_bytes",
    "response_size_bytes",
    "iterations",
    "complete",
    "errors",
    "count",
    "min_ns",
    "mean_ns",
    "p50_ns",
    "p90_ns",
    "p99_ns",
    "p999_ns",
    "p9999_ns",
    "max_ns",
    "p50_ns_min",
    "p50_ns_median",
    "p50_ns_max",
    "msgs_per_sec",
    "bytes_per_sec",
    "client_cpu_ns_per_msg",
    "client_switches_per_msg",
    "server_cpu_ns_per_msg",
    "server_switches_per_msg",
    "lost",
    "late",
    "memcpy_bytes_per_sec",
    "copy_efficiency",
];

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

fn row(run: &RunRecord, c: &CaseRecord) -> Vec<String> {
    let s = &c.spec;
    let mut out = vec![
        run.run_id.clone(),
        run.started_at.clone(),
        run.tool.git_revision.clone().unwrap_or_default(),
        run.label.clone().unwrap_or_default(),
        run.environment.hostname.clone(),
        c.case_id.to_string(),
        s.transport.to_string(),
        s.workload.to_string(),
        s.engine.to_string(),
        s.placement.to_string(),
        s.size.to_string(),
        s.response_size.to_string(),
        c.iterations.len().to_string(),
        c.complete.to_string(),
        c.errors.join("; "),
    ];
    let Some(m) = &c.summary else {
        out.resize(HEADER.len(), String::new());
        return out;
    };
    let l = &m.latency;
    out.extend([l.count, l.min_ns].map(|v| v.to_string()));
    out.push(num(l.mean_ns));
    out.extend(
        [
            l.p50_ns, l.p90_ns, l.p99_ns, l.p999_ns, l.p9999_ns, l.max_ns,
        ]
        .map(|v| v.to_string()),
    );
    let p = &m.p50_ns_spread;
    out.extend(
        [p.min, p.median, p.max, m.msgs_per_sec, m.bytes_per_sec]
            .into_iter()
            .chain([
                m.client.usage.cpu_ns_per_msg,
                m.client.usage.switches_per_msg,
            ])
            .chain([
                m.server.usage.cpu_ns_per_msg,
                m.server.usage.switches_per_msg,
            ])
            .map(num),
    );
    out.push(m.client.counters.lost.to_string());
    out.push(m.client.counters.late.to_string());
    out.push(m.memcpy.map(|x| num(x.bytes_per_sec)).unwrap_or_default());
    out.push(
        m.copy_efficiency
            .map(|x| format!("{x:.4}"))
            .unwrap_or_default(),
    );
    out
}

impl Exporter<Report> for Csv {
    fn file_name(&self) -> &'static str {
        FILE_NAME
    }

    fn render(&self, report: &Report) -> Result<String> {
        let mut w = ::csv::Writer::from_writer(Vec::new());
        w.write_record(HEADER)?;
        let run = &report.data.record;
        for c in &run.cases {
            w.write_record(row(run, c))?;
        }
        Ok(String::from_utf8(w.into_inner()?)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use crate::spec::{EngineKind, Placement, Transport};

    #[test]
    fn csv_summary() {
        let mut data = fixture::run(&[
            fixture::rr(
                Transport::Tcp4,
                EngineKind::Blocking,
                Placement::CrossCore,
                64,
                &[50_000, 52_000, 49_000],
            ),
            fixture::rr(
                Transport::Shm,
                EngineKind::Spin,
                Placement::CrossCore,
                64,
                &[800, 810],
            ),
            fixture::bulk(Transport::UnixStream, 65536, 4e9, 10e9),
            fixture::rr(
                Transport::Udp4,
                EngineKind::Spin,
                Placement::SameCore,
                64,
                &[],
            ),
        ]);
        data.record.label = Some("after, \"tuning\"".into());
        data.record.tool.git_revision = Some("4f2a9c1".into());
        let failed = &mut data.record.cases[3];
        failed.summary = None;
        failed
            .errors
            .push("warm-up: peer made no progress, \"stuck\"".into());
        let report = Report::new(data).unwrap();
        let text = Csv.render(&report).unwrap();
        let mut reader = ::csv::Reader::from_reader(text.as_bytes());
        assert_eq!(reader.headers().unwrap().len(), HEADER.len());
        assert!(reader.records().all(|r| r.unwrap().len() == HEADER.len()));
        insta::assert_snapshot!(text);
    }
}
