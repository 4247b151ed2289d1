//! Case options in the command line's spellings: the one description of "what to measure" that
//! `loopbench run`'s flags, suite files (`[[cases]]`) and study files (`[cases]`) all produce, so
//! every option works in all three, parsed and checked by one piece of code.
//!
//! Each field is optional: unset means "the default" (or, with [`CaseOptions::over`], "what the
//! defaults table says"). Dimension fields take a value or a list; strings may hold comma lists,
//! as on the command line (`transport = "tcp4,udp4"` or `transport = ["tcp4", "udp4"]`).

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::spec::address::{parse_endpoint, parse_ip};
use crate::spec::limits;
use crate::spec::matrix::Matrix;
use crate::spec::{
    Instrumentation, IterationLength, KernelProbes, Placement, Spec, Timing, Transport,
    parse_duration, parse_list, parse_size,
};

/// One value of a list: a number or a string.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// A number (a size in bytes, a count).
    Number(u64),
    /// Text in the command line's spelling (`tcp4`, `64k`, `5us`, `tcp4,udp4`).
    Text(String),
}

impl Scalar {
    /// The value as a size in bytes: a number, or text with a unit (`64k`, `1MiB`).
    pub fn bytes(&self) -> Result<usize, ConfigError> {
        match self {
            Scalar::Number(n) => {
                usize::try_from(*n).map_err(|_| ConfigError::BadSize(n.to_string()))
            }
            Scalar::Text(t) => parse_size(t),
        }
    }
}

/// A value or a list of values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Values {
    /// One value (which may itself be a comma list).
    One(Scalar),
    /// A list.
    Many(Vec<Scalar>),
}

impl Values {
    /// A value given as text (a command-line flag).
    pub fn text(s: impl Into<String>) -> Values {
        Values::One(Scalar::Text(s.into()))
    }

    /// The values as one comma list, the form the command line's parsers take.
    pub fn joined(&self) -> String {
        let one = |s: &Scalar| match s {
            Scalar::Number(n) => n.to_string(),
            Scalar::Text(t) => t.clone(),
        };
        match self {
            Values::One(s) => one(s),
            Values::Many(v) => v.iter().map(one).collect::<Vec<_>>().join(","),
        }
    }
}

/// A switch that may be on, off, or a list of both (`stages = true`, `stages = "off,on"`): a
/// list runs the case once per value, interleaved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Toggle {
    /// On or off.
    Bool(bool),
    /// `on`, `off`, or a comma list of them.
    Text(String),
}

impl Toggle {
    /// The values this toggle takes, in order; `name` is the flag, for the message.
    pub fn values(&self, name: &str) -> Result<Vec<bool>, ConfigError> {
        match self {
            Toggle::Bool(b) => Ok(vec![*b]),
            Toggle::Text(t) => parse_list(t, |v| match v.trim() {
                "on" | "true" | "yes" => Ok(true),
                "off" | "false" | "no" => Ok(false),
                other => Err(ConfigError::Invalid(format!(
                    "{name} takes on, off, or off,on (both, interleaved), not {other:?}"
                ))),
            }),
        }
    }
}

/// Every option of a measured case, each optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseOptions {
    /// Free text describing the group (shown by `suite --list`); not used to measure.
    pub note: Option<String>,
    /// Transports (default: tcp4).
    pub transport: Option<Values>,
    /// Workloads (default: rr).
    pub workload: Option<Values>,
    /// Engines (default: blocking); io_uring variants as `io_uring-sqpoll@1`.
    pub engine: Option<Values>,
    /// Placements (default: cross-core when the machine has two cores).
    pub placement: Option<Values>,
    /// Explicit client CPU (with `server_cpu`; overrides `placement`).
    pub client_cpu: Option<usize>,
    /// Explicit server CPU (with `client_cpu`).
    pub server_cpu: Option<usize>,
    /// CPUs of the client threads (with `server_cpus`; overrides `placement`).
    pub client_cpus: Option<Values>,
    /// CPUs of the server threads (with `client_cpus`).
    pub server_cpus: Option<Values>,
    /// Request sizes (default: 64).
    pub size: Option<Values>,
    /// How `stream` moves its bytes (default: copy): copy, send, recv, send-recv, sendfile, splice.
    pub zerocopy: Option<Values>,
    /// Response size (default: the request size).
    pub response_size: Option<Values>,
    /// Server addresses (each transport uses those of its family).
    pub addr: Option<Values>,
    /// Client source address.
    pub client_addr: Option<String>,
    /// Server port (default: 0: a free one).
    pub port: Option<u16>,
    /// SO_SNDBUF.
    pub sndbuf: Option<Values>,
    /// SO_RCVBUF.
    pub rcvbuf: Option<Values>,
    /// TCP_NOTSENT_LOWAT.
    pub notsent_lowat: Option<Values>,
    /// Leave Nagle's algorithm on.
    pub nagle: Option<bool>,
    /// SO_BUSY_POLL in µs (TCP and UDP).
    pub busy_poll_us: Option<u32>,
    /// Simulated service time (`5000` = ns, or `5us`).
    pub server_delay: Option<Values>,
    /// Fault injection: drop every Nth datagram request.
    pub server_drop_every: Option<u64>,
    /// Flows per iteration (default: 1).
    pub flows: Option<u32>,
    /// Worker threads per side (default: 1).
    pub threads: Option<u32>,
    /// `rate`: requests per second per flow.
    pub rate: Option<u64>,
    /// `rate`: most requests outstanding per flow.
    pub max_in_flight: Option<u32>,
    /// `crr`: client source address range, e.g. `127.0.0.2-127.0.0.50`.
    pub spread: Option<String>,
    /// `crr`: close with SO_LINGER 0.
    pub linger0: Option<bool>,
    /// A competing memcpy stream on this CPU.
    pub memory_load: Option<usize>,
    /// Run the server side as a separate process.
    pub processes: Option<bool>,
    /// Kernel stages from tracepoints: `on`, `off`, or `off,on` (each case untraced and traced,
    /// interleaved: the tracer's overhead). Root only.
    pub trace: Option<Values>,
    /// CPU samples attributed to categories: `on`, `off`, or `off,on`. Root only.
    pub profile: Option<Values>,
    /// Stamp every message's stages (`true`, or `"off,on"` for both, interleaved).
    pub stages: Option<Toggle>,
    /// Measured iterations per case (default: 5).
    pub iterations: Option<u32>,
    /// Length of one iteration (default: 1s) (one of duration and count).
    pub duration: Option<String>,
    /// Messages per iteration instead of a duration.
    pub count: Option<u64>,
    /// Warm-up per case (default: 500ms).
    pub warmup: Option<String>,
    /// Longest wait for the peer (default: 5s).
    pub timeout: Option<String>,
    /// Datagram loss timeout (default: 20ms).
    pub loss_timeout: Option<String>,
}

fn nanos(text: &str) -> Result<u64, ConfigError> {
    if text.trim() == "0" {
        return Ok(0);
    }
    Ok(u64::try_from(parse_duration(text)?.as_nanos()).unwrap_or(u64::MAX))
}

/// `5000` is nanoseconds; anything with a unit is a duration (`5us`, `1ms`).
fn delay_ns(text: &str) -> Result<u64, ConfigError> {
    text.trim().parse::<u64>().or_else(|_| nanos(text))
}

fn one_size(name: &str, v: &Values) -> Result<usize, ConfigError> {
    match parse_list(&v.joined(), parse_size)?.as_slice() {
        [one] => Ok(*one),
        _ => Err(ConfigError::Invalid(format!(
            "{name} takes one size, not a list"
        ))),
    }
}

/// `on`/`off` (also `true`/`false`, `yes`/`no`) lists: one value per case of the matrix.
fn switches(name: &str, v: &Option<Values>) -> Result<Vec<bool>, ConfigError> {
    let Some(v) = v else {
        return Ok(vec![false]);
    };
    parse_list(&v.joined(), |w| match w {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err(ConfigError::Invalid(format!(
            "{name} {w}: write on, off, or off,on (each case without and with it, interleaved)"
        ))),
    })
}

/// Every combination of the `--trace` and `--profile` values.
fn probes(o: &CaseOptions) -> Result<Vec<KernelProbes>, ConfigError> {
    let mut out = Vec::new();
    for trace in switches("--trace", &o.trace)? {
        for profile in switches("--profile", &o.profile)? {
            let p = KernelProbes { trace, profile };
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

fn cpus(name: &str, v: &Values) -> Result<Vec<usize>, ConfigError> {
    let text = v.joined();
    super::parse_cpu_list(&text)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| {
            ConfigError::Invalid(format!("{name} {text}: write CPU ids like 0,1 or 0-3"))
        })
}

impl CaseOptions {
    /// These options, with every unset one taken from `defaults`. Duration and count are one
    /// choice: options that set either replace both.
    pub fn over(&self, defaults: &CaseOptions) -> CaseOptions {
        let own_length = self.duration.is_some() || self.count.is_some();
        let d = defaults.clone();
        macro_rules! pick {
            ($($f:ident),* $(,)?) => {
                CaseOptions {
                    $($f: self.$f.clone().or(d.$f),)*
                    duration: if own_length { self.duration.clone() } else { d.duration },
                    count: if own_length { self.count } else { d.count },
                }
            };
        }
        pick!(
            note,
            transport,
            workload,
            engine,
            placement,
            client_cpu,
            server_cpu,
            client_cpus,
            server_cpus,
            size,
            zerocopy,
            response_size,
            addr,
            client_addr,
            port,
            sndbuf,
            rcvbuf,
            notsent_lowat,
            nagle,
            busy_poll_us,
            server_delay,
            server_drop_every,
            flows,
            threads,
            rate,
            max_in_flight,
            spread,
            linger0,
            memory_load,
            processes,
            trace,
            profile,
            stages,
            iterations,
            warmup,
            timeout,
            loss_timeout,
        )
    }

    /// The timing these options describe, defaults filled in.
    pub fn timing(&self) -> Result<Timing, ConfigError> {
        let d = Timing::default();
        let or = |v: &Option<String>, default: u64| {
            v.as_deref()
                .map(nanos)
                .transpose()
                .map(|n| n.unwrap_or(default))
        };
        Ok(Timing {
            warmup_ns: or(&self.warmup, d.warmup_ns)?,
            iterations: self.iterations.unwrap_or(d.iterations),
            length: match (&self.duration, self.count) {
                (Some(_), Some(_)) => {
                    return Err(ConfigError::Invalid(
                        "give duration or count, not both".into(),
                    ));
                }
                (Some(t), None) => IterationLength::Duration {
                    duration_ns: nanos(t)?,
                },
                (None, Some(messages)) => IterationLength::Count { messages },
                (None, None) => d.length,
            },
            timeout_ns: or(&self.timeout, d.timeout_ns)?,
            loss_timeout_ns: or(&self.loss_timeout, d.loss_timeout_ns)?,
        })
    }

    fn placements(&self, default: Placement) -> Result<Vec<Placement>, ConfigError> {
        Ok(
            match (
                self.client_cpu,
                self.server_cpu,
                &self.client_cpus,
                &self.server_cpus,
            ) {
                (Some(client), Some(server), _, _) => vec![Placement::Cpus { client, server }],
                (Some(_), None, _, _) | (None, Some(_), _, _) => {
                    return Err(ConfigError::Invalid(
                        "give the client CPU and the server CPU together".into(),
                    ));
                }
                (None, None, Some(c), Some(s)) => {
                    vec![Placement::from_lists(
                        &cpus("--client-cpus", c)?,
                        &cpus("--server-cpus", s)?,
                    )?]
                }
                (None, None, Some(_), None) | (None, None, None, Some(_)) => {
                    return Err(ConfigError::Invalid(
                        "give the client CPU list and the server CPU list together".into(),
                    ));
                }
                (None, None, None, None) => match &self.placement {
                    Some(p) => parse_list(&p.joined(), str::parse)?,
                    None => vec![default],
                },
            },
        )
    }

    /// The instrumentation variants these options ask for: one per value of `stages`.
    fn instruments(&self) -> Result<Vec<Instrumentation>, ConfigError> {
        let stages = match &self.stages {
            Some(t) => t.values("--stages")?,
            None => vec![false],
        };
        Ok(stages
            .into_iter()
            .map(|stages| Instrumentation { stages })
            .collect())
    }

    /// The matrix these options describe; `default_placement` applies when they name none (the
    /// machine's: [`Topology::default_placement`](crate::host::topology::Topology::default_placement)).
    pub fn matrix(&self, default_placement: Placement) -> Result<Matrix, ConfigError> {
        // Unset options keep the defaults of a new spec (those of the command line).
        let list = |v: &Option<Values>, default: String| v.as_ref().map_or(default, Values::joined);
        let size =
            |name: &str, v: &Option<Values>| v.as_ref().map(|v| one_size(name, v)).transpose();
        let mut t = Spec::new(Transport::Tcp4);
        t.port = self.port.unwrap_or(t.port);
        t.socket.nodelay = self.nagle.map_or(t.socket.nodelay, |nagle| !nagle);
        t.socket.busy_poll_us = self.busy_poll_us;
        t.socket.sndbuf = size("sndbuf", &self.sndbuf)?;
        t.socket.rcvbuf = size("rcvbuf", &self.rcvbuf)?;
        t.socket.notsent_lowat = size("notsent_lowat", &self.notsent_lowat)?
            .map(|b| {
                u32::try_from(b)
                    .map_err(|_| limits::above("--notsent-lowat", b, limits::MAX_NOTSENT_LOWAT))
            })
            .transpose()?;
        t.server_delay_ns = self
            .server_delay
            .as_ref()
            .map(|v| delay_ns(&v.joined()))
            .transpose()?
            .unwrap_or(t.server_delay_ns);
        t.server_drop_every = self.server_drop_every.unwrap_or(t.server_drop_every);
        t.flows = self.flows.unwrap_or(t.flows);
        t.threads = self.threads.unwrap_or(t.threads);
        t.rate.rate_per_sec = self.rate.unwrap_or(t.rate.rate_per_sec);
        t.rate.max_in_flight = self.max_in_flight.unwrap_or(t.rate.max_in_flight);
        t.crr.spread = self.spread.as_deref().map(str::parse).transpose()?;
        t.crr.linger0 = self.linger0.unwrap_or(t.crr.linger0);
        t.interference.memory_load_cpu = self.memory_load;
        t.layout.processes = self.processes.unwrap_or(t.layout.processes);
        t.timing = self.timing()?;
        Ok(Matrix {
            transports: parse_list(&list(&self.transport, t.transport.to_string()), str::parse)?,
            workloads: parse_list(&list(&self.workload, t.workload.to_string()), str::parse)?,
            engines: parse_list(&list(&self.engine, t.engine.to_string()), str::parse)?,
            placements: self.placements(default_placement)?,
            sizes: parse_list(&list(&self.size, t.size.to_string()), parse_size)?,
            zerocopy: parse_list(&list(&self.zerocopy, t.zerocopy.to_string()), str::parse)?,
            response_size: size("response_size", &self.response_size)?,
            addrs: match &self.addr {
                Some(a) => parse_list(&a.joined(), |a| parse_endpoint("--addr", a))?,
                None => Vec::new(),
            },
            client_addr: self
                .client_addr
                .as_deref()
                .map(|a| parse_ip("--client-addr", a))
                .transpose()?,
            probes: probes(self)?,
            instruments: self.instruments()?,
            template: t,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::topology::Topology;
    use crate::spec::Workload;

    /// Every spec `o` describes, fitted as a run fits them.
    fn specs(o: &CaseOptions, default_placement: Placement) -> Result<Vec<Spec>, ConfigError> {
        crate::workload::expand(&o.matrix(default_placement)?)
    }

    fn toml(text: &str) -> CaseOptions {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn values_and_lists_read_like_the_command_line() {
        let o = toml(
            r#"
            transport = ["tcp4", "udp4"]
            engine = "blocking,spin"
            size = [64, "1k"]
            iterations = 2
            count = 10
            "#,
        );
        let specs = specs(&o, Topology::detect().default_placement()).unwrap();
        assert_eq!(specs.len(), 2 * 2 * 2);
        assert!(specs.iter().any(|s| s.size == 1024));
        assert!(specs.iter().all(|s| s.timing.iterations == 2));
        assert!(
            specs
                .iter()
                .all(|s| s.timing.length == IterationLength::Count { messages: 10 })
        );
    }

    #[test]
    fn every_workload_option_reaches_the_specs() {
        let o = toml(
            r#"
            transport = "tcp4"
            workload = ["rate", "crr"]
            engine = "epoll"
            flows = 4
            threads = 2
            rate = 1000
            spread = "127.0.0.2-127.0.0.9"
            linger0 = true
            "#,
        );
        let specs = specs(&o, Topology::detect().default_placement()).unwrap();
        let rate = specs.iter().find(|s| s.workload == Workload::Rate).unwrap();
        let crr = specs.iter().find(|s| s.workload == Workload::Crr).unwrap();
        assert_eq!(
            (rate.flows, rate.threads, rate.rate.rate_per_sec),
            (4, 2, 1000)
        );
        assert!(rate.crr.spread.is_none() && !rate.crr.linger0);
        assert_eq!(crr.rate.rate_per_sec, 0);
        assert!(crr.crr.spread.is_some() && crr.crr.linger0);
    }

    #[test]
    fn spread_goes_to_crr_over_tcp4_and_linger0_to_crr_over_both_tcps() {
        let o = toml(
            r#"
            transport = ["tcp4", "tcp6"]
            workload = "crr"
            spread = "127.0.0.2-127.0.0.9"
            linger0 = true
            "#,
        );
        let specs = specs(&o, Topology::detect().default_placement()).unwrap();
        let of = |t: Transport| specs.iter().find(|s| s.transport == t).unwrap();
        assert!(of(Transport::Tcp4).crr.spread.is_some());
        assert!(of(Transport::Tcp6).crr.spread.is_none());
        assert!(of(Transport::Tcp4).crr.linger0 && of(Transport::Tcp6).crr.linger0);
        for s in &specs {
            s.validate().unwrap();
        }
    }

    #[test]
    fn unset_options_come_from_the_defaults_and_length_is_one_choice() {
        let defaults = toml("workload = \"stream\"\nduration = \"2s\"\niterations = 3");
        let own = toml("transport = \"pipe\"\ncount = 7").over(&defaults);
        assert_eq!(own.workload, Some(Values::text("stream")));
        assert_eq!(
            (own.count, own.duration.as_deref(), own.iterations),
            (Some(7), None, Some(3))
        );
        let inherited = toml("transport = \"pipe\"").over(&defaults);
        assert_eq!(inherited.duration.as_deref(), Some("2s"));
    }

    #[test]
    fn mistakes_are_refused_with_what_to_do() {
        let t = Topology::detect();
        assert!(
            toml::from_str::<CaseOptions>("frobnicate = 1").is_err(),
            "unknown keys are refused"
        );
        let both = toml("duration = \"1s\"\ncount = 5")
            .timing()
            .unwrap_err()
            .to_string();
        assert!(both.contains("not both"), "{both}");
        let cpu = toml("client_cpu = 0")
            .matrix(t.default_placement())
            .unwrap_err()
            .to_string();
        assert!(cpu.contains("together"), "{cpu}");
        assert!(
            specs(&toml("addr = \"10.0.0.1\""), t.default_placement())
                .unwrap_err()
                .to_string()
                .contains("only measures loopback")
        );
        assert!(
            toml("sndbuf = [1, 2]")
                .matrix(t.default_placement())
                .unwrap_err()
                .to_string()
                .contains("one size")
        );
    }

    #[test]
    fn stages_take_a_switch_or_both_ways() {
        let t = Topology::detect().default_placement();
        let ids = |text: &str| -> Vec<String> {
            specs(&toml(text), t)
                .unwrap()
                .iter()
                .map(|s| s.case_id().0)
                .collect()
        };
        assert_eq!(ids("stages = true").len(), 1);
        assert!(ids("stages = true")[0].ends_with("-stages"));
        let both = ids("stages = \"off,on\"");
        assert_eq!(both.len(), 2);
        assert_eq!(format!("{}-stages", both[0]), both[1]);
        let err = toml("stages = \"maybe\"")
            .matrix(t)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--stages") && err.contains("off,on"), "{err}");
    }

    #[test]
    fn server_delay_takes_nanoseconds_or_a_unit() {
        let t = Topology::detect();
        assert_eq!(
            toml("server_delay = 5000")
                .matrix(t.default_placement())
                .unwrap()
                .template
                .server_delay_ns,
            5000
        );
        assert_eq!(
            toml("server_delay = \"5us\"")
                .matrix(t.default_placement())
                .unwrap()
                .template
                .server_delay_ns,
            5000
        );
    }

    #[test]
    fn trace_and_profile_switches_expand_to_untraced_and_traced_twins() {
        let t = Topology::detect();
        let o = toml("trace = \"off,on\"\nprofile = \"on\"");
        let ids: Vec<String> = specs(&o, t.default_placement())
            .unwrap()
            .iter()
            .map(|s| s.case_id().0)
            .collect();
        let base = Spec::new(Transport::Tcp4)
            .case_id()
            .0
            .replace("cross-core", &t.default_placement().to_string());
        assert_eq!(
            ids,
            [format!("{base}-profile"), format!("{base}-trace-profile")]
        );
        let plain = specs(&CaseOptions::default(), t.default_placement()).unwrap();
        assert!(plain[0].probes.is_off());
        let err = toml("trace = \"maybe\"")
            .matrix(t.default_placement())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--trace maybe") && err.contains("off,on"),
            "{err}"
        );
    }
}
