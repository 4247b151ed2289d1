//! One `[[cases]]` table of a suite (or its `[defaults]`): the values in the command line's
//! spellings, merged with the defaults and turned into a [`Matrix`].

use serde::Deserialize;

use crate::error::ConfigError;
use crate::matrix::Matrix;
use crate::placement::Topology;
use crate::spec::{
    IterationLength, Spec, Timing, Transport, parse_duration, parse_list, parse_size,
};

/// A value or a list of values; strings may hold comma lists (`"tcp4,udp4"`), numbers are sizes.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum List {
    One(Item),
    Many(Vec<Item>),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum Item {
    Number(u64),
    Text(String),
}

impl List {
    /// The items as one comma list, the form the command line's parsers take.
    fn joined(&self) -> String {
        let text = |i: &Item| match i {
            Item::Number(n) => n.to_string(),
            Item::Text(t) => t.clone(),
        };
        match self {
            List::One(i) => text(i),
            List::Many(v) => v.iter().map(text).collect::<Vec<_>>().join(","),
        }
    }
}

/// One `[[cases]]` table (or `[defaults]`): every field optional, names as on the command line.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Entry {
    /// Why this group is here; shown by `loopbench suite --list`.
    pub(super) note: Option<String>,
    transport: Option<List>,
    workload: Option<List>,
    engine: Option<List>,
    placement: Option<List>,
    size: Option<List>,
    response_size: Option<List>,
    server_delay: Option<String>,
    sndbuf: Option<List>,
    rcvbuf: Option<List>,
    iterations: Option<u32>,
    duration: Option<String>,
    count: Option<u64>,
    warmup: Option<String>,
    timeout: Option<String>,
    loss_timeout: Option<String>,
}

fn parse_ns(text: &str) -> Result<u64, ConfigError> {
    if text.trim() == "0" {
        return Ok(0);
    }
    let d = parse_duration(text)?;
    Ok(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl Entry {
    /// This entry with every unset field taken from `defaults`. Duration and count are one
    /// choice: an entry that sets either replaces both.
    pub(super) fn over(&self, d: &Entry) -> Entry {
        let own_length = self.duration.is_some() || self.count.is_some();
        macro_rules! pick {
            ($($f:ident),*) => { Entry { $($f: self.$f.clone().or_else(|| d.$f.clone()),)*
                duration: if own_length { self.duration.clone() } else { d.duration.clone() },
                count: if own_length { self.count } else { d.count },
            } };
        }
        pick!(
            note,
            transport,
            workload,
            engine,
            placement,
            size,
            response_size,
            server_delay,
            sndbuf,
            rcvbuf,
            iterations,
            warmup,
            timeout,
            loss_timeout
        )
    }

    fn timing(&self) -> Result<Timing, ConfigError> {
        let mut t = Timing::default();
        if let Some(n) = self.iterations {
            t.iterations = n;
        }
        t.length = match (&self.duration, self.count) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid(
                    "give duration or count, not both".into(),
                ));
            }
            (Some(d), None) => IterationLength::Duration {
                duration_ns: parse_ns(d)?,
            },
            (None, Some(messages)) => IterationLength::Count { messages },
            (None, None) => t.length,
        };
        for (field, target) in [
            (&self.warmup, &mut t.warmup_ns),
            (&self.timeout, &mut t.timeout_ns),
            (&self.loss_timeout, &mut t.loss_timeout_ns),
        ] {
            if let Some(text) = field {
                *target = parse_ns(text)?;
            }
        }
        Ok(t)
    }

    pub(super) fn matrix(&self, topology: &Topology) -> Result<Matrix, ConfigError> {
        let list = |l: &Option<List>| l.as_ref().map(List::joined);
        let size = |l: &Option<List>| list(l).map(|s| parse_size(&s)).transpose();
        let mut template = Spec::new(Transport::Tcp4);
        template.timing = self.timing()?;
        template.server_delay_ns = self
            .server_delay
            .as_deref()
            .map(parse_ns)
            .transpose()?
            .unwrap_or(0);
        template.socket.sndbuf = size(&self.sndbuf)?;
        template.socket.rcvbuf = size(&self.rcvbuf)?;
        let transports = list(&self.transport).ok_or_else(|| {
            ConfigError::Invalid(
                "a [[cases]] table needs a transport (or one in [defaults])".into(),
            )
        })?;
        Ok(Matrix {
            transports: parse_list(&transports, str::parse)?,
            workloads: parse_list(&list(&self.workload).unwrap_or("rr".into()), str::parse)?,
            engines: parse_list(&list(&self.engine).unwrap_or("blocking".into()), str::parse)?,
            placements: match list(&self.placement) {
                Some(p) => parse_list(&p, str::parse)?,
                None => vec![topology.default_placement()],
            },
            sizes: parse_list(&list(&self.size).unwrap_or("64".into()), parse_size)?,
            response_size: size(&self.response_size)?,
            addrs: Vec::new(),
            client_addr: None,
            template,
        })
    }
}
