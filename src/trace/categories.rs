//! CPU samples → network-stack categories (Cai et al., SIGCOMM 2021), from a table of function-name
//! patterns kept as data (`categories.txt`), with the samples that stayed "other" named.
//!
//! A sample is attributed by its leaf frame: a user-space leaf is `User` (the harness); a kernel
//! leaf by the first table line matching its name. A kernel leaf that matches nothing (a helper
//! such as `__x86_indirect_thunk_rax`) takes the category of its nearest caller that matches, and
//! such samples are counted apart (`by_caller`). So does a leaf listed as sampling skid (the
//! irq-enabling unlocks where a timer-interrupt sample lands after an interrupts-off region),
//! counted as `skid`. Only a chain with no matching frame is `Other`, and its leaf is recorded.

use std::collections::HashMap;

/// Where CPU time goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Copying payload between user and kernel memory.
    DataCopy,
    /// TCP/IP (and UDP, Unix socket) protocol processing, the socket layer included.
    Protocol,
    /// Netdevice subsystem: NAPI/backlog, qdisc, GRO/GSO, the loopback driver, softirq dispatch.
    Netdevice,
    /// Building, cloning and releasing skbs.
    Skb,
    /// Memory allocation and freeing (slab, pages, memcg and socket memory accounting).
    Memory,
    /// Locking and unlocking (spin locks, socket locks, bottom-half disabling).
    Lock,
    /// Scheduling: wake-ups, context switches, idle, IPIs.
    Scheduling,
    /// Syscall entry and exit, fd lookup, VFS glue.
    Syscall,
    /// User space (the harness itself).
    User,
    /// Everything else (interrupt handling, timers, ...).
    Other,
}

impl Category {
    /// Every category, in report order.
    pub const ALL: [Category; 10] = [
        Self::DataCopy,
        Self::Protocol,
        Self::Netdevice,
        Self::Skb,
        Self::Memory,
        Self::Lock,
        Self::Scheduling,
        Self::Syscall,
        Self::User,
        Self::Other,
    ];

    /// The name used in the table and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::DataCopy => "data_copy",
            Self::Protocol => "protocol",
            Self::Netdevice => "netdevice",
            Self::Skb => "skb",
            Self::Memory => "memory",
            Self::Lock => "lock",
            Self::Scheduling => "scheduling",
            Self::Syscall => "syscall",
            Self::User => "user",
            Self::Other => "other",
        }
    }

    /// What the category holds, in a sentence.
    pub fn description(self) -> &'static str {
        match self {
            Self::DataCopy => "copying payload between user and kernel memory",
            Self::Protocol => {
                "TCP/IP, UDP and Unix socket protocol processing, the socket layer included"
            }
            Self::Netdevice => {
                "netdevice subsystem: NAPI/backlog, qdisc, GRO/GSO, the loopback driver, softirq dispatch"
            }
            Self::Skb => "building, cloning and releasing skbs",
            Self::Memory => {
                "memory allocation and freeing (slab, pages, memcg and socket memory accounting)"
            }
            Self::Lock => "locking and unlocking (spin locks, socket locks, bottom-half disabling)",
            Self::Scheduling => "scheduling: wake-ups, context switches, idle, IPIs",
            Self::Syscall => "syscall entry and exit, fd lookup, VFS glue",
            Self::User => "user space (the harness itself)",
            Self::Other => "everything else (interrupt handling, timers, ...)",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// The built-in table (Cai et al.'s categories for a 6.x kernel).
pub const DEFAULT_TABLE: &str = include_str!("categories.txt");

/// An ordered list of (pattern, category), the first match winning, and the skid leaves.
#[derive(Debug, Clone)]
pub struct Table {
    rules: Vec<(String, Category)>,
    skid: Vec<String>,
}

/// A table line that names an unknown category or has no colon.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "category table line {line}: {text:?} is not `category: pattern ...` with a known category"
)]
pub struct TableError {
    /// 1-based line number.
    pub line: usize,
    /// The line.
    pub text: String,
}

impl Table {
    /// Parses `category: pattern pattern ...` lines (`#` comments, blank lines skipped).
    pub fn parse(text: &str) -> Result<Self, TableError> {
        let (mut rules, mut skid) = (Vec::new(), Vec::new());
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let err = || TableError {
                line: i + 1,
                text: raw.into(),
            };
            let (name, patterns) = line.split_once(':').ok_or_else(err)?;
            let patterns = patterns.split_whitespace().map(str::to_string);
            match name.trim() {
                "skid" => skid.extend(patterns),
                name => {
                    let category = Category::from_name(name).ok_or_else(err)?;
                    rules.extend(patterns.map(|p| (p, category)));
                }
            }
        }
        Ok(Self { rules, skid })
    }

    /// The built-in table.
    pub fn builtin() -> Self {
        Self::parse(DEFAULT_TABLE).expect("the built-in table parses (tested)")
    }

    /// The category of a kernel function, `None` when no pattern matches.
    pub fn classify(&self, symbol: &str) -> Option<Category> {
        let base = base_name(symbol);
        self.rules
            .iter()
            .find(|(p, _)| matches(p, base))
            .map(|(_, c)| *c)
    }

    /// The patterns that select `category`, in table order.
    pub fn patterns(&self, category: Category) -> Vec<&str> {
        self.rules
            .iter()
            .filter(|(_, c)| *c == category)
            .map(|(p, _)| p.as_str())
            .collect()
    }

    /// The leaf patterns treated as sampling skid.
    pub fn skid_patterns(&self) -> &[String] {
        &self.skid
    }

    /// Whether a leaf in this function is sampling skid (attributed to its caller instead).
    pub fn is_skid(&self, symbol: &str) -> bool {
        let base = base_name(symbol);
        self.skid.iter().any(|p| matches(p, base))
    }
}

/// The function name without compiler suffixes (`.isra.0`, `.constprop.0`, `.cold`).
fn base_name(symbol: &str) -> &str {
    symbol.split('.').next().unwrap_or(symbol)
}

/// Glob with `*` only at the start and/or end.
fn matches(pattern: &str, name: &str) -> bool {
    match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
        (Some(rest), _) if rest.ends_with('*') => name.contains(&rest[..rest.len() - 1]),
        (Some(suffix), _) => name.ends_with(suffix),
        (None, Some(prefix)) => name.starts_with(prefix),
        (None, None) => name == pattern,
    }
}

/// One frame of a call chain, leaf first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A kernel frame and its symbol (`None` when kallsyms had none).
    Kernel(Option<&'a str>),
    /// A user-space frame.
    User,
}

/// Time per category for one side (a CPU or a thread), and what stayed unexplained.
#[derive(Debug, Clone, Default)]
pub struct Attribution {
    /// Weight (ns of CPU time for cpu-clock) per category, in [`Category::ALL`] order.
    pub weight: [u64; 10],
    /// Samples per category.
    pub samples: [u64; 10],
    /// Samples whose leaf matched nothing and took a caller's category.
    pub by_caller: u64,
    /// Samples whose leaf was sampling skid and took a caller's category.
    pub skid: u64,
    /// Leaf symbols of the samples that stayed `Other`, with their weight.
    pub other_symbols: HashMap<String, u64>,
}

impl Attribution {
    /// Attributes one sample (frames leaf first) of `weight`; returns its category.
    pub fn add<'a>(
        &mut self,
        table: &Table,
        frames: impl IntoIterator<Item = Frame<'a>>,
        weight: u64,
    ) -> Category {
        let mut frames = frames.into_iter();
        let leaf = match frames.next() {
            Some(Frame::Kernel(symbol)) => symbol,
            Some(Frame::User) => return self.count(Category::User, weight, None),
            None => return self.count(Category::Other, weight, None),
        };
        let skid = leaf.is_some_and(|s| table.is_skid(s));
        if let Some(category) = leaf.filter(|_| !skid).and_then(|s| table.classify(s)) {
            return self.count(category, weight, leaf);
        }
        let caller = frames.find_map(|f| match f {
            Frame::Kernel(Some(s)) if !table.is_skid(s) => table.classify(s),
            _ => None,
        });
        match caller {
            Some(category) => {
                if skid {
                    self.skid += 1;
                } else {
                    self.by_caller += 1;
                }
                self.count(category, weight, leaf)
            }
            None => self.count(Category::Other, weight, leaf),
        }
    }

    fn count(&mut self, category: Category, weight: u64, leaf: Option<&str>) -> Category {
        let i = category as usize;
        self.weight[i] += weight;
        self.samples[i] += 1;
        if category == Category::Other {
            *self
                .other_symbols
                .entry(leaf.unwrap_or("[unknown]").to_string())
                .or_default() += weight;
        }
        category
    }

    /// Each category's share of the total weight (0..=1), in [`Category::ALL`] order.
    pub fn shares(&self) -> [f64; 10] {
        let total: u64 = self.weight.iter().sum();
        self.weight.map(|w| {
            if total == 0 {
                0.0
            } else {
                w as f64 / total as f64
            }
        })
    }

    /// Adds another attribution into this one.
    pub fn merge(&mut self, other: &Attribution) {
        for i in 0..10 {
            self.weight[i] += other.weight[i];
            self.samples[i] += other.samples[i];
        }
        self.by_caller += other.by_caller;
        self.skid += other.skid;
        for (s, w) in &other.other_symbols {
            *self.other_symbols.entry(s.clone()).or_default() += w;
        }
    }

    /// The `n` heaviest symbols that stayed "other".
    pub fn top_other(&self, n: usize) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self
            .other_symbols
            .iter()
            .map(|(s, w)| (s.as_str(), *w))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v.truncate(n);
        v
    }
}

#[cfg(test)]
#[path = "categories_tests.rs"]
mod tests;
