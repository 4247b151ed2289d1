//! What the kernel (or the shm ring) makes of a case's buffer sizes, and the largest message its
//! transport then carries, found on one real connection pair before anything is measured: a
//! message the kernel would refuse (a Unix datagram larger than the send buffer) is an exit-2
//! error, and a buffer it clamped or rounded is recorded and said, never hidden.

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::ConnInfo;
use crate::error::ConfigError;
use crate::spec::{Spec, Transport};

/// Bytes of a Unix datagram's send buffer the kernel keeps for itself: a datagram of more than
/// `SO_SNDBUF − 32` bytes is refused with EMSGSIZE (`unix_dgram_sendmsg`).
const UNIX_DGRAM_OVERHEAD: usize = 32;

/// A buffer size that the kernel (or the ring) set to something other than what was asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Clamped {
    /// The flag: `--sndbuf` or `--rcvbuf`.
    pub flag: String,
    /// Bytes asked for.
    pub requested: usize,
    /// Bytes the buffer holds (for sockets: half of what SO_SNDBUF reads back, since the kernel
    /// doubles the value for its bookkeeping).
    pub effective: usize,
    /// Why, and what to do about it.
    pub why: String,
}

impl Clamped {
    /// One line for the notes: `--sndbuf 67108864 became 4194304 bytes: …`.
    pub fn sentence(&self) -> String {
        format!(
            "{} {} became {} bytes: {}",
            self.flag, self.requested, self.effective, self.why
        )
    }
}

/// Checks one connection pair of `spec` (client, server as the kernel reports them): the message
/// sizes its transport can carry, and which buffer sizes were not taken as asked.
pub fn check(spec: &Spec, client: &ConnInfo, server: &ConnInfo) -> Result<Vec<Clamped>> {
    check_message_sizes(spec, client, server)?;
    let mut out = Vec::new();
    if let (Some(asked), Some(reported)) = (spec.socket.sndbuf, client.sndbuf) {
        out.extend(clamped(spec.transport, "--sndbuf", asked, reported));
    }
    let rcvbuf = spec
        .socket
        .rcvbuf
        .filter(|_| spec.transport.family_has_rcvbuf());
    if let (Some(asked), Some(reported)) = (rcvbuf, server.rcvbuf) {
        out.extend(clamped(spec.transport, "--rcvbuf", asked, reported));
    }
    Ok(out)
}

/// A Unix datagram or seqpacket message must fit the sender's send buffer.
fn check_message_sizes(spec: &Spec, client: &ConnInfo, server: &ConnInfo) -> Result<()> {
    if !matches!(
        spec.transport,
        Transport::UnixDgram | Transport::UnixSeqpacket
    ) {
        return Ok(());
    }
    for (flag, size, sndbuf) in [
        ("--size", spec.size, client.sndbuf),
        ("--response-size", spec.response_size, server.sndbuf),
    ] {
        let Some(sndbuf) = sndbuf else { continue };
        let max = sndbuf.saturating_sub(UNIX_DGRAM_OVERHEAD);
        if size > max {
            return Err(ConfigError::Invalid(format!(
                "{flag} {size} is larger than {} can carry in one message with a {sndbuf}-byte \
                 send buffer (max {max} bytes); raise --sndbuf (as root it is forced past \
                 net.core.wmem_max) or use a smaller size",
                spec.transport
            ))
            .into());
        }
    }
    Ok(())
}

impl Transport {
    /// True when `--rcvbuf` sets something on this transport (sockets; a pipe or a ring has one
    /// size, set with `--sndbuf`).
    fn family_has_rcvbuf(self) -> bool {
        !matches!(self, Transport::Pipe | Transport::Shm)
    }
}

/// Compares what was asked with what `reported` says, in the transport's terms.
fn clamped(t: Transport, flag: &str, asked: usize, reported: usize) -> Option<Clamped> {
    let (effective, why) = match t {
        Transport::Pipe => (
            reported,
            "a pipe holds a power-of-two number of pages (unprivileged users at most \
             /proc/sys/fs/pipe-max-size)"
                .to_string(),
        ),
        Transport::Shm => (
            reported,
            "the shm ring is a power of two from 64 bytes to 1 GiB".to_string(),
        ),
        _ => (reported / 2, socket_reason(flag, asked)),
    };
    (effective != asked).then(|| Clamped {
        flag: flag.to_string(),
        requested: asked,
        effective,
        why,
    })
}

/// Why the kernel did not give a socket the buffer asked for.
fn socket_reason(flag: &str, asked: usize) -> String {
    let cap = if flag == "--sndbuf" {
        "net.core.wmem_max"
    } else {
        "net.core.rmem_max"
    };
    let max = super::options::sysctl_usize(&cap.replace('.', "/"));
    match max {
        Some(max) if asked > max => format!(
            "the kernel caps it at {cap} = {max} for users without CAP_NET_ADMIN; run as root \
             (loopbench then forces it) or raise {cap}"
        ),
        _ => "the kernel's minimum socket buffer is larger".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::connector;

    fn pair_info(spec: &Spec) -> (ConnInfo, ConnInfo) {
        let (a, b) = connector(spec).unwrap().pair().unwrap();
        (a.info.clone(), b.info.clone())
    }

    #[test]
    fn a_unix_datagram_larger_than_the_send_buffer_is_refused_up_front() {
        for t in [Transport::UnixDgram, Transport::UnixSeqpacket] {
            let mut spec = Spec::new(t);
            let (c, s) = pair_info(&spec);
            let max = c.sndbuf.unwrap() - UNIX_DGRAM_OVERHEAD;
            spec.size = max;
            spec.response_size = max;
            check(&spec, &c, &s).unwrap();
            spec.size = max + 1;
            let err = format!("{:#}", check(&spec, &c, &s).unwrap_err());
            assert!(err.contains(&format!("max {max} bytes")), "{err}");
            assert!(crate::error::is_usage_error(
                &check(&spec, &c, &s).unwrap_err()
            ));
        }
    }

    #[test]
    fn the_kernels_limit_is_the_one_checked() {
        // The largest message `check` lets through is sent; one byte more is what the kernel
        // refuses (EMSGSIZE), so the check neither refuses too much nor too little.
        let spec = Spec::new(Transport::UnixDgram);
        let (mut a, _b) = connector(&spec).unwrap().pair().unwrap();
        let max = a.info.sndbuf.unwrap() - UNIX_DGRAM_OVERHEAD;
        a.write(&vec![1u8; max]).unwrap();
        let too_big = a.write(&vec![1u8; max + 1]).unwrap_err();
        assert_eq!(too_big.raw_os_error(), Some(libc::EMSGSIZE));
    }

    #[test]
    fn buffers_set_as_asked_are_not_reported_and_clamped_ones_are() {
        let mut spec = Spec::new(Transport::Tcp4);
        spec.socket.sndbuf = Some(256 * 1024);
        let (c, s) = pair_info(&spec);
        assert!(check(&spec, &c, &s).unwrap().is_empty());
        spec.socket.sndbuf = Some(1);
        let (c, s) = pair_info(&spec);
        let out = check(&spec, &c, &s).unwrap();
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!((out[0].requested, out[0].flag.as_str()), (1, "--sndbuf"));
        assert!(out[0].effective > 1);
        assert!(out[0].sentence().contains("--sndbuf 1 became"));
        let mut pipe = Spec::new(Transport::Pipe);
        pipe.socket.sndbuf = Some(1);
        let (c, s) = pair_info(&pipe);
        let out = check(&pipe, &c, &s).unwrap();
        assert!(out[0].why.contains("pages"), "{out:?}");
    }

    #[test]
    fn above_the_cap_says_which_sysctl_and_what_to_do() {
        let why = socket_reason("--sndbuf", usize::MAX);
        assert!(why.contains("net.core.wmem_max"), "{why}");
        assert!(why.contains("root"), "{why}");
    }
}
