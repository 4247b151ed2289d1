//! The user-space stages of a run's round trips as tables (`--stages`): an overview with one
//! row per stamped case and one column per stage median, and per case each stage's percentiles,
//! how many round trips the stages cover, and its typical round trip. summary.md, report.html and
//! `loopbench show` print the same tables; the kernel's stages (`--trace`) have their own
//! ([`kernel`](super::kernel)).

use std::fmt::Write as _;

use crate::metrics::stages::names;
use crate::store::record::{CaseRecord, RunRecord};
use crate::store::stages::{Lane, StageMap, StageSummary};
use crate::text::us;

/// How a heading names the tables.
pub const TITLE: &str = "user-space stages (--stages)";

/// What the overview's cells mean.
pub const LEGEND: &str = "each stage's median in µs (its share of the round trip's median); \
stages marked * lie within another and are not summed; sum = the stacked stages' medians, \
which need not equal the round trip's median (medians do not add: each message's stages add up \
to its round trip exactly), its ratio says how far they are";

/// A case's user-space stages in path order, when it has any. run.json keeps them in that
/// order, but reading it back through a JSON value sorts its keys: the order is restored here.
pub fn stages(case: &CaseRecord) -> Option<StageMap<StageSummary>> {
    let map = &case.summary.as_ref()?.extras.stages;
    if map.is_empty() {
        return None;
    }
    let mut ordered = map.clone();
    let place = |name: &str| {
        let i = names::ALL.iter().position(|n| *n == name);
        i.unwrap_or(names::ALL.len())
    };
    ordered.0.sort_by_key(|(name, _)| place(name));
    Some(ordered)
}

/// The sum of the medians of the stages that stack (not those within another).
pub fn stacked_sum_ns(map: &StageMap<StageSummary>) -> u64 {
    map.iter()
        .filter(|(_, s)| s.within.is_none())
        .map(|(_, s)| s.latency.p50_ns)
        .sum()
}

/// Every user-space stage name in the run, in path order of first appearance.
pub fn stage_names(record: &RunRecord) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for map in record.cases.iter().filter_map(stages) {
        let mut at = 0;
        for (name, _) in map.iter() {
            match names.iter().position(|n| n == name) {
                Some(i) => at = i + 1,
                None => {
                    names.insert(at, name.to_string());
                    at += 1;
                }
            }
        }
    }
    names
}

/// One row per stamped case, one column per stage: `None` when no case has stages.
pub fn overview(record: &RunRecord) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let names = stage_names(record);
    if names.is_empty() {
        return None;
    }
    let within = |name: &str| {
        record
            .cases
            .iter()
            .filter_map(|c| Some(stages(c)?.get(name)?.within.is_some()))
            .any(|within| within)
    };
    let mut header = vec!["case".to_string(), "RTT p50 µs".to_string()];
    header.extend(names.iter().map(|n| {
        if within(n) {
            format!("{n}*")
        } else {
            n.clone()
        }
    }));
    header.extend(["sum µs".to_string(), "sum / RTT".to_string()]);
    let mut rows = Vec::new();
    for c in &record.cases {
        let (Some(map), Some(s)) = (stages(c), &c.summary) else {
            continue;
        };
        let rtt = s.latency.p50_ns;
        let mut row = vec![c.case_id.to_string(), us(rtt as f64)];
        row.extend(names.iter().map(|n| match map.get(n) {
            Some(st) if st.latency.count > 0 => format!(
                "{} ({:.0}%)",
                us(st.latency.p50_ns as f64),
                st.share_of_rtt * 100.0
            ),
            _ => "-".into(),
        }));
        let sum = stacked_sum_ns(&map);
        row.push(us(sum as f64));
        row.push(ratio(sum, rtt));
        rows.push(row);
    }
    Some((header, rows))
}

fn ratio(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

/// A case's user-space stages with their percentiles, one row per stage.
pub fn detail(case: &CaseRecord) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let map = stages(case)?;
    let header = [
        "stage",
        "p50 µs",
        "p90 µs",
        "p99 µs",
        "p99.9 µs",
        "mean µs",
        "share of RTT p50",
        "messages",
        "absent",
        "within",
    ]
    .map(String::from)
    .to_vec();
    let rows = map
        .iter()
        .map(|(name, s)| {
            let l = &s.latency;
            vec![
                name.to_string(),
                us(l.p50_ns as f64),
                us(l.p90_ns as f64),
                us(l.p99_ns as f64),
                us(l.p999_ns as f64),
                us(l.mean_ns),
                format!("{:.1}%", s.share_of_rtt * 100.0),
                l.count.to_string(),
                s.absent.to_string(),
                s.within.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    Some((header, rows))
}

/// How many round trips the user-space stages cover and how their medians add up, in a
/// sentence; `None` without stamps.
pub fn coverage(case: &CaseRecord) -> Option<String> {
    let s = case.summary.as_ref()?;
    let map = stages(case)?;
    let cov = s.extras.stage_coverage.unwrap_or_default();
    let sum = stacked_sum_ns(&map);
    let mut out = format!(
        "stamped round trips: {}; stage medians add up to {} µs, {} of the round trip's median {} µs",
        cov.matched,
        us(sum as f64),
        ratio(sum, s.latency.p50_ns),
        us(s.latency.p50_ns as f64)
    );
    let missed = [
        (cov.beyond_capacity, "beyond the stamp logs' room"),
        (cov.lost_requests, "requests lost"),
        (cov.lost_responses, "responses lost"),
        (
            cov.request_overlaps,
            "with the server's receive inside the client's send call",
        ),
        (
            cov.response_overlaps,
            "with the client's receive inside the server's send call",
        ),
    ];
    for (n, what) in missed.iter().filter(|(n, _)| *n > 0) {
        let _ = write!(out, "; {n} {what}");
    }
    Some(out)
}

/// The case's typical round trip (the one nearest the median) as lines of text: each span's
/// start and end in µs after the client's send call, where it ran, and its name.
pub fn typical(case: &CaseRecord) -> Option<String> {
    let t = case.summary.as_ref()?.extras.typical_round_trip.as_ref()?;
    let cpu = |c: Option<usize>| c.map_or("-".to_string(), |c| c.to_string());
    let lane = |l: Lane| match l {
        Lane::Client => "client",
        Lane::Server => "server",
    };
    let mut out = format!(
        "typical round trip (iteration {}, flow {}, message {}: {} µs; client CPU {}, server CPU {}):\n",
        t.iteration + 1,
        t.flow,
        t.message,
        us(t.rtt_ns as f64),
        cpu(t.client_cpu),
        cpu(t.server_cpu)
    );
    for s in &t.spans {
        let route = if s.from == s.to {
            lane(s.from).to_string()
        } else {
            format!("{} → {}", lane(s.from), lane(s.to))
        };
        let _ = writeln!(
            out,
            "  {:>9} → {:>9} µs  {:<6} {:<16} {}",
            us(s.start_ns as f64),
            us(s.end_ns as f64),
            format!("{:?}", s.layer).to_lowercase(),
            route,
            s.name
        );
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn the_overview_has_a_column_per_stage_and_sums_only_what_stacks() {
        let mut data = fixture::stamped_run();
        let text = |data: &crate::report::data::RunData| {
            let (h, rows) = overview(&data.record).unwrap();
            (h, rows)
        };
        // Read back through a JSON value, run.json's stages come in key order: path order
        // is restored.
        let s = data.record.cases[0].summary.as_mut().unwrap();
        s.extras.stages.0.sort_by(|a, b| a.0.cmp(&b.0));
        let (h, rows) = text(&data);
        assert_eq!(
            h,
            [
                "case",
                "RTT p50 µs",
                "client_send",
                "request_path",
                "server_turnaround",
                "server_send",
                "response_path",
                "sum µs",
                "sum / RTT"
            ]
        );
        assert_eq!(rows.len(), 1, "only the stamped case");
        assert_eq!(rows[0][2], "1.00 (10%)");
        assert_eq!(rows[0][7], "10.0");
        assert_eq!(rows[0][8], "100.0%");
        // A stage within another is listed, marked, and not summed.
        let s = data.record.cases[0].summary.as_mut().unwrap();
        s.extras.stages.0.push((
            "idle_exit".into(),
            StageSummary {
                within: Some("response_path".into()),
                ..s.extras.stages.0[0].1.clone()
            },
        ));
        let (h, rows) = text(&data);
        assert_eq!(h[7], "idle_exit*");
        assert_eq!(rows[0][9], "100.0%");
    }

    #[test]
    fn a_case_tells_its_coverage_and_its_typical_round_trip() {
        let data = fixture::stamped_run();
        let c = &data.record.cases[0];
        let cov = coverage(c).unwrap();
        assert!(
            cov.contains("stamped round trips: 990")
                && cov.contains("add up to 10.0 µs, 100.0% of")
                && cov.contains("10 beyond the stamp logs' room"),
            "{cov}"
        );
        let t = typical(c).unwrap();
        let lines: Vec<&str> = t.lines().collect();
        assert!(
            lines[0].contains("10.0 µs; client CPU 0, server CPU 1"),
            "{t}"
        );
        assert_eq!(lines.len(), 6);
        assert!(
            lines[2].contains("client → server") && lines[2].ends_with("request_path"),
            "{t}"
        );
        let (_, rows) = detail(c).unwrap();
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[1][0], "request_path");
        assert!(coverage(&data.record.cases[1]).is_none());
    }
}
