//! Joining the two sides' stamp logs of an iteration into its stages (`--stages`).
//!
//! Per message there are six points: the client's send call (p0) and return (p1), the server's
//! receive return (p2), send call (p3) and return (p4), the client's receive return (p5); plus,
//! for `rate` and `crr`, the start of the latency before p0. The stages partition the message's
//! latency exactly, so they add up to it message by message:
//!
//! | stage | from → to |
//! |---|---|
//! | `send_lag` (rate) / `connect` (crr) | start → p0 |
//! | `client_send` | p0 → min(p1, p2) |
//! | `request_path` | min(p1, p2) → p2 |
//! | `server_turnaround` (+ `handler`) | p2 → p3 |
//! | `server_send` | p3 → min(p4, p5) |
//! | `response_path` | min(p4, p5) → p5 |
//!
//! The `min`s matter on one CPU: a wake-up may preempt the sender inside its send call, so the
//! server receives (p2) before the client's send returns (p1), or the client receives (p5)
//! before the server's send returns (p4). The send stage then ends when the peer has the
//! message, the path is 0, and the rest of the send call overlaps the peer's work; such messages
//! are counted (`request_overlaps`, `response_overlaps` in the iteration's coverage notes).

use crate::metrics::histogram::LatencyHistogram;
use crate::metrics::stages::{PathSets, StageSet, median, names};
use crate::metrics::stamps::{ClientStamps, ServerStamps, StampLog};
use crate::spec::{Spec, Workload};
use crate::store::stage_split::{BAND, BandStages};
use crate::store::stages::{Lane, Layer, Span, StageCoverage, StageMap, Timeline};

use super::outcome::IterationStages;

/// One stage of one message, as a span of its timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// The stage.
    pub name: &'static str,
    /// Where it starts.
    pub from: Lane,
    /// Where it ends.
    pub to: Lane,
    /// Start (ns, the clock's own origin).
    pub start: u64,
    /// End.
    pub end: u64,
}

/// What happens before the send call in `workload`, if anything.
fn lead_stage(workload: Workload) -> Option<&'static str> {
    match workload {
        Workload::Rate => Some(names::SEND_LAG),
        Workload::Crr => Some(names::CONNECT),
        _ => None,
    }
}

/// A matched message's stages, in order; `lead` names the stage before the send call.
pub fn pieces(c: &ClientStamps, s: &ServerStamps, lead: Option<&'static str>) -> Vec<Piece> {
    use Lane::{Client, Server};
    // Each point no earlier than the one before (with clocks that agree, only the `min`s cut).
    let e0 = c.send_call.max(c.start);
    let e1 = c.send_return.min(s.recv_return).max(e0);
    let e2 = s.recv_return.max(e1);
    let e3 = s.send_call.max(e2);
    let e4 = s.send_return.min(c.recv_return).max(e3);
    let e5 = c.recv_return.max(e4);
    let handler = u64::from(s.handler_ns).min(e3 - e2);
    let piece = |name, from, to, start, end| Piece {
        name,
        from,
        to,
        start,
        end,
    };
    let mut out = Vec::with_capacity(7);
    if let Some(name) = lead {
        out.push(piece(name, Client, Client, c.start, e0));
    }
    out.push(piece(names::CLIENT_SEND, Client, Client, e0, e1));
    out.push(piece(names::REQUEST_PATH, Client, Server, e1, e2));
    out.push(piece(
        names::SERVER_TURNAROUND,
        Server,
        Server,
        e2,
        e3 - handler,
    ));
    if s.handler_ns > 0 {
        out.push(piece(names::HANDLER, Server, Server, e3 - handler, e3));
    }
    out.push(piece(names::SERVER_SEND, Server, Server, e3, e4));
    out.push(piece(names::RESPONSE_PATH, Server, Client, e4, e5));
    out
}

/// The logs of an iteration: the clients' by flow index, every server flow's.
#[derive(Default)]
pub struct Logs {
    /// Client flow `i`'s log at index `i`.
    pub clients: Vec<Option<StampLog<ClientStamps>>>,
    /// Every server flow's log.
    pub servers: Vec<StampLog<ServerStamps>>,
}

impl Logs {
    /// True when no flow stamped.
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty() && self.clients.iter().all(Option::is_none)
    }
}

/// The nearest round trip so far to the median, and its stamps.
struct Nearest {
    target_ns: u64,
    best: Option<(u64, u32, u64, ClientStamps, ServerStamps)>,
}

impl Nearest {
    fn offer(&mut self, flow: u32, seq: u64, c: &ClientStamps, s: &ServerStamps) {
        let rtt = c.recv_return.saturating_sub(c.start);
        let better = self
            .best
            .as_ref()
            .is_none_or(|b| rtt.abs_diff(self.target_ns) < b.0.abs_diff(self.target_ns));
        if better {
            self.best = Some((rtt, flow, seq, *c, *s));
        }
    }
}

/// The stages of an iteration of `spec` from its flows' logs; `latency` is its merged latency
/// (the typical round trip is the one nearest its median) and `cpus` the client's and the
/// server's CPU when each side ran on one.
pub fn join(
    spec: &Spec,
    logs: Logs,
    latency: &LatencyHistogram,
    cpus: (Option<usize>, Option<usize>),
) -> IterationStages {
    let lead = lead_stage(spec.workload);
    let mut set = StageSet::default();
    let mut paths = PathSets::default();
    let mut joined: Vec<(u64, &ClientStamps, &ServerStamps)> = Vec::new();
    for name in names::ALL {
        let used = match *name {
            names::CONNECT | names::SEND_LAG => lead == Some(name),
            names::HANDLER => spec.server_handler.is_some(),
            _ => true,
        };
        if used {
            set.stage_mut(name);
            paths.in_send.stage_mut(name);
            paths.after_send.stage_mut(name);
        }
    }
    let mut coverage = StageCoverage::default();
    let mut matched: Vec<Vec<bool>> = logs
        .clients
        .iter()
        .map(|l| vec![false; l.as_ref().map_or(0, |l| l.entries().len())])
        .collect();
    let mut nearest = Nearest {
        target_ns: median(latency),
        best: None,
    };
    for server in &logs.servers {
        for s in server.entries() {
            let flow = s.flow as usize;
            let Some(Some(client)) = logs.clients.get(flow) else {
                continue;
            };
            let Some(c) = s
                .seq
                .checked_sub(1)
                .and_then(|i| client.entries().get(i as usize))
            else {
                continue; // past the client's room: counted in its overflow
            };
            matched[flow][(s.seq - 1) as usize] = true;
            if c.recv_return == 0 || s.send_return == 0 {
                coverage.lost_responses += 1;
                continue;
            }
            coverage.matched += 1;
            let in_send = s.recv_return < c.send_return;
            coverage.request_overlaps += u64::from(in_send);
            coverage.response_overlaps += u64::from(c.recv_return < s.send_return);
            paths.round_trips[usize::from(!in_send)] += 1;
            for p in pieces(c, s, lead) {
                set.record(p.name, p.end - p.start);
                paths.group_mut(in_send).record(p.name, p.end - p.start);
            }
            nearest.offer(s.flow, s.seq, c, s);
            joined.push((c.recv_return.saturating_sub(c.start), c, s));
        }
    }
    for (flow, client) in logs.clients.iter().enumerate() {
        let Some(client) = client else { continue };
        coverage.beyond_capacity += client.overflow;
        for (c, seen) in client.entries().iter().zip(&matched[flow]) {
            match (c.start != 0, c.recv_return != 0, seen) {
                (true, true, false) => coverage.beyond_capacity += 1,
                (true, false, false) => coverage.lost_requests += 1,
                _ => {}
            }
        }
    }
    let typical = nearest.best.map(|(rtt_ns, flow, seq, c, s)| Timeline {
        iteration: 0,
        message: seq,
        flow,
        rtt_ns,
        client_cpu: cpus.0,
        server_cpu: cpus.1,
        spans: pieces(&c, &s, lead)
            .into_iter()
            .map(|p| Span {
                name: p.name.to_string(),
                layer: Layer::User,
                from: p.from,
                to: p.to,
                start_ns: (p.start - c.start) as i64,
                end_ns: (p.end - c.start) as i64,
            })
            .collect(),
    });
    let band = band(&mut joined, lead, &set);
    IterationStages {
        set,
        coverage,
        typical,
        band,
        paths,
    }
}

/// Each stage's mean over the `joined` round trips (RTT, stamps) whose RTT lies in the [`BAND`]
/// around their median; `order` gives the stages in path order. The means add up to the band's
/// mean RTT as far as each message's stages add up to its RTT (exactly, when the clocks agree).
fn band(
    joined: &mut [(u64, &ClientStamps, &ServerStamps)],
    lead: Option<&'static str>,
    order: &StageSet,
) -> Option<BandStages> {
    if joined.is_empty() {
        return None;
    }
    joined.sort_unstable_by_key(|j| j.0);
    let at = |q: f64| ((joined.len() - 1) as f64 * q).round() as usize;
    let in_band = &joined[at(BAND.0)..=at(BAND.1)];
    let mut sums: Vec<(&str, u64)> = order.stages.iter().map(|s| (s.name.as_str(), 0)).collect();
    for (_, c, s) in in_band {
        for p in pieces(c, s, lead) {
            if let Some(e) = sums.iter_mut().find(|e| e.0 == p.name) {
                e.1 += p.end - p.start;
            }
        }
    }
    let n = in_band.len() as f64;
    Some(BandStages {
        from_quantile: BAND.0,
        to_quantile: BAND.1,
        rtt_from_ns: in_band[0].0,
        rtt_to_ns: in_band[in_band.len() - 1].0,
        round_trips: in_band.len() as u64,
        rtt_mean_ns: in_band.iter().map(|j| j.0 as f64).sum::<f64>() / n,
        stages: StageMap(
            sums.into_iter()
                .map(|(name, sum)| (name.to_string(), sum as f64 / n))
                .collect(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::histogram::{new_histogram, record};
    use crate::spec::Transport;

    fn client(start: u64, p: [u64; 3]) -> ClientStamps {
        ClientStamps {
            start,
            send_call: p[0],
            send_return: p[1],
            recv_return: p[2],
        }
    }

    fn server(flow: u32, seq: u64, p: [u64; 3]) -> ServerStamps {
        ServerStamps {
            seq,
            flow,
            handler_ns: 0,
            recv_return: p[0],
            send_call: p[1],
            send_return: p[2],
        }
    }

    fn sum(pieces: &[Piece]) -> u64 {
        pieces.iter().map(|p| p.end - p.start).sum()
    }

    #[test]
    fn across_cpus_each_stage_is_the_span_between_its_stamps() {
        let c = client(100, [100, 130, 1000]);
        let s = server(0, 1, [400, 420, 470]);
        let p = pieces(&c, &s, None);
        let d: Vec<(&str, u64)> = p.iter().map(|p| (p.name, p.end - p.start)).collect();
        assert_eq!(
            d,
            [
                ("client_send", 30),
                ("request_path", 270),
                ("server_turnaround", 20),
                ("server_send", 50),
                ("response_path", 530)
            ]
        );
        assert_eq!(sum(&p), 900, "the stages add up to the round trip");
    }

    #[test]
    fn a_send_call_that_outlives_the_peers_receive_ends_there() {
        // One CPU: the server ran inside the client's send call (woken and preferred), answered,
        // and the client's send returned after the server's send.
        let c = client(0, [0, 500, 560]);
        let s = server(0, 1, [200, 220, 300]);
        let p = pieces(&c, &s, None);
        let d: Vec<u64> = p.iter().map(|p| p.end - p.start).collect();
        assert_eq!(d, [200, 0, 20, 80, 260]);
        assert_eq!(sum(&p), 560);
        // The client got the response before the server's send returned.
        let s = server(0, 1, [200, 220, 600]);
        let c = client(0, [0, 100, 500]);
        let d: Vec<u64> = pieces(&c, &s, None)
            .iter()
            .map(|p| p.end - p.start)
            .collect();
        assert_eq!(d, [100, 100, 20, 280, 0]);
    }

    #[test]
    fn the_lead_and_the_handler_are_stages_of_their_own() {
        let c = client(50, [100, 130, 1000]);
        let mut s = server(0, 1, [400, 520, 570]);
        s.handler_ns = 90;
        let p = pieces(&c, &s, Some(names::SEND_LAG));
        let d: Vec<(&str, u64)> = p.iter().map(|p| (p.name, p.end - p.start)).collect();
        assert_eq!(d[0], ("send_lag", 50));
        assert_eq!(d[3], ("server_turnaround", 30));
        assert_eq!(d[4], ("handler", 90));
        assert_eq!(sum(&p), 950);
    }

    fn logs(clients: Vec<Vec<ClientStamps>>, servers: Vec<Vec<ServerStamps>>) -> Logs {
        let log = |v: Vec<ClientStamps>| {
            let mut l = StampLog::with_capacity(v.len());
            for (i, e) in v.into_iter().enumerate() {
                *l.at(i as u64).unwrap() = e;
            }
            Some(l)
        };
        Logs {
            clients: clients.into_iter().map(log).collect(),
            servers: servers
                .into_iter()
                .map(|v| {
                    let mut l = StampLog::with_capacity(v.len());
                    v.into_iter().for_each(|e| l.push(e));
                    l
                })
                .collect(),
        }
    }

    #[test]
    fn datagrams_match_by_sequence_number_and_losses_are_counted() {
        // Flow 0: request 2 lost on the way there, the response to 3 lost on the way back,
        // 1 and 4 answered; flow 1: one round trip. The server of flow 0 saw 1, 3, 4.
        let c0 = vec![
            client(0, [0, 10, 300]),
            client(1000, [1000, 1010, 0]),
            client(2000, [2000, 2010, 0]),
            client(3000, [3000, 3010, 3500]),
        ];
        let s0 = vec![
            server(0, 1, [100, 110, 120]),
            server(0, 3, [2100, 2110, 2120]),
            server(0, 4, [3100, 3110, 3120]),
        ];
        let c1 = vec![client(0, [0, 10, 400])];
        let s1 = vec![server(1, 1, [200, 210, 220])];
        let mut latency = new_histogram();
        for v in [300, 500, 400] {
            record(&mut latency, v);
        }
        let spec = Spec::new(Transport::Udp4);
        let out = join(
            &spec,
            logs(vec![c0, c1], vec![s0, s1]),
            &latency,
            (Some(0), Some(1)),
        );
        assert_eq!(
            out.coverage,
            StageCoverage {
                matched: 3,
                lost_requests: 1,
                lost_responses: 1,
                ..StageCoverage::default()
            }
        );
        let rp = &out.set.get(names::REQUEST_PATH).unwrap().histogram;
        assert_eq!(rp.len(), 3);
        let t = out.typical.unwrap();
        assert_eq!(
            (t.flow, t.message, t.rtt_ns),
            (1, 1, 400),
            "nearest the median"
        );
        assert_eq!(t.spans.len(), 5);
        assert_eq!(t.spans[1].start_ns, 10);
        assert_eq!(t.spans.last().unwrap().end_ns, 400);
        assert_eq!((t.client_cpu, t.server_cpu), (Some(0), Some(1)));
    }

    #[test]
    fn messages_past_either_logs_room_are_counted_not_joined() {
        let mut l = logs(
            vec![vec![client(0, [0, 10, 300]), client(400, [400, 410, 700])]],
            vec![vec![server(0, 1, [100, 110, 120])]],
        );
        l.servers[0].overflow = 1;
        l.clients[0].as_mut().unwrap().overflow = 5;
        let out = join(
            &Spec::new(Transport::Tcp4),
            l,
            &new_histogram(),
            (None, None),
        );
        assert_eq!(out.coverage.matched, 1);
        assert_eq!(
            out.coverage.beyond_capacity,
            1 + 5,
            "a server log's overflow shows as the client's unmatched messages"
        );
    }

    /// Same-core-like round trips: in 45 the server ran inside the client's send (request_path 0,
    /// RTT 10.7 µs), in 55 it did not (RTT 12.45 µs and up). Per message the stages add up; their
    /// marginal medians come from different messages and overshoot the median RTT by 17 %.
    fn bimodal() -> (Logs, LatencyHistogram) {
        let (mut clients, mut servers) = (Vec::new(), Vec::new());
        let mut latency = new_histogram();
        for i in 0..100u64 {
            let t = i * 100_000;
            let (c, s) = if i % 20 < 9 {
                (
                    client(t, [t, t + 9000, t + 10_700]),
                    server(0, i + 1, [t + 4000, t + 4000, t + 8000]),
                )
            } else {
                let resp = (i % 55) * 50;
                (
                    client(t, [t, t + 4900, t + 12_450 + resp]),
                    server(0, i + 1, [t + 7600, t + 7600, t + 12_450]),
                )
            };
            record(&mut latency, c.recv_return - t);
            clients.push(c);
            servers.push(s);
        }
        (logs(vec![clients], vec![servers]), latency)
    }

    #[test]
    fn the_band_adds_up_where_the_marginal_medians_do_not() {
        let (l, latency) = bimodal();
        let out = join(&Spec::new(Transport::Tcp4), l, &latency, (Some(0), Some(0)));
        let rtt_p50 = median(&latency) as f64;
        let marginal: u64 = out.set.medians().iter().map(|(_, m)| m).sum();
        assert!(
            marginal as f64 > 1.10 * rtt_p50,
            "the fixture is bimodal: {marginal} vs {rtt_p50}"
        );
        let band = out.band.unwrap();
        assert_eq!(band.round_trips, 10, "ranks 45 to 54 of 100");
        assert!(band.rtt_from_ns <= median(&latency) && median(&latency) <= band.rtt_to_ns);
        assert!((band.sum_ns() - band.rtt_mean_ns).abs() < 1e-6, "{band:?}");
        let names: Vec<&str> = band.stages.iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "client_send",
                "request_path",
                "server_turnaround",
                "server_send",
                "response_path"
            ]
        );
        assert!((band.rtt_mean_ns / rtt_p50 - 1.0).abs() < 0.02);
    }

    #[test]
    fn the_path_split_counts_the_server_running_inside_the_clients_send() {
        let (l, latency) = bimodal();
        let out = join(&Spec::new(Transport::Tcp4), l, &latency, (None, None));
        assert_eq!(out.paths.round_trips, [45, 55]);
        assert_eq!(out.coverage.request_overlaps, 45);
        let rp = |set: &StageSet| median(&set.get(names::REQUEST_PATH).unwrap().histogram);
        assert_eq!(
            rp(&out.paths.in_send),
            1,
            "0, recorded as the histograms' 1 ns"
        );
        // Medians are the histograms' (highest equivalent values).
        let hdr = |v| latency.highest_equivalent(v);
        assert_eq!(rp(&out.paths.after_send), hdr(2700));
        let cs = |set: &StageSet| median(&set.get(names::CLIENT_SEND).unwrap().histogram);
        assert_eq!(
            (cs(&out.paths.in_send), cs(&out.paths.after_send)),
            (hdr(4000), hdr(4900))
        );
    }
}
