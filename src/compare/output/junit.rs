//! JUnit XML (`--junit FILE`): one test case per gated metric, so CI systems other than GitHub
//! (GitLab, Jenkins, Azure) show the gate as tests. A regression is a failure, an inconclusive
//! metric is skipped.

use super::wording::trust_note;
use crate::compare::Comparison;
use crate::compare::gate::Verdict;

/// Escapes text for an XML attribute or element. Written here rather than pulling in an XML
/// crate: the document is flat and these five characters are all XML 1.0 asks to escape; control
/// characters (which XML 1.0 forbids) become spaces.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' => out.push(ch),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The comparison as one JUnit test suite: one test case per metric the gate decides on (an
/// inconclusive one would have been, so it is a skipped test; reported-only metrics are left out).
pub fn render(c: &Comparison) -> String {
    let mut cases = String::new();
    let (mut tests, mut failures, mut skipped) = (0, 0, 0);
    for case in &c.cases {
        let trust = trust_note(case);
        for m in case
            .metrics
            .iter()
            .filter(|m| m.verdict != Verdict::NotGated)
        {
            tests += 1;
            let reason = xml(&format!("{}{trust}", m.reason));
            let body = match m.verdict {
                Verdict::Regression => {
                    failures += 1;
                    format!(
                        "\n      <failure type=\"regression\" message=\"{reason}\">{reason}</failure>\n    "
                    )
                }
                Verdict::Inconclusive => {
                    skipped += 1;
                    format!("\n      <skipped message=\"{reason}\"/>\n    ")
                }
                _ => format!(
                    "\n      <system-out>{}: {reason}</system-out>\n    ",
                    m.verdict.label()
                ),
            };
            cases.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\">{body}</testcase>\n",
                xml(case.new_case.as_str()),
                xml(&m.metric.to_string()),
            ));
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites name=\"loopbench compare\" tests=\"{tests}\" failures=\"{failures}\" skipped=\"{skipped}\">\n  \
         <testsuite name=\"loopbench compare\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n\
         {cases}  </testsuite>\n</testsuites>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_control_characters_are_escaped() {
        assert_eq!(
            xml("a<b & \"c\" 'd'>\u{1}"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt; "
        );
    }
}
