//! The flows of one iteration: connect `--flows` connection pairs (or, for a workload that
//! connects per transaction such as `crr`, open the listener and one dialer per client flow), build each side's flow state machine, and deal the
//! flows round-robin to `--threads` worker threads per side (flow `i` → thread `i % threads`).

use anyhow::{Context, Result};

use crate::engine::FlowSlot;
use crate::metrics::clock::MonotonicClock;
use crate::metrics::stamps::StampLog;
use crate::run::resources::raise_fd_limit;
use crate::spec::{IterationLength, Spec};
use crate::transport::dial::{CrrListener, Dialer};
use crate::transport::{ConnInfo, connector};
use crate::workload::{
    self, ClientEnv, Connections, Heartbeat, ServerEnv, client_flow, server_flow,
};

/// The flows one worker thread drives, and which flow each slot is.
#[derive(Default)]
pub struct ThreadFlows {
    /// The slots, in the order the engine gets them.
    pub slots: Vec<FlowSlot>,
    /// The flow index of each slot.
    pub flow_ids: Vec<usize>,
}

impl ThreadFlows {
    /// One empty group per worker thread of `spec`'s sides.
    pub fn per_thread(spec: &Spec) -> Vec<ThreadFlows> {
        (0..spec.threads.max(1))
            .map(|_| ThreadFlows::default())
            .collect()
    }
}

/// Deals flow `f` to its thread: `f % threads`.
pub fn deal(groups: &mut [ThreadFlows], f: usize, slot: FlowSlot) {
    let n = groups.len();
    let g = &mut groups[f % n];
    g.slots.push(slot);
    g.flow_ids.push(f);
}

/// Client flow `flow`'s environment with a fresh heartbeat (and, with `--stages`, a stamp log of
/// `stamps` entries), and the heartbeat for the watchdog.
pub fn client_env(
    length: IterationLength,
    flow: u32,
    stamps: Option<usize>,
) -> (ClientEnv<MonotonicClock>, Heartbeat) {
    let heartbeat = Heartbeat::default();
    let env = ClientEnv {
        clock: MonotonicClock,
        length,
        heartbeat: heartbeat.clone(),
        flow,
        stamps: stamps.map(StampLog::with_capacity),
    };
    (env, heartbeat)
}

/// Server flow `flow`'s environment (with `--stages`, a stamp log of `stamps` entries).
pub fn server_env(
    length: IterationLength,
    flow: u32,
    stamps: Option<usize>,
) -> ServerEnv<MonotonicClock> {
    ServerEnv {
        clock: MonotonicClock,
        length,
        flow,
        stamps: stamps.map(StampLog::with_capacity),
    }
}

/// The slot of client flow `f` of `flows` of a workload that connects per transaction (crr),
/// dialing `server` for every transaction: an unconnected placeholder socket until its first
/// connection.
pub fn per_transaction_client(
    spec: &Spec,
    server: socket2::SockAddr,
    (f, flows): (usize, usize),
    env: ClientEnv<MonotonicClock>,
) -> Result<FlowSlot> {
    let dialer = Dialer::to(spec, server, f, flows);
    Ok(FlowSlot {
        conn: dialer.placeholder().context("creating a crr socket")?,
        flow: client_flow(spec, env, Some(dialer))?,
    })
}

/// Everything an iteration runs.
pub struct IterationFlows {
    /// Client threads' flows.
    pub clients: Vec<ThreadFlows>,
    /// Server threads' flows.
    pub servers: Vec<ThreadFlows>,
    /// One heartbeat per client flow, for the watchdog.
    pub heartbeats: Vec<Heartbeat>,
    /// The first flow's connection as the client and the server see it.
    pub connection: (ConnInfo, ConnInfo),
    /// crr's listener, kept open until the iteration ends.
    pub listener: Option<CrrListener>,
}

/// Connects and builds the flows of one iteration of `spec` lasting `length`; with `--stages`,
/// each flow's stamp logs hold `stamps` messages.
pub fn build(
    spec: &Spec,
    length: IterationLength,
    stamps: Option<usize>,
) -> Result<IterationFlows> {
    raise_fd_limit(spec)?;
    let flows = spec.flows.max(1) as usize;
    let mut out = IterationFlows {
        clients: ThreadFlows::per_thread(spec),
        servers: ThreadFlows::per_thread(spec),
        heartbeats: Vec::with_capacity(flows),
        connection: Default::default(),
        listener: None,
    };
    let listener = match workload::connections(spec) {
        Connections::PerTransaction => Some(CrrListener::open(spec)?),
        Connections::PerFlow => None,
    };
    let mut pairs = match &listener {
        Some(_) => None,
        None => Some(connector(spec)?),
    };
    for f in 0..flows {
        let (env, heartbeat) = client_env(length, f as u32, stamps);
        let server_env = || server_env(length, f as u32, stamps);
        let (client, server) = match (&listener, pairs.as_mut()) {
            (Some(l), _) => {
                let client = per_transaction_client(spec, l.server().clone(), (f, flows), env)?;
                let server = FlowSlot {
                    conn: l.listening_conn()?,
                    flow: server_flow(spec, server_env()),
                };
                if f == 0 {
                    out.connection = (
                        ConnInfo {
                            peer: Some(l.address()),
                            ..ConnInfo::default()
                        },
                        server.conn.info.clone(),
                    );
                }
                (client, server)
            }
            (None, Some(c)) => {
                let (cc, sc) = c
                    .pair()
                    .with_context(|| format!("connecting flow {f} of {flows}"))?;
                if f == 0 {
                    out.connection = (cc.info.clone(), sc.info.clone());
                }
                (
                    FlowSlot {
                        conn: cc,
                        flow: client_flow(spec, env, None)?,
                    },
                    FlowSlot {
                        conn: sc,
                        flow: server_flow(spec, server_env()),
                    },
                )
            }
            (None, None) => unreachable!("either a listener or a connector exists"),
        };
        out.heartbeats.push(heartbeat);
        deal(&mut out.clients, f, client);
        deal(&mut out.servers, f, server);
    }
    out.listener = listener;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{EngineKind, Transport};

    #[test]
    fn flows_are_dealt_round_robin_to_threads() {
        let mut spec = Spec::new(Transport::UnixStream);
        spec.engine = EngineKind::Epoll;
        spec.flows = 5;
        spec.threads = 2;
        let f = build(&spec, IterationLength::Count { messages: 1 }, None).unwrap();
        assert_eq!(f.clients[0].flow_ids, vec![0, 2, 4]);
        assert_eq!(f.clients[1].flow_ids, vec![1, 3]);
        assert_eq!(f.servers[1].flow_ids, vec![1, 3]);
        assert_eq!(f.heartbeats.len(), 5);
    }

    #[test]
    fn the_soft_fd_limit_is_raised_to_what_an_iteration_needs() {
        let mut spec = Spec::new(Transport::Tcp4);
        spec.engine = EngineKind::Epoll;
        spec.flows = 10;
        raise_fd_limit(&spec).unwrap();
        let (soft, _) =
            nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).unwrap();
        assert!(soft >= crate::run::resources::fds_needed(&spec));
    }
}
