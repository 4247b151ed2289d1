//! A run: the public [`session::Run`], the plan (validated, placed, interleaved cases), the
//! seeded [`schedule`] (used by ab and studies too), the execute loop, and the records each iteration and case become. [`worker`] runs one iteration
//! on pinned threads (or a server process).

pub mod cpu_profile;
pub mod kernel;
pub mod persist;
pub mod plan;
pub mod precision;
pub mod progress;
pub mod records;
pub mod resources;
pub mod result;
pub mod runner;
pub mod schedule;
pub mod session;
pub mod trust;
pub mod worker;
