//! A [`Spec`] is one measured case: transport × workload × engine × placement × sizes × addresses
//! × timing. Its canonical slug, the [`CaseId`], names the case everywhere (files, JSON, comparisons).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::loopback::addr::Endpoint;
use crate::loopback::spread::AddrRange;

/// Largest payload of one UDP datagram over IPv4/IPv6 loopback (65535 − IP and UDP headers).
pub const MAX_UDP_PAYLOAD: usize = 65507;

/// Bytes at the start of every datagram payload that carry the sequence number.
pub const SEQ_BYTES: usize = 8;

/// Declares a dimension enum whose CLI spelling, serde spelling and case-id spelling are one string.
macro_rules! dimension {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The spelling used on the command line, in JSON and in case ids.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ConfigError;
            fn from_str(s: &str) -> Result<Self, ConfigError> {
                let wanted = s.trim().to_ascii_lowercase();
                $name::ALL.iter().copied().find(|v| v.as_str() == wanted).ok_or_else(|| {
                    ConfigError::UnknownValue {
                        dimension: stringify!($name),
                        value: s.to_string(),
                        expected: $name::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "),
                    }
                })
            }
        }
    };
}

dimension! {
    /// How the two workers are connected.
    Transport {
        /// TCP over IPv4 loopback.
        Tcp4 => "tcp4",
        /// TCP over IPv6 loopback (::1).
        Tcp6 => "tcp6",
        /// UDP over IPv4 loopback.
        Udp4 => "udp4",
        /// UDP over IPv6 loopback (::1).
        Udp6 => "udp6",
        /// AF_UNIX SOCK_STREAM.
        UnixStream => "unix-stream",
        /// AF_UNIX SOCK_DGRAM.
        UnixDgram => "unix-dgram",
        /// AF_UNIX SOCK_SEQPACKET.
        UnixSeqpacket => "unix-seqpacket",
        /// A pair of anonymous pipes: the kernel's cheapest fd-to-fd path (baseline).
        Pipe => "pipe",
        /// A shared-memory ring between the two threads: no kernel at all (the floor).
        Shm => "shm",
    }
}

dimension! {
    /// What the workers exchange.
    Workload {
        /// Closed-loop request/response: one request in flight per flow.
        Rr => "rr",
        /// One-way bulk transfer, counted at the receiver.
        Stream => "stream",
        /// Connect, request, response, close: one fresh connection per transaction.
        Crr => "crr",
        /// Open-loop request/response at a fixed `--rate`, latency from the intended send time.
        Rate => "rate",
    }
}

dimension! {
    /// How a worker waits for its file descriptor: the dimension that exposes scheduling cost.
    EngineKind {
        /// Blocking read/write; the thread sleeps in the kernel until woken.
        Blocking => "blocking",
        /// Non-blocking read/write in a busy loop; the thread never sleeps.
        Spin => "spin",
        /// Non-blocking sockets in an epoll loop (mio); many flows per thread.
        Epoll => "epoll",
        /// A current-thread tokio runtime per worker thread; every flow is a task.
        Tokio => "tokio",
        /// One multi-threaded tokio runtime per worker thread (work stealing, cross-thread wake-ups).
        TokioMt => "tokio-mt",
    }
}

/// The family of socket address a transport needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressFamily {
    /// 127.0.0.0/8.
    V4,
    /// ::1.
    V6,
    /// A Unix socket path or abstract name.
    Unix,
    /// No address (pipe, shm).
    None,
}

impl Transport {
    /// True when one message is one datagram (sequence numbers, loss accounting).
    pub fn is_datagram(self) -> bool {
        matches!(
            self,
            Transport::Udp4 | Transport::Udp6 | Transport::UnixDgram
        )
    }

    /// True when messages keep their boundaries (datagram or seqpacket).
    pub fn preserves_boundaries(self) -> bool {
        self.is_datagram() || self == Transport::UnixSeqpacket
    }

    /// True for transports whose endpoints are file descriptors (every engine works on them).
    pub fn has_fd(self) -> bool {
        self != Transport::Shm
    }

    /// True for transports a separate process can reach by address and connect to
    /// (`--processes`, `--connect`); datagram transports are not supported there.
    pub fn crosses_processes(self) -> bool {
        matches!(
            self,
            Transport::Tcp4 | Transport::Tcp6 | Transport::UnixStream | Transport::UnixSeqpacket
        )
    }

    /// The address family the server address must have.
    pub fn family(self) -> AddressFamily {
        match self {
            Transport::Tcp4 | Transport::Udp4 => AddressFamily::V4,
            Transport::Tcp6 | Transport::Udp6 => AddressFamily::V6,
            Transport::UnixStream | Transport::UnixDgram | Transport::UnixSeqpacket => {
                AddressFamily::Unix
            }
            Transport::Pipe | Transport::Shm => AddressFamily::None,
        }
    }

    /// Largest message this transport can carry in one piece, if it has a limit.
    pub fn max_message(self) -> Option<usize> {
        match self {
            Transport::Udp4 | Transport::Udp6 => Some(MAX_UDP_PAYLOAD),
            _ => None,
        }
    }
}

/// Where the client and server workers run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Placement {
    /// Both workers on one CPU: every wake-up is a context switch on that CPU.
    SameCore,
    /// The two hardware threads of one core.
    SmtSibling,
    /// Two different physical cores (of one NUMA node when possible).
    CrossCore,
    /// CPUs on two different NUMA nodes.
    CrossNode,
    /// Not pinned: the scheduler decides.
    Unpinned,
    /// Explicit CPUs given with `--client-cpu N --server-cpu M`.
    Cpus {
        /// CPU of the client worker.
        client: usize,
        /// CPU of the server worker.
        server: usize,
    },
    /// Explicit CPU lists given with `--client-cpus 0,1 --server-cpus 1,0`: worker thread `i` of a
    /// side runs on entry `i % len` of its list.
    Lists {
        /// CPUs of the client threads.
        client: CpuList,
        /// CPUs of the server threads.
        server: CpuList,
    },
}

/// A short ordered list of CPU ids that is `Copy` (so [`Placement`] stays a plain value).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CpuList {
    len: u8,
    cpus: [u16; CpuList::CAPACITY],
}

impl CpuList {
    /// Most CPUs one list can name.
    pub const CAPACITY: usize = 30;

    /// A list of `cpus`; refuses an empty list, more than [`CpuList::CAPACITY`] entries, or ids
    /// above 65535.
    pub fn new(flag: &str, cpus: &[usize]) -> Result<CpuList, ConfigError> {
        if cpus.is_empty() || cpus.len() > Self::CAPACITY {
            return Err(ConfigError::Invalid(format!(
                "{flag} takes 1 to {} CPU ids, got {}",
                Self::CAPACITY,
                cpus.len()
            )));
        }
        let mut list = CpuList {
            len: cpus.len() as u8,
            cpus: [0; Self::CAPACITY],
        };
        for (slot, &c) in list.cpus.iter_mut().zip(cpus) {
            *slot = u16::try_from(c).map_err(|_| {
                ConfigError::Invalid(format!("{flag}: CPU {c} is beyond any machine"))
            })?;
        }
        Ok(list)
    }

    /// The CPU ids, in order.
    pub fn to_vec(&self) -> Vec<usize> {
        self.cpus[..self.len as usize]
            .iter()
            .map(|&c| c as usize)
            .collect()
    }
}

impl fmt::Debug for CpuList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.to_vec()).finish()
    }
}

impl Placement {
    /// Placement from explicit CPU lists: one CPU per side stays [`Placement::Cpus`].
    pub fn from_lists(client: &[usize], server: &[usize]) -> Result<Placement, ConfigError> {
        if let ([c], [s]) = (client, server) {
            return Ok(Placement::Cpus {
                client: *c,
                server: *s,
            });
        }
        Ok(Placement::Lists {
            client: CpuList::new("--client-cpus", client)?,
            server: CpuList::new("--server-cpus", server)?,
        })
    }
}

impl Placement {
    /// The named presets, for help texts and errors.
    pub const PRESETS: &'static [Placement] = &[
        Placement::SameCore,
        Placement::SmtSibling,
        Placement::CrossCore,
        Placement::CrossNode,
        Placement::Unpinned,
    ];
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Placement::SameCore => f.write_str("same-core"),
            Placement::SmtSibling => f.write_str("smt-sibling"),
            Placement::CrossCore => f.write_str("cross-core"),
            Placement::CrossNode => f.write_str("cross-node"),
            Placement::Unpinned => f.write_str("unpinned"),
            Placement::Cpus { client, server } => write!(f, "cpu{client}-cpu{server}"),
            Placement::Lists { client, server } => {
                let join = |l: &CpuList| {
                    l.to_vec()
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join("+")
                };
                write!(f, "cpu{}-cpu{}", join(client), join(server))
            }
        }
    }
}

impl FromStr for Placement {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let wanted = s.trim().to_ascii_lowercase();
        for p in Placement::PRESETS {
            if p.to_string() == wanted {
                return Ok(*p);
            }
        }
        // "cpu0-cpu1" or "cpu0+1-cpu1+0", the Display forms of explicit CPUs, so a case id
        // round-trips.
        if let Some((c, s2)) = wanted.split_once('-') {
            if let (Some(c), Some(s2)) = (c.strip_prefix("cpu"), s2.strip_prefix("cpu")) {
                let list = |t: &str| -> Option<Vec<usize>> {
                    t.split('+').map(|x| x.parse().ok()).collect()
                };
                if let (Some(client), Some(server)) = (list(c), list(s2)) {
                    return Placement::from_lists(&client, &server);
                }
            }
        }
        Err(ConfigError::UnknownValue {
            dimension: "Placement",
            value: s.to_string(),
            expected: "same-core, smt-sibling, cross-core, cross-node, unpinned, or cpuN-cpuM \
                       (or --client-cpu N --server-cpu M)"
                .into(),
        })
    }
}

impl Serialize for Placement {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Placement {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// When an iteration ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
}

/// One case: everything needed to measure it, and nothing about how it was requested.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    /// How the workers are connected.
    pub transport: Transport,
    /// What they exchange.
    pub workload: Workload,
    /// How each worker waits.
    pub engine: EngineKind,
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
    /// Workload-specific settings (`rate`, `crr`) and measurement extras.
    #[serde(default)]
    pub extras: Extras,
}

fn one() -> u32 {
    1
}

/// Settings of the newer workloads and of the interference and process options; all default to
/// "off".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Extras {
    /// `rate`: requests per second per flow (the send schedule).
    #[serde(default)]
    pub rate_per_sec: u64,
    /// `rate`: most requests in flight per flow; 0 picks rate x --timeout (bounded). The sender
    /// waits when it is reached, so a slow server shows in the corrected latency.
    #[serde(default)]
    pub max_in_flight: u32,
    /// `crr`: client source addresses, used in turn (TCP over IPv4 only).
    #[serde(default)]
    pub spread: Option<AddrRange>,
    /// `crr`: close with SO_LINGER 0 (an RST instead of a FIN), so no TIME_WAIT is left behind.
    #[serde(default)]
    pub linger0: bool,
    /// A competing memcpy stream pinned to this CPU during every measured iteration.
    #[serde(default)]
    pub memory_load_cpu: Option<usize>,
    /// Run the server side in a separate process (`loopbench server`) instead of a thread.
    #[serde(default)]
    pub processes: bool,
    /// Measure a service that is already listening at this loopback address (`loopbench
    /// client --connect`): no server is started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<String>,
    /// The request payload sent to a `--connect` target (`--request`, `--request-file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Vec<u8>>,
    /// A response from a `--connect` target ends with these bytes (instead of being exactly
    /// `--response-size` long).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_delimiter: Option<Vec<u8>>,
}

impl Spec {
    /// A spec with the CLI's defaults for everything but the transport.
    pub fn new(transport: Transport) -> Spec {
        Spec {
            transport,
            workload: Workload::Rr,
            engine: EngineKind::Blocking,
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
            extras: Extras::default(),
        }
    }

    /// The canonical case id: the default dimensions always, the rest only when not default.
    ///
    /// `tcp4-rr-blocking-cross-core-64B`, `udp4-rr-spin-same-core-64B-resp1024B-delay5000ns`.
    pub fn case_id(&self) -> CaseId {
        let mut id = format!(
            "{}-{}-{}-{}-{}B",
            self.transport, self.workload, self.engine, self.placement, self.size
        );
        if self.response_size != self.size {
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
        if !self.socket.nodelay && matches!(self.transport, Transport::Tcp4 | Transport::Tcp6) {
            id.push_str("-nagle");
        }
        if self.flows != 1 {
            id.push_str(&format!("-flows{}", self.flows));
        }
        if self.threads != 1 {
            id.push_str(&format!("-threads{}", self.threads));
        }
        let x = &self.extras;
        if x.rate_per_sec != 0 {
            id.push_str(&format!("-rate{}", x.rate_per_sec));
        }
        if x.max_in_flight != 0 {
            id.push_str(&format!("-inflight{}", x.max_in_flight));
        }
        if let Some(spread) = x.spread {
            id.push_str(&format!("-spread{spread}"));
        }
        if x.linger0 {
            id.push_str("-linger0");
        }
        if let Some(cpu) = x.memory_load_cpu {
            id.push_str(&format!("-memload{cpu}"));
        }
        if x.processes {
            id.push_str("-processes");
        }
        if let Some(target) = &x.connect {
            let safe: String = target
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            id.push_str(&format!("-to-{safe}"));
        }
        if x.response_delimiter.is_some() {
            id.push_str("-delimited");
        }
        CaseId(id)
    }

    /// Checks everything that can be checked without touching the machine.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.size == 0 {
            return Err(ConfigError::ZeroSize { flag: "--size" });
        }
        if self.response_size == 0 {
            return Err(ConfigError::ZeroSize {
                flag: "--response-size",
            });
        }
        if let Some(max) = self.transport.max_message() {
            for (flag, v) in [
                ("--size", self.size),
                ("--response-size", self.response_size),
            ] {
                if v > max {
                    return Err(ConfigError::TooLarge {
                        flag,
                        value: v,
                        transport: self.transport,
                        max,
                    });
                }
            }
        }
        if self.transport.is_datagram() {
            for (flag, v) in [
                ("--size", self.size),
                ("--response-size", self.response_size),
            ] {
                if v < SEQ_BYTES {
                    return Err(ConfigError::TooSmallForSequence {
                        flag,
                        value: v,
                        transport: self.transport,
                    });
                }
            }
        }
        if self.transport == Transport::Shm
            && !matches!(self.engine, EngineKind::Spin | EngineKind::Blocking)
        {
            return Err(ConfigError::EngineUnsupported {
                engine: self.engine,
                transport: self.transport,
            });
        }
        self.validate_flows()?;
        self.validate_workload()?;
        if self.server_drop_every != 0 && !self.transport.is_datagram() {
            return Err(ConfigError::Invalid(format!(
                "--server-drop-every needs a datagram transport (udp4, udp6, unix-dgram): on {} a \
                 dropped request would stall the connection",
                self.transport
            )));
        }
        if self.timing.iterations == 0 {
            return Err(ConfigError::ZeroIterations);
        }
        match self.timing.length {
            IterationLength::Duration { duration_ns: 0 } => return Err(ConfigError::ZeroLength),
            IterationLength::Count { messages: 0 } => return Err(ConfigError::ZeroLength),
            _ => {}
        }
        if let Some(addr) = &self.addr {
            addr.check_family(self.transport)?;
        }
        if let Some(client) = self.client_addr {
            Endpoint::Ip(client).check_family(self.transport)?;
        }
        Ok(())
    }
}

impl Spec {
    /// Flows and threads: at least one each, no idle threads, and one flow per thread for the
    /// blocking engine (it sleeps in one read at a time).
    fn validate_flows(&self) -> Result<(), ConfigError> {
        if self.flows == 0 || self.threads == 0 {
            return Err(ConfigError::Invalid(
                "--flows and --threads must be at least 1".into(),
            ));
        }
        if self.threads > self.flows {
            return Err(ConfigError::Invalid(format!(
                "--threads {} is more than --flows {}: a thread without a flow would only idle; use --flows {} or fewer threads",
                self.threads, self.flows, self.threads
            )));
        }
        if self.engine == EngineKind::Blocking && self.flows > self.threads {
            return Err(ConfigError::Invalid(format!(
                "the blocking engine drives one flow per thread, but --flows {} runs on --threads {}; use --threads {} or --engine epoll (or spin, tokio)",
                self.flows, self.threads, self.flows
            )));
        }
        Ok(())
    }

    /// What each workload needs from the transport and its options.
    fn validate_workload(&self) -> Result<(), ConfigError> {
        let x = &self.extras;
        let is_rate = self.workload == Workload::Rate;
        if is_rate && x.rate_per_sec == 0 {
            return Err(ConfigError::Invalid(
                "the rate workload needs --rate REQS_PER_SEC (per flow), e.g. --rate 10000".into(),
            ));
        }
        if !is_rate && (x.rate_per_sec != 0 || x.max_in_flight != 0) {
            return Err(ConfigError::Invalid(format!(
                "--rate and --max-in-flight only apply to -w rate, not {}",
                self.workload
            )));
        }
        if is_rate && self.transport == Transport::Shm && self.engine == EngineKind::Blocking {
            return Err(ConfigError::Invalid(
                "rate over shm needs --engine spin: the blocking shm engine cannot wake up for the send schedule".into(),
            ));
        }
        if self.workload == Workload::Crr
            && !matches!(
                self.transport,
                Transport::Tcp4
                    | Transport::Tcp6
                    | Transport::UnixStream
                    | Transport::UnixSeqpacket
            )
        {
            return Err(ConfigError::Invalid(format!(
                "crr (connect/request/response/close) needs a connection-oriented transport (tcp4, tcp6, unix-stream, unix-seqpacket), not {}",
                self.transport
            )));
        }
        let crr_tcp4 = self.workload == Workload::Crr && self.transport == Transport::Tcp4;
        if x.spread.is_some() && !crr_tcp4 {
            return Err(ConfigError::Invalid(
                "--spread (client source addresses) applies to -w crr over tcp4".into(),
            ));
        }
        if x.spread.is_some() && self.client_addr.is_some() {
            return Err(ConfigError::Invalid(
                "--spread and --client-addr both set the client source address; give one".into(),
            ));
        }
        let crr_tcp = self.workload == Workload::Crr
            && matches!(self.transport, Transport::Tcp4 | Transport::Tcp6);
        if x.linger0 && !crr_tcp {
            return Err(ConfigError::Invalid(
                "--linger0 (close with RST, no TIME_WAIT) applies to -w crr over tcp4/tcp6".into(),
            ));
        }
        if (x.processes || x.connect.is_some()) && !self.transport.crosses_processes() {
            return Err(ConfigError::Invalid(format!(
                "--processes and --connect need a connection-oriented transport with an address (tcp4, tcp6, unix-stream, unix-seqpacket), not {}",
                self.transport
            )));
        }
        if (x.request.is_some() || x.response_delimiter.is_some()) && x.connect.is_none() {
            return Err(ConfigError::Invalid(
                "--request, --request-file and --response-delimiter apply to `loopbench client --connect`".into(),
            ));
        }
        if x.connect.is_some() && x.processes {
            return Err(ConfigError::Invalid(
                "--connect measures a service that already runs; --processes starts one: give one"
                    .into(),
            ));
        }
        if self.server_drop_every != 0 && !matches!(self.workload, Workload::Rr | Workload::Rate) {
            return Err(ConfigError::Invalid(format!(
                "--server-drop-every applies to the request/response workloads (rr, rate), not {}",
                self.workload
            )));
        }
        Ok(())
    }
}

/// The canonical slug of a [`Spec`], used for file names, JSON keys and matching across runs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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

/// Parses a byte size: `64`, `1k`/`1K`/`1KiB` (1024), `64KiB`, `1M`, `1MiB`.
pub fn parse_size(text: &str) -> Result<usize, ConfigError> {
    let t = text.trim();
    let bad = || ConfigError::BadSize(text.to_string());
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: usize = digits.parse().map_err(|_| bad())?;
    let mult: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(bad()),
    };
    n.checked_mul(mult).ok_or_else(bad)
}

/// Parses a duration: `500ms`, `1s`, `2m`, `1.5s`.
pub fn parse_duration(text: &str) -> Result<Duration, ConfigError> {
    let t = text.trim();
    if let Some(secs) = t.strip_suffix('s').and_then(|n| n.parse::<f64>().ok()) {
        if secs.is_finite() && secs >= 0.0 {
            return Ok(Duration::from_secs_f64(secs));
        }
    }
    humantime::parse_duration(t).map_err(|_| ConfigError::BadDuration(text.to_string()))
}

/// Splits a comma list and parses each item; empty items are an error.
pub fn parse_list<T, F>(text: &str, parse: F) -> Result<Vec<T>, ConfigError>
where
    F: Fn(&str) -> Result<T, ConfigError>,
{
    text.split(',').map(|item| parse(item.trim())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimensions_round_trip_through_their_spelling() {
        for t in Transport::ALL {
            assert_eq!(t.as_str().parse::<Transport>().unwrap(), *t);
        }
        for e in EngineKind::ALL {
            assert_eq!(e.as_str().parse::<EngineKind>().unwrap(), *e);
        }
        for p in Placement::PRESETS {
            assert_eq!(p.to_string().parse::<Placement>().unwrap(), *p);
        }
        let cpus = Placement::Cpus {
            client: 0,
            server: 3,
        };
        assert_eq!(cpus.to_string(), "cpu0-cpu3");
        assert_eq!("cpu0-cpu3".parse::<Placement>().unwrap(), cpus);
    }

    #[test]
    fn unknown_dimension_value_lists_the_valid_ones() {
        let err = "tcp5".parse::<Transport>().unwrap_err().to_string();
        assert!(err.contains("tcp5"), "{err}");
        assert!(err.contains("unix-seqpacket"), "{err}");
    }

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
    fn case_id_names_default_dimensions_and_only_non_default_extras() {
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

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("64").unwrap(), 64);
        assert_eq!(parse_size("1k").unwrap(), 1024);
        assert_eq!(parse_size("128KiB").unwrap(), 128 * 1024);
        assert_eq!(parse_size("1M").unwrap(), 1 << 20);
        assert!(parse_size("").is_err());
        assert!(parse_size("12q").is_err());
        assert!(parse_size("-1").is_err());
    }

    #[test]
    fn durations_parse_in_human_units() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1s").unwrap(), Duration::from_secs(1));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn validation_rejects_impossible_sizes() {
        let mut spec = Spec::new(Transport::Udp4);
        spec.size = 0;
        assert!(matches!(spec.validate(), Err(ConfigError::ZeroSize { .. })));
        spec.size = 65508;
        assert!(matches!(spec.validate(), Err(ConfigError::TooLarge { .. })));
        spec.size = 65507;
        spec.response_size = 65507;
        spec.validate().unwrap();
        spec.size = 4;
        assert!(matches!(
            spec.validate(),
            Err(ConfigError::TooSmallForSequence { .. })
        ));
        let mut tcp = Spec::new(Transport::Tcp4);
        tcp.size = 1;
        tcp.response_size = 1;
        tcp.validate().unwrap();
    }

    #[test]
    fn validation_rejects_wrong_address_family() {
        let mut spec = Spec::new(Transport::Tcp6);
        spec.addr = Some(Endpoint::Ip("127.0.0.1".parse().unwrap()));
        assert!(spec.validate().is_err());
        spec.addr = Some(Endpoint::Ip("::1".parse().unwrap()));
        spec.validate().unwrap();
    }
}
