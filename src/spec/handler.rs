//! Your code on the server side: a [`Handler`] turns each request into a response on the server's
//! pinned thread, so the measured round trip includes your own processing over the transport,
//! engine and placement of the [`Spec`](crate::spec::Spec).
//!
//! ```
//! use loopbench::spec::handler::ServerHandler;
//! use loopbench::spec::{Spec, Transport};
//!
//! // Upper-case the request: the response has the request's size, so fixed framing works.
//! let mut spec = Spec::new(Transport::UnixStream);
//! spec.server_handler = Some(ServerHandler::new("upper", || {
//!     |request: &[u8], response: &mut Vec<u8>| response.extend(request.iter().map(u8::to_ascii_uppercase))
//! }));
//! assert!(spec.case_id().as_str().ends_with("-handler-upper"));
//! ```

use std::fmt;
use std::sync::Arc;

/// Answers one request.
///
/// `response` is empty on entry and reused from call to call, so a handler whose responses do not
/// outgrow the largest earlier one allocates nothing (see [`InPlace`] for a handler that writes into
/// a fixed buffer). An empty response sends nothing back (the client then waits for it in vain:
/// use that only with a framing where it is expected).
pub trait Handler: Send {
    /// Appends the response to `request` to `response`.
    fn handle(&mut self, request: &[u8], response: &mut Vec<u8>);
}

impl<F: FnMut(&[u8], &mut Vec<u8>) + Send> Handler for F {
    fn handle(&mut self, request: &[u8], response: &mut Vec<u8>) {
        self(request, response)
    }
}

/// The allocation-free form: the closure writes its response into a buffer of `capacity` bytes and
/// returns how many it wrote. The buffer is the handler's own, reused from call to call (it still
/// holds the previous response).
pub struct InPlace<F> {
    buffer: Box<[u8]>,
    write: F,
}

impl<F: FnMut(&[u8], &mut [u8]) -> usize + Send> InPlace<F> {
    /// A handler writing at most `capacity` bytes per response.
    pub fn new(capacity: usize, write: F) -> InPlace<F> {
        InPlace {
            buffer: vec![0; capacity].into_boxed_slice(),
            write,
        }
    }
}

impl<F: FnMut(&[u8], &mut [u8]) -> usize + Send> Handler for InPlace<F> {
    fn handle(&mut self, request: &[u8], response: &mut Vec<u8>) {
        // Only the bytes written are copied out; the buffer is allocated and zeroed once.
        let n = (self.write)(request, &mut self.buffer).min(self.buffer.len());
        response.extend_from_slice(&self.buffer[..n]);
    }
}

/// Answers with the request itself.
pub fn echo() -> impl Handler {
    |request: &[u8], response: &mut Vec<u8>| response.extend_from_slice(request)
}

type MakeHandler = dyn Fn() -> Box<dyn Handler> + Send + Sync;

/// A named factory of handlers, one per server flow, carried by a [`Spec`](crate::spec::Spec).
///
/// The name goes into the case id (`...-handler-NAME`); the factory is not stored in run.json.
#[derive(Clone)]
pub struct ServerHandler {
    name: String,
    make: Arc<MakeHandler>,
}

impl ServerHandler {
    /// A handler factory called `name` (letters, digits, `.`, `_` and `-` keep the case id a
    /// valid file name; other characters become `_`).
    pub fn new<H: Handler + 'static>(
        name: &str,
        make: impl Fn() -> H + Send + Sync + 'static,
    ) -> ServerHandler {
        let name = crate::text::sanitize(name, "._-");
        ServerHandler {
            name,
            make: Arc::new(move || Box::new(make()) as Box<dyn Handler>),
        }
    }

    /// The name in the case id.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A fresh handler for one server flow.
    pub fn make(&self) -> Box<dyn Handler> {
        (self.make)()
    }
}

impl fmt::Debug for ServerHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerHandler({})", self.name)
    }
}

impl PartialEq for ServerHandler {
    fn eq(&self, other: &ServerHandler) -> bool {
        self.name == other.name && Arc::ptr_eq(&self.make, &other.make)
    }
}

/// Writes request `seq` into the buffer (cleared before each call) and returns its kind: an
/// index into the generator's kind names.
pub type MakeRequest = dyn Fn(u64, &mut Vec<u8>) -> usize + Send + Sync;

/// A named request generator (library use only), carried by a [`Spec`](crate::spec::Spec):
/// each request comes from your closure, and each kind it names gets its own histogram.
///
/// The name goes into the case id (`...-gen-NAME`); the closure is not stored in run.json.
#[derive(Clone)]
pub struct RequestGenerator {
    name: String,
    kinds: Vec<String>,
    make: Arc<MakeRequest>,
}

impl RequestGenerator {
    /// A generator called `name` whose requests are of the kinds `kinds` (e.g. `["GET", "SET"]`).
    pub fn new(
        name: &str,
        kinds: &[&str],
        make: impl Fn(u64, &mut Vec<u8>) -> usize + Send + Sync + 'static,
    ) -> RequestGenerator {
        RequestGenerator {
            name: crate::text::sanitize(name, "._-"),
            kinds: kinds.iter().map(|k| k.to_string()).collect(),
            make: Arc::new(make),
        }
    }

    /// The name in the case id.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The kinds' names, in the order the closure's kind indexes refer to.
    pub fn kinds(&self) -> &[String] {
        &self.kinds
    }

    /// Writes request `seq` into `out` (cleared first) and returns its kind.
    pub fn make(&self, seq: u64, out: &mut Vec<u8>) -> usize {
        out.clear();
        (self.make)(seq, out)
    }
}

impl fmt::Debug for RequestGenerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestGenerator({}: {:?})", self.name, self.kinds)
    }
}

impl PartialEq for RequestGenerator {
    fn eq(&self, other: &RequestGenerator) -> bool {
        self.name == other.name && Arc::ptr_eq(&self.make, &other.make)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closures_in_place_writers_and_echo_are_handlers() {
        let mut out = Vec::new();
        echo().handle(b"abc", &mut out);
        assert_eq!(out, b"abc");
        let mut h = InPlace::new(8, |req: &[u8], buf: &mut [u8]| {
            buf[..req.len()].copy_from_slice(req);
            buf[..req.len()].reverse();
            req.len()
        });
        out.clear();
        h.handle(b"abc", &mut out);
        assert_eq!(out, b"cba");
        let cap = out.capacity();
        out.clear();
        h.handle(b"xy", &mut out);
        assert_eq!(
            (out.as_slice(), out.capacity()),
            (&b"yx"[..], cap),
            "no new allocation"
        );
    }

    #[test]
    fn names_are_file_name_safe_and_factories_make_fresh_handlers() {
        let h = ServerHandler::new("my codec/v2", echo);
        assert_eq!(h.name(), "my_codec_v2");
        let mut a = h.make();
        let mut out = Vec::new();
        a.handle(b"x", &mut out);
        assert_eq!(out, b"x");
        assert_eq!(h.clone(), h);
        assert_ne!(
            ServerHandler::new("my codec/v2", echo),
            h,
            "another factory"
        );
    }
}
