//! A [`Spec`] is one measured case: transport × workload × engine × placement × sizes × addresses
//! × timing. Its canonical slug, the [`CaseId`], names the case everywhere (files, JSON, comparisons).

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::spec::address::Endpoint;
use crate::spec::framing::MessageFraming;
use crate::spec::handler::{RequestGenerator, ServerHandler};

pub mod address;
#[doc(hidden)]
pub mod case_options;
mod dimensions;
mod engine_choice;
pub mod framing;
pub mod handler;
pub mod http1;
pub mod limits;
#[doc(hidden)]
pub mod matrix;
mod parse;
mod placement;
pub mod requests;
pub mod settings;
#[doc(hidden)]
pub mod socket_path;
#[doc(hidden)]
pub mod spread;
mod validate;

pub use dimensions::{
    AddressFamily, EngineKind, MAX_UDP_PAYLOAD, SEQ_BYTES, Transport, Workload, ZeroCopy,
};
pub use engine_choice::{EngineChoice, UringSettings};
pub use parse::{parse_duration, parse_list, parse_size};
pub use placement::{CpuList, Placement, parse_cpu_list};
pub use settings::{
    CrrSettings, Instrumentation, Interference, KernelProbes, ProcessLayout, RateSettings,
};

/// When an iteration ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IterationLength {
    /// After this much wall time.
    Duration {
        /// Length of one iteration in nanoseconds.
        duration_ns: u64,
    },
    /// After this many messages (round trips for `rr`).
    Count {
        /// Messages per iteration.
        messages: u64,
    },
}

/// Warm-up, iterations and watchdog settings of a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Timing {
    /// Warm-up before the first measured iteration, discarded (nanoseconds).
    pub warmup_ns: u64,
    /// Number of measured iterations; each uses a fresh connection pair.
    pub iterations: u32,
    /// When each iteration ends.
    pub length: IterationLength,
    /// Longest a worker may wait for its peer before the case fails (nanoseconds).
    pub timeout_ns: u64,
    /// How long a datagram client waits for a response before counting the round trip as lost.
    pub loss_timeout_ns: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            warmup_ns: 500_000_000,
            iterations: 5,
            length: IterationLength::Duration {
                duration_ns: 1_000_000_000,
            },
            timeout_ns: 5_000_000_000,
            loss_timeout_ns: 20_000_000,
        }
    }
}

impl Timing {
    /// Longest a duration-based iteration (or the warm-up) may take before the watchdog declares
    /// it stuck; count-based iterations have no overall deadline (the no-progress watchdog covers
    /// them).
    pub fn iteration_deadline(&self, length: IterationLength) -> Option<Duration> {
        match length {
            IterationLength::Duration { duration_ns } => Some(Duration::from_nanos(
                duration_ns
                    .saturating_add(self.timeout_ns)
                    .saturating_add(1_000_000_000),
            )),
            IterationLength::Count { .. } => None,
        }
    }
}

/// Socket options applied to every socket of a case.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct SocketOptions {
    /// SO_SNDBUF request in bytes (SO_SNDBUFFORCE when root and above net.core.wmem_max).
    pub sndbuf: Option<usize>,
    /// SO_RCVBUF request in bytes (SO_RCVBUFFORCE when root and above net.core.rmem_max).
    pub rcvbuf: Option<usize>,
    /// TCP_NODELAY; on by default (a latency harness must not wait for Nagle).
    pub nodelay: bool,
    /// TCP_NOTSENT_LOWAT in bytes: how much unsent data a TCP socket may hold before it stops
    /// being writable.
    #[serde(default)]
    pub notsent_lowat: Option<u32>,
    /// SO_BUSY_POLL in µs: how long a blocking receive on the socket busy-polls the device
    /// queue before it sleeps (TCP and UDP). Left out of JSON when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy_poll_us: Option<u32>,
}

/// One case: everything needed to measure it, and nothing about how it was requested.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Spec {
    /// How the workers are connected.
    pub transport: Transport,
    /// What they exchange.
    pub workload: Workload,
    /// How each worker waits.
    pub engine: EngineKind,
    /// The `io_uring` engine's variant (absent for the plain variant and other engines).
    #[serde(default, skip_serializing_if = "UringSettings::is_off")]
    pub uring: UringSettings,
    /// Where the workers run.
    pub placement: Placement,
    /// Request (or write) size in bytes.
    pub size: usize,
    /// Response size in bytes (`rr`).
    pub response_size: usize,
    /// Server address: an IP loopback address or a Unix path/abstract name; none for pipe/shm.
    pub addr: Option<Endpoint>,
    /// Client source address (IP transports).
    pub client_addr: Option<IpAddr>,
    /// Server port; 0 picks a free ephemeral port.
    pub port: u16,
    /// Time the server busy-waits before answering each request (simulated service time).
    pub server_delay_ns: u64,
    /// Fault injection: the server silently drops every Nth request (0 = never). Used to test
    /// loss accounting; a datagram client counts each as lost.
    pub server_drop_every: u64,
    /// Socket options.
    pub socket: SocketOptions,
    /// Warm-up, iterations and watchdog.
    pub timing: Timing,
    /// Connections (flows) per iteration, spread round-robin over the worker threads.
    #[serde(default = "one")]
    pub flows: u32,
    /// Worker threads per side; flow `i` runs on thread `i % threads` of each side.
    #[serde(default = "one")]
    pub threads: u32,
    /// `rate`'s send schedule.
    #[serde(default)]
    pub rate: RateSettings,
    /// `crr`'s connection settings.
    #[serde(default)]
    pub crr: CrrSettings,
    /// Load the case runs under on purpose (`--memory-load`).
    #[serde(default)]
    pub interference: Interference,
    /// How `stream` moves its bytes through the kernel (`--zerocopy`; absent: copies).
    #[serde(default, skip_serializing_if = "ZeroCopy::is_copy")]
    pub zerocopy: ZeroCopy,
    /// Where the server side runs (`--processes`, `client --connect`).
    #[serde(default)]
    pub layout: ProcessLayout,
    /// Kernel tracepoints and CPU sampling on the workers' CPUs (`--trace`, `--profile`).
    #[serde(default, skip_serializing_if = "KernelProbes::is_off")]
    pub probes: KernelProbes,
    /// A custom protocol's request and response framing (`client --connect`, server handlers).
    #[serde(default)]
    pub framing: MessageFraming,
    /// What the case measures besides its latency (`--stages`).
    #[serde(default, skip_serializing_if = "Instrumentation::is_off")]
    pub instrument: Instrumentation,
    /// Your code on the server side (library use only): each request is answered by a handler
    /// this factory makes, instead of the workload's own server. Not stored in run.json; its name
    /// is part of the case id.
    #[serde(skip)]
    pub server_handler: Option<ServerHandler>,
    /// Your code on the client side (library use only): each request of a `--connect` or
    /// handler case comes from this generator, a histogram per kind it names. Not stored in
    /// run.json; its name is part of the case id.
    #[serde(skip)]
    pub request_generator: Option<RequestGenerator>,
}

fn one() -> u32 {
    1
}

impl Spec {
    /// A spec with the CLI's defaults for everything but the transport.
    pub fn new(transport: Transport) -> Spec {
        Spec {
            transport,
            workload: Workload::Rr,
            engine: EngineKind::Blocking,
            uring: UringSettings::default(),
            placement: Placement::CrossCore,
            size: 64,
            response_size: 64,
            addr: None,
            client_addr: None,
            port: 0,
            server_delay_ns: 0,
            server_drop_every: 0,
            socket: SocketOptions {
                nodelay: true,
                ..SocketOptions::default()
            },
            timing: Timing::default(),
            flows: 1,
            threads: 1,
            rate: RateSettings::default(),
            crr: CrrSettings::default(),
            interference: Interference::default(),
            zerocopy: ZeroCopy::Copy,
            layout: ProcessLayout::default(),
            probes: KernelProbes::default(),
            framing: MessageFraming::default(),
            instrument: Instrumentation::default(),
            server_handler: None,
            request_generator: None,
        }
    }

    /// The engine with its variant (`io_uring-sqpoll`), as case ids and lists spell it.
    pub fn engine_choice(&self) -> EngineChoice {
        EngineChoice {
            kind: self.engine,
            uring: self.uring,
        }
    }

    /// Sets the engine and its variant.
    pub fn set_engine(&mut self, choice: EngineChoice) {
        self.engine = choice.kind;
        self.uring = choice.uring;
    }

    /// The canonical case id: the default dimensions always, the rest only when not default.
    ///
    /// `tcp4-rr-blocking-cross-core-64B`, `udp4-rr-spin-same-core-64B-resp1024B-delay5000ns`.
    pub fn case_id(&self) -> CaseId {
        let mut id = format!(
            "{}-{}-{}-{}-{}B",
            self.transport,
            self.workload,
            self.engine_choice(),
            self.placement,
            self.size
        );
        // A response framed by a delimiter, a length prefix or HTTP has no fixed size: the
        // default response size is not named (ids of fixed-size cases are as they were).
        let framed = self.framing.frames_responses() && self.response_size == 64;
        if self.response_size != self.size && !framed {
            id.push_str(&format!("-resp{}B", self.response_size));
        }
        if self.server_delay_ns != 0 {
            id.push_str(&format!("-delay{}ns", self.server_delay_ns));
        }
        if self.server_drop_every != 0 {
            id.push_str(&format!("-drop{}", self.server_drop_every));
        }
        if let Some(addr) = &self.addr {
            if !addr.is_default_for(self.transport) {
                id.push_str(&format!("-at-{}", addr.slug()));
            }
        }
        if let Some(client) = self.client_addr {
            id.push_str(&format!("-from-{}", Endpoint::Ip(client).slug()));
        }
        if let Some(b) = self.socket.sndbuf {
            id.push_str(&format!("-snd{b}"));
        }
        if let Some(b) = self.socket.rcvbuf {
            id.push_str(&format!("-rcv{b}"));
        }
        if let Some(b) = self.socket.notsent_lowat {
            id.push_str(&format!("-lowat{b}"));
        }
        if let Some(us) = self.socket.busy_poll_us {
            id.push_str(&format!("-busypoll{us}us"));
        }
        if !self.socket.nodelay && matches!(self.transport, Transport::Tcp4 | Transport::Tcp6) {
            id.push_str("-nagle");
        }
        if self.flows != 1 {
            id.push_str(&format!("-flows{}", self.flows));
        }
        if self.threads != 1 {
            id.push_str(&format!("-threads{}", self.threads));
        }
        id.push_str(&self.rate.id_suffix());
        id.push_str(&self.crr.id_suffix());
        id.push_str(&self.interference.id_suffix());
        if !self.zerocopy.is_copy() {
            id.push_str(&format!("-zc-{}", self.zerocopy));
        }
        id.push_str(&self.layout.id_suffix());
        id.push_str(&self.framing.id_suffix());
        if let Some(h) = &self.server_handler {
            id.push_str(&format!("-handler-{}", h.name()));
        }
        if let Some(g) = &self.request_generator {
            id.push_str(&format!("-gen-{}", g.name()));
        }
        id.push_str(&self.instrument.id_suffix());
        id.push_str(&self.probes.id_suffix());
        CaseId(id)
    }
}

/// The canonical slug of a [`Spec`], used for file names, JSON keys and matching across runs.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct CaseId(pub String);

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl CaseId {
    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_uses_the_cli_spelling() {
        let spec = Spec::new(Transport::UnixStream);
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(json["transport"], "unix-stream");
        assert_eq!(json["placement"], "cross-core");
        assert_eq!(json["engine"], "blocking");
        let back: Spec = serde_json::from_value(json).unwrap();
        assert_eq!(back, spec);
    }

    #[test]
    fn case_id_names_default_dimensions_and_only_non_default_settings() {
        let mut spec = Spec::new(Transport::Tcp4);
        assert_eq!(spec.case_id().as_str(), "tcp4-rr-blocking-cross-core-64B");
        spec.response_size = 1024;
        spec.server_delay_ns = 5000;
        spec.engine = EngineKind::Spin;
        spec.placement = Placement::SameCore;
        assert_eq!(
            spec.case_id().as_str(),
            "tcp4-rr-spin-same-core-64B-resp1024B-delay5000ns"
        );
        spec.addr = Some(Endpoint::Ip("127.0.0.2".parse().unwrap()));
        spec.client_addr = Some("127.0.0.3".parse().unwrap());
        assert!(
            spec.case_id()
                .as_str()
                .ends_with("-at-127.0.0.2-from-127.0.0.3")
        );
    }

    #[test]
    fn default_address_does_not_change_the_case_id() {
        let mut spec = Spec::new(Transport::Tcp4);
        let plain = spec.case_id();
        spec.addr = Some(Endpoint::Ip("127.0.0.1".parse().unwrap()));
        assert_eq!(spec.case_id(), plain);
    }
}
