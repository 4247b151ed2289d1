use crate::helpers::loopbench;

#[test]
fn doctor_explains_every_check_as_text_and_json() {
    let out = loopbench().arg("doctor").assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for check in [
        "loopback mtu",
        "loopback offloads",
        "governor",
        "clock source",
        "ephemeral ports",
    ] {
        assert!(text.contains(check), "{check}: {text}");
    }
    let out = loopbench().args(["doctor", "--json"]).assert().success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert!(findings.len() >= 15);
    for f in findings {
        assert!(f["meaning"].as_str().unwrap().len() > 10, "{f}");
        assert!(["ok", "info", "warn", "problem"].contains(&f["level"].as_str().unwrap()));
    }
}

#[test]
fn new_subcommands_have_help_with_examples() {
    for sub in ["study", "alias", "doctor"] {
        let out = loopbench().args([sub, "--help"]).assert().success();
        let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        assert!(text.contains("Examples:"), "{sub}: {text}");
    }
}
