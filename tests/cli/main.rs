//! End-to-end tests of the `loopbench` binary. One test binary (modules below) so it builds once.

mod bad_input;
mod helpers;
mod iface;
mod processes;
mod report;
mod run;
mod suite;
mod workloads;
