//! Where a message ends in a byte stream: a fixed size, a delimiter, or a length prefix. Used by
//! the client of a custom protocol (`client --connect`, user handlers) and by the server that runs
//! a user's [`Handler`](crate::spec::handler::Handler).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// A length prefix: the first `width` bytes of a message give the length of what follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LengthPrefix {
    /// Bytes in the prefix: 1, 2, 4 or 8.
    pub width: u8,
    /// Network byte order (big endian) when true.
    pub big_endian: bool,
}

impl LengthPrefix {
    /// A 4-byte big-endian prefix, the most common choice.
    pub const U32_BE: LengthPrefix = LengthPrefix {
        width: 4,
        big_endian: true,
    };

    /// The length announced by `header` (at least `width` bytes).
    fn body_len(&self, header: &[u8]) -> u64 {
        let h = &header[..usize::from(self.width)];
        let fold = |acc: u64, b: &u8| (acc << 8) | u64::from(*b);
        if self.big_endian {
            h.iter().fold(0, fold)
        } else {
            h.iter().rev().fold(0, fold)
        }
    }

    /// The whole message length (prefix included) once the prefix has arrived.
    pub fn message_len(&self, buf: &[u8]) -> Option<usize> {
        let w = usize::from(self.width);
        (buf.len() >= w).then(|| w.saturating_add(self.body_len(buf) as usize))
    }

    /// Writes the prefix for a body of `body_len` bytes followed by the body.
    pub fn frame(&self, body: &[u8]) -> Vec<u8> {
        let len = (body.len() as u64).to_be_bytes();
        let w = usize::from(self.width);
        let mut out: Vec<u8> = len[8 - w..].to_vec();
        if !self.big_endian {
            out.reverse();
        }
        out.extend_from_slice(body);
        out
    }
}

impl fmt::Display for LengthPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "u{}{}",
            u32::from(self.width) * 8,
            if self.big_endian { "be" } else { "le" }
        )
    }
}

impl FromStr for LengthPrefix {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<LengthPrefix, ConfigError> {
        let t = s.trim().to_ascii_lowercase();
        let (bits, big_endian) = match (t.strip_suffix("be"), t.strip_suffix("le")) {
            (Some(b), _) => (b, true),
            (_, Some(b)) => (b, false),
            _ => (t.as_str(), true),
        };
        let width = match bits {
            "u8" => 1,
            "u16" => 2,
            "u32" => 4,
            "u64" => 8,
            _ => {
                return Err(ConfigError::Invalid(format!(
                    "length prefix '{s}': write u8, u16be, u16le, u32be, u32le, u64be or u64le"
                )));
            }
        };
        Ok(LengthPrefix { width, big_endian })
    }
}

impl Serialize for LengthPrefix {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LengthPrefix {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// In JSON, a length prefix shape: u8, u16be, u16le, u32be, u32le, u64be or u64le.
impl schemars::JsonSchema for LengthPrefix {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "LengthPrefix".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A length prefix shape: u8, u16be, u16le, u32be, u32le, u64be or u64le",
        })
    }
}

/// What protocol a `--connect` client speaks: `raw` bytes framed by the settings above, or
/// `http1` (responses framed by their Content-Length or chunked encoding, status codes counted).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Bytes: responses end by a fixed size, a delimiter or a length prefix.
    #[default]
    Raw,
    /// HTTP/1.1 with keep-alive: responses end as their headers say.
    Http1,
}

impl Protocol {
    /// True for the default, `raw`.
    pub fn is_raw(&self) -> bool {
        *self == Protocol::Raw
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Raw => "raw",
            Protocol::Http1 => "http1",
        })
    }
}

impl FromStr for Protocol {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Protocol, ConfigError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "raw" => Ok(Protocol::Raw),
            "http1" | "http/1.1" | "http" => Ok(Protocol::Http1),
            _ => Err(ConfigError::Invalid(format!(
                "--protocol '{s}': write raw (bytes framed by --response-size, --response-delimiter or --length-prefix) or http1"
            ))),
        }
    }
}

/// One kind of request in a mix (`--requests FILE`, `.requests(..)`): sent in proportion to
/// its weight, with a latency histogram of its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NamedRequest {
    /// The kind's name in results (`GET`, `SET`, ...).
    pub name: String,
    /// Relative weight: a kind with weight 3 is sent three times as often as one with 1.
    pub weight: u32,
    /// The request's bytes.
    pub bytes: Vec<u8>,
}

/// How the messages of a custom protocol are framed (`client --connect`, server handlers): the
/// request to send and how a response ends. All unset for the built-in workloads, whose messages
/// are exactly `--size` and `--response-size` bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MessageFraming {
    /// The request payload sent to a `--connect` target (`--request`, `--request-file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Vec<u8>>,
    /// A response ends with these bytes (`--response-delimiter`) instead of being exactly
    /// `--response-size` long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_delimiter: Option<Vec<u8>>,
    /// Requests and responses start with a length prefix (`--length-prefix u32be`, ...): how a
    /// custom client and a [`ServerHandler`](crate::spec::handler::ServerHandler) find where each
    /// message ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length_prefix: Option<LengthPrefix>,
    /// The protocol a `--connect` client speaks (`--protocol`, `.protocol(..)`).
    #[serde(default, skip_serializing_if = "Protocol::is_raw")]
    pub protocol: Protocol,
    /// A mix of requests, each with its own histogram (`--requests FILE`, `.requests(..)`);
    /// replaces `request` when set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mix: Vec<NamedRequest>,
}

impl MessageFraming {
    /// True when any of the custom framing is set.
    pub fn is_custom(&self) -> bool {
        self.request.is_some()
            || self.response_delimiter.is_some()
            || self.length_prefix.is_some()
            || !self.protocol.is_raw()
            || !self.mix.is_empty()
    }

    /// True when responses end by something other than a fixed size.
    pub fn frames_responses(&self) -> bool {
        self.response_delimiter.is_some() || self.length_prefix.is_some() || !self.protocol.is_raw()
    }

    /// `-delimited-prefixu32be-http1-mix-GET-SET`, each part only when set (the request itself
    /// is not named: its length is the case's `--size`).
    pub fn id_suffix(&self) -> String {
        let mut id = String::new();
        if self.response_delimiter.is_some() {
            id.push_str("-delimited");
        }
        if let Some(p) = self.length_prefix {
            id.push_str(&format!("-prefix{p}"));
        }
        if !self.protocol.is_raw() {
            id.push_str(&format!("-{}", self.protocol));
        }
        if !self.mix.is_empty() {
            id.push_str("-mix");
            for r in &self.mix {
                id.push('-');
                id.push_str(&crate::text::sanitize(&r.name, "._"));
            }
        }
        id
    }
}

/// How the end of one message is found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Exactly this many bytes.
    Fixed(usize),
    /// Up to and including the first occurrence of these bytes.
    Delimiter(Vec<u8>),
    /// A length prefix followed by that many bytes.
    LengthPrefix(LengthPrefix),
    /// An HTTP/1.x response: headers, then the body their Content-Length or chunked encoding
    /// announces (an unframeable response counts as never complete here; the HTTP client
    /// reports why).
    Http1,
}

impl Framing {
    /// The length of the first complete message at the start of `buf`, if it has all arrived.
    pub fn complete(&self, buf: &[u8]) -> Option<usize> {
        match self {
            Framing::Fixed(n) => (buf.len() >= *n).then_some(*n),
            Framing::Delimiter(d) if d.is_empty() => None,
            Framing::Delimiter(d) => buf
                .windows(d.len())
                .position(|w| w == d.as_slice())
                .map(|i| i + d.len()),
            Framing::LengthPrefix(p) => p.message_len(buf).filter(|&n| buf.len() >= n),
            Framing::Http1 => super::http1::parse(buf, false)
                .ok()
                .flatten()
                .map(|r| r.len),
        }
    }

    /// How many bytes a buffer needs to hold the message at the start of `buf`, when that is
    /// known already (fixed size, or a length prefix that has arrived).
    pub fn needed(&self, buf: &[u8]) -> Option<usize> {
        match self {
            Framing::Fixed(n) => Some(*n),
            Framing::Delimiter(_) => None,
            Framing::LengthPrefix(p) => p.message_len(buf),
            Framing::Http1 => super::http1::announced_len(buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_round_trip_in_both_byte_orders() {
        for text in ["u8", "u16be", "u16le", "u32be", "u32le", "u64be", "u64le"] {
            let p: LengthPrefix = text.parse().unwrap();
            let frame = p.frame(b"hello");
            assert_eq!(frame.len(), usize::from(p.width) + 5, "{text}");
            assert_eq!(p.message_len(&frame), Some(frame.len()), "{text}");
            if text != "u8" {
                assert_eq!(p.to_string(), text);
            }
        }
        assert_eq!(LengthPrefix::U32_BE.frame(b"ab")[..4], [0, 0, 0, 2]);
        assert_eq!(
            "u32le".parse::<LengthPrefix>().unwrap().frame(b"ab")[..4],
            [2, 0, 0, 0]
        );
        assert!("u24".parse::<LengthPrefix>().is_err());
    }

    #[test]
    fn messages_are_complete_only_when_all_bytes_are_there() {
        let f = Framing::LengthPrefix(LengthPrefix::U32_BE);
        let frame = LengthPrefix::U32_BE.frame(b"0123456789");
        assert_eq!(f.complete(&frame[..3]), None);
        assert_eq!(f.needed(&frame[..3]), None);
        assert_eq!(f.needed(&frame[..4]), Some(14));
        assert_eq!(f.complete(&frame[..13]), None);
        let mut two = frame.clone();
        two.extend_from_slice(&frame);
        assert_eq!(
            f.complete(&two),
            Some(14),
            "the first of two pipelined messages"
        );
        let d = Framing::Delimiter(b"\r\n\r\n".to_vec());
        assert_eq!(d.complete(b"HTTP/1.1 200 OK\r\n\r\nrest"), Some(19));
        assert_eq!(d.complete(b"HTTP/1.1 200 OK\r\n"), None);
        assert_eq!(Framing::Fixed(3).complete(b"ab"), None);
        assert_eq!(Framing::Fixed(3).complete(b"abcd"), Some(3));
    }
}
