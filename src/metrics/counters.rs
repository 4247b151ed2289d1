//! Message and byte counters a flow keeps, including datagram loss accounting.

use std::ops::AddAssign;

use serde::{Deserialize, Serialize};

/// What one flow (or a sum of flows) counted over an iteration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Completed messages: round trips for a client, requests answered for a server.
    pub messages: u64,
    /// Payload bytes written.
    pub bytes_sent: u64,
    /// Payload bytes read.
    pub bytes_received: u64,
    /// Datagram round trips given up after the loss timeout (client), or gaps in the request
    /// sequence (server: requests that never arrived).
    pub lost: u64,
    /// Responses that arrived after their round trip was declared lost (client).
    pub late: u64,
    /// Datagrams whose sequence number was seen before.
    pub duplicated: u64,
    /// Datagrams that arrived after a later one.
    pub reordered: u64,
    /// Requests the server dropped on purpose (`--server-drop-every`, fault injection).
    pub dropped_on_purpose: u64,
    /// Connections opened (crr client) or accepted (crr server).
    #[serde(default)]
    pub connections: u64,
    /// connect() attempts refused with EADDRNOTAVAIL: ephemeral ports exhausted (crr).
    #[serde(default)]
    pub addr_not_avail: u64,
}

impl AddAssign for Counters {
    fn add_assign(&mut self, o: Counters) {
        self.messages += o.messages;
        self.bytes_sent += o.bytes_sent;
        self.bytes_received += o.bytes_received;
        self.lost += o.lost;
        self.late += o.late;
        self.duplicated += o.duplicated;
        self.reordered += o.reordered;
        self.dropped_on_purpose += o.dropped_on_purpose;
        self.connections += o.connections;
        self.addr_not_avail += o.addr_not_avail;
    }
}
