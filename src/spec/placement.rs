//! Where the workers run: the placement presets and explicit CPU lists.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// Parses the kernel's cpulist format: `0-3,8,10-11`.
pub fn parse_cpu_list(text: &str) -> Option<Vec<usize>> {
    let mut out = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
                if b < a {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.trim().parse().ok()?),
        }
    }
    Some(out)
}

/// Where the client and server workers run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Placement {
    /// Both workers on one CPU: every wake-up is a context switch on that CPU.
    SameCore,
    /// The two hardware threads of one core.
    SmtSibling,
    /// Two different physical cores (of one NUMA node when possible).
    CrossCore,
    /// CPUs on two different NUMA nodes.
    CrossNode,
    /// Not pinned: the scheduler decides.
    Unpinned,
    /// Explicit CPUs given with `--client-cpu N --server-cpu M`.
    Cpus {
        /// CPU of the client worker.
        client: usize,
        /// CPU of the server worker.
        server: usize,
    },
    /// Explicit CPU lists given with `--client-cpus 0,1 --server-cpus 1,0`: worker thread `i` of a
    /// side runs on entry `i % len` of its list.
    Lists {
        /// CPUs of the client threads.
        client: CpuList,
        /// CPUs of the server threads.
        server: CpuList,
    },
}

/// A short ordered list of CPU ids that is `Copy` (so [`Placement`] stays a plain value).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CpuList {
    len: u8,
    cpus: [u16; CpuList::CAPACITY],
}

impl CpuList {
    /// Most CPUs one list can name.
    pub const CAPACITY: usize = 30;

    /// A list of `cpus`; refuses an empty list, more than [`CpuList::CAPACITY`] entries, or ids
    /// above 65535.
    pub fn new(flag: &str, cpus: &[usize]) -> Result<CpuList, ConfigError> {
        if cpus.is_empty() || cpus.len() > Self::CAPACITY {
            return Err(ConfigError::Invalid(format!(
                "{flag} takes 1 to {} CPU ids, got {}",
                Self::CAPACITY,
                cpus.len()
            )));
        }
        let mut list = CpuList {
            len: cpus.len() as u8,
            cpus: [0; Self::CAPACITY],
        };
        for (slot, &c) in list.cpus.iter_mut().zip(cpus) {
            *slot = u16::try_from(c).map_err(|_| {
                ConfigError::Invalid(format!("{flag}: CPU {c} is beyond any machine"))
            })?;
        }
        Ok(list)
    }

    /// The CPU ids, in order.
    pub fn to_vec(&self) -> Vec<usize> {
        self.cpus[..self.len as usize]
            .iter()
            .map(|&c| c as usize)
            .collect()
    }
}

impl fmt::Debug for CpuList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.to_vec()).finish()
    }
}

impl Placement {
    /// Placement from explicit CPU lists: one CPU per side stays [`Placement::Cpus`].
    pub fn from_lists(client: &[usize], server: &[usize]) -> Result<Placement, ConfigError> {
        if let ([c], [s]) = (client, server) {
            return Ok(Placement::Cpus {
                client: *c,
                server: *s,
            });
        }
        Ok(Placement::Lists {
            client: CpuList::new("--client-cpus", client)?,
            server: CpuList::new("--server-cpus", server)?,
        })
    }
}

impl Placement {
    /// The named presets, for help texts and errors.
    pub const PRESETS: &'static [Placement] = &[
        Placement::SameCore,
        Placement::SmtSibling,
        Placement::CrossCore,
        Placement::CrossNode,
        Placement::Unpinned,
    ];
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Placement::SameCore => f.write_str("same-core"),
            Placement::SmtSibling => f.write_str("smt-sibling"),
            Placement::CrossCore => f.write_str("cross-core"),
            Placement::CrossNode => f.write_str("cross-node"),
            Placement::Unpinned => f.write_str("unpinned"),
            Placement::Cpus { client, server } => write!(f, "cpu{client}-cpu{server}"),
            Placement::Lists { client, server } => {
                let join = |l: &CpuList| {
                    l.to_vec()
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join("+")
                };
                write!(f, "cpu{}-cpu{}", join(client), join(server))
            }
        }
    }
}

impl FromStr for Placement {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        let wanted = s.trim().to_ascii_lowercase();
        for p in Placement::PRESETS {
            if p.to_string() == wanted {
                return Ok(*p);
            }
        }
        // "cpu0-cpu1" or "cpu0+1-cpu1+0", the Display forms of explicit CPUs, so a case id
        // round-trips.
        if let Some((c, s2)) = wanted.split_once('-') {
            if let (Some(c), Some(s2)) = (c.strip_prefix("cpu"), s2.strip_prefix("cpu")) {
                let list = |t: &str| -> Option<Vec<usize>> {
                    t.split('+').map(|x| x.parse().ok()).collect()
                };
                if let (Some(client), Some(server)) = (list(c), list(s2)) {
                    return Placement::from_lists(&client, &server);
                }
            }
        }
        Err(ConfigError::UnknownValue {
            dimension: "Placement",
            value: s.to_string(),
            expected: "same-core, smt-sibling, cross-core, cross-node, unpinned, or cpuN-cpuM \
                       (or --client-cpu N --server-cpu M)"
                .into(),
        })
    }
}

impl Serialize for Placement {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Placement {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// In JSON, a placement as the command line spells it: same-core, cross-core, smt-sibling, cross-node, unpinned, or explicit CPUs.
impl schemars::JsonSchema for Placement {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Placement".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A placement as the command line spells it: same-core, cross-core, smt-sibling, cross-node, unpinned, or explicit CPUs",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_parse() {
        assert_eq!(
            parse_cpu_list("0-3,8,10-11").unwrap(),
            vec![0, 1, 2, 3, 8, 10, 11]
        );
        assert_eq!(parse_cpu_list("5\n").unwrap(), vec![5]);
        assert!(parse_cpu_list("3-1").is_none());
        assert!(parse_cpu_list("x").is_none());
    }
}
