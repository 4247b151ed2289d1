//! The memcpy reference: how fast one CPU copies a chunk of the case's size between two
//! cache-resident buffers. Loopback TCP copies every byte at least twice (sender's buffer into
//! the socket buffer, socket buffer into the receiver's), so a stream's throughput divided by this
//! figure ("copy efficiency") shows how close the transport gets to the memory system's limit.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::host::pinned::{self, PinnedThread};
use crate::metrics::clock::monotonic_ns;

/// A memcpy reference: what copying the case's chunk size costs on the receiving CPU, so a
/// stream result can be read as copy efficiency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MemcpyReference {
    /// Bytes per copy (the case's write size).
    pub chunk_bytes: usize,
    /// Copy bandwidth in bytes per second.
    pub bytes_per_sec: f64,
    /// The CPU it was measured on, when pinned.
    pub cpu: Option<usize>,
}

/// Copies `chunk` bytes repeatedly for about `duration` on `cpu` (when given) and reports the
/// bandwidth.
pub fn measure(
    chunk: usize,
    cpu: Option<usize>,
    duration: Duration,
) -> anyhow::Result<MemcpyReference> {
    let chunk = chunk.max(1);
    let thread = PinnedThread::new("lb-memcpy", cpu, move || MemcpyReference {
        chunk_bytes: chunk,
        bytes_per_sec: copy_bandwidth(chunk, duration),
        cpu,
    });
    let mut started = pinned::start(vec![thread])?.release();
    started
        .pop()
        .and_then(|h| h.join().ok().flatten())
        .ok_or_else(|| anyhow::anyhow!("the memcpy reference thread panicked"))
}

/// Copies `chunk` bytes between two buffers for about `duration`; bytes per second.
fn copy_bandwidth(chunk: usize, duration: Duration) -> f64 {
    let src = vec![0xa5u8; chunk];
    let mut dst = vec![0u8; chunk];
    let budget = duration.as_nanos() as u64;
    let start = monotonic_ns();
    let mut copies = 0u64;
    let mut now = start;
    // Read the clock once per batch so its cost does not dilute small copies.
    let batch = (65536 / chunk).clamp(1, 4096) as u64;
    while now - start < budget {
        for _ in 0..batch {
            dst.copy_from_slice(std::hint::black_box(&src));
            std::hint::black_box(&mut dst);
        }
        copies += batch;
        now = monotonic_ns();
    }
    let elapsed = (now - start).max(1);
    copies as f64 * chunk as f64 * 1e9 / elapsed as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_a_bandwidth_for_the_chunk_size() {
        let r = measure(4096, None, Duration::from_millis(5)).unwrap();
        assert_eq!(r.chunk_bytes, 4096);
        assert!(r.bytes_per_sec > 0.0);
    }
}
