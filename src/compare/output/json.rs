//! The whole [`Comparison`] as pretty JSON (`schema_version` 2, docs/schema/comparison.schema.json): ratios with their intervals,
//! raw and Holm-adjusted p-values, verdicts with reasons, environment differences.

use crate::compare::Comparison;

/// Renders the comparison as JSON, with a final newline.
pub fn render(c: &Comparison) -> String {
    serde_json::to_string_pretty(c).expect("a comparison always serializes") + "\n"
}
