//! Measuring a service that already listens on 127.0.0.1: here a tiny HTTP-like server started
//! by the example itself (a stand-in for yours), measured over loopback with loopbench's client:
//! a fixed request, the response framed by its fixed size.
//!
//! `cargo run --release --example external_service [-- PORT]` (without a port, the example starts
//! its own service; with one, it measures whatever answers there, e.g. your server).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use loopbench::session::Run;
use loopbench::spec::{Placement, Spec, Transport};

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// A one-connection-at-a-time service that answers every request with `RESPONSE`.
fn start_service() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.set_nodelay(true);
            std::thread::spawn(move || {
                let mut buf = [0u8; REQUEST.len()];
                while conn.read_exact(&mut buf).is_ok() {
                    if conn.write_all(RESPONSE).is_err() {
                        break;
                    }
                }
            });
        }
    });
    Ok(port)
}

fn main() -> anyhow::Result<()> {
    let port = match std::env::args().nth(1) {
        Some(p) => p.parse()?,
        None => start_service()?,
    };
    let spec = Spec::builder(Transport::Tcp4)
        .placement(Placement::Unpinned)
        .connect(&format!("127.0.0.1:{port}"))
        .request(REQUEST)
        .response_size(RESPONSE.len())
        .iterations(3)
        .count(5_000)
        .warmup(Duration::from_millis(100))
        .build()?;
    let result = Run::new([spec]).execute()?;
    for (case, histograms) in result.cases() {
        anyhow::ensure!(
            case.errors.is_empty(),
            "{}: {:?}",
            case.case_id,
            case.errors
        );
        let h = &histograms.merged;
        println!(
            "{}: {} requests, p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
            case.case_id,
            h.len(),
            h.value_at_quantile(0.5) as f64 / 1e3,
            h.value_at_quantile(0.99) as f64 / 1e3,
            h.max() as f64 / 1e3
        );
    }
    Ok(())
}
