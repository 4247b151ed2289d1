//! Argument groups shared by the subcommands that measure (run, client, server, suite), and
//! their conversion into [`CaseOptions`], the description suite and study files share.

use std::path::{Path, PathBuf};

use clap::Args;

use super::instrument_args::InstrumentArgs;
use super::workload_args::WorkloadArgs;
use crate::spec::case_options::{CaseOptions, Values};

/// What to measure: every dimension takes a comma list, and lists expand to a matrix.
#[derive(Debug, Clone, Args)]
pub struct CaseArgs {
    /// Transports: tcp4, tcp6, udp4, udp6, unix-stream, unix-dgram, unix-seqpacket, pipe, shm
    /// [default: tcp4].
    #[arg(long, short = 't', value_name = "LIST")]
    pub transport: Option<String>,
    /// Workloads: rr (closed-loop request/response), stream (one-way bulk, counted at the
    /// receiver), crr (connect/request/response/close), rate (open loop at --rate).
    #[arg(long, short = 'w', default_value = "rr", value_name = "LIST")]
    pub workload: String,
    /// Engines (how a worker waits): blocking, spin, epoll, tokio, tokio-mt, io_uring; io_uring
    /// variants add -sqpoll (or -sqpoll@CPU), -multishot, -fixed, e.g. io_uring-sqpoll@1.
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
    /// TCP_NOTSENT_LOWAT in bytes on both TCP sockets (unsent data a socket may hold before it
    /// stops being writable).
    #[arg(long, value_name = "BYTES")]
    pub notsent_lowat: Option<String>,
    /// Leave Nagle's algorithm on (TCP_NODELAY is on by default).
    #[arg(long)]
    pub nagle: bool,
    /// SO_BUSY_POLL in µs on TCP and UDP sockets: a blocking receive busy-polls the device
    /// queue this long before it sleeps (raising it needs CAP_NET_ADMIN).
    #[arg(long, value_name = "US")]
    pub busy_poll_us: Option<u32>,
    /// Server busy-waits this long before each answer: simulated service time (5000 = 5000 ns, or 5us).
    #[arg(long, value_name = "NS")]
    pub server_delay: Option<String>,
    /// Fault injection: the server drops every Nth datagram request (tests loss accounting).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub server_drop_every: u64,
    /// Kernel stages of every round trip (rr), from tracepoints on the workers' CPUs; root only.
    /// `--trace off,on` runs each case untraced and traced, interleaved (the tracer's overhead).
    #[arg(long, value_name = "LIST", num_args = 0..=1, default_missing_value = "on")]
    pub trace: Option<String>,
    /// Where the workers' CPUs go: call-chain samples attributed to data copy, TCP/IP,
    /// netdevice, skb, memory, locks, scheduling, syscalls, the harness; root only. Takes on,
    /// off or off,on like --trace.
    #[arg(long, value_name = "LIST", num_args = 0..=1, default_missing_value = "on")]
    pub profile: Option<String>,
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

/// The results directory, the same flag on every command that reads or writes results:
/// `-o/--output DIR` (`--results` is a hidden alias), else `$LOOPBENCH_OUTPUT`, else `results`.
#[derive(Debug, Clone, Args)]
pub struct ResultsArg {
    /// Results directory: runs in DIR/runs/<run-id>/, baselines in DIR/baselines/, studies in
    /// DIR/studies/, ab sessions in DIR/ab/.
    #[arg(long, short = 'o', alias = "results", global = true, default_value = crate::store::DEFAULT_RESULTS_DIR, value_name = "DIR", env = crate::store::OUTPUT_ENV)]
    pub output: PathBuf,
}

impl ResultsArg {
    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.output
    }
}

/// Where results go and how the run is ordered.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    #[command(flatten)]
    pub results: ResultsArg,
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
    /// Do not write the report (summary.md, summary.csv, plots/, report.html); `loopbench report`
    /// writes it later.
    #[arg(long)]
    pub no_report: bool,
    #[command(flatten)]
    pub history: super::history::RunHistoryArgs,
}

/// The measuring flags of `run`, `client` and `server`: the case matrix, the workload's own
/// settings and the timing.
#[derive(Debug, Clone, Args)]
pub struct MatrixArgs {
    #[command(flatten)]
    pub case: CaseArgs,
    #[command(flatten)]
    pub workload: WorkloadArgs,
    #[command(flatten)]
    pub timing: TimingArgs,
    #[command(flatten)]
    pub instrument: InstrumentArgs,
}

impl MatrixArgs {
    /// The case options these flags describe.
    pub fn options(&self) -> CaseOptions {
        let mut o = case_options(&self.case, &self.timing, &self.workload);
        o.stages = self.instrument.stages();
        o
    }
}

/// The case options the measuring flags describe.
fn case_options(case: &CaseArgs, timing: &TimingArgs, workload: &WorkloadArgs) -> CaseOptions {
    let text = |s: &Option<String>| s.as_ref().map(Values::text);
    CaseOptions {
        note: None,
        transport: text(&case.transport),
        workload: Some(Values::text(&case.workload)),
        engine: Some(Values::text(&case.engine)),
        placement: text(&case.placement),
        client_cpu: case.client_cpu,
        server_cpu: case.server_cpu,
        client_cpus: text(&workload.client_cpus),
        server_cpus: text(&workload.server_cpus),
        size: Some(Values::text(&case.size)),
        zerocopy: text(&workload.zerocopy),
        response_size: text(&case.response_size),
        addr: text(&case.addr),
        client_addr: case.client_addr.clone(),
        port: Some(case.port),
        sndbuf: text(&case.sndbuf),
        rcvbuf: text(&case.rcvbuf),
        notsent_lowat: text(&case.notsent_lowat),
        nagle: Some(case.nagle),
        busy_poll_us: case.busy_poll_us,
        server_delay: text(&case.server_delay),
        server_drop_every: Some(case.server_drop_every),
        flows: Some(workload.flows),
        threads: Some(workload.threads),
        rate: workload.rate,
        max_in_flight: workload.max_in_flight,
        spread: workload.spread.clone(),
        linger0: Some(workload.linger0),
        memory_load: workload.memory_load,
        processes: Some(workload.processes),
        trace: text(&case.trace),
        profile: text(&case.profile),
        stages: None,
        iterations: Some(timing.iterations),
        duration: timing.count.is_none().then(|| timing.duration.clone()),
        count: timing.count,
        warmup: Some(timing.warmup.clone()),
        timeout: Some(timing.timeout.clone()),
        loss_timeout: Some(timing.loss_timeout.clone()),
    }
}
