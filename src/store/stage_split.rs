//! What run.json keeps of the user-space stages besides each stage's own distribution: the
//! decomposition of the typical round trip ([`BandStages`]: each stage's mean over the round
//! trips whose RTT lies in a band around the median, which adds up to their mean RTT by
//! construction) and the split by the request's path ([`PathSplit`]: how many round trips had
//! the server run inside the client's send call, and each stage's median within each group).
//!
//! Why both: the stages of one message add up to its round trip exactly, but the medians of the
//! stages need not add up to the median round trip. On one CPU the distributions are bimodal (in
//! part of the messages the server runs inside the client's send, so `request_path` is 0 there)
//! and the medians of dependent bimodal stages come from different messages.

use serde::{Deserialize, Serialize};

use crate::metrics::stages::{PathSets, StageSet};
use crate::store::stages::StageMap;

/// The band around the median: the stamped round trips of an iteration ranked by RTT between
/// these quantiles (inclusive; the ranks rounded to the nearest), 10 % of them around the median.
pub const BAND: (f64, f64) = (0.45, 0.55);

/// The typical round trip, decomposed: over the round trips whose RTT lies in a band around the
/// median, each stage's mean. The means add up to the band's mean RTT (each message's stages
/// add up to its RTT), unlike the stages' medians.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BandStages {
    /// The band's lower edge, a quantile of the stamped round trips' RTT (0.45).
    pub from_quantile: f64,
    /// The band's upper edge (0.55).
    pub to_quantile: f64,
    /// The RTT at the lower edge (ns); merged over iterations, the lowest of theirs.
    pub rtt_from_ns: u64,
    /// The RTT at the upper edge (ns); merged over iterations, the highest of theirs.
    pub rtt_to_ns: u64,
    /// Round trips in the band (over iterations: in each iteration's band).
    pub round_trips: u64,
    /// Their mean RTT (ns), from the client's stamps.
    pub rtt_mean_ns: f64,
    /// Each stage's mean over them (ns), in path order.
    pub stages: StageMap<f64>,
}

impl BandStages {
    /// The sum of the stages' means (ns).
    pub fn sum_ns(&self) -> f64 {
        self.stages.iter().map(|(_, v)| v).sum()
    }

    /// The bands of a case's iterations pooled: each figure is the mean over all their round
    /// trips (each iteration's band lies around its own median); `None` without a band.
    pub fn merge<'a>(bands: impl IntoIterator<Item = &'a BandStages>) -> Option<BandStages> {
        let bands: Vec<&BandStages> = bands.into_iter().filter(|b| b.round_trips > 0).collect();
        let first = bands.first()?;
        let n: u64 = bands.iter().map(|b| b.round_trips).sum();
        let weighted = |f: &dyn Fn(&BandStages) -> f64| {
            bands
                .iter()
                .map(|b| f(b) * b.round_trips as f64)
                .sum::<f64>()
                / n as f64
        };
        let mut names: Vec<&str> = Vec::new();
        for (name, _) in bands.iter().flat_map(|b| b.stages.iter()) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let stages = names
            .into_iter()
            .map(|name| {
                let mean = weighted(&|b| b.stages.get(name).copied().unwrap_or(0.0));
                (name.to_string(), mean)
            })
            .collect();
        Some(BandStages {
            from_quantile: first.from_quantile,
            to_quantile: first.to_quantile,
            rtt_from_ns: bands.iter().map(|b| b.rtt_from_ns).min().unwrap_or(0),
            rtt_to_ns: bands.iter().map(|b| b.rtt_to_ns).max().unwrap_or(0),
            round_trips: n,
            rtt_mean_ns: weighted(&|b| b.rtt_mean_ns),
            stages: StageMap(stages),
        })
    }
}

/// The round trips of one path group and each stage's median within them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PathGroup {
    /// Round trips in the group.
    pub round_trips: u64,
    /// Each stage's median within the group (ns), in path order; empty when the group is.
    pub stages: StageMap<u64>,
}

impl PathGroup {
    fn of(set: &StageSet, round_trips: u64) -> PathGroup {
        let stages = if round_trips == 0 {
            StageMap::default()
        } else {
            StageMap(set.medians())
        };
        PathGroup {
            round_trips,
            stages,
        }
    }
}

/// The stamped round trips split by the request's path.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PathSplit {
    /// The server's receive returned before the client's send call did: the server ran inside
    /// the client's send (on one CPU, the wake-up preempted the sender).
    pub server_in_send: PathGroup,
    /// The server's receive returned after the client's send call.
    pub server_after_send: PathGroup,
}

impl PathSplit {
    /// The split of `sets` (an iteration's, or a case's merged over its iterations).
    pub fn of(sets: &PathSets) -> PathSplit {
        PathSplit {
            server_in_send: PathGroup::of(&sets.in_send, sets.round_trips[0]),
            server_after_send: PathGroup::of(&sets.after_send, sets.round_trips[1]),
        }
    }

    /// The share of round trips in which the server ran inside the client's send (0 without
    /// any).
    pub fn in_send_share(&self) -> f64 {
        let n = self.server_in_send.round_trips + self.server_after_send.round_trips;
        if n == 0 {
            0.0
        } else {
            self.server_in_send.round_trips as f64 / n as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band(n: u64, rtt: f64, stages: &[(&str, f64)]) -> BandStages {
        BandStages {
            from_quantile: BAND.0,
            to_quantile: BAND.1,
            rtt_from_ns: rtt as u64 - 1,
            rtt_to_ns: rtt as u64 + 1,
            round_trips: n,
            rtt_mean_ns: rtt,
            stages: StageMap(stages.iter().map(|(k, v)| (k.to_string(), *v)).collect()),
        }
    }

    #[test]
    fn bands_merge_weighted_by_their_round_trips() {
        let a = band(10, 100.0, &[("a", 40.0), ("b", 60.0)]);
        let b = band(30, 200.0, &[("a", 120.0), ("b", 80.0)]);
        let m = BandStages::merge([&a, &b, &BandStages::default()]).unwrap();
        assert_eq!(m.round_trips, 40);
        assert_eq!(m.rtt_mean_ns, 175.0);
        assert_eq!(m.stages.get("a"), Some(&100.0));
        assert_eq!(m.stages.get("b"), Some(&75.0));
        assert_eq!(m.sum_ns(), m.rtt_mean_ns, "merged means still add up");
        assert_eq!((m.rtt_from_ns, m.rtt_to_ns), (99, 201));
        assert!(BandStages::merge([]).is_none());
    }

    #[test]
    fn a_path_split_counts_each_group_and_gives_its_medians() {
        let mut sets = PathSets::default();
        sets.group_mut(true).record("request_path", 0);
        sets.round_trips[0] += 1;
        for v in [900, 1000, 1100] {
            sets.group_mut(false).record("request_path", v);
            sets.round_trips[1] += 1;
        }
        let mut other = PathSets::default();
        other.group_mut(true).record("request_path", 0);
        other.round_trips[0] += 1;
        sets.add(&other).unwrap();
        let split = PathSplit::of(&sets);
        assert_eq!(split.server_in_send.round_trips, 2);
        assert_eq!(
            split.server_in_send.stages.get("request_path"),
            Some(&1),
            "0 is kept as 1 ns"
        );
        assert_eq!(
            split.server_after_send.stages.get("request_path"),
            Some(&1000)
        );
        assert_eq!(split.in_send_share(), 0.4);
        let json = serde_json::to_value(&split).unwrap();
        assert_eq!(json["server_in_send"]["round_trips"], 2);
        assert!(
            PathSplit::of(&PathSets::default())
                .server_in_send
                .stages
                .is_empty()
        );
    }
}
