//! The tracepoints the timeline uses, and decoding their raw payloads into [`EventKind`]s with the
//! field offsets read from each tracepoint's `format` file.

use crate::trace::error::TraceError;
use crate::trace::events::EventKind;
use crate::trace::tracefs::{Field, Tracefs, TracepointFormat};

/// A tracepoint the timeline understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tracepoint {
    /// `raw_syscalls:sys_enter`.
    SysEnter,
    /// `raw_syscalls:sys_exit`.
    SysExit,
    /// `irq:softirq_entry`.
    SoftirqEntry,
    /// `irq:softirq_exit`.
    SoftirqExit,
    /// `sched:sched_waking`.
    SchedWaking,
    /// `sched:sched_switch`.
    SchedSwitch,
    /// `ipi:ipi_send_cpu` (single-target IPIs: wake-up reschedule and call-function-single).
    IpiSendCpu,
    /// `power:cpu_idle`.
    CpuIdle,
}

impl Tracepoint {
    /// Every tracepoint, in the order they are opened.
    pub const ALL: [Tracepoint; 8] = [
        Self::SysEnter,
        Self::SysExit,
        Self::SoftirqEntry,
        Self::SoftirqExit,
        Self::SchedWaking,
        Self::SchedSwitch,
        Self::IpiSendCpu,
        Self::CpuIdle,
    ];

    /// `(system, name)` under tracefs `events/`.
    pub fn path(self) -> (&'static str, &'static str) {
        match self {
            Self::SysEnter => ("raw_syscalls", "sys_enter"),
            Self::SysExit => ("raw_syscalls", "sys_exit"),
            Self::SoftirqEntry => ("irq", "softirq_entry"),
            Self::SoftirqExit => ("irq", "softirq_exit"),
            Self::SchedWaking => ("sched", "sched_waking"),
            Self::SchedSwitch => ("sched", "sched_switch"),
            Self::IpiSendCpu => ("ipi", "ipi_send_cpu"),
            Self::CpuIdle => ("power", "cpu_idle"),
        }
    }

    /// The payload fields this tracepoint's decoding reads.
    fn fields(self) -> &'static [&'static str] {
        match self {
            Self::SysEnter => &["id", "args"],
            Self::SysExit => &["id", "ret"],
            Self::SoftirqEntry | Self::SoftirqExit => &["vec"],
            Self::SchedWaking => &["pid", "target_cpu"],
            Self::SchedSwitch => &["prev_pid", "prev_state", "next_pid"],
            Self::IpiSendCpu => &["cpu"],
            Self::CpuIdle => &["state"],
        }
    }
}

/// An array field (`unsigned long args[6]`) as its first element; other fields as they are.
fn first_element(field: &Field) -> Field {
    let mut f = field.clone();
    if f.name == "args" && f.size > 8 {
        f.size = 8;
    }
    f
}

/// One tracepoint's id and the fields its decoding reads, in [`Tracepoint::fields`] order.
#[derive(Debug, Clone)]
struct Layout {
    id: u64,
    tracepoint: Tracepoint,
    fields: Vec<Field>,
}

/// Turns raw tracepoint payloads into [`EventKind`]s.
#[derive(Debug, Clone)]
pub struct Decoder {
    common_type: Field,
    layouts: Vec<Layout>,
}

impl Decoder {
    /// Reads the formats of `tracepoints` from tracefs.
    pub fn load(tracefs: &Tracefs, tracepoints: &[Tracepoint]) -> Result<Self, TraceError> {
        let formats = tracepoints
            .iter()
            .map(|&tp| {
                let (system, name) = tp.path();
                Ok((tp, tracefs.format(system, name)?))
            })
            .collect::<Result<Vec<_>, TraceError>>()?;
        Self::from_formats(&formats)
    }

    /// Builds the decoder from already parsed formats (tests pass recorded `format` files).
    pub fn from_formats(formats: &[(Tracepoint, TracepointFormat)]) -> Result<Self, TraceError> {
        let common_type = match formats.first() {
            Some((_, f)) => f.field("common_type")?.clone(),
            None => {
                return Err(TraceError::BadFormat {
                    tracepoint: "-".into(),
                    detail: "no tracepoints".into(),
                });
            }
        };
        let layouts = formats
            .iter()
            .map(|(tp, format)| {
                let fields = tp
                    .fields()
                    .iter()
                    .map(|n| format.field(n).map(first_element))
                    .collect::<Result<_, _>>()?;
                Ok(Layout {
                    id: format.id,
                    tracepoint: *tp,
                    fields,
                })
            })
            .collect::<Result<Vec<_>, TraceError>>()?;
        Ok(Self {
            common_type,
            layouts,
        })
    }

    /// The tracepoint id (perf `config`) of each tracepoint, in load order.
    pub fn ids(&self) -> impl Iterator<Item = (Tracepoint, u64)> + '_ {
        self.layouts.iter().map(|l| (l.tracepoint, l.id))
    }

    /// Decodes one raw payload; `None` for a payload of another tracepoint or a short one.
    pub fn decode(&self, raw: &[u8]) -> Option<EventKind> {
        let id = self.common_type.read_i64(raw)? as u64;
        let layout = self.layouts.iter().find(|l| l.id == id)?;
        let f = |i: usize| layout.fields[i].read_i64(raw);
        Some(match layout.tracepoint {
            Tracepoint::SysEnter => EventKind::SysEnter {
                nr: f(0)?,
                fd: f(1)?,
            },
            Tracepoint::SysExit => EventKind::SysExit {
                nr: f(0)?,
                ret: f(1)?,
            },
            Tracepoint::SoftirqEntry => EventKind::SoftirqEntry { vec: f(0)? as u32 },
            Tracepoint::SoftirqExit => EventKind::SoftirqExit { vec: f(0)? as u32 },
            Tracepoint::SchedWaking => EventKind::Waking {
                pid: f(0)? as u32,
                target_cpu: f(1)? as u32,
            },
            Tracepoint::SchedSwitch => EventKind::Switch {
                prev_pid: f(0)? as u32,
                prev_state: f(1)?,
                next_pid: f(2)? as u32,
            },
            Tracepoint::IpiSendCpu => EventKind::IpiSend {
                target_cpu: f(0)? as u32,
            },
            Tracepoint::CpuIdle => EventKind::CpuIdle {
                state: f(0)? as u32,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The formats recorded from this machine's kernel (6.18) in tests/data/trace/formats.
    fn recorded() -> Decoder {
        let file = |tp: Tracepoint| {
            let (system, name) = tp.path();
            let path = format!(
                "{}/tests/data/trace/formats/{name}.format",
                env!("CARGO_MANIFEST_DIR")
            );
            (
                tp,
                TracepointFormat::parse(system, name, &std::fs::read_to_string(path).unwrap())
                    .unwrap(),
            )
        };
        Decoder::from_formats(&Tracepoint::ALL.map(file)).unwrap()
    }

    fn payload(id: u16, len: usize, fields: &[(usize, &[u8])]) -> Vec<u8> {
        let mut raw = vec![0u8; len];
        raw[..2].copy_from_slice(&id.to_ne_bytes());
        for (offset, bytes) in fields {
            raw[*offset..offset + bytes.len()].copy_from_slice(bytes);
        }
        raw
    }

    #[test]
    fn decodes_sched_switch_at_the_recorded_offsets() {
        let raw = payload(
            372,
            64,
            &[
                (24, &7i32.to_ne_bytes()),
                (32, &1i64.to_ne_bytes()),
                (56, &9i32.to_ne_bytes()),
            ],
        );
        assert_eq!(
            recorded().decode(&raw),
            Some(EventKind::Switch {
                prev_pid: 7,
                prev_state: 1,
                next_pid: 9
            })
        );
    }

    #[test]
    fn decodes_sys_exit_negative_return_and_idle_exit() {
        let d = recorded();
        let raw = payload(
            442,
            24,
            &[(8, &45i64.to_ne_bytes()), (16, &(-11i64).to_ne_bytes())],
        );
        assert_eq!(
            d.decode(&raw),
            Some(EventKind::SysExit { nr: 45, ret: -11 })
        );
        let raw = payload(
            568,
            16,
            &[(8, &u32::MAX.to_ne_bytes()), (12, &1u32.to_ne_bytes())],
        );
        assert_eq!(
            d.decode(&raw),
            Some(EventKind::CpuIdle {
                state: crate::trace::events::IDLE_EXIT
            })
        );
    }

    #[test]
    fn decodes_sys_enter_with_its_first_argument() {
        let raw = payload(
            443,
            64,
            &[
                (8, &44i64.to_ne_bytes()),
                (16, &7u64.to_ne_bytes()),
                (24, &99u64.to_ne_bytes()),
            ],
        );
        assert_eq!(
            recorded().decode(&raw),
            Some(EventKind::SysEnter { nr: 44, fd: 7 })
        );
    }

    #[test]
    fn unknown_ids_and_short_payloads_are_not_decoded() {
        let d = recorded();
        assert_eq!(d.decode(&payload(9999, 16, &[])), None);
        assert_eq!(
            d.decode(&payload(372, 30, &[])),
            None,
            "sched_switch cut before next_pid"
        );
    }
}
