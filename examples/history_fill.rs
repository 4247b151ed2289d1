//! Fills a history file with generated runs: the history the README's `history add` and
//! `history check` timings are measured on (1000 runs × 30 cases × 10 iterations).
//!
//! `cargo run --release --example history_fill -- DB WRITER RUNS CASES SHARED [ITERATIONS]`
//! adds RUNS runs with ids
//! `WRITER-<i>` and, interleaved with them, SHARED runs with ids `shared-<i>` (the same for
//! every writer), each with
//! CASES cases of ITERATIONS (default 10) iterations, and prints `added=<n> present=<n> ms=<t>`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use loopbench::history::db::{AddOutcome, History};
use loopbench::history::figures::{CaseFigures, IterationFigures, RunEnvironment, RunFigures};
use loopbench::store::metric::Unit;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// RFC 3339 UTC time of `secs` seconds after 2026-01-01 (civil-from-days, H. Hinnant's algorithm).
fn rfc3339(secs: u64) -> String {
    let days = 20_454 + (secs / 86_400) as i64; // 2026-01-01 is day 20454 of the Unix epoch
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let s = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// A generated run, started `index` minutes after 2026-01-01: ±5 % uniform noise around each
/// case's level.
fn run(id: &str, index: usize, cases: usize, iterations: usize) -> RunFigures {
    let mut rng = ChaCha8Rng::seed_from_u64(index as u64);
    let mut noisy = |level: f64| level * (1.0 + rng.random_range(-0.05..0.05));
    let cases = (0..cases)
        .map(|c| {
            // Every other case steps up 5 % at run 400 and 10 % more at run 800.
            let step = |from: usize, by: f64| {
                if c % 2 == 0 && index % 1_000_000 >= from {
                    by
                } else {
                    1.0
                }
            };
            let base = (10_000.0 + 1_000.0 * c as f64) * step(400, 1.05) * step(800, 1.10);
            let its: Vec<IterationFigures> = (0..iterations)
                .map(|_| IterationFigures {
                    p50_ns: Some(noisy(base)),
                    p99_ns: Some(noisy(3.0 * base)),
                    p999_ns: Some(noisy(5.0 * base)),
                    throughput: Some(noisy(1e9 / base)),
                    receiver_cpu_ns: Some(noisy(0.4 * base)),
                })
                .collect();
            CaseFigures {
                case_id: format!("tcp4-rr-blocking-cross-core-{c}B"),
                throughput_unit: Unit::MsgsPerSec,
                summary: its[0],
                iterations: its,
                stage_medians_ns: BTreeMap::from([
                    ("client-send".to_string(), noisy(0.2 * base)),
                    ("server-turnaround".to_string(), noisy(0.3 * base)),
                ]),
                min_latency_samples: Some(100_000),
            }
        })
        .collect();
    RunFigures {
        run_id: id.to_string(),
        started_at: rfc3339(60 * index as u64),
        complete: true,
        environment: RunEnvironment {
            host: "bench-01".into(),
            kernel: "6.18.0".into(),
            cpu_model: "AMD EPYC".into(),
            cpu_count: 2,
            virtualization: Some("KVM".into()),
            lo_settings: "mtu=65536 qdisc=noqueue".into(),
        },
        commit: Some(format!("{index:07x}")),
        branch: Some("main".into()),
        label: None,
        cases,
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num =
        |k: usize, default: usize| args.get(k).and_then(|s| s.parse().ok()).unwrap_or(default);
    let (Some(db), Some(writer)) = (args.first(), args.get(1)) else {
        eprintln!("usage: history_fill DB WRITER RUNS CASES SHARED [ITERATIONS]");
        return ExitCode::from(2);
    };
    let (runs, cases, shared, iterations) = (num(2, 10), num(3, 30), num(4, 0), num(5, 10));
    let mut history = match History::open(Path::new(db)) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let writer_index: usize = writer.bytes().map(usize::from).sum();
    // The shared runs are spread among the writer's own, so concurrent writers race for them.
    let mut ids: Vec<(String, usize)> = Vec::new();
    for i in 0..runs.max(shared) {
        if i < runs {
            ids.push((format!("{writer}-{i}"), writer_index * 1_000_000 + i));
        }
        if i < shared {
            ids.push((format!("shared-{i}"), i));
        }
    }
    let (mut added, mut present) = (0, 0);
    let start = Instant::now();
    for (id, index) in ids {
        match history.add(&run(&id, index, cases, iterations)) {
            Ok(AddOutcome::Added) => added += 1,
            Ok(AddOutcome::AlreadyPresent) => present += 1,
            Err(e) => {
                eprintln!("error: adding {id}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!(
        "added={added} present={present} ms={:.1}",
        start.elapsed().as_secs_f64() * 1e3
    );
    ExitCode::SUCCESS
}
