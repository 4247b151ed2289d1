//! Checks of what a client of a service needs: a request mix or generator goes to something
//! that can answer requests of several sizes, HTTP/1 goes to a service, and the response
//! framings do not contradict each other.

use crate::error::ConfigError;
use crate::spec::Spec;
use crate::spec::Workload;
use crate::spec::framing::Protocol;

/// Refuses a request mix, a generator or `--protocol http1` where nothing would honour them.
pub(crate) fn check_service(spec: &Spec) -> Result<(), ConfigError> {
    let mixed = !spec.framing.mix.is_empty() || spec.request_generator.is_some();
    let http1 = spec.framing.protocol == Protocol::Http1;
    if mixed && spec.workload != Workload::Rr {
        return Err(ConfigError::Ignored {
            setting: "a request mix (--requests, .requests(..), .request_generator(..))",
            reason: format!(
                "the {} client sends one request; mixes are measured by the rr workload (-w rr, .workload(Workload::Rr))",
                spec.workload
            ),
        });
    }
    if mixed && spec.framing.request.is_some() {
        return Err(ConfigError::Invalid(
            "give either one request (--request, .request(..)) or a mix (--requests, .requests(..), .request_generator(..)), not both".into(),
        ));
    }
    if mixed && spec.layout.connect.is_none() {
        let handler_framed = spec.server_handler.is_some() && spec.framing.length_prefix.is_some();
        if !handler_framed {
            return Err(ConfigError::Invalid(
                "a request mix needs a server that tells requests of different sizes apart: a service (client --connect, .connect(..)), or a handler (.handler(..)) with a length prefix (.length_prefix(..))".into(),
            ));
        }
    }
    if http1 {
        if spec.layout.connect.is_none() {
            return Err(ConfigError::Invalid(
                "--protocol http1 (.protocol(Protocol::Http1)) speaks to an HTTP service: give its address with client --connect (.connect(..))".into(),
            ));
        }
        if spec.framing.response_delimiter.is_some() || spec.framing.length_prefix.is_some() {
            return Err(ConfigError::Invalid(
                "--protocol http1 frames responses by their headers: drop --response-delimiter / --length-prefix (.response_delimiter(..), .length_prefix(..))".into(),
            ));
        }
    }
    Ok(())
}
