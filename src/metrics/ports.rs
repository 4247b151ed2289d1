//! The local ports a `crr` flow's connections used: one bit per port, so counting distinct ports
//! costs nothing per connection.

/// Which local ports a flow's connections used: one bit per port, sized up front.
#[derive(Clone)]
pub struct PortSet(Box<[u64; 1024]>);

impl Default for PortSet {
    fn default() -> Self {
        PortSet(Box::new([0; 1024]))
    }
}

impl std::fmt::Debug for PortSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PortSet({} ports)", self.count())
    }
}

impl PortSet {
    /// Marks `port` used.
    #[inline]
    pub fn insert(&mut self, port: u16) {
        self.0[usize::from(port) / 64] |= 1 << (port % 64);
    }

    /// Adds every port of `other`.
    pub fn merge(&mut self, other: &PortSet) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a |= b;
        }
    }

    /// Distinct ports used.
    pub fn count(&self) -> u64 {
        self.0.iter().map(|w| u64::from(w.count_ones())).sum()
    }
}
