//! Generated input, a bounded number of cases each: the argument parser (through the binary, so
//! every check up to the first socket runs) and the study-file parser (in the process) never
//! panic, and every refusal is exit 2 (a `ConfigError` for the study file). proptest's seed is
//! random per run and a failure prints the input that caused it.

use std::time::Duration;

use proptest::prelude::*;

use crate::helpers::loopbench;

/// Words a generated command line is made of: the flags of `run` and values of every kind a
/// user (or an adversary) types, edge values first. `--timeout` and `--loss-timeout` are left
/// out: a valid but tiny one (1ms) may end a run on a loaded machine with exit 1, which is a
/// result, not a refusal (the bad-input table covers their refusals).
const FLAGS: &[&str] = &[
    "-t",
    "-w",
    "-e",
    "-p",
    "-s",
    "-n",
    "-d",
    "-c",
    "--flows",
    "--threads",
    "--rate",
    "--max-in-flight",
    "--response-size",
    "--sndbuf",
    "--rcvbuf",
    "--notsent-lowat",
    "--nagle",
    "--busy-poll-us",
    "--server-delay",
    "--server-drop-every",
    "--addr",
    "--client-addr",
    "--port",
    "--client-cpu",
    "--server-cpu",
    "--client-cpus",
    "--server-cpus",
    "--spread",
    "--linger0",
    "--memory-load",
    "--warmup",
    "--processes",
    "--seed",
    "--label",
    "--json",
];

const VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "64",
    "1k",
    "64KiB",
    "1M",
    "4G",
    "10G",
    "4294967295",
    "18446744073709551615",
    "99999999999999999999",
    "x",
    "",
    " ",
    "1,2",
    "0-1",
    "1e9",
    "1.5",
    "1ms",
    "0s",
    "5us",
    "999999999999h",
    "18446744073709551615ns",
    "127.0.0.1",
    "127.0.0.2",
    "::1",
    "localhost",
    "10.0.0.1",
    "0.0.0.0",
    "127.255.255.255",
    "@",
    "@lb",
    "/tmp/x",
    "127.0.0.1:80",
    "tcp4",
    "tcp6",
    "udp4",
    "udp6",
    "unix-stream",
    "unix-dgram",
    "unix-seqpacket",
    "pipe",
    "shm",
    "tcp4,pipe",
    "rr",
    "stream",
    "crr",
    "rate",
    "blocking",
    "spin",
    "epoll",
    "cross-core",
    "same-core",
    "unpinned",
    "127.0.0.2-127.0.0.9",
    "\u{1F600}",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(FLAGS).prop_map(str::to_string),
        3 => proptest::sample::select(VALUES).prop_map(str::to_string),
        1 => "[ -~]{0,12}",
    ]
}

proptest! {
    // Each case is one short process (a valid command line measures one message); 48 cases
    // take seconds.
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn generated_run_command_lines_never_panic_and_every_refusal_is_exit_2(
        words in proptest::collection::vec(word(), 0..6),
    ) {
        let dir = tempfile::tempdir().unwrap();
        // Kept short when valid: one iteration of one message, no warm-up, no report.
        let out = loopbench()
            .args(["run", "-n", "1", "-c", "1", "--warmup", "0", "-q", "--no-report"])
            .args(&words)
            .arg("-o")
            .arg(dir.path())
            .env_remove("LOOPBENCH_OUTPUT")
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        prop_assert!(!stderr.contains("panicked"), "{words:?}: {stderr}");
        let code = out.status.code();
        prop_assert!(matches!(code, Some(0) | Some(2)), "{words:?}: exit {code:?}: {stderr}");
        if code == Some(2) {
            prop_assert!(stderr.contains("error"), "{words:?}: {stderr}");
            let runs = dir.path().join("runs");
            let written = std::fs::read_dir(&runs).map_or(0, |r| r.count());
            prop_assert_eq!(written, 0, "{:?}: a refused run wrote something", words);
        }
    }
}

/// Lines a generated study file is made of: its keys with values of every type.
const STUDY_LINES: &[&str] = &[
    "name = \"s\"",
    "name = 3",
    "description = \"d\"",
    "rounds = 0",
    "rounds = 5",
    "rounds = -1",
    "rounds = 99999999999",
    "inherit_host_sysctls = false",
    "[cases]",
    "transport = \"pipe\"",
    "transport = \"tcp5\"",
    "transport = [\"tcp4\", \"udp4\"]",
    "workload = \"rate\"",
    "rate = \"1k\"",
    "rate = \"x\"",
    "size = 0",
    "size = \"10G\"",
    "size = 64",
    "iterations = 0",
    "duration = \"999999999999h\"",
    "duration = \"1ms\"",
    "flows = 0",
    "flows = 4",
    "engine = \"epoll\"",
    "placement = \"nowhere\"",
    "[[variant]]",
    "name = \"a\"",
    "name = \"b\"",
    "name = \"../x\"",
    "name = \"\"",
    "lo_mtu = 0",
    "lo_mtu = 65536",
    "lo_mtu = -5",
    "lo_offloads = { tso = false }",
    "lo_offloads = { x = 1 }",
    "lo_qdisc = \"fq\"",
    "lo_qdisc = \"nonsense\"",
    "sysctl = { \"net.core.busy_poll\" = 50 }",
    "sysctl = { \"kernel.core_pattern\" = \"|x\" }",
    "sysctl = { \"net.ipv4.tcp_rmem\" = \"4096 87380 6291456\" }",
    "sysctl = 5",
    "cpu_dma_latency_us = -1",
    "cpu_dma_latency_us = 0",
    "idle_disable = [\"deepest\"]",
    "idle_cpus = \"some\"",
    "haltpoll = { \"../../x\" = 1 }",
    "sched = { migration_cost_ns = 1 }",
    "thp = \"sometimes\"",
    "lo_rps_cpus = \"zz\"",
    "[variant.socket]",
    "sndbuf = \"4G\"",
    "busy_poll_us = 50",
    "[[sweep]]",
    "setting = \"lo_mtu\"",
    "values = [1500, 65536]",
    "values = []",
    "from = 1",
    "to = 0",
    "step = 0",
    "= broken",
    "[",
    "\"",
    "x = [1, \"a\"]",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn generated_study_files_never_panic_the_parser(
        lines in proptest::collection::vec(
            prop_oneof![
                6 => proptest::sample::select(STUDY_LINES).prop_map(str::to_string),
                1 => "[ -~]{0,30}",
            ],
            0..16,
        ),
    ) {
        let topology = loopbench::host::topology::Topology::detect();
        let text = lines.join("\n");
        // The parser returns a ConfigError (exit 2) for anything it refuses: reaching here
        // without a panic is the property; the type makes the exit code.
        let parsed = loopbench::study::file::StudyFile::parse(&text, &topology);
        if let Err(e) = parsed {
            prop_assert!(!e.to_string().is_empty(), "{text}");
        }
    }
}
