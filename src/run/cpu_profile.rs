//! `--profile` into records: each iteration's samples, attributed per side, are merged over the
//! case into a [`CpuProfileRecord`]: shares of CPU time per category and side, CPU ns per byte
//! for bulk transfers, the leaves that stayed "other", and the category table itself.

use crate::run::worker::probes::{PROFILE_HZ, ProfileOutcome};
use crate::store::kernel::{CategoryRule, CpuProfileRecord, SideProfile};
use crate::trace::categories::{Attribution, Category, Table};

/// How many of the heaviest "other" leaves a record names.
const OTHER_SYMBOLS: usize = 12;

/// A profiled case's samples, merged over its iterations.
#[derive(Clone, Debug, Default)]
pub struct CaseProfile {
    merged: ProfileOutcome,
}

impl CaseProfile {
    /// Adds an iteration's samples.
    pub fn add(&mut self, out: &ProfileOutcome) {
        let m = &mut self.merged;
        m.client.merge(&out.client);
        m.server.merge(&out.server);
        m.shared_idle.merge(&out.shared_idle);
        m.other_tasks_ns += out.other_tasks_ns;
        m.stats.samples += out.stats.samples;
        m.stats.lost += out.stats.lost;
        m.stats.undecoded += out.stats.undecoded;
    }

    /// The case's record; `bytes` is the payload the case moved (for CPU ns per byte), when it
    /// is a bulk transfer.
    pub fn record(&self, table: &Table, bytes: Option<u64>) -> CpuProfileRecord {
        let m = &self.merged;
        let mut all = Attribution::default();
        for a in [&m.client, &m.server, &m.shared_idle] {
            all.merge(a);
        }
        let mut sides = vec![
            side("client", &m.client, bytes),
            side("server", &m.server, bytes),
        ];
        if m.shared_idle.samples.iter().sum::<u64>() > 0 {
            sides.push(side("shared_idle", &m.shared_idle, bytes));
        }
        sides.push(side("all", &all, bytes));
        CpuProfileRecord {
            event: "cpu-clock".into(),
            frequency_hz: PROFILE_HZ,
            samples: m.stats.samples,
            lost: m.stats.lost,
            other_tasks_ns: m.other_tasks_ns,
            sides,
            other_symbols: all
                .top_other(OTHER_SYMBOLS)
                .into_iter()
                .map(|(s, ns)| (s.to_string(), ns))
                .collect(),
            skid_leaves: table.skid_patterns().to_vec(),
            categories: rules(table),
        }
    }
}

/// The category table as data.
pub fn rules(table: &Table) -> Vec<CategoryRule> {
    Category::ALL
        .into_iter()
        .map(|c| CategoryRule {
            category: c.name().into(),
            description: c.description().into(),
            patterns: table.patterns(c).into_iter().map(String::from).collect(),
        })
        .collect()
}

/// One side's shares (and CPU ns per byte, given the bytes moved).
fn side(name: &str, a: &Attribution, bytes: Option<u64>) -> SideProfile {
    let names = Category::ALL.map(|c| c.name().to_string());
    let shares = a.shares();
    let per_byte = match bytes {
        Some(b) if b > 0 => names
            .iter()
            .zip(a.weight)
            .map(|(n, w)| (n.clone(), w as f64 / b as f64))
            .collect(),
        _ => Vec::new(),
    };
    SideProfile {
        side: name.into(),
        samples: a.samples.iter().sum(),
        cpu_ns: a.weight.iter().sum(),
        shares: names.iter().cloned().zip(shares).collect(),
        ns_per_byte: per_byte,
        by_caller: a.by_caller,
        skid: a.skid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::categories::Frame;

    #[test]
    fn sides_merge_over_iterations_and_shares_and_bytes_follow_the_weights() {
        let table = Table::builtin();
        let mut one = ProfileOutcome::default();
        one.client
            .add(&table, [Frame::Kernel(Some("_copy_to_iter"))], 300);
        one.client.add(&table, [Frame::User], 100);
        one.server
            .add(&table, [Frame::Kernel(Some("tcp_v4_rcv"))], 400);
        one.stats.samples = 3;
        let mut case = CaseProfile::default();
        case.add(&one);
        case.add(&one);
        let rec = case.record(&table, Some(800));
        assert_eq!(rec.samples, 6);
        let client = rec.side("client").unwrap();
        assert_eq!((client.samples, client.cpu_ns), (4, 800));
        assert_eq!(client.share("data_copy"), 0.75);
        let all = rec.side("all").unwrap();
        assert_eq!(all.share("protocol"), 0.5);
        let copy_per_byte = all.ns_per_byte.iter().find(|(c, _)| c == "data_copy");
        assert_eq!(copy_per_byte.map(|(_, v)| *v), Some(0.75));
        assert!(rec.side("shared_idle").is_none());
        let data_copy = &rec.categories[0];
        assert_eq!(data_copy.category, "data_copy");
        assert!(data_copy.patterns.iter().any(|p| p == "_copy_to_iter*"));
        assert!(
            rec.skid_leaves
                .iter()
                .any(|p| p == "_raw_spin_unlock_irqrestore")
        );
    }
}
