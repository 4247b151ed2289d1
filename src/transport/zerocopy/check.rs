//! Where each `--zerocopy` path can run, refused before measuring with the reason and what to
//! use instead.

use crate::error::ConfigError;
use crate::spec::{EngineKind, Spec, Transport, Workload, ZeroCopy};

/// `--zerocopy` on `spec`: a `stream` over TCP (pipes for splice); on the blocking engine
/// (the paths call the kernel on the socket and sleep there), epoll or spin (the same calls,
/// non-blocking), and on io_uring for `send` only (the ring's own SEND_ZC).
pub fn check(spec: &Spec) -> Result<(), ConfigError> {
    let zc = spec.zerocopy;
    if zc.is_copy() {
        return Ok(());
    }
    let refuse = |why: String| Err(ConfigError::Invalid(format!("--zerocopy {zc} {why}")));
    if spec.workload != Workload::Stream {
        return refuse(format!(
            "applies to -w stream only, not {}: a request/response moves one message each way, \
             and zero-copy pays (if ever) only for bulk transfer, where pinning pages and reaping \
             a notification per send cost less than the copy; use -w stream",
            spec.workload
        ));
    }
    match spec.engine {
        EngineKind::Blocking | EngineKind::Epoll | EngineKind::Spin => {}
        EngineKind::IoUring if zc == ZeroCopy::Send => {}
        EngineKind::IoUring => {
            return refuse(format!(
                "cannot run on {}: its reads and writes go through the ring, and only send has \
                 a ring operation here (SEND_ZC); use --engine blocking, epoll or spin",
                spec.engine_choice()
            ));
        }
        EngineKind::Tokio | EngineKind::TokioMt => {
            return refuse(format!(
                "cannot run on {}: its reactor tracks the socket's readiness itself and never \
                 sees the kernel calls these paths make beside it; use --engine blocking, epoll \
                 or spin",
                spec.engine
            ));
        }
    }
    let tcp = matches!(spec.transport, Transport::Tcp4 | Transport::Tcp6);
    if tcp || (zc == ZeroCopy::Splice && spec.transport == Transport::Pipe) {
        return Ok(());
    }
    let takes = match zc {
        ZeroCopy::Splice => "tcp4, tcp6 or pipe",
        _ => "tcp4 or tcp6",
    };
    refuse(format!(
        "needs {takes}, not {}; use --zerocopy copy there",
        spec.transport
    ))
}

/// Every path a `stream` may take on a blocking, epoll or spin engine, one transport each: the
/// list the engine and workload tests run through.
#[cfg(test)]
pub const EVERY_PATH: [(Transport, ZeroCopy); 6] = [
    (Transport::Tcp4, ZeroCopy::Send),
    (Transport::Tcp4, ZeroCopy::Recv),
    (Transport::Tcp4, ZeroCopy::SendRecv),
    (Transport::Tcp4, ZeroCopy::Sendfile),
    (Transport::Tcp4, ZeroCopy::Splice),
    (Transport::Pipe, ZeroCopy::Splice),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(t: Transport, zc: ZeroCopy, engine: &str, w: Workload) -> Result<(), String> {
        let mut spec = Spec::new(t);
        spec.workload = w;
        spec.zerocopy = zc;
        spec.set_engine(engine.parse().unwrap());
        check(&spec).map_err(|e| e.to_string())
    }

    #[test]
    fn every_path_runs_on_the_blocking_epoll_and_spin_engines() {
        for engine in ["blocking", "epoll", "spin"] {
            for zc in [
                ZeroCopy::Send,
                ZeroCopy::Recv,
                ZeroCopy::SendRecv,
                ZeroCopy::Sendfile,
                ZeroCopy::Splice,
            ] {
                assert_eq!(
                    verdict(Transport::Tcp4, zc, engine, Workload::Stream),
                    Ok(())
                );
            }
            let pipe = verdict(Transport::Pipe, ZeroCopy::Splice, engine, Workload::Stream);
            assert_eq!(pipe, Ok(()));
        }
    }

    #[test]
    fn io_uring_takes_send_only_and_tokio_none() {
        let stream = Workload::Stream;
        for engine in ["io_uring", "io_uring-sqpoll", "io_uring-fixed"] {
            assert_eq!(
                verdict(Transport::Tcp4, ZeroCopy::Send, engine, stream),
                Ok(())
            );
            let e = verdict(Transport::Tcp4, ZeroCopy::Recv, engine, stream).unwrap_err();
            assert!(
                e.contains(&format!("cannot run on {engine}"))
                    && e.contains("SEND_ZC")
                    && e.contains("--engine blocking"),
                "{e}"
            );
        }
        let e = verdict(Transport::Tcp4, ZeroCopy::Send, "tokio", stream).unwrap_err();
        assert!(
            e.contains("cannot run on tokio") && e.contains("--engine"),
            "{e}"
        );
    }

    #[test]
    fn other_workloads_and_transports_are_refused_with_what_to_use() {
        let e = verdict(Transport::Tcp4, ZeroCopy::Send, "blocking", Workload::Rr).unwrap_err();
        assert!(
            e.contains("-w stream only, not rr") && e.contains("use -w stream"),
            "{e}"
        );
        let stream = Workload::Stream;
        let e = verdict(Transport::Udp4, ZeroCopy::Sendfile, "epoll", stream).unwrap_err();
        assert!(e.contains("needs tcp4 or tcp6, not udp4"), "{e}");
        let e = verdict(Transport::UnixStream, ZeroCopy::Splice, "spin", stream).unwrap_err();
        assert!(e.contains("needs tcp4, tcp6 or pipe"), "{e}");
        let e = verdict(Transport::Pipe, ZeroCopy::Send, "io_uring", stream).unwrap_err();
        assert!(e.contains("needs tcp4 or tcp6, not pipe"), "{e}");
    }
}
