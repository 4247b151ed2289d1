//! A variant's host-wide knobs resolved to the files they change on this machine: idle states
//! (`idle_disable`, on the workers' CPUs or all), guest haltpoll parameters (`haltpoll`),
//! scheduler tunables (`sched`) and transparent huge pages (`thp`). A knob this kernel or machine
//! does not have refuses the variant, naming the file it looked for; so does one whose file
//! cannot be read (every value is read back, so an unreadable one cannot be set).

use std::path::{Path, PathBuf};

use super::settings::{HostWrite, IdleCpus, VariantSettings};
use crate::error::ConfigError;
use crate::host::cpuidle;
use crate::host::knob::{DEBUGFS, Form, KnobFile};

/// The guest haltpoll parameters.
pub const HALTPOLL: &str = "/sys/module/haltpoll/parameters";

/// Transparent huge pages.
pub const THP: &str = "/sys/kernel/mm/transparent_hugepage/enabled";

/// Where scheduler tunables live.
pub const SCHED_DIRS: [&str; 2] = ["/sys/kernel/debug/sched", "/proc/sys/kernel"];

/// Names of files a study may name: letters, digits and `_` (no path can escape its directory).
fn check_file_name(key: &str, name: &str) -> Result<(), ConfigError> {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(ConfigError::Invalid(format!(
            "{key}.{name}: write the name of a file (letters, digits and _)"
        )))
    }
}

/// A knob file that must exist and be readable now.
fn present(key: &str, file: KnobFile) -> Result<KnobFile, ConfigError> {
    if !file.exists() {
        return Err(ConfigError::Invalid(format!(
            "{key}: {} does not exist on this kernel or machine",
            file.path.display()
        )));
    }
    file.read()
        .map_err(|e| ConfigError::Invalid(format!("{key}: {e:#}")))?;
    Ok(file)
}

/// The files a scheduler tunable `name` may be: /sys/kernel/debug/sched/NAME,
/// /proc/sys/kernel/sched_NAME, /proc/sys/kernel/NAME (when NAME starts with `sched_`).
pub fn sched_candidates(name: &str) -> Vec<PathBuf> {
    let mut out = vec![
        Path::new(SCHED_DIRS[0]).join(name),
        Path::new(SCHED_DIRS[1]).join(format!("sched_{name}")),
    ];
    if name.starts_with("sched_") {
        out.push(Path::new(SCHED_DIRS[1]).join(name));
    }
    out
}

fn sched_file(name: &str) -> Result<KnobFile, ConfigError> {
    check_file_name("sched", name)?;
    let candidates = sched_candidates(name);
    let key = format!("sched.{name}");
    match candidates.iter().find(|p| KnobFile::plain(*p).exists()) {
        Some(p) => present(&key, KnobFile::plain(p)),
        None => Err(ConfigError::Invalid(format!(
            "{key}: this kernel has no such scheduler tunable (looked for {}{})",
            candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            if Path::new(DEBUGFS).join("sched").exists() {
                ""
            } else {
                "; debugfs is reached through a private mount when not mounted"
            }
        ))),
    }
}

/// The CPUs whose idle states the variant changes.
fn idle_cpus(s: &VariantSettings, workers: &[usize], online: &[usize]) -> Vec<usize> {
    match s.idle_cpus {
        IdleCpus::All => online.to_vec(),
        IdleCpus::Workers if workers.is_empty() => online.to_vec(),
        IdleCpus::Workers => workers.to_vec(),
    }
}

/// Resolves the variant's host-wide knobs under the idle-state root `cpu_root` (normally
/// [`cpuidle::CPU_ROOT`]). `workers` are the CPUs its cases are pinned to (empty: a case is not
/// pinned, so every CPU), `online` every online CPU. Each file is read now: absent or unreadable
/// refuses the variant.
pub fn resolve_in(
    cpu_root: &Path,
    s: &VariantSettings,
    workers: &[usize],
    online: &[usize],
) -> Result<Vec<HostWrite>, ConfigError> {
    let mut out = Vec::new();
    for cpu in idle_cpus(s, workers, online) {
        for name in &s.idle_disable {
            let state = cpuidle::find_in(cpu_root, cpu, name)?;
            out.push(HostWrite {
                label: format!("cpu{cpu} idle state '{}' disable", state.name),
                file: present("idle_disable", state.disable())?,
                wanted: "1".into(),
            });
        }
    }
    for (name, value) in &s.haltpoll {
        check_file_name("haltpoll", name)?;
        out.push(HostWrite {
            label: format!("haltpoll {name}"),
            file: present(
                &format!("haltpoll.{name}"),
                KnobFile::plain(Path::new(HALTPOLL).join(name)),
            )?,
            wanted: value.clone(),
        });
    }
    for (name, value) in &s.sched {
        out.push(HostWrite {
            label: format!("sched {name}"),
            file: sched_file(name)?,
            wanted: value.clone(),
        });
    }
    if let Some(mode) = &s.thp {
        let file = present(
            "thp",
            KnobFile {
                path: THP.into(),
                form: Form::Selected,
            },
        )?;
        let choices = std::fs::read_to_string(THP).unwrap_or_default();
        let known = choices
            .split_whitespace()
            .any(|c| c.trim_matches(['[', ']']) == mode);
        if !known {
            return Err(ConfigError::Invalid(format!(
                "thp = \"{mode}\": {THP} offers {}",
                choices.trim()
            )));
        }
        out.push(HostWrite {
            label: "thp enabled".into(),
            file,
            wanted: mode.clone(),
        });
    }
    Ok(out)
}

/// [`resolve_in`] on this machine's /sys.
pub fn resolve(
    s: &VariantSettings,
    workers: &[usize],
    online: &[usize],
) -> Result<Vec<HostWrite>, ConfigError> {
    resolve_in(Path::new(cpuidle::CPU_ROOT), s, workers, online)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_cpus() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for cpu in 0..3 {
            for (k, name) in ["POLL", "C1", "C6"].iter().enumerate() {
                let d = dir.path().join(format!("cpu{cpu}/cpuidle/state{k}"));
                std::fs::create_dir_all(&d).unwrap();
                std::fs::write(d.join("name"), name).unwrap();
                std::fs::write(d.join("disable"), "0\n").unwrap();
            }
        }
        dir
    }

    #[test]
    fn idle_states_resolve_on_the_workers_cpus_or_all() {
        let root = fake_cpus();
        let mut s = VariantSettings {
            idle_disable: vec!["deepest".into(), "C1".into()],
            ..Default::default()
        };
        let w = resolve_in(root.path(), &s, &[0, 2], &[0, 1, 2]).unwrap();
        let labels: Vec<&str> = w.iter().map(|w| w.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "cpu0 idle state 'C6' disable",
                "cpu0 idle state 'C1' disable",
                "cpu2 idle state 'C6' disable",
                "cpu2 idle state 'C1' disable"
            ]
        );
        assert!(w[0].file.path.ends_with("cpu0/cpuidle/state2/disable"));
        assert!(w.iter().all(|w| w.wanted == "1"));
        s.idle_cpus = IdleCpus::All;
        assert_eq!(
            resolve_in(root.path(), &s, &[0], &[0, 1, 2]).unwrap().len(),
            6
        );
        s.idle_cpus = IdleCpus::Workers;
        assert_eq!(
            resolve_in(root.path(), &s, &[], &[0, 1, 2]).unwrap().len(),
            6,
            "unpinned cases run anywhere"
        );
    }

    #[test]
    fn absent_knobs_are_refused_naming_the_path() {
        let root = fake_cpus();
        let s = VariantSettings {
            idle_disable: vec!["C9".into()],
            ..Default::default()
        };
        let e = resolve_in(root.path(), &s, &[1], &[0, 1])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cpu1/cpuidle/state*/name") && e.contains("C9"),
            "{e}"
        );
        let s = VariantSettings {
            haltpoll: [("no_such_parameter".to_string(), "1".to_string())].into(),
            ..Default::default()
        };
        let e = resolve_in(root.path(), &s, &[], &[0])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/sys/module/haltpoll/parameters/no_such_parameter"),
            "{e}"
        );
        let s = VariantSettings {
            sched: [("no_such_tunable".to_string(), "1".to_string())].into(),
            ..Default::default()
        };
        let e = resolve_in(root.path(), &s, &[], &[0])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/sys/kernel/debug/sched/no_such_tunable")
                && e.contains("/proc/sys/kernel/sched_no_such_tunable"),
            "{e}"
        );
        let s = VariantSettings {
            haltpoll: [("../../x".to_string(), "1".to_string())].into(),
            ..Default::default()
        };
        let e = resolve_in(root.path(), &s, &[], &[0])
            .unwrap_err()
            .to_string();
        assert!(e.contains("name of a file"), "{e}");
    }

    #[test]
    fn scheduler_tunables_are_found_under_proc_sys_kernel() {
        assert_eq!(
            sched_candidates("sched_autogroup_enabled")[2],
            Path::new("/proc/sys/kernel/sched_autogroup_enabled")
        );
        if Path::new("/proc/sys/kernel/sched_rr_timeslice_ms").exists() {
            let f = sched_file("rr_timeslice_ms").unwrap();
            assert_eq!(f.path, Path::new("/proc/sys/kernel/sched_rr_timeslice_ms"));
        }
    }
}
