//! Per-thread CPU time and context switches, summed per side.
//!
//! The CPU total comes from CLOCK_THREAD_CPUTIME_ID, which the kernel brings up to date when it is
//! read (nanosecond precision). getrusage(RUSAGE_THREAD) gives the context switches and the
//! user/system split, but its times are only refreshed at scheduler events and ticks: a thread that
//! spins for a millisecond without being preempted can show zero there.

use std::ops::{Add, Sub};

use serde::{Deserialize, Serialize};

/// CPU time and context switches of one thread (or a sum of threads).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
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

    /// Another thread of this process, by thread id (a kernel thread the process owns, such as
    /// io_uring's SQPOLL thread): CPU time exact from its thread CPU clock, all of it counted as
    /// system time, switches from /proc. `None` once the thread has gone.
    pub fn of_thread(tid: i32) -> Option<ThreadUsage> {
        let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        // MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED) from the kernel's posix-timers.h: what
        // pthread_getcpuclockid returns for a thread, built from the tid.
        let clock = ((!tid) << 3) | 4 | 2;
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid timespec; a clock of a gone thread only fails the call.
        if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
            return None;
        }
        let cpu_ns = ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
        Some(ThreadUsage {
            cpu_ns,
            user_ns: 0,
            system_ns: cpu_ns,
            voluntary_switches: field("voluntary_ctxt_switches:"),
            involuntary_switches: field("nonvoluntary_ctxt_switches:"),
        })
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

/// CPU time of this process so far (every thread, CLOCK_PROCESS_CPUTIME_ID) plus that of its
/// children already waited for (getrusage RUSAGE_CHILDREN), in nanoseconds.
pub fn process_cpu_ns() -> u64 {
    let own = nix::time::clock_gettime(nix::time::ClockId::CLOCK_PROCESS_CPUTIME_ID)
        .map(|t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
        .unwrap_or(0);
    let children = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .map(|u| {
            let ns = |tv: nix::sys::time::TimeVal| {
                tv.tv_sec() as u64 * 1_000_000_000 + tv.tv_usec() as u64 * 1000
            };
            ns(u.user_time()) + ns(u.system_time())
        })
        .unwrap_or(0);
    own + children
}

/// One side's usage over an iteration, with figures per message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
    fn the_process_counts_its_threads() {
        let before = process_cpu_ns();
        std::thread::spawn(|| {
            let start = std::time::Instant::now();
            while start.elapsed().as_millis() < 20 {
                std::hint::black_box(());
            }
        })
        .join()
        .unwrap();
        assert!(process_cpu_ns() >= before + 1_000_000);
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
    fn another_thread_of_the_process_is_read_by_its_tid() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            // Spin until this thread's own CPU clock says 2 ms (not a wall time: on a loaded
            // machine 20 ms of wall time may hold well under 1 ms of CPU).
            while ThreadUsage::now().cpu_ns() < 2_000_000 {
                std::hint::black_box(());
            }
            // SAFETY: gettid has no preconditions.
            tx.send(unsafe { libc::gettid() }).unwrap();
            done_rx.recv().unwrap();
        });
        let tid = rx.recv().unwrap();
        let u = ThreadUsage::of_thread(tid).unwrap();
        assert!(u.cpu_ns >= 2_000_000, "2 ms of spinning: {u:?}");
        assert_eq!(u.system_ns, u.cpu_ns);
        done_tx.send(()).unwrap();
        t.join().unwrap();
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
