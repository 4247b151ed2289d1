//! `--spread 127.0.0.2-127.0.0.50`: a range of IPv4 loopback addresses that `crr` clients use as
//! source addresses, one after another, so a long run at full connection rate does not run out of
//! ephemeral ports (each source address has its own port space toward the server).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::spec::address::parse_ip;

/// An inclusive range of IPv4 loopback addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddrRange {
    /// First address.
    pub first: Ipv4Addr,
    /// Last address (inclusive).
    pub last: Ipv4Addr,
}

impl AddrRange {
    /// Number of addresses in the range.
    pub fn len(&self) -> usize {
        (u32::from(self.last) - u32::from(self.first)) as usize + 1
    }

    /// Never empty (kept for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The `i`-th address, wrapping around.
    pub fn nth(&self, i: usize) -> IpAddr {
        let offset = (i % self.len()) as u32;
        IpAddr::V4(Ipv4Addr::from(u32::from(self.first) + offset))
    }
}

impl fmt::Display for AddrRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

impl FromStr for AddrRange {
    type Err = ConfigError;
    fn from_str(text: &str) -> Result<AddrRange, ConfigError> {
        let (a, b) = text.split_once('-').unwrap_or((text, text));
        let v4 = |t: &str| match parse_ip("--spread", t)? {
            IpAddr::V4(v4) => Ok(v4),
            IpAddr::V6(_) => Err(ConfigError::Invalid(format!(
                "--spread {text}: IPv6 loopback has a single address (::1); spreading needs 127.0.0.0/8"
            ))),
        };
        let (first, last) = (v4(a)?, v4(b)?);
        if u32::from(last) < u32::from(first) {
            return Err(ConfigError::Invalid(format!(
                "--spread {text}: the last address comes before the first; write it like 127.0.0.2-127.0.0.50"
            )));
        }
        Ok(AddrRange { first, last })
    }
}

impl Serialize for AddrRange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AddrRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// In JSON, an address range as the command line spells it: 127.0.0.2-127.0.0.20.
impl schemars::JsonSchema for AddrRange {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AddrRange".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "An address range as the command line spells it: 127.0.0.2-127.0.0.20",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_count_and_wrap() {
        let r: AddrRange = "127.0.0.2-127.0.0.50".parse().unwrap();
        assert_eq!(r.len(), 49);
        assert_eq!(r.nth(0), "127.0.0.2".parse::<IpAddr>().unwrap());
        assert_eq!(r.nth(48), "127.0.0.50".parse::<IpAddr>().unwrap());
        assert_eq!(r.nth(49), r.nth(0));
        assert_eq!(r.to_string(), "127.0.0.2-127.0.0.50");
        let single: AddrRange = "127.0.0.9".parse().unwrap();
        assert_eq!(single.len(), 1);
    }

    #[test]
    fn non_loopback_reversed_and_ipv6_ranges_are_refused() {
        for bad in [
            "10.0.0.1-10.0.0.5",
            "127.0.0.9-127.0.0.2",
            "::1-::1",
            "127.0.0.1-8.8.8.8",
        ] {
            assert!(bad.parse::<AddrRange>().is_err(), "{bad}");
        }
    }
}
