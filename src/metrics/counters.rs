//! Message and byte counters a flow keeps, including datagram loss accounting.

use std::ops::AddAssign;

use serde::{Deserialize, Serialize};

/// What one flow (or a sum of flows) counted over an iteration.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
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
    /// `--zerocopy`: what the kernel did with the bytes of a zero-copy path (absent for copy).
    #[serde(default, skip_serializing_if = "ZeroCopyCounts::is_empty")]
    pub zerocopy: ZeroCopyCounts,
}

/// What the kernel reported doing with the bytes of a `--zerocopy` path: never what was asked,
/// only what was done.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ZeroCopyCounts {
    /// Bytes the kernel moved without a copy: MSG_ZEROCOPY sends notified without
    /// `SO_EE_CODE_ZEROCOPY_COPIED` (io_uring SEND_ZC: without `IORING_NOTIF_USAGE_ZC_COPIED`),
    /// pages TCP_ZEROCOPY_RECEIVE mapped into the reader.
    #[serde(default)]
    pub zerocopy_bytes: u64,
    /// Bytes of a zero-copy path the kernel copied after all: MSG_ZEROCOPY notifications with
    /// `SO_EE_CODE_ZEROCOPY_COPIED` (SEND_ZC: with `IORING_NOTIF_USAGE_ZC_COPIED`, and the small
    /// writes io_uring copies into its slot); received bytes TCP_ZEROCOPY_RECEIVE could not map
    /// (copied into its copy buffer or read with recv).
    #[serde(default)]
    pub copied_bytes: u64,
    /// Bytes handed over by page reference (sendfile, splice, vmsplice): the kernel reports
    /// nothing about them; the profile's copy share is the evidence.
    #[serde(default)]
    pub by_reference_bytes: u64,
    /// MSG_ZEROCOPY bytes whose notification had not come when the iteration ended (SEND_ZC:
    /// sends the kernel completed without a notification).
    #[serde(default)]
    pub unnotified_bytes: u64,
    /// MSG_ZEROCOPY notifications read from the error queue (each covers a range of sends);
    /// SEND_ZC notification completions (one per send).
    #[serde(default)]
    pub notifications: u64,
    /// send(MSG_ZEROCOPY) refused with ENOBUFS (notifications filled optmem) and retried.
    #[serde(default)]
    pub enobufs: u64,
    /// TCP_ZEROCOPY_RECEIVE calls.
    #[serde(default)]
    pub zerocopy_receives: u64,
}

impl ZeroCopyCounts {
    /// True when nothing went through a zero-copy path (the copy mode).
    pub fn is_empty(&self) -> bool {
        *self == ZeroCopyCounts::default()
    }

    /// Fraction of the reported bytes the kernel moved without copying; `None` when it
    /// reported none (copy, or page-moving paths that report nothing).
    pub fn zerocopy_fraction(&self) -> Option<f64> {
        let all = self.zerocopy_bytes + self.copied_bytes;
        (all > 0).then(|| self.zerocopy_bytes as f64 / all as f64)
    }
}

impl AddAssign for ZeroCopyCounts {
    fn add_assign(&mut self, o: ZeroCopyCounts) {
        self.zerocopy_bytes += o.zerocopy_bytes;
        self.copied_bytes += o.copied_bytes;
        self.by_reference_bytes += o.by_reference_bytes;
        self.unnotified_bytes += o.unnotified_bytes;
        self.notifications += o.notifications;
        self.enobufs += o.enobufs;
        self.zerocopy_receives += o.zerocopy_receives;
    }
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
        self.zerocopy += o.zerocopy;
    }
}
