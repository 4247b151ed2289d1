//! How the workers' reports of an iteration become its outcome: the root cause when one failed,
//! else per-side and per-flow totals, merged histograms and the throughput.

use anyhow::{Context, Result, anyhow};

use super::outcome::{FlowOutcome, IterationOutcome, Side, SideOutcome, Throughput, WorkerReport};
use super::stages::{Logs, join};
use crate::engine::{Aborted, FlowReport};
use crate::metrics::histogram::{LatencyHistogram, LatencySummary, new_histogram};
use crate::metrics::ports::PortSet;
use crate::metrics::rusage::ThreadUsage;
use crate::metrics::schedule::ScheduleStats;
use crate::metrics::series;
use crate::metrics::service::ServiceMeasure;
use crate::spec::Spec;
use crate::transport::ConnInfo;
use crate::workload::counted_by_server;

/// Merges the workers' reports into the iteration's outcome; fails with the root cause when a
/// worker failed.
pub(crate) fn collect(
    spec: &Spec,
    reports: Vec<WorkerReport>,
    connection: (ConnInfo, ConnInfo),
) -> Result<IterationOutcome> {
    first_failure(&reports)?;
    let mut totals = Totals::new(spec.flows as usize);
    for report in reports {
        totals.add_worker(report)?;
    }
    Ok(totals.into_outcome(spec, connection))
}

/// The root cause of a failed iteration: the first error that is not just "stopped because
/// another failed" ([`Aborted`]), else `Aborted` itself when some worker was aborted.
fn first_failure(reports: &[WorkerReport]) -> Result<()> {
    let mut aborted = false;
    for r in reports {
        if let Err(e) = &r.result {
            if e.downcast_ref::<Aborted>().is_none() {
                return Err(anyhow!("{} worker {}: {e:#}", r.side.name(), r.index));
            }
            aborted = true;
        }
    }
    if aborted {
        return Err(Aborted.into());
    }
    Ok(())
}

impl SideOutcome {
    /// Adds one part of the side (a thread, or an iteration of a case). Migrations stay known
    /// only while every part knows its own; `first` says this is the first part.
    pub(crate) fn add_part(
        &mut self,
        first: bool,
        usage: ThreadUsage,
        cpus: impl IntoIterator<Item = usize>,
        migrations: Option<u64>,
    ) {
        self.usage = self.usage + usage;
        self.cpus.extend(cpus);
        self.migrations = match (first, self.migrations, migrations) {
            (true, _, m) => m,
            (false, Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
    }

    /// Sorts the CPUs seen and drops repeats.
    pub(crate) fn settle_cpus(&mut self) {
        self.cpus.sort_unstable();
        self.cpus.dedup();
    }
}

/// The iteration's figures while the workers' reports are added up.
struct Totals {
    latency: LatencyHistogram,
    latency_actual: Option<LatencyHistogram>,
    schedule: Option<ScheduleStats>,
    ports: Option<Box<PortSet>>,
    client: SideOutcome,
    server: SideOutcome,
    /// Threads added so far per side (client, server).
    threads: [usize; 2],
    flows: Vec<FlowOutcome>,
    /// `--stages`: every flow's stamp logs.
    logs: Logs,
    /// Clients of a service: their measures, merged.
    service: Option<ServiceMeasure>,
}

impl Totals {
    fn new(flows: usize) -> Totals {
        Totals {
            latency: new_histogram(),
            latency_actual: None,
            schedule: None,
            ports: None,
            client: SideOutcome::default(),
            server: SideOutcome::default(),
            threads: [0; 2],
            logs: Logs::default(),
            service: None,
            flows: (0..flows)
                .map(|flow| FlowOutcome {
                    flow,
                    ..FlowOutcome::default()
                })
                .collect(),
        }
    }

    /// Adds one worker thread: to its side's totals, and each of its flows.
    fn add_worker(&mut self, r: WorkerReport) -> Result<()> {
        let (side, seen) = match r.side {
            Side::Client => (&mut self.client, &mut self.threads[0]),
            Side::Server => (&mut self.server, &mut self.threads[1]),
        };
        side.add_part(
            *seen == 0,
            r.usage,
            r.cpus.into_iter().flatten(),
            r.migrations,
        );
        side.engine_threads = side.engine_threads + r.engine_threads;
        side.elapsed_ns = side.elapsed_ns.max(r.elapsed_ns);
        *seen += 1;
        for (flow, id) in r.flows.into_iter().zip(r.flow_ids) {
            self.add_flow(r.side, r.index, id, flow)?;
        }
        Ok(())
    }

    /// Adds flow `id`, driven by thread `thread` of `side`.
    fn add_flow(&mut self, side: Side, thread: usize, id: usize, f: FlowReport) -> Result<()> {
        let totals = match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        };
        totals.counters += f.counters;
        series::merge(&mut totals.slices, &f.slices);
        totals.receive_span_ns = totals.receive_span_ns.max(f.receive_span_ns.unwrap_or(0));
        let per_flow = &mut self.flows[id];
        match side {
            Side::Client => {
                per_flow.client = f.counters;
                per_flow.threads.0 = thread;
                per_flow.latency = f.latency.as_ref().map(LatencySummary::of);
            }
            Side::Server => {
                per_flow.server = f.counters;
                per_flow.threads.1 = thread;
            }
        }
        if let Some(h) = f.latency {
            self.latency.add(&h).context("merging flow histograms")?;
        }
        if let Some(h) = f.latency_actual {
            self.latency_actual
                .get_or_insert_with(new_histogram)
                .add(&h)
                .context("merging flow histograms")?;
        }
        if let Some(s) = f.schedule {
            self.schedule
                .get_or_insert_with(ScheduleStats::default)
                .add(&s);
        }
        if let Some(p) = f.ports {
            self.ports.get_or_insert_with(Box::default).merge(&p);
        }
        if let Some(log) = f.client_stamps {
            if self.logs.clients.len() <= id {
                self.logs.clients.resize_with(id + 1, || None);
            }
            self.logs.clients[id] = Some(log);
        }
        self.logs.servers.extend(f.server_stamps);
        if let Some(s) = f.service {
            self.service
                .get_or_insert_with(ServiceMeasure::default)
                .add(&s)
                .context("merging request kind histograms")?;
        }
        Ok(())
    }

    fn into_outcome(mut self, spec: &Spec, connection: (ConnInfo, ConnInfo)) -> IterationOutcome {
        self.client.settle_cpus();
        self.server.settle_cpus();
        let one = |cpus: &[usize]| match cpus {
            [cpu] => Some(*cpu),
            _ => None,
        };
        let cpus = (one(&self.client.cpus), one(&self.server.cpus));
        let logs = std::mem::take(&mut self.logs);
        let stages = (!logs.is_empty()).then(|| join(spec, logs, &self.latency, cpus));
        IterationOutcome {
            throughput: throughput(spec, self.schedule.as_ref(), &self.client, &self.server),
            latency: self.latency,
            client: self.client,
            server: self.server,
            connection,
            latency_actual: self.latency_actual,
            flows: self.flows,
            schedule: self.schedule,
            ports: self.ports,
            net_rx_softirqs: None,
            memory_load_bytes_per_sec: None,
            stages,
            kernel: None,
            service: self.service,
        }
    }
}

/// The iteration's throughput, counted where the workload says.
fn throughput(
    spec: &Spec,
    schedule: Option<&ScheduleStats>,
    client: &SideOutcome,
    server: &SideOutcome,
) -> Throughput {
    if let Some(sched) = schedule {
        // Open loop: responses completed over the span from the first intended send to the
        // last response.
        Throughput {
            messages: sched.completed,
            bytes: client.counters.bytes_received + server.counters.bytes_received,
            elapsed_ns: sched.span_ns.max(1),
        }
    } else if counted_by_server(spec.workload) {
        Throughput {
            messages: server.counters.messages,
            bytes: server.counters.bytes_received,
            elapsed_ns: server.receive_span_ns,
        }
    } else {
        Throughput {
            messages: client.counters.messages,
            bytes: client.counters.bytes_received + server.counters.bytes_received,
            elapsed_ns: client.elapsed_ns,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::counters::Counters;
    use crate::spec::{Transport, Workload};

    fn worker(side: Side, index: usize, flows: &[(usize, u64)], cpus: [usize; 2]) -> WorkerReport {
        WorkerReport {
            index,
            side,
            result: Ok(()),
            usage: ThreadUsage {
                cpu_ns: 10,
                ..ThreadUsage::default()
            },
            engine_threads: ThreadUsage {
                cpu_ns: 4,
                ..ThreadUsage::default()
            },
            elapsed_ns: 100 * (index as u64 + 1),
            migrations: Some(1),
            cpus: cpus.map(Some),
            flows: flows
                .iter()
                .map(|&(_, messages)| FlowReport {
                    counters: Counters {
                        messages,
                        bytes_received: messages * 8,
                        ..Counters::default()
                    },
                    receive_span_ns: Some(messages * 3),
                    ..FlowReport::default()
                })
                .collect(),
            flow_ids: flows.iter().map(|&(id, _)| id).collect(),
        }
    }

    fn spec(workload: Workload) -> Spec {
        let mut s = Spec::new(Transport::Pipe);
        s.workload = workload;
        s.flows = 3;
        s
    }

    fn reports() -> Vec<WorkerReport> {
        vec![
            worker(Side::Client, 0, &[(0, 5), (2, 7)], [1, 1]),
            worker(Side::Client, 1, &[(1, 6)], [0, 1]),
            worker(Side::Server, 0, &[(0, 5), (1, 6), (2, 7)], [1, 0]),
        ]
    }

    #[test]
    fn sides_and_flows_are_summed_and_throughput_counted_where_the_workload_says() {
        let rr = collect(&spec(Workload::Rr), reports(), Default::default()).unwrap();
        assert_eq!(rr.client.counters.messages, 18);
        assert_eq!(rr.client.usage.cpu_ns, 20);
        assert_eq!(rr.client.engine_threads.cpu_ns, 8, "summed apart too");
        assert_eq!(rr.client.elapsed_ns, 200, "the longest thread");
        assert_eq!(rr.client.cpus, vec![0, 1], "sorted, distinct");
        assert_eq!(rr.client.migrations, Some(2));
        assert_eq!(rr.flows[1].threads, (1, 0));
        assert_eq!(
            (rr.flows[2].client.messages, rr.flows[2].server.messages),
            (7, 7)
        );
        assert_eq!(
            (rr.throughput.messages, rr.throughput.elapsed_ns),
            (18, 200)
        );
        let stream = collect(&spec(Workload::Stream), reports(), Default::default()).unwrap();
        assert_eq!(stream.throughput.bytes, 18 * 8);
        assert_eq!(
            stream.throughput.elapsed_ns, 21,
            "the server's longest receive span"
        );
    }

    #[test]
    fn migrations_are_known_only_when_every_thread_knows_its_own() {
        let mut r = reports();
        r[1].migrations = None;
        let out = collect(&spec(Workload::Rr), r, Default::default()).unwrap();
        assert_eq!(out.client.migrations, None);
        assert_eq!(out.server.migrations, Some(1));
    }

    #[test]
    fn the_root_cause_wins_over_the_workers_it_aborted() {
        let mut r = reports();
        r[0].result = Err(Aborted.into());
        r[2].result = Err(anyhow!("connection reset"));
        let err = collect(&spec(Workload::Rr), r, Default::default())
            .err()
            .unwrap();
        assert_eq!(format!("{err:#}"), "server worker 0: connection reset");
        let mut r = reports();
        r[1].result = Err(Aborted.into());
        let err = collect(&spec(Workload::Rr), r, Default::default())
            .err()
            .unwrap();
        assert!(err.downcast_ref::<Aborted>().is_some(), "{err:#}");
    }
}
