//! The user-space stages of a run's round trips as tables (`--stages`): an overview with one
//! row per stamped case and one column per stage, the round trip at the median decomposed (each
//! stage's mean over the round trips in a band around the median RTT: these add up), and per
//! case each stage's own percentiles (whose medians need not add up), the stages' medians per
//! path when the server ran inside the client's send in part of the round trips, how many round
//! trips the stages cover, and its typical round trip. summary.md, report.html and `loopbench
//! show` print the same tables; the kernel's stages (`--trace`) have their own
//! ([`kernel`](super::kernel)).

use std::fmt::Write as _;

use crate::metrics::stages::names;
use crate::store::record::{CaseRecord, RunRecord};
use crate::store::stage_split::{PathGroup, PathSplit};
use crate::store::stages::{Lane, StageMap, StageSummary, Timeline as TypicalRoundTrip};
use crate::text::us;

/// How a heading names the tables.
pub const TITLE: &str = "user-space stages (--stages)";

/// What the overview's cells mean.
pub const LEGEND: &str = "at the median round trip: each stage's mean in µs over the round \
trips ranked 45-55 % by RTT (its share of their mean RTT); Σ = those means, which add up to the \
band's mean RTT by construction (each message's stages add up to its round trip); stages marked \
* lie within another and are not summed; a case without a band (run.json before it) shows its \
stage medians instead, marked (p50)";

/// Why the per-stage medians need not add up to the round trip's.
pub const MARGINAL: &str = "medians need not add up: those of different stages come from \
different round trips (and when both workers share a CPU the stages are bimodal: in some round \
trips the server runs inside the client's send); their means do";

/// A path group counts as a mode of its own above this share of the round trips.
const MODE_SHARE: f64 = 0.05;

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

/// One row per stamped case, one column per stage (the case's round trip at the median,
/// [`LEGEND`]): `None` when no case has stages.
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
    let mut header = vec!["case".to_string()];
    header.extend(names.iter().map(|n| {
        if within(n) {
            format!("{n}*")
        } else {
            n.clone()
        }
    }));
    header.extend(["Σ µs", "band RTT mean µs", "RTT p50 µs", "Σ / RTT p50"].map(String::from));
    let mut rows = Vec::new();
    for c in &record.cases {
        let (Some(map), Some(s)) = (stages(c), &c.summary) else {
            continue;
        };
        let rtt = s.latency.p50_ns;
        let mut row = vec![c.case_id.to_string()];
        let (sum, band_rtt) = match &s.extras.stage_band {
            Some(band) if band.round_trips > 0 => {
                let share = |v: f64| v * 100.0 / band.rtt_mean_ns.max(1.0);
                row.extend(names.iter().map(|n| match band.stages.get(n) {
                    Some(v) => format!("{} ({:.0}%)", us(*v), share(*v)),
                    None => "-".into(),
                }));
                (band.sum_ns(), us(band.rtt_mean_ns))
            }
            _ => {
                row.extend(names.iter().map(|n| match map.get(n) {
                    Some(st) if st.latency.count > 0 => format!(
                        "{} ({:.0}%) (p50)",
                        us(st.latency.p50_ns as f64),
                        st.share_of_rtt * 100.0
                    ),
                    _ => "-".into(),
                }));
                (stacked_sum_ns(&map) as f64, "-".into())
            }
        };
        row.extend([us(sum), band_rtt, us(rtt as f64), ratio(sum, rtt as f64)]);
        rows.push(row);
    }
    Some((header, rows))
}

fn ratio(part: f64, whole: f64) -> String {
    if whole <= 0.0 {
        "-".into()
    } else {
        format!("{:.1}%", part * 100.0 / whole)
    }
}

/// The case's path split when both paths are modes of their own (each over [`MODE_SHARE`] of the
/// round trips).
fn modes(case: &CaseRecord) -> Option<&PathSplit> {
    let split = case.summary.as_ref()?.extras.stage_paths.as_ref()?;
    let share = split.in_send_share();
    let n = split.server_in_send.round_trips + split.server_after_send.round_trips;
    (n > 0 && share > MODE_SHARE && share < 1.0 - MODE_SHARE).then_some(split)
}

/// A case's user-space stages with their own percentiles, one row per stage, and a Σ row (the
/// medians' and the means' sums; only the means add up to the mean round trip). When the
/// server ran inside the client's send in part of the round trips, each stage's median within
/// each path group too.
pub fn detail(case: &CaseRecord) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let map = stages(case)?;
    let split = modes(case);
    let mut header = [
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
    if let Some(split) = split {
        let pct = split.in_send_share() * 100.0;
        header.push(format!("p50 µs, server in send ({pct:.0}%)"));
        header.push(format!("p50 µs, after send ({:.0}%)", 100.0 - pct));
    }
    let group =
        |g: &PathGroup, name: &str| g.stages.get(name).map_or("-".into(), |v| us(*v as f64));
    let mut rows: Vec<Vec<String>> = map
        .iter()
        .map(|(name, s)| {
            let l = &s.latency;
            let mut row = vec![
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
            ];
            if let Some(split) = split {
                row.push(group(&split.server_in_send, name));
                row.push(group(&split.server_after_send, name));
            }
            row
        })
        .collect();
    let stacked = || map.iter().filter(|(_, s)| s.within.is_none());
    let rtt = case.summary.as_ref().map_or(0, |s| s.latency.p50_ns);
    let p50_sum = stacked_sum_ns(&map);
    let mut sum = vec![
        "Σ".to_string(),
        us(p50_sum as f64),
        "-".into(),
        "-".into(),
        "-".into(),
        us(stacked().map(|(_, s)| s.latency.mean_ns).sum()),
        ratio(p50_sum as f64, rtt as f64),
        "-".into(),
        "-".into(),
        "-".into(),
    ];
    if let Some(split) = split {
        let total = |g: &PathGroup| {
            let v: u64 = stacked().filter_map(|(n, _)| g.stages.get(n)).sum();
            us(v as f64)
        };
        sum.push(total(&split.server_in_send));
        sum.push(total(&split.server_after_send));
    }
    rows.push(sum);
    Some((header, rows))
}

/// How many round trips the user-space stages cover and how they add up, in sentences: the
/// band's means against the round trip's median, the marginal medians' sum ([`MARGINAL`]), and
/// the path split when both paths are modes; `None` without stamps.
pub fn coverage(case: &CaseRecord) -> Option<String> {
    let s = case.summary.as_ref()?;
    let map = stages(case)?;
    let cov = s.extras.stage_coverage.unwrap_or_default();
    let rtt = s.latency.p50_ns as f64;
    let mut out = format!("stamped round trips: {}", cov.matched);
    if let Some(band) = s.extras.stage_band.as_ref().filter(|b| b.round_trips > 0) {
        let _ = write!(
            out,
            "; at the median round trip ({} round trips ranked {:.0}-{:.0} % by RTT, {}-{} µs) the \
             stages' means add up to {} µs = their mean RTT {} µs, {} of the RTT median {} µs",
            band.round_trips,
            band.from_quantile * 100.0,
            band.to_quantile * 100.0,
            us(band.rtt_from_ns as f64),
            us(band.rtt_to_ns as f64),
            us(band.sum_ns()),
            us(band.rtt_mean_ns),
            ratio(band.sum_ns(), rtt),
            us(rtt)
        );
    }
    let sum = stacked_sum_ns(&map) as f64;
    let _ = write!(
        out,
        "; the stages' own medians add up to {} µs, {} of the RTT median: {MARGINAL}",
        us(sum),
        ratio(sum, rtt),
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
    if let Some(split) = modes(case) {
        let p50 = |g: &PathGroup, name| g.stages.get(name).map_or("-".into(), |v| us(*v as f64));
        let (a, b) = (&split.server_in_send, &split.server_after_send);
        let _ = write!(
            out,
            "; two paths: {:.0} % of round trips: server ran inside the client's send \
             (p50 client_send {} µs, request_path {} µs), {:.0} %: after it (p50 client_send {} µs, \
             request_path {} µs)",
            split.in_send_share() * 100.0,
            p50(a, names::CLIENT_SEND),
            p50(a, names::REQUEST_PATH),
            100.0 - split.in_send_share() * 100.0,
            p50(b, names::CLIENT_SEND),
            p50(b, names::REQUEST_PATH),
        );
    }
    Some(out)
}

/// The case's typical round trip (the one nearest the median) as lines of text: each span's
/// start and end in µs after the client's send call, where it ran, and its name. With both
/// `--stages` and `--trace` the kernel's typical round trip (another message: the one nearest the
/// kernel view's median) follows as a second block.
pub fn typical(case: &CaseRecord) -> Option<String> {
    let extras = &case.summary.as_ref()?.extras;
    let user = extras.typical_round_trip.as_ref()?;
    let mut out = timeline_text("typical round trip", user);
    if let Some(k) = &extras.typical_kernel_round_trip {
        out.push('\n');
        out.push_str(&timeline_text("typical round trip in the kernel's view", k));
    }
    Some(out)
}

/// One round trip's spans as lines of text under a title line.
fn timeline_text(title: &str, t: &TypicalRoundTrip) -> String {
    let cpu = |c: Option<usize>| c.map_or("-".to_string(), |c| c.to_string());
    let lane = |l: Lane| match l {
        Lane::Client => "client",
        Lane::Server => "server",
    };
    let mut out = format!(
        "{title} (iteration {}, flow {}, message {}: {} µs; client CPU {}, server CPU {}):\n",
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn the_overview_leads_with_the_band_and_falls_back_to_medians() {
        let mut data = fixture::stamped_run();
        // Read back through a JSON value, run.json's stages come in key order: path order
        // is restored.
        let s = data.record.cases[0].summary.as_mut().unwrap();
        s.extras.stages.0.sort_by(|a, b| a.0.cmp(&b.0));
        let (h, rows) = overview(&data.record).unwrap();
        assert_eq!(
            h,
            [
                "case",
                "client_send",
                "request_path",
                "server_turnaround",
                "server_send",
                "response_path",
                "Σ µs",
                "band RTT mean µs",
                "RTT p50 µs",
                "Σ / RTT p50"
            ]
        );
        assert_eq!(rows.len(), 1, "only the stamped case");
        assert_eq!(rows[0][1], "1.10 (11%)", "the band's mean, not the median");
        assert_eq!(rows[0][5], "4.30 (43%)");
        assert_eq!(rows[0][6..], ["10.0", "10.0", "10.0", "100.0%"]);
        // Without a band (an older run.json): the medians, marked; a stage within another is
        // listed, marked, and not summed.
        let s = data.record.cases[0].summary.as_mut().unwrap();
        s.extras.stage_band = None;
        s.extras.stages.0.push((
            "idle_exit".into(),
            StageSummary {
                within: Some("response_path".into()),
                ..s.extras.stages.0[0].1.clone()
            },
        ));
        let (h, rows) = overview(&data.record).unwrap();
        assert_eq!(rows[0][1], "1.00 (10%) (p50)");
        assert_eq!(h[6], "idle_exit*");
        assert_eq!(rows[0][7..], ["10.0", "-", "10.0", "100.0%"]);
    }

    fn split(in_send: u64, after: u64) -> PathSplit {
        let group = |n, cs, rp| PathGroup {
            round_trips: n,
            stages: StageMap(vec![
                (names::CLIENT_SEND.into(), cs),
                (names::REQUEST_PATH.into(), rp),
            ]),
        };
        PathSplit {
            server_in_send: group(in_send, 6000, 1),
            server_after_send: group(after, 4000, 2000),
        }
    }

    #[test]
    fn two_paths_get_their_own_medians_when_both_are_modes() {
        let mut data = fixture::stamped_run();
        let s = data.record.cases[0].summary.as_mut().unwrap();
        s.extras.stage_paths = Some(split(43, 57));
        let c = &data.record.cases[0];
        let (h, rows) = detail(c).unwrap();
        assert_eq!(
            h[10..],
            ["p50 µs, server in send (43%)", "p50 µs, after send (57%)"]
        );
        assert_eq!(rows[0][10..], ["6.00", "4.00"]);
        assert_eq!(rows[2][10..], ["-", "-"], "a stage the groups do not have");
        assert_eq!(rows[5][10..], ["6.00", "6.00"], "the groups' sums");
        let cov = coverage(c).unwrap();
        assert!(
            cov.contains("43 % of round trips: server ran inside the client's send (p50 client_send 6.00 µs, request_path 0.00 µs), 57 %: after it"),
            "{cov}"
        );
        // A path of under 5 % of the round trips is no mode of its own.
        let s = data.record.cases[0].summary.as_mut().unwrap();
        s.extras.stage_paths = Some(split(4, 96));
        let c = &data.record.cases[0];
        assert_eq!(detail(c).unwrap().0.len(), 10);
        assert!(!coverage(c).unwrap().contains("two paths"));
    }

    #[test]
    fn a_case_tells_its_coverage_and_its_typical_round_trip() {
        let data = fixture::stamped_run();
        let c = &data.record.cases[0];
        let cov = coverage(c).unwrap();
        assert!(
            cov.contains("stamped round trips: 990")
                && cov.contains("at the median round trip (99 round trips ranked 45-55 % by RTT, 9.90-10.1 µs) the stages' means add up to 10.0 µs = their mean RTT 10.0 µs, 100.0% of the RTT median 10.0 µs")
                && cov.contains("the stages' own medians add up to 10.0 µs, 100.0% of")
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
        assert_eq!(rows.len(), 6, "five stages and their sum");
        assert!(
            !t.contains("kernel's view"),
            "no kernel round trip recorded: {t}"
        );
        assert_eq!(rows[1][0], "request_path");
        assert_eq!(rows[5][..2], ["Σ", "10.0"]);
        assert_eq!(rows[5][6], "100.0%");
        assert!(coverage(&data.record.cases[1]).is_none());
    }

    #[test]
    fn the_kernel_typical_round_trip_follows_the_user_one() {
        let mut data = fixture::stamped_run();
        let s = data.record.cases[0].summary.as_mut().unwrap();
        let user = s.extras.typical_round_trip.clone().unwrap();
        s.extras.typical_kernel_round_trip = Some(TypicalRoundTrip {
            message: 7,
            rtt_ns: 12_000,
            spans: vec![crate::store::stages::Span {
                name: "request.wakeup".into(),
                layer: crate::store::stages::Layer::Kernel,
                from: Lane::Client,
                to: Lane::Server,
                start_ns: 1_000,
                end_ns: 4_500,
            }],
            ..user
        });
        let t = typical(&data.record.cases[0]).unwrap();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 6 + 1 + 2, "{t}");
        assert!(lines[0].starts_with("typical round trip (iteration"), "{t}");
        assert!(
            lines[7].starts_with("typical round trip in the kernel's view (iteration")
                && lines[7].contains("message 7: 12.0 µs"),
            "{t}"
        );
        assert!(
            lines[8].contains("1.00 →      4.50 µs  kernel client → server")
                && lines[8].ends_with("request.wakeup"),
            "{t}"
        );
    }
}
