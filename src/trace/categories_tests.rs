//! The classifier on hand-written call chains and on folded stacks recorded on a 2-vCPU KVM guest
//! (tcp stream at 1 KiB, 64 KiB and 1 MiB writes, cut to the 6 frames nearest the leaf).

use super::*;

fn kernel(names: &[&'static str]) -> Vec<Frame<'static>> {
    names.iter().map(|n| Frame::Kernel(Some(n))).collect()
}

#[test]
fn the_builtin_table_parses_and_a_bad_line_is_named() {
    let t = Table::builtin();
    assert!(t.rules.len() > 200, "{} patterns", t.rules.len());
    let err = Table::parse("# c\nprotocol: tcp_*\nnetworking: dev_*\n").unwrap_err();
    assert_eq!(err.line, 3);
    assert!(Table::parse("no colon here").is_err());
}

#[test]
fn patterns_match_exactly_by_prefix_suffix_or_infix() {
    assert!(matches("tcp_*", "tcp_sendmsg"));
    assert!(!matches("tcp_*", "__tcp_transmit_skb"));
    assert!(matches("*_slab_*", "kmem_cache_slab_free"));
    assert!(matches("*_irq", "_raw_spin_unlock_irq"));
    assert!(matches("release_sock", "release_sock"));
    assert!(!matches("release_sock", "release_sock2"));
}

#[test]
fn symbols_land_in_their_category_with_the_specific_lines_first() {
    let t = Table::builtin();
    let cases = [
        ("_copy_from_iter", Category::DataCopy),
        ("skb_copy_datagram_iter", Category::DataCopy),
        ("rep_movs_alternative", Category::DataCopy),
        ("skb_copy_ubufs", Category::DataCopy),
        ("tcp_sendmsg_locked", Category::Protocol),
        ("tcp_v4_rcv", Category::Protocol),
        ("unix_stream_sendmsg", Category::Protocol),
        ("sock_sendmsg", Category::Protocol),
        ("__dev_queue_xmit", Category::Netdevice),
        ("loopback_xmit", Category::Netdevice),
        ("skb_gro_receive", Category::Netdevice),
        ("kfree_skb_reason", Category::Skb),
        ("__alloc_skb", Category::Skb),
        ("kfree", Category::Memory),
        ("kmem_cache_alloc_node_noprof", Category::Memory),
        ("__sk_mem_reduce_allocated", Category::Memory),
        ("skb_page_frag_refill", Category::Memory),
        ("_raw_spin_lock_bh", Category::Lock),
        ("__pv_queued_spin_lock_slowpath", Category::Lock),
        ("sock_def_readable", Category::Scheduling),
        ("try_to_wake_up", Category::Scheduling),
        ("pv_native_safe_halt", Category::Scheduling),
        ("finish_task_switch.isra.0", Category::Scheduling),
        ("__x64_sys_sendto", Category::Syscall),
        ("entry_SYSCALL_64_after_hwframe", Category::Syscall),
    ];
    for (symbol, want) in cases {
        assert_eq!(t.classify(symbol), Some(want), "{symbol}");
    }
    assert_eq!(t.classify("__x86_indirect_thunk_rax"), None);
    assert!(t.is_skid("_raw_spin_unlock_irqrestore") && !t.is_skid("_raw_spin_lock"));
}

#[test]
fn chains_are_attributed_by_leaf_then_caller_and_unexplained_leaves_are_named() {
    let t = Table::builtin();
    let mut a = Attribution::default();
    assert_eq!(a.add(&t, [Frame::User, Frame::User], 10), Category::User);
    assert_eq!(
        a.add(&t, kernel(&["_copy_from_iter", "tcp_sendmsg_locked"]), 10),
        Category::DataCopy
    );
    // An unmatched helper takes its caller's category.
    assert_eq!(
        a.add(
            &t,
            kernel(&["__x86_indirect_thunk_rax", "tcp_write_xmit"]),
            10
        ),
        Category::Protocol
    );
    // Skid: the wake-up ran with interrupts off; the sample landed on the unlock.
    let woke = kernel(&[
        "_raw_spin_unlock_irqrestore",
        "__wake_up_sync_key",
        "sock_def_readable",
    ]);
    assert_eq!(a.add(&t, woke, 10), Category::Scheduling);
    // Nothing in the chain matches: other, and the leaf is recorded.
    assert_eq!(
        a.add(&t, kernel(&["mystery_fn", "asm_common_interrupt"]), 7),
        Category::Other
    );
    assert_eq!(a.add(&t, [Frame::Kernel(None)], 3), Category::Other);
    assert_eq!(a.add(&t, [], 1), Category::Other);
    assert_eq!((a.by_caller, a.skid), (1, 1));
    assert_eq!(a.top_other(5), vec![("mystery_fn", 7), ("[unknown]", 4)]);
    let shares = a.shares();
    assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert_eq!(a.weight[Category::Other as usize], 11);
}

/// A recorded folded-stack file (root first, `;`-joined, weight in ns) attributed whole.
fn attribute_fixture(name: &str) -> (Attribution, u64) {
    let path = format!(
        "{}/tests/data/trace/profile/{name}.folded",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (table, mut a, mut total) = (Table::builtin(), Attribution::default(), 0);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (stack, weight) = line.rsplit_once(' ').expect("stack weight");
        let weight: u64 = weight.parse().expect("weight");
        let frames = stack.split(';').rev().map(|n| match n {
            "[user]" => Frame::User,
            "[unknown]" => Frame::Kernel(None),
            name => Frame::Kernel(Some(name)),
        });
        a.add(&table, frames, weight);
        total += weight;
    }
    (a, total)
}

#[test]
fn recorded_stream_profiles_leave_little_other_and_copy_grows_with_size() {
    let copy = |a: &Attribution| a.shares()[Category::DataCopy as usize];
    let mut shares = Vec::new();
    for name in ["stream_1024", "stream_65536", "stream_1048576"] {
        let (a, total) = attribute_fixture(name);
        assert_eq!(
            a.weight.iter().sum::<u64>(),
            total,
            "{name}: every sample attributed once"
        );
        let other = a.shares()[Category::Other as usize];
        assert!(
            other < 0.05,
            "{name}: other {other:.3}; top {:?}",
            a.top_other(5)
        );
        shares.push(copy(&a));
    }
    // 1 KiB writes are syscall- and protocol-bound; from 64 KiB on, copying dominates.
    assert!(
        shares[1] > 5.0 * shares[0] && shares[2] > 5.0 * shares[0],
        "data copy shares {shares:?}"
    );
}
