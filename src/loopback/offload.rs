//! Loopback offloads (TSO, GSO, GRO) through the ethtool ioctl (SIOCETHTOOL with the per-feature
//! ETHTOOL_G*/S* commands).
//!
//! Why the ioctl and not ethtool netlink: the three features have had stable one-word ioctl
//! commands since Linux 2.6 and need a 40-byte request, while ethtool-netlink needs a generic
//! netlink family lookup and bitset encoding that netlink-packet-route does not cover. Shelling
//! out to `ethtool` is not needed.

use std::os::fd::AsRawFd;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::netns::PrivateNetns;

const SIOCETHTOOL: libc::c_ulong = 0x8946;

/// One offload feature.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Offload {
    /// TCP segmentation offload.
    Tso,
    /// Generic segmentation offload.
    Gso,
    /// Generic receive offload.
    Gro,
}

impl Offload {
    /// Every feature, in display order.
    pub const ALL: [Offload; 3] = [Offload::Tso, Offload::Gso, Offload::Gro];

    /// The name used in study files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Offload::Tso => "tso",
            Offload::Gso => "gso",
            Offload::Gro => "gro",
        }
    }

    /// (get, set) ethtool commands from linux/ethtool.h.
    fn commands(self) -> (u32, u32) {
        match self {
            Offload::Tso => (0x1e, 0x1f),
            Offload::Gso => (0x23, 0x24),
            Offload::Gro => (0x2b, 0x2c),
        }
    }
}

/// `struct ethtool_value`.
#[repr(C)]
struct EthtoolValue {
    cmd: u32,
    data: u32,
}

/// `struct ifreq` with the `ifr_data` member, padded to the kernel's 40 bytes.
#[repr(C)]
struct IfreqData {
    name: [u8; libc::IFNAMSIZ],
    data: *mut EthtoolValue,
    _pad: [u8; 16],
}

fn ethtool(iface: &str, cmd: u32, data: u32) -> std::io::Result<u32> {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    let mut value = EthtoolValue { cmd, data };
    let mut req = IfreqData {
        name: [0; libc::IFNAMSIZ],
        data: &mut value,
        _pad: [0; 16],
    };
    let n = iface.len().min(libc::IFNAMSIZ - 1);
    req.name[..n].copy_from_slice(&iface.as_bytes()[..n]);
    // SAFETY: `req` is a properly laid out ifreq whose data pointer refers to `value`, which
    // outlives the call; the fd is owned by `sock`.
    let ret = unsafe { libc::ioctl(sock.as_raw_fd(), SIOCETHTOOL as _, &mut req) };
    if ret < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(value.data)
    }
}

/// Reads one feature of `iface` in the calling thread's namespace.
pub fn get(iface: &str, feature: Offload) -> Result<bool> {
    let v = ethtool(iface, feature.commands().0, 0)
        .with_context(|| format!("cannot read {} of {iface} (SIOCETHTOOL)", feature.as_str()))?;
    Ok(v != 0)
}

/// Reads every feature.
pub fn get_all(iface: &str) -> Result<Vec<(Offload, bool)>> {
    Offload::ALL
        .iter()
        .map(|&f| Ok((f, get(iface, f)?)))
        .collect()
}

/// Switches one feature of `iface` in the private namespace.
pub fn set(_ns: &PrivateNetns, iface: &str, feature: Offload, on: bool) -> Result<()> {
    ethtool(iface, feature.commands().1, u32::from(on)).with_context(|| {
        format!(
            "cannot switch {} {} on {iface} (SIOCETHTOOL)",
            feature.as_str(),
            if on { "on" } else { "off" }
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loopback::netns::{unavailable_reason, with_private};

    #[test]
    fn offloads_of_lo_can_be_read() {
        let all = get_all("lo").unwrap();
        assert_eq!(all.len(), 3);
    }

    #[test]
    #[ignore = "needs root: switches lo offloads in a private network namespace"]
    fn offloads_switch_inside_a_private_namespace_only() {
        if let Some(why) = unavailable_reason() {
            panic!("{why}");
        }
        let host = get_all("lo").unwrap();
        with_private(|ns| {
            for f in [Offload::Tso, Offload::Gso] {
                set(ns, "lo", f, false)?;
                assert!(!get("lo", f)?, "{f:?} off");
                set(ns, "lo", f, true)?;
                assert!(get("lo", f)?, "{f:?} on");
            }
            set(ns, "lo", Offload::Gso, false)?;
            Ok(())
        })
        .unwrap();
        assert_eq!(get_all("lo").unwrap(), host);
    }
}
