//! Nothing hangs: `client --connect` against a service that is silent or gone ends within the
//! bound the README states (`--timeout`) at every blocking step, with a message that says which
//! step; and what can be checked before connecting is checked before connecting. The margins on
//! the bounds are for a loaded machine; a hang would take minutes (before the connect bound, a
//! full backlog held the client for the kernel's SYN retries, about two minutes).

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

use crate::helpers::loopbench;

/// Slack over a stated bound for start-up and a loaded machine.
const MARGIN: Duration = Duration::from_secs(20);

/// A TCP listener on 127.0.0.1 whose accept queue is full (backlog 0, filled by connections
/// nobody accepts): a new connection's handshake is dropped, as by a stuck service.
struct FullListener {
    listener: Socket,
    _fill: Vec<Socket>,
}

impl FullListener {
    fn new() -> FullListener {
        let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        listener
            .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .unwrap();
        listener.listen(0).unwrap();
        let addr = listener.local_addr().unwrap();
        let fill = (0..3)
            .map(|_| {
                let s = Socket::new(Domain::IPV4, Type::STREAM.nonblocking(), None).unwrap();
                let _ = s.connect(&addr);
                s
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        FullListener {
            listener,
            _fill: fill,
        }
    }

    fn target(&self) -> String {
        self.listener
            .local_addr()
            .unwrap()
            .as_socket()
            .unwrap()
            .to_string()
    }
}

/// `client --connect TARGET ARGS -o <fresh dir>`: exit code, stderr, how long it took.
fn client(target: &str, args: &[&str]) -> (Option<i32>, String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = loopbench()
        .args(["client", "--connect", target])
        .args(args)
        .arg("-o")
        .arg(dir.path())
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), text, started.elapsed())
}

#[test]
fn connecting_to_a_service_that_drops_the_handshake_ends_within_the_timeout() {
    let full = FullListener::new();
    let args = [
        "--timeout",
        "1s",
        "-n",
        "1",
        "-d",
        "100ms",
        "--warmup",
        "0",
        "-q",
    ];
    let (code, text, took) = client(&full.target(), &args);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("within 1s (--timeout)"), "{text}");
    assert!(took < Duration::from_secs(1) + MARGIN, "{took:?}: {text}");
}

#[test]
fn a_service_that_accepts_but_never_answers_ends_the_warm_up_and_the_iteration_within_the_timeout()
{
    // The kernel completes the handshake (the backlog has room); nobody ever reads or answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let target = silent.local_addr().unwrap().to_string();
    for warmup in ["1s", "0"] {
        let args = [
            "--timeout",
            "1s",
            "-n",
            "1",
            "-d",
            "2s",
            "--warmup",
            warmup,
            "-q",
        ];
        let (code, text, took) = client(&target, &args);
        assert_eq!(code, Some(1), "warm-up {warmup}: {text}");
        let what = if warmup == "0" {
            "iteration 1"
        } else {
            "warm-up"
        };
        assert!(text.contains(what), "{text}");
        assert!(
            text.contains("stuck or gone") || text.contains("no message completed"),
            "{text}"
        );
        // The warm-up or iteration (up to 2 s) and the --timeout of 1 s, not more.
        assert!(took < Duration::from_secs(3) + MARGIN, "{took:?}: {text}");
    }
}

#[test]
fn an_openmetrics_file_in_a_missing_directory_is_refused_before_connecting() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let target = listener.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("missing/x.prom");
    let args = [
        "--export-openmetrics",
        file.to_str().unwrap(),
        "-n",
        "1",
        "-q",
    ];
    let (code, text, _) = client(&target, &args);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("is not a directory"), "{text}");
    assert!(
        listener.accept().is_err(),
        "the client connected before it refused"
    );
}
