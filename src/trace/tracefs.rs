//! tracefs: where it is (mounting it when it is not), tracepoint ids and their `format` files.
//!
//! A tracepoint's raw payload layout differs between kernels, so every field offset and size used
//! to decode a sample comes from `events/<system>/<name>/format` at run time, never from a constant.

use std::fs;
use std::path::{Path, PathBuf};

use crate::trace::error::TraceError;

/// Where tracefs is mounted on current kernels.
pub const TRACEFS: &str = "/sys/kernel/tracing";
/// The legacy location under debugfs.
pub const DEBUGFS_TRACING: &str = "/sys/kernel/debug/tracing";

/// A mounted tracefs.
#[derive(Debug, Clone)]
pub struct Tracefs {
    /// The mount point (the folder holding `events/`).
    pub root: PathBuf,
}

impl Tracefs {
    /// Finds tracefs, mounting it at /sys/kernel/tracing when neither location has `events/`.
    pub fn locate_or_mount() -> Result<Self, TraceError> {
        for root in [TRACEFS, DEBUGFS_TRACING] {
            match fs::metadata(Path::new(root).join("events")) {
                Ok(m) if m.is_dir() => return Ok(Self { root: root.into() }),
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                    let detail = format!("{root} is readable by root only ({e}): run as root");
                    return Err(TraceError::NoTracefs { detail });
                }
                _ => {}
            }
        }
        nix::mount::mount(
            Some("nodev"),
            TRACEFS,
            Some("tracefs"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        )
        .map_err(|errno| {
            let hint = if errno == nix::errno::Errno::EPERM {
                " (not root)"
            } else {
                ""
            };
            let detail =
                format!("{TRACEFS}/events is not readable and mounting it failed: {errno}{hint}");
            TraceError::NoTracefs { detail }
        })?;
        Ok(Self {
            root: TRACEFS.into(),
        })
    }

    /// Uses an already mounted tracefs (or a copy of its `events/` tree, for tests) at `root`.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Reads and parses `events/<system>/<name>/format` (which also carries the id).
    pub fn format(&self, system: &str, name: &str) -> Result<TracepointFormat, TraceError> {
        let path = self
            .root
            .join("events")
            .join(system)
            .join(name)
            .join("format");
        let text = fs::read_to_string(&path).map_err(|e| TraceError::MissingTracepoint {
            tracepoint: format!("{system}:{name}"),
            detail: format!("{}: {e}", path.display()),
        })?;
        TracepointFormat::parse(system, name, &text)
    }
}

/// One field of a tracepoint payload, as the `format` file describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field name (`common_pid`, `next_pid`, `vec`, ...).
    pub name: String,
    /// The C declaration before the name (`pid_t`, `unsigned int`, `__data_loc cpumask_t`, ...).
    pub c_type: String,
    /// Byte offset in the raw payload.
    pub offset: usize,
    /// Size in bytes.
    pub size: usize,
    /// Whether the integer is signed.
    pub signed: bool,
}

impl Field {
    /// Reads the field as an integer (1, 2, 4 or 8 bytes, native endian, sign-extended when signed).
    pub fn read_i64(&self, raw: &[u8]) -> Option<i64> {
        let bytes = raw.get(self.offset..self.offset + self.size)?;
        Some(match (self.size, self.signed) {
            (1, true) => bytes[0] as i8 as i64,
            (1, false) => bytes[0] as i64,
            (2, true) => i16::from_ne_bytes(bytes.try_into().ok()?) as i64,
            (2, false) => u16::from_ne_bytes(bytes.try_into().ok()?) as i64,
            (4, true) => i32::from_ne_bytes(bytes.try_into().ok()?) as i64,
            (4, false) => u32::from_ne_bytes(bytes.try_into().ok()?) as i64,
            (8, _) => i64::from_ne_bytes(bytes.try_into().ok()?),
            _ => return None,
        })
    }
}

/// A tracepoint's id and payload layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracepointFormat {
    /// `system:name`, e.g. `sched:sched_switch`.
    pub name: String,
    /// The id perf_event_open takes as `config` for PERF_TYPE_TRACEPOINT; also the payload's `common_type`.
    pub id: u64,
    /// Every field, common ones included, in file order.
    pub fields: Vec<Field>,
}

impl TracepointFormat {
    /// Parses the text of a `format` file.
    pub fn parse(system: &str, name: &str, text: &str) -> Result<Self, TraceError> {
        let bad = |detail: String| TraceError::BadFormat {
            tracepoint: format!("{system}:{name}"),
            detail,
        };
        let mut id = None;
        let mut fields = Vec::new();
        for line in text.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("ID:") {
                id = Some(
                    rest.trim()
                        .parse::<u64>()
                        .map_err(|e| bad(format!("ID line {line:?}: {e}")))?,
                );
            } else if line.starts_with("field:") {
                fields.push(parse_field(line).ok_or_else(|| bad(format!("field line {line:?}")))?);
            }
        }
        let id = id.ok_or_else(|| bad("no ID line".into()))?;
        Ok(Self {
            name: format!("{system}:{name}"),
            id,
            fields,
        })
    }

    /// The field called `name`.
    pub fn field(&self, name: &str) -> Result<&Field, TraceError> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| TraceError::BadFormat {
                tracepoint: self.name.clone(),
                detail: format!("no field {name:?} on this kernel"),
            })
    }
}

/// Parses `field:unsigned int vec; offset:8; size:4; signed:0;` (tab-separated in the file).
fn parse_field(line: &str) -> Option<Field> {
    let mut parts = line.split(';').map(str::trim);
    let decl = parts.next()?.strip_prefix("field:")?.trim();
    let (mut offset, mut size, mut signed) = (None, None, false);
    for part in parts {
        if let Some(v) = part.strip_prefix("offset:") {
            offset = v.parse().ok();
        } else if let Some(v) = part.strip_prefix("size:") {
            size = v.parse().ok();
        } else if let Some(v) = part.strip_prefix("signed:") {
            signed = v == "1";
        }
    }
    // The name is the last word of the declaration, without an array suffix (`args[6]`).
    let split = decl.rfind(|c: char| c.is_whitespace())?;
    let (c_type, name) = (decl[..split].trim(), decl[split..].trim());
    let name = name.split('[').next()?;
    Some(Field {
        name: name.into(),
        c_type: c_type.into(),
        offset: offset?,
        size: size?,
        signed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SWITCH: &str = include_str!("../../tests/data/trace/formats/sched_switch.format");

    #[test]
    fn parses_sched_switch_fields_and_id() {
        let f = TracepointFormat::parse("sched", "sched_switch", SWITCH).unwrap();
        assert_eq!(f.id, 372);
        let next_pid = f.field("next_pid").unwrap();
        assert_eq!(
            (next_pid.offset, next_pid.size, next_pid.signed),
            (56, 4, true)
        );
        let comm = f.field("prev_comm").unwrap();
        assert_eq!(
            (comm.offset, comm.size, comm.c_type.as_str()),
            (8, 16, "char")
        );
        assert!(f.field("no_such_field").is_err());
    }

    #[test]
    fn reads_signed_and_unsigned_integers() {
        let signed = Field {
            name: "x".into(),
            c_type: "int".into(),
            offset: 1,
            size: 4,
            signed: true,
        };
        let unsigned = Field {
            signed: false,
            ..signed.clone()
        };
        let raw = [0u8, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(signed.read_i64(&raw), Some(-1));
        assert_eq!(unsigned.read_i64(&raw), Some(u32::MAX as i64));
        assert_eq!(signed.read_i64(&raw[..4]), None, "short payload");
    }

    #[test]
    fn missing_id_is_an_error() {
        assert!(TracepointFormat::parse("a", "b", "name: b\nformat:\n").is_err());
    }
}
