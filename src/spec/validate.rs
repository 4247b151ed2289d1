//! Checking a [`Spec`] before anything touches the machine: every rule names the flag and says
//! what to do. These are the rules every case shares; each workload adds its own, and
//! [`workload::check`](crate::workload::check) runs both.

use super::limits::{self, at_most, duration_at_most, human_ns, size_at_most};
use super::{EngineKind, IterationLength, Placement, SEQ_BYTES, Spec, Transport, Workload};
use crate::error::ConfigError;
use crate::spec::address::Endpoint;

impl Spec {
    /// Checks what every case needs (sizes, engine, flows, timing, addresses, process layout,
    /// framing) without touching the machine. A case's workload adds its own checks:
    /// [`workload::check`](crate::workload::check) runs both, and is what a run uses.
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
                        transport: self.transport.as_str(),
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
                        transport: self.transport.as_str(),
                    });
                }
            }
        }
        if self.transport == Transport::Shm
            && !matches!(self.engine, EngineKind::Spin | EngineKind::Blocking)
        {
            return Err(ConfigError::EngineUnsupported {
                engine: self.engine.as_str(),
                transport: self.transport.as_str(),
            });
        }
        if !self.engine.is_built() {
            return Err(ConfigError::Invalid(format!(
                "the {} engine is not in this build of loopbench: enable its `tokio` feature",
                self.engine
            )));
        }
        self.validate_flows()?;
        self.validate_limits()?;
        self.validate_layout_and_framing()?;
        self.validate_probes()?;
        if self.server_drop_every == 1 {
            return Err(ConfigError::Invalid(
                "--server-drop-every 1 drops every request: nothing would be measured; use 2 or \
                 more"
                    .into(),
            ));
        }
        if self.server_drop_every != 0 && !self.transport.is_datagram() {
            return Err(ConfigError::Invalid(format!(
                "--server-drop-every needs a datagram transport (udp4, udp6, unix-dgram): on {} a \
                 dropped request would stall the connection",
                self.transport
            )));
        }
        if self.socket.busy_poll_us.is_some()
            && !matches!(
                self.transport,
                Transport::Tcp4 | Transport::Tcp6 | Transport::Udp4 | Transport::Udp6
            )
        {
            return Err(ConfigError::Invalid(format!(
                "busy_poll_us (SO_BUSY_POLL) applies to TCP and UDP sockets, not {}",
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
    /// Flows and threads: at least one each and at most their maxima, no idle threads, and one
    /// flow per thread for the blocking engine (it sleeps in one read at a time).
    fn validate_flows(&self) -> Result<(), ConfigError> {
        if self.flows == 0 || self.threads == 0 {
            return Err(ConfigError::Invalid(
                "--flows and --threads must be at least 1".into(),
            ));
        }
        at_most("--flows", self.flows, limits::MAX_FLOWS)?;
        at_most("--threads", self.threads, limits::MAX_THREADS)?;
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

    /// Sizes, durations and counts against their stated maxima ([`limits`]), and the timeouts
    /// against each other: what would otherwise wrap, be clamped or fail only at run time.
    fn validate_limits(&self) -> Result<(), ConfigError> {
        if self.transport.max_message().is_none() {
            size_at_most("--size", self.size, limits::MAX_MESSAGE_BYTES)?;
            size_at_most(
                "--response-size",
                self.response_size,
                limits::MAX_MESSAGE_BYTES,
            )?;
        }
        for (flag, bytes) in [
            ("--sndbuf", self.socket.sndbuf),
            ("--rcvbuf", self.socket.rcvbuf),
        ] {
            match bytes {
                Some(0) => return Err(ConfigError::ZeroSize { flag }),
                Some(b) => size_at_most(flag, b, limits::MAX_SOCKET_BUFFER_BYTES)?,
                None => {}
            }
        }
        match self.socket.notsent_lowat {
            Some(0) => {
                return Err(ConfigError::Invalid(
                    "--notsent-lowat 0 means the kernel's default (net.ipv4.tcp_notsent_lowat): \
                     leave the flag out for that, or give at least 1 byte"
                        .into(),
                ));
            }
            Some(b) => at_most("--notsent-lowat", b, limits::MAX_NOTSENT_LOWAT)?,
            None => {}
        }
        if let Some(us) = self.socket.busy_poll_us {
            at_most("--busy-poll-us", us, limits::MAX_BUSY_POLL_US)?;
        }
        let t = &self.timing;
        at_most("--iterations", t.iterations, limits::MAX_ITERATIONS)?;
        match t.length {
            IterationLength::Duration { duration_ns } => {
                duration_at_most("--duration", duration_ns, limits::MAX_ITERATION_NS)?
            }
            IterationLength::Count { messages } => at_most("--count", messages, limits::MAX_COUNT)?,
        }
        duration_at_most("--warmup", t.warmup_ns, limits::MAX_ITERATION_NS)?;
        if t.timeout_ns == 0 {
            return Err(ConfigError::Invalid(
                "--timeout must be greater than zero: it is how long a worker waits for its peer"
                    .into(),
            ));
        }
        duration_at_most("--timeout", t.timeout_ns, limits::MAX_TIMEOUT_NS)?;
        if self.server_delay_ns >= t.timeout_ns {
            return Err(ConfigError::Invalid(format!(
                "--server-delay {} is not shorter than --timeout {}: every response would count \
                 as a stuck peer; raise --timeout or shorten the delay",
                human_ns(self.server_delay_ns),
                human_ns(t.timeout_ns)
            )));
        }
        if self.transport.is_datagram() {
            if t.loss_timeout_ns == 0 {
                return Err(ConfigError::Invalid(
                    "--loss-timeout must be greater than zero: it is how long a datagram client \
                     waits for a response before counting it lost"
                        .into(),
                ));
            }
            if t.loss_timeout_ns > t.timeout_ns {
                return Err(ConfigError::Invalid(format!(
                    "--loss-timeout {} is longer than --timeout {}: a lost datagram would \
                     fail the case as a stuck peer instead of being counted; shorten \
                     --loss-timeout or raise --timeout",
                    human_ns(t.loss_timeout_ns),
                    human_ns(t.timeout_ns)
                )));
            }
        }
        Ok(())
    }

    /// What the process layout and a custom protocol need: a transport another process can
    /// reach, and a custom server for custom framing. The workload's own needs are checked by
    /// [`workload::check`](crate::workload::check).
    fn validate_layout_and_framing(&self) -> Result<(), ConfigError> {
        if (self.layout.is_remote()) && !self.transport.crosses_processes() {
            return Err(ConfigError::Invalid(format!(
                "--processes and --connect need a connection-oriented transport with an address (tcp4, tcp6, unix-stream, unix-seqpacket), not {}",
                self.transport
            )));
        }
        let custom_server = self.layout.connect.is_some() || self.server_handler.is_some();
        if self.framing.is_custom() && !custom_server {
            return Err(ConfigError::Invalid(
                "--request, --request-file, --requests, --response-delimiter, --length-prefix and --protocol apply to a service you --connect to, or to a server handler (Spec::builder(..).handler(..))".into(),
            ));
        }
        if self.server_handler.is_some() {
            if self.layout.is_remote() {
                return Err(ConfigError::Invalid(
                    "a server handler runs on the server thread of this process: it does not go with --processes or --connect".into(),
                ));
            }
            if self.server_delay_ns != 0 || self.server_drop_every != 0 {
                return Err(ConfigError::Invalid(
                    "--server-delay and --server-drop-every belong to the built-in server; put service time in your handler".into(),
                ));
            }
        }
        if self.layout.connect.is_some() && self.layout.processes {
            return Err(ConfigError::Invalid(
                "--connect measures a service that already runs; --processes starts one: give one"
                    .into(),
            ));
        }
        Ok(())
    }
}

impl Spec {
    /// `--trace` rebuilds round trips from one client thread and one server thread of this
    /// process; `--profile` tells the sides apart by thread. Neither needs root to be checked
    /// here: that is the run's pre-flight.
    fn validate_probes(&self) -> Result<(), ConfigError> {
        let flag = match (self.probes.trace, self.probes.profile) {
            (false, false) => return Ok(()),
            (true, false) => "--trace",
            (false, true) => "--profile",
            (true, true) => "--trace and --profile",
        };
        if self.layout.is_remote() {
            return Err(ConfigError::Invalid(format!(
                "{flag} watch the worker threads of this process: they do not go with --processes or --connect"
            )));
        }
        if self.placement == Placement::Unpinned {
            return Err(ConfigError::Invalid(format!(
                "{flag} open their events on the workers' CPUs: pin them (--placement cross-core, same-core, or --client-cpu/--server-cpu)"
            )));
        }
        if self.transport == Transport::Shm {
            return Err(ConfigError::Invalid(format!(
                "{flag}: shm never enters the kernel; there is nothing to trace or profile"
            )));
        }
        if self.engine == EngineKind::TokioMt {
            return Err(ConfigError::Invalid(format!(
                "{flag}: tokio-mt runs flows on runtime threads loopbench does not know; use tokio, epoll, blocking or spin"
            )));
        }
        if !self.probes.trace {
            return Ok(());
        }
        if self.workload != Workload::Rr {
            return Err(ConfigError::Invalid(format!(
                "--trace rebuilds request/response round trips: it needs --workload rr, not {} (--profile works with every workload)",
                self.workload
            )));
        }
        if self.engine == EngineKind::IoUring {
            return Err(ConfigError::Invalid(
                "--trace rebuilds each message from its send and receive system calls, which io_uring does not make: use --engine blocking, spin, epoll or tokio (--profile works with io_uring)".into(),
            ));
        }
        if self.flows != 1 || self.threads != 1 {
            return Err(ConfigError::Invalid(
                "--trace follows one request at a time between one client and one server thread: use --flows 1 --threads 1".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Spec;

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

    #[test]
    fn probes_need_local_threads_and_trace_needs_one_rr_flow() {
        let mut spec = Spec::new(Transport::Tcp4);
        spec.probes.trace = true;
        spec.validate().unwrap();
        spec.workload = Workload::Stream;
        let err = spec.validate().unwrap_err().to_string();
        assert!(err.contains("--workload rr"), "{err}");
        spec.probes = crate::spec::KernelProbes {
            trace: false,
            profile: true,
        };
        spec.validate().unwrap();
        spec.layout.processes = true;
        let err = spec.validate().unwrap_err().to_string();
        assert!(
            err.contains("--profile") && err.contains("--processes"),
            "{err}"
        );
        let mut flows = Spec::new(Transport::Tcp4);
        flows.probes.trace = true;
        flows.engine = EngineKind::Epoll;
        flows.flows = 2;
        assert!(
            flows
                .validate()
                .unwrap_err()
                .to_string()
                .contains("--flows 1")
        );
        let mut uring = Spec::new(Transport::Tcp4);
        uring.probes.trace = true;
        uring.engine = EngineKind::IoUring;
        let err = uring.validate().unwrap_err().to_string();
        assert!(err.contains("io_uring"), "{err}");
        uring.probes = crate::spec::KernelProbes {
            trace: false,
            profile: true,
        };
        uring.validate().unwrap();
        let mut shm = Spec::new(Transport::Shm);
        shm.probes.trace = true;
        assert!(shm.validate().unwrap_err().to_string().contains("shm"));
    }
}
