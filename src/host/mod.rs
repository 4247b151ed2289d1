//! The machine the workers run on: CPU topology and pinning, the environment snapshot stored with
//! every run, sysctls, and the other processes that can disturb a measurement.

pub mod environment;
pub mod pinned;
pub mod procs;
pub mod sysctl;
pub mod topology;
