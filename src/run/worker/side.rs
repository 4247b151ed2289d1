//! Which side of a pair a worker is on (a leaf: the outcome and the probes both name it).

/// Which side a worker thread is on.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Sends requests, records latency.
    Client,
    /// Answers.
    Server,
}

impl Side {
    /// `client` or `server`.
    pub fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}
