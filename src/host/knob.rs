//! Host-wide settings that are single files outside /proc/sys/net: a cpuidle state's `disable`,
//! the guest haltpoll parameters, scheduler tunables, transparent huge pages. Each is read in the
//! form it is written (`[madvise]` reads as `madvise`), written, and read back; every error names
//! the file.
//!
//! Files under /sys/kernel/debug are reached through a debugfs mounted in a private mount
//! namespace of a short-lived thread when the host has none mounted there, so using a scheduler
//! tunable leaves the host's mount table as it was.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::loopback::mountns::with_mount;

/// Where debugfs is usually mounted.
pub const DEBUGFS: &str = "/sys/kernel/debug";

/// How a knob's file shows its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    /// The value itself (whitespace collapsed): `1`, `200000`, `Y`.
    Plain,
    /// A list of choices with the current one in brackets: `always [madvise] never`.
    Selected,
}

/// One host-wide setting that is a file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct KnobFile {
    /// The file.
    pub path: PathBuf,
    /// How it shows its value.
    pub form: Form,
}

/// The value a file of `form` shows, as it would be written: the bracketed choice of a
/// [`Form::Selected`] file, the whitespace-collapsed text otherwise.
pub fn value_of(form: Form, text: &str) -> String {
    let plain = crate::host::sysctl::normalize(text);
    match form {
        Form::Plain => plain,
        Form::Selected => plain
            .split(' ')
            .find_map(|w| w.strip_prefix('[')?.strip_suffix(']'))
            .map_or(plain.clone(), str::to_string),
    }
}

impl KnobFile {
    /// A plain file.
    pub fn plain(path: impl Into<PathBuf>) -> KnobFile {
        KnobFile {
            path: path.into(),
            form: Form::Plain,
        }
    }

    /// True when the file is there (reading it may still be refused).
    pub fn exists(&self) -> bool {
        access(&self.path, |p| Ok(p.exists())).unwrap_or(false)
    }

    /// The current value, as it would be written. The error names the file and why.
    pub fn read(&self) -> Result<String> {
        let text = access(&self.path, |p| {
            std::fs::read_to_string(p).map_err(Into::into)
        })
        .map_err(|e| self.error("read", &e))?;
        Ok(value_of(self.form, &text))
    }

    /// Writes `value` (no read-back; see [`KnobFile::set`]).
    pub fn write(&self, value: &str) -> Result<()> {
        access(&self.path, |p| {
            std::fs::write(p, format!("{value}\n")).map_err(Into::into)
        })
        .map_err(|e| self.error(&format!("write {value} to"), &e))
    }

    /// Writes `value` and reads it back; an error when the kernel keeps another value.
    pub fn set(&self, value: &str) -> Result<()> {
        self.write(value)?;
        let got = self.read()?;
        if got != crate::host::sysctl::normalize(value) {
            bail!(
                "{}: wrote {value:?} but the kernel reads back {got:?} (it clamps or rejects the \
                 value)",
                self.path.display()
            );
        }
        Ok(())
    }

    fn error(&self, what: &str, e: &anyhow::Error) -> anyhow::Error {
        let io = e.downcast_ref::<std::io::Error>();
        let hint = match io.map(std::io::Error::kind) {
            Some(ErrorKind::NotFound) => " (this kernel or machine does not have it)",
            Some(ErrorKind::PermissionDenied) if self.path.starts_with(DEBUGFS) => {
                " (a locked-down kernel refuses debugfs: see /sys/kernel/security/lockdown)"
            }
            Some(ErrorKind::PermissionDenied) => " (this needs root)",
            _ => "",
        };
        ConfigError::Invalid(format!(
            "cannot {what} {}: {e:#}{hint}",
            self.path.display()
        ))
        .into()
    }
}

/// True when a debugfs is mounted at [`DEBUGFS`] in this mount namespace.
fn debugfs_mounted() -> bool {
    std::fs::read_to_string("/proc/self/mounts").is_ok_and(|m| {
        m.lines().any(|l| {
            let mut f = l.split_whitespace().skip(1);
            f.next() == Some(DEBUGFS) && f.next() == Some("debugfs")
        })
    })
}

/// Runs `f` on `path`; a path under /sys/kernel/debug without a debugfs mounted there is reached
/// through one mounted in a private mount namespace of a thread of its own.
fn access<T: Send>(path: &Path, f: impl FnOnce(&Path) -> Result<T> + Send) -> Result<T> {
    if !path.starts_with(DEBUGFS) || debugfs_mounted() {
        return f(path);
    }
    with_mount("debugfs", Path::new(DEBUGFS), || f(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_they_are_written() {
        assert_eq!(value_of(Form::Plain, "200000\n"), "200000");
        assert_eq!(
            value_of(Form::Selected, "always [madvise] never\n"),
            "madvise"
        );
        assert_eq!(value_of(Form::Selected, "[never]"), "never");
        assert_eq!(value_of(Form::Selected, "odd"), "odd");
    }

    #[test]
    fn a_missing_file_is_named_and_explained() {
        let k = KnobFile::plain("/sys/module/no_such_module/parameters/x");
        assert!(!k.exists());
        let e = format!("{:#}", k.read().unwrap_err());
        assert!(e.contains("/sys/module/no_such_module/parameters/x"), "{e}");
        assert!(e.contains("does not have it"), "{e}");
    }

    #[test]
    fn a_file_is_written_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let k = KnobFile {
            path: dir.path().join("enabled"),
            form: Form::Plain,
        };
        k.set("7").unwrap();
        assert_eq!(k.read().unwrap(), "7");
        let thp = KnobFile {
            path: k.path.clone(),
            form: Form::Selected,
        };
        // A selection file that does not select what was written: the read-back says so.
        std::fs::write(&thp.path, "always [madvise] never\n").unwrap();
        assert_eq!(thp.read().unwrap(), "madvise");
    }

    #[test]
    #[ignore = "needs root: mounts debugfs in a private mount namespace"]
    fn debugfs_files_are_reached_without_touching_the_hosts_mounts() {
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
        let k = KnobFile::plain("/sys/kernel/debug/sched/debug");
        let text = k.read().unwrap();
        assert!(text.starts_with("Sched Debug Version"), "{}", &text[..40]);
        assert_eq!(
            std::fs::read_to_string("/proc/self/mounts").unwrap(),
            mounts,
            "the host's mount table is unchanged"
        );
    }
}
