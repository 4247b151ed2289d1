//! `loopbench client`: the client side alone, against a `loopbench server` or an existing local
//! service.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use super::args::{MatrixArgs, OutputArgs};
use super::measure::measure;
use crate::error::ConfigError;
use crate::host::topology::Topology;
use crate::spec::Transport;
pub use crate::spec::requests::unescape;
use crate::transport::dial::parse_target;

/// Measure a server that already listens on a loopback address.
///
/// Connects --flows connections to ADDRESS (127.0.0.0/8, ::1 or a Unix socket path/@name; the
/// transport follows the address) and runs the case's iterations like `run` does; the results
/// land in results/runs/<run-id>/ like any run (the server side's counters are empty: they are
/// in the server's own output). Against a `loopbench server`, give the same case flags. Against
/// any other service, give the request (--request or --request-file) and how a response ends:
/// exactly --response-size bytes, or at --response-delimiter (e.g. '\r\n\r\n' for the headers
/// of a bodiless HTTP response). An HTTP service is measured with --protocol http1: responses end
/// as their Content-Length or chunked encoding says, connections stay alive, status codes are
/// counted. --requests FILE sends a weighted mix of named requests, each kind with its own
/// histogram beside the total. TCP_INFO of each connection is read, and the case's notes name
/// Nagle + delayed ACK or split writes with their fixes when the round trips point at them.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  loopbench client --connect 127.0.0.1:9000
  loopbench client --connect 127.0.0.1:8080 --protocol http1
  loopbench client --connect 127.0.0.1:8080 --protocol http1 --requests mix.http
  loopbench client --connect 127.0.0.1:8080 \\
      --request 'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' \\
      --response-delimiter '\\r\\n\\r\\n'
  loopbench client --connect /run/app.sock --request-file req.bin \\
      --response-size 512 -e epoll --flows 16")]
pub struct ClientArgs {
    /// The server's address (loopback or Unix socket only).
    #[arg(long, value_name = "ADDRESS")]
    connect: String,
    /// Request payload; \r, \n, \t, \0 and \\ are unescaped.
    #[arg(long, value_name = "TEXT", conflicts_with = "request_file")]
    request: Option<String>,
    /// Request payload from a file (sent as is).
    #[arg(long, value_name = "PATH")]
    request_file: Option<PathBuf>,
    /// A mix of requests from a file: each entry starts with a line '### NAME [weight=N]'
    /// and holds one request (with --protocol http1 an HTTP request typed as text); each kind
    /// gets its own histogram. The case's size is the largest request's.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["request", "request_file"])]
    requests: Option<PathBuf>,
    /// The service's protocol: raw (responses framed by --response-size, --response-delimiter
    /// or --length-prefix) or http1 (by Content-Length or chunked encoding, kept alive, status
    /// codes counted; without a request it sends 'GET / HTTP/1.1').
    #[arg(long, value_name = "PROTOCOL", default_value = "raw")]
    protocol: String,
    /// A response ends with these bytes (escapes as in --request) instead of being exactly
    /// --response-size bytes long.
    #[arg(long, value_name = "TEXT", conflicts_with = "length_prefix")]
    response_delimiter: Option<String>,
    /// Requests and responses start with a length prefix of this shape (u8, u16be, u16le, u32be,
    /// u32le, u64be, u64le): the response ends after the length it announces. Without
    /// --request, the request is a --size-byte frame.
    #[arg(long, value_name = "SHAPE")]
    length_prefix: Option<String>,
    #[command(flatten)]
    matrix: MatrixArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    formats: super::format_args::FormatArgs,
}

/// The transport an address calls for: TCP of its family, or for a Unix socket unix-stream
/// (or unix-seqpacket with `-t unix-seqpacket`). A `-t` that the address or `--connect` cannot
/// carry is refused, never replaced.
fn transport_for(target: &str, asked: Option<&str>) -> Result<Transport, ConfigError> {
    let addr =
        parse_target("--connect", target).map_err(|e| ConfigError::Invalid(format!("{e:#}")))?;
    if let Some(path) = addr.as_pathname() {
        crate::spec::socket_path::check_connectable("--connect", path)?;
    }
    let follows = if addr.is_ipv4() {
        Transport::Tcp4
    } else if addr.is_ipv6() {
        Transport::Tcp6
    } else {
        Transport::UnixStream
    };
    let Some(asked) = asked else {
        return Ok(follows);
    };
    let asked: Vec<Transport> = crate::spec::parse_list(asked, str::parse)?;
    let [t] = asked[..] else {
        return Err(ConfigError::Invalid(format!(
            "--connect measures one service over one transport, but -t names {}",
            asked.len()
        )));
    };
    if !t.crosses_processes() {
        return Err(ConfigError::Invalid(format!(
            "-t {t} cannot be measured with --connect: it carries tcp4, tcp6, unix-stream and \
             unix-seqpacket (a datagram transport, a pipe or shm has no service to connect to); \
             measure {t} with `loopbench run`"
        )));
    }
    let fits = t == follows || (follows == Transport::UnixStream && t == Transport::UnixSeqpacket);
    if !fits {
        return Err(ConfigError::Invalid(format!(
            "-t {t} does not fit --connect {target}, which needs {follows}{}; give a matching \
             address or leave -t out (the transport follows the address)",
            if follows == Transport::UnixStream {
                " or unix-seqpacket"
            } else {
                ""
            }
        )));
    }
    Ok(t)
}

/// Runs the command.
pub fn execute(args: ClientArgs, command_line: Vec<String>) -> Result<ExitCode> {
    let topology = Topology::detect();
    let mut matrix = args.matrix.options().matrix(topology.default_placement())?;
    matrix.transports = vec![transport_for(
        &args.connect,
        args.matrix.case.transport.as_deref(),
    )?];
    matrix.addrs.clear();
    let t = &mut matrix.template;
    t.layout.connect = Some(args.connect.clone());
    t.framing.request = match (&args.request, &args.request_file) {
        (Some(text), _) => Some(unescape(text)?),
        (None, Some(path)) => Some(std::fs::read(path).with_context(|| {
            crate::error::UsageError(format!("cannot read --request-file {}", path.display()))
        })?),
        (None, None) => None,
    };
    t.framing.response_delimiter = args
        .response_delimiter
        .as_deref()
        .map(unescape)
        .transpose()?;
    t.framing.length_prefix = args.length_prefix.as_deref().map(str::parse).transpose()?;
    t.framing.protocol = args.protocol.parse()?;
    if let Some(path) = &args.requests {
        let text = std::fs::read_to_string(path).with_context(|| {
            crate::error::UsageError(format!("cannot read --requests {}", path.display()))
        })?;
        t.framing.mix = crate::spec::requests::parse_requests(
            &text,
            t.framing.protocol,
            &path.display().to_string(),
        )?;
    }
    let http1 = t.framing.protocol == crate::spec::framing::Protocol::Http1;
    if let Some(req) = &t.framing.request {
        if req.is_empty() {
            return Err(ConfigError::ZeroSize { flag: "--request" }.into());
        }
        if args.matrix.case.response_size.is_none()
            && !http1
            && t.framing.response_delimiter.is_none()
            && t.framing.length_prefix.is_none()
        {
            return Err(ConfigError::Invalid(
                "say how a response ends: --response-size BYTES, --response-delimiter TEXT, --length-prefix SHAPE, or --protocol http1"
                    .into(),
            )
            .into());
        }
    }
    if !t.framing.mix.is_empty()
        && args.matrix.case.response_size.is_none()
        && !http1
        && t.framing.response_delimiter.is_none()
        && t.framing.length_prefix.is_none()
    {
        return Err(ConfigError::Invalid(
            "say how a response ends: --response-delimiter TEXT, --length-prefix SHAPE, or --protocol http1 (a mix's responses rarely share one --response-size)"
                .into(),
        )
        .into());
    }
    let request_len = match (
        &t.framing.request,
        t.framing.mix.iter().map(|r| r.bytes.len()).max(),
    ) {
        (Some(r), _) => Some(r.len()),
        (None, Some(longest)) => Some(longest),
        (None, None) if http1 => Some(crate::workload::handler::DEFAULT_HTTP_REQUEST.len()),
        (None, None) => None,
    };
    let mut specs = crate::workload::expand(&matrix)?;
    if let Some(len) = request_len {
        // The request is the message: its length is the size of every case.
        for s in &mut specs {
            s.size = len;
        }
    }
    measure(
        specs,
        &args.output,
        &super::trust_args::TrustArgs::default(),
        &args.formats,
        command_line,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transport_follows_the_address() {
        assert_eq!(
            transport_for("127.0.0.1:80", None).unwrap(),
            Transport::Tcp4
        );
        assert_eq!(transport_for("[::1]:80", None).unwrap(), Transport::Tcp6);
        assert_eq!(transport_for("@x", None).unwrap(), Transport::UnixStream);
        assert_eq!(
            transport_for("@x", Some("unix-seqpacket")).unwrap(),
            Transport::UnixSeqpacket
        );
        assert!(transport_for("10.1.1.1:80", None).is_err());
    }

    #[test]
    fn a_transport_the_address_or_connect_cannot_carry_is_refused_not_replaced() {
        for (target, t, says) in [
            ("127.0.0.1:80", "udp4", "cannot be measured with --connect"),
            ("@x", "unix-dgram", "cannot be measured with --connect"),
            ("127.0.0.1:80", "pipe", "cannot be measured with --connect"),
            ("127.0.0.1:80", "tcp6", "does not fit"),
            ("@x", "tcp4", "does not fit"),
            ("127.0.0.1:80", "tcp4,tcp6", "one transport"),
        ] {
            let err = transport_for(target, Some(t)).unwrap_err().to_string();
            assert!(err.contains(says), "{target} -t {t}: {err}");
        }
    }
}
