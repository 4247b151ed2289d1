//! Building a [`Spec`] in code, with the same dimensions and defaults as `loopbench run`, checked
//! as `loopbench run` checks it (so the builder lives above the workloads, not in `spec`).
//!
//! ```
//! use std::time::Duration;
//! use loopbench::spec::{EngineKind, Placement, Spec, Transport};
//!
//! let spec = Spec::builder(Transport::Tcp4)
//!     .engine(EngineKind::Spin)
//!     .placement(Placement::SameCore)
//!     .size(256)
//!     .iterations(3)
//!     .duration(Duration::from_millis(200))
//!     .addr("127.0.0.2")
//!     .build()?;
//! assert_eq!(spec.case_id().as_str(), "tcp4-rr-spin-same-core-256B-at-127.0.0.2");
//! # Ok::<(), loopbench::Error>(())
//! ```

use std::time::Duration;

use crate::error::{ConfigError, Error};
use crate::spec::address::{parse_endpoint, parse_ip};
use crate::spec::framing::{LengthPrefix, MessageFraming, NamedRequest, Protocol};
use crate::spec::handler::{Handler, RequestGenerator, ServerHandler};
use crate::spec::{
    CrrSettings, EngineKind, Interference, IterationLength, Placement, ProcessLayout, RateSettings,
    Spec, Transport, Workload,
};
use crate::workload;

/// Builds a [`Spec`]; every setting starts at the command line's default. Mistakes (a
/// non-loopback address, a size of zero) are reported by [`SpecBuilder::build`].
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until build() is called"]
pub struct SpecBuilder {
    spec: Spec,
    error: Option<ConfigError>,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Spec {
    /// A builder for a case over `transport`, with the command line's defaults for the rest.
    pub fn builder(transport: Transport) -> SpecBuilder {
        SpecBuilder {
            spec: Spec::new(transport),
            error: None,
        }
    }
}

impl SpecBuilder {
    fn set(mut self, f: impl FnOnce(&mut Spec)) -> SpecBuilder {
        f(&mut self.spec);
        self
    }

    fn fail(mut self, e: ConfigError) -> SpecBuilder {
        self.error.get_or_insert(e);
        self
    }

    /// What the workers exchange (default: rr).
    pub fn workload(self, w: Workload) -> SpecBuilder {
        self.set(|s| s.workload = w)
    }

    /// How each worker waits (default: blocking).
    pub fn engine(self, e: EngineKind) -> SpecBuilder {
        self.set(|s| s.engine = e)
    }

    /// Where the workers run (default: cross-core).
    pub fn placement(self, p: Placement) -> SpecBuilder {
        self.set(|s| s.placement = p)
    }

    /// Pins the client and the server to these CPUs.
    pub fn cpus(self, client: usize, server: usize) -> SpecBuilder {
        self.set(|s| s.placement = Placement::Cpus { client, server })
    }

    /// Request (or write) size in bytes, and the response size too unless set after (default: 64).
    pub fn size(self, bytes: usize) -> SpecBuilder {
        self.set(|s| {
            s.size = bytes;
            s.response_size = bytes;
        })
    }

    /// Response size in bytes.
    pub fn response_size(self, bytes: usize) -> SpecBuilder {
        self.set(|s| s.response_size = bytes)
    }

    /// Server address: `127.0.0.2`, `::1`, `/path/to.sock` or `@abstract`.
    pub fn addr(self, addr: &str) -> SpecBuilder {
        match parse_endpoint("addr", addr) {
            Ok(e) => self.set(|s| s.addr = Some(e)),
            Err(e) => self.fail(e),
        }
    }

    /// Client source address (IP transports).
    pub fn client_addr(self, addr: &str) -> SpecBuilder {
        match parse_ip("client_addr", addr) {
            Ok(ip) => self.set(|s| s.client_addr = Some(ip)),
            Err(e) => self.fail(e),
        }
    }

    /// Server port (default: 0: a free one).
    pub fn port(self, port: u16) -> SpecBuilder {
        self.set(|s| s.port = port)
    }

    /// SO_SNDBUF / SO_RCVBUF in bytes.
    pub fn buffers(self, sndbuf: usize, rcvbuf: usize) -> SpecBuilder {
        self.set(|s| {
            s.socket.sndbuf = Some(sndbuf);
            s.socket.rcvbuf = Some(rcvbuf);
        })
    }

    /// Flows per iteration and worker threads per side (default: 1, 1).
    pub fn flows(self, flows: u32, threads: u32) -> SpecBuilder {
        self.set(|s| {
            s.flows = flows;
            s.threads = threads;
        })
    }

    /// Requests per second per flow (the `rate` workload).
    pub fn rate(self, per_sec: u64) -> SpecBuilder {
        self.set(|s| {
            s.workload = Workload::Rate;
            s.rate.rate_per_sec = per_sec;
        })
    }

    /// The built-in server busy-waits this long per request (simulated service time).
    pub fn server_delay(self, d: Duration) -> SpecBuilder {
        self.set(|s| s.server_delay_ns = nanos(d))
    }

    /// Stamps every message's stages (`--stages`): the round trip splits into the client's send
    /// call, the request's path, the server's turnaround (a handler's own time is its own
    /// stage, `handler`), the server's send call and the response's path; the case id gets
    /// `-stages`. Refused (at run time) when the clock cannot be compared across the two CPUs.
    pub fn stages(self, on: bool) -> SpecBuilder {
        self.set(|s| s.instrument.stages = on)
    }

    /// Measured iterations (default: 5); each uses fresh connections and is one statistical sample.
    pub fn iterations(self, n: u32) -> SpecBuilder {
        self.set(|s| s.timing.iterations = n)
    }

    /// Length of one iteration (default: 1 s).
    pub fn duration(self, d: Duration) -> SpecBuilder {
        self.set(|s| {
            s.timing.length = IterationLength::Duration {
                duration_ns: nanos(d),
            }
        })
    }

    /// Ends each iteration after this many messages instead.
    pub fn count(self, messages: u64) -> SpecBuilder {
        self.set(|s| s.timing.length = IterationLength::Count { messages })
    }

    /// Warm-up before the case's first iteration (default: 500 ms).
    pub fn warmup(self, d: Duration) -> SpecBuilder {
        self.set(|s| s.timing.warmup_ns = nanos(d))
    }

    /// Longest wait for the peer before the case fails (default: 5 s).
    pub fn timeout(self, d: Duration) -> SpecBuilder {
        self.set(|s| s.timing.timeout_ns = nanos(d))
    }

    /// Requests and responses carry a length prefix (`LengthPrefix::U32_BE`, ...).
    pub fn length_prefix(self, p: LengthPrefix) -> SpecBuilder {
        self.set(|s| s.framing.length_prefix = Some(p))
    }

    /// A response ends with these bytes (e.g. `b"\r\n"` for a line protocol) instead of being
    /// [`SpecBuilder::response_size`] bytes long.
    pub fn response_delimiter(self, bytes: impl Into<Vec<u8>>) -> SpecBuilder {
        let bytes = bytes.into();
        if bytes.is_empty() {
            return self.fail(ConfigError::ZeroSize {
                flag: ".response_delimiter(..)",
            });
        }
        self.set(|s| s.framing.response_delimiter = Some(bytes))
    }

    /// The protocol the client speaks to a service ([`SpecBuilder::connect`]):
    /// [`Protocol::Http1`] frames responses by Content-Length or chunked encoding, keeps the
    /// connection alive and counts status codes; without [`SpecBuilder::request`] it sends
    /// `GET / HTTP/1.1`.
    pub fn protocol(self, protocol: Protocol) -> SpecBuilder {
        self.set(|s| {
            s.framing.protocol = protocol;
            if protocol == Protocol::Http1 && s.framing.request.is_none() {
                s.size = crate::workload::handler::DEFAULT_HTTP_REQUEST.len();
            }
        })
    }

    /// A mix of named requests, each sent in proportion to its weight and given its own
    /// latency histogram beside the total (the case's size is the largest request's).
    pub fn requests(self, mix: impl IntoIterator<Item = NamedRequest>) -> SpecBuilder {
        let mix: Vec<NamedRequest> = mix.into_iter().collect();
        if mix.is_empty() || mix.iter().any(|r| r.bytes.is_empty() || r.weight == 0) {
            return self.fail(ConfigError::Invalid(
                ".requests(..) needs at least one request, each non-empty with a weight above 0"
                    .into(),
            ));
        }
        self.set(|s| {
            s.size = mix.iter().map(|r| r.bytes.len()).max().unwrap_or(s.size);
            s.framing.mix = mix;
        })
    }

    /// Requests made by your closure, each kind it names with its own latency histogram
    /// beside the total.
    pub fn request_generator(self, generator: RequestGenerator) -> SpecBuilder {
        self.set(|s| s.request_generator = Some(generator))
    }

    /// The request payload (a whole frame when the case has a length prefix).
    pub fn request(self, bytes: impl Into<Vec<u8>>) -> SpecBuilder {
        let bytes = bytes.into();
        self.set(|s| {
            s.size = bytes.len();
            s.framing.request = Some(bytes);
        })
    }

    /// Answers requests with your handler on the server's pinned thread; `make` is called once
    /// per server flow. `name` goes into the case id.
    pub fn handler<H: Handler + 'static>(
        self,
        name: &str,
        make: impl Fn() -> H + Send + Sync + 'static,
    ) -> SpecBuilder {
        let h = ServerHandler::new(name, make);
        self.set(|s| s.server_handler = Some(h))
    }

    /// Measures a service already listening at this loopback address (`127.0.0.1:8080`,
    /// `/run/app.sock`): no server is started. Give the request with [`SpecBuilder::request`]
    /// and the response's end with [`SpecBuilder::response_size`] or a length prefix.
    pub fn connect(self, target: &str) -> SpecBuilder {
        // The CLI's own parser: what `client --connect` accepts, the builder accepts.
        match crate::spec::address::Target::parse("connect", target) {
            Ok(_) => self.set(|s| s.layout.connect = Some(target.to_string())),
            Err(e) => self.fail(e),
        }
    }

    /// `rate`'s send schedule as a whole (the workload is left as set; [`SpecBuilder::rate`]
    /// sets both).
    pub fn rate_settings(self, rate: RateSettings) -> SpecBuilder {
        self.set(|s| s.rate = rate)
    }

    /// `crr`'s connection settings: client source addresses in turn, SO_LINGER 0.
    pub fn crr(self, crr: CrrSettings) -> SpecBuilder {
        self.set(|s| s.crr = crr)
    }

    /// Load to run the case under (a competing memcpy stream on a CPU).
    pub fn interference(self, load: Interference) -> SpecBuilder {
        self.set(|s| s.interference = load)
    }

    /// Where the server side runs: a server process of its own, or a service that already
    /// listens (its target checked as [`SpecBuilder::connect`] checks it).
    pub fn layout(self, layout: ProcessLayout) -> SpecBuilder {
        if let Some(target) = &layout.connect {
            if let Err(e) = crate::spec::address::Target::parse("connect", target) {
                return self.fail(e);
            }
        }
        self.set(|s| s.layout = layout)
    }

    /// A custom protocol's framing as a whole; a request payload sets the request size, as
    /// [`SpecBuilder::request`] does.
    pub fn framing(self, framing: MessageFraming) -> SpecBuilder {
        self.set(|s| {
            if let Some(request) = &framing.request {
                s.size = request.len();
            }
            s.framing = framing;
        })
    }

    /// Escape hatch: any other field of the spec.
    pub fn with(self, f: impl FnOnce(&mut Spec)) -> SpecBuilder {
        self.set(f)
    }

    /// The spec, checked as `loopbench run` checks it ([`workload::check`]).
    /// Its errors are [`Error::Config`], worded for builder users (`.timeout(..)`, not
    /// `--timeout`).
    pub fn build(self) -> Result<Spec, Error> {
        if let Some(e) = self.error {
            return Err(e.into());
        }
        workload::check(&self.spec)?;
        Ok(self.spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_command_lines() {
        let built = Spec::builder(Transport::Tcp4).build().unwrap();
        assert_eq!(built, Spec::new(Transport::Tcp4));
    }

    #[test]
    fn mistakes_surface_at_build() {
        let e = Spec::builder(Transport::Tcp4)
            .addr("10.0.0.1")
            .size(64)
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("only measures loopback"), "{e}");
        assert!(Spec::builder(Transport::Udp4).size(70_000).build().is_err());
        assert!(
            Spec::builder(Transport::Tcp4)
                .connect("192.168.0.1:80")
                .build()
                .is_err()
        );
        // The same targets as `client --connect`: a port is needed, relative paths are fine.
        let connect = |t: &str| Spec::builder(Transport::Tcp4).connect(t).build();
        assert!(connect("127.0.0.1").is_err());
        assert!(connect("127.0.0.1:8080").is_ok());
        assert!(connect("./app.sock").is_ok());
    }

    #[test]
    fn the_named_parts_of_a_spec_have_their_own_setters() {
        let spec = Spec::builder(Transport::Tcp4)
            .workload(Workload::Crr)
            .crr(CrrSettings {
                spread: Some("127.0.0.2-127.0.0.3".parse().unwrap()),
                linger0: true,
            })
            .interference(Interference {
                memory_load_cpu: Some(0),
            })
            .layout(ProcessLayout {
                processes: true,
                connect: None,
            })
            .build()
            .unwrap();
        assert_eq!(
            spec.case_id().as_str(),
            "tcp4-crr-blocking-cross-core-64B-spread127.0.0.2-127.0.0.3-linger0-memload0-processes"
        );
        let rate = Spec::builder(Transport::Udp4)
            .rate(1000)
            .rate_settings(RateSettings {
                rate_per_sec: 2000,
                max_in_flight: 4,
            })
            .build()
            .unwrap();
        assert!(rate.case_id().as_str().ends_with("-rate2000-inflight4"));
        let bad = Spec::builder(Transport::Tcp4).layout(ProcessLayout {
            processes: false,
            connect: Some("10.0.0.1:80".into()),
        });
        assert!(bad.build().is_err());
        let framed = Spec::builder(Transport::Tcp4)
            .connect("127.0.0.1:8080")
            .framing(MessageFraming {
                request: Some(b"ping".to_vec()),
                response_delimiter: Some(b"\n".to_vec()),
                length_prefix: None,
                ..MessageFraming::default()
            })
            .build()
            .unwrap();
        assert_eq!(framed.size, 4);
        assert!(
            framed
                .case_id()
                .as_str()
                .ends_with("-to-127.0.0.1_8080-delimited")
        );
    }

    #[test]
    fn handlers_and_framing_make_a_custom_rr_case() {
        let spec = Spec::builder(Transport::UnixStream)
            .length_prefix(LengthPrefix::U32_BE)
            .handler("echo", crate::spec::handler::echo)
            .size(100)
            .build()
            .unwrap();
        assert!(
            spec.case_id()
                .as_str()
                .ends_with("-prefixu32be-handler-echo"),
            "{}",
            spec.case_id()
        );
        let bad = Spec::builder(Transport::Tcp4)
            .workload(Workload::Stream)
            .handler("echo", crate::spec::handler::echo)
            .build();
        assert!(bad.unwrap_err().to_string().contains("rr workload"));
    }

    #[test]
    fn stages_are_a_part_of_the_case_and_of_its_id() {
        let spec = Spec::builder(Transport::Tcp4)
            .handler("echo", crate::spec::handler::echo)
            .stages(true)
            .build()
            .unwrap();
        assert!(spec.instrument.stages);
        assert!(
            spec.case_id().as_str().ends_with("-handler-echo-stages"),
            "{}",
            spec.case_id()
        );
        let off = Spec::builder(Transport::Tcp4)
            .stages(false)
            .build()
            .unwrap();
        assert_eq!(off, Spec::new(Transport::Tcp4));
    }

    /// The setting named by the typed error `build()` returns for what the case would ignore.
    fn ignored(b: SpecBuilder) -> &'static str {
        match b.build() {
            Err(Error::Config(ConfigError::Ignored { setting, .. })) => setting,
            other => panic!("expected an Ignored error, got {other:?}"),
        }
    }

    #[test]
    fn build_refuses_what_the_workload_would_ignore() {
        let service = || Spec::builder(Transport::Tcp4).connect("127.0.0.1:8080");
        let stream = service()
            .workload(Workload::Stream)
            .request(b"GET /\r\n".to_vec());
        assert!(ignored(stream).contains(".request(..)"));
        let rate = service()
            .rate(1000)
            .length_prefix(LengthPrefix::U32_BE)
            .response_size(8);
        assert!(ignored(rate).contains(".length_prefix(..)"));
        let crr = Spec::builder(Transport::Tcp4)
            .workload(Workload::Crr)
            .handler("echo", crate::spec::handler::echo);
        assert!(ignored(crr).contains(".handler(..)"));
        let delay = service().server_delay(Duration::from_micros(5));
        assert!(ignored(delay).contains(".server_delay(..)"));
        let message = service()
            .workload(Workload::Stream)
            .request(b"x".to_vec())
            .build()
            .unwrap_err()
            .to_string();
        assert!(message.contains("use the rr, crr workload"), "{message}");
        // What the workloads do honour still builds.
        let crr = service()
            .workload(Workload::Crr)
            .request(b"GET /\r\n\r\n".to_vec());
        assert_eq!(crr.response_size(17).build().unwrap().size, 9);
    }

    #[test]
    fn the_id_names_a_response_size_only_when_responses_have_one() {
        let id = |b: SpecBuilder| b.build().unwrap().case_id().to_string();
        let service = || Spec::builder(Transport::Tcp4).connect("127.0.0.1:8080");
        let framed = service()
            .length_prefix(LengthPrefix::U32_BE)
            .request(LengthPrefix::U32_BE.frame(b"hello world"));
        assert!(id(framed).contains("-15B-to-127.0.0.1_8080-prefixu32be"));
        let http = id(service().protocol(Protocol::Http1));
        assert!(!http.contains("resp") && http.ends_with("-http1"), "{http}");
        assert!(id(service().request(b"PING\r\n".to_vec())).contains("-6B-resp64B"));
        let delimited = service()
            .request(b"PING\r\n".to_vec())
            .response_delimiter(b"\r\n".to_vec())
            .response_size(1024);
        assert!(
            id(delimited).contains("-6B-resp1024B"),
            "a size given is kept"
        );
        assert!(service().response_delimiter(Vec::new()).build().is_err());
    }

    #[test]
    fn mixes_need_a_service_and_the_rr_workload() {
        let get = NamedRequest {
            name: "GET".into(),
            weight: 1,
            bytes: b"GET\r\n".to_vec(),
        };
        let mix = || {
            Spec::builder(Transport::Tcp4)
                .requests([get.clone()])
                .response_delimiter(b"\r\n".to_vec())
        };
        let err = mix().build().unwrap_err().to_string();
        assert!(
            err.contains(".request(..), .requests(..), .response_delimiter(..), .length_prefix(..) and .protocol(..) apply to a service you .connect(..) to"),
            "{err}"
        );
        let crr = mix().connect("127.0.0.1:1").workload(Workload::Crr).build();
        assert!(
            matches!(crr, Err(Error::Config(ConfigError::Ignored { .. }))),
            "{crr:?}"
        );
        let ok = mix().connect("127.0.0.1:1").build().unwrap();
        assert!(ok.case_id().as_str().ends_with("-delimited-mix-GET"));
        let generated = Spec::builder(Transport::Tcp4)
            .connect("127.0.0.1:1")
            .protocol(Protocol::Http1)
            .request_generator(RequestGenerator::new("kv", &["GET"], |_, out| {
                out.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
                0
            }))
            .build()
            .unwrap();
        assert!(generated.case_id().as_str().ends_with("-http1-gen-kv"));
        assert!(
            Spec::builder(Transport::Tcp4)
                .protocol(Protocol::Http1)
                .build()
                .is_err()
        );
    }
}
