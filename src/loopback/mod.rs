//! Loopback: which interfaces are loopback, which addresses are safe to measure on, and (over
//! rtnetlink and the ethtool ioctl) its link state, offloads, qdisc and aliases.

pub mod addr;
pub mod alias;
pub mod iface;
pub mod link;
pub mod netlink;
pub mod netns;
pub mod offload;
pub mod qdisc;
pub mod spread;
