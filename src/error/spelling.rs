//! Command-line flags and the builder methods that set the same thing, so one message can be
//! told to either reader: `loopbench run` users read `--timeout`, library users read
//! `.timeout(..)` ([`crate::Error`] shows every message this way).

/// `(flag, builder spelling)`: every flag a library user sets through [`Spec::builder`] or
/// [`Run`] instead. A phrase that starts with a shorter flag (`--placement same-core`) comes
/// before that flag.
///
/// [`Spec::builder`]: crate::spec::Spec::builder
/// [`Run`]: crate::run::session::Run
pub const FLAG_TO_BUILDER: &[(&str, &str)] = &[
    ("--response-size", ".response_size(..)"),
    ("--response-delimiter", ".response_delimiter(..)"),
    ("--requests", ".requests(..)"),
    ("--protocol", ".protocol(..)"),
    ("--request-file", ".request(..)"),
    ("--request", ".request(..)"),
    ("--size", ".size(..)"),
    ("--timeout", ".timeout(..)"),
    ("--loss-timeout", ".with(|s| s.timing.loss_timeout_ns = ..)"),
    ("--iterations", ".iterations(..)"),
    ("--duration", ".duration(..)"),
    ("--count", ".count(..)"),
    ("--warmup", ".warmup(..)"),
    ("--placement same-core", ".placement(Placement::SameCore)"),
    ("--placement cross-core", ".placement(Placement::CrossCore)"),
    ("--placement", ".placement(..)"),
    ("--client-cpus", ".placement(Placement::Lists { .. })"),
    ("--server-cpus", ".placement(Placement::Lists { .. })"),
    ("--client-cpu", ".cpus(client, ..)"),
    ("--server-cpu", ".cpus(.., server)"),
    ("--client-addr", ".client_addr(..)"),
    ("--addr", ".addr(..)"),
    ("--port", ".port(..)"),
    ("--sndbuf", ".buffers(sndbuf, ..)"),
    ("--rcvbuf", ".buffers(.., rcvbuf)"),
    ("--flows", ".flows(..)"),
    ("--threads", ".flows(.., threads)"),
    ("--rate", ".rate(..)"),
    ("--max-in-flight", ".rate_settings(..)"),
    ("--server-delay", ".server_delay(..)"),
    ("--server-drop-every", ".with(|s| s.server_drop_every = ..)"),
    ("--length-prefix", ".length_prefix(..)"),
    ("--connect", ".connect(..)"),
    ("--processes", ".layout(..)"),
    ("--memory-load", ".interference(..)"),
    ("--engine", ".engine(..)"),
    ("--workload", ".workload(..)"),
    ("--transport", "Spec::builder(transport)"),
    ("--precision", "Run::precision(..)"),
    ("--max-time", "Run::precision(.., max_time)"),
    ("--no-canary", "Run::no_canary()"),
    ("--seed", "Run::seed(..)"),
    ("--label", "Run::label(..)"),
    ("--deadline", "Run::deadline(..)"),
];

/// `message` with every flag of [`FLAG_TO_BUILDER`] replaced by its builder spelling; a flag
/// already followed by its builder spelling (in parentheses or in a list) is said once.
pub fn for_builder(message: &str) -> String {
    let mut out = String::with_capacity(message.len() + 16);
    let mut rest = message;
    'scan: while let Some(at) = rest.find("--") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        for &(flag, method) in FLAG_TO_BUILDER {
            let ends_word = |s: &str| {
                !s.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            };
            if let Some(after) = tail.strip_prefix(flag).filter(|after| ends_word(after)) {
                out.push_str(method);
                let said_twice = format!(" ({method})");
                rest = after.strip_prefix(said_twice.as_str()).unwrap_or(after);
                continue 'scan;
            }
        }
        out.push_str("--");
        rest = &tail[2..];
    }
    out.push_str(rest);
    // Lists that named both spellings ("--request, --request-file, .request(..)") say it once.
    for &(_, method) in FLAG_TO_BUILDER {
        let twice = format!("{method}, {method}");
        while out.contains(&twice) {
            out = out.replace(&twice, method);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_become_builder_methods_and_other_text_stays() {
        assert_eq!(
            for_builder("--timeout must be above 0; raise --response-size or --size-bytes"),
            ".timeout(..) must be above 0; raise .response_size(..) or --size-bytes"
        );
        assert_eq!(
            for_builder("the request (--request (.request(..))) is ignored -- see x"),
            "the request (.request(..)) is ignored -- see x"
        );
        assert_eq!(for_builder("--client-cpu 3"), ".cpus(client, ..) 3");
        assert_eq!(
            for_builder("the request (--request, --request-file, .request(..)) would be ignored"),
            "the request (.request(..)) would be ignored"
        );
        assert_eq!(
            for_builder("use --placement same-core; --placement x"),
            "use .placement(Placement::SameCore); .placement(..) x"
        );
    }
}
