//! The port's contract, without a ring: submit and retry, another buffer refused, the slot's
//! short and failed sends, provided buffers copied or lent, and stale keys.

use super::*;

fn submitted(op: Op) -> (usize, usize) {
    match op {
        Op::Requested { ptr, len } => (ptr, len),
        other => panic!("not requested: {other:?}"),
    }
}

#[test]
fn a_read_is_submitted_then_served_on_the_retry_with_the_same_buffer() {
    let mut p = Port::new(false);
    let mut buf = [0u8; 64];
    assert_eq!(
        p.read(&mut buf).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    let (ptr, len) = submitted(p.read);
    assert_eq!((ptr, len), (buf.as_ptr() as usize, 64));
    p.read = Op::InFlight { ptr, len };
    assert!(p.busy());
    assert_eq!(
        p.read(&mut buf).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    p.read_completed(64);
    assert!(!p.busy());
    assert_eq!(p.read(&mut buf).unwrap(), 64);
    assert_eq!(p.read, Op::Idle);
}

#[test]
fn another_buffer_while_one_is_out_is_refused() {
    let mut p = Port::new(false);
    let mut a = [0u8; 64];
    let mut b = [0u8; 64];
    let _ = p.read(&mut a);
    assert_eq!(
        p.read(&mut b).unwrap_err().kind(),
        io::ErrorKind::InvalidInput
    );
    assert_eq!(
        p.read(&mut a[1..]).unwrap_err().kind(),
        io::ErrorKind::InvalidInput
    );
    let big = [1u8; SLOT_BYTES + 1];
    let _ = p.write(&big);
    let other = [2u8; SLOT_BYTES + 1];
    assert_eq!(
        p.write(&other).unwrap_err().kind(),
        io::ErrorKind::InvalidInput
    );
    assert_eq!(
        p.write(b"small").unwrap_err().kind(),
        io::ErrorKind::InvalidInput,
        "a small write while a large one is out is another buffer too"
    );
}

#[test]
fn small_writes_are_copied_and_reported_at_once_but_one_at_a_time() {
    let mut p = Port::new(false);
    assert_eq!(p.write(b"hello").unwrap(), 5);
    assert_eq!(p.slot, Slot::Queued { len: 5, sent: 0 });
    assert_eq!(
        p.write(b"again").unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    assert!(p.slot_refused);
    p.slot = Slot::InFlight { len: 5, sent: 0 };
    assert!(p.slot_completed(2), "short: the rest is queued again");
    assert_eq!(p.slot, Slot::Queued { len: 5, sent: 2 });
    assert_eq!(p.slot_bytes(2, 5), b"llo");
    p.slot = Slot::InFlight { len: 5, sent: 2 };
    assert!(!p.slot_completed(3));
    assert!(!p.slot_refused);
    assert_eq!(p.write(b"again").unwrap(), 5);
    assert_eq!(p.slot_bytes(0, 5), b"again");
    assert_eq!(p.write(b"").unwrap(), 0);
}

#[test]
fn a_failed_slot_send_is_reported_to_the_next_call() {
    let mut p = Port::new(false);
    p.write(b"x").unwrap();
    p.slot = Slot::InFlight { len: 1, sent: 0 };
    p.slot_completed(-libc::ECONNRESET);
    let mut buf = [0u8; 4];
    assert_eq!(
        p.read(&mut buf).unwrap_err().raw_os_error(),
        Some(libc::ECONNRESET)
    );
    assert_eq!(p.slot, Slot::Free);
}

#[test]
fn large_writes_wait_for_their_completion_and_may_be_short() {
    let mut p = Port::new(false);
    let big = vec![7u8; SLOT_BYTES * 2];
    assert_eq!(p.write(&big).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    let (ptr, len) = submitted(p.write);
    p.write = Op::InFlight { ptr, len };
    p.write_completed(6000);
    assert_eq!(
        p.write(&big).unwrap(),
        6000,
        "a short send is the flow's to finish"
    );
    assert_eq!(p.write, Op::Idle);
}

#[test]
fn a_large_write_waits_until_the_slots_bytes_are_sent_so_it_cannot_overtake_them() {
    let mut p = Port::new(false);
    assert_eq!(p.write(b"tail").unwrap(), 4);
    let big = vec![7u8; SLOT_BYTES * 2];
    assert_eq!(p.write(&big).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    assert_eq!(p.write, Op::Idle, "not submitted beside the slot");
    assert!(p.slot_refused, "the flow waits for the slot's completion");
    p.slot = Slot::InFlight { len: 4, sent: 0 };
    assert!(!p.slot_completed(4));
    assert_eq!(p.write(&big).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    assert_eq!(submitted(p.write), (big.as_ptr() as usize, big.len()));
}

fn lent(ring: &[u8], size: usize) -> Lent {
    Lent {
        arrived: Arrived::new(4),
        base: ring.as_ptr(),
        size,
        recycle: Vec::with_capacity(4),
        eof: false,
        wanted: false,
    }
}

#[test]
fn provided_buffers_are_copied_out_in_order_and_recycled_when_used_up() {
    let ring: Vec<u8> = (0..32u8).collect();
    let mut p = Port::new(false);
    p.lent = Some(lent(&ring, 16));
    let mut buf = [0u8; 8];
    assert_eq!(
        p.read(&mut buf).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    assert!(
        p.lent.as_ref().unwrap().wanted,
        "the engine keeps a receive armed"
    );
    p.lent.as_mut().unwrap().arrived.push(1, 10);
    let mut four = [0u8; 4];
    assert_eq!(p.read(&mut four).unwrap(), 4);
    assert_eq!(four, [16, 17, 18, 19]);
    assert_eq!(p.read(&mut buf).unwrap(), 6);
    assert_eq!(&buf[..6], &[20, 21, 22, 23, 24, 25]);
    assert_eq!(p.lent.as_ref().unwrap().recycle, [1]);
    p.lent.as_mut().unwrap().eof = true;
    assert_eq!(p.read(&mut buf).unwrap(), 0);
}

#[test]
fn lent_reads_point_into_the_ring_and_datagrams_are_taken_whole() {
    let ring: Vec<u8> = (0..32u8).collect();
    let mut p = Port::new(true);
    p.lent = Some(lent(&ring, 16));
    p.lent.as_mut().unwrap().arrived.push(0, 12);
    let mut small = [0u8; 4];
    let Chunk::Lent(ptr, n) = p.read_lent(&mut small).unwrap() else {
        panic!("not lent")
    };
    assert_eq!(
        (ptr, n),
        (ring.as_ptr(), 12),
        "the whole datagram, not 4 bytes"
    );
    assert_eq!(p.lent.as_ref().unwrap().recycle, [0]);
    let mut plain = Port::new(false);
    let mut buf = [0u8; 4];
    assert!(matches!(plain.read_lent(&mut buf), Err(e) if e.kind() == io::ErrorKind::WouldBlock));
}

#[test]
fn keys_work_only_during_their_drive_and_on_their_thread() {
    let keys = install(vec![Port::new(false), Port::new(false)]);
    assert_eq!(keys.len(), 2);
    let mut buf = [0u8; 8];
    let r = with_port(keys[1], |p| p.read(&mut buf));
    assert_eq!(r.unwrap_err().kind(), io::ErrorKind::WouldBlock);
    assert!(with_ports(|ports| matches!(
        ports[1].read,
        Op::Requested { .. }
    )));
    let key = keys[0];
    let elsewhere = std::thread::spawn(move || with_port(key, |_| Ok(())).is_err());
    assert!(
        elsewhere.join().unwrap(),
        "another thread's table does not know the key"
    );
    assert_eq!(uninstall().len(), 2);
    assert!(with_port(keys[0], |_| Ok(())).is_err());
    let again = install(vec![Port::new(false)]);
    assert_ne!(again[0], keys[0], "a new drive never reuses a key");
    uninstall();
}

#[test]
fn a_zero_copy_send_completes_with_its_notification_and_is_counted_by_what_it_said() {
    let mut p = Port::new(false);
    p.zc = Some(ZcSends::default());
    let big = vec![7u8; SLOT_BYTES * 4];
    let _ = p.write(&big);
    let (ptr, len) = submitted(p.write);
    p.write = Op::InFlight { ptr, len };
    p.zc_sent(10_000, true);
    assert!(p.busy(), "the buffer stays lent until the notification");
    assert_eq!(p.write(&big).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    p.zc_notified(true);
    assert_eq!(p.write(&big).unwrap(), 10_000);
    let _ = p.write(&big);
    p.write = Op::InFlight { ptr, len };
    p.zc_sent(len as i32, true);
    p.zc_notified(false);
    assert_eq!(p.write(&big).unwrap(), len);
    assert_eq!(
        p.write(b"tail").unwrap(),
        4,
        "small writes go through the slot"
    );
    let c = p.zc.unwrap().counts;
    assert_eq!((c.copied_bytes, c.zerocopy_bytes), (10_004, len as u64));
    assert_eq!((c.notifications, c.unnotified_bytes), (2, 0));
}

#[test]
fn a_zero_copy_send_without_a_notification_completes_at_once() {
    let mut p = Port::new(false);
    p.zc = Some(ZcSends::default());
    let big = vec![7u8; SLOT_BYTES * 2];
    let _ = p.write(&big);
    let (ptr, len) = submitted(p.write);
    p.write = Op::InFlight { ptr, len };
    p.zc_sent(-libc::EPIPE, false);
    assert!(!p.busy());
    assert_eq!(p.write(&big).unwrap_err().raw_os_error(), Some(libc::EPIPE));
    p.zc_notified(false);
    assert_eq!(
        p.zc.unwrap().counts,
        ZeroCopyCounts::default(),
        "a stray notification counts nothing"
    );
}
