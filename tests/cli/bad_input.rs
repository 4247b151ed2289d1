//! Every input a user can get wrong is refused before anything runs: exit 2, a message that names
//! the flag and says what to do, no panic, and no run written. One table over every subcommand
//! and flag (a test checks that each flag of each subcommand has at least one line).

use std::path::{Path, PathBuf};
use std::time::Duration;

use predicates::prelude::*;
use predicates::str::contains;

use crate::helpers::loopbench;

/// One bad input: the arguments (placeholders below), the exit code, a phrase of the message.
struct Bad {
    args: &'static [&'static str],
    code: i32,
    says: &'static str,
}

const fn bad(args: &'static [&'static str], says: &'static str) -> Bad {
    Bad {
        args,
        code: 2,
        says,
    }
}

/// Placeholders: `{run}` a stored run, `{file}` a regular file, `{missing}` a path that does not
/// exist, `{port}` a TCP port in use on 127.0.0.1, `{suite:NAME}` / `{study:NAME}` / `{journal}`
/// the files [`Fixture`] writes. `run`, `client` and `suite` also get `-q -o <fresh dir>`, which
/// must hold no run afterwards.
#[rustfmt::skip]
const TABLE: &[Bad] = &[
    // run: the case dimensions
    bad(&["run", "-t", "tcp5"], "unknown Transport 'tcp5'; expected one of: tcp4"),
    bad(&["run", "--transport", "tcp4,"], "unknown Transport ''"),
    bad(&["run", "-w", "pingpong"], "unknown Workload 'pingpong'"),
    bad(&["run", "--workload", "stream", "--response-size", "100"], "--response-size applies to the workloads whose server answers"),
    bad(&["run", "-e", "io_uring2"], "unknown EngineKind 'io_uring2'"),
    bad(&["run", "--engine", "epoll", "-t", "shm"], "shm has no file descriptor"),
    bad(&["run", "-p", "far-away"], "far-away"),
    bad(&["run", "--placement", "cross-node"], "needs CPUs on two NUMA nodes"),
    bad(&["run", "--client-cpu", "999", "--server-cpu", "0"], "--client-cpu 999 does not exist"),
    bad(&["run", "--client-cpu", "0"], "--server-cpu"),
    bad(&["run", "--server-cpu", "999", "--client-cpu", "0"], "--server-cpu 999 does not exist"),
    bad(&["run", "-s", "0"], "--size must be at least 1 byte"),
    bad(&["run", "--size", "12q"], "cannot read '12q' as a size"),
    bad(&["run", "-s", "257MiB"], "--size 269484032 (257 MiB) is above the maximum of 268435456 (256 MiB)"),
    bad(&["run", "-s", "99999999999999999999"], "as a size"),
    bad(&["run", "-t", "udp4", "-s", "65508"], "max 65507 bytes"),
    bad(&["run", "-t", "udp6", "-s", "4"], "datagrams carry an 8-byte sequence number"),
    bad(&["run", "-t", "unix-dgram", "-s", "300000"], "larger than unix-dgram can carry in one message"),
    bad(&["run", "-t", "unix-seqpacket", "-s", "300000"], "larger than unix-seqpacket can carry in one message"),
    bad(&["run", "-w", "stream", "-s", "10G"], "is above the maximum"),
    bad(&["run", "--response-size", "0"], "--response-size must be at least 1 byte"),
    bad(&["run", "--response-size", "2G"], "--response-size 2147483648 (2 GiB) is above the maximum"),
    bad(&["run", "-t", "udp4", "--response-size", "65508"], "--response-size 65508 is larger than udp4"),
    bad(&["run", "--response-size", "1,2"], "takes one size, not a list"),
    bad(&["run", "-s", "256MiB", "--flows", "100000", "-e", "epoll"], "of memory, but only"),
    // run: addresses
    bad(&["run", "--addr", "10.0.0.1"], "loopbench only measures loopback"),
    bad(&["run", "--addr", "localhost"], "host names are not resolved"),
    bad(&["run", "--addr", "127.0.0.1:80"], "the port with --port 80"),
    bad(&["run", "--addr", "127.255.255.255"], "the broadcast address of 127.0.0.0/8"),
    bad(&["run", "--addr", "0.0.0.0"], "only measures loopback"),
    bad(&["run", "-t", "tcp6", "--addr", "::ffff:127.0.0.1"], "only measures loopback"),
    bad(&["run", "-t", "tcp6", "--addr", "127.0.0.2"], "tcp6 needs the IPv6 loopback address ::1"),
    bad(&["run", "-t", "unix-stream", "--addr", "@"], "an abstract Unix name needs 1 to 100 characters"),
    bad(&["run", "-t", "unix-stream", "--addr", "/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"], "shorter than 108 bytes"),
    bad(&["run", "-t", "pipe", "--addr", "127.0.0.2"], "pipe needs no address"),
    bad(&["run", "--client-addr", "192.168.1.1"], "loopbench only measures loopback"),
    bad(&["run", "--client-addr", "127.255.255.255"], "the broadcast address"),
    bad(&["run", "--client-addr", "::1"], "fits none of the transports asked for (tcp4)"),
    bad(&["run", "-t", "unix-stream", "--client-addr", "127.0.0.2"], "fits none of the transports"),
    bad(&["run", "-t", "unix-stream", "--addr", "{file}/x.sock"], "is not a directory; give a socket path in an existing, writable directory"),
    bad(&["run", "-t", "unix-dgram", "--addr", "{missing}/x.sock"], "does not exist"),
    bad(&["run", "-t", "unix-seqpacket", "--addr", "{file}"], "it exists and is not a socket"),
    bad(&["run", "--port", "70000"], "70000"),
    bad(&["run", "--port", "{port}"], "address in use; pick another --port"),
    bad(&["run", "-t", "pipe", "--port", "9000"], "--port applies to tcp4, tcp6, udp4 and udp6"),
    // run: socket options
    bad(&["run", "--sndbuf", "0"], "--sndbuf must be at least 1 byte"),
    bad(&["run", "--sndbuf", "2G"], "--sndbuf 2147483648 (2 GiB) is above the maximum of 1073741824 (1 GiB)"),
    bad(&["run", "-t", "pipe", "--sndbuf", "lots"], "cannot read 'lots' as a size"),
    bad(&["run", "--rcvbuf", "0"], "--rcvbuf must be at least 1 byte"),
    bad(&["run", "--rcvbuf", "4G"], "is above the maximum"),
    bad(&["run", "-t", "shm", "--rcvbuf", "64k"], "--rcvbuf applies to sockets"),
    bad(&["run", "--notsent-lowat", "0"], "--notsent-lowat 0 means the kernel's default"),
    bad(&["run", "--notsent-lowat", "3G"], "--notsent-lowat 3221225472 is above the maximum"),
    bad(&["run", "-t", "udp4", "--notsent-lowat", "16k"], "--notsent-lowat applies to tcp4 and tcp6"),
    bad(&["run", "-t", "udp4", "--nagle"], "--nagle applies to tcp4 and tcp6"),
    bad(&["run", "-t", "pipe", "--busy-poll-us", "50"], "busy_poll_us (SO_BUSY_POLL) applies to TCP and UDP sockets, not pipe"),
    bad(&["run", "--busy-poll-us", "4294967295"], "--busy-poll-us 4294967295 is above the maximum of 2147483647"),
    bad(&["run", "--busy-poll-us", "-1"], "-1"),
    bad(&["run", "--server-delay", "soon"], "cannot read 'soon' as a duration"),
    bad(&["run", "--server-delay", "10s", "--timeout", "1s"], "--server-delay 10s is not shorter than --timeout 1s"),
    bad(&["run", "-w", "stream", "--server-delay", "5us"], "--server-delay applies to rr, rate, not stream"),
    bad(&["run", "-t", "udp4", "--server-drop-every", "1"], "drops every request"),
    bad(&["run", "--server-drop-every", "10"], "needs a datagram transport"),
    bad(&["run", "--server-drop-every", "-3"], "-3"),
    // run: workload options
    bad(&["run", "--flows", "0"], "--flows and --threads must be at least 1"),
    bad(&["run", "--flows", "2000000", "-e", "epoll"], "--flows 2000000 is above the maximum of 1048576"),
    bad(&["run", "--flows", "4"], "use --threads 4 or --engine epoll"),
    bad(&["run", "--threads", "0"], "must be at least 1"),
    bad(&["run", "--threads", "2000", "--flows", "2000"], "--threads 2000 is above the maximum of 1024"),
    bad(&["run", "--threads", "2", "-e", "epoll"], "a thread without a flow would only idle"),
    bad(&["run", "--client-cpus", "0,999", "--server-cpus", "1", "--flows", "2", "--threads", "2"], "--client-cpus 999 does not exist"),
    bad(&["run", "--client-cpus", "x", "--server-cpus", "1"], "write CPU ids like 0,1 or 0-3"),
    bad(&["run", "--server-cpus", "0"], "--client-cpus"),
    bad(&["run", "--client-cpus", "0", "--server-cpus", "999"], "--server-cpu 999 does not exist"),
    bad(&["run", "-w", "rate"], "needs --rate"),
    bad(&["run", "-w", "rate", "--rate", "100000000000"], "--rate 100000000000 is above the maximum of 1000000000"),
    bad(&["run", "--rate", "1000"], "--rate and --max-in-flight only apply to -w rate"),
    bad(&["run", "-w", "rate", "--rate", "1000", "--max-in-flight", "20000000"], "--max-in-flight 20000000 is above the maximum"),
    bad(&["run", "-w", "rate", "-t", "shm", "--rate", "100"], "needs --engine spin"),
    bad(&["run", "-w", "crr", "--spread", "127.0.0.50-127.0.0.2"], "the last address comes before the first"),
    bad(&["run", "-w", "crr", "--spread", "10.0.0.1-10.0.0.9"], "only measures loopback"),
    bad(&["run", "-w", "crr", "-t", "tcp6", "--spread", "127.0.0.2-127.0.0.9"], "--spread (client source addresses) applies to -w crr over tcp4"),
    bad(&["run", "-w", "crr", "-t", "udp4"], "needs a connection-oriented transport"),
    bad(&["run", "--linger0"], "--linger0 (close with RST, no TIME_WAIT) applies to -w crr"),
    bad(&["run", "--memory-load", "999"], "--memory-load 999 does not exist"),
    bad(&["run", "--processes", "-t", "udp4"], "need a connection-oriented transport with an address"),
    // run: timing
    bad(&["run", "-n", "0"], "--iterations must be at least 1"),
    bad(&["run", "--iterations", "99999"], "--iterations 99999 is above the maximum of 10000"),
    bad(&["run", "-d", "0"], "must be greater than zero"),
    bad(&["run", "--duration", "999999999999h"], "--duration"),
    bad(&["run", "-d", "18446744073709551615ns"], "is above the maximum of 1day"),
    bad(&["run", "-d", "25h"], "--duration 1day 1h is above the maximum of 1day"),
    bad(&["run", "-d", "1s", "-c", "5"], "cannot be used with"),
    bad(&["run", "-c", "0"], "must be greater than zero"),
    bad(&["run", "--count", "10000000000000"], "--count 10000000000000 is above the maximum of 1000000000000"),
    bad(&["run", "--warmup", "999999999999h"], "--warmup more than 584 years is above the maximum of 1day"),
    bad(&["run", "--warmup", "later"], "cannot read 'later' as a duration"),
    bad(&["run", "--timeout", "0"], "--timeout must be greater than zero"),
    bad(&["run", "--timeout", "2h"], "--timeout 2h is above the maximum of 1h"),
    bad(&["run", "--timeout", "soon"], "cannot read 'soon' as a duration"),
    bad(&["run", "-t", "udp4", "--loss-timeout", "0"], "--loss-timeout must be greater than zero"),
    bad(&["run", "-t", "udp4", "--loss-timeout", "10s", "--timeout", "1s"], "--loss-timeout 10s is longer than --timeout 1s"),
    bad(&["run", "--loss-timeout", "x"], "cannot read 'x' as a duration"),
    // run: output
    bad(&["run", "-o", "{file}"], "cannot create the results directory"),
    bad(&["run", "--output", "{file}"], "choose a writable --output"),
    bad(&["run", "--seed", "x"], "invalid value 'x' for '--seed"),
    bad(&["run", "--no-interleave=yes"], "--no-interleave"),
    bad(&["run", "--label"], "--label"),
    bad(&["run", "--quiet=1"], "--quiet"),
    bad(&["run", "--no-report=1"], "--no-report"),
    bad(&["run", "--json=1"], "--json"),
    bad(&["run", "--format", "xml"], "unknown format 'xml'"),
    bad(&["run", "--json", "--format", "table"], "cannot be used with"),
    bad(&["run", "--export-json", "{missing}/x.json"], "--export-json"),
    bad(&["run", "--export-markdown", "{missing}/x.md"], "is not a directory"),
    bad(&["run", "--export-csv", "{missing}/x.csv"], "--export-csv"),
    bad(&["run", "--frobnicate"], "--frobnicate"),
    bad(&["run", "--zerocopy", "msg"], "unknown ZeroCopy 'msg'; expected one of: copy"),
    bad(&["run", "-w", "stream", "-e", "io_uring", "--zerocopy", "recv"], "--zerocopy recv cannot run on io_uring: its reads and writes go through the ring"),
    bad(&["run", "-w", "stream", "-e", "tokio", "--zerocopy", "send"], "--zerocopy send cannot run on tokio"),
    bad(&["run", "-w", "rr", "--zerocopy", "send"], "--zerocopy send applies to -w stream only, not rr"),
    bad(&["run", "--history", "{file}"], "cannot open the history at"),
    bad(&["run", "--trace", "bogus"], "--trace bogus: write on, off, or off,on"),
    bad(&["run", "-e", "io_uring", "--trace"], "--trace rebuilds each message from its send and receive system calls"),
    bad(&["run", "--profile", "bogus"], "--profile bogus: write on, off, or off,on"),
    bad(&["run", "--stages", "x"], "--stages takes on, off, or off,on"),
    bad(&["run", "-w", "stream", "--stages"], "--stages stamps round trips: use it with rr, crr, rate, not stream"),
    bad(&["run", "--precision", "0"], "--precision '0': must lie between 0 and 50 percent"),
    bad(&["run", "--precision", "x"], "--precision 'x': expected a percentage such as 2%"),
    bad(&["run", "--max-time", "1m"], "--precision <PCT>"),
    bad(&["run", "--precision", "2%", "--max-time", "0"], "--max-time must be longer than 0"),
    bad(&["run", "--precision", "2%", "--max-time", "x"], "cannot read 'x' as a duration"),
    bad(&["run", "--no-canary=1"], "unexpected value '1' for '--no-canary'"),
    bad(&["run", "--export-openmetrics", "{file}/x.prom"], "is not a directory; give a file in an existing directory"),
    bad(&["run", "--export-openmetrics"], "a value is required for '--export-openmetrics"),
    // client
    bad(&["client"], "--connect"),
    bad(&["client", "--connect", "10.0.0.1:80"], "only measures loopback"),
    bad(&["client", "--connect", "localhost:80"], "host names are not resolved"),
    bad(&["client", "--connect", "127.0.0.1"], "write an address like 127.0.0.1:8080"),
    bad(&["client", "--connect", "127.0.0.1:80", "-t", "udp4"], "-t udp4 cannot be measured with --connect"),
    bad(&["client", "--connect", "@svc", "-t", "unix-dgram"], "-t unix-dgram cannot be measured with --connect"),
    bad(&["client", "--connect", "{missing}"], "there is no socket there; start the server first"),
    bad(&["client", "--connect", "{file}"], "it is not a socket"),
    bad(&["client", "--connect", "127.0.0.1:80", "-t", "pipe"], "-t pipe cannot be measured with --connect"),
    bad(&["client", "--connect", "127.0.0.1:80", "-t", "tcp6"], "-t tcp6 does not fit --connect 127.0.0.1:80"),
    bad(&["client", "--connect", "127.0.0.1:80", "--processes"], "--processes starts one"),
    bad(&["client", "--connect", "127.0.0.1:1", "--request", "hi"], "say how a response ends: --response-size"),
    bad(&["client", "--connect", "127.0.0.1:1", "--request", ""], "--request must be at least 1 byte"),
    bad(&["client", "--connect", "127.0.0.1:1", "--request", "a\\q", "--response-size", "4"], "unknown escape \\q"),
    bad(&["client", "--connect", "127.0.0.1:1", "--request-file", "{missing}", "--response-size", "4"], "cannot read --request-file"),
    bad(&["client", "--connect", "127.0.0.1:1", "--request", "a", "--request-file", "{file}"], "cannot be used with"),
    bad(&["client", "--connect", "127.0.0.1:1", "--response-delimiter", "\\q", "--request", "a"], "unknown escape"),
    bad(&["client", "--connect", "127.0.0.1:1", "--length-prefix", "u7"], "u7"),
    bad(&["client", "--connect", "127.0.0.1:1", "--protocol", "http2"], "--protocol 'http2': write raw"),
    bad(&["client", "--connect", "127.0.0.1:1", "--protocol", "http1", "--length-prefix", "u8"], "--protocol http1 frames responses by their headers"),
    bad(&["client", "--connect", "127.0.0.1:1", "--requests", "{missing}"], "cannot read --requests"),
    bad(&["client", "--connect", "127.0.0.1:1", "--requests", "{file}", "--request", "a"], "cannot be used with"),
    bad(&["client", "--connect", "127.0.0.1:1", "--requests", "{file}", "--protocol", "http1"], "start each request with a line '### NAME"),
    bad(&["client", "--connect", "127.0.0.1:1", "--protocol", "http1", "-w", "stream"], "would be ignored"),
    bad(&["client", "--connect", "127.0.0.1:1", "--length-prefix", "u8", "--response-delimiter", "x"], "cannot be used with"),
    bad(&["client", "--connect", "127.0.0.1:1", "-d", "0"], "must be greater than zero"),
    bad(&["client", "--connect", "127.0.0.1:1", "-s", "0"], "--size must be at least 1 byte"),
    bad(&["client", "--connect", "127.0.0.1:1", "-w", "rate"], "needs --rate"),
    bad(&["client", "--connect", "127.0.0.1:1", "--memory-load", "999"], "--memory-load 999 does not exist"),
    bad(&["client", "--connect", "127.0.0.1:1", "--flows", "0"], "must be at least 1"),
    bad(&["client", "--connect", "127.0.0.1:1", "--timeout", "0"], "--timeout must be greater than zero"),
    bad(&["client", "--connect", "127.0.0.1:1", "-o", "{file}"], "cannot create the results directory"),
    bad(&["client", "--connect", "127.0.0.1:1", "--json=1"], "--json"),
    bad(&["client", "--connect", "127.0.0.1:1", "--zerocopy", "x"], "unknown ZeroCopy 'x'"),
    bad(&["client", "--connect", "127.0.0.1:1", "--trace"], "--trace watch the worker threads of this process"),
    bad(&["client", "--connect", "127.0.0.1:1", "--profile", "bogus"], "--profile bogus: write on, off, or off,on"),
    bad(&["client", "--connect", "127.0.0.1:1", "--stages"], "--stages joins the client's and the server's stamps in this process"),
    bad(&["client", "--connect", "127.0.0.1:1", "--history=h.sqlite", "-s", "0"], "--size must be at least 1 byte"),
    bad(&["client", "--connect", "127.0.0.1:1", "--export-openmetrics"], "a value is required for '--export-openmetrics"),
    // server
    bad(&["server", "-t", "udp4"], "a server process serves tcp4, tcp6, unix-stream, unix-seqpacket"),
    bad(&["server", "-t", "pipe"], "not pipe"),
    bad(&["server", "-t", "shm"], "not shm"),
    bad(&["server", "-t", "unix-dgram"], "not unix-dgram"),
    bad(&["server", "-t", "tcp4,tcp6"], "a server serves one case"),
    bad(&["server", "--sessions", "0"], "0 is not in 1.."),
    bad(&["server", "-w", "crr"], "a standalone server cannot tell when crr clients are done"),
    bad(&["server", "-s", "10G"], "is above the maximum"),
    bad(&["server", "--memory-load", "999"], "--memory-load 999 does not exist"),
    bad(&["server", "--client-cpu", "999", "--server-cpu", "0"], "--client-cpu 999 does not exist"),
    bad(&["server", "--processes"], "leave --processes out"),
    bad(&["server", "--timeout", "0"], "--timeout must be greater than zero"),
    bad(&["server", "--flows", "0"], "must be at least 1"),
    bad(&["server", "-n", "0"], "--iterations must be at least 1"),
    bad(&["server", "--sndbuf", "0"], "--sndbuf must be at least 1 byte"),
    bad(&["server", "--addr", "localhost"], "host names are not resolved"),
    bad(&["server", "--session-json", "{"], "reading --session-json"),
    bad(&["server", "--once=2"], "--once"),
    bad(&["server", "--zerocopy", "x"], "unknown ZeroCopy 'x'"),
    bad(&["server", "--trace", "bogus"], "--trace bogus: write on, off, or off,on"),
    bad(&["server", "--profile", "bogus"], "--profile bogus: write on, off, or off,on"),
    bad(&["server", "--stages", "x"], "--stages takes on, off, or off,on"),
    bad(&["server", "--stages"], "--stages measures both sides of one `loopbench run`"),
    bad(&["server", "--trace"], "--trace measures both sides of one `loopbench run`"),
    bad(&["server", "--profile", "on"], "--profile measures both sides of one `loopbench run`"),
    bad(&["server", "-t", "unix-stream", "--addr", "{file}/x.sock"], "is not a directory"),
    // suite
    bad(&["suite", "nosuch"], "unknown suite 'nosuch'"),
    bad(&["suite", "--suite-file", "{missing}"], "cannot read the suite file"),
    bad(&["suite", "--suite-file", "{suite:unknown-key}"], "frobnicate"),
    bad(&["suite", "--suite-file", "{suite:size-zero}"], "--size must be at least 1 byte"),
    bad(&["suite", "--suite-file", "{suite:long}"], "is above the maximum"),
    bad(&["suite", "--list=1"], "--list"),
    bad(&["suite", "--dry-run=1"], "--dry-run"),
    bad(&["suite", "-o", "{file}"], "cannot create the results directory"),
    bad(&["suite", "--output", "{file}"], "--output"),
    bad(&["suite", "--seed", "x"], "--seed"),
    bad(&["suite", "--no-interleave=x"], "--no-interleave"),
    bad(&["suite", "--label"], "--label"),
    bad(&["suite", "--quiet=x"], "--quiet"),
    bad(&["suite", "--no-report=x"], "--no-report"),
    bad(&["suite", "quick", "--history", "{file}"], "cannot open the history at"),
    bad(&["suite", "quick", "--precision", "0"], "--precision '0': must lie between 0 and 50 percent"),
    bad(&["suite", "quick", "--precision", "2%", "--max-time", "0"], "--max-time must be longer than 0"),
    bad(&["suite", "quick", "--no-canary=1"], "unexpected value '1' for '--no-canary'"),
    bad(&["suite", "quick", "--no-trace=1"], "unexpected value '1' for '--no-trace'"),
    bad(&["suite", "quick", "--export-openmetrics", "{missing}/x.prom"], "is not a directory"),
    bad(&["suite", "quick", "--format", "yaml"], "unknown format 'yaml'"),
    bad(&["suite", "quick", "--json=1"], "--json"),
    bad(&["suite", "quick", "--export-json", "{missing}/x.json"], "--export-json"),
    bad(&["suite", "quick", "--export-markdown", "{missing}/x.md"], "--export-markdown"),
    bad(&["suite", "quick", "--export-csv", "{missing}/x.csv"], "--export-csv"),
    // history
    bad(&["history", "add"], "<RUN>..."),
    bad(&["history", "add", "nosuchrun"], "no run 'nosuchrun'"),
    bad(&["history", "add", "{run}", "--commit"], "a value is required for '--commit"),
    bad(&["history", "add", "{run}", "--branch"], "a value is required for '--branch"),
    bad(&["history", "add", "{run}", "--label"], "a value is required for '--label"),
    bad(&["history", "add", "{run}", "--history", "{file}"], "cannot open the history at"),
    bad(&["history", "add", "nosuchrun", "--output", "{missing}"], "no run 'nosuchrun'"),
    bad(&["history", "import"], "<PATH>..."),
    bad(&["history", "import", "{missing}"], "holds no run.json"),
    bad(&["history", "import", "{run}", "--commit"], "a value is required for '--commit"),
    bad(&["history", "import", "{run}", "--branch"], "a value is required for '--branch"),
    bad(&["history", "import", "{run}", "--label"], "a value is required for '--label"),
    bad(&["history", "import", "{run}", "--history", "{file}"], "cannot open the history at"),
    bad(&["history", "import", "{run}", "--output"], "a value is required for '--output"),
    bad(&["history", "list", "--json=1"], "--json"),
    bad(&["history", "list", "--branch"], "a value is required for '--branch"),
    bad(&["history", "list", "--host"], "a value is required for '--host"),
    bad(&["history", "list", "--fingerprint"], "a value is required for '--fingerprint"),
    bad(&["history", "list", "--kernel"], "a value is required for '--kernel"),
    bad(&["history", "list", "--history", "{file}"], "cannot open the history at"),
    bad(&["history", "list", "--output"], "a value is required for '--output"),
    bad(&["history", "show"], "<CASE>"),
    bad(&["history", "show", "x", "--metric"], "a value is required for '--metric"),
    bad(&["history", "show", "x", "--branch"], "a value is required for '--branch"),
    bad(&["history", "show", "x", "--host"], "a value is required for '--host"),
    bad(&["history", "show", "x", "--fingerprint"], "a value is required for '--fingerprint"),
    bad(&["history", "show", "x", "--kernel"], "a value is required for '--kernel"),
    bad(&["history", "show", "x", "--html"], "a value is required for '--html"),
    bad(&["history", "show", "x", "--json=1"], "--json"),
    bad(&["history", "show", "x", "--history", "{file}"], "cannot open the history at"),
    bad(&["history", "show", "x", "--output", "{missing}"], "no history at"),
    bad(&["history", "check", "--threshold", "x"], "--threshold 'x': expected a percentage"),
    bad(&["history", "check", "--alpha", "2"], "--alpha must lie between 0 and 0.5"),
    bad(&["history", "check", "--min-runs", "0"], "--min-runs must be at least 2"),
    bad(&["history", "check", "--method", "foo"], "unknown --method 'foo'"),
    bad(&["history", "check", "--permutations", "0"], "--permutations must be at least 19"),
    bad(&["history", "check", "--confidence", "150"], "--confidence must lie between 50 and 100"),
    bad(&["history", "check", "--max-age", "soon"], "invalid value 'soon' for '--max-age"),
    bad(&["history", "check", "--seed", "x"], "invalid value 'x' for '--seed"),
    bad(&["history", "check", "--threads", "x"], "invalid value 'x' for '--threads"),
    bad(&["history", "check", "--format", "xml"], "unknown format 'xml'"),
    bad(&["history", "check", "--metric", "nope"], "unknown metric 'nope'"),
    bad(&["history", "check", "--case"], "a value is required for '--case"),
    bad(&["history", "check", "--branch"], "a value is required for '--branch"),
    bad(&["history", "check", "--host"], "a value is required for '--host"),
    bad(&["history", "check", "--fingerprint"], "a value is required for '--fingerprint"),
    bad(&["history", "check", "--kernel"], "a value is required for '--kernel"),
    bad(&["history", "check", "--history", "{file}"], "cannot open the history at"),
    bad(&["history", "check", "--output", "{missing}"], "no history at"),
    bad(&["history", "export"], "--format <FORMAT>"),
    bad(&["history", "export", "--format", "xml"], "unknown export format 'xml'"),
    bad(&["history", "export", "--format", "csv", "--to"], "a value is required for '--to"),
    bad(&["history", "export", "--format", "csv", "--run"], "a value is required for '--run"),
    bad(&["history", "export", "--format", "csv", "--branch"], "a value is required for '--branch"),
    bad(&["history", "export", "--format", "csv", "--host"], "a value is required for '--host"),
    bad(&["history", "export", "--format", "csv", "--fingerprint"], "a value is required for '--fingerprint"),
    bad(&["history", "export", "--format", "csv", "--kernel"], "a value is required for '--kernel"),
    bad(&["history", "export", "--format", "csv", "--history", "{file}"], "cannot open the history at"),
    bad(&["history", "export", "--format", "csv", "--output", "{missing}"], "no history at"),
    // report, list, show
    bad(&["report", "nosuchrun"], "no run 'nosuchrun'"),
    bad(&["report", "-o", "{missing}"], "no runs in"),
    bad(&["report", "--output", "{file}"], "no runs in"),
    bad(&["report", "{schema0}"], "schema_version 0, which does not exist"),
    bad(&["list", "--json=2"], "--json"),
    bad(&["list", "-o", "{file}", "--json"], "is not a directory"),
    bad(&["list", "--output"], "--output"),
    bad(&["show", "nosuchrun"], "no run 'nosuchrun'"),
    bad(&["show", "{run}", "no-such-case"], "no-such-case"),
    bad(&["show", "-o", "{missing}"], "no runs in"),
    bad(&["show", "--output", "{missing}"], "no runs in"),
    bad(&["show", "{run}", "--format", "html"], "unknown format 'html'"),
    bad(&["show", "{run}", "--json", "--format", "json"], "cannot be used with"),
    bad(&["show", "{run}", "--export-json", "{missing}/x.json"], "--export-json"),
    bad(&["show", "{run}", "--export-markdown", "{missing}/x.md"], "--export-markdown"),
    bad(&["show", "{run}", "--export-csv", "{missing}/x.csv"], "--export-csv"),
    bad(&["show", "{run}", "rr", "--format", "markdown"], "with CASE, show prints a table or JSON"),
    // iface, doctor, alias
    bad(&["iface", "--json=x"], "--json"),
    bad(&["doctor", "--json=x"], "--json"),
    bad(&["alias", "add", "10.0.0.1"], "only measures loopback"),
    bad(&["alias", "add", "127.0.0.2/7"], "give a length from 8 to 32"),
    bad(&["alias", "add", "nonsense"], "is not an IPv4 address"),
    bad(&["alias", "del", "127.0.0.2/33"], "give a length from 8 to 32"),
    bad(&["alias", "del", "::1"], "is not an IPv4 address"),
    bad(&["alias", "list", "--json=x"], "--json"),
    bad(&["alias", "frob"], "frob"),
    // study
    bad(&["study"], "FILE"),
    bad(&["study", "{missing}"], "cannot read the study file"),
    bad(&["study", "{study:unknown-key}"], "frobnicate"),
    bad(&["study", "{study:no-variant}"], "variant"),
    bad(&["study", "{study:size-zero}", "--dry-run"], "--size must be at least 1 byte"),
    bad(&["study", "{study:ok}", "--rounds", "0"], "--rounds must be at least 1"),
    bad(&["study", "{study:ok}", "-r", "x"], "invalid value 'x'"),
    bad(&["study", "{study:ok}", "--seed", "x"], "invalid value 'x'"),
    bad(&["study", "{study:ok}", "--precision", "0"], "--precision '0': must lie between 0 and 50 percent"),
    bad(&["study", "{study:ok}", "--precision", "2%", "--max-time", "0"], "--max-time must be longer than 0"),
    bad(&["study", "{study:ok}", "--max-time", "1m"], "--precision <PCT>"),
    bad(&["study", "{study:ok}", "--no-canary=1"], "unexpected value '1' for '--no-canary'"),
    bad(&["study", "{study:ok}", "-o"], "--output"),
    bad(&["study", "{study:ok}", "--dry-run=1"], "--dry-run"),
    bad(&["study", "{study:ok}", "--quiet=1"], "--quiet"),
    bad(&["study", "--report", "{file}", "--journal"], "--journal"),
    bad(&["study", "{study:ok}", "--allow-host-changes=1"], "--allow-host-changes"),
    bad(&["study", "{study:ok}", "--force=1"], "--force"),
    bad(&["study", "{study:ok}", "--restore"], "cannot be used with"),
    bad(&["study", "{study:core-pattern}", "--allow-host-changes", "--dry-run"], "sysctl kernel.core_pattern is host-wide (it has no per-namespace copy) and not one a study may change"),
    bad(&["study", "{study:panic}", "--allow-host-changes"], "sysctl kernel.panic is host-wide"),
    bad(&["study", "{study:ok}", "--journal", "{journal:stale}"], "holds host changes of a study that did not finish (pid 999999999); run `loopbench study --restore` first"),
    bad(&["study", "--restore", "--journal", "{journal:corrupt}"], "is corrupt"),
    bad(&["study", "--report", "{missing}"], "has no study.json"),
    // compare, baseline, ab
    bad(&["compare", "{missing}", "{run}"], "BASE"),
    bad(&["compare", "{run}"], "<NEW>"),
    bad(&["compare", "{run}", "{run}", "--threshold", "x"], "--threshold 'x': expected a percentage"),
    bad(&["compare", "{run}", "{run}", "--confidence", "150"], "--confidence must lie between 50 and 100"),
    bad(&["compare", "{run}", "{run}", "--alpha", "2"], "--alpha must lie between 0 and 0.5"),
    bad(&["compare", "{run}", "{run}", "--min-iterations", "0"], "--min-iterations must be at least 2"),
    bad(&["compare", "{run}", "{run}", "--resamples", "0"], "--resamples must be at least 100"),
    bad(&["compare", "{run}", "{run}", "--seed", "x"], "invalid value 'x'"),
    bad(&["compare", "{run}", "{run}", "--pair", "nonsense"], "--pair"),
    bad(&["compare", "{run}", "{run}", "--strict-env=1"], "--strict-env"),
    bad(&["compare", "{run}", "{run}", "--unpaired=1"], "--unpaired"),
    bad(&["compare", "{run}", "{run}", "--format", "xml"], "xml"),
    bad(&["compare", "{run}", "{run}", "--json", "--format", "markdown"], "cannot be used with"),
    bad(&["compare", "{run}", "{run}", "--export-json", "{missing}/x.json"], "--export-json"),
    bad(&["compare", "{run}", "{run}", "--export-markdown", "{missing}/x.md"], "--export-markdown"),
    bad(&["compare", "{run}", "{run}", "--export-csv", "{missing}/x.csv"], "is not a directory"),
    bad(&["compare", "{run}", "{run}", "--junit", "{missing}/x.xml"], "--junit"),
    bad(&["compare", "{run}", "{run}", "--noise-threshold", "5"], "--noise-threshold must be at least 0 and below 1"),
    bad(&["compare", "{run}", "{run}", "--confidence-level", "95"], "--confidence-level must lie between 0.5 and 1"),
    bad(&["compare", "{run}", "{run}", "--significance-level", "5"], "--alpha must lie between"),
    bad(&["compare", "{run}", "{run}", "--nresamples", "5"], "--resamples must be at least 100"),
    bad(&["compare", "nosuch", "{run}", "--output", "{missing}"], "no run 'nosuch'"),
    bad(&["compare", "nosuch", "{run}", "--results", "{missing}"], "nosuch"),
    bad(&["baseline", "save", "bad name", "{run}"], "is not a usable baseline name"),
    bad(&["baseline", "save", "{long-name}", "{run}", "--output", "{out}"], "too long"),
    bad(&["baseline", "save", "main", "{missing}"], "no run"),
    bad(&["baseline", "save", "main"], "<RUNS>"),
    bad(&["baseline", "save", "main", "{run}", "--force=1"], "--force"),
    bad(&["baseline", "list", "--json=1"], "--json"),
    bad(&["baseline", "list", "--output"], "a value is required for '--output"),
    bad(&["baseline", "list", "--results"], "--output"),
    bad(&["ab", "--new-cmd", "true"], "--base-cmd"),
    bad(&["ab", "--base-cmd", "true"], "--new-cmd"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--rounds", "0"], "--rounds must be at least 1"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--schedule-seed", "x"], "invalid value 'x'"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--command-timeout", "0"], "--command-timeout must be greater than zero"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--precision", "0"], "--precision '0': must lie between 0 and 50 percent"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--precision", "2%", "--max-time", "0"], "--max-time must be longer than 0"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--command-timeout", "soon"], "cannot read 'soon' as a duration"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "-o"], "--output"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--quiet=1"], "--quiet"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--threshold", "x"], "--threshold 'x'"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--confidence", "10"], "--confidence must lie between"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--alpha", "2"], "--alpha must lie between"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--min-iterations", "1"], "--min-iterations must be at least 2"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--resamples", "5"], "--resamples must be at least 100"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--seed", "x"], "invalid value 'x'"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--pair", "x"], "--pair"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--interleave", "sometimes"], "--interleave"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--strict-env=x"], "--strict-env"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--unpaired=x"], "--unpaired"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--format", "yaml"], "yaml"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--json=2"], "--json"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--export-json", "{missing}/x.json"], "--export-json"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--export-markdown", "{missing}/x.md"], "--export-markdown"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--export-csv", "{missing}/x.csv"], "--export-csv"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--junit", "{missing}/x.xml"], "--junit"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--noise-threshold=1.5"], "--noise-threshold"),
    bad(&["ab", "--base-cmd", "true", "--new-cmd", "true", "--confidence-level", "1"], "--confidence-level"),
    bad(&["completions", "tcsh"], "invalid value 'tcsh'"),
    bad(&["man", "--dir", "{missing}"], "not a directory; create it first"),
    bad(&["frobnicate"], "frobnicate"),
];

/// The files and processes the table's placeholders stand for.
struct Fixture {
    dir: tempfile::TempDir,
    run: PathBuf,
    _port_holder: std::net::TcpListener,
    port: String,
}

const SUITES: &[(&str, &str)] = &[
    ("unknown-key", "[[cases]]\nfrobnicate = 1\n"),
    ("size-zero", "[[cases]]\ntransport = \"pipe\"\nsize = 0\n"),
    (
        "long",
        "[[cases]]\ntransport = \"pipe\"\nduration = \"999999999999h\"\n",
    ),
];

const STUDIES: &[(&str, &str)] = &[
    (
        "ok",
        "name = \"ok\"\n[cases]\ntransport = \"pipe\"\n[[variant]]\nname = \"a\"\n",
    ),
    (
        "unknown-key",
        "name = \"x\"\nfrobnicate = 1\n[cases]\n[[variant]]\nname = \"a\"\n",
    ),
    (
        "no-variant",
        "name = \"x\"\n[cases]\ntransport = \"pipe\"\n",
    ),
    (
        "size-zero",
        "name = \"x\"\n[cases]\nsize = 0\n[[variant]]\nname = \"a\"\n",
    ),
    (
        "core-pattern",
        "name = \"x\"\n[cases]\ntransport = \"pipe\"\n[[variant]]\nname = \"a\"\nsysctl = { \"kernel.core_pattern\" = \"|/bin/true %p\" }\n",
    ),
    (
        "panic",
        "name = \"x\"\n[cases]\ntransport = \"pipe\"\n[[variant]]\nname = \"a\"\nsysctl = { \"kernel.panic\" = 1 }\n",
    ),
];

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("results");
        loopbench()
            .args(["run", "-t", "pipe", "-n", "2", "-c", "20", "--warmup", "0"])
            .args(["-q", "--no-report", "-o"])
            .arg(&results)
            .timeout(Duration::from_secs(60))
            .assert()
            .success();
        let run = crate::helpers::only_run(&results);
        std::fs::write(dir.path().join("file"), "not a directory").unwrap();
        for (name, text) in SUITES {
            std::fs::write(dir.path().join(format!("suite-{name}.toml")), text).unwrap();
        }
        for (name, text) in STUDIES {
            std::fs::write(dir.path().join(format!("study-{name}.toml")), text).unwrap();
        }
        std::fs::write(dir.path().join("journal-corrupt.json"), "{ not json").unwrap();
        // The journal of a study that was killed (its pid is gone) and never restored.
        std::fs::write(
            dir.path().join("journal-stale.json"),
            r#"{"schema_version":2,"pid":999999999,"comm":"loopbench","study_id":"s","created_at":"2026-01-01T00:00:00Z","sysctls":{},"files":[],"cpu_dma_latency":false}"#,
        )
        .unwrap();
        let schema0 = dir.path().join("schema0");
        std::fs::create_dir(&schema0).unwrap();
        let mut json = crate::helpers::run_json(&run);
        json["schema_version"] = 0.into();
        std::fs::write(schema0.join("run.json"), json.to_string()).unwrap();
        let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = holder.local_addr().unwrap().port().to_string();
        Fixture {
            dir,
            run,
            _port_holder: holder,
            port,
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// `arg` with its placeholder filled in.
    fn fill(&self, arg: &str) -> String {
        let named = |prefix: &str, file: &str| {
            arg.strip_prefix(prefix)
                .and_then(|r| r.strip_suffix('}'))
                .map(|name| self.path(&format!("{file}-{name}.{}", ext(file))))
        };
        fn ext(file: &str) -> &'static str {
            if file == "journal" { "json" } else { "toml" }
        }
        if let Some(p) = named("{suite:", "suite")
            .or_else(|| named("{journal:", "journal"))
            .or_else(|| {
                arg.strip_prefix("{study:")
                    .and_then(|r| r.strip_suffix('}'))
                    .map(|name| self.path(&format!("study-{name}.toml")))
            })
        {
            return p;
        }
        arg.replace("{run}", &self.run.display().to_string())
            .replace("{file}", &self.path("file"))
            .replace("{missing}", &self.path("missing"))
            .replace("{port}", &self.port)
            .replace("{schema0}", &self.path("schema0"))
            .replace("{long-name}", &"b".repeat(300))
    }
}

/// Runs one line of the table; returns what went wrong, if anything.
fn check(fixture: &Fixture, case: &Bad) -> Option<String> {
    let out_dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = case
        .args
        .iter()
        .map(|a| {
            fixture
                .fill(a)
                .replace("{out}", &out_dir.path().display().to_string())
        })
        .collect();
    let writes_runs = matches!(case.args[0], "run" | "client" | "suite");
    if writes_runs
        && !case
            .args
            .iter()
            .any(|a| a.starts_with("-o") || *a == "--output")
    {
        args.extend([
            "-q".into(),
            "-o".into(),
            out_dir.path().display().to_string(),
        ]);
    }
    let output = loopbench()
        .args(&args)
        .env_remove("LOOPBENCH_OUTPUT")
        .current_dir(fixture.dir.path())
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut wrong = Vec::new();
    if output.status.code() != Some(case.code) {
        wrong.push(format!(
            "exit {:?}, not {}",
            output.status.code(),
            case.code
        ));
    }
    if !stderr.contains(case.says) {
        wrong.push(format!("the message lacks {:?}", case.says));
    }
    if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
        wrong.push("it panicked".into());
    }
    if writes_runs && out_dir.path().join("runs").exists() && runs_in(out_dir.path()) > 0 {
        wrong.push("it wrote a run".into());
    }
    (!wrong.is_empty()).then(|| {
        format!(
            "{:?}: {}\n  stderr: {}",
            args,
            wrong.join("; "),
            stderr.trim()
        )
    })
}

fn runs_in(results: &Path) -> usize {
    std::fs::read_dir(results.join("runs")).map_or(0, |d| d.count())
}

#[test]
fn every_bad_input_in_the_table_is_refused_with_exit_2_and_what_to_do() {
    let fixture = Fixture::new();
    let failures: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = TABLE
            .chunks(TABLE.len().div_ceil(8))
            .map(|chunk| {
                let fixture = &fixture;
                s.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|c| check(fixture, c))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} bad inputs were not refused as they should be:\n{}",
        failures.len(),
        TABLE.len(),
        failures.join("\n")
    );
}

#[test]
fn every_flag_of_every_subcommand_has_a_line_in_the_table() {
    use clap::CommandFactory;
    let mut missing = Vec::new();
    let cli = loopbench::cli::Cli::command();
    let mut stack: Vec<(Vec<String>, &clap::Command)> = cli
        .get_subcommands()
        .map(|c| (vec![c.get_name().to_string()], c))
        .collect();
    while let Some((path, cmd)) = stack.pop() {
        if cmd.is_hide_set() || path.last().is_some_and(|n| n == "help") {
            continue;
        }
        for sub in cmd.get_subcommands() {
            let mut p = path.clone();
            p.push(sub.get_name().to_string());
            stack.push((p, sub));
        }
        // `client` and `server` share run's case, workload and timing flags (one parser, one
        // set of checks): run's lines cover those too.
        let shares_run = matches!(path[0].as_str(), "client" | "server");
        let lines: Vec<&Bad> = TABLE
            .iter()
            .filter(|b| {
                (b.args.len() >= path.len() && b.args[..path.len()] == path[..])
                    || (shares_run && b.args[0] == "run")
            })
            .collect();
        if lines.is_empty() && cmd.get_subcommands().next().is_none() {
            missing.push(format!("`{}`: no line at all", path.join(" ")));
        }
        for arg in cmd.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if matches!(long, "help" | "version") {
                continue;
            }
            let flag = format!("--{long}");
            let short = arg.get_short().map(|c| format!("-{c}"));
            let covered = lines.iter().any(|b| {
                b.args.iter().any(|a| {
                    a.split('=').next() == Some(flag.as_str())
                        || short
                            .as_deref()
                            .is_some_and(|s| a.split('=').next() == Some(s))
                })
            });
            if !covered {
                missing.push(format!("`{} {flag}`", path.join(" ")));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "flags without a bad input in tests/cli/bad_input.rs's TABLE (add a line with the exit \
         code and a phrase of the message): {}",
        missing.join(", ")
    );
}

#[test]
fn io_uring_refused_by_the_host_exits_2_naming_the_reason_before_measuring() {
    // LB_FAULT_IO_URING makes io_uring_setup fail as such a host would (the sysctl itself is
    // machine-wide and not the test's to change).
    for (errno, reason) in [
        ("ENOSYS", "CONFIG_IO_URING"),
        ("EPERM", "kernel.io_uring_disabled"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        loopbench()
            .env("LB_FAULT_IO_URING", errno)
            .args([
                "run",
                "-e",
                "blocking,io_uring-sqpoll",
                "-n",
                "1",
                "-c",
                "10",
            ])
            .args(["--warmup", "0", "-q", "-o"])
            .arg(dir.path())
            .assert()
            .code(2)
            .stderr(contains("--engine io_uring-sqpoll cannot run on this host"))
            .stderr(contains(reason))
            .stderr(contains("panicked").not());
        assert!(
            !dir.path().join("runs").exists(),
            "{errno}: not even the blocking case ran"
        );
    }
}
