//! End-to-end tests of the `loopbench` binary. One test binary (modules below) so it builds once.

mod bad_input;
mod compare;
mod helpers;
mod iface;
mod run;
