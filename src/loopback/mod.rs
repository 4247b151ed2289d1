//! Loopback: which interfaces are loopback, which addresses are safe to measure on.

pub mod addr;
pub mod iface;
pub mod spread;
