//! `loopbench doctor`: checks the machine before measuring and explains every finding: what it
//! means for loopback measurements and what to do about it.

mod checks;
mod finding;
mod load;

pub use finding::{DoctorReport, Finding, Level, SCHEMA_VERSION};

/// Runs every check (about half a second: the busy-process check samples /proc twice).
pub fn run() -> DoctorReport {
    DoctorReport {
        schema_version: SCHEMA_VERSION,
        findings: checks::all(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_area_is_covered_and_explained() {
        let r = run();
        for area in [
            "loopback up",
            "loopback mtu",
            "loopback offloads",
            "loopback qdisc",
            "cpus",
            "smt",
            "governor",
            "cpuidle",
            "virtualization",
            "busy processes",
            "steal",
            "foreign load",
            "tuning daemons",
            "clock source",
            "timer cost",
            "open files",
            "ephemeral ports",
        ] {
            let f = r.findings.iter().find(|f| f.check == area);
            let f = f.unwrap_or_else(|| panic!("no finding for {area}: {:?}", r.findings));
            assert!(!f.meaning.is_empty() && !f.value.is_empty(), "{f:?}");
            if f.level >= Level::Warn {
                assert!(f.action.is_some(), "a warning says what to do: {f:?}");
            }
        }
        let text = r.render();
        assert!(
            text.contains("loopback mtu") && text.contains("checks:"),
            "{text}"
        );
    }
}
