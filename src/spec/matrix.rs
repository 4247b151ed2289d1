//! Matrix expansion: comma lists on every dimension expand to one [`Spec`] per combination.

use std::net::IpAddr;

use crate::error::ConfigError;
use crate::spec::address::Endpoint;
use crate::spec::{
    AddressFamily, EngineChoice, Instrumentation, KernelProbes, Placement, Spec, Transport,
    Workload, ZeroCopy,
};

/// Lists of values per dimension, and a template for everything else.
#[derive(Clone, Debug)]
pub struct Matrix {
    /// Transports.
    pub transports: Vec<Transport>,
    /// Workloads.
    pub workloads: Vec<Workload>,
    /// Engines (with their io_uring variant).
    pub engines: Vec<EngineChoice>,
    /// Placements.
    pub placements: Vec<Placement>,
    /// Request sizes.
    pub sizes: Vec<usize>,
    /// How `stream` moves its bytes (`--zerocopy`).
    pub zerocopy: Vec<ZeroCopy>,
    /// Response size; `None` means "the same as the request".
    pub response_size: Option<usize>,
    /// Server addresses; each transport uses those of its family (one case per address), or its
    /// default when none fits.
    pub addrs: Vec<Endpoint>,
    /// Client source address for IP transports of its family.
    pub client_addr: Option<IpAddr>,
    /// Kernel probes (`--trace off,on` runs each case untraced and traced, interleaved).
    pub probes: Vec<KernelProbes>,
    /// What each case measures besides its latency: one case per entry (`--stages off,on`).
    pub instruments: Vec<Instrumentation>,
    /// Everything else (port, socket options, delays, timing) is copied from here.
    pub template: Spec,
}

impl Matrix {
    /// A matrix of one value per dimension, taken from `template`.
    pub fn from_template(template: Spec) -> Matrix {
        Matrix {
            transports: vec![template.transport],
            workloads: vec![template.workload],
            engines: vec![template.engine_choice()],
            placements: vec![template.placement],
            sizes: vec![template.size],
            zerocopy: vec![template.zerocopy],
            response_size: (template.response_size != template.size)
                .then_some(template.response_size),
            addrs: template.addr.clone().into_iter().collect(),
            client_addr: template.client_addr,
            probes: vec![template.probes],
            instruments: vec![template.instrument],
            template,
        }
    }

    /// Every combination, in a stable order (transport, workload, engine, placement, size,
    /// zero-copy mode, addr, probes, instrumentation).
    pub fn expand(&self) -> Result<Vec<Spec>, ConfigError> {
        self.check_addresses()?;
        self.check_options()?;
        let mut out = Vec::new();
        for &transport in &self.transports {
            let addrs = self.addrs_for(transport);
            let client_addr = self
                .client_addr
                .filter(|ip| Endpoint::Ip(*ip).fits(transport));
            for &workload in &self.workloads {
                for &engine in &self.engines {
                    for &placement in &self.placements {
                        for (&size, &zerocopy, addr) in self.per_size(&addrs) {
                            for (&probes, &instrument) in self.instrumented() {
                                let mut spec = self.template.clone();
                                spec.transport = transport;
                                spec.workload = workload;
                                spec.set_engine(engine);
                                spec.placement = placement;
                                spec.size = size;
                                spec.zerocopy = zerocopy;
                                spec.response_size = self.response_size.unwrap_or(size);
                                spec.addr = addr.clone();
                                spec.client_addr = client_addr;
                                spec.probes = probes;
                                spec.instrument = instrument;
                                out.push(spec);
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// What each case records besides its latency: every kernel probe set with every
    /// instrumentation.
    fn instrumented(&self) -> impl Iterator<Item = (&KernelProbes, &Instrumentation)> {
        self.probes
            .iter()
            .flat_map(move |p| self.instruments.iter().map(move |i| (p, i)))
    }

    /// The innermost dimensions: size, zero-copy mode, address.
    fn per_size<'a>(
        &'a self,
        addrs: &'a [Option<Endpoint>],
    ) -> impl Iterator<Item = (&'a usize, &'a ZeroCopy, &'a Option<Endpoint>)> {
        self.sizes.iter().flat_map(move |s| {
            self.zerocopy
                .iter()
                .flat_map(move |z| addrs.iter().map(move |a| (s, z, a)))
        })
    }

    fn addrs_for(&self, transport: Transport) -> Vec<Option<Endpoint>> {
        if transport.family() == AddressFamily::None {
            return vec![None];
        }
        let fitting: Vec<Option<Endpoint>> = self
            .addrs
            .iter()
            .filter(|a| a.fits(transport))
            .cloned()
            .map(Some)
            .collect();
        if fitting.is_empty() {
            vec![None]
        } else {
            fitting
        }
    }

    /// Every option given must apply to at least one transport of the matrix (it is ignored by
    /// the others): a setting that applies to none would be dropped without a word.
    fn check_options(&self) -> Result<(), ConfigError> {
        let t = &self.template;
        let any = |f: fn(Transport) -> bool| self.transports.iter().any(|&t| f(t));
        let tcp = |t: Transport| matches!(t, Transport::Tcp4 | Transport::Tcp6);
        let ip = |t: Transport| matches!(t.family(), AddressFamily::V4 | AddressFamily::V6);
        let socket = |t: Transport| !matches!(t, Transport::Pipe | Transport::Shm);
        let refuse = |flag: &str, takes: &str| {
            Err(ConfigError::Invalid(format!(
                "{flag} applies to {takes}, none of the transports asked for ({})",
                self.transports
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        };
        if !t.socket.nodelay && !any(tcp) {
            return refuse("--nagle", "tcp4 and tcp6");
        }
        if t.socket.notsent_lowat.is_some() && !any(tcp) {
            return refuse("--notsent-lowat", "tcp4 and tcp6");
        }
        if t.socket.rcvbuf.is_some() && !any(socket) {
            return refuse(
                "--rcvbuf",
                "sockets (pipe and shm have one size each way: --sndbuf)",
            );
        }
        if t.port != 0 && !any(ip) {
            return refuse("--port", "tcp4, tcp6, udp4 and udp6");
        }
        Ok(())
    }

    /// Every address given must serve at least one transport of the matrix.
    fn check_addresses(&self) -> Result<(), ConfigError> {
        let first_with_family = self
            .transports
            .iter()
            .copied()
            .find(|t| t.family() != AddressFamily::None);
        for a in &self.addrs {
            if !self.transports.iter().any(|&t| a.fits(t)) {
                let t = first_with_family.unwrap_or(self.transports[0]);
                return a.check_family(t);
            }
        }
        if let Some(ip) = self.client_addr {
            let c = Endpoint::Ip(ip);
            if !self.transports.iter().any(|&t| c.fits(t)) {
                return Err(ConfigError::Invalid(format!(
                    "--client-addr {ip} fits none of the transports asked for ({}); it applies to IP transports of its family",
                    self.transports
                        .iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::EngineKind;

    fn matrix() -> Matrix {
        let mut m = Matrix::from_template(Spec::new(Transport::Tcp4));
        m.transports = vec![Transport::Tcp4, Transport::Udp4, Transport::UnixStream];
        m.sizes = vec![64, 1024];
        m.response_size = None;
        m
    }

    #[test]
    fn lists_expand_to_every_combination_with_unique_ids() {
        let mut m = matrix();
        m.engines = vec![EngineKind::Blocking.into(), EngineKind::Spin.into()];
        let specs = m.expand().unwrap();
        assert_eq!(specs.len(), 3 * 2 * 2);
        let mut ids: Vec<String> = specs.iter().map(|s| s.case_id().0).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 12);
        assert!(specs.iter().all(|s| s.response_size == s.size));
    }

    #[test]
    fn addresses_go_to_the_transports_of_their_family() {
        let mut m = matrix();
        m.addrs = vec![
            Endpoint::Ip("127.0.0.2".parse().unwrap()),
            Endpoint::Ip("127.0.0.3".parse().unwrap()),
        ];
        let specs = m.expand().unwrap();
        let tcp: Vec<_> = specs
            .iter()
            .filter(|s| s.transport == Transport::Tcp4)
            .collect();
        assert_eq!(tcp.len(), 4, "two addresses x two sizes");
        let unix: Vec<_> = specs
            .iter()
            .filter(|s| s.transport == Transport::UnixStream)
            .collect();
        assert!(unix.iter().all(|s| s.addr.is_none()));
    }

    #[test]
    fn an_address_that_fits_nothing_is_refused() {
        let mut m = matrix();
        m.addrs = vec![Endpoint::Ip("::1".parse().unwrap())];
        let err = m.expand().unwrap_err().to_string();
        assert!(err.contains("::1"), "{err}");
        let mut m = matrix();
        m.client_addr = Some("::1".parse().unwrap());
        assert!(m.expand().is_err());
    }

    #[test]
    fn an_option_no_transport_takes_is_refused_not_dropped() {
        let only = |t: Transport, change: fn(&mut Spec)| {
            let mut m = Matrix::from_template(Spec::new(t));
            change(&mut m.template);
            m.expand().map(|_| ()).map_err(|e| e.to_string())
        };
        let nagle = only(Transport::Udp4, |s| s.socket.nodelay = false).unwrap_err();
        assert!(
            nagle.contains("--nagle applies to tcp4 and tcp6"),
            "{nagle}"
        );
        assert!(only(Transport::Pipe, |s| s.socket.notsent_lowat = Some(1)).is_err());
        assert!(only(Transport::Shm, |s| s.socket.rcvbuf = Some(4096)).is_err());
        assert!(only(Transport::UnixStream, |s| s.port = 9000).is_err());
        only(Transport::Tcp6, |s| s.socket.nodelay = false).unwrap();
        let mut mixed = matrix();
        mixed.template.socket.nodelay = false;
        mixed.expand().unwrap();
    }
}
