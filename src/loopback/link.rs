//! Link state of a loopback interface over rtnetlink: bring it up, set and read its MTU.

use anyhow::{Context, Result, anyhow};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};

use super::netlink::Rtnl;

/// What rtnetlink reports about one link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkState {
    /// Interface index.
    pub index: u32,
    /// IFF_UP.
    pub up: bool,
    /// MTU in bytes.
    pub mtu: u32,
    /// Smallest MTU the device accepts, when the kernel reports it.
    pub min_mtu: Option<u32>,
    /// Largest MTU the device accepts, when the kernel reports it.
    pub max_mtu: Option<u32>,
    /// Transmit queue length.
    pub tx_queue_len: Option<u32>,
}

/// The index of interface `name` in the calling thread's namespace.
pub fn index_of(name: &str) -> Result<u32> {
    nix::net::if_::if_nametoindex(name).with_context(|| format!("no interface named {name}"))
}

fn link_message(index: u32) -> LinkMessage {
    let mut m = LinkMessage::default();
    m.header.index = index;
    m
}

/// Reads the link's state.
pub fn get(rtnl: &mut Rtnl, index: u32) -> Result<LinkState> {
    let answers = rtnl
        .request(RouteNetlinkMessage::GetLink(link_message(index)), 0)
        .with_context(|| format!("cannot read link {index}"))?;
    let link = answers
        .into_iter()
        .find_map(|m| match m {
            RouteNetlinkMessage::NewLink(l) if l.header.index == index => Some(l),
            _ => None,
        })
        .ok_or_else(|| anyhow!("the kernel did not describe link {index}"))?;
    let mut state = LinkState {
        index,
        up: link.header.flags.contains(LinkFlags::Up),
        mtu: 0,
        min_mtu: None,
        max_mtu: None,
        tx_queue_len: None,
    };
    for a in link.attributes {
        match a {
            LinkAttribute::Mtu(m) => state.mtu = m,
            LinkAttribute::MinMtu(m) => state.min_mtu = Some(m),
            LinkAttribute::MaxMtu(m) => state.max_mtu = Some(m),
            LinkAttribute::TxQueueLen(q) => state.tx_queue_len = Some(q),
            _ => {}
        }
    }
    Ok(state)
}

/// Sets IFF_UP.
pub fn set_up(rtnl: &mut Rtnl, index: u32) -> Result<()> {
    let mut m = link_message(index);
    m.header.flags = LinkFlags::Up;
    m.header.change_mask = LinkFlags::Up;
    rtnl.request(RouteNetlinkMessage::SetLink(m), 0)
        .with_context(|| format!("cannot bring link {index} up"))?;
    Ok(())
}

/// Sets the MTU.
pub fn set_mtu(rtnl: &mut Rtnl, index: u32, mtu: u32) -> Result<()> {
    let mut m = link_message(index);
    m.attributes.push(LinkAttribute::Mtu(mtu));
    rtnl.request(RouteNetlinkMessage::SetLink(m), 0)
        .with_context(|| format!("cannot set the MTU of link {index} to {mtu}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lo_is_up_with_an_mtu() {
        let mut rtnl = Rtnl::open().unwrap();
        let lo = get(&mut rtnl, index_of("lo").unwrap()).unwrap();
        assert!(lo.up);
        assert!(lo.mtu >= 68, "{lo:?}");
    }
}
