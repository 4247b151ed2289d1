//! The root qdisc of a loopback interface over rtnetlink: replace it, read it back, and when a
//! kind is unknown, say which kinds this kernel does have.
//!
//! Parameters are understood for `tbf` (rate, burst, limit), `htb` (default class), `pfifo`
//! (limit in packets) and `bfifo` (limit in bytes); any other kind is created with the kernel's
//! defaults for its options.

use anyhow::{Context, Result, bail};
use netlink_packet_core::{DefaultNla, NLM_F_CREATE, NLM_F_REPLACE, Nla, NlasIterator};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::tc::{TcAttribute, TcHandle, TcMessage, TcOption};
use serde::{Deserialize, Serialize};

use super::netlink::{Rtnl, kernel_errno};
use super::netns::PrivateNetns;
use crate::error::ConfigError;

/// Kinds probed when the kernel does not know the one asked for.
const CANDIDATE_KINDS: &[&str] = &[
    "pfifo",
    "bfifo",
    "pfifo_fast",
    "tbf",
    "htb",
    "fq",
    "fq_codel",
    "sfq",
    "netem",
    "prio",
    "codel",
    "cake",
    "red",
    "hfsc",
];

const TCA_OPTIONS: u16 = 2;
const TCA_TBF_PARMS: u16 = 1;
const TCA_TBF_RATE64: u16 = 4;
const TCA_TBF_BURST: u16 = 6;
const TCA_HTB_INIT: u16 = 2;
/// TC_LINKLAYER_ETHERNET: tells tbf not to guess the link layer from a rate table.
const LINKLAYER_ETHERNET: u8 = 1;

/// A root qdisc to install, with the parameters this tool understands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct QdiscSpec {
    /// Kind (`tbf`, `htb`, `pfifo`, `bfifo`, or any other the kernel has).
    pub kind: String,
    /// tbf: rate in bytes per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_bytes_per_sec: Option<u64>,
    /// tbf: bucket size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst_bytes: Option<u32>,
    /// tbf and bfifo: queue limit in bytes; pfifo: in packets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// htb: the minor number of the default class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_class: Option<u32>,
}

/// The root qdisc as the kernel reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QdiscState {
    /// Kind (`noqueue` when lo has none).
    pub kind: String,
    /// tbf: rate in bytes per second.
    pub rate_bytes_per_sec: Option<u64>,
    /// tbf, pfifo, bfifo: the limit.
    pub limit: Option<u32>,
    /// htb: the default class.
    pub default_class: Option<u32>,
}

impl QdiscSpec {
    /// Checks that the parameters fit the kind (no machine access).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |what: &str| {
            Err(ConfigError::Invalid(format!(
                "lo_qdisc kind '{}': {what}",
                self.kind
            )))
        };
        let has_tbf = self.rate_bytes_per_sec.is_some() || self.burst_bytes.is_some();
        match self.kind.as_str() {
            "tbf" => {
                if self.rate_bytes_per_sec.is_none_or(|r| r == 0) {
                    return bad("needs rate (e.g. rate = \"10gbit\")");
                }
                if self.burst_bytes.is_none_or(|b| b == 0) {
                    return bad("needs burst in bytes, at least the MTU (e.g. burst = \"256k\")");
                }
            }
            "htb" if has_tbf || self.limit.is_some() => {
                return bad("takes only default_class");
            }
            "pfifo" | "bfifo" if has_tbf || self.default_class.is_some() => {
                return bad("takes only limit");
            }
            "htb" | "pfifo" | "bfifo" => {}
            "" => return bad("the kind is empty"),
            _ if has_tbf || self.limit.is_some() || self.default_class.is_some() => {
                return bad(
                    "parameters are understood only for tbf, htb, pfifo and bfifo; give none and \
                     the kernel's defaults apply",
                );
            }
            _ => {}
        }
        Ok(())
    }

    fn options(&self) -> Option<Vec<u8>> {
        match self.kind.as_str() {
            "tbf" => {
                let rate = self.rate_bytes_per_sec.unwrap_or(0);
                let burst = self.burst_bytes.unwrap_or(0);
                let limit = self.limit.unwrap_or_else(|| default_tbf_limit(rate, burst));
                let mut qopt = [0u8; 36];
                qopt[1] = LINKLAYER_ETHERNET;
                qopt[8..12].copy_from_slice(&(rate.min(u64::from(u32::MAX)) as u32).to_ne_bytes());
                qopt[24..28].copy_from_slice(&limit.to_ne_bytes());
                let mut out = nla(TCA_TBF_PARMS, &qopt);
                out.extend(nla(TCA_TBF_BURST, &burst.to_ne_bytes()));
                if rate >= u64::from(u32::MAX) {
                    out.extend(nla(TCA_TBF_RATE64, &rate.to_ne_bytes()));
                }
                Some(out)
            }
            "htb" => {
                let mut glob = [0u8; 20];
                glob[0..4].copy_from_slice(&3u32.to_ne_bytes());
                glob[4..8].copy_from_slice(&10u32.to_ne_bytes());
                glob[8..12].copy_from_slice(&self.default_class.unwrap_or(0).to_ne_bytes());
                Some(nla(TCA_HTB_INIT, &glob))
            }
            "pfifo" | "bfifo" => self.limit.map(|l| l.to_ne_bytes().to_vec()),
            _ => None,
        }
    }

    /// The parameters given that `state` does not show, as "what: wanted X, got Y".
    pub fn mismatches(&self, state: &QdiscState) -> Vec<String> {
        let mut out = Vec::new();
        if state.kind != self.kind {
            out.push(format!("kind: wanted {}, got {}", self.kind, state.kind));
            return out;
        }
        let mut check = |what: &str, wanted: Option<u64>, got: Option<u64>| {
            if wanted.is_some() && wanted != got {
                out.push(format!("{what}: wanted {wanted:?}, got {got:?}"));
            }
        };
        check("rate", self.rate_bytes_per_sec, state.rate_bytes_per_sec);
        let limit = if self.kind == "tbf" {
            Some(self.limit.unwrap_or_else(|| {
                default_tbf_limit(
                    self.rate_bytes_per_sec.unwrap_or(0),
                    self.burst_bytes.unwrap_or(0),
                )
            }))
        } else {
            self.limit
        };
        check("limit", limit.map(u64::from), state.limit.map(u64::from));
        if self.kind == "htb" {
            check(
                "default_class",
                Some(u64::from(self.default_class.unwrap_or(0))),
                state.default_class.map(u64::from),
            );
        }
        out
    }
}

/// tc's default for tbf: what the rate drains in 50 ms, plus the burst.
fn default_tbf_limit(rate: u64, burst: u32) -> u32 {
    (rate / 20 + u64::from(burst)).min(u64::from(u32::MAX)) as u32
}

/// One netlink attribute: header, payload, padding to 4 bytes.
fn nla(kind: u16, payload: &[u8]) -> Vec<u8> {
    let len = 4 + payload.len();
    let mut out = Vec::with_capacity(len.next_multiple_of(4));
    out.extend((len as u16).to_ne_bytes());
    out.extend(kind.to_ne_bytes());
    out.extend(payload);
    out.resize(len.next_multiple_of(4), 0);
    out
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn parse_state(kind: String, options: Option<Vec<u8>>) -> QdiscState {
    let mut state = QdiscState {
        kind,
        rate_bytes_per_sec: None,
        limit: None,
        default_class: None,
    };
    let Some(opts) = options else { return state };
    match state.kind.as_str() {
        "tbf" => {
            for a in NlasIterator::new(&opts[..]).flatten() {
                match a.kind() {
                    TCA_TBF_PARMS => {
                        state.rate_bytes_per_sec = u32_at(a.value(), 8).map(u64::from);
                        state.limit = u32_at(a.value(), 24);
                    }
                    TCA_TBF_RATE64 if a.value().len() >= 8 => {
                        let v: [u8; 8] = a.value()[..8].try_into().expect("8 bytes");
                        state.rate_bytes_per_sec = Some(u64::from_ne_bytes(v));
                    }
                    _ => {}
                }
            }
        }
        "htb" => {
            state.default_class = NlasIterator::new(&opts[..])
                .flatten()
                .find(|a| a.kind() == TCA_HTB_INIT)
                .and_then(|a| u32_at(a.value(), 8));
        }
        "pfifo" | "bfifo" => state.limit = u32_at(&opts, 0),
        _ => {}
    }
    state
}

fn raw_options(attrs: &[TcAttribute]) -> Option<Vec<u8>> {
    attrs.iter().find_map(|a| match a {
        TcAttribute::Options(opts) => opts.iter().find_map(|o| match o {
            TcOption::Other(nla) if nla.kind() == TCA_OPTIONS => {
                let mut v = vec![0u8; nla.value_len()];
                nla.emit_value(&mut v);
                Some(v)
            }
            _ => None,
        }),
        _ => None,
    })
}

/// The root qdisc of link `index` (`noqueue` when the kernel lists none).
pub fn root(rtnl: &mut Rtnl, index: u32) -> Result<QdiscState> {
    let answers = rtnl
        .dump(RouteNetlinkMessage::GetQueueDiscipline(
            TcMessage::with_index(index as i32),
        ))
        .context("cannot list qdiscs")?;
    for m in answers {
        if let RouteNetlinkMessage::NewQueueDiscipline(q) = m {
            if q.header.index == index as i32 && q.header.parent == TcHandle::ROOT {
                let kind = q.attributes.iter().find_map(|a| match a {
                    TcAttribute::Kind(k) => Some(k.clone()),
                    _ => None,
                });
                return Ok(parse_state(
                    kind.unwrap_or_default(),
                    raw_options(&q.attributes),
                ));
            }
        }
    }
    Ok(parse_state("noqueue".into(), None))
}

fn replace_raw(rtnl: &mut Rtnl, index: u32, kind: &str, options: Option<Vec<u8>>) -> Result<()> {
    let mut m = TcMessage::with_index(index as i32);
    m.header.parent = TcHandle::ROOT;
    m.attributes.push(TcAttribute::Kind(kind.to_string()));
    if let Some(o) = options {
        m.attributes
            .push(TcAttribute::Other(DefaultNla::new(TCA_OPTIONS, o)));
    }
    rtnl.request(
        RouteNetlinkMessage::NewQueueDiscipline(m),
        NLM_F_CREATE | NLM_F_REPLACE,
    )?;
    Ok(())
}

/// Removes the root qdisc (lo goes back to `noqueue`).
pub fn delete_root(_ns: &PrivateNetns, rtnl: &mut Rtnl, index: u32) -> Result<()> {
    let mut m = TcMessage::with_index(index as i32);
    m.header.parent = TcHandle::ROOT;
    rtnl.request(RouteNetlinkMessage::DelQueueDiscipline(m), 0)?;
    Ok(())
}

/// The kinds of `CANDIDATE_KINDS` this kernel has, found by trying each as lo's root qdisc in
/// the private namespace (ENOENT means unknown; any other answer means the kernel has it).
pub fn available_kinds(ns: &PrivateNetns, rtnl: &mut Rtnl, index: u32) -> Vec<&'static str> {
    let mut kinds = Vec::new();
    for kind in CANDIDATE_KINDS {
        match replace_raw(rtnl, index, kind, None) {
            Ok(()) => kinds.push(*kind),
            Err(e) if kernel_errno(&e) == Some(libc::ENOENT) => {}
            Err(_) => kinds.push(*kind),
        }
        let _ = delete_root(ns, rtnl, index);
    }
    kinds
}

/// Installs `spec` as the root qdisc of link `index` in the private namespace. An unknown kind
/// is a [`ConfigError`] that lists the kinds this kernel has.
pub fn replace_root(
    ns: &PrivateNetns,
    rtnl: &mut Rtnl,
    index: u32,
    spec: &QdiscSpec,
) -> Result<()> {
    spec.validate()?;
    match replace_raw(rtnl, index, &spec.kind, spec.options()) {
        Ok(()) => Ok(()),
        Err(e) if kernel_errno(&e) == Some(libc::ENOENT) => {
            let have = available_kinds(ns, rtnl, index);
            bail!(ConfigError::Invalid(format!(
                "lo_qdisc kind '{}' is unknown to this kernel ({e:#}); kinds it has: {}. Pick one \
                 of those, or load the module (modprobe sch_{})",
                spec.kind,
                have.join(", "),
                spec.kind
            )))
        }
        Err(e) => Err(e.context(format!("cannot install qdisc {} on lo", spec.kind))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loopback::link::index_of;
    use crate::loopback::netns::{unavailable_reason, with_private};

    fn tbf() -> QdiscSpec {
        QdiscSpec {
            kind: "tbf".into(),
            rate_bytes_per_sec: Some(1_250_000_000),
            burst_bytes: Some(256 * 1024),
            limit: None,
            default_class: None,
        }
    }

    #[test]
    fn parameters_must_fit_the_kind() {
        tbf().validate().unwrap();
        let mut no_rate = tbf();
        no_rate.rate_bytes_per_sec = None;
        assert!(no_rate.validate().unwrap_err().to_string().contains("rate"));
        let fq = QdiscSpec {
            kind: "fq".into(),
            limit: Some(5),
            ..no_rate.clone()
        };
        assert!(fq.validate().is_err());
    }

    #[test]
    fn attributes_are_padded_to_four_bytes() {
        let a = nla(6, &[1, 2, 3, 4, 5]);
        assert_eq!(a.len(), 12);
        assert_eq!(u16::from_ne_bytes([a[0], a[1]]), 9);
    }

    #[test]
    #[ignore = "needs root: installs tbf, pfifo and htb qdiscs on lo in a private network namespace (the kernel must have them)"]
    fn qdiscs_install_read_back_and_unknown_kinds_are_named() {
        if let Some(why) = unavailable_reason() {
            panic!("{why}");
        }
        with_private(|ns| {
            let mut rtnl = Rtnl::open()?;
            let lo = index_of("lo")?;
            assert_eq!(root(&mut rtnl, lo)?.kind, "noqueue");
            for spec in [
                tbf(),
                QdiscSpec {
                    kind: "pfifo".into(),
                    limit: Some(77),
                    rate_bytes_per_sec: None,
                    burst_bytes: None,
                    default_class: None,
                },
                QdiscSpec {
                    kind: "htb".into(),
                    default_class: Some(10),
                    rate_bytes_per_sec: None,
                    burst_bytes: None,
                    limit: None,
                },
            ] {
                replace_root(ns, &mut rtnl, lo, &spec)?;
                let state = root(&mut rtnl, lo)?;
                assert!(spec.mismatches(&state).is_empty(), "{spec:?} vs {state:?}");
            }
            let bogus = QdiscSpec {
                kind: "no_such_qdisc".into(),
                ..tbf()
            };
            let bogus = QdiscSpec {
                rate_bytes_per_sec: None,
                burst_bytes: None,
                ..bogus
            };
            let err = format!("{:#}", replace_root(ns, &mut rtnl, lo, &bogus).unwrap_err());
            assert!(err.contains("'no_such_qdisc' is unknown"), "{err}");
            assert!(err.contains("kinds it has: pfifo, bfifo"), "{err}");
            assert!(err.contains("tbf"), "{err}");
            Ok(())
        })
        .unwrap();
    }
}
