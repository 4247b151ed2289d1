//! Which request a service client sends next: the one request of the case, a weighted mix of
//! named requests (`--requests FILE`), or a generator closure; and the kinds' names, whose
//! histograms a case keeps beside the total.

use anyhow::{Result, bail};

use super::handler::request_payload;
use crate::spec::Spec;
use crate::spec::handler::RequestGenerator;

/// The names of a case's request kinds (empty when it sends one kind of request).
pub fn kind_names(spec: &Spec) -> Vec<String> {
    if let Some(g) = &spec.request_generator {
        return g.kinds().to_vec();
    }
    spec.framing.mix.iter().map(|r| r.name.clone()).collect()
}

/// The requests of one client flow, chosen without allocating once the flow runs.
pub struct RequestMix {
    requests: Vec<Vec<u8>>,
    weights: Vec<i64>,
    /// Smooth weighted round robin (nginx's): each turn every kind gains its weight and the
    /// richest pays the total. Deterministic, and it interleaves kinds evenly rather than
    /// sending runs of one kind, without an RNG in the loop.
    credit: Vec<i64>,
    total: i64,
    generator: Option<RequestGenerator>,
    generated: Vec<u8>,
    kind: usize,
}

impl RequestMix {
    /// The requests of `spec`.
    pub fn new(spec: &Spec) -> RequestMix {
        let (requests, weights): (Vec<Vec<u8>>, Vec<i64>) = if spec.framing.mix.is_empty() {
            (vec![request_payload(spec)], vec![1])
        } else {
            spec.framing
                .mix
                .iter()
                .map(|r| (r.bytes.clone(), i64::from(r.weight.max(1))))
                .unzip()
        };
        RequestMix {
            credit: vec![0; weights.len()],
            total: weights.iter().sum(),
            requests,
            weights,
            generator: spec.request_generator.clone(),
            generated: Vec::with_capacity(64 * 1024),
            kind: 0,
        }
    }

    /// Chooses request `seq` and returns its kind.
    pub fn next(&mut self, seq: u64) -> Result<usize> {
        if let Some(g) = &self.generator {
            let kind = g.make(seq, &mut self.generated);
            if kind >= g.kinds().len() {
                bail!(
                    "the request generator '{}' returned kind {kind} for request {seq}, but it names {} kinds ({:?})",
                    g.name(),
                    g.kinds().len(),
                    g.kinds()
                );
            }
            if self.generated.is_empty() {
                bail!(
                    "the request generator '{}' made an empty request {seq}",
                    g.name()
                );
            }
            self.kind = kind;
            return Ok(kind);
        }
        for (c, w) in self.credit.iter_mut().zip(&self.weights) {
            *c += w;
        }
        let credit = &self.credit;
        let best = (0..credit.len()).fold(0, |b, i| if credit[i] > credit[b] { i } else { b });
        self.credit[best] -= self.total;
        self.kind = best;
        Ok(best)
    }

    /// The bytes of the request chosen last.
    pub fn bytes(&self) -> &[u8] {
        if self.generator.is_some() {
            &self.generated
        } else {
            &self.requests[self.kind]
        }
    }

    /// True when the request chosen last is an HTTP HEAD (its response has no body).
    pub fn is_head(&self) -> bool {
        self.bytes().starts_with(b"HEAD ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Transport;
    use crate::spec::framing::NamedRequest;

    #[test]
    fn a_weighted_mix_sends_each_kind_in_proportion_and_interleaved() {
        let mut spec = Spec::new(Transport::Tcp4);
        spec.framing.mix = vec![
            NamedRequest {
                name: "GET".into(),
                weight: 3,
                bytes: b"g".to_vec(),
            },
            NamedRequest {
                name: "SET".into(),
                weight: 1,
                bytes: b"s".to_vec(),
            },
        ];
        let mut mix = RequestMix::new(&spec);
        let kinds: Vec<usize> = (0..8).map(|s| mix.next(s).unwrap()).collect();
        assert_eq!(kinds, [0, 0, 1, 0, 0, 0, 1, 0]);
        assert_eq!(mix.bytes(), b"g");
        assert_eq!(kind_names(&spec), ["GET", "SET"]);
    }

    #[test]
    fn a_generator_makes_each_request_and_names_its_kind() {
        let mut spec = Spec::new(Transport::Tcp4);
        spec.request_generator = Some(RequestGenerator::new("kv", &["GET", "SET"], |seq, out| {
            out.extend_from_slice(format!("req{seq}").as_bytes());
            (seq % 2) as usize
        }));
        let mut mix = RequestMix::new(&spec);
        assert_eq!(mix.next(3).unwrap(), 1);
        assert_eq!(mix.bytes(), b"req3");
        spec.request_generator = Some(RequestGenerator::new("bad", &["A"], |_, out| {
            out.push(1);
            5
        }));
        let err = RequestMix::new(&spec).next(0).unwrap_err().to_string();
        assert!(err.contains("returned kind 5"), "{err}");
    }
}
