//! CPU topology from /sys: resolves a [`Placement`] to the CPUs each worker runs on (the
//! threads are pinned by [`super::pinned`]).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::spec::Placement;
use crate::spec::parse_cpu_list;

/// One online CPU that this process may run on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Cpu {
    /// Logical CPU number.
    pub id: usize,
    /// Physical core id within its package.
    pub core_id: i64,
    /// Physical package (socket).
    pub package_id: i64,
    /// NUMA node.
    pub node: usize,
    /// Logical CPUs sharing this CPU's core (including itself).
    pub siblings: Vec<usize>,
}

impl Cpu {
    fn core_key(&self) -> (i64, i64) {
        (self.package_id, self.core_id)
    }
}

/// The CPUs this process may use, with their core, package and node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Topology {
    /// Online CPUs in the affinity mask, by id.
    pub cpus: Vec<Cpu>,
    /// Online CPUs on the machine (including those outside the affinity mask).
    pub online: Vec<usize>,
}

/// The CPUs a case's workers were asked to run on; empty means not pinned.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ResolvedPlacement {
    /// CPUs of the client threads (thread i uses `client[i % len]`).
    pub client: Vec<usize>,
    /// CPUs of the server threads.
    pub server: Vec<usize>,
}

impl ResolvedPlacement {
    /// The CPU the client thread `i` is pinned to, if any.
    pub fn client_cpu(&self, i: usize) -> Option<usize> {
        (!self.client.is_empty()).then(|| self.client[i % self.client.len()])
    }

    /// The CPU the server thread `i` is pinned to, if any.
    pub fn server_cpu(&self, i: usize) -> Option<usize> {
        (!self.server.is_empty()).then(|| self.server[i % self.server.len()])
    }
}

fn read_trim(path: &Path) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// The CPUs in the calling thread's affinity mask (`sched_getaffinity(0)`).
pub fn allowed_cpus() -> BTreeSet<usize> {
    match nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)) {
        Ok(set) => (0..nix::sched::CpuSet::count())
            .filter(|&i| set.is_set(i).unwrap_or(false))
            .collect(),
        Err(_) => BTreeSet::new(),
    }
}

impl Topology {
    /// Reads the machine's topology and the calling thread's affinity mask.
    pub fn detect() -> Topology {
        Topology::from_sysfs(Path::new("/sys/devices/system"), &allowed_cpus())
    }

    /// Reads a topology from a sysfs tree rooted at `root` (`/sys/devices/system` on a real
    /// machine; a directory of fixtures in tests), keeping the CPUs in `allowed`.
    pub fn from_sysfs(root: &Path, allowed: &BTreeSet<usize>) -> Topology {
        let cpu_root = root.join("cpu");
        let online = read_trim(&cpu_root.join("online"))
            .and_then(|s| parse_cpu_list(&s))
            .unwrap_or_else(|| allowed.iter().copied().collect());
        let node_of = |id: usize| -> usize {
            let Ok(entries) = fs::read_dir(root.join("node")) else {
                return 0;
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                let Some(n) = name.strip_prefix("node").and_then(|n| n.parse().ok()) else {
                    continue;
                };
                let list = read_trim(&e.path().join("cpulist")).and_then(|s| parse_cpu_list(&s));
                if list.is_some_and(|l| l.contains(&id)) {
                    return n;
                }
            }
            0
        };
        let cpus = online
            .iter()
            .copied()
            .filter(|id| allowed.is_empty() || allowed.contains(id))
            .map(|id| {
                let topo: PathBuf = cpu_root.join(format!("cpu{id}/topology"));
                let num = |f: &str| read_trim(&topo.join(f)).and_then(|s| s.parse().ok());
                Cpu {
                    id,
                    core_id: num("core_id").unwrap_or(id as i64),
                    package_id: num("physical_package_id").unwrap_or(0),
                    node: node_of(id),
                    siblings: read_trim(&topo.join("thread_siblings_list"))
                        .and_then(|s| parse_cpu_list(&s))
                        .unwrap_or_else(|| vec![id]),
                }
            })
            .collect();
        Topology { cpus, online }
    }

    /// The CPU with this id, if online and allowed.
    pub fn cpu(&self, id: usize) -> Option<&Cpu> {
        self.cpus.iter().find(|c| c.id == id)
    }

    /// Number of distinct physical cores among the allowed CPUs.
    pub fn physical_cores(&self) -> usize {
        self.cpus
            .iter()
            .map(Cpu::core_key)
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// Number of distinct NUMA nodes among the allowed CPUs.
    pub fn nodes(&self) -> usize {
        self.cpus
            .iter()
            .map(|c| c.node)
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// True when some core has more than one hardware thread.
    pub fn has_smt(&self) -> bool {
        self.cpus.iter().any(|c| c.siblings.len() > 1)
    }

    /// The default placement: cross-core when there are two cores, else same-core.
    pub fn default_placement(&self) -> Placement {
        if self.physical_cores() >= 2 {
            Placement::CrossCore
        } else {
            Placement::SameCore
        }
    }

    /// What this topology offers, and (when the calling thread's affinity mask hides online
    /// CPUs) that the mask, not the machine, is the limit.
    fn describe(&self) -> String {
        let hidden = self
            .online
            .iter()
            .filter(|id| self.cpu(**id).is_none())
            .count();
        let limit = if hidden > 0 {
            format!(
                "; the limit is the calling thread's CPU affinity, not the machine: {hidden} of its \
                 {} online CPU(s) are outside the mask (was this thread pinned earlier? call from \
                 a thread that is not pinned, e.g. run a pair's client with \
                 CustomPair::run_client, or widen the mask with taskset)",
                self.online.len()
            )
        } else {
            String::new()
        };
        format!(
            "this thread may use {} CPU(s) ({}) on {} physical core(s) and {} NUMA node(s){}{limit}",
            self.cpus.len(),
            self.cpus
                .iter()
                .map(|c| c.id.to_string())
                .collect::<Vec<_>>()
                .join(","),
            self.physical_cores(),
            self.nodes(),
            if self.has_smt() {
                " with SMT"
            } else {
                ", no SMT"
            }
        )
    }

    /// Explains why `id` (given with `flag`) cannot be used, if it cannot.
    fn check_cpu(&self, flag: &str, id: usize) -> Result<(), String> {
        if self.cpu(id).is_some() {
            return Ok(());
        }
        let why = if self.online.contains(&id) {
            "is online but outside this process's CPU affinity mask"
        } else {
            "does not exist or is offline"
        };
        Err(format!("{flag} {id} {why}; {}", self.describe()))
    }

    /// Refuses a CPU given with `flag` (e.g. `--memory-load`) that this process cannot use.
    pub fn check_cpu_flag(&self, flag: &str, id: usize) -> Result<(), ConfigError> {
        self.check_cpu(flag, id).map_err(ConfigError::Invalid)
    }

    /// Resolves a placement to CPUs, or explains why this machine cannot satisfy it.
    pub fn resolve(&self, placement: Placement) -> Result<ResolvedPlacement, ConfigError> {
        let fail = |reason: String| ConfigError::Placement {
            placement: placement.to_string(),
            reason,
        };
        if self.cpus.is_empty() && placement != Placement::Unpinned {
            return Err(fail(
                "no CPU is available in this process's affinity mask".into(),
            ));
        }
        let pair = |a: usize, b: usize| ResolvedPlacement {
            client: vec![a],
            server: vec![b],
        };
        match placement {
            Placement::Unpinned => Ok(ResolvedPlacement::default()),
            Placement::SameCore => Ok(pair(self.cpus[0].id, self.cpus[0].id)),
            Placement::CrossCore => {
                for a in &self.cpus {
                    let other = self
                        .cpus
                        .iter()
                        .filter(|b| b.core_key() != a.core_key())
                        .min_by_key(|b| (b.node != a.node, b.id));
                    if let Some(b) = other {
                        return Ok(pair(a.id, b.id));
                    }
                }
                Err(fail(format!(
                    "needs two physical cores, but {}; use --placement same-core",
                    self.describe()
                )))
            }
            Placement::SmtSibling => {
                for a in &self.cpus {
                    if let Some(&b) = a
                        .siblings
                        .iter()
                        .find(|&&s| s != a.id && self.cpu(s).is_some())
                    {
                        return Ok(pair(a.id, b));
                    }
                }
                Err(fail(format!(
                    "needs a core with two hardware threads, but {}; use --placement cross-core or same-core",
                    self.describe()
                )))
            }
            Placement::CrossNode => {
                for a in &self.cpus {
                    if let Some(b) = self.cpus.iter().find(|b| b.node != a.node) {
                        return Ok(pair(a.id, b.id));
                    }
                }
                Err(fail(format!(
                    "needs CPUs on two NUMA nodes, but {}; use --placement cross-core",
                    self.describe()
                )))
            }
            Placement::Cpus { client, server } => {
                for (flag, id) in [("--client-cpu", client), ("--server-cpu", server)] {
                    self.check_cpu(flag, id).map_err(fail)?;
                }
                Ok(pair(client, server))
            }
            Placement::Lists { client, server } => {
                let (client, server) = (client.to_vec(), server.to_vec());
                for (flag, list) in [("--client-cpus", &client), ("--server-cpus", &server)] {
                    for &id in list {
                        self.check_cpu(flag, id).map_err(fail)?;
                    }
                }
                Ok(ResolvedPlacement { client, server })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes a fake sysfs: `cpus` as (id, core, package, node, siblings).
    fn fake_sysfs(cpus: &[(usize, i64, i64, usize, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let ids: Vec<String> = cpus.iter().map(|c| c.0.to_string()).collect();
        fs::create_dir_all(dir.path().join("cpu")).unwrap();
        fs::write(dir.path().join("cpu/online"), ids.join(",")).unwrap();
        for &(id, core, pkg, node, sib) in cpus {
            let t = dir.path().join(format!("cpu/cpu{id}/topology"));
            fs::create_dir_all(&t).unwrap();
            fs::write(t.join("core_id"), core.to_string()).unwrap();
            fs::write(t.join("physical_package_id"), pkg.to_string()).unwrap();
            fs::write(t.join("thread_siblings_list"), sib).unwrap();
            let n = dir.path().join(format!("node/node{node}"));
            fs::create_dir_all(&n).unwrap();
            let list = cpus
                .iter()
                .filter(|c| c.3 == node)
                .map(|c| c.0.to_string())
                .collect::<Vec<_>>();
            fs::write(n.join("cpulist"), list.join(",")).unwrap();
        }
        dir
    }

    fn all(ids: &[usize]) -> BTreeSet<usize> {
        ids.iter().copied().collect()
    }

    #[test]
    fn two_cpus_without_smt_give_same_and_cross_core_only() {
        let dir = fake_sysfs(&[(0, 0, 0, 0, "0"), (1, 1, 0, 0, "1")]);
        let t = Topology::from_sysfs(dir.path(), &all(&[0, 1]));
        assert_eq!(
            t.resolve(Placement::SameCore).unwrap(),
            ResolvedPlacement {
                client: vec![0],
                server: vec![0]
            }
        );
        assert_eq!(
            t.resolve(Placement::CrossCore).unwrap(),
            ResolvedPlacement {
                client: vec![0],
                server: vec![1]
            }
        );
        let smt = t.resolve(Placement::SmtSibling).unwrap_err().to_string();
        assert!(
            smt.contains("no SMT") && smt.contains("cross-core"),
            "{smt}"
        );
        let node = t.resolve(Placement::CrossNode).unwrap_err().to_string();
        assert!(node.contains("1 NUMA node"), "{node}");
        assert_eq!(t.default_placement(), Placement::CrossCore);
    }

    #[test]
    fn smt_siblings_and_nodes_are_found() {
        // Two nodes; node 0 has core 0 with threads 0 and 2; node 1 has core 0 of package 1.
        let dir = fake_sysfs(&[
            (0, 0, 0, 0, "0,2"),
            (1, 0, 1, 1, "1,3"),
            (2, 0, 0, 0, "0,2"),
            (3, 0, 1, 1, "1,3"),
        ]);
        let t = Topology::from_sysfs(dir.path(), &all(&[0, 1, 2, 3]));
        assert_eq!(
            t.resolve(Placement::SmtSibling).unwrap(),
            ResolvedPlacement {
                client: vec![0],
                server: vec![2]
            }
        );
        let cross_node = t.resolve(Placement::CrossNode).unwrap();
        assert_eq!(cross_node.client, vec![0]);
        assert_eq!(t.cpu(cross_node.server[0]).unwrap().node, 1);
        // cross-core prefers another core on the same node: none exists here, so it crosses nodes.
        let cc = t.resolve(Placement::CrossCore).unwrap();
        assert_ne!(
            t.cpu(cc.client[0]).unwrap().core_key(),
            t.cpu(cc.server[0]).unwrap().core_key()
        );
    }

    #[test]
    fn explicit_cpus_must_exist_and_be_allowed() {
        let dir = fake_sysfs(&[(0, 0, 0, 0, "0"), (1, 1, 0, 0, "1")]);
        let t = Topology::from_sysfs(dir.path(), &all(&[0]));
        let err = t
            .resolve(Placement::Cpus {
                client: 0,
                server: 1,
            })
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--server-cpu 1") && err.contains("affinity"),
            "{err}"
        );
        let err = t
            .resolve(Placement::Cpus {
                client: 7,
                server: 0,
            })
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--client-cpu 7") && err.contains("does not exist"),
            "{err}"
        );
        assert!(t.resolve(Placement::CrossCore).is_err());
        assert_eq!(t.default_placement(), Placement::SameCore);
    }

    #[test]
    fn this_machine_resolves_its_default_and_pins() {
        let t = Topology::detect();
        assert!(!t.cpus.is_empty());
        let p = t.resolve(t.default_placement()).unwrap();
        let cpu = p.client[0];
        std::thread::spawn(move || crate::host::pinned::pin_current_thread(cpu))
            .join()
            .unwrap()
            .unwrap();
    }
}
