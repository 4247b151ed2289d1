//! `pipe`: two anonymous pipes, one per direction; the cheapest fd-to-fd path the kernel has.

use std::os::fd::OwnedFd;

use anyhow::{Context, Result};
use nix::fcntl::{FcntlArg, OFlag, fcntl};

use super::conn::{Conn, ConnInfo, Connector};
use crate::spec::Spec;

/// Builds a pair of pipes per connection; `--sndbuf` sets the pipe capacity (F_SETPIPE_SZ).
pub struct PipeConnector {
    capacity: Option<usize>,
}

impl PipeConnector {
    /// A connector for the spec.
    pub fn new(spec: &Spec) -> PipeConnector {
        PipeConnector {
            capacity: spec.socket.sndbuf,
        }
    }

    /// One pipe, sized as asked: (read end, write end, capacity).
    fn pipe(&self) -> Result<(OwnedFd, OwnedFd, Option<usize>)> {
        let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC).context("pipe2()")?;
        if let Some(bytes) = self.capacity {
            let size = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
            fcntl(&write, FcntlArg::F_SETPIPE_SZ(size)).with_context(|| {
                format!(
                    "setting the pipe size to {bytes} bytes (--sndbuf); unprivileged users are \
                     capped by /proc/sys/fs/pipe-max-size"
                )
            })?;
        }
        let capacity = fcntl(&write, FcntlArg::F_GETPIPE_SZ)
            .ok()
            .map(|n| n as usize);
        Ok((read, write, capacity))
    }
}

impl Connector for PipeConnector {
    fn pair(&mut self) -> Result<(Conn, Conn)> {
        let (c2s_read, c2s_write, c2s_size) = self.pipe()?;
        let (s2c_read, s2c_write, s2c_size) = self.pipe()?;
        let client = Conn::pipe(
            s2c_read,
            c2s_write,
            ConnInfo {
                sndbuf: c2s_size,
                rcvbuf: s2c_size,
                ..ConnInfo::default()
            },
        );
        let server = Conn::pipe(
            c2s_read,
            s2c_write,
            ConnInfo {
                sndbuf: s2c_size,
                rcvbuf: c2s_size,
                ..ConnInfo::default()
            },
        );
        Ok((client, server))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Transport;
    use crate::transport::test_util::echo_once;

    #[test]
    fn pipes_carry_bytes_both_ways_and_take_a_size() {
        let mut spec = Spec::new(Transport::Pipe);
        spec.socket.sndbuf = Some(1 << 20);
        let (mut a, mut b) = PipeConnector::new(&spec).pair().unwrap();
        assert_eq!(a.info.sndbuf, Some(1 << 20));
        echo_once(&mut a, &mut b, &[3u8; 100_000]);
    }
}
