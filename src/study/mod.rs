//! Tuning studies: the same cases under several variants of kernel settings, each variant run in
//! a private network namespace of its own, in rounds whose variant order is shuffled, compared
//! against the first (baseline) variant.
//!
//! - [`file`](mod@file): the study file (TOML); its `[cases]` table is [`crate::spec::case_options::CaseOptions`]
//! - [`settings`]: what a variant changes, split by where it lives
//! - [`namespace`]: applying the namespace part and reading it back
//! - [`allowlist`]: the host-wide sysctls a study may change
//! - [`hostknobs`]: the host-wide knobs resolved to their files on this machine
//! - [`isolate`]: the child process and namespace of each run
//! - [`journal`]: host-wide changes, journaled and restored
//! - [`sweep`]: one setting over a range of values, each a variant
//! - [`schedule`]: rounds and the shuffled order
//! - [`execute`]: checks first, then the rounds
//! - [`rounds`]: the rounds themselves, one child per variant, and `--precision`'s added ones
//! - [`options`]: how a study is run and what passed its checks (shared by both)
//! - [`cpucost`]: the CPUs' busy and idle-polling time over each run
//! - [`hostcheck`]: the host before and after, byte for byte
//! - [`record`]: study.json and variant.json
//! - [`report`]: the comparison report, with [`plot`] for its charts

pub mod allowlist;
pub mod cpucost;
pub mod execute;
pub mod file;
pub mod hostcheck;
pub mod hostknobs;
pub mod isolate;
pub mod journal;
pub mod namespace;
pub mod options;
pub mod plot;
pub mod record;
pub mod report;
pub mod rounds;
pub mod schedule;
pub mod settings;
pub mod sweep;
