//! `--trace` and `--profile` around one iteration: opened on the workers' CPUs while the pinned
//! threads wait at the gate, enabled just before they are released, disabled and drained once
//! they are done.
//!
//! Where the buffers are drained: after the iteration, not during it. On a machine whose every
//! CPU runs a worker (this project's 2-vCPU test machine), a drainer would run on a worker's CPU
//! and steal its time in the middle of the measurement; the buffers are instead sized to hold an
//! iteration ([`trace_buffer_bytes`]), and whatever does not fit is counted as lost (the round
//! trips it touches are dropped and counted, never guessed). When a CPU outside the workers'
//! exists, a drainer thread pinned there empties the buffers every [`DRAIN_INTERVAL`] instead,
//! so long iterations lose nothing. `LOOPBENCH_TRACE_DRAIN_CPU=N` pins the drainer to CPU `N`
//! whatever it runs (to measure what draining on a worker's CPU costs).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};

use super::side::Side;
use crate::host::pinned::pin_current_thread;
use crate::host::topology::{ResolvedPlacement, allowed_cpus};
use crate::spec::{IterationLength, Spec};
use crate::trace::TraceError;
use crate::trace::categories::{Attribution, Table};
use crate::trace::events::Event;
use crate::trace::kallsyms::Kallsyms;
use crate::trace::profiler::{ProfileConfig, ProfileStats, Profiler, frames};
use crate::trace::timeline::{Endpoint, Pair, Timeline, rebuild};
use crate::trace::tracefs::Tracefs;
use crate::trace::tracer::{TraceConfig, TraceStats, Tracer};

/// How often a drainer on a free CPU empties the buffers.
pub const DRAIN_INTERVAL: Duration = Duration::from_millis(20);

/// Sampling frequency of `--profile` (per CPU).
pub const PROFILE_HZ: u64 = 4999;

/// Bytes the tracer's buffers take per traced second and CPU: ~20 events per round trip of
/// ~80 bytes each, at the fastest traced rate seen here (a busy-polling receiver, ~1 M
/// events/s/CPU) rounded up.
const TRACE_BYTES_PER_SEC: u64 = 96 << 20;

/// Bounds of one CPU's trace buffer.
const TRACE_BUFFER_MIN: u64 = 16 << 20;
const TRACE_BUFFER_MAX: u64 = 512 << 20;

/// One CPU's profile buffer: 5 kHz of ~300-byte call chains is 1.5 MB/s.
const PROFILE_BUFFER: usize = 32 << 20;

/// The ring buffer per CPU for an iteration of `length` without draining during it (the largest
/// power of two not above `TRACE_BUFFER_MAX`; count-based iterations assume 30 µs per round
/// trip).
pub fn trace_buffer_bytes(length: IterationLength) -> usize {
    let seconds = match length {
        IterationLength::Duration { duration_ns } => duration_ns as f64 / 1e9,
        IterationLength::Count { messages } => messages as f64 * 30e-6,
    };
    let want = (seconds * TRACE_BYTES_PER_SEC as f64) as u64;
    let bytes = want
        .clamp(TRACE_BUFFER_MIN, TRACE_BUFFER_MAX)
        .next_power_of_two();
    bytes.min(TRACE_BUFFER_MAX) as usize
}

/// A worker thread the probes watch.
#[derive(Clone, Debug)]
pub struct Watched {
    /// Client or server.
    pub side: Side,
    /// Its kernel thread id.
    pub tid: u32,
    /// The CPU it is pinned to.
    pub cpu: usize,
    /// The descriptors its flows read and write (its sends and receives are syscalls on these).
    pub fds: Vec<i64>,
}

/// What `--trace` saw during an iteration.
#[derive(Clone, Debug, Default)]
pub struct TraceOutcome {
    /// The round trips rebuilt from the events, and what could not be attributed.
    pub timeline: Timeline,
    /// Events read, lost and undecoded.
    pub stats: TraceStats,
    /// Ring-buffer bytes per CPU.
    pub buffer_bytes_per_cpu: usize,
    /// The CPU a drainer emptied the buffers on during the iteration; `None`: drained after it.
    pub drained_on: Option<usize>,
}

/// What `--profile` saw during an iteration: time per category, per side.
#[derive(Clone, Debug, Default)]
pub struct ProfileOutcome {
    /// Samples of the client's threads, and of idle on CPUs only the client uses.
    pub client: Attribution,
    /// Samples of the server's threads, and of idle on CPUs only the server uses.
    pub server: Attribution,
    /// Idle samples of CPUs both sides use (same-core): neither side's.
    pub shared_idle: Attribution,
    /// CPU time of other tasks on the workers' CPUs (ns of samples), left out of the shares.
    pub other_tasks_ns: u64,
    /// Samples taken, lost, undecoded.
    pub stats: ProfileStats,
}

/// What the probes saw during an iteration.
#[derive(Clone, Debug, Default)]
pub struct KernelOutcome {
    /// `--trace`.
    pub trace: Option<TraceOutcome>,
    /// `--profile`.
    pub profile: Option<ProfileOutcome>,
}

/// Kernel symbols, read once per process.
fn kallsyms() -> Result<&'static Kallsyms, TraceError> {
    static TABLE: OnceLock<Kallsyms> = OnceLock::new();
    if let Some(t) = TABLE.get() {
        return Ok(t);
    }
    let loaded = Kallsyms::load()?;
    Ok(TABLE.get_or_init(|| loaded))
}

/// The category table, parsed once per process.
pub fn categories() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(Table::builtin)
}

/// Checks, before anything runs, that what `spec` asks for can be opened on `placement`'s CPUs:
/// tracefs (mounted when absent) and every tracepoint, perf_event_open permission, kernel
/// symbols. The error says what is missing.
pub fn preflight(spec: &Spec, placement: &ResolvedPlacement) -> Result<(), TraceError> {
    let cpus = cpus_of(placement);
    if spec.probes.trace {
        let tracefs = Tracefs::locate_or_mount()?;
        let config = TraceConfig {
            cpus: cpus.clone(),
            tids: Vec::new(),
            buffer_bytes_per_cpu: 4096,
        };
        drop(Tracer::open(&tracefs, &config)?);
    }
    if spec.probes.profile {
        let config = ProfileConfig {
            cpus,
            frequency_hz: PROFILE_HZ,
            buffer_bytes_per_cpu: 4096,
        };
        drop(Profiler::open(&config)?);
        kallsyms()?;
    }
    Ok(())
}

/// The distinct CPUs of a placement.
fn cpus_of(placement: &ResolvedPlacement) -> Vec<u32> {
    let mut cpus: Vec<u32> = placement
        .client
        .iter()
        .chain(&placement.server)
        .map(|&c| c as u32)
        .collect();
    cpus.sort_unstable();
    cpus.dedup();
    cpus
}

/// The CPU a drainer may run on during the iteration: the override, else one outside the
/// workers' (`None` when every CPU runs a worker).
fn drain_cpu(workers: &[Watched]) -> Option<usize> {
    if let Ok(cpu) = std::env::var("LOOPBENCH_TRACE_DRAIN_CPU") {
        return cpu.trim().parse().ok();
    }
    allowed_cpus()
        .into_iter()
        .find(|c| workers.iter().all(|w| w.cpu != *c))
}

/// The tracer, shared with the drainer thread while the iteration runs.
struct Tracing {
    tracer: Arc<Mutex<Tracer>>,
    events: Arc<Mutex<Vec<Event>>>,
    pair: Pair,
    buffer_bytes_per_cpu: usize,
    drainer: Option<(usize, Arc<AtomicBool>, JoinHandle<()>)>,
}

/// The probes of one iteration.
pub struct Probes {
    tracing: Option<Tracing>,
    profiler: Option<Profiler>,
    workers: Vec<Watched>,
}

impl Probes {
    /// Opens what `spec` asks for on the workers' CPUs, disabled; `None` when it asks for nothing.
    pub fn open(
        spec: &Spec,
        length: IterationLength,
        workers: Vec<Watched>,
    ) -> Result<Option<Probes>> {
        if spec.probes.is_off() {
            return Ok(None);
        }
        let mut cpus: Vec<u32> = workers.iter().map(|w| w.cpu as u32).collect();
        cpus.sort_unstable();
        cpus.dedup();
        let tracing = if spec.probes.trace {
            Some(open_tracing(&workers, &cpus, length)?)
        } else {
            None
        };
        let profiler = if spec.probes.profile {
            let config = ProfileConfig {
                cpus,
                frequency_hz: PROFILE_HZ,
                buffer_bytes_per_cpu: PROFILE_BUFFER,
            };
            Some(Profiler::open(&config).context("--profile")?)
        } else {
            None
        };
        Ok(Some(Probes {
            tracing,
            profiler,
            workers,
        }))
    }

    /// Starts recording (and the drainer, when there is a CPU for it); call just before the
    /// workers are released.
    pub fn enable(&mut self) -> Result<()> {
        if let Some(t) = &mut self.tracing {
            lock(&t.tracer).enable().context("--trace")?;
            if let Some(cpu) = drain_cpu(&self.workers) {
                t.drainer = Some(start_drainer(cpu, &t.tracer, &t.events)?);
            }
        }
        if let Some(p) = &mut self.profiler {
            p.enable().context("--profile")?;
        }
        Ok(())
    }

    /// Stops recording, drains what is left and rebuilds what the iteration did.
    pub fn finish(self) -> Result<KernelOutcome> {
        let mut out = KernelOutcome::default();
        if let Some(mut p) = self.profiler {
            p.disable().context("--profile")?;
            out.profile = Some(attribute(&mut p, &self.workers)?);
        }
        if let Some(t) = self.tracing {
            out.trace = Some(finish_tracing(t)?);
        }
        Ok(out)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn open_tracing(workers: &[Watched], cpus: &[u32], length: IterationLength) -> Result<Tracing> {
    let worker = |side: Side| {
        workers
            .iter()
            .find(|w| w.side == side)
            .with_context(|| format!("--trace: no {} thread", side.name()))
    };
    let (client, server) = (worker(Side::Client)?, worker(Side::Server)?);
    let endpoint = |w: &Watched| Endpoint {
        tid: w.tid,
        cpu: w.cpu as u32,
    };
    let pair = Pair::new(endpoint(client), endpoint(server))
        .with_fds(client.fds.clone(), server.fds.clone());
    let buffer_bytes_per_cpu = trace_buffer_bytes(length);
    let config = TraceConfig {
        cpus: cpus.to_vec(),
        tids: workers.iter().map(|w| w.tid).collect(),
        buffer_bytes_per_cpu,
    };
    let tracefs = Tracefs::locate_or_mount()?;
    let tracer = Tracer::open(&tracefs, &config).context("--trace")?;
    Ok(Tracing {
        tracer: Arc::new(Mutex::new(tracer)),
        events: Arc::new(Mutex::new(Vec::new())),
        pair,
        buffer_bytes_per_cpu,
        drainer: None,
    })
}

/// Names a file each traced iteration's events are written to, in the fixture text form of
/// [`crate::trace::events`] (the last iteration's stay): how the timeline's fixtures are recorded.
pub const DUMP_ENV: &str = "LOOPBENCH_TRACE_DUMP";

/// Writes `events` with the `# pair` line the timeline's fixtures start with.
fn dump(path: &str, events: &[Event], pair: &Pair) -> Result<()> {
    let mut text = format!(
        "# recorded by loopbench --trace\n{}\n",
        pair.fixture_header()
    );
    for e in events {
        text.push_str(&e.to_string());
        text.push('\n');
    }
    std::fs::write(path, text).with_context(|| format!("{DUMP_ENV}={path}"))
}

/// A thread pinned to `cpu` that drains the tracer every [`DRAIN_INTERVAL`] until told to stop.
fn start_drainer(
    cpu: usize,
    tracer: &Arc<Mutex<Tracer>>,
    events: &Arc<Mutex<Vec<Event>>>,
) -> Result<(usize, Arc<AtomicBool>, JoinHandle<()>)> {
    let stop = Arc::new(AtomicBool::new(false));
    let (tracer, events, flag) = (tracer.clone(), events.clone(), stop.clone());
    let handle = std::thread::Builder::new()
        .name("lb-trace-drain".into())
        .spawn(move || {
            if pin_current_thread(cpu).is_err() {
                return;
            }
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(DRAIN_INTERVAL);
                lock(&tracer).drain(&mut lock(&events));
            }
        })
        .context("starting the trace drainer")?;
    Ok((cpu, stop, handle))
}

fn finish_tracing(t: Tracing) -> Result<TraceOutcome> {
    let drained_on = t.drainer.map(|(cpu, stop, handle)| {
        stop.store(true, Ordering::Relaxed);
        let _ = handle.join();
        cpu
    });
    let tracer = Arc::try_unwrap(t.tracer)
        .map_err(|_| anyhow::anyhow!("--trace: the drainer still holds the tracer"))?
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    let mut events = std::mem::take(&mut *lock(&t.events));
    let stats = tracer.finish(&mut events).context("--trace")?;
    if let Ok(path) = std::env::var(DUMP_ENV) {
        dump(&path, &events, &t.pair)?;
    }
    Ok(TraceOutcome {
        timeline: rebuild(&events, &t.pair),
        stats,
        buffer_bytes_per_cpu: t.buffer_bytes_per_cpu,
        drained_on,
    })
}

/// Attributes every sample on the workers' CPUs to a category, per side.
fn attribute(p: &mut Profiler, workers: &[Watched]) -> Result<ProfileOutcome> {
    let symbols = kallsyms().context("--profile")?;
    let table = categories();
    let side_of_cpu = |cpu: u32| {
        let mut sides = workers
            .iter()
            .filter(|w| w.cpu as u32 == cpu)
            .map(|w| w.side);
        let first = sides.next();
        match (first, sides.all(|s| Some(s) == first)) {
            (Some(side), true) => Some(side),
            _ => None,
        }
    };
    let mut out = ProfileOutcome::default();
    p.drain(|s| {
        let chain = frames(s.callchain, symbols);
        let side = if s.tid == 0 {
            side_of_cpu(s.cpu)
        } else {
            match workers.iter().find(|w| w.tid == s.tid) {
                Some(w) => Some(w.side),
                None => {
                    out.other_tasks_ns += s.period_ns;
                    return;
                }
            }
        };
        let into = match side {
            Some(Side::Client) => &mut out.client,
            Some(Side::Server) => &mut out.server,
            None => &mut out.shared_idle,
        };
        into.add(table, chain, s.period_ns);
    });
    out.stats = p.stats();
    Ok(out)
}
