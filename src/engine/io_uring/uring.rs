//! One thread's ring and what it knows about each flow's connection: turns the ports' requests
//! into submission entries, hands completions back to the ports, follows a flow that replaces
//! its connection, and drains everything before the engine returns (the kernel must not touch
//! a flow's buffer after `drive`).

use std::os::fd::RawFd;

use anyhow::{Context, Result, bail};
use io_uring::{IoUring, cqueue, opcode, squeue, types};

use super::bufring::BufRing;
use crate::engine::Wait;
use crate::metrics::clock::monotonic_ns;
use crate::spec::UringSettings;
use crate::transport::Conn;
use crate::transport::arrived::Arrived;
use crate::transport::port::{self, Lent, Op, Port, SLOT_BYTES, Slot};

/// The kinds of operation, in the low byte of `user_data`.
const READ: u8 = 1;
const WRITE: u8 = 2;
const SLOT: u8 = 3;
const MULTI: u8 = 4;
const POLL: u8 = 5;
const CANCEL: u8 = 6;

/// `user_data`: slot index, connection generation (so completions of a replaced connection
/// are told apart), kind.
fn ud(index: usize, generation: u8, kind: u8) -> u64 {
    (index as u64) << 16 | u64::from(generation) << 8 | u64::from(kind)
}

fn decode(user_data: u64) -> (usize, u8, u8) {
    (
        (user_data >> 16) as usize,
        (user_data >> 8) as u8,
        user_data as u8,
    )
}

/// Provided buffers per connection (multishot) and their size: 32 × 64 KiB = 2 MiB, room for
/// a full loopback TCP receive window's worth of large segments.
pub const PROVIDED: (u16, usize) = (32, 64 * 1024);

/// `IORING_SEND_ZC_REPORT_USAGE` and `IORING_NOTIF_USAGE_ZC_COPIED` (linux/io_uring.h; the
/// crate's `sys` bindings are private).
const SEND_ZC_REPORT_USAGE: u16 = 1 << 3;
const NOTIF_USAGE_ZC_COPIED: u32 = 1 << 31;

/// Registered buffer regions per ring (`fixed`); a buffer outside them is sent unregistered.
const MAX_REGIONS: usize = 64;

/// What the engine knows about one slot's current connection.
pub struct Attached {
    conn_id: u64,
    read_fd: RawFd,
    write_fd: RawFd,
    /// A socket (SEND/RECV), not a pipe (WRITE/READ).
    socket: bool,
    /// Bumped when the flow replaces its connection.
    generation: u8,
    /// A listening socket (crr's server): never given a receive, only polled.
    listening: bool,
    /// A multishot receive is armed on the current connection.
    multi_armed: bool,
    /// A poll is armed on the current connection.
    poll_armed: bool,
    /// Multishot receives and polls not yet ended, any generation (for the drain).
    outstanding: u32,
    /// What the flow waits for.
    pub wait: Wait,
    /// The flow finished its iteration.
    pub done: bool,
    /// Something happened for it: step it.
    pub pending: bool,
}

fn sockopt(fd: RawFd, name: libc::c_int) -> Option<libc::c_int> {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes one c_int into `v`; a non-socket only fails the call.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            name,
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    (r == 0).then_some(v)
}

/// True when each read takes one whole message (datagram and seqpacket sockets).
fn keeps_boundaries(fd: RawFd) -> bool {
    matches!(
        sockopt(fd, libc::SO_TYPE),
        Some(libc::SOCK_DGRAM | libc::SOCK_SEQPACKET)
    )
}

/// Registered buffer regions: (start, end, index).
struct Regions(Vec<(usize, usize, u16)>);

impl Regions {
    /// The registered index covering `[ptr, ptr + len)`, registering it if there is room.
    fn index(&mut self, ring: &IoUring, ptr: usize, len: usize) -> Option<u16> {
        if let Some(r) = self.0.iter().find(|r| r.0 <= ptr && ptr + len <= r.1) {
            return Some(r.2);
        }
        if self.0.len() == MAX_REGIONS {
            return None;
        }
        let idx = self.0.len() as u16;
        let iov = libc::iovec {
            iov_base: ptr as *mut libc::c_void,
            iov_len: len,
        };
        // SAFETY: the region is a flow's buffer or a port's slot, both alive until the ring is
        // dropped (the engine drains every operation before it returns).
        unsafe {
            ring.submitter()
                .register_buffers_update(u32::from(idx), &[iov], None)
        }
        .ok()?;
        self.0.push((ptr, ptr + len, idx));
        Some(idx)
    }
}

/// One thread's ring.
pub struct Uring {
    ring: IoUring,
    settings: UringSettings,
    /// One per slot.
    pub conns: Vec<Attached>,
    bufrings: Vec<BufRing>,
    regions: Regions,
}

fn push(ring: &mut IoUring, e: &squeue::Entry) -> Result<()> {
    // SAFETY: every entry points at memory that outlives its operation (a port's slot, a
    // flow's buffer, provided buffers): all are drained before the engine returns.
    while unsafe { ring.submission().push(e) }.is_err() {
        ring.submit()
            .context("io_uring_enter (submission queue full)")?;
    }
    Ok(())
}

impl Uring {
    /// A ring for `conns` with the variant's resources registered; attaches a port to each
    /// connection (installing this thread's port table).
    pub fn new(ring: IoUring, settings: UringSettings, conns: &mut [&mut Conn]) -> Result<Uring> {
        let n = conns.len();
        let mut u = Uring {
            ring,
            settings,
            conns: Vec::with_capacity(n),
            bufrings: Vec::new(),
            regions: Regions(Vec::with_capacity(MAX_REGIONS)),
        };
        if settings.fixed {
            let s = u.ring.submitter();
            s.register_files_sparse(2 * n as u32)
                .context("registering files (io_uring -fixed)")?;
            s.register_buffers_sparse(MAX_REGIONS as u32)
                .context("registering buffers (io_uring -fixed)")?;
        }
        let mut ports = Vec::with_capacity(n);
        for (i, conn) in conns.iter().enumerate() {
            let mut p = Port::new(conn.read_fd().is_some_and(keeps_boundaries));
            if settings.multishot {
                let (count, size) = PROVIDED;
                let br = BufRing::new(&u.ring, i as u16, count, size)
                    .context("registering a provided-buffer ring (io_uring -multishot)")?;
                p.lent = Some(Lent {
                    arrived: Arrived::new(count),
                    base: br.base(),
                    size,
                    recycle: Vec::with_capacity(count as usize),
                    eof: false,
                    wanted: false,
                });
                u.bufrings.push(br);
            }
            ports.push(p);
            u.conns.push(Attached {
                conn_id: 0,
                read_fd: -1,
                write_fd: -1,
                socket: false,
                generation: 0,
                listening: false,
                multi_armed: false,
                poll_armed: false,
                outstanding: 0,
                wait: Wait::Read,
                done: false,
                pending: true,
            });
        }
        let keys = port::install(ports);
        for (i, (conn, key)) in conns.iter_mut().zip(keys).enumerate() {
            conn.attach_port(key);
            u.point_at(i, conn)?;
        }
        Ok(u)
    }

    /// Records `conn` as slot `i`'s connection (its fds, registered when `fixed`).
    fn point_at(&mut self, i: usize, conn: &Conn) -> Result<()> {
        let (Some(r), Some(w)) = (conn.read_fd(), conn.write_fd()) else {
            bail!("the io_uring engine needs a file descriptor (shm has none)");
        };
        let a = &mut self.conns[i];
        a.conn_id = conn.id();
        (a.read_fd, a.write_fd) = (r, w);
        a.socket = sockopt(w, libc::SO_TYPE).is_some();
        a.listening = sockopt(r, libc::SO_ACCEPTCONN).is_some_and(|v| v != 0);
        if self.settings.fixed {
            self.ring
                .submitter()
                .register_files_update(2 * i as u32, &[r, w])
                .context("registering a connection's files")?;
        }
        Ok(())
    }

    /// After slot `i`'s flow stepped: when it replaced its connection (crr), finishes the old
    /// connection's slot send, stops what was armed on it and moves the port to the new one.
    pub fn follow(&mut self, i: usize, conn: &mut Conn) -> Result<()> {
        if conn.id() == self.conns[i].conn_id {
            return Ok(());
        }
        self.finish_slot_sends(|j| j == i)
            .context("a replaced connection's last send")?;
        if port::with_ports(|p| p[i].read != Op::Idle || p[i].write != Op::Idle) {
            bail!(
                "a flow replaced its connection with a read or write still submitted \
                 (completion-engine contract)"
            );
        }
        let a = &mut self.conns[i];
        let old = a.generation;
        a.generation = old.wrapping_add(1);
        // Armed operations hold the old socket open: cancel them, or its peer never sees the
        // close.
        let cancel = [
            std::mem::take(&mut a.multi_armed).then_some(MULTI),
            std::mem::take(&mut a.poll_armed).then_some(POLL),
        ];
        for kind in cancel.into_iter().flatten() {
            let e = opcode::AsyncCancel::new(ud(i, old, kind)).build();
            push(&mut self.ring, &e.user_data(ud(i, old, CANCEL)))?;
        }
        port::with_ports(|p| {
            if let Some(lent) = p[i].lent.as_mut() {
                let Lent {
                    arrived, recycle, ..
                } = lent;
                recycle.extend(arrived.drain());
                lent.eof = false;
                lent.wanted = false;
            }
        });
        if let Some(key) = port::key(i) {
            conn.attach_port(key);
        }
        self.point_at(i, conn)
    }

    /// Sends the rest of the slot of every port `which` picks (short sends again), until each
    /// slot is free: its bytes were reported written to the flow, so they must reach the peer.
    /// Bounded by 2 s (a peer that reads nothing more).
    fn finish_slot_sends(&mut self, which: impl Fn(usize) -> bool) -> Result<()> {
        let deadline = monotonic_ns() + 2_000_000_000;
        loop {
            self.submit_requests()?;
            let open = port::with_ports(|p| {
                p.iter()
                    .enumerate()
                    .any(|(i, p)| which(i) && p.slot != Slot::Free)
            });
            if !open {
                return Ok(());
            }
            if monotonic_ns() > deadline {
                bail!("io_uring: a send reported done to the flow did not complete in 2 s");
            }
            self.wait(1, 10_000_000)?;
            self.reap()?;
        }
    }

    /// Turns every port's requests into entries, gives used-up provided buffers back, arms
    /// multishot receives, and polls for flows that wait on something nothing submitted will
    /// answer (an accept, a connect). Returns the slot sends queued, and whether a flow waits
    /// for its slot.
    pub fn submit_requests(&mut self) -> Result<(usize, bool)> {
        let Uring {
            ring,
            settings,
            conns,
            bufrings,
            regions,
        } = self;
        port::with_ports(|ports| {
            let mut slots = 0;
            let mut refused = false;
            for (i, p) in ports.iter_mut().enumerate() {
                let a = &mut conns[i];
                let br = bufrings.get_mut(i);
                slots += submit_port(ring, settings.fixed, regions, i, a, p, br)?;
                refused |= p.slot_refused;
            }
            Ok((slots, refused))
        })
    }

    /// Submits what is queued and waits for `want` completions or `timeout_ns`; true when it
    /// timed out (or a signal cut it short) with nothing completed.
    pub fn wait(&mut self, want: usize, timeout_ns: u64) -> Result<bool> {
        let ts = types::Timespec::new()
            .sec(timeout_ns / 1_000_000_000)
            .nsec((timeout_ns % 1_000_000_000) as u32);
        let args = types::SubmitArgs::new().timespec(&ts);
        match self.ring.submitter().submit_with_args(want, &args) {
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ETIME | libc::EINTR | libc::EBUSY)
                ) => {}
            Err(e) => return Err(e).context("io_uring_enter"),
        }
        Ok(self.ring.completion().is_empty())
    }

    /// Hands every completion to its port; marks the flows it concerns for a step.
    pub fn reap(&mut self) -> Result<()> {
        let Uring {
            ring,
            conns,
            bufrings,
            ..
        } = self;
        for cqe in ring.completion() {
            complete(
                conns,
                bufrings,
                decode(cqe.user_data()),
                cqe.result(),
                cqe.flags(),
            )?;
        }
        Ok(())
    }
    /// The ring (for its SQPOLL thread).
    pub fn ring(&self) -> &IoUring {
        &self.ring
    }

    /// Sends what flows that ended by themselves were told is written (their slots), cancels
    /// everything else and waits until the kernel holds no memory of a flow, a port or a buffer
    /// ring; then unregisters the buffer rings and empties the port table. Returns an error if
    /// a flow broke the contract.
    pub fn drain(&mut self, conns: &mut [&mut Conn]) -> Result<()> {
        let ended: Vec<bool> = self.conns.iter().map(|a| a.done).collect();
        let abandoned = port::with_ports(|ports| {
            let mut abandoned = false;
            for (p, &done) in ports.iter_mut().zip(&ended) {
                // A flow that ended by itself with a write out broke the contract; one the
                // runner stopped (wind-down, abort) may leave one behind.
                abandoned |= done && p.write != Op::Idle;
                if let Op::Requested { .. } = p.write {
                    p.write = Op::Idle;
                }
                if let Op::Requested { .. } = p.read {
                    p.read = Op::Idle;
                }
                if let Some(l) = p.lent.as_mut() {
                    l.wanted = false;
                }
            }
            abandoned
        });
        for a in &mut self.conns {
            a.done = true;
        }
        // A flow's last small write is only in the slot when the flow ends (the stream client's
        // last short piece of a chunk): cancelling it would lose bytes the flow counted as sent.
        // Flows the runner stopped (wind-down, abort) have theirs cancelled with the rest.
        self.finish_slot_sends(|i| ended[i])?;
        let mut cancels = Vec::new();
        port::with_ports(|ports| {
            for (i, p) in ports.iter().enumerate() {
                let a = &self.conns[i];
                let g = a.generation;
                if matches!(p.read, Op::InFlight { .. }) {
                    cancels.push(ud(i, g, READ));
                }
                if matches!(p.write, Op::InFlight { .. }) {
                    cancels.push(ud(i, g, WRITE));
                }
                if matches!(p.slot, Slot::InFlight { .. }) {
                    cancels.push(ud(i, g, SLOT));
                }
                if a.multi_armed {
                    cancels.push(ud(i, g, MULTI));
                }
                if a.poll_armed {
                    cancels.push(ud(i, g, POLL));
                }
            }
        });
        for c in cancels {
            let e = opcode::AsyncCancel::new(c).build();
            push(&mut self.ring, &e.user_data(ud(0, 0, CANCEL)))?;
        }
        let deadline = monotonic_ns() + 2_000_000_000;
        loop {
            let busy = port::with_ports(|p| p.iter().any(Port::busy));
            if !busy && self.conns.iter().all(|a| a.outstanding == 0) {
                break;
            }
            if monotonic_ns() > deadline {
                bail!("io_uring: operations still in flight 2 s after cancelling them");
            }
            self.wait(1, 10_000_000)?;
            self.reap()?;
            port::with_ports(|ports| {
                for p in ports {
                    // Cancelled reads and writes complete with -ECANCELED (or their data,
                    // which nobody will read now).
                    if let Op::Done { .. } = p.read {
                        p.read = Op::Idle;
                    }
                    if let Op::Done { .. } = p.write {
                        p.write = Op::Idle;
                    }
                }
            });
        }
        for c in conns.iter_mut() {
            c.detach_port();
        }
        port::uninstall();
        for br in &mut self.bufrings {
            br.unregister(&self.ring)?;
        }
        if abandoned {
            bail!(
                "a flow ended its iteration with a write submitted (completion-engine contract: \
                 retry a write that would block before ending)"
            );
        }
        Ok(())
    }
}

/// Queues slot `i`'s requests; returns 1 when it queued a slot send.
fn submit_port(
    ring: &mut IoUring,
    fixed: bool,
    regions: &mut Regions,
    i: usize,
    a: &mut Attached,
    p: &mut Port,
    br: Option<&mut BufRing>,
) -> Result<usize> {
    let g = a.generation;
    let target = |fd: RawFd, k: u32| Target {
        fixed,
        fd,
        index: 2 * i as u32 + k,
    };
    let (rd, wr) = (target(a.read_fd, 0), target(a.write_fd, 1));
    let mut reg = |ring: &IoUring, ptr: usize, len: usize| {
        if fixed {
            regions.index(ring, ptr, len)
        } else {
            None
        }
    };
    let mut slots = 0;
    if let Slot::Queued { len, sent } = p.slot {
        let base = p.slot_bytes(0, SLOT_BYTES).as_ptr() as usize;
        let idx = reg(ring, base, SLOT_BYTES);
        let bytes = p.slot_bytes(sent, len);
        let e = wr.send(bytes.as_ptr(), bytes.len(), idx, a.socket, true);
        push(ring, &e.user_data(ud(i, g, SLOT)))?;
        p.slot = Slot::InFlight { len, sent };
        slots = 1;
    }
    if let Op::Requested { ptr, len } = p.write {
        let idx = reg(ring, ptr, len);
        let e = match p.zc.is_some() && a.socket {
            true => wr.send_zc(ptr as *const u8, len, idx),
            false => wr.send(ptr as *const u8, len, idx, a.socket, false),
        };
        push(ring, &e.user_data(ud(i, g, WRITE)))?;
        p.write = Op::InFlight { ptr, len };
    }
    if let Op::Requested { ptr, len } = p.read {
        let e = rd.recv(ptr as *mut u8, len, reg(ring, ptr, len), a.socket);
        push(ring, &e.user_data(ud(i, g, READ)))?;
        p.read = Op::InFlight { ptr, len };
    }
    if let (Some(lent), Some(br)) = (p.lent.as_mut(), br) {
        if !lent.recycle.is_empty() {
            for bid in lent.recycle.drain(..) {
                br.give(bid)?;
            }
            br.publish();
        }
        if lent.wanted && !a.multi_armed && !lent.eof && br.book.with_kernel() > 0 {
            lent.wanted = false;
            let e = rd.recv_multi(br.bgid, a.socket);
            push(ring, &e.user_data(ud(i, g, MULTI)))?;
            a.multi_armed = true;
            a.outstanding += 1;
        }
    }
    let unanswered = !a.done
        && !a.poll_armed
        && match a.wait {
            Wait::Read => p.read == Op::Idle && !a.multi_armed,
            Wait::Write => p.write == Op::Idle && !p.slot_refused,
            Wait::Done => false,
        };
    if unanswered {
        let (t, events) = match a.wait {
            Wait::Write => (wr, libc::POLLOUT),
            _ => (rd, libc::POLLIN),
        };
        push(ring, &t.poll(events as u32).user_data(ud(i, g, POLL)))?;
        a.poll_armed = true;
        a.outstanding += 1;
    }
    Ok(slots)
}

/// Hands one completion to its port.
fn complete(
    conns: &mut [Attached],
    bufrings: &mut [BufRing],
    (i, g, kind): (usize, u8, u8),
    res: i32,
    flags: u32,
) -> Result<()> {
    let Some(a) = conns.get_mut(i) else {
        return Ok(());
    };
    let current = g == a.generation;
    a.pending = true;
    match kind {
        READ => port::with_ports(|p| p[i].read_completed(res)),
        // A zero-copy send completes twice: its result (flagged MORE), then its notification.
        WRITE if cqueue::notif(flags) => {
            port::with_ports(|p| p[i].zc_notified(res as u32 & NOTIF_USAGE_ZC_COPIED != 0))
        }
        WRITE => port::with_ports(|p| p[i].zc_sent(res, cqueue::more(flags))),
        SLOT => {
            port::with_ports(|p| p[i].slot_completed(res));
        }
        POLL => {
            a.outstanding -= 1;
            a.poll_armed &= !current;
        }
        MULTI => {
            if !cqueue::more(flags) {
                a.outstanding -= 1;
                a.multi_armed &= !current;
            }
            let br = &mut bufrings[i];
            port::with_ports(|p| -> Result<()> {
                let port = &mut p[i];
                let lent = port
                    .lent
                    .as_mut()
                    .context("a multishot completion without buffers")?;
                if let Some(bid) = cqueue::buffer_select(flags) {
                    br.book.taken(bid)?;
                    if current && res > 0 {
                        lent.arrived.push(bid, res as u32);
                    } else {
                        lent.recycle.push(bid);
                    }
                }
                if current && res == 0 {
                    lent.eof = true;
                } else if current && res < 0 && res != -libc::ENOBUFS && res != -libc::ECANCELED {
                    port.error = Some(res);
                }
                Ok(())
            })?;
        }
        _ => {}
    }
    Ok(())
}

/// A descriptor to build an entry on: plain or registered (`fixed`).
#[derive(Clone, Copy)]
struct Target {
    fixed: bool,
    fd: RawFd,
    index: u32,
}

macro_rules! on {
    ($t:expr, |$f:ident| $build:expr) => {
        if $t.fixed {
            let $f = types::Fixed($t.index);
            $build
        } else {
            let $f = types::Fd($t.fd);
            $build
        }
    };
}

impl Target {
    /// A send of `len` bytes at `ptr`: SEND on sockets (MSG_WAITALL for a slot on a stream
    /// socket, so it is not left half sent), WRITE on pipes, WRITE_FIXED in a registered region.
    fn send(
        self,
        ptr: *const u8,
        len: usize,
        reg: Option<u16>,
        socket: bool,
        slot: bool,
    ) -> squeue::Entry {
        let n = len as u32;
        match reg {
            Some(idx) => on!(self, |f| opcode::WriteFixed::new(f, ptr, n, idx).build()),
            None if socket => {
                let flags = libc::MSG_NOSIGNAL | if slot { libc::MSG_WAITALL } else { 0 };
                on!(self, |f| opcode::Send::new(f, ptr, n).flags(flags).build())
            }
            None => on!(self, |f| opcode::Write::new(f, ptr, n).build()),
        }
    }

    /// A zero-copy send (SEND_ZC; from a registered buffer when `reg`) asking the notification
    /// to say whether the kernel copied after all.
    fn send_zc(self, ptr: *const u8, len: usize, reg: Option<u16>) -> squeue::Entry {
        let n = len as u32;
        on!(self, |f| opcode::SendZc::new(f, ptr, n)
            .buf_index(reg)
            .flags(libc::MSG_NOSIGNAL)
            .zc_flags(SEND_ZC_REPORT_USAGE)
            .build())
    }

    /// A receive into `len` bytes at `ptr`.
    fn recv(self, ptr: *mut u8, len: usize, reg: Option<u16>, socket: bool) -> squeue::Entry {
        let n = len as u32;
        match reg {
            Some(idx) => on!(self, |f| opcode::ReadFixed::new(f, ptr, n, idx).build()),
            None if socket => on!(self, |f| opcode::Recv::new(f, ptr, n).build()),
            None => on!(self, |f| opcode::Read::new(f, ptr, n).build()),
        }
    }

    /// A multishot receive into buffer group `bgid` (READ_MULTISHOT on pipes).
    fn recv_multi(self, bgid: u16, socket: bool) -> squeue::Entry {
        if socket {
            on!(self, |f| opcode::RecvMulti::new(f, bgid).build())
        } else {
            on!(self, |f| opcode::ReadMulti::new(f, 0, bgid).build())
        }
    }

    /// A one-shot poll for `events`.
    fn poll(self, events: u32) -> squeue::Entry {
        on!(self, |f| opcode::PollAdd::new(f, events).build())
    }
}
