//! The `[cases]` table of a study file: the dimensions and timing of `loopbench run`, each a
//! value or a list, expanded to specs.

use std::time::Duration;

use serde::Deserialize;

use crate::error::ConfigError;
use crate::loopback::addr::{parse_endpoint, parse_ip};
use crate::matrix::Matrix;
use crate::placement::Topology;
use crate::spec::{IterationLength, Spec, Timing, Transport, parse_duration, parse_size};

/// A value or a list of values.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany<T> {
    /// One value.
    One(T),
    /// A list.
    Many(Vec<T>),
}

impl<T: Clone> OneOrMany<T> {
    fn to_vec(&self) -> Vec<T> {
        match self {
            OneOrMany::One(v) => vec![v.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// A size written as a number of bytes or a string with a unit (`"64k"`).
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Size {
    /// A number of bytes.
    Bytes(u64),
    /// A string with a unit.
    Text(String),
}

impl Size {
    pub(super) fn bytes(&self) -> Result<usize, ConfigError> {
        match self {
            Size::Bytes(b) => usize::try_from(*b).map_err(|_| ConfigError::BadSize(b.to_string())),
            Size::Text(t) => parse_size(t),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CasesToml {
    transport: Option<OneOrMany<String>>,
    workload: Option<OneOrMany<String>>,
    engine: Option<OneOrMany<String>>,
    placement: Option<OneOrMany<String>>,
    size: Option<OneOrMany<Size>>,
    response_size: Option<Size>,
    addr: Option<OneOrMany<String>>,
    client_addr: Option<String>,
    port: Option<u16>,
    sndbuf: Option<Size>,
    rcvbuf: Option<Size>,
    notsent_lowat: Option<Size>,
    nagle: Option<bool>,
    server_delay: Option<String>,
    iterations: Option<u32>,
    duration: Option<String>,
    count: Option<u64>,
    warmup: Option<String>,
    timeout: Option<String>,
    loss_timeout: Option<String>,
}

pub(super) fn duration_ns(text: &str) -> Result<u64, ConfigError> {
    let d = if text.trim() == "0" {
        Duration::ZERO
    } else {
        parse_duration(text)?
    };
    Ok(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

pub(super) fn u32_size(s: &Size) -> Result<u32, ConfigError> {
    let b = s.bytes()?;
    u32::try_from(b).map_err(|_| ConfigError::BadSize(format!("{b} (above 4 GiB)")))
}

pub(super) fn cases(c: &CasesToml, topology: &Topology) -> Result<Vec<Spec>, ConfigError> {
    let strings = |v: &Option<OneOrMany<String>>, default: &str| match v {
        Some(v) => v.to_vec(),
        None => vec![default.to_string()],
    };
    let mut template = Spec::new(Transport::Tcp4);
    template.port = c.port.unwrap_or(0);
    template.socket.nodelay = !c.nagle.unwrap_or(false);
    template.socket.sndbuf = c.sndbuf.as_ref().map(Size::bytes).transpose()?;
    template.socket.rcvbuf = c.rcvbuf.as_ref().map(Size::bytes).transpose()?;
    template.socket.notsent_lowat = c.notsent_lowat.as_ref().map(u32_size).transpose()?;
    template.server_delay_ns = c
        .server_delay
        .as_deref()
        .map(duration_ns)
        .transpose()?
        .unwrap_or(0);
    let d = Timing::default();
    template.timing = Timing {
        warmup_ns: c
            .warmup
            .as_deref()
            .map(duration_ns)
            .transpose()?
            .unwrap_or(d.warmup_ns),
        iterations: c.iterations.unwrap_or(d.iterations),
        length: match (c.count, &c.duration) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid(
                    "[cases] gives both count and duration; keep one".into(),
                ));
            }
            (Some(messages), None) => IterationLength::Count { messages },
            (None, Some(t)) => IterationLength::Duration {
                duration_ns: duration_ns(t)?,
            },
            (None, None) => d.length,
        },
        timeout_ns: c
            .timeout
            .as_deref()
            .map(duration_ns)
            .transpose()?
            .unwrap_or(d.timeout_ns),
        loss_timeout_ns: c
            .loss_timeout
            .as_deref()
            .map(duration_ns)
            .transpose()?
            .unwrap_or(d.loss_timeout_ns),
    };
    let matrix = Matrix {
        transports: strings(&c.transport, "tcp4")
            .iter()
            .map(|s| s.parse())
            .collect::<Result<_, _>>()?,
        workloads: strings(&c.workload, "rr")
            .iter()
            .map(|s| s.parse())
            .collect::<Result<_, _>>()?,
        engines: strings(&c.engine, "blocking")
            .iter()
            .map(|s| s.parse())
            .collect::<Result<_, _>>()?,
        placements: match &c.placement {
            Some(p) => p
                .to_vec()
                .iter()
                .map(|s| s.parse())
                .collect::<Result<_, _>>()?,
            None => vec![topology.default_placement()],
        },
        sizes: match &c.size {
            Some(s) => s
                .to_vec()
                .iter()
                .map(Size::bytes)
                .collect::<Result<_, _>>()?,
            None => vec![64],
        },
        response_size: c.response_size.as_ref().map(Size::bytes).transpose()?,
        addrs: match &c.addr {
            Some(a) => a
                .to_vec()
                .iter()
                .map(|a| parse_endpoint("addr", a))
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        },
        client_addr: c
            .client_addr
            .as_deref()
            .map(|a| parse_ip("client_addr", a))
            .transpose()?,
        template,
    };
    matrix.expand()
}
