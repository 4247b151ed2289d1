//! What the anatomy is made of: layers, the steps that measure them, one panel per placement and
//! engine.

use super::estimate::Estimate;
use crate::spec::{CaseId, EngineKind, Placement, Transport};

/// One layer of the decomposition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// `shm`: what a round trip between the two CPUs costs with no kernel at all.
    Floor,
    /// `pipe` − `shm`: entering the kernel and waking the peer.
    Wakeup,
    /// `unix-stream` − `pipe`: the socket layer (skb allocation, socket locks, queueing).
    Socket,
    /// `tcp4` − `unix-stream`: the TCP/IP stack over loopback.
    Tcp,
    /// `udp4` − `unix-stream`: the UDP/IP stack over loopback.
    Udp,
}

impl Layer {
    /// Every layer, bottom up.
    pub const ALL: [Layer; 5] = [
        Layer::Floor,
        Layer::Wakeup,
        Layer::Socket,
        Layer::Tcp,
        Layer::Udp,
    ];

    /// A short name for axes and tables.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Floor => "floor",
            Layer::Wakeup => "kernel wake-up",
            Layer::Socket => "socket layer",
            Layer::Tcp => "TCP/IP stack",
            Layer::Udp => "UDP/IP stack",
        }
    }

    /// How it is computed: the transport on top and the one it is measured against.
    pub fn transports(self) -> (Transport, Option<Transport>) {
        match self {
            Layer::Floor => (Transport::Shm, None),
            Layer::Wakeup => (Transport::Pipe, Some(Transport::Shm)),
            Layer::Socket => (Transport::UnixStream, Some(Transport::Pipe)),
            Layer::Tcp => (Transport::Tcp4, Some(Transport::UnixStream)),
            Layer::Udp => (Transport::Udp4, Some(Transport::UnixStream)),
        }
    }

    /// `pipe − shm`, or `shm` for the floor.
    pub fn formula(self) -> String {
        match self.transports() {
            (top, None) => top.to_string(),
            (top, Some(base)) => format!("{top} − {base}"),
        }
    }
}

/// One bar of a panel: a layer, where it starts, and how tall it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The layer.
    pub layer: Layer,
    /// The level it is measured from (the lower transport's median; 0 for the floor).
    pub base_ns: f64,
    /// Its height, when both cases exist.
    pub estimate: Option<Estimate>,
    /// The cases it needs that the run does not have.
    pub missing: Vec<CaseId>,
}

/// The decomposition for one placement and engine.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    /// Where the workers ran.
    pub placement: Placement,
    /// How they waited.
    pub engine: EngineKind,
    /// One step per layer, bottom up.
    pub steps: Vec<Step>,
}

impl Panel {
    /// Every case the panel needs and the run lacks, once each.
    pub fn missing(&self) -> Vec<CaseId> {
        let mut all: Vec<CaseId> = self.steps.iter().flat_map(|s| s.missing.clone()).collect();
        all.sort();
        all.dedup();
        all
    }

    /// Why the panel does not show what its layers are named for, when it does not: two workers
    /// busy-polling one CPU only take turns when the scheduler's time slice ends.
    pub fn caveat(&self) -> Option<&'static str> {
        (self.engine == EngineKind::Spin && self.placement == Placement::SameCore).then_some(
            "both workers busy-poll one CPU and only take turns when the scheduler's time slice ends: this row measures the scheduler, not the layers",
        )
    }

    /// True when no layer could be computed.
    pub fn is_empty(&self) -> bool {
        self.steps.iter().all(|s| s.estimate.is_none())
    }
}

/// The anatomy of a run's round trips of one message size.
#[derive(Clone, Debug, PartialEq)]
pub struct Anatomy {
    /// The message size (request = response), in bytes.
    pub size: usize,
    /// One panel per placement × engine.
    pub panels: Vec<Panel>,
}
