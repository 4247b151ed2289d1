use super::*;
use crate::spec::handler::{ServerHandler, echo};
use crate::spec::{EngineKind, Transport};
use crate::store::metric::{Metric, Unit};

fn case(t: Transport, w: Workload) -> Spec {
    let mut s = Spec::new(t);
    s.workload = w;
    s
}

fn refused(s: &Spec) -> String {
    check(s).unwrap_err().to_string()
}

#[test]
fn every_workload_has_exactly_one_line_in_the_table() {
    for &w in Workload::ALL {
        let lines = TABLE.iter().filter(|d| d.kind() == w).count();
        assert_eq!(lines, 1, "{w}");
        assert_eq!(def(w).kind(), w);
    }
    assert_eq!(TABLE.len(), Workload::ALL.len());
}

#[test]
fn each_workload_checks_its_own_needs() {
    let rate = case(Transport::Tcp4, Workload::Rate);
    assert!(refused(&rate).contains("the rate workload needs --rate"));
    let mut shm = case(Transport::Shm, Workload::Rate);
    shm.rate.rate_per_sec = 1000;
    assert!(refused(&shm).contains("rate over shm needs --engine spin"));
    shm.engine = EngineKind::Spin;
    check(&shm).unwrap();
    let crr = case(Transport::Udp4, Workload::Crr);
    assert!(refused(&crr).contains("needs a connection-oriented transport"));
    check(&case(Transport::UnixSeqpacket, Workload::Crr)).unwrap();
}

#[test]
fn a_workloads_settings_are_refused_elsewhere() {
    let mut rr = case(Transport::Tcp4, Workload::Rr);
    rr.rate.max_in_flight = 4;
    assert!(refused(&rr).contains("--rate and --max-in-flight only apply to -w rate, not rr"));
    let mut crr6 = case(Transport::Tcp6, Workload::Crr);
    crr6.crr.linger0 = true;
    check(&crr6).unwrap();
    crr6.crr.spread = Some("127.0.0.2-127.0.0.3".parse().unwrap());
    assert!(
        refused(&crr6).contains("--spread (client source addresses) applies to -w crr over tcp4")
    );
    let mut crr4 = case(Transport::Tcp4, Workload::Crr);
    crr4.crr.spread = crr6.crr.spread;
    crr4.client_addr = Some("127.0.0.9".parse().unwrap());
    assert!(refused(&crr4).contains("both set the client source address"));
    let mut unix = case(Transport::UnixStream, Workload::Crr);
    unix.crr.linger0 = true;
    assert!(
        refused(&unix)
            .contains("--linger0 (close with RST, no TIME_WAIT) applies to -w crr over tcp4/tcp6")
    );
}

#[test]
fn server_side_options_name_the_workloads_that_take_them() {
    let mut stream = case(Transport::Udp4, Workload::Stream);
    stream.server_drop_every = 5;
    assert_eq!(
        refused(&stream),
        "--server-drop-every applies to the request/response workloads (rr, rate), not stream"
    );
    stream.server_drop_every = 0;
    stream.server_handler = Some(ServerHandler::new("echo", echo));
    assert_eq!(
        refused(&stream),
        "a server handler (.handler(..)) would be ignored: it answers request/response traffic \
         and the stream server never calls it; use the rr workload (.workload(..))"
    );
    let mut rr = case(Transport::Udp4, Workload::Rr);
    rr.server_drop_every = 5;
    check(&rr).unwrap();
}

#[test]
fn a_mixed_matrix_gives_each_setting_to_the_cases_that_take_it() {
    let mut template = Spec::new(Transport::Tcp4);
    template.rate.rate_per_sec = 500;
    template.crr.spread = Some("127.0.0.2-127.0.0.3".parse().unwrap());
    template.crr.linger0 = true;
    let mut matrix = Matrix::from_template(template.clone());
    matrix.transports = vec![Transport::Tcp4, Transport::Tcp6];
    matrix.workloads = vec![Workload::Rr, Workload::Crr, Workload::Rate];
    let specs = expand(&matrix).unwrap();
    assert_eq!(specs.len(), 6);
    for s in &specs {
        let is = |w, t| s.workload == w && s.transport == t;
        assert_eq!(
            s.rate.rate_per_sec != 0,
            s.workload == Workload::Rate,
            "{}",
            s.case_id()
        );
        assert_eq!(
            s.crr.spread.is_some(),
            is(Workload::Crr, Transport::Tcp4),
            "{}",
            s.case_id()
        );
        assert_eq!(
            s.crr.linger0,
            s.workload == Workload::Crr,
            "{}",
            s.case_id()
        );
        check(s).unwrap();
    }
    // Alone, a misplaced setting is refused: no case takes it.
    template.crr = Default::default();
    let alone = expand(&Matrix::from_template(template.clone()))
        .unwrap_err()
        .to_string();
    assert!(alone.contains("only apply to -w rate"), "{alone}");
    template.rate = Default::default();
    template.transport = Transport::Tcp6;
    template.workload = Workload::Crr;
    template.crr.spread = Some("127.0.0.2-127.0.0.9".parse().unwrap());
    let spread = expand(&Matrix::from_template(template))
        .unwrap_err()
        .to_string();
    assert!(spread.contains("applies to -w crr over tcp4"), "{spread}");
}

#[test]
fn hooks_say_how_each_workload_is_connected_counted_and_compared() {
    assert!(servers_end_at_eof(&case(Transport::Tcp4, Workload::Rr)));
    assert!(!servers_end_at_eof(&case(Transport::Udp4, Workload::Rr)));
    assert!(!servers_end_at_eof(&case(Transport::Tcp4, Workload::Crr)));
    assert!(counted_by_server(Workload::Stream) && moves_bulk_data(Workload::Stream));
    assert!(!counted_by_server(Workload::Rate) && !moves_bulk_data(Workload::Crr));
    assert_eq!(def(Workload::Stream).throughput_unit(), Unit::BytesPerSec);
    assert_eq!(def(Workload::Crr).throughput_unit(), Unit::MsgsPerSec);
    assert_eq!(
        def(Workload::Stream).compared_on(),
        &[Metric::Throughput, Metric::ReceiverCpu]
    );
    assert_eq!(
        def(Workload::Rate).compared_on(),
        &[Metric::P50, Metric::P99]
    );
}

#[test]
fn stages_go_to_request_response_cases_in_this_process() {
    let mut stream = case(Transport::Tcp4, Workload::Stream);
    stream.instrument.stages = true;
    let why = refused(&stream);
    assert!(
        why.contains("--stages") && why.contains("rr, crr, rate"),
        "{why}"
    );
    let mut remote = case(Transport::Tcp4, Workload::Rr);
    remote.instrument.stages = true;
    check(&remote).unwrap();
    remote.layout.processes = true;
    assert!(refused(&remote).contains("not with --processes"));
    let mut crr = case(Transport::Tcp4, Workload::Crr);
    crr.instrument.stages = true;
    crr.flows = 2;
    crr.threads = 2;
    crr.size = 4;
    crr.response_size = 4;
    assert!(refused(&crr).contains("--size 8 or more"));
    crr.size = 8;
    check(&crr).unwrap();
    // In a matrix with rr, a stream case drops the stamps instead of failing the run.
    let mut template = Spec::new(Transport::Tcp4);
    template.instrument.stages = true;
    let mut matrix = Matrix::from_template(template);
    matrix.workloads = vec![Workload::Rr, Workload::Stream];
    let specs = expand(&matrix).unwrap();
    let stamped: Vec<bool> = specs.iter().map(|s| s.instrument.stages).collect();
    assert_eq!(stamped, [true, false]);
}

#[test]
fn a_given_response_size_is_refused_only_where_no_workload_answers() {
    // Built in code: a stream spec keeps the default response size, which it ignores.
    let mut stream = Spec::new(Transport::Tcp4);
    stream.workload = Workload::Stream;
    stream.size = 65536;
    check(&stream).unwrap();
    // Given (`--response-size 100`) to a matrix of stream cases only: refused by name.
    let mut matrix = Matrix::from_template(stream.clone());
    matrix.response_size = Some(100);
    let err = expand(&matrix).unwrap_err().to_string();
    assert!(err.contains("--response-size applies to"), "{err}");
    // Given to a matrix that mixes stream and rr: the rr cases take it, stream sends one way.
    matrix.workloads = vec![Workload::Stream, Workload::Rr];
    let specs = expand(&matrix).unwrap();
    for s in &specs {
        let want = if s.workload == Workload::Rr {
            100
        } else {
            s.size
        };
        assert_eq!(s.response_size, want, "{}", s.case_id());
    }
    // Not given: every case answers with the request's size.
    matrix.response_size = None;
    assert!(
        expand(&matrix)
            .unwrap()
            .iter()
            .all(|s| s.response_size == s.size)
    );
}
