//! Running a study: check every variant in a throwaway namespace before anything is measured,
//! then run the rounds (one child process and namespace per variant and round), journal and
//! restore host-wide changes, check the host is as it was, and write the report.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime};

use anyhow::{Context, Result, bail};

use super::cpucost;
use super::file::StudyFile;
use super::hostcheck::HostSnapshot;
use super::hostknobs;
use super::journal::HostChanges;
use super::namespace;
pub use super::options::{DEFAULT_ROUNDS, MAX_ROUNDS, Prepared, PreparedVariant, StudyOptions};
use super::record::{RunStatus, STUDY_SCHEMA_VERSION, StudyRecord, StudyRun, write_json};
use super::rounds::Rounds;
use super::schedule::schedule;
use crate::error::{ConfigError, UsageError};
use crate::host::environment::{Environment, RECORDED_SYSCTLS};
use crate::host::knob::KnobFile;
use crate::host::sysctl;
use crate::host::topology::Topology;
use crate::loopback::netns::with_private;
use crate::run::plan::Plan;
use crate::spec::Spec;
use crate::store::new_run_id;

/// Checks everything that can be checked before measuring: sysctl scopes, host-change permission,
/// every variant's namespace settings applied and read back in a throwaway namespace, and every
/// variant's cases planned. A variant that cannot be applied is refused here.
pub fn prepare(study: &StudyFile, opts: &StudyOptions) -> Result<Prepared> {
    let rounds = opts.rounds.or(study.rounds).unwrap_or(DEFAULT_ROUNDS);
    if !(1..=MAX_ROUNDS).contains(&rounds) {
        bail!(ConfigError::Invalid(format!(
            "--rounds must be at least 1 and at most {MAX_ROUNDS} (the file's `rounds` too), not \
             {rounds}"
        )));
    }
    // Host changes of a study that did not finish (or of one still running) come first: no
    // study measures on a host in that state.
    super::journal::check_free(&opts.journal)?;
    for v in &study.variants {
        for name in v.settings.sysctls.keys() {
            super::allowlist::check_outside_net(&v.name, name)?;
        }
    }
    let names: BTreeSet<String> = study
        .variants
        .iter()
        .flat_map(|v| v.settings.sysctls.keys().cloned())
        .chain(RECORDED_SYSCTLS.iter().map(|s| s.to_string()))
        .collect();
    let (per_ns, writable_in_ns): (BTreeSet<String>, BTreeSet<String>) = with_private(|_| {
        let per_ns: BTreeSet<String> = names
            .iter()
            .filter(|n| sysctl::is_per_namespace(n))
            .cloned()
            .collect();
        let writable = per_ns
            .iter()
            .filter(|n| sysctl::is_writable(n))
            .cloned()
            .collect();
        Ok((per_ns, writable))
    })
    .context("a study runs every variant in a private network namespace")?;
    let inherit = if study.inherit_host_sysctls {
        RECORDED_SYSCTLS
            .iter()
            .filter(|n| writable_in_ns.contains(**n))
            .filter_map(|n| Some((n.to_string(), sysctl::read(n)?)))
            .collect()
    } else {
        BTreeMap::new()
    };
    let mut checks = vec![format!(
        "private network namespaces: available; {} host net sysctl(s) copied into each",
        inherit.len()
    )];
    let topology = Topology::detect();
    let mut variants = Vec::new();
    for v in &study.variants {
        let (namespace, mut host) = v.settings.split(&|n| per_ns.contains(n));
        for name in host.sysctls.keys() {
            // A name the kernel does not have is said as such before the allowlist speaks.
            if sysctl::read(name).is_none() {
                bail!(ConfigError::Invalid(format!(
                    "variant '{}': sysctl {name} does not exist on this kernel",
                    v.name
                )));
            }
            super::allowlist::check(&v.name, name)?;
        }
        let specs = v.overrides.apply(&study.cases);
        Plan::new(specs.clone(), &topology, 0, true)
            .map_err(|e| ConfigError::Invalid(format!("variant '{}': {e}", v.name)))?;
        let workers = cpucost::worker_cpus(&specs, &topology);
        host.files = hostknobs::resolve(&v.settings, &workers, &topology.online)
            .map_err(|e| ConfigError::Invalid(format!("variant '{}': {e}", v.name)))?;
        if !host.is_empty() && !opts.allow_host_changes {
            bail!(ConfigError::Invalid(format!(
                "variant '{}' changes host-wide settings ({}): they have no per-namespace copy. \
                 Rerun with --allow-host-changes (previous values are journaled and restored), \
                 or drop them from the variant",
                v.name,
                host.names().join(", ")
            )));
        }
        let applied = with_private(|ns| {
            namespace::inherit(ns, &inherit)?;
            namespace::apply(ns, &namespace)
        })
        .with_context(|| format!("variant '{}' refused before anything ran", v.name))?;
        checks.push(format!(
            "variant {}: {} namespace setting(s) applied and read back{}",
            v.name,
            applied.len(),
            if host.is_empty() {
                String::new()
            } else {
                format!(", {} host-wide", host.names().len())
            }
        ));
        variants.push(PreparedVariant {
            specs,
            namespace,
            host,
        });
    }
    if variants.iter().any(|v| !v.host.is_empty()) {
        let daemons = crate::host::procs::running_named(crate::host::procs::TUNING_DAEMONS);
        if !daemons.is_empty() && !opts.force {
            bail!(UsageError(format!(
                "refusing host changes while {} runs: it retunes the host and may fight or undo \
                 the study's settings. Stop it, or pass --force",
                crate::host::procs::describe(&daemons)
            )));
        }
        super::journal::check_free(&opts.journal)?;
        checks.push(format!(
            "host changes: allowed, journal {}",
            opts.journal.display()
        ));
    }
    Ok(Prepared {
        variants,
        inherit,
        checks,
    })
}

fn slug(name: &str) -> String {
    let s: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    s.split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Runs the study; `progress` gets one line per event. Returns the study directory and record.
pub fn execute(
    study: &StudyFile,
    prepared: &Prepared,
    opts: &StudyOptions,
    interrupt: &AtomicBool,
    progress: &mut dyn FnMut(&str),
) -> Result<(PathBuf, StudyRecord)> {
    let started = SystemTime::now();
    let study_id = format!("{}-{}", new_run_id(started), slug(&study.name));
    let dir = opts.output.join("studies").join(&study_id);
    std::fs::create_dir_all(&dir).map_err(|e| {
        UsageError(format!(
            "cannot create {}: {e}; choose a writable --output directory",
            dir.display()
        ))
    })?;
    let seed = opts.seed.unwrap_or_else(rand::random);
    let rounds = opts.rounds.or(study.rounds).unwrap_or(DEFAULT_ROUNDS);
    let slots = schedule(study.variants.len(), rounds, seed);
    let host_before = HostSnapshot::capture()?;
    let host_environment = Environment::capture();
    let mut record = StudyRecord {
        schema_version: STUDY_SCHEMA_VERSION,
        study_id: study_id.clone(),
        name: study.name.clone(),
        description: study.description.clone(),
        file: opts.file.clone(),
        source: study.source.clone(),
        started_at: now(),
        finished_at: None,
        complete: false,
        interrupted: false,
        seed,
        rounds,
        inherit_host_sysctls: study.inherit_host_sysctls,
        cases: study.cases.iter().map(Spec::case_id).collect(),
        variants: study.variants.clone(),
        sweeps: study.sweeps.clone(),
        runs: slots
            .iter()
            .map(|s| StudyRun {
                round: s.round,
                variant: study.variants[s.variant].name.clone(),
                run_seed: s.run_seed,
                status: RunStatus::Pending,
                run_id: None,
                error: None,
            })
            .collect(),
        host_environment: host_environment.clone(),
        host_differences: None,
        journal: None,
        host_restore: Vec::new(),
        precision: None,
    };
    let study_json = dir.join("study.json");
    write_json(&study_json, &record)?;
    let host_names: BTreeSet<String> = prepared
        .variants
        .iter()
        .flat_map(|v| v.host.sysctls.keys().cloned())
        .collect();
    let host_files: BTreeSet<KnobFile> = prepared
        .variants
        .iter()
        .flat_map(|v| v.host.files.iter().map(|w| w.file.clone()))
        .collect();
    let uses_dma = prepared
        .variants
        .iter()
        .any(|v| v.host.cpu_dma_latency_us.is_some());
    let mut host = if host_names.is_empty() && host_files.is_empty() && !uses_dma {
        None
    } else {
        record.journal = Some(opts.journal.clone());
        Some(HostChanges::begin(
            &opts.journal,
            &study_id,
            &host_names,
            &host_files,
            uses_dma,
        )?)
    };
    let mut rounds = Rounds {
        study,
        prepared,
        opts,
        record: &mut record,
        host: &mut host,
        dir: &dir,
        interrupt,
        progress,
    };
    let measuring = Instant::now();
    let mut result = rounds.run(&slots, 0);
    if let (Ok(()), Some(request)) = (&result, opts.precision) {
        result = rounds.until_precise(request, measuring);
    }
    if let Some(mut h) = host.take() {
        match h.restore() {
            Ok(lines) => record.host_restore = lines,
            Err(e) => record.host_restore = vec![format!("FAILED: {e:#}")],
        }
    }
    let host_after = HostSnapshot::capture()?;
    record.host_differences = Some(host_after.differences(&host_before));
    record.interrupted = interrupt.load(Ordering::SeqCst);
    record.complete = record.runs.iter().all(|r| r.status == RunStatus::Done);
    record.finished_at = Some(now());
    write_json(&study_json, &record)?;
    result?;
    super::report::write(&dir)?;
    Ok((dir, record))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn study_ids_are_slugged() {
        assert_eq!(slug("lo MTU: 65536 vs 1500"), "lo-mtu-65536-vs-1500");
    }
}
