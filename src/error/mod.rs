//! The error kinds: what a user can get wrong ([`ConfigError`], [`UsageError`]), an interrupted
//! run ([`Interrupted`]), and the one error of the library's public API ([`Error`]), which names
//! builder methods where the command line's errors name flags ([`spelling`]).
//!
//! Anything that is a [`ConfigError`] or a [`UsageError`] (directly, as the root of an `anyhow`
//! chain, or inside an [`Error`]) makes the command exit with code 2; measurement failures exit
//! with 1.

mod config;
mod library;
pub mod spelling;

pub use config::{ConfigError, Interrupted, UsageError};
pub use library::Error;

/// True when the error chain contains a [`ConfigError`], a [`UsageError`] or an [`Error`] of
/// either kind: something the user caused by their input (address in use, permission denied
/// on the output directory).
pub fn is_usage_error(err: &anyhow::Error) -> bool {
    // A context (`.context(UsageError(..))`) is found by downcasting the error itself; causes
    // by walking the chain.
    let usage = |cause: &(dyn std::error::Error + 'static)| {
        cause.downcast_ref::<ConfigError>().is_some()
            || cause.downcast_ref::<UsageError>().is_some()
            || cause
                .downcast_ref::<Error>()
                .is_some_and(|e| matches!(e, Error::Config(_) | Error::Usage(_)))
    };
    err.downcast_ref::<UsageError>().is_some()
        || err.downcast_ref::<ConfigError>().is_some()
        || err.chain().any(usage)
}
