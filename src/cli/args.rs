//! Argument groups shared by the subcommands that measure (run, and later suite and study), and
//! their conversion into a validated [`Matrix`].

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::error::ConfigError;
use crate::loopback::addr::{parse_endpoint, parse_ip};
use crate::matrix::Matrix;
use crate::placement::Topology;
use crate::spec::{
    IterationLength, Placement, Spec, Transport, parse_duration, parse_list, parse_size,
};

/// What to measure: every dimension takes a comma list, and lists expand to a matrix.
#[derive(Debug, Clone, Args)]
pub struct CaseArgs {
    /// Transports: tcp4, tcp6, udp4, udp6, unix-stream, unix-dgram, unix-seqpacket, pipe, shm.
    #[arg(long, short = 't', default_value = "tcp4", value_name = "LIST")]
    pub transport: String,
    /// Workloads: rr (closed-loop request/response), stream (one-way bulk, counted at the receiver).
    #[arg(long, short = 'w', default_value = "rr", value_name = "LIST")]
    pub workload: String,
    /// Engines (how a worker waits): blocking, spin.
    #[arg(long, short = 'e', default_value = "blocking", value_name = "LIST")]
    pub engine: String,
    /// Placements: same-core, cross-core, smt-sibling, cross-node, unpinned
    /// [default: cross-core with 2+ cores, else same-core].
    #[arg(long, short = 'p', value_name = "LIST")]
    pub placement: Option<String>,
    /// Pin the client to this CPU (with --server-cpu; overrides --placement).
    #[arg(long, value_name = "N", requires = "server_cpu")]
    pub client_cpu: Option<usize>,
    /// Pin the server to this CPU (with --client-cpu).
    #[arg(long, value_name = "N", requires = "client_cpu")]
    pub server_cpu: Option<usize>,
    /// Request sizes in bytes (64, 1k, 64KiB, 1M).
    #[arg(long, short = 's', default_value = "64", value_name = "LIST")]
    pub size: String,
    /// Response size in bytes [default: the request size].
    #[arg(long, value_name = "BYTES")]
    pub response_size: Option<String>,
    /// Server addresses: 127.0.0.0/8, ::1, /unix/path or @abstract (each transport uses those of
    /// its family).
    #[arg(long, value_name = "LIST")]
    pub addr: Option<String>,
    /// Client source address (IP transports).
    #[arg(long, value_name = "IP")]
    pub client_addr: Option<String>,
    /// Server port (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// SO_SNDBUF in bytes (pipe: pipe size; shm: ring size). Forced past net.core.wmem_max as root.
    #[arg(long, value_name = "BYTES")]
    pub sndbuf: Option<String>,
    /// SO_RCVBUF in bytes. Forced past net.core.rmem_max as root.
    #[arg(long, value_name = "BYTES")]
    pub rcvbuf: Option<String>,
    /// Leave Nagle's algorithm on (TCP_NODELAY is on by default).
    #[arg(long)]
    pub nagle: bool,
    /// Server busy-waits this long before each answer: simulated service time (5000 = 5000 ns, or 5us).
    #[arg(long, value_name = "NS")]
    pub server_delay: Option<String>,
    /// Fault injection: the server drops every Nth datagram request (tests loss accounting).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub server_drop_every: u64,
}

/// How long and how often.
#[derive(Debug, Clone, Args)]
pub struct TimingArgs {
    /// Measured iterations per case; each uses a fresh connection and is one statistical sample.
    #[arg(long, short = 'n', default_value_t = 5)]
    pub iterations: u32,
    /// Length of one iteration.
    #[arg(long, short = 'd', default_value = "1s", conflicts_with = "count")]
    pub duration: String,
    /// End each iteration after this many messages instead of a duration.
    #[arg(long, short = 'c')]
    pub count: Option<u64>,
    /// Warm-up per case before its first iteration, discarded (0 to skip).
    #[arg(long, default_value = "500ms")]
    pub warmup: String,
    /// Longest a worker waits for its peer before the case fails.
    #[arg(long, default_value = "5s")]
    pub timeout: String,
    /// How long a datagram client waits for a response before counting it lost.
    #[arg(long, default_value = "20ms")]
    pub loss_timeout: String,
}

/// Where results go and how the run is ordered.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Results directory (runs go to DIR/runs/<run-id>/).
    #[arg(long, short = 'o', default_value = crate::store::DEFAULT_RESULTS_DIR, value_name = "DIR", env = crate::ab::OUTPUT_ENV)]
    pub output: PathBuf,
    /// Seed for the shuffled order of iterations (recorded in run.json).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run cases one after another instead of interleaving their iterations.
    #[arg(long)]
    pub no_interleave: bool,
    /// A label stored with the run.
    #[arg(long)]
    pub label: Option<String>,
    /// No progress on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// `5000` is nanoseconds; anything with a unit is a duration (`5us`, `1ms`).
fn parse_ns(text: &str) -> Result<u64, ConfigError> {
    match text.trim().parse::<u64>() {
        Ok(ns) => Ok(ns),
        Err(_) => parse_duration(text).map(nanos),
    }
}

impl CaseArgs {
    /// Builds the matrix; `timing` fills the template's timing.
    pub fn matrix(&self, timing: &TimingArgs, topology: &Topology) -> Result<Matrix, ConfigError> {
        let mut template = Spec::new(Transport::Tcp4);
        template.port = self.port;
        template.socket.nodelay = !self.nagle;
        template.socket.sndbuf = self.sndbuf.as_deref().map(parse_size).transpose()?;
        template.socket.rcvbuf = self.rcvbuf.as_deref().map(parse_size).transpose()?;
        template.server_delay_ns = self
            .server_delay
            .as_deref()
            .map(parse_ns)
            .transpose()?
            .unwrap_or(0);
        template.server_drop_every = self.server_drop_every;
        template.timing = timing.timing()?;
        let placements = match (self.client_cpu, self.server_cpu, &self.placement) {
            (Some(client), Some(server), _) => vec![Placement::Cpus { client, server }],
            (_, _, Some(list)) => parse_list(list, str::parse)?,
            _ => vec![topology.default_placement()],
        };
        Ok(Matrix {
            transports: parse_list(&self.transport, str::parse)?,
            workloads: parse_list(&self.workload, str::parse)?,
            engines: parse_list(&self.engine, str::parse)?,
            placements,
            sizes: parse_list(&self.size, parse_size)?,
            response_size: self.response_size.as_deref().map(parse_size).transpose()?,
            addrs: match &self.addr {
                Some(list) => parse_list(list, |a| parse_endpoint("--addr", a))?,
                None => Vec::new(),
            },
            client_addr: self
                .client_addr
                .as_deref()
                .map(|a| parse_ip("--client-addr", a))
                .transpose()?,
            template,
        })
    }
}

impl TimingArgs {
    /// The timing these flags describe.
    pub fn timing(&self) -> Result<crate::spec::Timing, ConfigError> {
        let length = match self.count {
            Some(messages) => IterationLength::Count { messages },
            None => IterationLength::Duration {
                duration_ns: nanos(parse_duration(&self.duration)?),
            },
        };
        Ok(crate::spec::Timing {
            warmup_ns: nanos(parse_duration(&self.warmup).or_else(|e| {
                if self.warmup.trim() == "0" {
                    Ok(Duration::ZERO)
                } else {
                    Err(e)
                }
            })?),
            iterations: self.iterations,
            length,
            timeout_ns: nanos(parse_duration(&self.timeout)?),
            loss_timeout_ns: nanos(parse_duration(&self.loss_timeout)?),
        })
    }
}
