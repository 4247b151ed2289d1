//! The dimensions of a case: transport, workload and engine (one spelling each for the command
//! line, JSON and case ids).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// Largest payload of one UDP datagram over IPv4/IPv6 loopback (65535 − IP and UDP headers).
pub const MAX_UDP_PAYLOAD: usize = 65507;

/// Bytes at the start of every datagram payload that carry the sequence number.
pub const SEQ_BYTES: usize = 8;

/// Declares a dimension enum whose CLI spelling, serde spelling and case-id spelling are one string.
macro_rules! dimension {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The spelling used on the command line, in JSON and in case ids.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ConfigError;
            fn from_str(s: &str) -> Result<Self, ConfigError> {
                let wanted = s.trim().to_ascii_lowercase();
                $name::ALL.iter().copied().find(|v| v.as_str() == wanted).ok_or_else(|| {
                    ConfigError::UnknownValue {
                        dimension: stringify!($name),
                        value: s.to_string(),
                        expected: $name::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "),
                    }
                })
            }
        }
    };
}

dimension! {
    /// How the two workers are connected.
    Transport {
        /// TCP over IPv4 loopback.
        Tcp4 => "tcp4",
        /// TCP over IPv6 loopback (::1).
        Tcp6 => "tcp6",
        /// UDP over IPv4 loopback.
        Udp4 => "udp4",
        /// UDP over IPv6 loopback (::1).
        Udp6 => "udp6",
        /// AF_UNIX SOCK_STREAM.
        UnixStream => "unix-stream",
        /// AF_UNIX SOCK_DGRAM.
        UnixDgram => "unix-dgram",
        /// AF_UNIX SOCK_SEQPACKET.
        UnixSeqpacket => "unix-seqpacket",
        /// A pair of anonymous pipes: the kernel's cheapest fd-to-fd path (baseline).
        Pipe => "pipe",
        /// A shared-memory ring between the two threads: no kernel at all (the floor).
        Shm => "shm",
    }
}

dimension! {
    /// What the workers exchange.
    Workload {
        /// Closed-loop request/response: one request in flight per flow.
        Rr => "rr",
        /// One-way bulk transfer, counted at the receiver.
        Stream => "stream",
        /// Connect, request, response, close: one fresh connection per transaction.
        Crr => "crr",
        /// Open-loop request/response at a fixed `--rate`, latency from the intended send time.
        Rate => "rate",
    }
}

dimension! {
    /// How a worker waits for its file descriptor: the dimension that exposes scheduling cost.
    EngineKind {
        /// Blocking read/write; the thread sleeps in the kernel until woken.
        Blocking => "blocking",
        /// Non-blocking read/write in a busy loop; the thread never sleeps.
        Spin => "spin",
        /// Non-blocking sockets in an epoll loop (mio); many flows per thread.
        Epoll => "epoll",
        /// A current-thread tokio runtime per worker thread; every flow is a task.
        Tokio => "tokio",
        /// One multi-threaded tokio runtime per worker thread (work stealing, cross-thread wake-ups).
        TokioMt => "tokio-mt",
        /// Submitted reads and writes on an io_uring per worker thread; variants (`-sqpoll`,
        /// `-multishot`, `-fixed`) are [`UringSettings`](super::UringSettings).
        IoUring => "io_uring",
    }
}

dimension! {
    /// How a `stream` moves its bytes through the kernel: copies (the default) or a zero-copy path.
    #[derive(Default)]
    ZeroCopy {
        /// write/read: the kernel copies on both sides.
        #[default]
        Copy => "copy",
        /// `send(MSG_ZEROCOPY)`, completions reaped from the socket's error queue (TCP).
        Send => "send",
        /// `TCP_ZEROCOPY_RECEIVE`: received pages mapped into the reader (TCP).
        Recv => "recv",
        /// Both of the above.
        SendRecv => "send-recv",
        /// `sendfile(2)` from a memfd holding the chunk (TCP).
        Sendfile => "sendfile",
        /// `vmsplice(2)` of the chunk into the pipe (pipe), or into a private pipe and `splice(2)`
        /// from it to the socket (TCP).
        Splice => "splice",
    }
}

impl ZeroCopy {
    /// True for the copying default.
    pub fn is_copy(&self) -> bool {
        *self == ZeroCopy::Copy
    }
}

impl EngineKind {
    /// True when this build has the engine (the tokio engines need the `tokio` feature).
    pub fn is_built(self) -> bool {
        cfg!(feature = "tokio") || !matches!(self, EngineKind::Tokio | EngineKind::TokioMt)
    }
}

/// The family of socket address a transport needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressFamily {
    /// 127.0.0.0/8.
    V4,
    /// ::1.
    V6,
    /// A Unix socket path or abstract name.
    Unix,
    /// No address (pipe, shm).
    None,
}

impl Transport {
    /// True when one message is one datagram (sequence numbers, loss accounting).
    pub fn is_datagram(self) -> bool {
        matches!(
            self,
            Transport::Udp4 | Transport::Udp6 | Transport::UnixDgram
        )
    }

    /// True when messages keep their boundaries (datagram or seqpacket).
    pub fn preserves_boundaries(self) -> bool {
        self.is_datagram() || self == Transport::UnixSeqpacket
    }

    /// True for transports whose endpoints are file descriptors (every engine works on them).
    pub fn has_fd(self) -> bool {
        self != Transport::Shm
    }

    /// True for transports a separate process can reach by address and connect to
    /// (`--processes`, `--connect`); datagram transports are not supported there.
    pub fn crosses_processes(self) -> bool {
        matches!(
            self,
            Transport::Tcp4 | Transport::Tcp6 | Transport::UnixStream | Transport::UnixSeqpacket
        )
    }

    /// The address family the server address must have.
    pub fn family(self) -> AddressFamily {
        match self {
            Transport::Tcp4 | Transport::Udp4 => AddressFamily::V4,
            Transport::Tcp6 | Transport::Udp6 => AddressFamily::V6,
            Transport::UnixStream | Transport::UnixDgram | Transport::UnixSeqpacket => {
                AddressFamily::Unix
            }
            Transport::Pipe | Transport::Shm => AddressFamily::None,
        }
    }

    /// Largest message this transport can carry in one piece, if it has a limit.
    pub fn max_message(self) -> Option<usize> {
        match self {
            Transport::Udp4 | Transport::Udp6 => Some(MAX_UDP_PAYLOAD),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Placement;

    #[test]
    fn dimensions_round_trip_through_their_spelling() {
        for t in Transport::ALL {
            assert_eq!(t.as_str().parse::<Transport>().unwrap(), *t);
        }
        for e in EngineKind::ALL {
            assert_eq!(e.as_str().parse::<EngineKind>().unwrap(), *e);
        }
        for p in Placement::PRESETS {
            assert_eq!(p.to_string().parse::<Placement>().unwrap(), *p);
        }
        let cpus = Placement::Cpus {
            client: 0,
            server: 3,
        };
        assert_eq!(cpus.to_string(), "cpu0-cpu3");
        assert_eq!("cpu0-cpu3".parse::<Placement>().unwrap(), cpus);
    }

    #[test]
    fn unknown_dimension_value_lists_the_valid_ones() {
        let err = "tcp5".parse::<Transport>().unwrap_err().to_string();
        assert!(err.contains("tcp5"), "{err}");
        assert!(err.contains("unix-seqpacket"), "{err}");
    }
}
