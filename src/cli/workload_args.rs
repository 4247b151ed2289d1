//! Flags of the multi-flow, `rate`, `crr`, interference and process options, applied on top of
//! the matrix that [`CaseArgs`](super::args::CaseArgs) builds.

use clap::Args;

use crate::error::ConfigError;
use crate::matrix::Matrix;
use crate::placement::parse_cpu_list;
use crate::spec::{Placement, Spec, Transport, Workload};

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
    /// Run a competing memcpy stream pinned to this CPU during every measured iteration; its
    /// bandwidth is recorded.
    #[arg(long, value_name = "CPU")]
    pub memory_load: Option<usize>,
    /// Run the server side as a separate process (`loopbench server`) instead of a thread.
    #[arg(long)]
    pub processes: bool,
}

fn cpus(flag: &str, text: &str) -> Result<Vec<usize>, ConfigError> {
    parse_cpu_list(text)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| {
            ConfigError::Invalid(format!("{flag} {text}: write CPU ids like 0,1 or 0-3"))
        })
}

impl WorkloadArgs {
    /// Applies these flags to every case of `matrix`.
    pub fn apply(&self, matrix: &mut Matrix) -> Result<(), ConfigError> {
        let t = &mut matrix.template;
        t.flows = self.flows;
        t.threads = self.threads;
        t.extras.rate_per_sec = self.rate.unwrap_or(0);
        t.extras.max_in_flight = self.max_in_flight.unwrap_or(0);
        t.extras.spread = self.spread.as_deref().map(str::parse).transpose()?;
        t.extras.linger0 = self.linger0;
        t.extras.memory_load_cpu = self.memory_load;
        t.extras.processes = self.processes;
        if let (Some(c), Some(s)) = (&self.client_cpus, &self.server_cpus) {
            matrix.placements = vec![Placement::from_lists(
                &cpus("--client-cpus", c)?,
                &cpus("--server-cpus", s)?,
            )?];
        }
        Ok(())
    }

    /// In a matrix that mixes workloads, `--rate` goes to the rate cases and `--spread`/
    /// `--linger0` to the crr cases over TCP; alone, a misplaced option is still refused.
    pub fn fit(specs: &mut [Spec]) {
        let has = |w: Workload| specs.iter().any(|s| s.workload == w);
        let (rate, crr) = (has(Workload::Rate), has(Workload::Crr));
        for s in specs.iter_mut() {
            if rate && s.workload != Workload::Rate {
                s.extras.rate_per_sec = 0;
                s.extras.max_in_flight = 0;
            }
            let crr_tcp = s.workload == Workload::Crr
                && matches!(s.transport, Transport::Tcp4 | Transport::Tcp6);
            if crr && !crr_tcp {
                s.extras.linger0 = false;
                if s.transport != Transport::Tcp4 || s.workload != Workload::Crr {
                    s.extras.spread = None;
                }
            }
        }
    }
}
