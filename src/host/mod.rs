//! The machine the workers run on: CPU topology and pinning, the environment snapshot stored with
//! every run, sysctls, the other processes that can disturb a measurement, and the supervision
//! of the child processes loopbench starts.

pub mod child;
pub mod environment;
pub mod pinned;
pub mod procs;
pub mod sysctl;
pub mod topology;
