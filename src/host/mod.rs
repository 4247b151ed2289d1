//! The machine the workers run on: CPU topology and pinning, the environment snapshot stored with
//! every run, sysctls and other host-wide knobs (idle states, haltpoll, scheduler tunables), the
//! CPUs' busy and idle time, the other processes that can disturb a measurement, and the supervision
//! of the child processes loopbench starts, and the futex loopbench sleeps on.

#[doc(hidden)]
pub mod cgroup;
#[doc(hidden)]
pub mod child;
#[doc(hidden)]
pub mod cpuidle;
#[doc(hidden)]
pub mod cputime;
#[doc(hidden)]
pub mod environment;
#[doc(hidden)]
pub mod futex;
#[doc(hidden)]
pub mod knob;
#[doc(hidden)]
pub mod pinned;
#[doc(hidden)]
pub mod procs;
#[doc(hidden)]
pub mod sysctl;
pub mod topology;
