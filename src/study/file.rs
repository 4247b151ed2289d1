//! The study file (TOML): a name, the cases (the dimensions and timing of `loopbench run`, each a
//! value or a list), and the variants, the first of which is the baseline.
//!
//! ```toml
//! name = "lo MTU"
//! [cases]
//! transport = ["tcp4"]
//! workload = "stream"
//! size = [65536]
//! iterations = 3
//! duration = "500ms"
//!
//! [[variant]]
//! name = "default"
//!
//! [[variant]]
//! name = "mtu1500-nooffload"
//! lo_mtu = 1500
//! lo_offloads = { tso = false, gso = false }
//! sysctl = { "net.ipv4.tcp_rmem" = "4096 131072 6291456" }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use serde::Deserialize;

use super::settings::{CaseOverrides, IdleCpus, Variant, VariantSettings};
use super::sweep::{Sweep, SweepToml};
use crate::error::{ConfigError, UsageError};
use crate::host::topology::Topology;
use crate::loopback::offload::Offload;
use crate::loopback::qdisc::QdiscSpec;
use crate::spec::Spec;
use crate::spec::case_options::{CaseOptions, Scalar as Size};

/// A parsed, validated study file.
#[derive(Clone, Debug)]
pub struct StudyFile {
    /// The study's name.
    pub name: String,
    /// What it is about, when given.
    pub description: Option<String>,
    /// Rounds when the command line gives none.
    pub rounds: Option<u32>,
    /// True (the default) when each namespace starts from the host's values of the net sysctls
    /// loopbench records; false to start from the kernel's defaults for a new namespace.
    pub inherit_host_sysctls: bool,
    /// The cases, before any variant's overrides.
    pub cases: Vec<Spec>,
    /// The variants (a sweep's points among them, after the `[[variant]]`s); the first is the
    /// baseline.
    pub variants: Vec<Variant>,
    /// The sweeps, each naming the variants of its points.
    pub sweeps: Vec<Sweep>,
    /// The file as written, stored with the study.
    pub source: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SocketToml {
    sndbuf: Option<Size>,
    rcvbuf: Option<Size>,
    notsent_lowat: Option<Size>,
    nodelay: Option<bool>,
    busy_poll_us: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum QdiscToml {
    Kind(String),
    Table(QdiscTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QdiscTable {
    kind: String,
    rate: Option<String>,
    burst: Option<Size>,
    limit: Option<Size>,
    default_class: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VariantToml {
    name: String,
    description: Option<String>,
    lo_mtu: Option<u32>,
    #[serde(default)]
    lo_offloads: BTreeMap<String, bool>,
    lo_qdisc: Option<QdiscToml>,
    #[serde(default)]
    sysctl: BTreeMap<String, toml::Value>,
    socket: Option<SocketToml>,
    placement: Option<String>,
    engine: Option<String>,
    cpu_dma_latency_us: Option<i32>,
    busy_poll_us: Option<u32>,
    #[serde(default)]
    idle_disable: Vec<String>,
    idle_cpus: Option<IdleCpus>,
    #[serde(default)]
    haltpoll: BTreeMap<String, toml::Value>,
    #[serde(default)]
    sched: BTreeMap<String, toml::Value>,
    thp: Option<String>,
    lo_rps_cpus: Option<String>,
    lo_xps_cpus: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StudyToml {
    name: String,
    description: Option<String>,
    rounds: Option<u32>,
    inherit_host_sysctls: Option<bool>,
    cases: CaseOptions,
    #[serde(default)]
    variant: Vec<VariantToml>,
    #[serde(default)]
    sweep: Vec<SweepToml>,
}

/// A size that must fit 32 bits (qdisc parameters, TCP_NOTSENT_LOWAT).
fn u32_size(s: &Size) -> Result<u32, ConfigError> {
    let b = s.bytes()?;
    u32::try_from(b).map_err(|_| ConfigError::BadSize(format!("{b} (above 4 GiB)")))
}

fn invalid(msg: String) -> ConfigError {
    ConfigError::Invalid(msg)
}

/// A rate: bits per second with `bit`, `kbit`, `mbit`, `gbit`; bytes per second with `bps`,
/// `kbps`, `mbps`, `gbps` (tc's spellings). Returns bytes per second.
pub fn parse_rate(text: &str) -> Result<u64, ConfigError> {
    let t = text.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| bad_rate(text))?;
    let (mult, bits) = match unit {
        "bit" => (1.0, true),
        "kbit" => (1e3, true),
        "mbit" => (1e6, true),
        "gbit" => (1e9, true),
        "bps" => (1.0, false),
        "kbps" => (1e3, false),
        "mbps" => (1e6, false),
        "gbps" => (1e9, false),
        _ => return Err(bad_rate(text)),
    };
    let bytes = n * mult / if bits { 8.0 } else { 1.0 };
    if !(bytes.is_finite() && bytes >= 1.0) {
        return Err(bad_rate(text));
    }
    Ok(bytes as u64)
}

fn bad_rate(text: &str) -> ConfigError {
    invalid(format!(
        "cannot read rate '{text}'; write it like 10gbit, 500mbit (bits/s) or 100mbps (bytes/s)"
    ))
}

/// A variant from its `[[variant]]` table; every error names the variant.
fn variant(v: VariantToml) -> Result<Variant, ConfigError> {
    let named = |e: ConfigError| invalid(format!("variant '{}': {e}", v.name));
    let lo_offloads = offloads(&v.lo_offloads).map_err(named)?;
    let lo_qdisc = v.lo_qdisc.map(qdisc).transpose().map_err(named)?;
    let sysctls = sysctls(v.sysctl).map_err(named)?;
    let haltpoll = values("haltpoll", v.haltpoll, true).map_err(named)?;
    let sched = values("sched", v.sched, false).map_err(named)?;
    if v.cpu_dma_latency_us.is_some_and(|us| us < 0) {
        return Err(named(invalid(
            "cpu_dma_latency_us must be 0 or more (µs)".into(),
        )));
    }
    if v.lo_mtu.is_some_and(|m| m < 68) {
        return Err(named(invalid(
            "lo_mtu must be at least 68 (IPv4's minimum)".into(),
        )));
    }
    let mut overrides = overrides(v.placement, v.engine, v.socket).map_err(named)?;
    overrides.busy_poll_us = v.busy_poll_us.or(overrides.busy_poll_us);
    Ok(Variant {
        overrides,
        settings: VariantSettings {
            lo_mtu: v.lo_mtu,
            lo_offloads,
            lo_qdisc,
            sysctls,
            cpu_dma_latency_us: v.cpu_dma_latency_us,
            idle_disable: v.idle_disable,
            idle_cpus: v.idle_cpus.unwrap_or_default(),
            haltpoll,
            sched,
            thp: v.thp,
            lo_rps_cpus: v.lo_rps_cpus,
            lo_xps_cpus: v.lo_xps_cpus,
        },
        description: v.description,
        name: v.name,
    })
}

/// `lo_offloads = { tso = false, … }`: each name must be an offload loopbench sets.
fn offloads(table: &BTreeMap<String, bool>) -> Result<BTreeMap<Offload, bool>, ConfigError> {
    table
        .iter()
        .map(|(k, &on)| {
            let f = Offload::ALL
                .into_iter()
                .find(|f| f.as_str() == k.as_str())
                .ok_or_else(|| {
                    invalid(format!(
                        "lo_offloads has '{k}'; the offloads are tso, gso, gro"
                    ))
                })?;
            Ok((f, on))
        })
        .collect()
}

/// `lo_qdisc = "fq"` or a table with the qdisc's parameters, checked.
fn qdisc(q: QdiscToml) -> Result<QdiscSpec, ConfigError> {
    let spec = match q {
        QdiscToml::Kind(kind) => QdiscSpec {
            kind,
            rate_bytes_per_sec: None,
            burst_bytes: None,
            limit: None,
            default_class: None,
        },
        QdiscToml::Table(t) => QdiscSpec {
            kind: t.kind,
            rate_bytes_per_sec: t.rate.as_deref().map(parse_rate).transpose()?,
            burst_bytes: t.burst.as_ref().map(u32_size).transpose()?,
            limit: t.limit.as_ref().map(u32_size).transpose()?,
            default_class: t.default_class,
        },
    };
    spec.validate()?;
    Ok(spec)
}

/// `sysctl = { "net.…" = value }`: known names, values as the kernel prints them (a list or a
/// number becomes text, `true` becomes `1`).
fn sysctls(table: BTreeMap<String, toml::Value>) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut out = BTreeMap::new();
    for (k, val) in table {
        crate::host::sysctl::check_name(&k)?;
        let text = match val {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => u8::from(b).to_string(),
            toml::Value::Array(a) => a
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(" "),
            other => {
                return Err(invalid(format!(
                    "sysctl {k} = {other}: give a string or a number"
                )));
            }
        };
        out.insert(k, crate::host::sysctl::normalize(&text));
    }
    Ok(out)
}

/// `haltpoll = { guest_halt_poll_ns = 200000 }`, `sched = { … }`: values as the kernel's files
/// take them: a number, a word, and a boolean as `Y`/`N` for module parameters (`yes_no`), `1`/`0`
/// otherwise.
fn values(
    key: &str,
    table: BTreeMap<String, toml::Value>,
    yes_no: bool,
) -> Result<BTreeMap<String, String>, ConfigError> {
    table
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) if yes_no => (if b { "Y" } else { "N" }).to_string(),
                toml::Value::Boolean(b) => u8::from(b).to_string(),
                other => {
                    return Err(invalid(format!(
                        "{key}.{k} = {other}: give a number or a string"
                    )));
                }
            };
            Ok((k, text))
        })
        .collect()
}

/// What the variant changes in every case: placement, engine and the `[socket]` options.
fn overrides(
    placement: Option<String>,
    engine: Option<String>,
    socket: Option<SocketToml>,
) -> Result<CaseOverrides, ConfigError> {
    let socket = socket.unwrap_or_default();
    Ok(CaseOverrides {
        placement: placement.as_deref().map(str::parse).transpose()?,
        engine: engine.as_deref().map(str::parse).transpose()?,
        sndbuf: socket.sndbuf.as_ref().map(Size::bytes).transpose()?,
        rcvbuf: socket.rcvbuf.as_ref().map(Size::bytes).transpose()?,
        notsent_lowat: socket.notsent_lowat.as_ref().map(u32_size).transpose()?,
        nodelay: socket.nodelay,
        busy_poll_us: socket.busy_poll_us,
    })
}

impl StudyFile {
    /// Parses and validates study text (no machine access besides the CPU topology).
    pub fn parse(text: &str, topology: &Topology) -> Result<StudyFile, ConfigError> {
        let raw: StudyToml = toml::from_str(text)
            .map_err(|e| invalid(format!("the study file is not valid: {e}")))?;
        if raw.variant.is_empty() && raw.sweep.is_empty() {
            return Err(invalid(
                "the study has no [[variant]] and no [[sweep]]; add at least the baseline (the \
                 first variant)"
                    .into(),
            ));
        }
        let cases = crate::workload::expand(&raw.cases.matrix(topology.default_placement())?)?;
        let mut all = raw.variant;
        let mut sweeps = Vec::new();
        for s in raw.sweep {
            let (sweep, tables) = super::sweep::expand(s)?;
            for t in tables {
                all.push(
                    toml::Value::Table(t)
                        .try_into()
                        .map_err(|e| invalid(format!("[[sweep]] {}: {e}", sweep.setting)))?,
                );
            }
            sweeps.push(sweep);
        }
        let mut variants = Vec::new();
        for v in all {
            if v.name.trim().is_empty()
                || !v
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(invalid(format!(
                    "variant name '{}': use letters, digits, '-', '_' or '.' (it names files)",
                    v.name
                )));
            }
            if variants.iter().any(|x: &Variant| x.name == v.name) {
                return Err(invalid(format!("two variants are named '{}'", v.name)));
            }
            variants.push(variant(v)?);
        }
        for v in &variants {
            for spec in v.overrides.apply(&cases) {
                crate::workload::check(&spec)
                    .map_err(|e| invalid(format!("variant '{}': {e}", v.name)))?;
            }
        }
        Ok(StudyFile {
            name: raw.name,
            description: raw.description,
            rounds: raw.rounds,
            inherit_host_sysctls: raw.inherit_host_sysctls.unwrap_or(true),
            cases,
            variants,
            sweeps,
            source: text.to_string(),
        })
    }

    /// Reads and parses a study file.
    pub fn load(path: &Path, topology: &Topology) -> Result<StudyFile> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            UsageError(format!(
                "cannot read the study file {}: {e}; see studies/*.toml for examples",
                path.display()
            ))
        })?;
        StudyFile::parse(&text, topology)
            .map_err(|e| anyhow::Error::new(e).context(format!("study file {}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUE_EXAMPLE: &str = r#"
name = "lo MTU"
[cases]
transport = ["tcp4"]
workload = ["stream"]
size = [65536]
iterations = 3
duration = "500ms"

[[variant]]
name = "default"

[[variant]]
name = "mtu1500-nooffload"
lo_mtu = 1500
lo_offloads = { tso = false, gso = false }
sysctl = { "net.ipv4.tcp_rmem" = "4096 131072 6291456" }
"#;

    fn parse(text: &str) -> Result<StudyFile, ConfigError> {
        StudyFile::parse(text, &Topology::detect())
    }

    #[test]
    fn every_shipped_study_parses() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("studies");
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let s = parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(s.variants.len() >= 2, "{}", path.display());
            names.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
        for shipped in [
            "busy-poll.toml",
            "idle-states.toml",
            "lo-mtu.toml",
            "rps-lo.toml",
        ] {
            assert!(names.iter().any(|n| n == shipped), "{shipped} in {names:?}");
        }
    }

    #[test]
    fn the_issue_example_parses() {
        let s = parse(ISSUE_EXAMPLE).unwrap();
        assert_eq!(s.name, "lo MTU");
        assert_eq!(s.cases.len(), 1);
        assert_eq!(s.cases[0].size, 65536);
        assert_eq!(s.cases[0].timing.iterations, 3);
        assert_eq!(s.variants.len(), 2);
        let v = &s.variants[1].settings;
        assert_eq!(v.lo_mtu, Some(1500));
        assert_eq!(v.lo_offloads.get(&Offload::Tso), Some(&false));
        assert_eq!(v.sysctls["net.ipv4.tcp_rmem"], "4096 131072 6291456");
        assert!(s.inherit_host_sysctls);
    }

    #[test]
    fn lists_and_scalars_and_units_are_accepted() {
        let s = parse(
            r#"
name = "x"
[cases]
transport = "udp4"
size = [64, "1k"]
count = 100
[[variant]]
name = "a"
[[variant]]
name = "b"
engine = "spin"
socket = { sndbuf = "1M", notsent_lowat = 16384 }
lo_qdisc = { kind = "tbf", rate = "10gbit", burst = "256k" }
sysctl = { "net.unix.max_dgram_qlen" = 512 }
"#,
        )
        .unwrap();
        assert_eq!(s.cases.len(), 2);
        assert_eq!(s.cases[1].size, 1024);
        let b = &s.variants[1];
        assert_eq!(b.overrides.sndbuf, Some(1 << 20));
        assert_eq!(b.settings.sysctls["net.unix.max_dgram_qlen"], "512");
        let q = b.settings.lo_qdisc.as_ref().unwrap();
        assert_eq!(q.rate_bytes_per_sec, Some(1_250_000_000));
    }

    #[test]
    fn mistakes_are_named() {
        let cases = "name = \"x\"\n[cases]\ntransport = \"tcp4\"\n";
        let err = |extra: &str| parse(&format!("{cases}{extra}")).unwrap_err().to_string();
        assert!(err("").contains("no [[variant]] and no [[sweep]]"));
        assert!(err("[[variant]]\nname = \"a\"\nlo_mtu = 10\n").contains("at least 68"));
        assert!(
            err("[[variant]]\nname = \"a\"\nlo_offloads = { lro = false }\n")
                .contains("tso, gso, gro")
        );
        assert!(err("[[variant]]\nname = \"a\"\nbogus = 1\n").contains("bogus"));
        assert!(
            err("[[variant]]\nname = \"a\"\n[[variant]]\nname = \"a\"\n").contains("two variants")
        );
        assert!(err("[[variant]]\nname = \"a b\"\n").contains("variant name"));
        assert!(
            err("[[variant]]\nname = \"a\"\nsysctl = { \"net/x\" = 1 }\n").contains("sysctl name")
        );
        assert!(
            err("[[variant]]\nname = \"a\"\nlo_qdisc = { kind = \"tbf\" }\n")
                .contains("needs rate")
        );
        assert!(err("[[variant]]\nname = \"a\"\nengine = \"warp\"\n").contains("variant 'a'"));
    }

    #[test]
    fn host_knobs_and_busy_polling_parse() {
        let s = parse(
            r#"
name = "idle"
[cases]
transport = "tcp4"
[[variant]]
name = "base"
[[variant]]
name = "knobs"
cpu_dma_latency_us = 0
idle_disable = ["deepest", "POLL"]
idle_cpus = "all"
haltpoll = { guest_halt_poll_ns = 200000, guest_halt_poll_allow_shrink = false }
sched = { migration_cost_ns = 500000 }
thp = "never"
lo_rps_cpus = "3"
busy_poll_us = 50
sysctl = { "net.core.busy_read" = 50 }
"#,
        )
        .unwrap();
        let v = &s.variants[1];
        assert_eq!(v.settings.idle_disable, ["deepest", "POLL"]);
        assert_eq!(v.settings.idle_cpus, IdleCpus::All);
        assert_eq!(v.settings.haltpoll["guest_halt_poll_ns"], "200000");
        assert_eq!(v.settings.haltpoll["guest_halt_poll_allow_shrink"], "N");
        assert_eq!(v.settings.sched["migration_cost_ns"], "500000");
        assert_eq!(v.settings.thp.as_deref(), Some("never"));
        assert_eq!(v.settings.lo_rps_cpus.as_deref(), Some("3"));
        assert_eq!(v.overrides.busy_poll_us, Some(50));
        assert_eq!(v.overrides.apply(&s.cases)[0].socket.busy_poll_us, Some(50));
        let err = parse(
            "name = \"x\"\n[cases]\ntransport = \"unix-stream\"\n[[variant]]\nname = \"a\"\nbusy_poll_us = 5\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("TCP and UDP"), "{err}");
        let err = parse("name = \"x\"\n[cases]\ntransport = \"tcp4\"\n[[variant]]\nname = \"a\"\nidle_cpus = \"some\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("idle_cpus"), "{err}");
    }

    #[test]
    fn a_sweep_expands_into_variants_after_the_listed_ones() {
        let s = parse(
            r#"
name = "busy poll"
[cases]
transport = "tcp4"
[[variant]]
name = "default"
[[sweep]]
setting = "net.core.busy_read"
values = [0, 50, 100]
sysctl = { "net.core.busy_poll" = 50 }
[[sweep]]
setting = "busy_poll_us"
from = 25
to = 75
step = 25
"#,
        )
        .unwrap();
        let names: Vec<&str> = s.variants.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "default",
                "busy_read-0",
                "busy_read-50",
                "busy_read-100",
                "busy_poll_us-25",
                "busy_poll_us-50",
                "busy_poll_us-75"
            ]
        );
        assert_eq!(s.variants[2].settings.sysctls["net.core.busy_read"], "50");
        assert_eq!(s.variants[2].settings.sysctls["net.core.busy_poll"], "50");
        assert_eq!(s.variants[5].overrides.busy_poll_us, Some(50));
        assert_eq!(s.sweeps.len(), 2);
        assert_eq!(s.sweeps[1].points[2].variant, "busy_poll_us-75");
        let err = parse(
            "name = \"x\"\n[cases]\ntransport = \"tcp4\"\n[[sweep]]\nsetting = \"lo_mtu\"\nvalues = [1500, 9000]\nbogus = 1\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("bogus"), "{err}");
    }

    #[test]
    fn rates_parse_in_tc_units() {
        assert_eq!(parse_rate("8bit").unwrap(), 1);
        assert_eq!(parse_rate("10gbit").unwrap(), 1_250_000_000);
        assert_eq!(parse_rate("100mbps").unwrap(), 100_000_000);
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("0gbit").is_err());
    }
}
