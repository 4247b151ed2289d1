//! Loopback aliases over rtnetlink: add, delete and list extra 127.0.0.0/8 addresses on `lo`,
//! probe that an address really carries TCP and UDP, and print the configuration that makes it
//! persistent (netplan, ifupdown, systemd-networkd) without writing any system file.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

use anyhow::{Result, bail};
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use serde::{Deserialize, Serialize};

use super::link::index_of;
use super::netlink::{KernelError, Rtnl};
use crate::error::{ConfigError, UsageError};

/// How long a probe waits for its own traffic.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// An IPv4 loopback address with its prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    /// The address (in 127.0.0.0/8).
    pub address: Ipv4Addr,
    /// Prefix length (8..=32).
    pub prefix_len: u8,
}

impl std::fmt::Display for Alias {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

impl std::str::FromStr for Alias {
    type Err = ConfigError;

    /// `127.0.0.2` (a /32, like `ip addr add`) or `127.0.0.2/8`.
    fn from_str(text: &str) -> Result<Alias, ConfigError> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text.trim(), None),
        };
        let address: Ipv4Addr = addr.parse().map_err(|_| {
            ConfigError::Invalid(format!(
                "'{text}' is not an IPv4 address; give one like 127.0.0.2 or 127.0.0.2/8"
            ))
        })?;
        if !address.is_loopback() {
            return Err(ConfigError::NotLoopback {
                flag: "alias",
                value: text.to_string(),
            });
        }
        let prefix_len = match prefix {
            None => 32,
            Some(p) => p.parse::<u8>().ok().filter(|p| (8..=32).contains(p)).ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "prefix '/{p}' of {text}: give a length from 8 to 32 (an alias stays inside 127.0.0.0/8)"
                ))
            })?,
        };
        Ok(Alias {
            address,
            prefix_len,
        })
    }
}

/// Version of `loopbench alias list --json`.
pub const SCHEMA_VERSION: u32 = 1;

/// What `loopbench alias list --json` prints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AliasList {
    /// Layout version ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Every address on lo, IPv4 first.
    pub addresses: Vec<LoAddress>,
}

/// An address on `lo` as rtnetlink lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LoAddress {
    /// The address.
    pub address: IpAddr,
    /// Prefix length.
    pub prefix_len: u8,
    /// Label (`lo`, or e.g. `lo:1`).
    pub label: Option<String>,
}

/// What a TCP and a UDP round trip on an address showed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reachability {
    /// The address probed.
    pub address: Ipv4Addr,
    /// `None` when a TCP connection carried a byte both ways, else the error.
    pub tcp_error: Option<String>,
    /// `None` when a UDP datagram arrived and was answered, else the error.
    pub udp_error: Option<String>,
}

impl Reachability {
    /// True when both probes succeeded.
    pub fn ok(&self) -> bool {
        self.tcp_error.is_none() && self.udp_error.is_none()
    }
}

fn message(alias: Alias, lo: u32) -> AddressMessage {
    let mut m = AddressMessage::default();
    m.header.family = AddressFamily::Inet;
    m.header.prefix_len = alias.prefix_len;
    m.header.scope = AddressScope::Host;
    m.header.index = lo;
    m.attributes
        .push(AddressAttribute::Local(IpAddr::V4(alias.address)));
    m.attributes
        .push(AddressAttribute::Address(IpAddr::V4(alias.address)));
    m
}

/// Turns EPERM into the message users need: what to run instead.
fn explain(err: anyhow::Error, what: &str) -> anyhow::Error {
    match err.chain().find_map(|c| c.downcast_ref::<KernelError>()) {
        Some(k) if k.is_permission() => UsageError(format!(
            "{what} needs CAP_NET_ADMIN ({k}): run as root or with sudo, or grant the binary \
             the capability (setcap cap_net_admin+ep $(which loopbench))"
        ))
        .into(),
        _ => err.context(what.to_string()),
    }
}

/// Adds `alias` to lo; returns false when it was already there.
pub fn add(alias: Alias) -> Result<bool> {
    let mut rtnl = Rtnl::open()?;
    let lo = index_of("lo")?;
    match rtnl.request(
        RouteNetlinkMessage::NewAddress(message(alias, lo)),
        NLM_F_CREATE | NLM_F_EXCL,
    ) {
        Ok(_) => Ok(true),
        Err(e) if super::netlink::kernel_errno(&e) == Some(libc::EEXIST) => Ok(false),
        Err(e) => Err(explain(e, &format!("adding {alias} to lo"))),
    }
}

/// Deletes `alias` from lo; returns false when it was not there. 127.0.0.1 is refused.
pub fn del(alias: Alias) -> Result<bool> {
    if alias.address == Ipv4Addr::LOCALHOST {
        bail!(UsageError(
            "refusing to delete 127.0.0.1 from lo: everything local depends on it".into()
        ));
    }
    let mut rtnl = Rtnl::open()?;
    let lo = index_of("lo")?;
    match rtnl.request(RouteNetlinkMessage::DelAddress(message(alias, lo)), 0) {
        Ok(_) => Ok(true),
        Err(e)
            if matches!(
                super::netlink::kernel_errno(&e),
                Some(libc::EADDRNOTAVAIL | libc::ENOENT | libc::ESRCH)
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(explain(e, &format!("deleting {alias} from lo"))),
    }
}

/// Every address on lo, IPv4 first.
pub fn list() -> Result<Vec<LoAddress>> {
    let mut rtnl = Rtnl::open()?;
    let lo = index_of("lo")?;
    let mut out: Vec<LoAddress> = rtnl
        .dump(RouteNetlinkMessage::GetAddress(AddressMessage::default()))?
        .into_iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewAddress(a) if a.header.index == lo => {
                let mut entry = LoAddress {
                    address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                    prefix_len: a.header.prefix_len,
                    label: None,
                };
                for attr in a.attributes {
                    match attr {
                        AddressAttribute::Local(ip) => entry.address = ip,
                        AddressAttribute::Address(ip) if entry.address.is_unspecified() => {
                            entry.address = ip
                        }
                        AddressAttribute::Label(l) => entry.label = Some(l),
                        _ => {}
                    }
                }
                Some(entry)
            }
            _ => None,
        })
        .collect();
    out.sort_by_key(|a| (a.address.is_ipv6(), a.address));
    Ok(out)
}

/// True when lo is up in this network namespace (nothing reaches its addresses otherwise).
pub fn lo_is_up() -> Result<bool> {
    let mut rtnl = Rtnl::open()?;
    let lo = index_of("lo")?;
    Ok(super::link::get(&mut rtnl, lo)?.up)
}

/// The prefix lengths `address` has on lo (empty when it is not there).
pub fn prefixes_of(address: Ipv4Addr) -> Result<Vec<u8>> {
    Ok(list()?
        .iter()
        .filter(|a| a.address == IpAddr::V4(address))
        .map(|a| a.prefix_len)
        .collect())
}

/// True when lo carries exactly `alias` (address and prefix).
pub fn is_present(alias: Alias) -> Result<bool> {
    Ok(list()?
        .iter()
        .any(|a| a.address == IpAddr::V4(alias.address) && a.prefix_len == alias.prefix_len))
}

fn tcp_probe(addr: Ipv4Addr) -> Result<()> {
    let listener = TcpListener::bind((addr, 0))?;
    let target = listener.local_addr()?;
    let mut client = TcpStream::connect_timeout(&target, PROBE_TIMEOUT)?;
    client.set_read_timeout(Some(PROBE_TIMEOUT))?;
    client.write_all(b"p")?;
    let (mut server, peer) = listener.accept()?;
    server.set_read_timeout(Some(PROBE_TIMEOUT))?;
    let mut b = [0u8; 1];
    server.read_exact(&mut b)?;
    server.write_all(&b)?;
    client.read_exact(&mut b)?;
    if peer.ip() != IpAddr::V4(addr) && !peer.ip().is_loopback() {
        bail!("the connection came from {peer}, not from loopback");
    }
    Ok(())
}

fn udp_probe(addr: Ipv4Addr) -> Result<()> {
    let server = UdpSocket::bind((addr, 0))?;
    let client = UdpSocket::bind((addr, 0))?;
    for s in [&server, &client] {
        s.set_read_timeout(Some(PROBE_TIMEOUT))?;
    }
    client.send_to(b"p", server.local_addr()?)?;
    let mut b = [0u8; 1];
    let (_, from) = server.recv_from(&mut b)?;
    server.send_to(&b, from)?;
    let (_, back) = client.recv_from(&mut b)?;
    if back != server.local_addr()? {
        bail!("the answer came from {back}");
    }
    Ok(())
}

/// Probes `addr` with one TCP and one UDP round trip, each bounded by a 1 s timeout.
pub fn probe(addr: Ipv4Addr) -> Reachability {
    Reachability {
        address: addr,
        tcp_error: tcp_probe(addr).err().map(|e| format!("{e:#}")),
        udp_error: udp_probe(addr).err().map(|e| format!("{e:#}")),
    }
}

/// Configuration that re-creates `alias` at boot, for the three common network managers.
pub fn persistent_snippets(alias: Alias) -> String {
    format!(
        "# netplan: /etc/netplan/60-loopback-alias.yaml (then `netplan apply`)
network:
  version: 2
  ethernets:
    lo:
      match:
        name: lo
      addresses: [{alias}]

# ifupdown: in /etc/network/interfaces, under `iface lo inet loopback`
    up ip addr add {alias} dev lo || true
    down ip addr del {alias} dev lo || true

# systemd-networkd: /etc/systemd/network/60-loopback-alias.network
[Match]
Name=lo

[Network]
Address={alias}
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_parse_with_an_optional_prefix_inside_127_8() {
        let a: Alias = "127.0.0.2".parse().unwrap();
        assert_eq!(a.prefix_len, 32);
        assert_eq!("127.0.0.9/8".parse::<Alias>().unwrap().prefix_len, 8);
        assert!("10.0.0.2".parse::<Alias>().is_err());
        assert!("127.0.0.2/4".parse::<Alias>().is_err());
        assert!("127.0.0.x".parse::<Alias>().is_err());
    }

    #[test]
    fn snippets_carry_the_address_for_every_manager() {
        let s = persistent_snippets("127.0.0.7/8".parse().unwrap());
        assert_eq!(s.matches("127.0.0.7/8").count(), 4, "{s}");
        assert!(s.contains("netplan") && s.contains("networkd") && s.contains("ifupdown"));
    }

    #[test]
    #[ignore = "needs root: adds addresses to lo in a private network namespace"]
    fn an_alias_is_reachable_exactly_while_it_is_on_lo() {
        use crate::loopback::netns::{unavailable_reason, with_private};
        if let Some(why) = unavailable_reason() {
            panic!("{why}");
        }
        with_private(|_| {
            // Without 127.0.0.1/8 only the aliases themselves are local.
            let mut rtnl = Rtnl::open()?;
            let lo = index_of("lo")?;
            let primary = "127.0.0.1/8".parse().unwrap();
            rtnl.request(RouteNetlinkMessage::DelAddress(message(primary, lo)), 0)?;
            let a: Alias = "127.0.0.5".parse().unwrap();
            assert!(!probe(a.address).ok(), "not reachable before");
            assert!(add(a)?, "added");
            assert!(!add(a)?, "already there");
            assert!(is_present(a)?);
            let r = probe(a.address);
            assert!(r.ok(), "{r:?}");
            assert!(
                !probe(Ipv4Addr::new(127, 0, 0, 6)).ok(),
                "only the alias is local"
            );
            assert!(del(a)?, "deleted");
            assert!(!del(a)?, "already gone");
            assert!(!is_present(a)?);
            assert!(!probe(a.address).ok(), "not reachable after");
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn probes_pass_on_127_0_0_1() {
        let r = probe(Ipv4Addr::LOCALHOST);
        assert!(r.ok(), "{r:?}");
    }
}
