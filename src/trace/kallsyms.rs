//! Kernel symbol lookup from /proc/kallsyms: a sorted address table and a binary search.
//!
//! Hand-written rather than blazesym: only kernel text addresses are symbolized (a user-space
//! frame is "the harness" whatever its function), the table is ~120k lines of `addr type name`,
//! and blazesym 0.2 needs Rust 1.88 while loopbench declares 1.85, plus gimli/flate2 for DWARF
//! that this use never touches.

use crate::trace::error::TraceError;

/// Kernel text symbols sorted by address; names kept in one string.
#[derive(Debug, Clone, Default)]
pub struct Kallsyms {
    /// (start address, name start, name length) sorted by address.
    entries: Vec<(u64, u32, u32)>,
    names: String,
}

impl Kallsyms {
    /// Reads /proc/kallsyms; fails when it is unreadable or shows only zero addresses.
    pub fn load() -> Result<Self, TraceError> {
        let text =
            std::fs::read_to_string("/proc/kallsyms").map_err(|e| TraceError::NoKallsyms {
                detail: format!("/proc/kallsyms: {e}"),
            })?;
        let table = Self::parse(&text);
        if table.entries.is_empty() {
            let detail =
                "/proc/kallsyms shows no addresses (kptr_restrict hides them from this user)"
                    .into();
            return Err(TraceError::NoKallsyms { detail });
        }
        Ok(table)
    }

    /// Parses kallsyms text (`ffffffff81000000 T _stext [module]`), keeping text symbols.
    pub fn parse(text: &str) -> Self {
        let mut table = Self::default();
        for line in text.lines() {
            let mut words = line.split_whitespace();
            let (Some(addr), Some(kind), Some(name)) = (words.next(), words.next(), words.next())
            else {
                continue;
            };
            let Ok(addr) = u64::from_str_radix(addr, 16) else {
                continue;
            };
            if addr == 0 || !matches!(kind, "t" | "T" | "w" | "W") {
                continue;
            }
            table
                .entries
                .push((addr, table.names.len() as u32, name.len() as u32));
            table.names.push_str(name);
        }
        table.entries.sort_unstable_by_key(|e| e.0);
        table
    }

    /// The symbol containing `addr` (the last one starting at or below it).
    pub fn lookup(&self, addr: u64) -> Option<&str> {
        let i = self
            .entries
            .partition_point(|e| e.0 <= addr)
            .checked_sub(1)?;
        let (_, start, len) = self.entries[i];
        Some(&self.names[start as usize..(start + len) as usize])
    }

    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no symbol was read.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
ffffffff81000100 T tcp_sendmsg
ffffffff81000000 T _stext
ffffffff81000200 t copy_user_generic
ffffffff81000300 D some_data
ffffffffc0000000 t mod_func\t[kvm]
0000000000000000 T hidden
";

    #[test]
    fn finds_the_enclosing_text_symbol() {
        let k = Kallsyms::parse(TEXT);
        assert_eq!(k.len(), 4, "data and zero-address symbols skipped");
        assert_eq!(k.lookup(0xffffffff81000150), Some("tcp_sendmsg"));
        assert_eq!(k.lookup(0xffffffff81000200), Some("copy_user_generic"));
        assert_eq!(k.lookup(0xffffffff81000000), Some("_stext"));
        assert_eq!(k.lookup(0xffffffffc0000010), Some("mod_func"));
        assert_eq!(k.lookup(0xffffffff80ffffff), None, "below the first symbol");
    }
}
