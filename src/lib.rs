//! loopbench measures what the Linux loopback path costs: pinned client and server workers
//! exchange TCP, UDP, Unix-socket, pipe and shared-memory traffic, and every result is stored as
//! HDR histograms and schema-versioned JSON. This page is for using it as a library; the
//! `loopbench` command line (feature `cli`, on by default) is described in the README.
//!
//! # Start here
//!
//! | you want to… | use |
//! |---|---|
//! | describe one case (transport, workload, placement, sizes, your handler or a service's address) | [`spec::Spec::builder`] |
//! | measure cases the way `loopbench run` does: interleaved iterations, warm-up, trust marks, `run.json` | [`session::Run`] → [`session::RunResult`] |
//! | time round trips on a pinned, connected pair from your own loop | [`pair::Pair`] |
//! | drive a pair with your own protocol code on both ends | [`custom::CustomPair`] + [`custom::Recorder`] |
//! | get p50/p99/p99.9 into `cargo bench` | `loopbench::criterion::rr` (feature `criterion`) |
//! | read what a run measured | [`store::record::RunRecord`], [`metrics::case_histograms::CaseHistograms`] |
//! | handle failures | [`Error`] (one type for the whole API; messages name builder methods) and [`session::RunResult::errors`] |
//!
//! Everything else in this crate serves the command line and is hidden from these docs.
//!
//! # Three examples
//!
//! **Your handler over real loopback** (`examples/custom_handler.rs`): your code answers on the
//! server's pinned thread; the harness measures it beside its own server.
//!
//! ```no_run
//! use loopbench::framing::LengthPrefix;
//! use loopbench::session::Run;
//! use loopbench::spec::{Placement, Spec, Transport};
//!
//! let spec = Spec::builder(Transport::Tcp4)
//!     .placement(Placement::SameCore)
//!     .length_prefix(LengthPrefix::U32_BE)
//!     .size(64)
//!     .handler("reverse", || |req: &[u8], resp: &mut Vec<u8>| {
//!         resp.extend_from_slice(&req[..4]);
//!         resp.extend(req[4..].iter().rev());
//!     })
//!     .build()?;
//! let result = Run::new([spec]).execute()?.check()?;
//! for (case, histograms) in result.cases() {
//!     println!("{}: p99 {} ns", case.case_id, histograms.merged.value_at_quantile(0.99));
//! }
//! # Ok::<(), loopbench::Error>(())
//! ```
//!
//! **A service that already listens** (`examples/external_service.rs`): no server is started;
//! loopbench's client sends your request and frames the response. A deadline bounds the run
//! even when the service never answers.
//!
//! ```no_run
//! use std::time::Duration;
//! use loopbench::session::Run;
//! use loopbench::spec::{Spec, Transport};
//!
//! let spec = Spec::builder(Transport::Tcp4)
//!     .connect("127.0.0.1:8080")
//!     .request(&b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"[..])
//!     .response_size(40)
//!     .count(5_000)
//!     .build()?;
//! let result = Run::new([spec]).deadline(Duration::from_secs(30)).execute()?;
//! if !result.ok() {
//!     for failure in result.errors() {
//!         eprintln!("{failure}");
//!     }
//! }
//! # Ok::<(), loopbench::Error>(())
//! ```
//!
//! **A criterion benchmark** (`examples/criterion_user.rs`, feature `criterion`): criterion
//! times batches of round trips on one pinned pair; loopbench adds the percentiles criterion
//! does not show and saves the HDR histogram under `target/criterion/loopbench/`.
//!
//! ```no_run
//! # #[cfg(feature = "criterion")]
//! # mod bench {
//! use loopbench::spec::{Placement, Spec, Transport};
//!
//! fn bench(c: &mut criterion::Criterion) {
//!     let spec = Spec::builder(Transport::UnixStream)
//!         .placement(Placement::CrossCore)
//!         .build()
//!         .expect("a valid spec");
//!     c.bench_function("unix_rr", loopbench::criterion::rr(spec));
//! }
//! criterion::criterion_group!(benches, bench);
//! criterion::criterion_main!(benches);
//! # }
//! ```
//!
//! # Features
//!
//! `cli` (default: the command line, reports, studies, history, tokio engines), `report`,
//! `history`, `study`, `netlink`, `tokio`, `criterion`. The measurement core needs none of them
//! (`default-features = false`).

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[doc(hidden)]
pub mod compare;
#[cfg(feature = "netlink")]
#[doc(hidden)]
pub mod doctor;
pub mod embed;
#[doc(hidden)]
pub mod engine;
pub mod error;
#[cfg(feature = "history")]
pub mod history;
pub mod host;
#[doc(hidden)]
pub mod loopback;
pub mod metrics;
pub mod report;
pub mod run;
pub mod spec;
#[doc(hidden)]
// Hidden from the docs: its own links to its items have no page to point at.
#[allow(rustdoc::broken_intra_doc_links)]
pub mod stats;
pub mod store;
#[cfg(feature = "study")]
#[doc(hidden)]
pub mod study;
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod suite;
#[doc(hidden)]
pub mod text;
#[doc(hidden)]
pub mod trace;
#[doc(hidden)]
pub mod transport;
#[doc(hidden)]
pub mod workload;

#[cfg(feature = "cli")]
#[doc(hidden)]
// Hidden from the docs, so not rendered: clap's `///` help texts (`<run-id>`) are not HTML.
#[allow(rustdoc::invalid_html_tags)]
pub mod cli;

// The library's entry points, where users look for them first.
#[cfg(feature = "criterion")]
pub use embed::criterion;
pub use embed::{custom, pair};
pub use error::Error;
pub use run::session;
pub use spec::{framing, handler};
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod schema;
