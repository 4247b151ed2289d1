//! Loopback: which interfaces are loopback and, over rtnetlink and the ethtool ioctl, their link
//! state, offloads, qdisc and aliases (the addresses a case may use are checked in
//! [`spec::address`](crate::spec::address)).

#[cfg(feature = "netlink")]
pub mod alias;
pub mod iface;
#[cfg(feature = "netlink")]
pub mod link;
pub mod mountns;
#[cfg(feature = "netlink")]
pub mod netlink;
#[cfg(feature = "netlink")]
pub mod netns;
#[cfg(feature = "netlink")]
pub mod offload;
#[cfg(feature = "netlink")]
pub mod qdisc;
#[cfg(feature = "netlink")]
pub mod queues;
