//! Per-CPU perf tracepoint sessions: open, filter, enable, drain into [`Event`]s, count losses.
//!
//! perf-event2 opens the events and reads the ring buffer (its `Sampler` handles the head/tail
//! protocol and wrap-around, and perf-event-data parses SAMPLE and LOST records). It wraps neither
//! PERF_EVENT_IOC_SET_FILTER nor SET_OUTPUT, so those two ioctls go through perf-event-open-sys2.
//!
//! Layout: one ring buffer per traced CPU. The first tracepoint on a CPU owns the buffer; every
//! other tracepoint on that CPU is redirected into it (SET_OUTPUT), so each buffer holds its CPU's
//! events in the order they happened, and the raw payload's `common_type` says which tracepoint a
//! sample came from. Timestamps are CLOCK_MONOTONIC (`use_clockid`), the clock the workers stamp
//! with. The kernel filters (SET_FILTER, ftrace syntax) keep only the workers' syscalls, wake-ups
//! and switches and only the NET_RX softirq, so the buffers stay small; IPIs and idle transitions
//! are per CPU and kept whole.

use std::ffi::CString;
use std::os::fd::AsRawFd;

use perf_event::data::Record;
use perf_event::events::Tracepoint as PerfTracepoint;
use perf_event::{Builder, Clock, Counter, SampleFlag, Sampler};
use perf_event_open_sys::ioctls;

use crate::trace::decode::{Decoder, Tracepoint};
use crate::trace::error::TraceError;
use crate::trace::events::{Event, EventKind, NET_RX};
use crate::trace::tracefs::Tracefs;

/// What to trace.
#[derive(Debug, Clone)]
pub struct TraceConfig {
    /// The CPUs to open events on (the workers' CPUs).
    pub cpus: Vec<u32>,
    /// The workers' thread ids; empty keeps every thread's events.
    pub tids: Vec<u32>,
    /// Ring-buffer bytes per CPU (rounded up to a power of two pages).
    pub buffer_bytes_per_cpu: usize,
}

/// Counts over the whole session; `lost_events` is what the kernel reported dropping.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TraceStats {
    /// Samples decoded into events.
    pub events: u64,
    /// Events the kernel dropped (sum of PERF_RECORD_LOST counts).
    pub lost_events: u64,
    /// PERF_RECORD_LOST records seen (gaps).
    pub lost_records: u64,
    /// Records that did not parse or decode (should stay 0; counted, never hidden).
    pub undecoded: u64,
}

/// One CPU's ring buffer and the events redirected into it.
struct CpuRing {
    cpu: u32,
    sampler: Sampler,
    followers: Vec<Counter>,
    last_ts: u64,
    /// A loss seen but not yet closed by a later sample: (last timestamp before it, count).
    open_gap: Option<(u64, u64)>,
}

/// An open tracing session on some CPUs.
pub struct Tracer {
    decoder: Decoder,
    rings: Vec<CpuRing>,
    stats: TraceStats,
}

/// The kernel-side filter for one tracepoint (ftrace syntax), or `None` to keep all its events.
pub fn filter_for(tracepoint: Tracepoint, tids: &[u32]) -> Option<String> {
    let any = |fields: &[&str]| -> Option<String> {
        if tids.is_empty() {
            return None;
        }
        let terms: Vec<String> = fields
            .iter()
            .flat_map(|f| tids.iter().map(move |t| format!("{f} == {t}")))
            .collect();
        Some(terms.join(" || "))
    };
    match tracepoint {
        Tracepoint::SysEnter | Tracepoint::SysExit => any(&["common_pid"]),
        Tracepoint::SoftirqEntry | Tracepoint::SoftirqExit => Some(format!("vec == {NET_RX}")),
        Tracepoint::SchedWaking => any(&["pid"]),
        Tracepoint::SchedSwitch => any(&["prev_pid", "next_pid"]),
        Tracepoint::IpiSendCpu | Tracepoint::CpuIdle => None,
    }
}

impl Tracer {
    /// Opens every tracepoint of [`Tracepoint::ALL`] on each CPU, disabled; call [`Tracer::enable`].
    pub fn open(tracefs: &Tracefs, config: &TraceConfig) -> Result<Self, TraceError> {
        let decoder = Decoder::load(tracefs, &Tracepoint::ALL)?;
        let mut rings = Vec::with_capacity(config.cpus.len());
        for &cpu in &config.cpus {
            let mut counters = Vec::new();
            for (tracepoint, id) in decoder.ids() {
                let counter = open_one(id, cpu)?;
                if let Some(filter) = filter_for(tracepoint, &config.tids) {
                    set_filter(&counter, &filter, cpu)?;
                }
                counters.push(counter);
            }
            let mut counters = counters.into_iter();
            let leader = counters.next().expect("Tracepoint::ALL is not empty");
            let sampler = leader
                .sampled(config.buffer_bytes_per_cpu)
                .map_err(|source| TraceError::Perf {
                    what: "mmap ring buffer".into(),
                    cpu,
                    source,
                })?;
            let followers: Vec<Counter> = counters.collect();
            for f in &followers {
                // SAFETY: both fds are open perf events on the same CPU with the same clock.
                let rc = unsafe { ioctls::SET_OUTPUT(f.as_raw_fd(), sampler.as_raw_fd()) };
                if rc != 0 {
                    let source = std::io::Error::last_os_error();
                    return Err(TraceError::Perf {
                        what: "SET_OUTPUT".into(),
                        cpu,
                        source,
                    });
                }
            }
            rings.push(CpuRing {
                cpu,
                sampler,
                followers,
                last_ts: 0,
                open_gap: None,
            });
        }
        Ok(Self {
            decoder,
            rings,
            stats: TraceStats::default(),
        })
    }

    /// Starts recording on every CPU.
    pub fn enable(&mut self) -> Result<(), TraceError> {
        for ring in &mut self.rings {
            let cpu = ring.cpu;
            let err = |source| TraceError::Perf {
                what: "enable".into(),
                cpu,
                source,
            };
            ring.sampler.enable().map_err(err)?;
            ring.followers
                .iter_mut()
                .try_for_each(|f| f.enable())
                .map_err(err)?;
        }
        Ok(())
    }

    /// Stops recording (what is in the buffers can still be drained).
    pub fn disable(&mut self) -> Result<(), TraceError> {
        for ring in &mut self.rings {
            let cpu = ring.cpu;
            let err = |source| TraceError::Perf {
                what: "disable".into(),
                cpu,
                source,
            };
            ring.sampler.disable().map_err(err)?;
            ring.followers
                .iter_mut()
                .try_for_each(|f| f.disable())
                .map_err(err)?;
        }
        Ok(())
    }

    /// Moves every record now in the buffers into `out` (per CPU in order; CPUs not merged).
    ///
    /// A loss becomes an [`EventKind::Lost`] event once the next sample on that CPU closes the gap.
    pub fn drain(&mut self, out: &mut Vec<Event>) {
        let Self {
            decoder,
            rings,
            stats,
        } = self;
        for ring in rings.iter_mut() {
            while let Some(record) = ring.sampler.next_record() {
                match record.parse_record() {
                    Ok(Record::Sample(sample)) => {
                        let decoded = sample.raw().and_then(|raw| decoder.decode(raw));
                        let (Some(kind), Some(ts_ns)) = (decoded, sample.time()) else {
                            stats.undecoded += 1;
                            continue;
                        };
                        if let Some((from, count)) = ring.open_gap.take() {
                            let kind = EventKind::Lost {
                                count,
                                until_ns: ts_ns,
                            };
                            out.push(Event {
                                ts_ns: from,
                                cpu: ring.cpu,
                                tid: 0,
                                kind,
                            });
                        }
                        let cpu = sample.cpu().unwrap_or(ring.cpu);
                        out.push(Event {
                            ts_ns,
                            cpu,
                            tid: sample.tid().unwrap_or(0),
                            kind,
                        });
                        ring.last_ts = ts_ns;
                        stats.events += 1;
                    }
                    Ok(Record::Lost(lost)) => {
                        stats.lost_events += lost.lost;
                        stats.lost_records += 1;
                        let (from, count) = ring.open_gap.unwrap_or((ring.last_ts, 0));
                        ring.open_gap = Some((from, count + lost.lost));
                    }
                    Ok(_) => {}
                    Err(_) => stats.undecoded += 1,
                }
            }
        }
    }

    /// Disables, drains what is left, and closes any gap still open (it runs to the end).
    pub fn finish(mut self, out: &mut Vec<Event>) -> Result<TraceStats, TraceError> {
        self.disable()?;
        self.drain(out);
        for ring in &mut self.rings {
            if let Some((from, count)) = ring.open_gap.take() {
                let kind = EventKind::Lost {
                    count,
                    until_ns: u64::MAX,
                };
                out.push(Event {
                    ts_ns: from,
                    cpu: ring.cpu,
                    tid: 0,
                    kind,
                });
            }
        }
        Ok(self.stats)
    }

    /// Counts so far.
    pub fn stats(&self) -> TraceStats {
        self.stats
    }
}

/// Opens one tracepoint on one CPU for every thread, disabled, sampling every event.
fn open_one(id: u64, cpu: u32) -> Result<Counter, TraceError> {
    Builder::new(PerfTracepoint::with_id(id))
        .any_pid()
        .one_cpu(cpu as usize)
        // Tracepoints fire in kernel mode: with exclude_kernel (the builder's default) every
        // event would be dropped.
        .include_kernel()
        .sample_period(1)
        .sample(SampleFlag::TID | SampleFlag::TIME | SampleFlag::CPU | SampleFlag::RAW)
        .clockid(Clock::MONOTONIC)
        // Wake a reader only when the buffer is a quarter full: without a watermark every event
        // queues an irq_work to wake a reader nobody runs, an extra interrupt per event.
        .wakeup_watermark(64 * 1024)
        .build()
        .map_err(|e| TraceError::open_failed("open tracepoint", cpu, e))
}

/// Sets an ftrace-syntax filter on a tracepoint event.
fn set_filter(counter: &Counter, filter: &str, cpu: u32) -> Result<(), TraceError> {
    let filter = CString::new(filter).expect("filters are built from numbers and field names");
    // SAFETY: the fd is an open perf event; the kernel copies the NUL-terminated string.
    let rc = unsafe { ioctls::SET_FILTER(counter.as_raw_fd(), filter.as_ptr() as *mut _) };
    if rc != 0 {
        let source = std::io::Error::last_os_error();
        return Err(TraceError::Perf {
            what: format!("SET_FILTER {filter:?}"),
            cpu,
            source,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_keep_the_workers_and_net_rx_only() {
        assert_eq!(
            filter_for(Tracepoint::SysExit, &[7, 9]).unwrap(),
            "common_pid == 7 || common_pid == 9"
        );
        assert_eq!(
            filter_for(Tracepoint::SchedSwitch, &[7]).unwrap(),
            "prev_pid == 7 || next_pid == 7"
        );
        assert_eq!(
            filter_for(Tracepoint::SoftirqEntry, &[7]).unwrap(),
            "vec == 3"
        );
        assert_eq!(filter_for(Tracepoint::CpuIdle, &[7]), None);
        assert_eq!(
            filter_for(Tracepoint::SysEnter, &[]),
            None,
            "no tids: keep every thread"
        );
    }
}
