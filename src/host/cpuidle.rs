//! The CPUs' idle states (/sys/devices/system/cpu/cpuN/cpuidle/stateK): their names, the
//! `disable` file a study sets, and the time spent in each, from which the time a CPU spent
//! polling while "idle" is read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::knob::KnobFile;
use crate::error::ConfigError;

/// The sysfs directory of the CPUs.
pub const CPU_ROOT: &str = "/sys/devices/system/cpu";

/// The name that picks each CPU's last (deepest) idle state, whatever it is called.
pub const DEEPEST: &str = "deepest";

/// One idle state of one CPU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdleState {
    /// The CPU.
    pub cpu: usize,
    /// K of stateK (0 is the shallowest).
    pub index: usize,
    /// Its `name` (`POLL`, `C1`, `haltpoll idle`).
    pub name: String,
    /// Its directory.
    pub dir: PathBuf,
}

impl IdleState {
    /// Its `disable` file.
    pub fn disable(&self) -> KnobFile {
        KnobFile::plain(self.dir.join("disable"))
    }

    /// True for a state that polls (the CPU runs a loop instead of halting): `POLL`.
    pub fn polls(&self) -> bool {
        self.name.eq_ignore_ascii_case("POLL")
    }
}

/// The cpuidle directory of `cpu` under `root`.
fn cpu_dir(root: &Path, cpu: usize) -> PathBuf {
    root.join(format!("cpu{cpu}/cpuidle"))
}

/// The idle states of `cpu` under `root` (normally [`CPU_ROOT`]), shallowest first; empty when
/// the CPU has no cpuidle directory.
pub fn states_in(root: &Path, cpu: usize) -> Vec<IdleState> {
    let dir = cpu_dir(root, cpu);
    let mut out = Vec::new();
    for index in 0.. {
        let d = dir.join(format!("state{index}"));
        let Ok(name) = std::fs::read_to_string(d.join("name")) else {
            break;
        };
        out.push(IdleState {
            cpu,
            index,
            name: name.trim().to_string(),
            dir: d,
        });
    }
    out
}

/// True when `wanted` names `state`: the same name ignoring case, its first word (`haltpoll`
/// for `haltpoll idle`), or [`DEEPEST`] for the last state.
fn names(wanted: &str, state: &IdleState, last: usize) -> bool {
    let w = wanted.trim();
    (w.eq_ignore_ascii_case(DEEPEST) && state.index == last)
        || state.name.eq_ignore_ascii_case(w)
        || state
            .name
            .split_whitespace()
            .next()
            .is_some_and(|first| first.eq_ignore_ascii_case(w))
}

/// The state of `cpu` called `wanted`, or an error naming where it looked and what is there.
pub fn find_in(root: &Path, cpu: usize, wanted: &str) -> Result<IdleState, ConfigError> {
    let states = states_in(root, cpu);
    let dir = cpu_dir(root, cpu);
    if states.is_empty() {
        return Err(ConfigError::Invalid(format!(
            "idle_disable: {} has no idle states (no cpuidle driver on this machine)",
            dir.display()
        )));
    }
    let last = states.len() - 1;
    states
        .iter()
        .find(|s| names(wanted, s, last))
        .cloned()
        .ok_or_else(|| {
            ConfigError::Invalid(format!(
                "idle_disable: no idle state named '{wanted}' in {}/state*/name; this CPU has: {} \
                 (or write \"{DEEPEST}\")",
                dir.display(),
                states
                    .iter()
                    .map(|s| format!("{} ({})", s.name, s.dir.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// Time in each idle state of one CPU, in µs, by state name.
pub type StateTimes = BTreeMap<String, u64>;

/// The time each CPU of `cpus` has spent in each of its idle states so far (from `stateK/time`).
pub fn times_in(root: &Path, cpus: &[usize]) -> BTreeMap<usize, StateTimes> {
    cpus.iter()
        .map(|&cpu| {
            let t = states_in(root, cpu)
                .into_iter()
                .filter_map(|s| {
                    let us = std::fs::read_to_string(s.dir.join("time")).ok()?;
                    Some((s.name, us.trim().parse().ok()?))
                })
                .collect();
            (cpu, t)
        })
        .collect()
}

/// The names of the polling idle states among `times`' keys.
pub fn polling_states(times: &StateTimes) -> impl Iterator<Item = (&String, &u64)> {
    times.iter().filter(|(n, _)| n.eq_ignore_ascii_case("POLL"))
}

/// The driver and governor in use (`haltpoll`, `menu`), when there is a cpuidle.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cpuidle {
    /// `cpuidle/current_driver`.
    pub driver: Option<String>,
    /// `cpuidle/current_governor` (or `current_governor_ro`).
    pub governor: Option<String>,
}

/// The cpuidle driver and governor of this machine.
pub fn current() -> Cpuidle {
    let read = |f: &str| {
        std::fs::read_to_string(Path::new(CPU_ROOT).join("cpuidle").join(f))
            .ok()
            .map(|s| s.trim().to_string())
    };
    Cpuidle {
        driver: read("current_driver"),
        governor: read("current_governor").or_else(|| read("current_governor_ro")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake sysfs with two CPUs: POLL and `haltpoll idle`, times 10 and 500 µs.
    fn fake() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for cpu in 0..2 {
            for (k, (name, time)) in [("POLL", "10"), ("haltpoll idle", "500")]
                .iter()
                .enumerate()
            {
                let d = dir.path().join(format!("cpu{cpu}/cpuidle/state{k}"));
                std::fs::create_dir_all(&d).unwrap();
                std::fs::write(d.join("name"), format!("{name}\n")).unwrap();
                std::fs::write(d.join("time"), format!("{time}\n")).unwrap();
                std::fs::write(d.join("disable"), "0\n").unwrap();
            }
        }
        dir
    }

    #[test]
    fn states_are_found_by_name_first_word_or_as_the_deepest() {
        let root = fake();
        let s = states_in(root.path(), 1);
        assert_eq!(s.len(), 2);
        assert!(s[0].polls() && !s[1].polls());
        assert_eq!(find_in(root.path(), 0, "haltpoll").unwrap().index, 1);
        assert_eq!(find_in(root.path(), 0, "HALTPOLL IDLE").unwrap().index, 1);
        assert_eq!(find_in(root.path(), 0, "poll").unwrap().index, 0);
        assert_eq!(find_in(root.path(), 1, "deepest").unwrap().index, 1);
        let st = find_in(root.path(), 1, "deepest").unwrap();
        assert!(st.disable().path.ends_with("cpu1/cpuidle/state1/disable"));
    }

    #[test]
    fn an_absent_state_is_refused_naming_where_it_looked() {
        let root = fake();
        let e = find_in(root.path(), 0, "C6").unwrap_err().to_string();
        assert!(
            e.contains("'C6'") && e.contains("cpu0/cpuidle/state*/name"),
            "{e}"
        );
        assert!(e.contains("POLL") && e.contains("haltpoll idle"), "{e}");
        let e = find_in(root.path(), 7, "C1").unwrap_err().to_string();
        assert!(
            e.contains("cpu7/cpuidle") && e.contains("no idle states"),
            "{e}"
        );
    }

    #[test]
    fn times_are_read_per_state() {
        let root = fake();
        let t = times_in(root.path(), &[0, 1]);
        assert_eq!(t[&1]["haltpoll idle"], 500);
        let polling: Vec<_> = polling_states(&t[&0]).collect();
        assert_eq!(polling, vec![(&"POLL".to_string(), &10)]);
    }
}
