//! Private mount namespaces: a short-lived thread that mounts a filesystem where only it sees it
//! (a sysfs showing its network namespace's lo, a debugfs on a host that has none mounted), does
//! its work there, and ends; the host's mount table never changes.

use std::path::Path;

use anyhow::{Context, Result};
use nix::mount::{MsFlags, mount};

/// Runs `f` on a new thread that first moves into a new mount namespace (whose mounts do not
/// propagate back to the host's) and mounts a fresh `fstype` at `target` there. The thread
/// starts in the caller's network namespace, so a sysfs mounted this way shows that namespace's
/// network devices.
pub fn with_mount<T: Send>(
    fstype: &str,
    target: &Path,
    f: impl FnOnce() -> Result<T> + Send,
) -> Result<T> {
    std::thread::scope(|s| {
        s.spawn(|| {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
                .context("cannot create a private mount namespace (this needs root)")?;
            mount(
                None::<&str>,
                "/",
                None::<&str>,
                MsFlags::MS_REC | MsFlags::MS_PRIVATE,
                None::<&str>,
            )
            .context("cannot make the private mount namespace's mounts private")?;
            mount(
                Some(fstype),
                target,
                Some(fstype),
                MsFlags::empty(),
                None::<&str>,
            )
            .with_context(|| format!("cannot mount {fstype} at {}", target.display()))?;
            f()
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}
