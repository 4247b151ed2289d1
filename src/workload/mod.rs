//! Workloads: what the two sides exchange. Each is one file implementing [`WorkloadDef`] (its
//! checks, its client and server [`Flow`]s, how its results are counted and compared, its part of
//! the records), listed by one line of [`TABLE`]. `external.rs` and `handler.rs` are `rr`'s
//! client and server for custom protocols and user handlers; `env.rs` is what every flow shares.
//!
//! The functions here are the rest of the crate's way in: nothing outside this folder needs to
//! know which workloads exist.

pub mod crr;
mod def;
mod env;
pub mod external;
pub mod handler;
pub mod mix;
pub mod rate;
pub mod rr;
mod service;
pub mod stream;

pub use def::{Connections, Measured, WorkloadDef};
pub use env::{ClientEnv, Heartbeat, IterationEnd, ServerEnv, get_seq, put_seq};

use crate::engine::Flow;
use crate::error::ConfigError;
use crate::metrics::clock::MonotonicClock;
use crate::spec::matrix::Matrix;
use crate::spec::{Spec, Workload};
use crate::transport::dial::Dialer;

/// Every workload, one line each.
pub const TABLE: &[&dyn WorkloadDef] =
    &[&rr::RrDef, &stream::StreamDef, &crr::CrrDef, &rate::RateDef];

/// The implementation of workload `w`.
pub fn def(w: Workload) -> &'static dyn WorkloadDef {
    TABLE
        .iter()
        .copied()
        .find(|d| d.kind() == w)
        .expect("every workload has a line in the table (a test checks)")
}

/// The names of the workloads for which `hook` is true, for messages: `rr, rate`.
fn names(hook: impl Fn(&dyn WorkloadDef) -> bool) -> String {
    let names: Vec<&str> = TABLE
        .iter()
        .filter(|d| hook(**d))
        .map(|d| d.kind().as_str())
        .collect();
    names.join(", ")
}

/// Checks `spec` as `loopbench run` does: [`Spec::validate`] (what every case needs), then its
/// workload's own checks, then that no workload's settings and no server-side option are given
/// to a case they do not apply to. Layered as neper layers its options: common, then workload.
pub fn check(spec: &Spec) -> Result<(), ConfigError> {
    spec.validate()?;
    let own = def(spec.workload);
    own.check(spec)?;
    for d in TABLE {
        d.check_settings(spec)?;
    }
    if spec.server_handler.is_some() && !own.takes_handler() {
        return Err(ConfigError::Ignored {
            setting: "a server handler (.handler(..))",
            reason: format!(
                "it answers request/response traffic and the {} server never calls it; use the {} workload (.workload(..))",
                spec.workload,
                names(|d| d.takes_handler())
            ),
        });
    }
    service::check_service(spec)?;
    check_stages(spec, own)?;
    check_server_options(spec)?;
    if spec.server_drop_every != 0 && !own.counts_lost_requests() {
        return Err(ConfigError::Invalid(format!(
            "--server-drop-every applies to the request/response workloads ({}), not {}",
            names(|d| d.counts_lost_requests()),
            spec.workload
        )));
    }
    check_ignored(spec, own)
}

/// Refuses what nothing in the case would use: a request or response framing the workload's
/// client does not honour, or settings of the built-in server when a service already runs.
fn check_ignored(spec: &Spec, own: &dyn WorkloadDef) -> Result<(), ConfigError> {
    let fix = || {
        format!(
            "the {} client sends --size bytes of its own and frames no responses; use the {} workload (.workload(..)) or drop it",
            spec.workload,
            names(|d| d.takes_framing())
        )
    };
    if !own.takes_framing() {
        if spec.framing.request.is_some() {
            return Err(ConfigError::Ignored {
                setting: "the request (--request, --request-file, .request(..))",
                reason: fix(),
            });
        }
        if spec.framing.frames_responses() {
            return Err(ConfigError::Ignored {
                setting: "the response framing (--response-delimiter, --length-prefix, --protocol, .response_delimiter(..), .length_prefix(..), .protocol(..), .framing(..))",
                reason: fix(),
            });
        }
    }
    if spec.layout.connect.is_some() {
        let setting = if spec.server_delay_ns != 0 {
            "--server-delay (.server_delay(..))"
        } else if spec.server_drop_every != 0 {
            "--server-drop-every"
        } else {
            return Ok(());
        };
        return Err(ConfigError::Ignored {
            setting,
            reason: "it is a setting of loopbench's built-in server, and with --connect (.connect(..)) no server is started; the service's own behaviour is what gets measured".into(),
        });
    }
    Ok(())
}

/// `--stages` needs a request/response workload and both sides in this process; a `crr` request
/// says its flow and sequence number in its first 8 bytes when there are several flows.
fn check_stages(spec: &Spec, own: &dyn WorkloadDef) -> Result<(), ConfigError> {
    if !spec.instrument.stages {
        return Ok(());
    }
    if !own.takes_stages() {
        return Err(ConfigError::Invalid(format!(
            "--stages stamps round trips: use it with {}, not {} (one-way transfer has no round trip)",
            names(|d| d.takes_stages()),
            spec.workload
        )));
    }
    if spec.layout.is_remote() {
        return Err(ConfigError::Invalid(
            "--stages joins the client's and the server's stamps in this process: not with --processes or client --connect".into(),
        ));
    }
    if connections(spec) == Connections::PerTransaction && spec.flows > 1 && spec.size < 8 {
        return Err(ConfigError::Invalid(format!(
            "--stages with {} over several flows tags each request with its flow and number in its first 8 bytes: use --size 8 or more (not {})",
            spec.workload, spec.size
        )));
    }
    Ok(())
}

/// Refuses a server delay where the server does not wait before it answers (in a matrix that
/// mixes workloads, [`fit`] gives it to the cases that take it).
fn check_server_options(spec: &Spec) -> Result<(), ConfigError> {
    let own = def(spec.workload);
    if spec.server_delay_ns != 0 && !own.takes_server_delay() {
        return Err(ConfigError::Invalid(format!(
            "--server-delay applies to {}, not {}",
            names(|d| d.takes_server_delay()),
            spec.workload
        )));
    }
    Ok(())
}

/// In a matrix that mixes workloads or transports, each workload's settings go to the cases
/// that take them (`rate` to the rate cases, `linger0` to crr over TCP, ...); alone, a misplaced
/// setting is still refused by [`check`].
pub fn fit(specs: &mut [Spec]) {
    for d in TABLE {
        if specs.iter().any(|s| s.workload == d.kind()) {
            specs.iter_mut().for_each(|s| d.fit(s));
        }
    }
    if specs.iter().any(|s| def(s.workload).takes_stages()) {
        for s in specs.iter_mut().filter(|s| !def(s.workload).takes_stages()) {
            s.instrument.stages = false;
        }
    }
    for s in specs
        .iter_mut()
        .filter(|s| !def(s.workload).has_responses())
    {
        s.response_size = s.size;
    }
    if specs.iter().any(|s| check_server_options(s).is_ok()) {
        for s in specs
            .iter_mut()
            .filter(|s| !def(s.workload).takes_server_delay())
        {
            s.server_delay_ns = 0;
        }
    }
}

/// Every case of `matrix`, with each workload's settings fitted to the cases that take them. A
/// setting that no case takes is refused (fitting would otherwise drop it without a word).
pub fn expand(matrix: &Matrix) -> Result<Vec<Spec>, ConfigError> {
    check_response_size(matrix)?;
    let mut specs = matrix.expand()?;
    let checks = TABLE
        .iter()
        .map(|d| Box::new(move |s: &Spec| d.check_settings(s)) as Box<dyn Fn(&Spec) -> _>)
        .chain([Box::new(check_server_options) as Box<dyn Fn(&Spec) -> _>]);
    for check in checks {
        if let Some(Err(first)) = specs.first().map(&check) {
            if specs.iter().all(|s| check(s).is_err()) {
                return Err(first);
            }
        }
    }
    fit(&mut specs);
    Ok(specs)
}

/// Refuses a `--response-size` given to a matrix none of whose workloads answers. Checked on
/// the matrix, where a given size is told from the default (the request's size): a spec built
/// in code keeps its default response size whatever its workload, and a one-way workload
/// ignores it.
fn check_response_size(matrix: &Matrix) -> Result<(), ConfigError> {
    if matrix.response_size.is_none() || matrix.workloads.iter().any(|&w| def(w).has_responses()) {
        return Ok(());
    }
    Err(ConfigError::Invalid(format!(
        "--response-size applies to the workloads whose server answers ({}), not {}: it sends \
         one way",
        names(|d| d.has_responses()),
        matrix
            .workloads
            .iter()
            .map(|w| w.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// The client side of one flow of `spec`'s workload; `dialer` opens the connections of a
/// workload that connects per transaction (`crr`).
pub fn client_flow(
    spec: &Spec,
    env: ClientEnv<MonotonicClock>,
    dialer: Option<Dialer>,
) -> anyhow::Result<Box<dyn Flow>> {
    def(spec.workload).client(spec, env, dialer)
}

/// The server side of one flow of `spec`'s workload.
pub fn server_flow(spec: &Spec, env: ServerEnv<MonotonicClock>) -> Box<dyn Flow> {
    def(spec.workload).server(spec, env)
}

/// How the flows of `spec`'s workload get their connections.
pub fn connections(spec: &Spec) -> Connections {
    def(spec.workload).connections()
}

/// True when a workload's servers end on their own at end of stream once the clients close:
/// stream transports, unless the servers wait on a listener that never ends (a workload that
/// connects per transaction; they are wound down like datagram servers).
pub fn servers_end_at_eof(spec: &Spec) -> bool {
    !spec.transport.is_datagram() && connections(spec) == Connections::PerFlow
}

/// Which side counts a workload's throughput: the client for request/response (completed round
/// trips), the receiving server for one-way bulk transfer.
pub fn counted_by_server(workload: Workload) -> bool {
    def(workload).counted_by_server()
}

/// Bytes one flow of `spec`'s workload allocates, both sides together.
pub fn memory_per_flow(spec: &Spec) -> u64 {
    def(spec.workload).memory_per_flow(spec)
}

/// Latency histograms each iteration of `spec`'s workload keeps.
pub fn histograms(spec: &Spec) -> u64 {
    def(spec.workload).histograms()
}

/// True for workloads that move bulk data, whose results get a memcpy reference.
pub fn moves_bulk_data(workload: Workload) -> bool {
    def(workload).moves_bulk_data()
}

#[cfg(test)]
mod tests;
