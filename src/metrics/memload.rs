//! `--memory-load CPU`: a competing memcpy stream pinned to another CPU while an iteration is
//! measured, so memory-bandwidth interference can be seen in the result. It copies a buffer
//! larger than the last-level cache back and forth and reports the bandwidth it achieved.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use anyhow::{Result, anyhow};

use crate::host::pinned::{self, PinnedThread, Started};
use crate::metrics::clock::monotonic_ns;

/// Bytes per copy: 64 MiB, beyond any last-level cache this is likely to run on.
pub const BUFFER_BYTES: usize = 64 << 20;

/// Bytes per copy call.
const BLOCK_BYTES: usize = 1 << 20;

/// A running memory load.
pub struct MemoryLoad {
    stop: Arc<AtomicBool>,
    handle: Started<f64>,
    cpu: usize,
}

impl MemoryLoad {
    /// Starts copying on `cpu` (the buffers are allocated and touched before this returns, so
    /// set-up does not overlap the measurement).
    pub fn start(cpu: usize) -> Result<MemoryLoad> {
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready) = mpsc::channel();
        let flag = stop.clone();
        let thread = PinnedThread::new("lb-memload", Some(cpu), move || {
            copy_until_stopped(&flag, ready_tx)
        });
        let held =
            pinned::start(vec![thread]).map_err(|e| anyhow!("--memory-load {cpu}: {e:#}"))?;
        let handle = held.release().pop().expect("the one thread");
        ready
            .recv()
            .map_err(|_| anyhow!("the memory load thread died before it started"))?;
        Ok(MemoryLoad { stop, handle, cpu })
    }

    /// Stops the load and returns the copy bandwidth it achieved (bytes per second; each byte
    /// copied is one read and one write).
    pub fn stop(self) -> Result<f64> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle
            .join()
            .ok()
            .flatten()
            .ok_or_else(|| anyhow!("the memory load thread on CPU {} panicked", self.cpu))
    }
}

/// The load itself: allocates and touches the buffers, says so on `ready`, then copies until
/// `stop`; bytes per second.
fn copy_until_stopped(stop: &AtomicBool, ready: mpsc::Sender<()>) -> f64 {
    let mut a = vec![1u8; BUFFER_BYTES];
    let mut b = vec![2u8; BUFFER_BYTES];
    let _ = ready.send(());
    let start = monotonic_ns();
    let mut copied = 0u64;
    // 1 MiB blocks across the whole buffers: the stop flag is seen within a block, and a short
    // iteration still counts what was copied.
    let mut off = 0;
    while !stop.load(Ordering::Relaxed) {
        let end = off + BLOCK_BYTES;
        b[off..end].copy_from_slice(std::hint::black_box(&a[off..end]));
        copied += BLOCK_BYTES as u64;
        off = end % BUFFER_BYTES;
        if off == 0 {
            std::mem::swap(&mut a, &mut b);
        }
    }
    let elapsed = (monotonic_ns() - start).max(1);
    copied as f64 * 1e9 / elapsed as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_runs_until_stopped_and_reports_bandwidth() {
        let cpu = crate::host::pinned::current_cpu().unwrap_or(0);
        let load = MemoryLoad::start(cpu).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(load.stop().unwrap() > 0.0);
    }
}
