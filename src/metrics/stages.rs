//! The stages of a round trip as histograms: one per stage, in the order the stages happen along
//! the path, merged over a case's iterations. User-space stages come from per-message stamps
//! (`--stages`); kernel stages from tracepoint timelines (`--trace`) use the same type, keyed
//! `request.<stage>` / `response.<stage>`. What run.json keeps of them is in
//! [`store::stages`](crate::store::stages).

use crate::metrics::histogram::{LatencyHistogram, new_histogram, record};

/// The user-space stages, in the order they happen. A workload records those that apply to it:
/// `connect` only `crr`, `send_lag` only `rate`, `handler` only cases with a server handler.
pub mod names {
    /// `crr`: transaction start → the client's send call (socket, connect, handshake).
    pub const CONNECT: &str = "connect";
    /// `rate`: the request's intended send time → the client's send call (schedule lag).
    pub const SEND_LAG: &str = "send_lag";
    /// The client's send call, from call to return.
    pub const CLIENT_SEND: &str = "client_send";
    /// The client's send returned → the server's receive returned.
    pub const REQUEST_PATH: &str = "request_path";
    /// The server's receive returned → its send called (includes `--server-delay`; with a
    /// handler, everything but the handler's own time).
    pub const SERVER_TURNAROUND: &str = "server_turnaround";
    /// A user handler's own time (library cases with a server handler).
    pub const HANDLER: &str = "handler";
    /// The server's send call, from call to return.
    pub const SERVER_SEND: &str = "server_send";
    /// The server's send returned → the client's receive returned.
    pub const RESPONSE_PATH: &str = "response_path";

    /// Every user-space stage, in path order.
    pub const ALL: &[&str] = &[
        CONNECT,
        SEND_LAG,
        CLIENT_SEND,
        REQUEST_PATH,
        SERVER_TURNAROUND,
        HANDLER,
        SERVER_SEND,
        RESPONSE_PATH,
    ];
}

/// One stage's histogram.
#[derive(Clone, Debug)]
pub struct StageHistogram {
    /// The stage's name (`request_path`, `request.wakeup`).
    pub name: String,
    /// Its durations, in nanoseconds.
    pub histogram: LatencyHistogram,
    /// Messages in which the stage did not occur (the kernel took a path without it).
    pub absent: u64,
    /// The stage this one is part of, if any: it is listed but not stacked on the others (the
    /// idle exit is part of the wake-up).
    pub within: Option<String>,
}

/// A set of stage histograms in path order: an iteration's or a case's.
#[derive(Clone, Debug, Default)]
pub struct StageSet {
    /// The stages, in the order they were first added.
    pub stages: Vec<StageHistogram>,
}

impl StageSet {
    /// The stage called `name`, added (empty, after the others) when it is new.
    pub fn stage_mut(&mut self, name: &str) -> &mut StageHistogram {
        let i = match self.stages.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                self.stages.push(StageHistogram {
                    name: name.to_string(),
                    histogram: new_histogram(),
                    absent: 0,
                    within: None,
                });
                self.stages.len() - 1
            }
        };
        &mut self.stages[i]
    }

    /// The stage called `name`, if the set has it.
    pub fn get(&self, name: &str) -> Option<&StageHistogram> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// Records one duration of stage `name`.
    pub fn record(&mut self, name: &str, ns: u64) {
        record(&mut self.stage_mut(name).histogram, ns);
    }

    /// True when no stage has a sample or an absence.
    pub fn is_empty(&self) -> bool {
        self.stages
            .iter()
            .all(|s| s.histogram.is_empty() && s.absent == 0)
    }

    /// Adds `other` (another iteration) stage by stage; stages new to this set go after its own.
    pub fn add(&mut self, other: &StageSet) -> Result<(), hdrhistogram::AdditionError> {
        for s in &other.stages {
            let mine = self.stage_mut(&s.name);
            mine.histogram.add(&s.histogram)?;
            mine.absent += s.absent;
            if mine.within.is_none() {
                mine.within.clone_from(&s.within);
            }
        }
        Ok(())
    }

    /// Each stage's median, in order (stages without a sample give 0).
    pub fn medians(&self) -> Vec<(String, u64)> {
        self.stages
            .iter()
            .map(|s| (s.name.clone(), median(&s.histogram)))
            .collect()
    }
}

/// An iteration's or a case's stages split by the request's path: the round trips in which the
/// server's receive returned inside the client's send call (on one CPU the wake-up preempted the
/// sender, so `request_path` is 0) and the others. Each group's stage medians show the two modes
/// that the marginal medians blend.
#[derive(Clone, Debug, Default)]
pub struct PathSets {
    /// The server ran inside the client's send call.
    pub in_send: StageSet,
    /// The server's receive returned after the client's send call did.
    pub after_send: StageSet,
    /// Round trips in `in_send` and in `after_send`.
    pub round_trips: [u64; 2],
}

impl PathSets {
    /// The group of a round trip whose server ran inside the client's send call (`in_send`) or not.
    pub fn group_mut(&mut self, in_send: bool) -> &mut StageSet {
        if in_send {
            &mut self.in_send
        } else {
            &mut self.after_send
        }
    }

    /// Adds another iteration's groups.
    pub fn add(&mut self, other: &PathSets) -> Result<(), hdrhistogram::AdditionError> {
        self.in_send.add(&other.in_send)?;
        self.after_send.add(&other.after_send)?;
        self.round_trips[0] += other.round_trips[0];
        self.round_trips[1] += other.round_trips[1];
        Ok(())
    }
}

/// The median of a histogram, 0 when it is empty.
pub fn median(h: &LatencyHistogram) -> u64 {
    if h.is_empty() {
        0
    } else {
        h.value_at_quantile(0.5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_keep_their_order_and_merge_by_name() {
        let mut a = StageSet::default();
        a.record(names::CLIENT_SEND, 1000);
        a.record(names::REQUEST_PATH, 5000);
        let mut b = StageSet::default();
        b.record(names::REQUEST_PATH, 7000);
        b.record(names::RESPONSE_PATH, 9000);
        b.stage_mut(names::RESPONSE_PATH).absent = 2;
        b.stage_mut(names::RESPONSE_PATH).within = Some("x".into());
        a.add(&b).unwrap();
        let names: Vec<&str> = a.stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["client_send", "request_path", "response_path"]);
        assert_eq!(a.get(names::REQUEST_PATH).unwrap().histogram.len(), 2);
        let resp = a.get(names::RESPONSE_PATH).unwrap();
        assert_eq!((resp.absent, resp.within.as_deref()), (2, Some("x")));
        assert_eq!(a.medians()[0], ("client_send".to_string(), 1000));
        assert!(!a.is_empty() && StageSet::default().is_empty());
    }
}
