//! How an open-loop (`rate`) sender kept its schedule: what a flow reports and the record
//! sums.

use serde::{Deserialize, Serialize};

/// How the send schedule went, summed over flows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScheduleStats {
    /// Target request rate, summed over flows (requests per second).
    pub target_per_sec: f64,
    /// Requests sent.
    pub sent: u64,
    /// Responses received in time.
    pub completed: u64,
    /// Datagram requests without a response within the loss timeout.
    pub lost: u64,
    /// Longest time from the first intended send to the last response, over flows (ns).
    pub span_ns: u64,
    /// Largest delay of an actual send behind its intended time (ns).
    pub max_send_lag_ns: u64,
    /// Times a flow's sender had to wait because its in-flight window was full.
    pub window_full: u64,
}

impl ScheduleStats {
    /// Adds another flow's figures.
    pub fn add(&mut self, o: &ScheduleStats) {
        self.target_per_sec += o.target_per_sec;
        self.sent += o.sent;
        self.completed += o.completed;
        self.lost += o.lost;
        self.span_ns = self.span_ns.max(o.span_ns);
        self.max_send_lag_ns = self.max_send_lag_ns.max(o.max_send_lag_ns);
        self.window_full += o.window_full;
    }
}
