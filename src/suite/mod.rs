//! Suites: curated matrices kept as data. A suite is a TOML file (the built-in ones live in
//! `suites/` and are compiled into the binary) with a `[defaults]` table and a list of
//! `[[cases]]` tables; every `[[cases]]` table is a matrix with the command line's spellings and
//! inherits what it does not set from `[defaults]`:
//!
//! ```toml
//! description = "..."
//! [defaults]
//! iterations = 5
//! duration = "500ms"
//! [[cases]]
//! transport = ["shm", "pipe", "tcp4"]
//! engine = ["blocking", "spin"]
//! placement = ["same-core", "cross-core"]
//! size = [64, "1KiB"]
//! ```
//!
//! Adding a workload to a suite (a `stream` size sweep, a `crr` case) is one more `[[cases]]`
//! table: the values are parsed by the same code as the command line's flags.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::error::{ConfigError, UsageError};
use crate::host::topology::Topology;
use crate::spec::Spec;
use crate::spec::case_options::CaseOptions;

/// The built-in suites, in order of size: name and TOML text.
pub const BUILTIN: &[(&str, &str)] = &[
    ("quick", include_str!("../../suites/quick.toml")),
    ("standard", include_str!("../../suites/standard.toml")),
    ("full", include_str!("../../suites/full.toml")),
    (
        "kernel-paths",
        include_str!("../../suites/kernel-paths.toml"),
    ),
];

/// The suite `loopbench suite` runs when none is named.
pub const DEFAULT_SUITE: &str = "quick";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuiteFile {
    description: Option<String>,
    #[serde(default)]
    defaults: CaseOptions,
    cases: Vec<CaseOptions>,
}

/// A parsed suite.
#[derive(Clone, Debug)]
pub struct Suite {
    /// Its name: the built-in name or the file's stem.
    pub name: String,
    /// What it answers, from the file.
    pub description: String,
    defaults: CaseOptions,
    entries: Vec<CaseOptions>,
}

/// The cases of a suite on this machine.
#[derive(Clone, Debug, Default)]
pub struct Expanded {
    /// Every case to run.
    pub specs: Vec<Spec>,
    /// Cases left out because this machine cannot place them, one entry per placement.
    pub skipped: Vec<Skipped>,
}

/// Cases of one placement this machine cannot satisfy.
#[derive(Clone, Debug)]
pub struct Skipped {
    /// The placement.
    pub placement: crate::spec::Placement,
    /// Why the machine cannot satisfy it.
    pub reason: String,
    /// The cases left out.
    pub cases: Vec<crate::spec::CaseId>,
}

impl Skipped {
    /// As run.json records it.
    pub fn record(&self) -> crate::store::record::SkippedCases {
        crate::store::record::SkippedCases {
            placement: Some(self.placement.to_string()),
            reason: self.reason.clone(),
            cases: self.cases.iter().map(|c| c.to_string()).collect(),
        }
    }
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} case(s) at {}: {}",
            self.cases.len(),
            self.placement,
            self.reason
        )
    }
}

impl Suite {
    /// A built-in suite by name.
    pub fn builtin(name: &str) -> Result<Suite> {
        let (name, text) = BUILTIN.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            UsageError(format!(
                "unknown suite '{name}'; the built-in suites are {}, or give your own with --suite-file PATH",
                BUILTIN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ))
        })?;
        Suite::parse(name, text).with_context(|| format!("built-in suite {name}"))
    }

    /// A suite from a TOML file; its name is the file's stem.
    pub fn from_file(path: &Path) -> Result<Suite> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            UsageError(format!(
                "cannot read the suite file {}: {e}",
                path.display()
            ))
        })?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Suite::parse(&name, &text).with_context(|| format!("suite file {}", path.display()))
    }

    /// Parses a suite's TOML text and checks every value (not yet the machine's placements).
    pub fn parse(name: &str, text: &str) -> Result<Suite> {
        let file: SuiteFile =
            toml::from_str(text).map_err(|e| UsageError(format!("not a valid suite: {e}")))?;
        if file.cases.is_empty() {
            return Err(UsageError("a suite needs at least one [[cases]] table".into()).into());
        }
        let suite = Suite {
            name: name.to_string(),
            description: file.description.unwrap_or_default(),
            defaults: file.defaults,
            entries: file.cases,
        };
        for i in 0..suite.entries.len() {
            suite.entry_specs(i, &Topology::default())?;
        }
        Ok(suite)
    }

    fn entry_specs(&self, i: usize, topology: &Topology) -> Result<Vec<Spec>> {
        let options = self.entries[i].over(&self.defaults);
        let specs = match options.transport {
            None => Err(ConfigError::Invalid(
                "a [[cases]] table needs a transport (or one in [defaults])".into(),
            )),
            Some(_) => options
                .matrix(topology.default_placement())
                .and_then(|m| crate::workload::expand(&m)),
        };
        specs.with_context(|| format!("[[cases]] table {}", i + 1))
    }

    /// The notes of the `[[cases]]` tables that have one.
    pub fn notes(&self) -> Vec<String> {
        self.entries.iter().filter_map(|e| e.note.clone()).collect()
    }

    /// Every case of the suite that this machine can place; the others are listed as skipped.
    pub fn expand(&self, topology: &Topology) -> Result<Expanded> {
        let mut out = Expanded::default();
        for i in 0..self.entries.len() {
            for spec in self.entry_specs(i, topology)? {
                crate::workload::check(&spec).with_context(|| {
                    format!("[[cases]] table {}: case {}", i + 1, spec.case_id())
                })?;
                match topology.resolve(spec.placement) {
                    Ok(_) => {
                        if !out.specs.iter().any(|s| s.case_id() == spec.case_id()) {
                            out.specs.push(spec);
                        }
                    }
                    Err(e) => match out
                        .skipped
                        .iter_mut()
                        .find(|s| s.placement == spec.placement)
                    {
                        Some(s) => s.cases.push(spec.case_id()),
                        None => out.skipped.push(Skipped {
                            placement: spec.placement,
                            reason: e.to_string(),
                            cases: vec![spec.case_id()],
                        }),
                    },
                }
            }
        }
        Ok(out)
    }
}

impl Expanded {
    /// Adds a traced twin (`--trace`, kernel stages) after every stamped case (`--stages`) the
    /// tracer can follow, for suites run as root; returns how many it added.
    pub fn trace_stamped(&mut self) -> usize {
        let ids: Vec<_> = self.specs.iter().map(Spec::case_id).collect();
        let mut out = Vec::with_capacity(self.specs.len());
        let mut added = 0;
        for spec in self.specs.drain(..) {
            let mut traced = spec.clone();
            traced.probes.trace = true;
            let twin = spec.instrument.stages
                && !spec.probes.trace
                && traced.validate().is_ok()
                && !ids.contains(&traced.case_id());
            out.push(spec);
            if twin {
                out.push(traced);
                added += 1;
            }
        }
        self.specs = out;
        added
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{EngineKind, IterationLength, Placement};

    fn two_cores() -> Topology {
        let cpu = |id: usize| crate::host::topology::Cpu {
            id,
            core_id: id as i64,
            package_id: 0,
            node: 0,
            siblings: vec![id],
        };
        Topology {
            cpus: vec![cpu(0), cpu(1)],
            online: vec![0, 1],
        }
    }

    #[test]
    fn every_builtin_suite_parses_and_quick_holds_the_anatomy_cases() {
        for (name, _) in BUILTIN {
            let s = Suite::builtin(name).unwrap();
            assert!(!s.description.is_empty(), "{name}");
            assert!(!s.expand(&two_cores()).unwrap().specs.is_empty(), "{name}");
        }
        let quick = Suite::builtin("quick")
            .unwrap()
            .expand(&two_cores())
            .unwrap();
        let ids: Vec<String> = quick.specs.iter().map(|s| s.case_id().0).collect();
        for t in ["shm", "pipe", "unix-stream", "udp4", "tcp4"] {
            for e in ["blocking", "spin"] {
                for p in ["same-core", "cross-core"] {
                    let id = format!("{t}-rr-{e}-{p}-64B");
                    assert!(ids.contains(&id), "quick lacks {id}: {ids:?}");
                }
            }
        }
        let spin_same = quick
            .specs
            .iter()
            .find(|s| s.engine == EngineKind::Spin && s.placement == Placement::SameCore)
            .unwrap();
        assert!(
            matches!(spin_same.timing.length, IterationLength::Count { .. }),
            "spin at same-core takes ~8 ms per round trip: it must be short, by count"
        );
    }

    #[test]
    fn quick_stamps_the_kernel_paths_and_as_root_traces_them_too() {
        let mut quick = Suite::builtin("quick")
            .unwrap()
            .expand(&two_cores())
            .unwrap();
        let stamped: Vec<String> = quick
            .specs
            .iter()
            .filter(|s| s.instrument.stages)
            .map(|s| s.case_id().0)
            .collect();
        for t in ["unix-stream", "udp4", "tcp4"] {
            for p in ["same-core", "cross-core"] {
                let id = format!("{t}-rr-blocking-{p}-64B-stages");
                assert!(stamped.contains(&id), "quick lacks {id}: {stamped:?}");
            }
        }
        let before = quick.specs.len();
        assert_eq!(quick.trace_stamped(), stamped.len());
        assert_eq!(quick.specs.len(), before + stamped.len());
        for id in &stamped {
            let at = quick
                .specs
                .iter()
                .position(|s| s.case_id().0 == *id)
                .unwrap();
            assert_eq!(quick.specs[at + 1].case_id().0, format!("{id}-trace"));
        }
        assert_eq!(quick.trace_stamped(), 0, "twins are added once");
        // A stamped case the tracer cannot follow (two flows) gets no twin.
        let mut two = Expanded::default();
        let mut spec = quick.specs[0].clone();
        spec.instrument.stages = true;
        spec.flows = 2;
        two.specs.push(spec);
        assert_eq!(two.trace_stamped(), 0);
    }

    #[test]
    fn entries_inherit_defaults_and_lists_take_numbers_and_comma_strings() {
        let s = Suite::parse(
            "t",
            r#"
            [defaults]
            transport = "tcp4,udp4"
            iterations = 3
            count = 100
            [[cases]]
            size = [64, "1KiB"]
            placement = "same-core"
            [[cases]]
            transport = ["pipe"]
            duration = "200ms"
            placement = "same-core"
            "#,
        )
        .unwrap();
        let specs = s.expand(&two_cores()).unwrap().specs;
        assert_eq!(specs.len(), 5);
        assert_eq!(specs[1].size, 1024);
        assert!(specs.iter().all(|s| s.timing.iterations == 3));
        assert_eq!(
            specs[0].timing.length,
            IterationLength::Count { messages: 100 }
        );
        assert_eq!(
            specs[4].timing.length,
            IterationLength::Duration {
                duration_ns: 200_000_000
            },
            "an entry's duration replaces the default count"
        );
    }

    #[test]
    fn bad_suites_are_usage_errors_that_name_the_problem() {
        let err = |text: &str| {
            let e = Suite::parse("t", text).unwrap_err();
            assert!(crate::error::is_usage_error(&e), "{e:#}");
            format!("{e:#}")
        };
        assert!(err("[[cases]]\ntransprt = \"tcp4\"").contains("transprt"));
        assert!(err("[[cases]]\ntransport = \"tcp5\"").contains("tcp5"));
        assert!(
            err("[[cases]]\ntransport = \"tcp4\"\ncount = 5\nduration = \"1s\"")
                .contains("not both")
        );
        assert!(err("description = \"x\"\ncases = []").contains("at least one"));
        assert!(err("[[cases]]\nengine = \"spin\"").contains("needs a transport"));
        assert!(err("[[cases]\n").contains("not a valid suite"));
        let unknown = Suite::builtin("quik").unwrap_err();
        assert!(crate::error::is_usage_error(&unknown));
        assert!(
            format!("{unknown}").contains("quick, standard, full"),
            "{unknown}"
        );
    }

    #[test]
    fn placements_the_machine_lacks_are_skipped_with_the_reason() {
        let s = Suite::parse(
            "t",
            "[[cases]]\ntransport = \"pipe\"\nplacement = [\"same-core\", \"cross-node\"]",
        )
        .unwrap();
        let e = s.expand(&two_cores()).unwrap();
        assert_eq!(e.specs.len(), 1);
        assert_eq!(e.skipped.len(), 1);
        let text = e.skipped[0].to_string();
        assert!(
            text.starts_with("1 case(s) at cross-node: placement cross-node: needs"),
            "{text}"
        );
        let recorded = e.skipped[0].record();
        assert_eq!(recorded.placement.as_deref(), Some("cross-node"));
        assert_eq!(recorded.reason, e.skipped[0].reason);
        assert_eq!(recorded.cases, vec![e.skipped[0].cases[0].to_string()]);
        assert!(recorded.cases[0].contains("cross-node"), "{recorded:?}");
    }
}
