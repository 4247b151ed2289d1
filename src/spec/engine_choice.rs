//! An engine as a case names it: the [`EngineKind`] and, for `io_uring`, its variant
//! ([`UringSettings`]). One spelling for the command line, suite and study files and case ids:
//! `io_uring[-sqpoll[@CPU]][-multishot][-fixed]`, e.g. `io_uring-sqpoll@1`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::EngineKind;
use crate::error::ConfigError;

/// How the `io_uring` engine sets up its ring (all off: plain submit-and-wait).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub struct UringSettings {
    /// A kernel submission thread polls the submission queue (`IORING_SETUP_SQPOLL`): the worker
    /// enters the kernel only to wait. Its CPU time is counted on the side that owns the ring.
    #[serde(default)]
    pub sqpoll: bool,
    /// The CPU the submission thread is pinned to (`IORING_SETUP_SQ_AFF`); unpinned when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sq_cpu: Option<usize>,
    /// One multishot receive per connection into a ring of provided buffers.
    #[serde(default)]
    pub multishot: bool,
    /// Registered files and buffers (`READ_FIXED`/`WRITE_FIXED` on registered descriptors).
    #[serde(default)]
    pub fixed: bool,
}

impl UringSettings {
    /// True for the plain variant.
    pub fn is_off(&self) -> bool {
        *self == UringSettings::default()
    }

    /// `-sqpoll@1-multishot`, each part only when on.
    pub fn suffix(&self) -> String {
        let mut s = String::new();
        if self.sqpoll {
            s.push_str("-sqpoll");
            if let Some(cpu) = self.sq_cpu {
                s.push_str(&format!("@{cpu}"));
            }
        }
        if self.multishot {
            s.push_str("-multishot");
        }
        if self.fixed {
            s.push_str("-fixed");
        }
        s
    }
}

/// An engine and its options, as lists of engines name them.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(into = "String", try_from = "String")]
pub struct EngineChoice {
    /// The engine.
    pub kind: EngineKind,
    /// Its io_uring variant (off for every other engine).
    pub uring: UringSettings,
}

impl From<EngineKind> for EngineChoice {
    fn from(kind: EngineKind) -> EngineChoice {
        EngineChoice {
            kind,
            uring: UringSettings::default(),
        }
    }
}

impl fmt::Display for EngineChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.kind, self.uring.suffix())
    }
}

fn bad_variant(text: &str, part: &str) -> ConfigError {
    ConfigError::Invalid(format!(
        "unknown io_uring option '{part}' in --engine {text}; write io_uring followed by any of \
         -sqpoll (or -sqpoll@CPU to pin the kernel's submission thread), -multishot, -fixed, in \
         that order (e.g. io_uring-sqpoll@1)"
    ))
}

impl FromStr for EngineChoice {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<EngineChoice, ConfigError> {
        let text = s.trim().to_ascii_lowercase();
        let name = EngineKind::IoUring.as_str();
        let Some(rest) = text.strip_prefix(name).filter(|r| r.starts_with('-')) else {
            return text.parse::<EngineKind>().map(EngineChoice::from);
        };
        let mut uring = UringSettings::default();
        // Each option once, in the order of `UringSettings::suffix`, so every variant has one
        // spelling (and one case id).
        let mut order = 0;
        for part in rest[1..].split('-') {
            let (rank, seen) = match part.split_once('@') {
                _ if part == "sqpoll" => (1, &mut uring.sqpoll),
                Some(("sqpoll", cpu)) => {
                    uring.sq_cpu = Some(cpu.parse().map_err(|_| bad_variant(s, part))?);
                    (1, &mut uring.sqpoll)
                }
                _ if part == "multishot" => (2, &mut uring.multishot),
                _ if part == "fixed" => (3, &mut uring.fixed),
                _ => return Err(bad_variant(s, part)),
            };
            if rank <= order || *seen {
                return Err(bad_variant(s, part));
            }
            *seen = true;
            order = rank;
        }
        Ok(EngineChoice {
            kind: EngineKind::IoUring,
            uring,
        })
    }
}

impl From<EngineChoice> for String {
    fn from(c: EngineChoice) -> String {
        c.to_string()
    }
}

impl TryFrom<String> for EngineChoice {
    type Error = ConfigError;

    fn try_from(s: String) -> Result<EngineChoice, ConfigError> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_one_spelling_that_round_trips() {
        for text in [
            "blocking",
            "epoll",
            "io_uring",
            "io_uring-sqpoll",
            "io_uring-sqpoll@1",
            "io_uring-multishot",
            "io_uring-fixed",
            "io_uring-sqpoll@0-multishot-fixed",
        ] {
            let c: EngineChoice = text.parse().unwrap();
            assert_eq!(c.to_string(), text);
        }
        let c: EngineChoice = "io_uring-sqpoll@3".parse().unwrap();
        assert!(c.uring.sqpoll && c.uring.sq_cpu == Some(3) && !c.uring.multishot);
        assert_eq!(
            serde_json::to_value(c).unwrap(),
            serde_json::json!("io_uring-sqpoll@3")
        );
    }

    #[test]
    fn unknown_repeated_or_reordered_options_are_refused_with_the_spelling() {
        for bad in [
            "io_uring-turbo",
            "io_uring-fixed-multishot",
            "io_uring-sqpoll-sqpoll",
            "io_uring-sqpoll@x",
            "io_uring-",
        ] {
            let e = bad.parse::<EngineChoice>().unwrap_err().to_string();
            assert!(e.contains("-sqpoll@CPU"), "{bad}: {e}");
        }
        assert!("spin-sqpoll".parse::<EngineChoice>().is_err());
    }
}
