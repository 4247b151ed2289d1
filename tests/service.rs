//! Measuring a local HTTP service the way a user would: a keep-alive server of the tests' own
//! (one write per response, or headers and body in two writes), an HTTP/1.0 server that closes
//! after each response (with a Content-Length, or ending the body by closing), and a requests
//! file with two kinds of request.
//!
//! Every server here serves 127.0.0.1 only, one connection at a time, and stops on a flag or
//! after 30 s; every client run is bounded by a message count and a 5 s timeout.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use loopbench::embed::builder::SpecBuilder;
use loopbench::framing::Protocol;
use loopbench::session::{Run, RunResult};
use loopbench::spec::requests::parse_requests;
use loopbench::spec::{Placement, Spec, Transport, Workload};

/// How the test server answers.
#[derive(Clone, Copy, PartialEq)]
enum Answer {
    /// HTTP/1.1, each response in one write.
    OneWrite,
    /// HTTP/1.1, the headers in one write and the body in another (Nagle left on).
    SplitWrites,
    /// HTTP/1.0 without keep-alive: one response, then close.
    Http10,
    /// HTTP/1.0 without Content-Length: the body ends when the server closes.
    UntilClose,
    /// A Content-Length of 100 and 18 bytes of body, then close.
    ShortBody,
}

/// 18 bytes, like python's http.server's small answers.
const BODY: &[u8] = b"value of the key.\n";

/// Reads one request (headers, then a Content-Length body); `None` at EOF or on timeout.
fn read_request(conn: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .map_or(0, |n| n.trim().parse().unwrap());
            if buf.len() >= end + 4 + length {
                buf.drain(..end + 4 + length);
                return Some(head);
            }
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Answers GET with 200 and a Content-Length body, anything else with a chunked 201.
fn answer(conn: &mut TcpStream, head: &str, how: Answer) -> std::io::Result<()> {
    if how == Answer::Http10 {
        conn.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 18\r\n\r\n")?;
        return conn.write_all(BODY);
    }
    if how == Answer::ShortBody {
        conn.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\n")?;
        return conn.write_all(BODY);
    }
    if how == Answer::UntilClose {
        conn.write_all(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")?;
        return conn.write_all(BODY);
    }
    if !head.starts_with("GET ") {
        return conn.write_all(
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        );
    }
    let headers = b"HTTP/1.1 200 OK\r\nServer: test\r\nContent-Type: text/plain\r\nContent-Length: 18\r\n\r\n";
    if how == Answer::SplitWrites {
        conn.write_all(headers)?;
        return conn.write_all(BODY);
    }
    let mut whole = headers.to_vec();
    whole.extend_from_slice(BODY);
    conn.write_all(&whole)
}

/// A server on 127.0.0.1 answering `how`, until the flag is set (or 30 s).
fn serve(how: Answer) -> (u16, Arc<AtomicBool>, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let server = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !flag.load(Ordering::Relaxed) && Instant::now() < deadline {
            let Ok((mut conn, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(1));
                continue;
            };
            conn.set_nonblocking(false).unwrap();
            conn.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let mut buf = Vec::new();
            while !flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                let Some(head) = read_request(&mut conn, &mut buf) else {
                    break;
                };
                let closes = matches!(how, Answer::Http10 | Answer::UntilClose | Answer::ShortBody);
                if answer(&mut conn, &head, how).is_err() || closes {
                    break;
                }
            }
        }
    });
    (port, stop, server)
}

fn http_case(port: u16, messages: u64) -> SpecBuilder {
    Spec::builder(Transport::Tcp4)
        .placement(Placement::Unpinned)
        .connect(&format!("127.0.0.1:{port}"))
        .protocol(Protocol::Http1)
        .iterations(1)
        .count(messages)
        .warmup(Duration::ZERO)
        .timeout(Duration::from_secs(5))
}

fn run_against(how: Answer, case: impl FnOnce(u16) -> SpecBuilder) -> RunResult {
    let (port, stop, server) = serve(how);
    let spec = case(port).build().expect("an HTTP case");
    let dir = tempfile::tempdir().unwrap();
    let result = Run::new(vec![spec])
        .seed(1)
        .results_dir(dir.path())
        .execute();
    stop.store(true, Ordering::Relaxed);
    server.join().unwrap();
    result.expect("the run")
}

#[test]
fn a_requests_file_with_two_kinds_gives_two_histograms_and_the_total() {
    let file = "### GET weight=3\nGET /kv/1 HTTP/1.1\nHost: localhost\n\n### PUT\nPUT /kv/1 HTTP/1.1\nHost: localhost\n\nnew value\n";
    let mix = parse_requests(file, Protocol::Http1, "mix.http").unwrap();
    let result = run_against(Answer::OneWrite, |port| http_case(port, 40).requests(mix));
    let case = &result.record.cases[0];
    assert!(case.errors.is_empty(), "{:?}", case.errors);
    assert!(
        case.case_id.as_str().ends_with("-http1-mix-GET-PUT"),
        "{}",
        case.case_id
    );
    let summary = case.summary.as_ref().expect("a summary");
    assert_eq!(summary.latency.count, 40, "the total");
    let service = summary
        .extras
        .service
        .as_ref()
        .expect("the service's record");
    let kinds: Vec<(&str, u64)> = service
        .kinds
        .iter()
        .map(|k| (k.name.as_str(), k.latency.count))
        .collect();
    assert_eq!(
        kinds,
        [("GET", 30), ("PUT", 10)],
        "weights 3:1 over 40 round trips"
    );
    let status: Vec<(u16, u64)> = service
        .status
        .iter()
        .map(|s| (s.code, s.responses))
        .collect();
    assert_eq!(
        status,
        [(200, 30), (201, 10)],
        "Content-Length and chunked bodies framed"
    );
    let tcp = service.tcp.expect("TCP_INFO of a TCP connection");
    assert_eq!(tcp.segments_per_response(), 1.0, "one write per response");
    assert!(
        case.notes.iter().all(|n| !n.contains("split writes")),
        "{:?}",
        case.notes
    );
    assert!(
        case.files.kinds.is_some(),
        "a directory of per-kind histograms"
    );
}

#[test]
fn split_writes_are_flagged_with_their_fix() {
    let result = run_against(Answer::SplitWrites, |port| http_case(port, 12));
    let case = &result.record.cases[0];
    assert!(case.errors.is_empty(), "{:?}", case.errors);
    let service = case
        .summary
        .as_ref()
        .unwrap()
        .extras
        .service
        .as_ref()
        .unwrap();
    assert_eq!(
        service.tcp.unwrap().segments_per_response(),
        2.0,
        "headers, then body"
    );
    let note = case
        .notes
        .iter()
        .find(|n| n.contains("split writes"))
        .unwrap_or_else(|| panic!("no split-write note in {:?}", case.notes));
    assert!(
        note.contains("TCP_NODELAY") && note.contains("one write per response"),
        "{note}"
    );
}

#[test]
fn an_http_1_0_service_gets_the_keep_alive_hint() {
    let result = run_against(Answer::Http10, |port| http_case(port, 5));
    let case = &result.record.cases[0];
    let errors = case.errors.join("; ");
    assert!(errors.contains("HTTP/1.0 without keep-alive"), "{errors}");
    assert!(
        errors.contains("keep connections alive") && errors.contains("-w crr"),
        "{errors}"
    );
}

#[test]
fn crr_measures_a_service_whose_responses_end_at_close() {
    // The kept-alive client refuses such a service and points to -w crr; crr takes the close
    // as the end of the response (RFC 9112 §6.3) and measures it.
    let kept = run_against(Answer::UntilClose, |port| http_case(port, 5));
    let errors = kept.record.cases[0].errors.join("; ");
    assert!(errors.contains("-w crr"), "{errors}");
    let result = run_against(Answer::UntilClose, |port| {
        http_case(port, 5).workload(Workload::Crr)
    });
    let case = &result.record.cases[0];
    assert!(case.errors.is_empty(), "{:?}", case.errors);
    let it = &case.iterations[0];
    assert_eq!(it.messages, 5);
    let head = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n".len();
    assert_eq!(
        it.client.counters.bytes_received,
        5 * (head + BODY.len()) as u64
    );
    // A close before the announced length is an error that names the framing.
    let short = run_against(Answer::ShortBody, |port| {
        http_case(port, 5).workload(Workload::Crr)
    });
    let errors = short.record.cases[0].errors.join("; ");
    assert!(
        errors.contains(
            "the server closed the connection after 58 bytes that are not a whole response"
        ) && errors.contains("Content-Length, chunked encoding, or the server's close"),
        "{errors}"
    );
}

#[test]
fn a_generator_closure_makes_the_requests_and_names_their_kinds() {
    use loopbench::handler::RequestGenerator;
    let generator = RequestGenerator::new("kv", &["GET", "PUT"], |seq, out| {
        let put = seq % 4 == 3;
        let verb = if put { "PUT" } else { "GET" };
        let body = if put { "v" } else { "" };
        out.extend_from_slice(
            format!(
                "{verb} /kv/{seq} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
        usize::from(put)
    });
    let result = run_against(Answer::OneWrite, |port| {
        http_case(port, 20).request_generator(generator)
    });
    let case = &result.record.cases[0];
    assert!(case.errors.is_empty(), "{:?}", case.errors);
    assert!(
        case.case_id.as_str().ends_with("-http1-gen-kv"),
        "{}",
        case.case_id
    );
    let service = case
        .summary
        .as_ref()
        .unwrap()
        .extras
        .service
        .as_ref()
        .unwrap();
    let counts: Vec<u64> = service.kinds.iter().map(|k| k.latency.count).collect();
    assert_eq!(counts, [15, 5]);
    let status: Vec<(u16, u64)> = service
        .status
        .iter()
        .map(|s| (s.code, s.responses))
        .collect();
    assert_eq!(status, [(200, 15), (201, 5)]);
}
