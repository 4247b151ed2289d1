//! Tuning studies: the same cases under several variants of kernel settings, each variant run in
//! a private network namespace of its own, in rounds whose variant order is shuffled, compared
//! against the first (baseline) variant.
//!
//! - [`file`](mod@file): the study file (TOML); its `[cases]` table is [`crate::spec::case_options::CaseOptions`]
//! - [`settings`]: what a variant changes; applying it in a namespace and reading it back
//! - [`isolate`]: the child process and namespace of each run
//! - [`journal`]: host-wide changes, journaled and restored
//! - [`schedule`]: rounds and the shuffled order
//! - [`execute`]: checks first, then the rounds
//! - [`hostcheck`]: the host before and after, byte for byte
//! - [`record`]: study.json and variant.json
//! - [`report`]: the comparison report, with [`plot`] for its charts

pub mod execute;
pub mod file;
pub mod hostcheck;
pub mod isolate;
pub mod journal;
pub mod plot;
pub mod record;
pub mod report;
pub mod schedule;
pub mod settings;
