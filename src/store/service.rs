//! What a case against a service records besides its latency: a latency summary per request
//! kind, HTTP status codes, what TCP_INFO said about its connections, and the diagnosis a
//! reader needs when those point at Nagle + delayed ACK or at split writes.

use serde::{Deserialize, Serialize};

use crate::metrics::histogram::{LatencyHistogram, LatencySummary};
use crate::metrics::service::ServiceMeasure;
use crate::metrics::stages::StageSet;

/// Round trips this long are where a delayed-ACK timer fires: Linux delays an ACK by at least
/// 40 ms (TCP_DELACK_MIN) and at most 200 ms (TCP_DELACK_MAX); the window has some slack.
pub const DELAYED_ACK_WINDOW_NS: (u64, u64) = (35_000_000, 220_000_000);

/// A share of round trips in the delayed-ACK window above this is a mode there, not a tail.
pub const DELAYED_ACK_SHARE: f64 = 0.05;

/// One request kind's round trips.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KindRecord {
    /// The kind's name (a requests file entry's, or a generator's).
    pub name: String,
    /// Its latency distribution.
    pub latency: LatencySummary,
}

/// How many responses had one HTTP status code.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct StatusRecord {
    /// The status code; 0 counts the codes past the first 15 a flow saw.
    pub code: u16,
    /// Responses with it.
    pub responses: u64,
}

/// What TCP_INFO said about the client's connections over an iteration or a case.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TcpRecord {
    /// Connections read.
    pub connections: u32,
    /// Readings taken (start, end, and every 1024 round trips).
    pub samples: u32,
    /// Segments retransmitted.
    pub retransmits: u64,
    /// Smoothed round-trip time at the end, the largest over connections (µs).
    pub rtt_us: u32,
    /// Its variation at the end, the largest over connections (µs).
    pub rttvar_us: u32,
    /// The largest smoothed round-trip time any reading saw (µs).
    pub max_rtt_us: u32,
    /// The delayed-ACK timeout (`ato`) at the end, the largest over connections (µs).
    pub ato_us: u32,
    /// The most unacknowledged segments a reading saw.
    pub max_unacked: u32,
    /// The most bytes written but not yet sent a reading saw.
    pub max_notsent_bytes: u32,
    /// The client's receive MSS (largest segment received).
    pub rcv_mss: u32,
    /// Data segments the client received (responses).
    pub data_segs_in: u64,
    /// Data segments the client sent (requests).
    pub data_segs_out: u64,
    /// Round trips over the readings.
    pub round_trips: u64,
    /// Response bytes over the readings.
    pub response_bytes: u64,
    /// Round trips that took as long as a delayed-ACK timer (35–220 ms).
    pub delayed_ack_round_trips: u64,
}

impl TcpRecord {
    /// Data segments per response.
    pub fn segments_per_response(&self) -> f64 {
        ratio(self.data_segs_in, self.round_trips)
    }

    /// Data segments per request.
    pub fn segments_per_request(&self) -> f64 {
        ratio(self.data_segs_out, self.round_trips)
    }

    /// Adds another iteration's record.
    fn add(&mut self, o: &TcpRecord) {
        self.connections = self.connections.max(o.connections);
        self.samples += o.samples;
        self.retransmits += o.retransmits;
        self.rtt_us = self.rtt_us.max(o.rtt_us);
        self.rttvar_us = self.rttvar_us.max(o.rttvar_us);
        self.max_rtt_us = self.max_rtt_us.max(o.max_rtt_us);
        self.ato_us = self.ato_us.max(o.ato_us);
        self.max_unacked = self.max_unacked.max(o.max_unacked);
        self.max_notsent_bytes = self.max_notsent_bytes.max(o.max_notsent_bytes);
        self.rcv_mss = self.rcv_mss.max(o.rcv_mss);
        self.data_segs_in += o.data_segs_in;
        self.data_segs_out += o.data_segs_out;
        self.round_trips += o.round_trips;
        self.response_bytes += o.response_bytes;
        self.delayed_ack_round_trips += o.delayed_ack_round_trips;
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// A service case's record (an iteration's or, merged, the case's).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServiceRecord {
    /// Latency per request kind (a mix or a generator; the total is the case's latency).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<KindRecord>,
    /// HTTP status codes of the responses (`--protocol http1`), in the order first seen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<StatusRecord>,
    /// TCP_INFO of the client's connections (TCP only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpRecord>,
}

impl ServiceRecord {
    /// An iteration's record from what its clients measured: `names` are the request kinds,
    /// `latency` all round trips.
    pub fn of(names: &[String], m: &ServiceMeasure, latency: &LatencyHistogram) -> ServiceRecord {
        let kinds = names
            .iter()
            .zip(&m.kinds)
            .map(|(name, h)| KindRecord {
                name: name.clone(),
                latency: LatencySummary::of(h),
            })
            .collect();
        let tcp = (!m.tcp.is_empty()).then(|| {
            let mut r = TcpRecord {
                connections: m.tcp.len() as u32,
                round_trips: m.messages,
                response_bytes: m.response_bytes,
                delayed_ack_round_trips: latency
                    .count_between(DELAYED_ACK_WINDOW_NS.0, DELAYED_ACK_WINDOW_NS.1),
                ..TcpRecord::default()
            };
            for t in &m.tcp {
                let (segs_in, segs_out) = t.data_segments();
                r.samples += t.samples;
                r.retransmits += t.retransmits();
                r.rtt_us = r.rtt_us.max(t.last.rtt_us);
                r.rttvar_us = r.rttvar_us.max(t.last.rttvar_us);
                r.max_rtt_us = r.max_rtt_us.max(t.max_rtt_us);
                r.ato_us = r.ato_us.max(t.last.ato_us);
                r.max_unacked = r.max_unacked.max(t.max_unacked);
                r.max_notsent_bytes = r.max_notsent_bytes.max(t.max_notsent_bytes);
                r.rcv_mss = r.rcv_mss.max(t.last.rcv_mss);
                r.data_segs_in += segs_in;
                r.data_segs_out += segs_out;
            }
            r
        });
        ServiceRecord {
            kinds,
            status: m
                .status
                .counts
                .iter()
                .map(|&(code, responses)| StatusRecord { code, responses })
                .collect(),
            tcp,
        }
    }

    /// A case's record from its iterations' and its per-kind histograms merged.
    pub fn merge<'a>(
        iterations: impl IntoIterator<Item = &'a ServiceRecord>,
        kinds: &StageSet,
    ) -> ServiceRecord {
        let mut out = ServiceRecord {
            kinds: kinds
                .stages
                .iter()
                .map(|k| KindRecord {
                    name: k.name.clone(),
                    latency: LatencySummary::of(&k.histogram),
                })
                .collect(),
            ..ServiceRecord::default()
        };
        for it in iterations {
            for s in &it.status {
                match out.status.iter_mut().find(|o| o.code == s.code) {
                    Some(o) => o.responses += s.responses,
                    None => out.status.push(*s),
                }
            }
            if let Some(t) = &it.tcp {
                out.tcp.get_or_insert_with(TcpRecord::default).add(t);
            }
        }
        out
    }

    /// What a reader must know: round trips that wait for a delayed ACK, responses split into
    /// more segments than they need, retransmits, error statuses; each with the usual fixes.
    pub fn diagnosis(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let errors: u64 = self
            .status
            .iter()
            .filter(|s| !(200..400).contains(&s.code))
            .map(|s| s.responses)
            .sum();
        if errors > 0 {
            let codes: Vec<String> = self
                .status
                .iter()
                .filter(|s| !(200..400).contains(&s.code))
                .map(|s| format!("{} × {}", s.responses, s.code))
                .collect();
            notes.push(format!(
                "{errors} responses were not 2xx/3xx ({}): the latency includes error answers; check the request",
                codes.join(", ")
            ));
        }
        let Some(t) = &self.tcp else {
            return notes;
        };
        let share = ratio(t.delayed_ack_round_trips, t.round_trips);
        let fixes = "fixes: TCP_NODELAY on the service's socket, one write per response (build it in one buffer, or writev), or TCP_QUICKACK at the client";
        if share > DELAYED_ACK_SHARE {
            notes.push(format!(
                "{:.0} % of round trips took 35–220 ms, where a delayed-ACK timer fires (the client's ato is {} ms): the likely cause is Nagle + delayed ACK, a response written in parts whose last part Nagle holds until the client's delayed ACK of the first; {fixes}",
                share * 100.0,
                t.ato_us / 1000
            ));
        }
        let (per_response, per_request) = (t.segments_per_response(), t.segments_per_request());
        // Segments a response needs at the connection's MSS (loopback's is 65483 by default).
        let mss = if t.rcv_mss > 0 { t.rcv_mss } else { 65_483 };
        let needed = (ratio(t.response_bytes, t.round_trips) / f64::from(mss))
            .ceil()
            .max(1.0);
        if per_response >= needed + 0.5 && per_response > per_request {
            notes.push(format!(
                "responses arrived in {per_response:.1} segments each (requests in {per_request:.1}; their size needs {needed:.0}): the service writes each response in more than one write (split writes), which with Nagle waits for a delayed ACK; {fixes}"
            ));
        }
        if t.retransmits > 0 {
            notes.push(format!(
                "{} segments were retransmitted on loopback: a full queue or a drop somewhere (see nstat, tc -s qdisc show dev lo)",
                t.retransmits
            ));
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(round_trips: u64, segs_in: u64, delayed: u64) -> ServiceRecord {
        ServiceRecord {
            tcp: Some(TcpRecord {
                connections: 1,
                round_trips,
                data_segs_in: segs_in,
                data_segs_out: round_trips,
                response_bytes: round_trips * 200,
                rcv_mss: 65_483,
                delayed_ack_round_trips: delayed,
                ato_us: 40_000,
                ..TcpRecord::default()
            }),
            ..ServiceRecord::default()
        }
    }

    #[test]
    fn split_writes_waiting_for_a_delayed_ack_are_named_with_their_fixes() {
        let notes = tcp(100, 200, 98).diagnosis();
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("Nagle + delayed ACK") && notes[0].contains("ato is 40 ms"));
        assert!(notes[1].contains("2.0 segments") && notes[1].contains("split writes"));
        assert!(notes.iter().all(|n| n.contains("TCP_NODELAY")));
    }

    #[test]
    fn one_segment_per_response_and_fast_round_trips_say_nothing() {
        assert!(tcp(100, 100, 0).diagnosis().is_empty());
        assert!(tcp(1000, 1000, 10).diagnosis().is_empty(), "1 % is a tail");
        let mut s = tcp(100, 100, 0);
        s.status = vec![
            StatusRecord {
                code: 200,
                responses: 90,
            },
            StatusRecord {
                code: 404,
                responses: 10,
            },
        ];
        assert_eq!(
            s.diagnosis(),
            [
                "10 responses were not 2xx/3xx (10 × 404): the latency includes error answers; check the request"
            ]
        );
    }

    #[test]
    fn iterations_merge_their_counts() {
        let a = tcp(100, 200, 98);
        let merged = ServiceRecord::merge([&a, &a], &StageSet::default());
        let t = merged.tcp.unwrap();
        assert_eq!(
            (t.round_trips, t.data_segs_in, t.connections),
            (200, 400, 1)
        );
        assert_eq!(t.segments_per_response(), 2.0);
    }
}
