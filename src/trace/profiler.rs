//! CPU sampling with kernel+user call chains on given CPUs (perf `cpu-clock`, every thread).
//!
//! `cpu-clock` is a software hrtimer event: it works in guests without a virtual PMU (this KVM
//! guest has none, so `cycles` is not available). Its samples are taken in the timer interrupt,
//! so code running with interrupts off is charged to the point where they are re-enabled (see
//! NOTES.md). Each sample carries its period in ns, so weights are CPU time.

use perf_event::data::Record;
use perf_event::events::Software;
use perf_event::{Builder, Clock, SampleFlag, Sampler};

use crate::trace::categories::Frame;
use crate::trace::error::TraceError;
use crate::trace::kallsyms::Kallsyms;

/// What to sample.
#[derive(Debug, Clone)]
pub struct ProfileConfig {
    /// CPUs to sample (every thread on them, idle included).
    pub cpus: Vec<u32>,
    /// Samples per second per CPU (4000–10000 is the useful range; the kernel caps it at
    /// kernel.perf_event_max_sample_rate).
    pub frequency_hz: u64,
    /// Ring-buffer bytes per CPU.
    pub buffer_bytes_per_cpu: usize,
}

/// Counts over the session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProfileStats {
    /// Samples delivered.
    pub samples: u64,
    /// Samples the kernel dropped (PERF_RECORD_LOST).
    pub lost: u64,
    /// Records that did not parse (counted, never hidden).
    pub undecoded: u64,
}

/// One sample, borrowed from the ring buffer.
#[derive(Debug, Clone, Copy)]
pub struct CallchainSample<'a> {
    /// The CPU sampled.
    pub cpu: u32,
    /// The thread running (0 = idle).
    pub tid: u32,
    /// CLOCK_MONOTONIC ns.
    pub ts_ns: u64,
    /// CPU time this sample stands for, in ns.
    pub period_ns: u64,
    /// perf's raw call chain: addresses, leaf first, with PERF_CONTEXT_* markers.
    pub callchain: &'a [u64],
}

/// Open sampling on some CPUs.
pub struct Profiler {
    rings: Vec<(u32, Sampler)>,
    stats: ProfileStats,
}

impl Profiler {
    /// Opens a disabled cpu-clock sampler on each CPU; call [`Profiler::enable`].
    pub fn open(config: &ProfileConfig) -> Result<Self, TraceError> {
        let mut rings = Vec::with_capacity(config.cpus.len());
        for &cpu in &config.cpus {
            let sampler = Builder::new(Software::CPU_CLOCK)
                .any_pid()
                .one_cpu(cpu as usize)
                .include_kernel()
                .sample_frequency(config.frequency_hz)
                .sample(
                    SampleFlag::TID
                        | SampleFlag::TIME
                        | SampleFlag::CPU
                        | SampleFlag::PERIOD
                        | SampleFlag::CALLCHAIN,
                )
                .clockid(Clock::MONOTONIC)
                .wakeup_watermark(64 * 1024)
                .build()
                .map_err(|e| TraceError::open_failed("open cpu-clock sampler", cpu, e))?
                .sampled(config.buffer_bytes_per_cpu)
                .map_err(|source| TraceError::Perf {
                    what: "mmap ring buffer".into(),
                    cpu,
                    source,
                })?;
            rings.push((cpu, sampler));
        }
        Ok(Self {
            rings,
            stats: ProfileStats::default(),
        })
    }

    /// Starts sampling.
    pub fn enable(&mut self) -> Result<(), TraceError> {
        for (cpu, s) in &mut self.rings {
            s.enable().map_err(|source| TraceError::Perf {
                what: "enable".into(),
                cpu: *cpu,
                source,
            })?;
        }
        Ok(())
    }

    /// Stops sampling.
    pub fn disable(&mut self) -> Result<(), TraceError> {
        for (cpu, s) in &mut self.rings {
            s.disable().map_err(|source| TraceError::Perf {
                what: "disable".into(),
                cpu: *cpu,
                source,
            })?;
        }
        Ok(())
    }

    /// Hands every buffered sample to `sink` (no copy of the call chain when it is contiguous).
    pub fn drain(&mut self, mut sink: impl FnMut(&CallchainSample<'_>)) {
        let Self { rings, stats } = self;
        for (cpu, sampler) in rings.iter_mut() {
            while let Some(record) = sampler.next_record() {
                match record.parse_record() {
                    Ok(Record::Sample(s)) => {
                        let (Some(ts_ns), Some(callchain)) = (s.time(), s.callchain()) else {
                            stats.undecoded += 1;
                            continue;
                        };
                        stats.samples += 1;
                        sink(&CallchainSample {
                            cpu: s.cpu().unwrap_or(*cpu),
                            tid: s.tid().unwrap_or(0),
                            ts_ns,
                            period_ns: s.period().unwrap_or(0),
                            callchain,
                        });
                    }
                    Ok(Record::Lost(lost)) => stats.lost += lost.lost,
                    Ok(_) => {}
                    Err(_) => stats.undecoded += 1,
                }
            }
        }
    }

    /// Counts so far.
    pub fn stats(&self) -> ProfileStats {
        self.stats
    }
}

/// perf's callchain context markers (`PERF_CONTEXT_*`), as u64: everything at or above
/// `PERF_CONTEXT_MAX` (-4095) is a marker, not an address.
const CONTEXT_MAX: u64 = -4095i64 as u64;
const CONTEXT_KERNEL: u64 = -128i64 as u64;
const CONTEXT_USER: u64 = -512i64 as u64;

/// Turns a raw perf call chain into frames (leaf first), symbolizing kernel addresses.
pub fn frames<'k>(callchain: &[u64], kallsyms: &'k Kallsyms) -> impl Iterator<Item = Frame<'k>> {
    let mut user = false;
    callchain.iter().filter_map(move |&ip| {
        if ip >= CONTEXT_MAX {
            user = match ip {
                CONTEXT_KERNEL => false,
                CONTEXT_USER => true,
                _ => user,
            };
            return None;
        }
        Some(if user {
            Frame::User
        } else {
            Frame::Kernel(kallsyms.lookup(ip))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_markers_split_kernel_and_user_frames() {
        let k =
            Kallsyms::parse("ffffffff81000000 T tcp_sendmsg\nffffffff81001000 T __sys_sendto\n");
        let chain = [
            CONTEXT_KERNEL,
            0xffffffff81000010,
            0xffffffff81001010,
            CONTEXT_USER,
            0x5555_0000,
        ];
        let got: Vec<Frame> = frames(&chain, &k).collect();
        assert_eq!(
            got,
            vec![
                Frame::Kernel(Some("tcp_sendmsg")),
                Frame::Kernel(Some("__sys_sendto")),
                Frame::User
            ]
        );
        let user_only = [CONTEXT_USER, 0x5555_0000, 0x5555_0100];
        assert_eq!(
            frames(&user_only, &k).collect::<Vec<_>>(),
            vec![Frame::User, Frame::User]
        );
    }
}
