//! `latency.hlog`: an HdrHistogram interval log (V2 compressed histograms), one interval per
//! measured iteration, tagged `iteration-N`. Readable by HdrHistogram's tools and by the
//! `hdrhistogram` crate's `IntervalLogIterator`.

use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, anyhow};
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{
    IntervalLogIterator, IntervalLogWriterBuilder, LogEntry, Tag,
};

use crate::metrics::histogram::LatencyHistogram;

/// One interval: an iteration's histogram and when it ran.
pub struct Interval<'a> {
    /// Start, relative to the run's start.
    pub start_offset: Duration,
    /// Length.
    pub duration: Duration,
    /// The iteration's histogram.
    pub histogram: &'a LatencyHistogram,
}

/// Writes an interval log. `start` is the run's start time (the log's StartTime and BaseTime).
pub fn render(start: SystemTime, intervals: &[Interval<'_>]) -> Result<Vec<u8>> {
    render_from(start, 0, intervals)
}

/// What appending iteration `index` (0-based) to a log of `start` adds: the header too when it
/// is the first, else its interval line alone.
pub fn render_appended(start: SystemTime, index: usize, interval: Interval<'_>) -> Result<Vec<u8>> {
    let whole = render_from(start, index, std::slice::from_ref(&interval))?;
    if index == 0 {
        return Ok(whole);
    }
    let header = render_from(start, 0, &[])?;
    whole
        .strip_prefix(header.as_slice())
        .map(<[u8]>::to_vec)
        .ok_or_else(|| anyhow!("an interval log's header changed between two renderings"))
}

/// [`render`], tagging the intervals from `iteration-{first}` on.
fn render_from(start: SystemTime, first: usize, intervals: &[Interval<'_>]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    let mut writer = IntervalLogWriterBuilder::new()
        .add_comment(
            "loopbench latency log: one interval per measured iteration; values in nanoseconds",
        )
        .with_start_time(start)
        .with_base_time(start)
        .with_max_value_divisor(1000.0)
        .begin_log_with(&mut out, &mut serializer)
        .context("starting the interval log")?;
    for (i, iv) in (first..).zip(intervals) {
        let tag = format!("iteration-{i}");
        writer
            .write_histogram(iv.histogram, iv.start_offset, iv.duration, Tag::new(&tag))
            .map_err(|e| anyhow!("writing interval {i} of the interval log: {e:?}"))?;
    }
    drop(writer);
    Ok(out)
}

/// Reads every histogram back from an interval log, in order.
pub fn read(bytes: &[u8]) -> Result<Vec<LatencyHistogram>> {
    let mut deserializer = Deserializer::new();
    let mut out = Vec::new();
    for entry in IntervalLogIterator::new(bytes) {
        let entry = entry.map_err(|e| anyhow!("malformed interval log: {e:?}"))?;
        if let LogEntry::Interval(iv) = entry {
            let raw = base64_decode(iv.encoded_histogram())?;
            let h: LatencyHistogram = deserializer
                .deserialize(&mut raw.as_slice())
                .map_err(|e| anyhow!("undecodable histogram in interval log: {e:?}"))?;
            out.push(h);
        }
    }
    Ok(out)
}

fn base64_decode(text: &str) -> Result<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| anyhow!("invalid base64 in interval log: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::histogram::{new_histogram, record};

    #[test]
    fn intervals_round_trip_through_the_log() {
        let mut a = new_histogram();
        let mut b = new_histogram();
        for v in 1..1000u64 {
            record(&mut a, v * 1000);
            record(&mut b, v * 7);
        }
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let bytes = render(
            start,
            &[
                Interval {
                    start_offset: Duration::from_secs(1),
                    duration: Duration::from_secs(1),
                    histogram: &a,
                },
                Interval {
                    start_offset: Duration::from_secs(3),
                    duration: Duration::from_secs(1),
                    histogram: &b,
                },
            ],
        )
        .unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("Tag=iteration-1"), "{text}");
        let back = read(&bytes).unwrap();
        assert_eq!(back, vec![a.clone(), b.clone()]);
        // Appended one interval at a time, the log is the same.
        let mut appended = Vec::new();
        for (i, (h, at)) in [(&a, 1), (&b, 3)].into_iter().enumerate() {
            let interval = Interval {
                start_offset: Duration::from_secs(at),
                duration: Duration::from_secs(1),
                histogram: h,
            };
            appended.extend(render_appended(start, i, interval).unwrap());
        }
        assert_eq!(appended, bytes);
    }
}
