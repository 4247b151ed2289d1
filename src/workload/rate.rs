//! `rate`: open-loop request/response. The client sends request `k` at its *intended* time
//! `start + k / rate`, whether or not earlier responses came back (requests are pipelined on
//! stream transports and numbered on datagram ones), and records two latencies per response:
//!
//! - from the intended send time (`latency`, coordinated-omission corrected): a stall anywhere,
//!   including in the client that could not send on time, shows in it;
//! - from the actual send time (`latency-actual`): what a closed-loop tool would report.
//!
//! The server is `rr`'s. At most `--max-in-flight` requests are outstanding (default: rate ×
//! `--timeout`, bounded); when that many are, the sender waits, so a slow server delays the
//! following sends and the corrected latency shows the backlog. Datagram requests unanswered
//! within `--loss-timeout` are counted lost.

use anyhow::{Context, Result, bail};

use super::def::{Measured, WorkloadDef};
use super::env::{ClientEnv, Heartbeat, ServerEnv, get_seq, put_seq};
use super::rr::RrServer;
use crate::engine::{Flow, FlowReport, Wait};
use crate::error::ConfigError;
use crate::metrics::clock::{Clock, MonotonicClock};
use crate::metrics::counters::Counters;
use crate::metrics::histogram::{HISTOGRAM_BYTES, LatencyHistogram, new_histogram, record};
use crate::metrics::schedule::ScheduleStats;
use crate::metrics::stamps::{ClientStamps, StampLog};
use crate::spec::{EngineKind, IterationLength, RateSettings, Spec, Transport, Workload, limits};
use crate::store::optional::{IterationExtras, RateRecord, SummaryExtras};
use crate::text::si;
use crate::transport::Conn;
use crate::transport::dial::Dialer;
use crate::transport::wait::is_transient;

/// Upper bound of the automatic in-flight window (per flow), so memory stays bounded.
const MAX_AUTO_WINDOW: u64 = 1 << 20;

/// How long the sender naps when it cannot send (window full, send buffer full) before it
/// looks again; responses wake it earlier.
const BLOCKED_RETRY_NS: u64 = 1_000_000;

/// `rate` in the workload table: its settings are [`Spec::rate`], its server is `rr`'s, and its
/// record says how the send schedule was kept.
pub struct RateDef;

impl WorkloadDef for RateDef {
    fn kind(&self) -> Workload {
        Workload::Rate
    }

    fn check(&self, spec: &Spec) -> Result<(), ConfigError> {
        if spec.rate.rate_per_sec == 0 {
            return Err(ConfigError::Invalid(
                "the rate workload needs --rate REQS_PER_SEC (per flow), e.g. --rate 10000".into(),
            ));
        }
        // One request per nanosecond is the resolution of the send schedule; anything the
        // machine cannot reach below it is a result (not sustained), not an error.
        if spec.rate.rate_per_sec > limits::MAX_RATE_PER_SEC {
            return Err(ConfigError::Invalid(format!(
                "--rate {} is above the maximum of {} requests per second per flow: the send \
                 schedule has a resolution of one nanosecond; use more --flows for more",
                spec.rate.rate_per_sec,
                limits::MAX_RATE_PER_SEC
            )));
        }
        limits::at_most(
            "--max-in-flight",
            spec.rate.max_in_flight,
            limits::MAX_IN_FLIGHT,
        )?;
        if spec.transport == Transport::Shm && spec.engine == EngineKind::Blocking {
            return Err(ConfigError::Invalid(
                "rate over shm needs --engine spin: the blocking shm engine cannot wake up for the send schedule".into(),
            ));
        }
        Ok(())
    }

    fn check_settings(&self, spec: &Spec) -> Result<(), ConfigError> {
        if spec.workload != Workload::Rate && !spec.rate.is_off() {
            return Err(ConfigError::Invalid(format!(
                "--rate and --max-in-flight only apply to -w rate, not {}",
                spec.workload
            )));
        }
        Ok(())
    }

    fn fit(&self, spec: &mut Spec) {
        if spec.workload != Workload::Rate {
            spec.rate = RateSettings::default();
        }
    }

    fn takes_server_delay(&self) -> bool {
        true
    }

    fn counts_lost_requests(&self) -> bool {
        true
    }

    fn histograms(&self) -> u64 {
        2
    }

    fn memory_per_flow(&self, spec: &Spec) -> u64 {
        // Buffers as rr's, and per window slot two send times and an answered flag.
        2 * (spec.size + spec.response_size) as u64
            + self.histograms() * HISTOGRAM_BYTES
            + window(spec) as u64 * 17
    }

    fn client(
        &self,
        spec: &Spec,
        env: ClientEnv<MonotonicClock>,
        _dialer: Option<Dialer>,
    ) -> Result<Box<dyn Flow>> {
        Ok(Box::new(RateClient::new(spec, env)))
    }

    fn server(&self, spec: &Spec, env: ServerEnv<MonotonicClock>) -> Box<dyn Flow> {
        Box::new(RrServer::new(spec, env.clock).stamped(env.flow, env.stamps))
    }

    fn record(&self, _spec: &Spec, measured: &Measured<'_>, extras: &mut IterationExtras) {
        extras.rate = measured.schedule.map(RateRecord::of);
    }

    fn notes(&self, summary: &SummaryExtras) -> Vec<String> {
        summary
            .rate
            .iter()
            .map(|r| {
                let verdict = if r.sustained { "" } else { " NOT SUSTAINED" };
                format!(
                    "rate {}/{} req/s{verdict}",
                    si(r.achieved_per_sec),
                    si(r.target_per_sec)
                )
            })
            .collect()
    }
}

/// Most requests outstanding per flow: `--max-in-flight`, or rate × `--timeout` (bounded).
fn window(spec: &Spec) -> usize {
    let rate = spec.rate.rate_per_sec.max(1);
    let window = match spec.rate.max_in_flight {
        0 => {
            (rate.saturating_mul(spec.timing.timeout_ns) / 1_000_000_000).clamp(64, MAX_AUTO_WINDOW)
        }
        n => u64::from(n),
    };
    window as usize
}

/// The open-loop client of one flow.
pub struct RateClient<C: Clock> {
    clock: C,
    request: Vec<u8>,
    response: Vec<u8>,
    datagram: bool,
    rate_per_sec: u64,
    /// Intended and actual send times, indexed by sequence number modulo the window.
    intended: Vec<u64>,
    actual: Vec<u64>,
    answered: Vec<bool>,
    start_ns: Option<u64>,
    /// Requests to schedule in all (count-based iterations) and the end of the send phase.
    total: Option<u64>,
    send_for_ns: Option<u64>,
    /// Sequence number of the next request to send (1-based) and of the oldest unresolved one.
    next_seq: u64,
    oldest: u64,
    send_off: usize,
    recv_off: usize,
    window_waiting: bool,
    deadline_ns: Option<u64>,
    loss_timeout_ns: u64,
    last_response_ns: u64,
    stats: ScheduleStats,
    corrected: LatencyHistogram,
    uncorrected: LatencyHistogram,
    counters: Counters,
    heartbeat: Heartbeat,
    stamps: Option<StampLog<ClientStamps>>,
}

impl<C: Clock> RateClient<C> {
    /// A client for `spec`, whose iteration lasts `env.length` (a duration of sending, or a
    /// number of requests).
    pub fn new(spec: &Spec, env: ClientEnv<C>) -> RateClient<C> {
        let rate = spec.rate.rate_per_sec.max(1);
        let window = window(spec);
        let (total, send_for_ns) = match env.length {
            IterationLength::Count { messages } => (Some(messages), None),
            IterationLength::Duration { duration_ns } => (None, Some(duration_ns)),
        };
        RateClient {
            clock: env.clock,
            request: vec![0x5a; spec.size],
            response: vec![0; spec.response_size],
            datagram: spec.transport.is_datagram(),
            rate_per_sec: rate,
            intended: vec![0; window],
            actual: vec![0; window],
            answered: vec![false; window],
            start_ns: None,
            total,
            send_for_ns,
            next_seq: 1,
            oldest: 1,
            send_off: 0,
            recv_off: 0,
            window_waiting: false,
            deadline_ns: None,
            loss_timeout_ns: spec.timing.loss_timeout_ns,
            last_response_ns: 0,
            stats: ScheduleStats {
                target_per_sec: rate as f64,
                ..ScheduleStats::default()
            },
            corrected: new_histogram(),
            uncorrected: new_histogram(),
            counters: Counters::default(),
            heartbeat: env.heartbeat,
            stamps: env.stamps,
        }
    }

    /// Intended send time of request `seq` (1-based), exact in integer nanoseconds.
    #[inline]
    fn intended_ns(&self, start: u64, seq: u64) -> u64 {
        start + ((u128::from(seq - 1) * 1_000_000_000) / u128::from(self.rate_per_sec)) as u64
    }

    #[inline]
    fn slot(&self, seq: u64) -> usize {
        (seq % self.intended.len() as u64) as usize
    }

    /// True while request `seq`, intended for `due`, may still be scheduled at `now`. A timed
    /// iteration sends nothing after its end, even when the sender fell behind: an unreachable
    /// rate ends on time with what was achieved (not sustained), it does not run on until every
    /// request it could not send in time is out.
    #[inline]
    fn schedules(&self, start: u64, seq: u64, due: u64, now: u64) -> bool {
        match (self.total, self.send_for_ns) {
            (Some(n), _) => seq <= n,
            (None, Some(d)) => due < start + d && now < start + d,
            (None, None) => false,
        }
    }

    /// Records the response to `seq`.
    fn complete(&mut self, seq: u64, now: u64) {
        let i = self.slot(seq);
        record(&mut self.corrected, now - self.intended[i]);
        record(&mut self.uncorrected, now - self.actual[i]);
        if let Some(e) = self.stamps.as_mut().and_then(|l| l.at(seq - 1)) {
            e.recv_return = now;
        }
        self.answered[i] = true;
        self.counters.messages += 1;
        self.counters.bytes_received += self.response.len() as u64;
        self.last_response_ns = now;
        self.advance_oldest();
        self.heartbeat
            .beat(self.counters.messages + self.counters.lost);
    }

    /// Moves past every answered request at the front of the window.
    #[inline]
    fn advance_oldest(&mut self) {
        while self.oldest < self.next_seq && self.answered[self.slot(self.oldest)] {
            self.oldest += 1;
        }
    }

    /// Datagram requests older than the loss timeout are given up.
    fn expire(&mut self, now: u64) {
        while self.oldest < self.next_seq {
            let i = self.slot(self.oldest);
            if !self.answered[i] && now.saturating_sub(self.actual[i]) < self.loss_timeout_ns {
                break;
            }
            if !self.answered[i] {
                self.answered[i] = true;
                self.counters.lost += 1;
                self.heartbeat
                    .beat(self.counters.messages + self.counters.lost);
            }
            self.oldest += 1;
        }
    }

    /// Reads every response that is there.
    fn receive(&mut self, conn: &mut Conn) -> Result<()> {
        loop {
            match conn.read(&mut self.response[self.recv_off..]) {
                Ok(0) => bail!("the server closed the connection in the middle of the iteration"),
                Ok(n) if self.datagram => {
                    if n != self.response.len() {
                        bail!(
                            "expected a {}-byte response datagram, got {n} bytes",
                            self.response.len()
                        );
                    }
                    let seq = get_seq(&self.response);
                    let now = self.clock.now_ns();
                    if seq >= self.oldest && seq < self.next_seq && !self.answered[self.slot(seq)] {
                        self.complete(seq, now);
                    } else if seq < self.next_seq {
                        self.counters.late += 1;
                    } else {
                        bail!("response to request {seq} arrived before it was sent");
                    }
                }
                Ok(n) => {
                    self.recv_off += n;
                    if self.recv_off == self.response.len() {
                        self.recv_off = 0;
                        if self.oldest >= self.next_seq {
                            bail!("a response arrived with no request outstanding");
                        }
                        let now = self.clock.now_ns();
                        self.complete(self.oldest, now);
                    }
                }
                Err(e) if is_transient(&e) => return Ok(()),
                Err(e) => return Err(e).context("receiving a response"),
            }
        }
    }

    /// Sends every request that is due; returns false when the connection would block.
    fn send_due(&mut self, conn: &mut Conn, start: u64) -> Result<bool> {
        loop {
            let now = self.clock.now_ns();
            if self.send_off == 0 {
                let due = self.intended_ns(start, self.next_seq);
                if !self.schedules(start, self.next_seq, due, now) {
                    return Ok(true);
                }
                if due > now {
                    return Ok(true);
                }
                if self.next_seq - self.oldest >= self.intended.len() as u64 {
                    if !self.window_waiting {
                        self.window_waiting = true;
                        self.stats.window_full += 1;
                    }
                    return Ok(true);
                }
                self.window_waiting = false;
                let i = self.slot(self.next_seq);
                self.intended[i] = due;
                self.actual[i] = now;
                self.answered[i] = false;
                self.stats.max_send_lag_ns = self.stats.max_send_lag_ns.max(now - due);
                if let Some(e) = self
                    .stamps
                    .as_mut()
                    .and_then(|l| l.begin(self.next_seq - 1))
                {
                    e.start = due;
                    e.send_call = now;
                }
                if self.datagram {
                    put_seq(&mut self.request, self.next_seq);
                }
            }
            match conn.write(&self.request[self.send_off..]) {
                Ok(n) => {
                    self.send_off += n;
                    self.counters.bytes_sent += n as u64;
                    if self.send_off == self.request.len() {
                        if let Some(log) = &mut self.stamps {
                            let now = self.clock.now_ns();
                            if let Some(e) = log.at(self.next_seq - 1) {
                                e.send_return = now;
                            }
                        }
                        self.send_off = 0;
                        self.next_seq += 1;
                        self.stats.sent += 1;
                    }
                }
                Err(e) if is_transient(&e) => return Ok(false),
                // A full receive queue on the peer: that datagram is lost, as on the wire.
                Err(e) if self.datagram && e.raw_os_error() == Some(libc::ENOBUFS) => {
                    self.next_seq += 1;
                    self.stats.sent += 1;
                }
                Err(e) => return Err(e).context("sending a request"),
            }
        }
    }
}

impl<C: Clock> Flow for RateClient<C> {
    fn progress(&mut self, conn: &mut Conn) -> Result<Wait> {
        let start = *self.start_ns.get_or_insert_with(|| self.clock.now_ns());
        self.receive(conn)?;
        let flowing = self.send_due(conn, start)?;
        let now = self.clock.now_ns();
        if self.datagram {
            self.expire(now);
        }
        let next_due = self.intended_ns(start, self.next_seq);
        let sending = self.send_off != 0 || self.schedules(start, self.next_seq, next_due, now);
        if !sending && self.oldest >= self.next_seq {
            self.deadline_ns = None;
            return Ok(Wait::Done);
        }
        self.deadline_ns = if !flowing || self.window_waiting {
            Some(now + BLOCKED_RETRY_NS)
        } else if sending {
            Some(next_due)
        } else if self.datagram {
            // Draining: wake when the oldest outstanding datagram would count as lost.
            Some(self.actual[self.slot(self.oldest)] + self.loss_timeout_ns)
        } else {
            None
        };
        Ok(Wait::Read)
    }

    fn timed(&self) -> bool {
        true
    }

    fn deadline_ns(&self) -> Option<u64> {
        self.deadline_ns
    }

    fn report(self: Box<Self>) -> FlowReport {
        let mut stats = self.stats;
        // Completed and lost are the counters' figures.
        stats.completed = self.counters.messages;
        stats.lost = self.counters.lost;
        if let Some(start) = self.start_ns {
            stats.span_ns = self.last_response_ns.saturating_sub(start);
        }
        FlowReport {
            latency: Some(self.corrected),
            latency_actual: Some(self.uncorrected),
            schedule: Some(stats),
            counters: self.counters,
            client_stamps: self.stamps,
            ..FlowReport::default()
        }
    }
}

#[cfg(test)]
mod tests;
