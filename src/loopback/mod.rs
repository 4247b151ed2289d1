//! Loopback: which interfaces are loopback, which addresses are safe to measure on, and (over
//! rtnetlink and the ethtool ioctl) its link state, offloads, qdisc and aliases.

pub mod addr;
#[cfg(feature = "netlink")]
pub mod alias;
pub mod iface;
#[cfg(feature = "netlink")]
pub mod link;
#[cfg(feature = "netlink")]
pub mod netlink;
#[cfg(feature = "netlink")]
pub mod netns;
#[cfg(feature = "netlink")]
pub mod offload;
#[cfg(feature = "netlink")]
pub mod qdisc;
pub mod spread;
