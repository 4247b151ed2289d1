//! Errors a user can cause by what they ask for. Each names the flag and says how to fix it
//! (library users read the builder's spelling: see [`crate::Error`]).

/// A request that cannot be measured as given.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ConfigError {
    /// A dimension value that does not exist.
    #[error("unknown {dimension} '{value}'; expected one of: {expected}")]
    UnknownValue {
        /// Which dimension (Transport, EngineKind, ...).
        dimension: &'static str,
        /// What the user wrote.
        value: String,
        /// The valid spellings.
        expected: String,
    },
    /// A size of zero bytes.
    #[error("{flag} must be at least 1 byte")]
    ZeroSize {
        /// The flag that carried it.
        flag: &'static str,
    },
    /// A message larger than the transport can carry.
    #[error(
        "{flag} {value} is larger than {transport} can carry in one message (max {max} bytes); use a smaller size or a stream transport"
    )]
    TooLarge {
        /// The flag that carried it.
        flag: &'static str,
        /// The size given.
        value: usize,
        /// The transport (its command-line spelling).
        transport: &'static str,
        /// Its limit.
        max: usize,
    },
    /// A datagram too small to carry the sequence number.
    #[error(
        "{flag} {value} is too small for {transport}: datagrams carry an 8-byte sequence number so losses can be counted; use at least 8"
    )]
    TooSmallForSequence {
        /// The flag that carried it.
        flag: &'static str,
        /// The size given.
        value: usize,
        /// The transport (its command-line spelling).
        transport: &'static str,
    },
    /// A size that does not parse.
    #[error("cannot read '{0}' as a size; write bytes like 64, 1k, 64KiB or 1M")]
    BadSize(String),
    /// A duration that does not parse.
    #[error("cannot read '{0}' as a duration; write it like 500ms, 1s or 2m")]
    BadDuration(String),
    /// Zero iterations.
    #[error("--iterations must be at least 1")]
    ZeroIterations,
    /// A zero-length iteration.
    #[error("--duration and --count must be greater than zero")]
    ZeroLength,
    /// An address outside loopback.
    #[error(
        "{flag} {value}: loopbench only measures loopback; use an address in 127.0.0.0/8, ::1, or a Unix socket path (/path, ./path or @abstract)"
    )]
    NotLoopback {
        /// The flag that carried it.
        flag: &'static str,
        /// What the user wrote.
        value: String,
    },
    /// An address of the wrong family for the transport.
    #[error("{transport} needs {needed}, but the address given is {value}")]
    WrongFamily {
        /// The transport (its command-line spelling).
        transport: &'static str,
        /// What kind of address it needs.
        needed: &'static str,
        /// The address given.
        value: String,
    },
    /// An engine that cannot drive a transport.
    #[error(
        "engine {engine} cannot drive {transport}: shm has no file descriptor to wait on; use --engine spin or blocking (futex)"
    )]
    EngineUnsupported {
        /// The engine (its command-line spelling).
        engine: &'static str,
        /// The transport (its command-line spelling).
        transport: &'static str,
    },
    /// An engine this host refuses (io_uring disabled by sysctl, or a seccomp filter).
    #[error("--engine {engine} cannot run on this host: {reason}")]
    EngineUnavailable {
        /// The engine with its options (its command-line spelling).
        engine: String,
        /// Why, naming the setting and the fix.
        reason: String,
    },
    /// A placement the machine cannot satisfy.
    #[error("placement {placement}: {reason}")]
    Placement {
        /// The placement asked for.
        placement: String,
        /// Why the machine cannot satisfy it, and what to do.
        reason: String,
    },
    /// A setting the case's workload (or its layout) would silently ignore.
    #[error("{setting} would be ignored: {reason}")]
    Ignored {
        /// The setting, as the command line and the library builder spell it.
        setting: &'static str,
        /// Why nothing would use it, and what to do instead.
        reason: String,
    },
    /// A value above the stated maximum of its flag (see `spec::limits`).
    #[error("{flag} {value} is above the maximum of {max}")]
    AboveMaximum {
        /// The flag that carried it.
        flag: &'static str,
        /// The value given.
        value: String,
        /// The largest value accepted.
        max: String,
    },
    /// Any other invalid combination of options.
    #[error("{0}")]
    Invalid(String),
}

/// Wraps a runtime failure the user caused (port in use, unwritable directory) so the exit code
/// is 2; the message is the wrapped text.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The error of a run stopped by Ctrl-C or SIGTERM.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;
