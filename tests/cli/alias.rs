use crate::helpers::{PrivateNet, require_root};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "needs root: creates a private network namespace"]
fn alias_add_list_probe_del_inside_a_private_namespace() {
    require_root();
    let net = PrivateNet::new();
    let out = net
        .loopbench(None)
        .args(["alias", "add", "127.0.0.9/8"])
        .assert()
        .success();
    let text = stdout(out.get_output());
    assert!(text.contains("127.0.0.9/8 added to lo"), "{text}");
    assert!(text.contains("probe: tcp ok, udp ok"), "{text}");
    for manager in ["netplan", "ifupdown", "systemd-networkd"] {
        assert!(text.contains(manager), "{text}");
    }
    let again = net
        .loopbench(None)
        .args(["alias", "add", "127.0.0.9/8"])
        .assert()
        .success();
    assert!(stdout(again.get_output()).contains("was already on lo"));
    let list = net
        .loopbench(None)
        .args(["alias", "list"])
        .assert()
        .success();
    let text = stdout(list.get_output());
    assert!(
        text.contains("127.0.0.1/8") && text.contains("127.0.0.9/8"),
        "{text}"
    );
    let json = net
        .loopbench(None)
        .args(["alias", "list", "--json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert!(
        v["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["address"] == "127.0.0.9" && a["prefix_len"] == 8)
    );
    let del = net
        .loopbench(None)
        .args(["alias", "del", "127.0.0.9/8"])
        .assert()
        .success();
    assert!(stdout(del.get_output()).contains("deleted from lo"));
    let list = net
        .loopbench(None)
        .args(["alias", "list"])
        .assert()
        .success();
    assert!(!stdout(list.get_output()).contains("127.0.0.9"));
    let del = net
        .loopbench(None)
        .args(["alias", "del", "127.0.0.9/8"])
        .assert()
        .success();
    assert!(stdout(del.get_output()).contains("was not on lo"));
    // The host's lo never saw it.
    let host = loopbench::loopback::alias::list().unwrap();
    assert!(!host.iter().any(|a| a.address.to_string() == "127.0.0.9"));
}

#[test]
#[ignore = "needs root: creates a private network namespace"]
fn alias_without_cap_net_admin_says_so() {
    require_root();
    let net = PrivateNet::new();
    let out = net
        .loopbench(Some((65534, 65534)))
        .args(["alias", "add", "127.0.0.9"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.contains("needs CAP_NET_ADMIN") && err.contains("sudo"),
        "{err}"
    );
}

#[test]
fn alias_refuses_addresses_outside_loopback_and_127_0_0_1() {
    let out = crate::helpers::loopbench()
        .args(["alias", "add", "10.0.0.1"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("only measures loopback"), "{err}");
    let out = crate::helpers::loopbench()
        .args(["alias", "del", "127.0.0.1/8"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("refusing to delete 127.0.0.1"), "{err}");
}

#[test]
#[ignore = "needs root: creates a private network namespace"]
fn alias_add_with_lo_down_is_refused_and_adds_nothing() {
    require_root();
    let net = PrivateNet::new();
    net.command("ip", None)
        .args(["link", "set", "lo", "down"])
        .assert()
        .success();
    let out = net
        .loopbench(None)
        .args(["alias", "add", "127.0.0.9"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.contains("lo is down") && err.contains("ip link set lo up"),
        "{err}"
    );
    assert!(
        stdout(out.get_output()).is_empty(),
        "no persistence snippets"
    );
    let list = net
        .loopbench(None)
        .args(["alias", "list"])
        .assert()
        .success();
    assert!(
        !stdout(list.get_output()).contains("127.0.0.9"),
        "nothing added"
    );
}

#[test]
#[ignore = "needs root: creates a private network namespace"]
fn alias_del_with_another_prefix_names_the_one_on_lo() {
    require_root();
    let net = PrivateNet::new();
    net.loopbench(None)
        .args(["alias", "add", "127.0.0.3"])
        .assert()
        .success();
    let out = net
        .loopbench(None)
        .args(["alias", "del", "127.0.0.3/8"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.contains("127.0.0.3 is on lo as 127.0.0.3/32, not as 127.0.0.3/8"),
        "{err}"
    );
    net.loopbench(None)
        .args(["alias", "del", "127.0.0.3/32"])
        .assert()
        .success();
}
