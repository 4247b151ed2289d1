//! Loopback interface recognition: the tool's own `ip addr show lo`, from getifaddrs(3).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};

use anyhow::{Context, Result};
use nix::ifaddrs::getifaddrs;
use nix::net::if_::InterfaceFlags;
use serde::{Deserialize, Serialize};

/// One address on an interface.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InterfaceAddress {
    /// The address.
    pub address: IpAddr,
    /// Prefix length from the netmask.
    pub prefix_len: u8,
    /// The label (e.g. `lo:0` for an alias); IPv6 addresses carry the interface name.
    pub label: String,
}

/// One interface that has the IFF_LOOPBACK flag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LoopbackInterface {
    /// Interface name (`lo`).
    pub name: String,
    /// Interface index.
    pub index: u32,
    /// IFF_UP.
    pub up: bool,
    /// IFF_RUNNING.
    pub running: bool,
    /// MTU in bytes, from rtnetlink (sysfs as a fallback).
    pub mtu: Option<u32>,
    /// Transmit queue length, from rtnetlink (sysfs as a fallback).
    pub tx_queue_len: Option<u32>,
    /// Every address, IPv4 first.
    pub addresses: Vec<InterfaceAddress>,
    /// Offloads by name (`tso`, `gso`, `gro`) and whether they are on; empty when they could
    /// not be read (a build without netlink, or an older run.json).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub offloads: BTreeMap<String, bool>,
}

/// Version of `loopbench iface --json`.
pub const SCHEMA_VERSION: u32 = 1;

/// What `loopbench iface` reports.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LoopbackReport {
    /// Layout version ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Every loopback interface.
    pub interfaces: Vec<LoopbackInterface>,
    /// IPv4 ranges that are local without adding an alias (CIDR), from the addresses' prefixes.
    pub reachable_v4: Vec<String>,
    /// Sample addresses probed by binding a UDP socket, with the outcome.
    pub probes: Vec<Probe>,
}

/// The result of binding a socket to one loopback address.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Probe {
    /// The address probed.
    pub address: IpAddr,
    /// True when bind() succeeded, i.e. the address is local and usable without an alias.
    pub bindable: bool,
    /// The error when it was not.
    pub error: Option<String>,
}

fn prefix_len(mask: Option<IpAddr>) -> u8 {
    match mask {
        Some(IpAddr::V4(m)) => u32::from(m).count_ones() as u8,
        Some(IpAddr::V6(m)) => u128::from(m).count_ones() as u8,
        None => 0,
    }
}

/// (MTU, tx queue length) of `name` in the calling thread's network namespace. rtnetlink first:
/// /sys/class/net shows the namespace sysfs was mounted in, which inside a private network
/// namespace is still the host's.
fn link_numbers(name: &str) -> (Option<u32>, Option<u32>) {
    #[cfg(feature = "netlink")]
    if let Ok(l) = super::netlink::Rtnl::open()
        .and_then(|mut r| super::link::get(&mut r, super::link::index_of(name)?))
    {
        return (Some(l.mtu), l.tx_queue_len);
    }
    (
        read_sys_u32(name, "mtu"),
        read_sys_u32(name, "tx_queue_len"),
    )
}

/// The offloads of `name` in the calling thread's namespace, by name.
fn offloads(name: &str) -> BTreeMap<String, bool> {
    #[cfg(feature = "netlink")]
    if let Ok(all) = super::offload::get_all(name) {
        return all
            .into_iter()
            .map(|(f, on)| (f.as_str().to_string(), on))
            .collect();
    }
    let _ = name;
    BTreeMap::new()
}

fn read_sys_u32(name: &str, file: &str) -> Option<u32> {
    std::fs::read_to_string(format!("/sys/class/net/{name}/{file}"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The base interface name of a label: `lo:0` → `lo`.
fn base_name(label: &str) -> &str {
    label.split(':').next().unwrap_or(label)
}

/// Lists every interface with IFF_LOOPBACK and its addresses.
pub fn loopback_interfaces() -> Result<Vec<LoopbackInterface>> {
    let mut by_name: BTreeMap<String, LoopbackInterface> = BTreeMap::new();
    for ifa in getifaddrs().context("getifaddrs failed")? {
        if !ifa.flags.contains(InterfaceFlags::IFF_LOOPBACK) {
            continue;
        }
        let name = base_name(&ifa.interface_name).to_string();
        let entry = by_name.entry(name.clone()).or_insert_with(|| {
            let (mtu, tx_queue_len) = link_numbers(&name);
            LoopbackInterface {
                index: nix::net::if_::if_nametoindex(name.as_str()).unwrap_or(0),
                up: ifa.flags.contains(InterfaceFlags::IFF_UP),
                running: ifa.flags.contains(InterfaceFlags::IFF_RUNNING),
                mtu,
                tx_queue_len,
                addresses: Vec::new(),
                offloads: offloads(&name),
                name,
            }
        });
        let ip = ifa.address.as_ref().and_then(|a| {
            a.as_sockaddr_in()
                .map(|v4| IpAddr::V4(v4.ip()))
                .or_else(|| a.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip())))
        });
        let mask = ifa.netmask.as_ref().and_then(|a| {
            a.as_sockaddr_in()
                .map(|v4| IpAddr::V4(v4.ip()))
                .or_else(|| a.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip())))
        });
        if let Some(address) = ip {
            entry.addresses.push(InterfaceAddress {
                address,
                prefix_len: prefix_len(mask),
                label: ifa.interface_name.clone(),
            });
        }
    }
    let mut list: Vec<LoopbackInterface> = by_name.into_values().collect();
    for iface in &mut list {
        iface
            .addresses
            .sort_by_key(|a| (a.address.is_ipv6(), a.address));
    }
    Ok(list)
}

/// The CIDR that covers `addr/prefix`.
fn network(addr: Ipv4Addr, prefix: u8) -> String {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    };
    format!("{}/{}", Ipv4Addr::from(u32::from(addr) & mask), prefix)
}

/// Binds a UDP socket to `addr` port 0: success means the address is local right now.
pub fn probe_bind(address: IpAddr) -> Probe {
    match UdpSocket::bind(SocketAddr::new(address, 0)) {
        Ok(_) => Probe {
            address,
            bindable: true,
            error: None,
        },
        Err(e) => Probe {
            address,
            bindable: false,
            error: Some(e.to_string()),
        },
    }
}

/// Builds the full report: interfaces, locally reachable IPv4 ranges, and bind probes.
pub fn report() -> Result<LoopbackReport> {
    let interfaces = loopback_interfaces()?;
    let mut reachable_v4: Vec<String> = interfaces
        .iter()
        .flat_map(|i| &i.addresses)
        .filter_map(|a| match a.address {
            IpAddr::V4(v4) => Some(network(v4, a.prefix_len)),
            IpAddr::V6(_) => None,
        })
        .collect();
    reachable_v4.sort();
    reachable_v4.dedup();
    let probes = ["127.0.0.1", "127.0.0.2", "127.255.255.254", "::1"]
        .iter()
        .map(|a| probe_bind(a.parse().expect("literal address")))
        .collect();
    Ok(LoopbackReport {
        schema_version: SCHEMA_VERSION,
        interfaces,
        reachable_v4,
        probes,
    })
}

impl LoopbackReport {
    /// The human-readable rendering, like `ip addr show lo`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if self.interfaces.is_empty() {
            out.push_str(
                "no interface has the LOOPBACK flag: bring one up with `ip link set lo up`\n",
            );
        }
        for i in &self.interfaces {
            let state = if i.up { "UP" } else { "DOWN" };
            let _ = write!(
                out,
                "{}: {} <LOOPBACK,{}{}>",
                i.index,
                i.name,
                state,
                if i.running { ",RUNNING" } else { "" }
            );
            if let Some(mtu) = i.mtu {
                let _ = write!(out, " mtu {mtu}");
            }
            if let Some(q) = i.tx_queue_len {
                let _ = write!(out, " qlen {q}");
            }
            out.push('\n');
            for a in &i.addresses {
                let fam = if a.address.is_ipv4() { "inet" } else { "inet6" };
                let label = if a.label != i.name {
                    format!(" label {}", a.label)
                } else {
                    String::new()
                };
                let _ = writeln!(out, "    {fam} {}/{}{label}", a.address, a.prefix_len);
            }
            if !i.up {
                let _ = writeln!(
                    out,
                    "    interface is down: nothing can be measured on it (`ip link set {} up`)",
                    i.name
                );
            }
        }
        if self.reachable_v4.is_empty() {
            out.push_str("no IPv4 loopback range is local: add 127.0.0.1/8 to lo\n");
        } else {
            let _ = writeln!(
                out,
                "reachable without an alias: {} (the local route covers the whole prefix)",
                self.reachable_v4.join(", ")
            );
        }
        for p in &self.probes {
            match &p.error {
                None => {
                    let _ = writeln!(out, "    bind {:<16} ok", p.address);
                }
                Some(e) => {
                    let _ = writeln!(out, "    bind {:<16} failed: {e}", p.address);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loopback_interface_is_found_with_127_0_0_1() {
        let list = loopback_interfaces().unwrap();
        let lo = list.iter().find(|i| i.name == "lo").expect("lo exists");
        assert!(lo.up);
        assert!(
            lo.addresses
                .iter()
                .any(|a| a.address == IpAddr::from([127, 0, 0, 1]) && a.prefix_len == 8)
        );
    }

    #[test]
    fn networks_are_masked() {
        assert_eq!(network(Ipv4Addr::new(127, 0, 0, 1), 8), "127.0.0.0/8");
        assert_eq!(network(Ipv4Addr::new(127, 1, 2, 3), 16), "127.1.0.0/16");
        assert_eq!(network(Ipv4Addr::new(127, 1, 2, 3), 32), "127.1.2.3/32");
    }

    #[test]
    fn all_of_127_8_is_bindable_without_an_alias() {
        let r = report().unwrap();
        assert!(
            r.reachable_v4.contains(&"127.0.0.0/8".to_string()),
            "{:?}",
            r.reachable_v4
        );
        let p = r
            .probes
            .iter()
            .find(|p| p.address == IpAddr::from([127, 0, 0, 2]))
            .unwrap();
        assert!(p.bindable, "{:?}", p.error);
        assert!(r.render().contains("127.0.0.0/8"));
    }
}
