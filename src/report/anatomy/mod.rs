//! The loopback anatomy: a round trip decomposed, for each placement and engine, into the floor
//! (`shm`: the two CPUs talking through shared memory, no kernel), the kernel wake-up
//! (`pipe` − `shm`), the socket layer (`unix-stream` − `pipe`) and the IP stack
//! (`tcp4`/`udp4` − `unix-stream`), from the medians of `rr` cases of one message size.

mod decompose;
mod estimate;
mod model;
mod text;

pub use decompose::{anatomy, case_id, rr_spec};
pub use estimate::{Estimate, difference, level};
pub use model::{Anatomy, Layer, Panel, Step};
pub use text::{EXPLANATION, absent, missing, notes, table};
