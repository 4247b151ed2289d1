//! A small synchronous rtnetlink client: netlink-packet-route messages over a netlink-sys socket,
//! one request at a time, with the kernel's extended-ack text in errors and a receive timeout so
//! nothing waits forever. Loopback MTU, link state, qdiscs and aliases all go through here; nothing
//! shells out to `ip` or `tc`.

use std::os::fd::AsRawFd;
use std::time::Duration;

use anyhow::{Context, Result};
use netlink_packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    NlasIterator,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::protocols::NETLINK_ROUTE;
use netlink_sys::{Socket, SocketAddr};

/// How long one request may wait for the kernel's answer.
const RECV_TIMEOUT: Duration = Duration::from_secs(2);

/// `NLMSGERR_ATTR_MSG`: the extended-ack attribute that carries the kernel's error text.
const NLMSGERR_ATTR_MSG: u16 = 1;

/// A request the kernel refused: the errno and, when the kernel gave one, its explanation.
#[derive(Debug, thiserror::Error)]
#[error("{} (errno {errno}){}", std::io::Error::from_raw_os_error(*errno), explanation(.extack))]
pub struct KernelError {
    /// The positive errno (EPERM, ENOENT, ...).
    pub errno: i32,
    /// The kernel's extended-ack message ("Specified qdisc kind is unknown.").
    pub extack: Option<String>,
}

fn explanation(extack: &Option<String>) -> String {
    extack
        .as_deref()
        .map(|m| format!("; the kernel says: {m}"))
        .unwrap_or_default()
}

impl KernelError {
    /// True when the caller lacks CAP_NET_ADMIN.
    pub fn is_permission(&self) -> bool {
        self.errno == libc::EPERM || self.errno == libc::EACCES
    }
}

/// The errno of a [`KernelError`] anywhere in `err`'s chain.
pub fn kernel_errno(err: &anyhow::Error) -> Option<i32> {
    err.chain()
        .find_map(|c| c.downcast_ref::<KernelError>())
        .map(|k| k.errno)
}

/// An open NETLINK_ROUTE socket in the calling thread's network namespace.
pub struct Rtnl {
    socket: Socket,
    seq: u32,
}

fn set_recv_timeout(socket: &Socket) -> std::io::Result<()> {
    let tv = libc::timeval {
        tv_sec: RECV_TIMEOUT.as_secs() as libc::time_t,
        tv_usec: 0,
    };
    // SAFETY: `tv` is a live timeval and its size is passed; the fd belongs to `socket`.
    let ret = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if ret == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The extended-ack text in an NLMSG_ERROR payload (after the echoed 16-byte request header,
/// which is all the kernel echoes with NETLINK_CAP_ACK).
fn extack_message(payload: &[u8]) -> Option<String> {
    let tlvs = payload.get(16..)?;
    NlasIterator::new(tlvs).flatten().find_map(|nla| {
        (nla.kind() == NLMSGERR_ATTR_MSG).then(|| {
            String::from_utf8_lossy(nla.value())
                .trim_end_matches('\0')
                .to_string()
        })
    })
}

impl Rtnl {
    /// Opens and binds the socket, with extended acks and a receive timeout.
    pub fn open() -> Result<Rtnl> {
        let mut socket = Socket::new(NETLINK_ROUTE).context("cannot open a netlink socket")?;
        socket
            .bind_auto()
            .context("cannot bind the netlink socket")?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .context("cannot connect the netlink socket")?;
        let _ = socket.set_ext_ack(true);
        let _ = socket.set_cap_ack(true);
        set_recv_timeout(&socket).context("cannot set the netlink receive timeout")?;
        Ok(Rtnl { socket, seq: 0 })
    }

    /// Sends `message` (with `flags` besides REQUEST and ACK) and collects the answers until the
    /// kernel acknowledges or ends the dump. A refusal is a [`KernelError`].
    pub fn request(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        self.seq = self.seq.wrapping_add(1);
        let mut packet = NetlinkMessage::new(NetlinkHeader::default(), message.into());
        packet.header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        packet.header.sequence_number = self.seq;
        packet.finalize();
        let mut buf = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut buf);
        self.socket
            .send(&buf, 0)
            .context("cannot send a netlink request")?;
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let mut answers = Vec::new();
        let mut rx = vec![0u8; 1 << 16];
        loop {
            let n = self
                .socket
                .recv(&mut &mut rx[..], 0)
                .context("no answer from the kernel's netlink socket within 2 s")?;
            let mut offset = 0;
            while offset < n {
                let msg: NetlinkMessage<RouteNetlinkMessage> =
                    NetlinkMessage::deserialize(&rx[offset..n])
                        .context("cannot parse the kernel's netlink answer")?;
                let len = msg.header.length as usize;
                if msg.header.sequence_number == self.seq {
                    match msg.payload {
                        NetlinkPayload::Error(e) => match e.code {
                            None if !dump => return Ok(answers),
                            None => {}
                            Some(code) => {
                                return Err(KernelError {
                                    errno: -code.get(),
                                    extack: extack_message(&e.header),
                                }
                                .into());
                            }
                        },
                        NetlinkPayload::Done(_) => return Ok(answers),
                        NetlinkPayload::InnerMessage(m) => answers.push(m),
                        _ => {}
                    }
                }
                if len == 0 {
                    break;
                }
                offset += len;
            }
        }
    }

    /// A dump request (`NLM_F_DUMP`): every object of the kind asked for.
    pub fn dump(&mut self, message: RouteNetlinkMessage) -> Result<Vec<RouteNetlinkMessage>> {
        self.request(message, NLM_F_DUMP)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_route::link::LinkMessage;

    #[test]
    fn the_link_dump_contains_lo() {
        let mut rtnl = Rtnl::open().unwrap();
        let links = rtnl
            .dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))
            .unwrap();
        assert!(links.iter().any(|m| matches!(
            m,
            RouteNetlinkMessage::NewLink(l) if l.header.index == nix::net::if_::if_nametoindex("lo").unwrap()
        )));
    }

    #[test]
    fn kernel_errors_name_the_errno_and_the_kernel_text() {
        let e = KernelError {
            errno: libc::ENOENT,
            extack: Some("Specified qdisc kind is unknown.".into()),
        };
        let text = e.to_string();
        assert!(text.contains("No such file"), "{text}");
        assert!(text.contains("qdisc kind is unknown"), "{text}");
        assert!(!e.is_permission());
    }
}
