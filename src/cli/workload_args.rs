//! Flags of the multi-flow, `rate`, `crr`, interference and process options; they become part of
//! the [`CaseOptions`](crate::spec::case_options::CaseOptions) with the other measuring flags.

use clap::Args;

/// Flows, threads, CPU lists, and the options of the rate and crr workloads.
#[derive(Debug, Clone, Args)]
pub struct WorkloadArgs {
    /// Connections (flows) per iteration, for every workload.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub flows: u32,
    /// Worker threads per side; flow i runs on thread i % T. The blocking engine needs one
    /// thread per flow.
    #[arg(long, default_value_t = 1, value_name = "T")]
    pub threads: u32,
    /// CPUs of the client threads, e.g. 0,1 (thread i on entry i % len; with --server-cpus).
    #[arg(long, value_name = "LIST", requires = "server_cpus", conflicts_with_all = ["client_cpu", "placement"])]
    pub client_cpus: Option<String>,
    /// CPUs of the server threads, e.g. 1,0 (with --client-cpus).
    #[arg(long, value_name = "LIST", requires = "client_cpus")]
    pub server_cpus: Option<String>,
    /// rate: requests per second per flow (open loop; latency from the intended send time).
    #[arg(long, value_name = "REQS")]
    pub rate: Option<u64>,
    /// rate: most requests outstanding per flow [default: rate x --timeout, at most 1M].
    #[arg(long, value_name = "N")]
    pub max_in_flight: Option<u32>,
    /// crr over tcp4: client source addresses to use in turn, e.g. 127.0.0.2-127.0.0.50, so
    /// ephemeral ports last (each source address has its own port range).
    #[arg(long, value_name = "RANGE")]
    pub spread: Option<String>,
    /// crr over TCP: close with SO_LINGER 0 (RST) so clients leave no TIME_WAIT behind
    /// [default: a normal close; the client keeps TIME_WAIT].
    #[arg(long)]
    pub linger0: bool,
    /// stream: how the bytes move through the kernel, a list: copy (write/read), send
    /// (MSG_ZEROCOPY; on io_uring its SEND_ZC), recv (TCP_ZEROCOPY_RECEIVE), send-recv, sendfile
    /// (from a memfd), splice (vmsplice into the pipe; over TCP through a private pipe). Engines
    /// blocking, epoll, spin; io_uring for send only. run.json records what the kernel really
    /// did [default: copy].
    #[arg(long, value_name = "LIST")]
    pub zerocopy: Option<String>,
    /// Run a competing memcpy stream pinned to this CPU during every measured iteration; its
    /// bandwidth is recorded.
    #[arg(long, value_name = "CPU")]
    pub memory_load: Option<usize>,
    /// Run the server side as a separate process (`loopbench server`) instead of a thread.
    #[arg(long)]
    pub processes: bool,
}
