//! End-to-end tests of the `loopbench` binary. One test binary (modules below) so it builds once.

mod alias;
mod bad_input;
mod bounds;
mod compare;
mod doctor;
mod fuzz;
mod help;
mod helpers;
mod history;
mod iface;
mod probes;
mod processes;
mod report;
mod resources;
mod results;
mod run;
mod schema;
mod signals;
mod stages;
mod study;
mod study_knobs;
mod suite;
mod workloads;
