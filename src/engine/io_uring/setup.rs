//! Building a ring for a variant ([`UringSettings`] → setup flags), the availability check a
//! run makes before it measures anything, and the SQPOLL thread whose CPU time is charged to
//! the side that owns the ring.

use std::fs;

use io_uring::IoUring;

use super::detect::{Unavailable, diagnose, host_facts, injected_errno};
use crate::metrics::rusage::ThreadUsage;
use crate::spec::UringSettings;

/// How long the SQPOLL thread polls an empty queue before it sleeps (the kernel's default,
/// given explicitly so the record says it).
pub const SQ_IDLE_MS: u32 = 1000;

/// Creates a ring of `entries` with the variant's setup flags, or says why io_uring is refused.
pub fn build_ring(settings: &UringSettings, entries: u32) -> Result<IoUring, Unavailable> {
    if let Some(errno) = injected_errno() {
        return Err(diagnose(errno, &host_facts()));
    }
    let mut b = IoUring::builder();
    if settings.sqpoll {
        b.setup_sqpoll(SQ_IDLE_MS);
        if let Some(cpu) = settings.sq_cpu {
            b.setup_sqpoll_cpu(cpu as u32);
        }
    }
    b.build(entries).map_err(|e| {
        let errno = e.raw_os_error().unwrap_or(0);
        match settings.sq_cpu {
            Some(cpu) if errno == libc::EINVAL => Unavailable::Other(format!(
                "EINVAL: CPU {cpu} of -sqpoll@{cpu} is not an online CPU this process may use"
            )),
            _ => diagnose(errno, &host_facts()),
        }
    })
}

/// Checks that the variant can run here by building a small ring with its flags (what a run
/// does for every io_uring case before it measures anything).
pub fn check(settings: &UringSettings) -> Result<(), Unavailable> {
    build_ring(settings, 2).map(drop)
}

/// The SQPOLL thread of a ring this thread created: `iou-sqp-<creator's tid>` under
/// /proc/self/task (it is a thread of the process since Linux 5.12). It names itself, and the
/// ring's fdinfo names it (`SqThread:`), only once it has first run.
#[derive(Clone, Copy, Debug)]
pub struct SqThread {
    tid: i32,
}

fn comm(tid: i32) -> Option<String> {
    fs::read_to_string(format!("/proc/self/task/{tid}/comm"))
        .ok()
        .map(|c| c.trim().to_string())
}

impl SqThread {
    /// Finds the SQPOLL thread of `ring`, which the calling thread created: the thread the
    /// ring's fdinfo names (`SqThread:`), or else the one named after this thread.
    pub fn of_ring(ring: &IoUring) -> Option<SqThread> {
        use std::os::fd::AsRawFd;
        let info = fs::read_to_string(format!("/proc/self/fdinfo/{}", ring.as_raw_fd()));
        let named = info.ok().and_then(|i| {
            i.lines()
                .find_map(|l| l.strip_prefix("SqThread:"))
                .and_then(|v| v.trim().parse::<i32>().ok())
        });
        if let Some(tid) = named.filter(|&t| comm(t).is_some_and(|c| c.starts_with("iou-sqp-"))) {
            return Some(SqThread { tid });
        }
        // SAFETY: gettid has no preconditions.
        let want = format!("iou-sqp-{}", unsafe { libc::gettid() });
        fs::read_dir("/proc/self/task")
            .ok()?
            .flatten()
            .find_map(|e| {
                let tid: i32 = e.file_name().to_str()?.parse().ok()?;
                (comm(tid)? == want).then_some(SqThread { tid })
            })
    }

    /// Like [`SqThread::of_ring`], waiting up to 100 ms for the thread to have run once.
    pub fn of_ring_started(ring: &IoUring) -> Option<SqThread> {
        for _ in 0..100 {
            if let Some(t) = SqThread::of_ring(ring) {
                return Some(t);
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        None
    }

    /// Its CPU time and switches so far (zero once it has gone).
    pub fn usage(&self) -> ThreadUsage {
        ThreadUsage::of_thread(self.tid).unwrap_or_default()
    }
}
