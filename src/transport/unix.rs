//! `unix-stream`, `unix-seqpacket` and `unix-dgram`: AF_UNIX sockets on a path or an abstract
//! name (a fresh abstract name per case unless `--addr` gives one).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use socket2::{Domain, SockAddr, Socket, Type};

use super::conn::{Conn, Connector};
use super::options;
use crate::error::UsageError;
use crate::spec::address::Endpoint;
use crate::spec::{SocketOptions, Spec, Transport};

static NEXT_NAME: AtomicU64 = AtomicU64::new(0);

/// A process-unique abstract name, so concurrent runs and cases never collide.
pub(crate) fn fresh_abstract(tag: &str) -> Endpoint {
    let n = NEXT_NAME.fetch_add(1, Ordering::Relaxed);
    Endpoint::UnixAbstract(format!("loopbench-{}-{n}-{tag}", std::process::id()))
}

pub(crate) fn sockaddr(endpoint: &Endpoint) -> Result<SockAddr> {
    match endpoint {
        Endpoint::UnixPath(p) => Ok(SockAddr::unix(p)?),
        Endpoint::UnixAbstract(name) => {
            let mut bytes = vec![0u8];
            bytes.extend_from_slice(name.as_bytes());
            Ok(SockAddr::unix(OsStr::from_bytes(&bytes))?)
        }
        Endpoint::Ip(ip) => anyhow::bail!("a Unix transport cannot use the IP address {ip}"),
    }
}

/// The same endpoint with `.N` appended: datagram flows need one server name each.
fn numbered(endpoint: &Endpoint, n: usize) -> Endpoint {
    match (endpoint, n) {
        (e, 0) => e.clone(),
        (Endpoint::UnixPath(p), n) => {
            Endpoint::UnixPath(PathBuf::from(format!("{}.{n}", p.display())))
        }
        (Endpoint::UnixAbstract(a), n) => Endpoint::UnixAbstract(format!("{a}.{n}")),
        (e, _) => e.clone(),
    }
}

pub(crate) fn socket_type(t: Transport) -> Type {
    match t {
        Transport::UnixSeqpacket => Type::SEQPACKET,
        Transport::UnixDgram => Type::DGRAM,
        _ => Type::STREAM,
    }
}

/// Builds Unix socket pairs; removes the socket files it created when dropped.
pub struct UnixConnector {
    transport: Transport,
    server: Endpoint,
    listener: Option<Socket>,
    options: SocketOptions,
    created: Vec<PathBuf>,
    pairs: usize,
}

impl UnixConnector {
    /// Binds (and for stream/seqpacket, listens on) the spec's Unix address.
    pub fn open(spec: &Spec) -> Result<UnixConnector> {
        let server = spec.addr.clone().unwrap_or_else(|| fresh_abstract("srv"));
        let mut c = UnixConnector {
            transport: spec.transport,
            server,
            listener: None,
            options: spec.socket,
            created: Vec::new(),
            pairs: 0,
        };
        if spec.transport != Transport::UnixDgram {
            let listener = c.bind(&c.server.clone())?;
            listener
                .listen(1024)
                .context("listen() on the Unix server socket")?;
            listener.set_read_timeout(Some(Duration::from_secs(5)))?;
            c.listener = Some(listener);
        }
        Ok(c)
    }

    fn new_socket(&self) -> Result<Socket> {
        new_socket(self.transport, &self.options)
    }

    fn bind(&mut self, at: &Endpoint) -> Result<Socket> {
        let (sock, created) = bind(self.transport, &self.options, at)?;
        self.created.extend(created);
        Ok(sock)
    }
}

fn new_socket(transport: Transport, opts: &SocketOptions) -> Result<Socket> {
    let sock = Socket::new(Domain::UNIX, socket_type(transport).cloexec(), None)
        .context("creating a Unix socket")?;
    options::apply_buffers(&sock, opts)?;
    Ok(sock)
}

/// A Unix socket of `transport` bound to `at` (a stale socket file there is removed first), and
/// the file it created, if any, for the caller to remove.
pub(crate) fn bind(
    transport: Transport,
    opts: &SocketOptions,
    at: &Endpoint,
) -> Result<(Socket, Option<PathBuf>)> {
    if let Endpoint::UnixPath(p) = at {
        remove_if_stale(p)?;
    }
    let sock = new_socket(transport, opts)?;
    sock.bind(&sockaddr(at)?).map_err(|e| {
        let hint = match e.raw_os_error() {
            Some(libc::EADDRINUSE) => {
                "address in use; pick another --addr or stop the other listener"
            }
            Some(libc::EACCES) | Some(libc::ENOENT) => {
                "cannot create the socket file there; check the directory exists and is writable"
            }
            _ => return anyhow::Error::new(e).context(format!("could not bind {at}")),
        };
        anyhow::Error::new(UsageError(format!("could not bind {at}: {hint}")))
    })?;
    let created = match at {
        Endpoint::UnixPath(p) => Some(p.clone()),
        _ => None,
    };
    Ok((sock, created))
}

/// A socket file left by an earlier run that nobody listens on is removed; a live one is an error.
pub(crate) fn remove_if_stale(path: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !meta.file_type().is_socket() {
        return Err(UsageError(format!(
            "{} exists and is not a socket; pick another --addr",
            path.display()
        ))
        .into());
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(UsageError(format!(
            "{} is in use by another listener; pick another --addr",
            path.display()
        ))
        .into());
    }
    std::fs::remove_file(path)
        .with_context(|| format!("removing the stale socket {}", path.display()))
}

impl Connector for UnixConnector {
    fn pair(&mut self) -> Result<(Conn, Conn)> {
        let index = self.pairs;
        self.pairs += 1;
        let client = self.new_socket()?;
        let server = match &self.listener {
            Some(listener) => {
                client
                    .connect(&sockaddr(&self.server)?)
                    .with_context(|| format!("could not connect to {}", self.server))?;
                let (server, _) = listener
                    .accept()
                    .with_context(|| format!("accept() on {} failed", self.server))?;
                server.set_read_timeout(None)?;
                server
            }
            None => {
                let at = numbered(&self.server, index);
                let server = self.bind(&at)?;
                let client_name = fresh_abstract("cli");
                client
                    .bind(&sockaddr(&client_name)?)
                    .context("binding the Unix datagram client")?;
                client
                    .connect(&sockaddr(&at)?)
                    .with_context(|| format!("could not connect to {at}"))?;
                server
                    .connect(&sockaddr(&client_name)?)
                    .context("connecting the Unix datagram server")?;
                server
            }
        };
        let (ci, si) = (options::info(&client), options::info(&server));
        Ok((
            Conn::socket(client.into(), ci),
            Conn::socket(server.into(), si),
        ))
    }
}

impl Drop for UnixConnector {
    fn drop(&mut self) {
        for p in &self.created {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::test_util::echo_once;

    #[test]
    fn every_unix_kind_carries_messages_on_abstract_names() {
        for t in [
            Transport::UnixStream,
            Transport::UnixSeqpacket,
            Transport::UnixDgram,
        ] {
            let mut c = UnixConnector::open(&Spec::new(t)).unwrap();
            for _ in 0..2 {
                let (mut a, mut b) = c.pair().unwrap();
                echo_once(&mut a, &mut b, &[9u8; 2000]);
            }
        }
    }

    #[test]
    fn paths_are_created_cleaned_up_and_stale_files_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.sock");
        let mut spec = Spec::new(Transport::UnixStream);
        spec.addr = Some(Endpoint::UnixPath(path.clone()));
        {
            let mut c = UnixConnector::open(&spec).unwrap();
            let (mut a, mut b) = c.pair().unwrap();
            echo_once(&mut a, &mut b, b"x");
            assert!(path.exists());
            // A second listener on the same live path is refused with a usable message.
            let err = UnixConnector::open(&spec).err().unwrap();
            assert!(format!("{err:#}").contains("in use"), "{err:#}");
        }
        assert!(!path.exists(), "socket file removed on drop");
        // A stale socket file (nobody listening) is replaced.
        let stale = std::os::unix::net::UnixListener::bind(&path).unwrap();
        drop(stale);
        assert!(path.exists());
        UnixConnector::open(&spec).unwrap();
    }
}
