//! The one trait a workload implements: a table of hooks over the shared engines and transports,
//! as a neper workload is. The workload's file implements it once; the table in
//! [`workload`](super) lists every implementation, one line each.

use crate::engine::Flow;
use crate::error::ConfigError;
use crate::metrics::clock::MonotonicClock;
use crate::metrics::counters::Counters;
use crate::metrics::histogram::HISTOGRAM_BYTES;
use crate::metrics::ports::PortSet;
use crate::metrics::schedule::ScheduleStats;
use crate::spec::{Spec, Workload};
use crate::store::metric::{Metric, Unit};
use crate::store::optional::{IterationExtras, SummaryExtras};
use crate::transport::dial::Dialer;

use super::env::{ClientEnv, ServerEnv};

/// How a workload's flows get their connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connections {
    /// One connection (or socket pair) per flow for the whole iteration.
    PerFlow,
    /// A fresh connection per transaction: each client flow dials the server's listener with a
    /// [`Dialer`], each server flow accepts from it. The servers never see an end of stream, so
    /// they are wound down like datagram servers.
    PerTransaction,
}

/// What a workload's flows measured beyond the figures every workload has, for its part of the
/// iteration record.
#[derive(Clone, Copy, Debug)]
pub struct Measured<'a> {
    /// The client side's counters, summed over its flows.
    pub client: &'a Counters,
    /// Local ports the clients used, when they dialed per transaction.
    pub ports: Option<&'a PortSet>,
    /// How the clients kept an open-loop send schedule, summed over flows.
    pub schedule: Option<&'a ScheduleStats>,
}

/// One workload: its checks, its flows, how its results are counted and compared, and its part
/// of the records. Every hook but [`kind`](WorkloadDef::kind), [`client`](WorkloadDef::client)
/// and [`server`](WorkloadDef::server) has the default of a closed-loop request/response
/// workload over one connection per flow.
pub trait WorkloadDef: Sync {
    /// The value of the workload dimension this implements.
    fn kind(&self) -> Workload;

    /// How the flows get their connections.
    fn connections(&self) -> Connections {
        Connections::PerFlow
    }

    /// Checks a case of this workload beyond [`Spec::validate`]: what it needs from the
    /// transport, the engine and its own settings. Each error names the flag and the fix.
    fn check(&self, _spec: &Spec) -> Result<(), ConfigError> {
        Ok(())
    }

    /// Refuses this workload's own settings on a case they do not apply to (another workload,
    /// or a transport they do not support); called for every case.
    fn check_settings(&self, _spec: &Spec) -> Result<(), ConfigError> {
        Ok(())
    }

    /// Clears this workload's own settings from a case they do not apply to: in a matrix that
    /// mixes this workload with others, or transports it takes a setting on with others, each
    /// setting goes to the cases that take it.
    fn fit(&self, _spec: &mut Spec) {}

    /// True when the client counts a request without a response as lost, so
    /// `--server-drop-every` can test the loss accounting.
    fn counts_lost_requests(&self) -> bool {
        false
    }

    /// True when the server answers each request, so `--response-size` applies.
    fn has_responses(&self) -> bool {
        true
    }

    /// True when the server waits `--server-delay` before each answer.
    fn takes_server_delay(&self) -> bool {
        false
    }

    /// True when a user's server handler can answer this workload's requests.
    fn takes_handler(&self) -> bool {
        false
    }

    /// True when the client sends the user's request and frames responses as the case says
    /// (`--request`, `--response-delimiter`, `--length-prefix`; the builder's `.request(..)`,
    /// `.length_prefix(..)`, `.framing(..)`).
    fn takes_framing(&self) -> bool {
        false
    }

    /// True when `--stages` can stamp this workload's messages at both ends (request/response
    /// workloads; not one-way bulk transfer).
    fn takes_stages(&self) -> bool {
        true
    }

    /// The client side of one flow; `dialer` is given to [`Connections::PerTransaction`]
    /// workloads.
    fn client(
        &self,
        spec: &Spec,
        env: ClientEnv<MonotonicClock>,
        dialer: Option<Dialer>,
    ) -> anyhow::Result<Box<dyn Flow>>;

    /// The server side of one flow.
    fn server(&self, spec: &Spec, env: ServerEnv<MonotonicClock>) -> Box<dyn Flow>;

    /// Latency histograms one client flow records (each iteration keeps as many).
    fn histograms(&self) -> u64 {
        1
    }

    /// Bytes one flow allocates, client and server side together (its buffers and latency
    /// histograms), for the memory check before a run. The default is a request/response flow:
    /// a request and a response buffer on each side.
    fn memory_per_flow(&self, spec: &Spec) -> u64 {
        2 * (spec.size as u64 + spec.response_size as u64) + self.histograms() * HISTOGRAM_BYTES
    }

    /// True when the receiving server counts the throughput (one-way transfer); false when the
    /// client does (completed round trips).
    fn counted_by_server(&self) -> bool {
        false
    }

    /// True when the workload moves bulk data, so its results get a memcpy reference.
    fn moves_bulk_data(&self) -> bool {
        false
    }

    /// What the throughput figure counts: messages or bytes per second.
    fn throughput_unit(&self) -> Unit {
        Unit::MsgsPerSec
    }

    /// The metrics a study compares this workload's cases on.
    fn compared_on(&self) -> &'static [Metric] {
        &[Metric::P50, Metric::P99]
    }

    /// Fills this workload's own parts of an iteration record from what its flows measured.
    fn record(&self, _spec: &Spec, _measured: &Measured<'_>, _extras: &mut IterationExtras) {}

    /// What the report's notes column says about this workload's own parts of a case summary.
    fn notes(&self, _summary: &SummaryExtras) -> Vec<String> {
        Vec::new()
    }
}
