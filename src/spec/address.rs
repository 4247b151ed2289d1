//! Address safety: loopbench only ever sends to 127.0.0.0/8, ::1, or Unix sockets.
//!
//! Every address a user gives goes through [`parse_endpoint`] or [`parse_ip`]; a harness that
//! floods a real network because of a typo would be a bug.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::spec::{AddressFamily, Transport};

/// A server address: an IP loopback address or a Unix socket name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// An address in 127.0.0.0/8 or ::1.
    Ip(IpAddr),
    /// A Unix socket path on the file system.
    UnixPath(PathBuf),
    /// A Linux abstract Unix socket name (written `@name`).
    UnixAbstract(String),
}

/// True for 127.0.0.0/8 and ::1, the only IP addresses loopbench talks to.
pub fn is_loopback_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback(),
    }
}

/// The broadcast address of lo's 127.0.0.0/8: local, but not a unicast address (a connection to
/// it fails, a bind to it is not what it seems).
const BROADCAST_V4: std::net::Ipv4Addr = std::net::Ipv4Addr::new(127, 255, 255, 255);

/// Parses an IP address given with `flag` and refuses anything that is not usable unicast
/// loopback; a host name or an address with a port gets a message saying what to write instead.
pub fn parse_ip(flag: &'static str, text: &str) -> Result<IpAddr, ConfigError> {
    let t = text.trim();
    let t = t
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(t);
    let ip: IpAddr = match t.parse() {
        Ok(ip) => ip,
        Err(_) => return Err(unparsable(flag, text)),
    };
    if !is_loopback_ip(ip) {
        return Err(ConfigError::NotLoopback {
            flag,
            value: text.to_string(),
        });
    }
    if ip == IpAddr::V4(BROADCAST_V4) {
        return Err(ConfigError::Invalid(format!(
            "{flag} {text} is the broadcast address of 127.0.0.0/8, not a unicast address; use \
             one of 127.0.0.1 .. 127.255.255.254"
        )));
    }
    Ok(ip)
}

/// Why `text` is not an IP address: a host name (not resolved), an address with a port, or
/// anything else (not loopback).
fn unparsable(flag: &'static str, text: &str) -> ConfigError {
    let t = text.trim();
    if let Ok(with_port) = t.parse::<std::net::SocketAddr>() {
        return ConfigError::Invalid(format!(
            "{flag} {text}: give the address without its port ({}) and the port with --port {}",
            with_port.ip(),
            with_port.port()
        ));
    }
    let host_name = !t.is_empty()
        && t.chars().any(|c| c.is_ascii_alphabetic())
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
    if host_name {
        return ConfigError::Invalid(format!(
            "{flag} {text}: host names are not resolved (a typo must never reach a real \
             network); write 127.0.0.1, another address of 127.0.0.0/8, or ::1"
        ));
    }
    ConfigError::NotLoopback {
        flag,
        value: text.to_string(),
    }
}

/// Parses a server address: a loopback IP, `/path`, `./path`, or `@abstract`.
pub fn parse_endpoint(flag: &'static str, text: &str) -> Result<Endpoint, ConfigError> {
    let t = text.trim();
    if let Some(name) = t.strip_prefix('@') {
        if name.is_empty() || name.len() > 100 {
            return Err(ConfigError::Invalid(format!(
                "{flag} {text}: an abstract Unix name needs 1 to 100 characters after '@'"
            )));
        }
        return Ok(Endpoint::UnixAbstract(name.to_string()));
    }
    if t.starts_with('/') || t.starts_with("./") || t.starts_with("../") {
        if t.len() > 107 {
            return Err(ConfigError::Invalid(format!(
                "{flag} {text}: a Unix socket path must be shorter than 108 bytes"
            )));
        }
        return Ok(Endpoint::UnixPath(PathBuf::from(t)));
    }
    parse_ip(flag, t).map(Endpoint::Ip)
}

/// A service to connect to (`client --connect`): a loopback IP address with a port, or a Unix
/// socket path or abstract name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// 127.0.0.0/8 or ::1, with a port.
    Ip(std::net::SocketAddr),
    /// A Unix socket path or abstract name.
    Unix(Endpoint),
}

impl Target {
    /// Parses an address a server printed or a user gave (`127.0.0.1:9000`, `[::1]:9000`,
    /// `@name`, `/path`, `./path`), refusing anything that is not loopback.
    pub fn parse(flag: &'static str, text: &str) -> Result<Target, ConfigError> {
        let t = text.trim();
        if t.starts_with('@') || t.starts_with('/') || t.starts_with("./") {
            return parse_endpoint(flag, t).map(Target::Unix);
        }
        let addr: std::net::SocketAddr = t.parse().map_err(|_| {
            let host = t.rsplit_once(':').map_or(t, |(host, _)| host);
            let resolved = if host.chars().any(|c| c.is_ascii_alphabetic()) && !host.contains('[')
            {
                "host names are not resolved; "
            } else {
                ""
            };
            ConfigError::Invalid(format!(
                "{flag} {text}: {resolved}write an address like 127.0.0.1:8080, [::1]:8080, @name or /path"
            ))
        })?;
        parse_ip(flag, &addr.ip().to_string())?;
        Ok(Target::Ip(addr))
    }
}

impl Endpoint {
    /// The default server address of a transport; `None` for pipe and shm, and for Unix
    /// transports, which get a fresh abstract name per connection set.
    pub fn default_for(transport: Transport) -> Option<Endpoint> {
        match transport.family() {
            AddressFamily::V4 => Some(Endpoint::Ip(IpAddr::from([127, 0, 0, 1]))),
            AddressFamily::V6 => Some(Endpoint::Ip(IpAddr::from(std::net::Ipv6Addr::LOCALHOST))),
            AddressFamily::Unix | AddressFamily::None => None,
        }
    }

    /// True when this is what the transport would use anyway.
    pub fn is_default_for(&self, transport: Transport) -> bool {
        Endpoint::default_for(transport).as_ref() == Some(self)
    }

    /// True when the address can serve `transport`.
    pub fn fits(&self, transport: Transport) -> bool {
        matches!(
            (self, transport.family()),
            (Endpoint::Ip(IpAddr::V4(_)), AddressFamily::V4)
                | (Endpoint::Ip(IpAddr::V6(_)), AddressFamily::V6)
                | (
                    Endpoint::UnixPath(_) | Endpoint::UnixAbstract(_),
                    AddressFamily::Unix
                )
        )
    }

    /// Refuses an address that cannot serve `transport`.
    pub fn check_family(&self, transport: Transport) -> Result<(), ConfigError> {
        if self.fits(transport) {
            return Ok(());
        }
        let needed = match transport.family() {
            AddressFamily::V4 => "an IPv4 loopback address (127.0.0.0/8)",
            AddressFamily::V6 => "the IPv6 loopback address ::1",
            AddressFamily::Unix => "a Unix socket path or @abstract name",
            AddressFamily::None => "no address",
        };
        Err(ConfigError::WrongFamily {
            transport: transport.as_str(),
            needed,
            value: self.to_string(),
        })
    }

    /// A file-name-safe rendering for case ids.
    pub fn slug(&self) -> String {
        match self {
            Endpoint::Ip(IpAddr::V4(v4)) => v4.to_string(),
            Endpoint::Ip(IpAddr::V6(v6)) => format!("ip6-{}", v6.to_string().replace(':', "_")),
            Endpoint::UnixPath(p) => format!("path-{}", sanitize(&p.to_string_lossy())),
            Endpoint::UnixAbstract(n) => format!("abstract-{}", sanitize(n)),
        }
    }
}

fn sanitize(text: &str) -> String {
    crate::text::sanitize(text, "._")
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Ip(ip) => write!(f, "{ip}"),
            Endpoint::UnixPath(p) => write!(f, "{}", p.display()),
            Endpoint::UnixAbstract(n) => write!(f, "@{n}"),
        }
    }
}

impl Serialize for Endpoint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Endpoint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_endpoint("addr", &s).map_err(serde::de::Error::custom)
    }
}

/// In JSON, an address as the command line spells it: 127.0.0.2, ::1, /path or @name.
impl schemars::JsonSchema for Endpoint {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Endpoint".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "An address as the command line spells it: 127.0.0.2, ::1, /path or @name",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_all_of_127_slash_8_and_ipv6_loopback() {
        for ok in [
            "127.0.0.1",
            "127.0.0.2",
            "127.255.255.254",
            "127.1.2.3",
            "::1",
            "[::1]",
        ] {
            assert!(parse_ip("--addr", ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_everything_that_is_not_loopback() {
        for bad in [
            "10.0.0.1",
            "0.0.0.0",
            "128.0.0.1",
            "192.168.1.1",
            "::",
            "fe80::1",
            "::ffff:127.0.0.1",
            "8.8.8.8",
            "",
            "127.0.0",
            "2001:db8::1",
        ] {
            let err = parse_ip("--addr", bad).unwrap_err().to_string();
            assert!(err.contains("only measures loopback"), "{bad}: {err}");
            assert!(err.contains("--addr"), "{bad}: {err}");
        }
    }

    #[test]
    fn host_names_ports_and_the_broadcast_address_say_what_to_write() {
        let err = |t: &str| parse_ip("--addr", t).unwrap_err().to_string();
        assert!(err("localhost").contains("host names are not resolved"));
        assert!(err("localhost").contains("127.0.0.1"));
        assert!(err("127.0.0.1:80").contains("--port 80"));
        assert!(err("127.255.255.255").contains("broadcast"));
        assert!(
            parse_ip("--addr", "127.0.0.0").is_ok(),
            "local on Linux: usable"
        );
        let target = Target::parse("--connect", "localhost:80").unwrap_err();
        assert!(target.to_string().contains("host names are not resolved"));
    }

    #[test]
    fn endpoints_accept_unix_paths_and_abstract_names() {
        assert_eq!(
            parse_endpoint("--addr", "@bench").unwrap(),
            Endpoint::UnixAbstract("bench".into())
        );
        assert_eq!(
            parse_endpoint("--addr", "/tmp/x.sock").unwrap(),
            Endpoint::UnixPath("/tmp/x.sock".into())
        );
        assert!(parse_endpoint("--addr", "@").is_err());
        assert!(parse_endpoint("--addr", "example.com").is_err());
        let long = format!("/{}", "a".repeat(120));
        assert!(parse_endpoint("--addr", &long).is_err());
    }

    #[test]
    fn families_match_transports() {
        let v4 = Endpoint::Ip("127.0.0.2".parse().unwrap());
        let v6 = Endpoint::Ip("::1".parse().unwrap());
        let unix = Endpoint::UnixAbstract("x".into());
        assert!(v4.fits(Transport::Tcp4) && v4.fits(Transport::Udp4));
        assert!(!v4.fits(Transport::Tcp6) && !v4.fits(Transport::UnixStream));
        assert!(v6.fits(Transport::Udp6) && !v6.fits(Transport::Udp4));
        assert!(unix.fits(Transport::UnixDgram) && !unix.fits(Transport::Pipe));
    }

    #[test]
    fn slugs_are_file_name_safe() {
        for e in [
            Endpoint::Ip("::1".parse().unwrap()),
            Endpoint::UnixPath("/tmp/a b.sock".into()),
            Endpoint::UnixAbstract("x/y".into()),
        ] {
            let slug = e.slug();
            assert!(
                !slug.contains('/') && !slug.contains(':') && !slug.contains(' '),
                "{slug}"
            );
        }
    }
}
