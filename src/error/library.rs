//! [`Error`]: the one error type of loopbench's library API.

use crate::error::config::{ConfigError, Interrupted, UsageError};
use crate::error::spelling::for_builder;

/// What can go wrong when loopbench is used as a library ([`Run::execute`], [`Pair`],
/// [`CustomPair`], [`Spec::builder`], the criterion routines). Messages name builder methods
/// (`.timeout(..)`), not command-line flags; match on the kind to react to it.
///
/// A measurement that failed inside a run is not an `Error`: [`Run::execute`] records it in the
/// case it belongs to ([`RunResult::errors`]).
///
/// [`Run::execute`]: crate::run::session::Run::execute
/// [`Pair`]: crate::embed::pair::Pair
/// [`CustomPair`]: crate::embed::custom::CustomPair
/// [`Spec::builder`]: crate::spec::Spec::builder
/// [`RunResult::errors`]: crate::run::session::RunResult::errors
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A spec or setting that cannot be measured as given (a size of zero, a placement this
    /// thread cannot satisfy, a setting the workload would ignore); says what to change.
    #[error("{}", for_builder(&.0.to_string()))]
    Config(#[from] ConfigError),
    /// Something around the measurement that you can fix: an address in use, an unwritable
    /// results directory, a missing privilege for tracing.
    #[error("{}", for_builder(.0))]
    Usage(String),
    /// Work was interrupted before it had anything to hand back.
    #[error("interrupted")]
    Interrupted,
    /// Your own code failed: a [`CustomPair`](crate::embed::custom::CustomPair) closure returned
    /// this error (it is the [`source`](std::error::Error::source)).
    #[error("your closure failed: {0}")]
    Closure(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// A measurement could not be made: a peer stopped or made no progress within the timeout,
    /// or the system refused a socket, a thread or a file. The message is the whole chain of
    /// causes.
    #[error("{}", for_builder(.0))]
    Measurement(String),
}

impl Error {
    /// Sorts an internal error chain into a kind, keeping its whole message.
    pub(crate) fn from_anyhow(err: anyhow::Error) -> Error {
        let err = match err.downcast::<Error>() {
            Ok(e) => return e,
            Err(err) => err,
        };
        if let Some(c) = err.chain().find_map(|c| c.downcast_ref::<ConfigError>()) {
            return Error::Config(c.clone());
        }
        if err
            .chain()
            .any(|c| c.downcast_ref::<Interrupted>().is_some())
        {
            return Error::Interrupted;
        }
        let message = format!("{err:#}");
        if err
            .chain()
            .any(|c| c.downcast_ref::<UsageError>().is_some())
        {
            Error::Usage(message)
        } else {
            Error::Measurement(message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_chains_keep_their_kind_and_speak_builder() {
        let config: anyhow::Error = ConfigError::ZeroIterations.into();
        let e = Error::from_anyhow(config.context("case x"));
        assert!(
            matches!(e, Error::Config(ConfigError::ZeroIterations)),
            "{e:?}"
        );
        assert_eq!(e.to_string(), ".iterations(..) must be at least 1");

        let stuck = anyhow::anyhow!("no progress for 5s (--timeout)").context("case y");
        let e = Error::from_anyhow(stuck);
        assert!(matches!(&e, Error::Measurement(_)), "{e:?}");
        assert_eq!(e.to_string(), "case y: no progress for 5s (.timeout(..))");

        let usage = anyhow::Error::new(UsageError("port 80 is in use; pick another --port".into()));
        let e = Error::from_anyhow(usage);
        assert!(matches!(&e, Error::Usage(_)), "{e:?}");
        assert!(e.to_string().ends_with("another .port(..)"), "{e}");

        let e = Error::from_anyhow(anyhow::Error::new(Interrupted));
        assert!(matches!(e, Error::Interrupted));
    }
}
