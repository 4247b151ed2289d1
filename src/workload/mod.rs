//! Workloads: what the two sides exchange. Each is one file with a client and a server
//! [`Flow`]; the table in [`client_flow`]/[`server_flow`] is the only place
//! that knows them all.

pub mod crr;
mod env;
pub mod external;
pub mod handler;
pub mod rate;
pub mod rr;
pub mod stream;

pub use env::{ClientEnv, Heartbeat, IterationEnd, get_seq, put_seq};

use crate::engine::Flow;
use crate::metrics::clock::Clock;
use crate::spec::{IterationLength, Spec, Workload};
use crate::transport::dial::Dialer;

/// The client side of one flow of `spec`'s workload; `dialer` opens `crr`'s connections.
pub fn client_flow<C: Clock + 'static>(
    spec: &Spec,
    env: ClientEnv<C>,
    dialer: Option<Dialer>,
) -> anyhow::Result<Box<dyn Flow>> {
    let custom = spec.framing.is_custom() || spec.server_handler.is_some();
    Ok(match spec.workload {
        Workload::Rr if custom => Box::new(external::ExternalClient::new(spec, env)),
        Workload::Rr => Box::new(rr::RrClient::new(spec, env)),
        Workload::Stream => Box::new(stream::StreamClient::new(spec, env)),
        Workload::Rate => Box::new(rate::RateClient::new(spec, env)),
        Workload::Crr => {
            let dialer = dialer.ok_or_else(|| anyhow::anyhow!("a crr client needs a dialer"))?;
            Box::new(crr::CrrClient::new(spec, env, dialer))
        }
    })
}

/// The server side of one flow of `spec`'s workload, for an iteration of `length`.
pub fn server_flow<C: Clock + 'static>(
    spec: &Spec,
    length: IterationLength,
    clock: C,
) -> Box<dyn Flow> {
    if let Some(h) = &spec.server_handler {
        return Box::new(handler::HandlerServer::new(spec, h.make()));
    }
    match spec.workload {
        Workload::Rr | Workload::Rate => Box::new(rr::RrServer::new(spec, clock)),
        Workload::Stream => Box::new(stream::StreamServer::new(spec, length, clock)),
        Workload::Crr => Box::new(crr::CrrServer::new(spec)),
    }
}

/// True when a workload's servers end on their own at end of stream once the clients close:
/// stream transports except `crr`, whose servers wait on a listener that never ends (they
/// are wound down like datagram servers).
pub fn servers_end_at_eof(spec: &Spec) -> bool {
    !spec.transport.is_datagram() && spec.workload != Workload::Crr
}

/// Which side counts a workload's throughput: the client for request/response (completed round
/// trips), the receiving server for one-way bulk transfer.
pub fn counted_by_server(workload: Workload) -> bool {
    match workload {
        Workload::Rr | Workload::Crr | Workload::Rate => false,
        Workload::Stream => true,
    }
}

/// True for workloads that move bulk data, whose results get a memcpy reference.
pub fn moves_bulk_data(workload: Workload) -> bool {
    workload == Workload::Stream
}
