//! A run: the public [`session::Run`], the plan (validated, placed, interleaved cases), the
//! seeded [`schedule`] (used by ab and studies too), the execute loop, and the records each iteration and case become. [`worker`] runs one iteration
//! on pinned threads (or a server process).

#[doc(hidden)]
pub mod cpu_profile;
#[doc(hidden)]
pub mod kernel;
#[doc(hidden)]
pub mod persist;
#[doc(hidden)]
pub mod plan;
#[doc(hidden)]
pub mod precision;
pub mod progress;
#[doc(hidden)]
pub mod records;
#[doc(hidden)]
pub mod resources;
pub mod result;
#[doc(hidden)]
pub mod runner;
#[doc(hidden)]
pub mod schedule;
pub mod session;
#[doc(hidden)]
pub mod trust;
pub mod turns;
#[doc(hidden)]
pub mod worker;
