//! `--zerocopy`: the paths a `stream` may move its bytes on instead of write/read, and what the
//! kernel reports it did with them. MSG_ZEROCOPY sends with their completions reaped from the
//! error queue ([`errqueue`], bookkept in [`ledger`]), TCP_ZEROCOPY_RECEIVE into an mmap window
//! ([`recv`]), and page-moving sends: sendfile from a memfd, vmsplice, splice ([`pages`]).
//! [`send`] is the sender the `stream` workload holds.
//!
//! These paths call the kernel directly on the connection's file descriptor: they run on the
//! blocking engine (sleeping in the kernel), epoll and spin (non-blocking, never sleeping but
//! in the iteration's last step); io_uring has its own zero-copy send (SEND_ZC, in the
//! engine). [`check`] refuses the rest.

pub mod check;
pub mod errqueue;
pub mod ledger;
pub mod pages;
pub mod recv;
pub mod send;
