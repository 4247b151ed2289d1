//! What run.json keeps of a round trip's stages: per case a [`StageSummary`] per stage (under
//! the summary's `stages`, user space; `kernel_stages`, traced), per iteration each stage's
//! median, how many messages the stages cover, and one typical round trip as a [`Timeline`]
//! across the two CPUs. The stages' histograms are written to `cases/<id>/stages/<stage>.hgrm`
//! and `cases/<id>/kernel-stages/<key>.hgrm`.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::metrics::histogram::LatencySummary;
use crate::metrics::stages::StageSet;

/// Stage name → value, in the order the stages happen along the path; a JSON object whose keys
/// keep that order.
#[derive(Clone, Debug, PartialEq)]
pub struct StageMap<V>(pub Vec<(String, V)>);

impl<V> Default for StageMap<V> {
    fn default() -> Self {
        StageMap(Vec::new())
    }
}

impl<V> StageMap<V> {
    /// True when there is no stage.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of stage `name`.
    pub fn get(&self, name: &str) -> Option<&V> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The stages in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v))
    }
}

impl<V: Serialize> Serialize for StageMap<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for StageMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Ordered<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Ordered<V> {
            type Value = StageMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from stage name to value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = m.next_entry()? {
                    out.push(entry);
                }
                Ok(StageMap(out))
            }
        }
        d.deserialize_map(Ordered(PhantomData))
    }
}

/// In JSON, an object from stage name to value (its keys in path order).
impl<V: schemars::JsonSchema> schemars::JsonSchema for StageMap<V> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("StageMap_of_{}", V::schema_name()).into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "additionalProperties": generator.subschema_for::<V>(),
        })
    }
}

/// One stage of a case: its distribution (the same fields as the case's latency), its median's
/// share of the round trip's median, and the messages in which it did not occur.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StageSummary {
    /// Percentiles, count, min, max, mean of the stage's durations (ns).
    #[serde(flatten)]
    pub latency: LatencySummary,
    /// The stage's median over the round trip's median (the case's latency p50).
    pub share_of_rtt: f64,
    /// Messages in which the stage did not occur (the kernel took a path without it).
    #[serde(default)]
    pub absent: u64,
    /// The stage this one is part of: listed, but not stacked on the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<String>,
}

/// Each stage's summary; `rtt_p50_ns` is the case's (or iteration's) median round trip.
pub fn summarize(set: &StageSet, rtt_p50_ns: u64) -> StageMap<StageSummary> {
    StageMap(
        set.stages
            .iter()
            .map(|s| {
                let latency = LatencySummary::of(&s.histogram);
                let share_of_rtt = if rtt_p50_ns == 0 {
                    0.0
                } else {
                    latency.p50_ns as f64 / rtt_p50_ns as f64
                };
                let summary = StageSummary {
                    latency,
                    share_of_rtt,
                    absent: s.absent,
                    within: s.within.clone(),
                };
                (s.name.clone(), summary)
            })
            .collect(),
    )
}

/// Each stage's median, as an iteration record keeps it.
pub fn medians(set: &StageSet) -> StageMap<u64> {
    StageMap(set.medians())
}

/// How many messages the user-space stages cover, and why the others are not in them.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct StageCoverage {
    /// Round trips stamped on both sides: the stages' sample.
    pub matched: u64,
    /// Messages past the room of the stamp logs (sized before each iteration from the
    /// case's previous one): measured, not stamped.
    pub beyond_capacity: u64,
    /// Datagram requests the server never received (lost on the way there).
    pub lost_requests: u64,
    /// Requests the server answered (or dropped on purpose) whose response the client did not
    /// count: lost, late, or never sent.
    pub lost_responses: u64,
    /// Matched messages the server received before the client's send call returned (a
    /// wake-up preempted the client): `client_send` ends at the server's receive.
    #[serde(default)]
    pub request_overlaps: u64,
    /// Matched messages the client received before the server's send call returned.
    #[serde(default)]
    pub response_overlaps: u64,
}

impl StageCoverage {
    /// Adds another iteration's counts.
    pub fn add(&mut self, o: &StageCoverage) {
        self.matched += o.matched;
        self.beyond_capacity += o.beyond_capacity;
        self.lost_requests += o.lost_requests;
        self.lost_responses += o.lost_responses;
        self.request_overlaps += o.request_overlaps;
        self.response_overlaps += o.response_overlaps;
    }
}

/// Which side of the round trip a span belongs to (a lane of the timeline chart).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    /// The client's thread and CPU.
    Client,
    /// The server's thread and CPU.
    Server,
}

/// Where a span's time was spent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// Between two user-space stamps.
    User,
    /// Between two kernel events (tracepoints).
    Kernel,
}

/// One stage of one message: from `from`'s lane to `to`'s (the same lane for time spent on one
/// CPU; client → server for the request's path).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Span {
    /// The stage.
    pub name: String,
    /// User space or kernel.
    pub layer: Layer,
    /// The lane it starts on.
    pub from: Lane,
    /// The lane it ends on.
    pub to: Lane,
    /// Start, in nanoseconds after the message's first stamp.
    pub start_ns: i64,
    /// End, in nanoseconds after the message's first stamp.
    pub end_ns: i64,
}

/// One typical round trip (the message whose round trip is nearest the median) as a timeline
/// across the two CPUs: which CPU did what, when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Timeline {
    /// The iteration it is from (0-based, as in `iterations[].index`).
    pub iteration: u32,
    /// Its sequence number within its flow (1-based).
    pub message: u64,
    /// Its flow.
    pub flow: u32,
    /// Its round trip (the case's latency measure), in nanoseconds.
    pub rtt_ns: u64,
    /// The client's CPU, when its thread ran on one CPU only.
    pub client_cpu: Option<usize>,
    /// The server's CPU, when its thread ran on one CPU only.
    pub server_cpu: Option<usize>,
    /// The stages of this message, in order of their start.
    pub spans: Vec<Span>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_map_is_a_json_object_that_keeps_its_order() {
        let m = StageMap(vec![("z".to_string(), 1u64), ("a".to_string(), 2)]);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"z":1,"a":2}"#);
        let back: StageMap<u64> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.get("a"), Some(&2));
    }

    #[test]
    fn summaries_carry_the_share_of_the_round_trip() {
        let mut set = StageSet::default();
        for v in [1000, 1000, 3000] {
            set.record("request_path", v);
        }
        set.stage_mut("request.idle_exit").absent = 4;
        let s = summarize(&set, 4000);
        let p = s.get("request_path").unwrap();
        assert_eq!((p.latency.p50_ns, p.latency.count), (1000, 3));
        assert_eq!(p.share_of_rtt, 0.25);
        let idle = s.get("request.idle_exit").unwrap();
        assert_eq!((idle.absent, idle.latency.count), (4, 0));
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["request_path"]["p50_ns"], 1000);
        assert_eq!(json["request_path"]["share_of_rtt"], 0.25);
        assert_eq!(medians(&set).get("request_path"), Some(&1000));
    }
}
