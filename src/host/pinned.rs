//! Pinned threads. [`start`] starts named threads, each pinned to its CPU (or left where the
//! scheduler puts it) with a 1 ns timer slack, and holds them at a gate until every one is
//! pinned and the caller releases them together. Every thread loopbench measures on starts
//! here: an iteration's workers, a [`Pair`](crate::embed::pair::Pair)'s client and server, a
//! custom protocol's server, the memcpy reference and the memory load.

use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

use anyhow::{Context, Result, anyhow, bail};

/// Pins the calling thread to `cpu` and checks from inside that it now runs there.
pub fn pin_current_thread(cpu: usize) -> Result<()> {
    if !core_affinity::set_for_current(core_affinity::CoreId { id: cpu }) {
        bail!("could not pin a worker thread to CPU {cpu} (sched_setaffinity failed)");
    }
    let now = current_cpu();
    if now != Some(cpu) {
        bail!(
            "a worker pinned to CPU {cpu} runs on CPU {now:?}: the kernel did not honour the affinity"
        );
    }
    Ok(())
}

/// The CPU the calling thread runs on right now (sched_getcpu).
pub fn current_cpu() -> Option<usize> {
    nix::sched::sched_getcpu().ok()
}

/// Sets the calling thread's timer slack to 1 ns, so timed waits (rate's schedule) wake when
/// asked instead of up to 50 µs later (the default slack).
fn tight_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK takes a plain integer and affects only the calling thread.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0) };
}

/// One thread to start: its name, its CPU (`None`: unpinned) and what it runs once released.
pub struct PinnedThread<T> {
    name: String,
    cpu: Option<usize>,
    body: Box<dyn FnOnce() -> T + Send>,
}

impl<T> PinnedThread<T> {
    /// A thread named `name` that runs `body` on `cpu` once released.
    pub fn new(
        name: impl Into<String>,
        cpu: Option<usize>,
        body: impl FnOnce() -> T + Send + 'static,
    ) -> PinnedThread<T> {
        PinnedThread {
            name: name.into(),
            cpu,
            body: Box::new(body),
        }
    }

    /// The thread itself: pin, say how that went (with its thread id), wait at the gate, run the
    /// body if released.
    fn run(self, index: usize, gate: &Gate, ready: Sender<(usize, Result<u32>)>) -> Option<T> {
        let pinned = self.cpu.map(pin_current_thread).transpose();
        tight_timer_slack();
        let ok = pinned.is_ok();
        let tid = pinned
            .map(|_| nix::unistd::gettid().as_raw() as u32)
            .with_context(|| format!("thread {}", self.name));
        let _ = ready.send((index, tid));
        drop(ready);
        (gate.wait() && ok).then(self.body)
    }
}

/// A started thread; joining it gives what its body returned (`None`: it was never released).
pub type Started<T> = JoinHandle<Option<T>>;

/// Whether held threads may run: unset until the caller decides, then set once.
#[derive(Default)]
struct Gate {
    go: Mutex<Option<bool>>,
    opened: Condvar,
}

impl Gate {
    /// Decides (only the first call counts) and wakes every waiting thread at once.
    fn open(&self, go: bool) {
        let mut state = self.go.lock().unwrap_or_else(PoisonError::into_inner);
        if state.is_none() {
            *state = Some(go);
            self.opened.notify_all();
        }
    }

    /// Waits for the decision; true when the threads may run.
    fn wait(&self) -> bool {
        let state = self.go.lock().unwrap_or_else(PoisonError::into_inner);
        let state = self
            .opened
            .wait_while(state, |go| go.is_none())
            .unwrap_or_else(PoisonError::into_inner);
        *state == Some(true)
    }
}

/// Threads that are pinned and wait at the gate. Dropped without [`Held::release`], they end
/// without running their bodies.
pub struct Held<T> {
    handles: Vec<Started<T>>,
    tids: Vec<u32>,
    gate: Arc<Gate>,
}

impl<T> Held<T> {
    /// The kernel thread id of each thread, in start order (what tracepoints name them by).
    pub fn tids(&self) -> &[u32] {
        &self.tids
    }

    /// Lets every thread run its body at once, and hands back their handles in start order.
    pub fn release(mut self) -> Vec<Started<T>> {
        self.gate.open(true);
        std::mem::take(&mut self.handles)
    }
}

impl<T> Drop for Held<T> {
    fn drop(&mut self) {
        self.gate.open(false);
        for handle in self.handles.drain(..) {
            let _ = handle.join();
        }
    }
}

/// Starts `threads` (each pins itself, sets its timer slack and waits at the gate) and returns
/// once every one is pinned. Fails, naming the thread and its CPU, when one could not be pinned;
/// the others then end without running.
pub fn start<T: Send + 'static>(threads: Vec<PinnedThread<T>>) -> Result<Held<T>> {
    let gate = Arc::new(Gate::default());
    let (ready_tx, ready) = mpsc::channel();
    let mut held = Held {
        handles: Vec::with_capacity(threads.len()),
        tids: Vec::with_capacity(threads.len()),
        gate: gate.clone(),
    };
    for (index, thread) in threads.into_iter().enumerate() {
        let name = thread.name.clone();
        let (gate, ready_tx) = (gate.clone(), ready_tx.clone());
        let handle = std::thread::Builder::new()
            .name(name.clone())
            .spawn(move || thread.run(index, &gate, ready_tx))
            .with_context(|| format!("spawning thread {name}"))?;
        held.handles.push(handle);
    }
    drop(ready_tx);
    let mut tids = vec![0; held.handles.len()];
    for _ in 0..held.handles.len() {
        let (index, tid) = ready
            .recv()
            .map_err(|_| anyhow!("a thread ended before it was pinned"))?;
        tids[index] = tid?;
    }
    held.tids = tids;
    Ok(held)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::topology::Topology;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counting(name: &str, cpu: Option<usize>, ran: &Arc<AtomicUsize>) -> PinnedThread<usize> {
        let ran = ran.clone();
        PinnedThread::new(name, cpu, move || {
            ran.fetch_add(1, Ordering::SeqCst);
            current_cpu().unwrap_or(usize::MAX)
        })
    }

    #[test]
    fn released_threads_run_on_their_cpus_and_hand_back_their_results() {
        let t = Topology::detect();
        let p = t.resolve(t.default_placement()).unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let threads = vec![
            counting("lb-test-a", Some(p.client[0]), &ran),
            counting("lb-test-b", None, &ran),
        ];
        let held = start(threads).unwrap();
        assert_eq!(
            ran.load(Ordering::SeqCst),
            0,
            "held threads wait at the gate"
        );
        let tids = held.tids().to_vec();
        assert!(
            tids.iter().all(|&t| t != 0) && tids[0] != tids[1],
            "{tids:?}"
        );
        let handles = held.release();
        assert_eq!(handles[0].thread().name(), Some("lb-test-a"));
        let results: Vec<Option<usize>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(results[0], Some(p.client[0]));
        assert!(results[1].is_some());
        assert_eq!(ran.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_thread_that_cannot_be_pinned_is_named_and_no_thread_runs() {
        let ran = Arc::new(AtomicUsize::new(0));
        let threads = vec![
            counting("lb-test-ok", None, &ran),
            // The last CPU a cpu_set_t can name; not one this machine has.
            counting("lb-test-bad", Some(1023), &ran),
        ];
        let err = format!("{:#}", start(threads).err().expect("must fail"));
        assert!(
            err.contains("lb-test-bad") && err.contains("CPU 1023"),
            "{err}"
        );
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn threads_dropped_unreleased_end_without_running() {
        let ran = Arc::new(AtomicUsize::new(0));
        drop(start(vec![counting("lb-test-c", None, &ran)]).unwrap());
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    }
}
