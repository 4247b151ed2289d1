use crate::helpers::loopbench;

#[test]
fn iface_lists_lo_with_its_addresses_as_text_and_json() {
    let out = loopbench()
        .arg("iface")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("lo <LOOPBACK,UP"), "{text}");
    assert!(text.contains("inet 127.0.0.1/8"), "{text}");
    assert!(
        text.contains("reachable without an alias: 127.0.0.0/8"),
        "{text}"
    );

    let out = loopbench()
        .args(["iface", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let lo = json["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "lo")
        .unwrap();
    assert_eq!(lo["up"], true);
    assert!(lo["mtu"].as_u64().unwrap() > 0);
    assert!(
        lo["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["address"] == "127.0.0.1" && a["prefix_len"] == 8)
    );
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    for sub in ["run", "iface"] {
        let out = loopbench()
            .args([sub, "--help"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Examples:"), "{sub}: {text}");
    }
}
