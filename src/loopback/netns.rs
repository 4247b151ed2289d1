//! Private network namespaces: a thread (and the threads and processes it starts) moves into a
//! namespace of its own with unshare(CLONE_NEWNET), where lo, its MTU, offloads and qdisc and every
//! /proc/sys/net value belong to that namespace alone. Changing them there never touches the host.

use std::marker::PhantomData;

use anyhow::{Context, Result};

use super::{link, netlink::Rtnl};
use crate::error::UsageError;

/// Proof that the calling thread is in a network namespace it created. Functions that change
/// loopback settings take it, so they cannot be called on the host's namespace by mistake.
pub struct PrivateNetns {
    _this_thread_only: PhantomData<*const ()>,
}

/// Moves the calling thread into a new network namespace and brings its `lo` up.
///
/// Needs CAP_SYS_ADMIN; without it the error says so (exit code 2).
pub fn enter_private() -> Result<PrivateNetns> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| {
        UsageError(format!(
            "cannot create a private network namespace (unshare CLONE_NEWNET): {e}; this needs \
             root (CAP_SYS_ADMIN): run as root, or under `sudo`"
        ))
    })?;
    let mut rtnl = Rtnl::open()?;
    let lo = link::index_of("lo")?;
    link::set_up(&mut rtnl, lo).context("bringing lo up in the private namespace")?;
    Ok(PrivateNetns {
        _this_thread_only: PhantomData,
    })
}

/// Runs `f` on a new thread inside a fresh private namespace, which disappears when `f` returns.
pub fn with_private<T, F>(f: F) -> Result<T>
where
    T: Send,
    F: FnOnce(&PrivateNetns) -> Result<T> + Send,
{
    std::thread::scope(|s| {
        s.spawn(|| {
            let ns = enter_private()?;
            f(&ns)
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// Why a test or command cannot create a private namespace here, or `None` when it can.
pub fn unavailable_reason() -> Option<String> {
    with_private(|_| Ok(())).err().map(|e| format!("{e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[ignore = "needs root: creates a private network namespace"]
    fn a_private_namespace_has_its_own_lo_and_sysctls() {
        if let Some(why) = unavailable_reason() {
            panic!("{why}");
        }
        let host_lo = link::index_of("lo").unwrap();
        let host_mtu = link::get(&mut Rtnl::open().unwrap(), host_lo).unwrap().mtu;
        with_private(|_| {
            let mut rtnl = Rtnl::open()?;
            let lo = link::index_of("lo")?;
            assert!(link::get(&mut rtnl, lo)?.up, "lo was brought up");
            link::set_mtu(&mut rtnl, lo, 1500)?;
            assert_eq!(link::get(&mut rtnl, lo)?.mtu, 1500);
            assert!(
                std::fs::metadata("/proc/sys/net/core/netdev_max_backlog").is_err(),
                "global-only sysctls are not visible in a namespace"
            );
            Ok(())
        })
        .unwrap();
        let after = link::get(&mut Rtnl::open().unwrap(), host_lo).unwrap().mtu;
        assert_eq!(after, host_mtu, "the host's lo is untouched");
    }
}
