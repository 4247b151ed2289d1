//! Per-thread CPU time and context switches, summed per side.
//!
//! The CPU total comes from CLOCK_THREAD_CPUTIME_ID, which the kernel brings up to date when it is
//! read (nanosecond precision). getrusage(RUSAGE_THREAD) gives the context switches and the
//! user/system split, but its times are only refreshed at scheduler events and ticks: a thread that
//! spins for a millisecond without being preempted can show zero there.

use std::ops::{Add, Sub};

use serde::{Deserialize, Serialize};

/// CPU time and context switches of one thread (or a sum of threads).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadUsage {
    /// CPU time (user + system) in nanoseconds, exact (CLOCK_THREAD_CPUTIME_ID).
    pub cpu_ns: u64,
    /// User CPU time in nanoseconds (getrusage: tick-sampled, approximate over short spans).
    pub user_ns: u64,
    /// System CPU time in nanoseconds (getrusage: tick-sampled, approximate over short spans).
    pub system_ns: u64,
    /// Voluntary context switches (the thread blocked).
    pub voluntary_switches: u64,
    /// Involuntary context switches (the thread was preempted).
    pub involuntary_switches: u64,
}

impl ThreadUsage {
    /// The calling thread's usage so far.
    pub fn now() -> ThreadUsage {
        let cpu_ns = nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
            .map(|t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
            .unwrap_or(0);
        match nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_THREAD) {
            Ok(u) => {
                let ns = |tv: nix::sys::time::TimeVal| {
                    tv.tv_sec() as u64 * 1_000_000_000 + tv.tv_usec() as u64 * 1000
                };
                ThreadUsage {
                    cpu_ns,
                    user_ns: ns(u.user_time()),
                    system_ns: ns(u.system_time()),
                    voluntary_switches: u.voluntary_context_switches() as u64,
                    involuntary_switches: u.involuntary_context_switches() as u64,
                }
            }
            Err(_) => ThreadUsage {
                cpu_ns,
                ..ThreadUsage::default()
            },
        }
    }

    /// CPU time, exact.
    pub fn cpu_ns(&self) -> u64 {
        self.cpu_ns
    }

    /// Voluntary plus involuntary switches.
    pub fn switches(&self) -> u64 {
        self.voluntary_switches + self.involuntary_switches
    }
}

impl Sub for ThreadUsage {
    type Output = ThreadUsage;
    fn sub(self, o: ThreadUsage) -> ThreadUsage {
        ThreadUsage {
            cpu_ns: self.cpu_ns.saturating_sub(o.cpu_ns),
            user_ns: self.user_ns.saturating_sub(o.user_ns),
            system_ns: self.system_ns.saturating_sub(o.system_ns),
            voluntary_switches: self.voluntary_switches.saturating_sub(o.voluntary_switches),
            involuntary_switches: self
                .involuntary_switches
                .saturating_sub(o.involuntary_switches),
        }
    }
}

impl Add for ThreadUsage {
    type Output = ThreadUsage;
    fn add(self, o: ThreadUsage) -> ThreadUsage {
        ThreadUsage {
            cpu_ns: self.cpu_ns + o.cpu_ns,
            user_ns: self.user_ns + o.user_ns,
            system_ns: self.system_ns + o.system_ns,
            voluntary_switches: self.voluntary_switches + o.voluntary_switches,
            involuntary_switches: self.involuntary_switches + o.involuntary_switches,
        }
    }
}

/// One side's usage over an iteration, with figures per message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SideUsage {
    /// Summed over the side's threads.
    #[serde(flatten)]
    pub total: ThreadUsage,
    /// CPU time (user + system) per message, in nanoseconds.
    pub cpu_ns_per_msg: f64,
    /// Context switches (voluntary + involuntary) per message.
    pub switches_per_msg: f64,
    /// CPU utilisation of the side: CPU time / wall time (1.0 = one CPU fully busy).
    pub utilization: f64,
}

impl SideUsage {
    /// Derives per-message figures for `messages` over `elapsed_ns` of wall time.
    pub fn new(total: ThreadUsage, messages: u64, elapsed_ns: u64) -> SideUsage {
        let per = |x: u64| {
            if messages == 0 {
                0.0
            } else {
                x as f64 / messages as f64
            }
        };
        SideUsage {
            total,
            cpu_ns_per_msg: per(total.cpu_ns()),
            switches_per_msg: per(total.switches()),
            utilization: if elapsed_ns == 0 {
                0.0
            } else {
                total.cpu_ns() as f64 / elapsed_ns as f64
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_thread_accumulates_cpu_time() {
        let before = ThreadUsage::now();
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed().as_millis() < 30 {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        std::hint::black_box(x);
        let d = ThreadUsage::now() - before;
        assert!(d.cpu_ns() >= 1_000_000, "{d:?}");
    }

    #[test]
    fn a_short_spin_is_still_counted_exactly() {
        let before = ThreadUsage::now();
        let start = std::time::Instant::now();
        while start.elapsed().as_micros() < 300 {
            std::hint::black_box(());
        }
        let d = ThreadUsage::now() - before;
        assert!(d.cpu_ns() > 0, "{d:?}");
    }

    #[test]
    fn a_sleeping_thread_switches_voluntarily() {
        let before = ThreadUsage::now();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let d = ThreadUsage::now() - before;
        assert!(d.voluntary_switches >= 1, "{d:?}");
    }

    #[test]
    fn per_message_figures_divide_by_messages() {
        let u = ThreadUsage {
            cpu_ns: 1000,
            user_ns: 600,
            system_ns: 400,
            voluntary_switches: 3,
            involuntary_switches: 1,
        };
        let s = SideUsage::new(u, 4, 2000);
        assert_eq!(s.cpu_ns_per_msg, 250.0);
        assert_eq!(s.switches_per_msg, 1.0);
        assert_eq!(s.utilization, 0.5);
        assert_eq!(SideUsage::new(u, 0, 0).cpu_ns_per_msg, 0.0);
    }
}
