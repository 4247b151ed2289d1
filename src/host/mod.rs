//! The machine the workers run on: CPU topology and pinning, the environment snapshot stored with
//! every run, sysctls and other host-wide knobs (idle states, haltpoll, scheduler tunables), the
//! CPUs' busy and idle time, the other processes that can disturb a measurement, and the supervision
//! of the child processes loopbench starts, and the futex loopbench sleeps on.

pub mod cgroup;
pub mod child;
pub mod cpuidle;
pub mod cputime;
pub mod environment;
pub mod futex;
pub mod knob;
pub mod pinned;
pub mod procs;
pub mod sysctl;
pub mod topology;
