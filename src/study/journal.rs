//! Host-wide changes (global sysctls such as net.core.busy_poll, a /dev/cpu_dma_latency request,
//! idle states' `disable`, haltpoll parameters, scheduler tunables, transparent huge pages): the
//! previous values go to a journal file before anything changes, and are written back and read
//! back on exit, error, panic (the guard's `Drop`) and Ctrl-C. After a crash,
//! `loopbench study --restore` puts them back from the journal.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::settings::{AppliedSetting, HostSettings, Scope};
use crate::error::{ConfigError, UsageError};
use crate::host::knob::KnobFile;
use crate::host::sysctl;
use crate::store::write_json;

/// Where the journal goes by default. /run is emptied at boot, exactly when the kernel forgets
/// the changes too.
pub fn default_path() -> PathBuf {
    if Path::new("/run").is_dir() {
        PathBuf::from("/run/loopbench/host-changes.json")
    } else {
        std::env::temp_dir().join("loopbench-host-changes.json")
    }
}

const DMA_DEVICE: &str = "/dev/cpu_dma_latency";

/// Layout version of the journal: 2 added `files` (a version-1 journal reads with none).
pub const JOURNAL_VERSION: u32 = 2;

/// A host file the study may change, with its value before the study.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournaledFile {
    /// The file.
    pub file: KnobFile,
    /// Its value before the study, as it is written.
    pub before: String,
}

/// The journal file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    /// Layout version.
    pub schema_version: u32,
    /// The process that made the changes.
    pub pid: u32,
    /// Its /proc/PID/comm, so a reused pid is not mistaken for it.
    pub comm: String,
    /// The study.
    pub study_id: String,
    /// When the journal was written.
    pub created_at: String,
    /// Every global sysctl the study may change, with its value before the study.
    pub sysctls: BTreeMap<String, String>,
    /// Every other host file the study may change, with its value before the study.
    #[serde(default)]
    pub files: Vec<JournaledFile>,
    /// True when the study holds a /dev/cpu_dma_latency request (released by the kernel when the
    /// process ends, so nothing to restore after a crash).
    pub cpu_dma_latency: bool,
}

fn comm_of(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim().to_string())
}

impl Journal {
    /// True when the process that wrote the journal is still running.
    pub fn writer_alive(&self) -> bool {
        comm_of(self.pid).is_some_and(|c| c == self.comm)
    }

    fn load(path: &Path) -> Result<Journal> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the journal {}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| {
            UsageError(format!(
                "the journal {} is corrupt ({e}); restore its values by hand and delete it",
                path.display()
            ))
            .into()
        })
    }
}

/// Writes the journal's values back and reads each back; the lines say what happened.
fn write_back(journal: &Journal) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    let mut failed = Vec::new();
    for (name, value) in &journal.sysctls {
        match sysctl::write_verified(name, value) {
            Ok(()) => lines.push(format!("restored {name} = {value} (read back)")),
            Err(e) => failed.push(format!("{e:#}")),
        }
    }
    for j in &journal.files {
        match j.file.set(&j.before) {
            Ok(()) => lines.push(format!(
                "restored {} = {} (read back)",
                j.file.path.display(),
                j.before
            )),
            Err(e) => failed.push(format!("{e:#}")),
        }
    }
    if journal.cpu_dma_latency {
        lines.push("cpu_dma_latency: the request ends with the process that held it".into());
    }
    if !failed.is_empty() {
        bail!("could not restore: {}", failed.join("; "));
    }
    Ok(lines)
}

/// Refuses when `path` holds a journal: of a running study, or of one that did not finish.
pub fn check_free(path: &Path) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let old = Journal::load(path)?;
    if old.writer_alive() {
        bail!(UsageError(format!(
            "another study (pid {}) holds host changes journaled in {}; wait for it to end",
            old.pid,
            path.display()
        )));
    }
    bail!(UsageError(format!(
        "{} holds host changes of a study that did not finish (pid {}); run `loopbench study \
         --restore` first",
        path.display(),
        old.pid
    )))
}

/// The host changes of a running study. Dropping it restores everything.
pub struct HostChanges {
    path: PathBuf,
    journal: Journal,
    dma: Option<File>,
    done: bool,
}

impl HostChanges {
    /// Journals the current values of `sysctls` and `files` (and whether a cpu_dma_latency
    /// request will be held) before anything changes. Refuses when a journal is already there.
    pub fn begin(
        path: &Path,
        study_id: &str,
        sysctls: &BTreeSet<String>,
        files: &BTreeSet<KnobFile>,
        cpu_dma_latency: bool,
    ) -> Result<HostChanges> {
        check_free(path)?;
        let mut previous = BTreeMap::new();
        for name in sysctls {
            let v = sysctl::read(name).ok_or_else(|| {
                ConfigError::Invalid(format!("sysctl {name} does not exist on this host"))
            })?;
            previous.insert(name.clone(), v);
        }
        let files = files
            .iter()
            .map(|f| {
                Ok(JournaledFile {
                    before: f.read()?,
                    file: f.clone(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let pid = std::process::id();
        let journal = Journal {
            schema_version: JOURNAL_VERSION,
            pid,
            comm: comm_of(pid).unwrap_or_default(),
            study_id: study_id.to_string(),
            created_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            sysctls: previous,
            files,
            cpu_dma_latency,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        write_json(path, &journal).context("writing the host-change journal")?;
        Ok(HostChanges {
            path: path.to_path_buf(),
            journal,
            dma: None,
            done: false,
        })
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sets the host to `s`: its sysctls and files to the values asked for, every other journaled
    /// one to its previous value, and holds (or releases) the cpu_dma_latency request. Every
    /// value is read back.
    pub fn apply(&mut self, s: &HostSettings) -> Result<Vec<AppliedSetting>> {
        let mut out = Vec::new();
        for (name, previous) in &self.journal.sysctls {
            let wanted = s.sysctls.get(name).unwrap_or(previous);
            if sysctl::read(name).as_deref() != Some(wanted.as_str()) {
                sysctl::write_verified(name, wanted)?;
            }
            if s.sysctls.contains_key(name) {
                out.push(AppliedSetting {
                    setting: format!("sysctl {name}"),
                    scope: Scope::Host,
                    before: Some(previous.clone()),
                    wanted: wanted.clone(),
                    read_back: sysctl::read(name).unwrap_or_default(),
                });
            }
        }
        for j in &self.journal.files {
            let asked = s.files.iter().find(|w| w.file == j.file);
            let wanted = asked.map_or(&j.before, |w| &w.wanted);
            if j.file.read()? != *wanted {
                j.file.set(wanted)?;
            }
            if let Some(w) = asked {
                out.push(AppliedSetting {
                    setting: w.label.clone(),
                    scope: Scope::Host,
                    before: Some(j.before.clone()),
                    wanted: wanted.clone(),
                    read_back: j.file.read()?,
                });
            }
        }
        self.dma = None;
        if let Some(us) = s.cpu_dma_latency_us {
            let mut f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(DMA_DEVICE)
                .with_context(|| format!("cannot open {DMA_DEVICE}"))?;
            let before = read_dma(&mut f).ok();
            f.write_all(&us.to_ne_bytes())
                .with_context(|| format!("cannot write {us} to {DMA_DEVICE}"))?;
            let now = read_dma(&mut f)?;
            if now > us {
                bail!("{DMA_DEVICE}: asked for {us} µs, the kernel's target is {now} µs");
            }
            out.push(AppliedSetting {
                setting: "cpu_dma_latency".into(),
                scope: Scope::Host,
                before: before.map(|b| b.to_string()),
                wanted: us.to_string(),
                read_back: now.to_string(),
            });
            self.dma = Some(f);
        }
        Ok(out)
    }

    /// Restores every journaled value, reads it back, and removes the journal.
    pub fn restore(&mut self) -> Result<Vec<String>> {
        self.dma = None;
        let lines = write_back(&self.journal)?;
        std::fs::remove_file(&self.path)
            .with_context(|| format!("cannot remove the journal {}", self.path.display()))?;
        self.done = true;
        Ok(lines)
    }
}

impl Drop for HostChanges {
    fn drop(&mut self) {
        if !self.done {
            if let Err(e) = self.restore() {
                eprintln!(
                    "error: restoring host settings failed: {e:#}; the journal stays at {}: run \
                     `loopbench study --restore`",
                    self.path.display()
                );
            }
        }
    }
}

/// The current target (what every request together asks for). Read at offset 0: the device
/// keeps a file position, so a second plain read would find its end.
fn read_dma(f: &mut File) -> Result<i32> {
    use std::os::unix::fs::FileExt;
    let mut b = [0u8; 4];
    f.read_exact_at(&mut b, 0)
        .with_context(|| format!("cannot read {DMA_DEVICE}"))?;
    Ok(i32::from_ne_bytes(b))
}

/// `loopbench study --restore`: writes back what the journal at `path` holds, verifies, removes
/// it. Refuses while the study that wrote it is still running.
pub fn restore_from(path: &Path) -> Result<Vec<String>> {
    if !path.exists() {
        return Ok(vec![format!(
            "nothing to restore: no journal at {}",
            path.display()
        )]);
    }
    let journal = Journal::load(path)?;
    if journal.writer_alive() && journal.pid != std::process::id() {
        bail!(UsageError(format!(
            "the study that wrote {} (pid {}) is still running and restores on exit; stop it with \
             Ctrl-C or kill {}, then run --restore again if it was killed",
            path.display(),
            journal.pid,
            journal.pid
        )));
    }
    let mut lines = write_back(&journal)?;
    std::fs::remove_file(path).with_context(|| format!("cannot remove {}", path.display()))?;
    lines.push(format!("removed {}", path.display()));
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loopback::netns::{unavailable_reason, with_private};

    // These tests use a per-namespace sysctl inside a private namespace as the "host": the
    // journal logic is the same, and the real host is never changed.
    const NAME: &str = "net.ipv4.tcp_notsent_lowat";

    fn settings(v: &str) -> HostSettings {
        HostSettings {
            sysctls: [(NAME.to_string(), v.to_string())].into(),
            cpu_dma_latency_us: None,
            files: Vec::new(),
        }
    }

    /// Runs `f` in a fresh private namespace with a journal path in a fresh directory and the
    /// value [`NAME`] had there before.
    fn in_private_namespace(f: impl FnOnce(&Path, String) -> Result<()> + Send) {
        if let Some(why) = unavailable_reason() {
            panic!("{why}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.json");
        with_private(|_| f(&path, sysctl::read(NAME).unwrap())).unwrap();
    }

    /// A host file stand-in: a temporary file holding `0`.
    fn knob(dir: &Path) -> (KnobFile, HostSettings) {
        let file = KnobFile::plain(dir.join("disable"));
        std::fs::write(&file.path, "0\n").unwrap();
        let s = HostSettings {
            files: vec![super::super::settings::HostWrite {
                label: "cpu0 idle state 'C6' disable".into(),
                file: file.clone(),
                wanted: "1".into(),
            }],
            ..Default::default()
        };
        (file, s)
    }

    #[test]
    fn files_are_journaled_before_they_change_and_restored_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.json");
        let (file, s) = knob(dir.path());
        let files: BTreeSet<KnobFile> = [file.clone()].into();
        {
            let mut h = HostChanges::begin(&path, "s", &BTreeSet::new(), &files, false).unwrap();
            let j = Journal::load(&path).unwrap();
            assert_eq!(j.files[0].before, "0", "journaled before any change");
            let applied = h.apply(&s).unwrap();
            assert_eq!(applied[0].setting, "cpu0 idle state 'C6' disable");
            assert_eq!(
                (applied[0].before.as_deref(), applied[0].read_back.as_str()),
                (Some("0"), "1")
            );
            assert_eq!(std::fs::read_to_string(&file.path).unwrap(), "1\n");
            h.apply(&HostSettings::default()).unwrap();
            assert_eq!(std::fs::read_to_string(&file.path).unwrap(), "0\n");
            h.apply(&s).unwrap();
        }
        assert_eq!(std::fs::read_to_string(&file.path).unwrap(), "0\n");
        assert!(!path.exists(), "journal removed after restoring");
    }

    #[test]
    fn files_of_a_killed_study_are_restored_from_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.json");
        let (file, s) = knob(dir.path());
        let mut h = HostChanges::begin(&path, "s", &BTreeSet::new(), &[file.clone()].into(), false)
            .unwrap();
        h.apply(&s).unwrap();
        std::mem::forget(h);
        let mut j = Journal::load(&path).unwrap();
        j.comm = "gone-process".into();
        write_json(&path, &j).unwrap();
        let lines = restore_from(&path).unwrap();
        assert!(lines[0].contains("disable = 0 (read back)"), "{lines:?}");
        assert_eq!(std::fs::read_to_string(&file.path).unwrap(), "0\n");
        assert!(!path.exists());
    }

    #[test]
    fn a_version_1_journal_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.json");
        std::fs::write(
            &path,
            r#"{"schema_version":1,"pid":1,"comm":"x","study_id":"s","created_at":"t",
               "sysctls":{},"cpu_dma_latency":true}"#,
        )
        .unwrap();
        let j = Journal::load(&path).unwrap();
        assert!(j.files.is_empty() && j.cpu_dma_latency);
    }

    #[test]
    #[ignore = "needs root: changes a sysctl in a private network namespace"]
    fn changes_are_journaled_first_and_restored_on_drop() {
        in_private_namespace(|path, before| {
            {
                let mut h = HostChanges::begin(
                    path,
                    "s",
                    &[NAME.to_string()].into(),
                    &BTreeSet::new(),
                    false,
                )?;
                let j = Journal::load(path)?;
                assert_eq!(j.sysctls[NAME], before, "journaled before any change");
                let applied = h.apply(&settings("12345"))?;
                assert_eq!(applied[0].read_back, "12345");
                assert_eq!(sysctl::read(NAME).unwrap(), "12345");
                h.apply(&HostSettings::default())?;
                assert_eq!(
                    sysctl::read(NAME).unwrap(),
                    before,
                    "other variants see the old value"
                );
                h.apply(&settings("23456"))?;
                let again =
                    HostChanges::begin(path, "t", &BTreeSet::new(), &BTreeSet::new(), false);
                assert!(format!("{:#}", again.err().unwrap()).contains("another study"));
            }
            assert_eq!(sysctl::read(NAME).unwrap(), before, "restored on drop");
            assert!(!path.exists(), "journal removed after restoring");
            Ok(())
        });
    }

    #[test]
    #[ignore = "needs root: changes a sysctl in a private network namespace"]
    fn restore_from_a_crashed_study_puts_values_back() {
        in_private_namespace(|path, before| {
            let mut h = HostChanges::begin(
                path,
                "s",
                &[NAME.to_string()].into(),
                &BTreeSet::new(),
                false,
            )?;
            h.apply(&settings("777"))?;
            // A crash: the guard never runs. Make the journal look like another, dead process's.
            std::mem::forget(h);
            let mut j = Journal::load(path)?;
            j.comm = "gone-process".into();
            write_json(path, &j)?;
            let err = HostChanges::begin(path, "t", &BTreeSet::new(), &BTreeSet::new(), false)
                .err()
                .unwrap();
            assert!(format!("{err:#}").contains("--restore"), "{err:#}");
            assert_eq!(sysctl::read(NAME).unwrap(), "777");
            let lines = restore_from(path)?;
            assert!(
                lines[0].contains(&format!("restored {NAME} = {before}")),
                "{lines:?}"
            );
            assert_eq!(sysctl::read(NAME).unwrap(), before);
            assert!(!path.exists());
            assert!(restore_from(path)?[0].contains("nothing to restore"));
            Ok(())
        });
    }
}
