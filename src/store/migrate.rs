//! Reading run.json files of older schema versions: each step rewrites the JSON of one version
//! into the next, before it is read into a [`RunRecord`](super::record::RunRecord).
//!
//! - 1 → 2: a spec's grab bag `extras` became named parts: `rate`, `crr`, `interference`,
//!   `layout` and `framing` (the fields keep their names and values).

use serde_json::{Map, Value};

/// Where each field of a version-1 `spec.extras` object went in version 2: (field, part).
const EXTRAS_V1: [(&str, &str); 10] = [
    ("rate_per_sec", "rate"),
    ("max_in_flight", "rate"),
    ("spread", "crr"),
    ("linger0", "crr"),
    ("memory_load_cpu", "interference"),
    ("processes", "layout"),
    ("connect", "layout"),
    ("request", "framing"),
    ("response_delimiter", "framing"),
    ("length_prefix", "framing"),
];

/// Rewrites a run.json of schema `version` into the current layout (no change for the current
/// version). The `schema_version` field keeps the version the file was written with.
pub fn upgrade(run: &mut Value, version: u64) {
    if version < 2 {
        if let Some(cases) = run.get_mut("cases").and_then(Value::as_array_mut) {
            for spec in cases.iter_mut().filter_map(|c| c.get_mut("spec")) {
                spec_v1_to_v2(spec);
            }
        }
    }
}

/// Moves a version-1 spec's `extras` fields into their named parts; a spec without `extras`
/// (older version-1 files, or one already moved) is left as it is.
pub fn spec_v1_to_v2(spec: &mut Value) {
    let Some(spec) = spec.as_object_mut() else {
        return;
    };
    let Some(Value::Object(extras)) = spec.remove("extras") else {
        return;
    };
    for (field, value) in extras {
        let Some((_, part)) = EXTRAS_V1.iter().find(|(f, _)| *f == field) else {
            continue;
        };
        let part = spec
            .entry(*part)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(part) = part.as_object_mut() {
            part.insert(field, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Spec;

    const RUN_V1: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/run-v1.json"
    ));
    const SPECS_V1: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/spec-ids-v1.jsonl"
    ));

    #[test]
    fn every_version_1_spec_keeps_its_case_id() {
        let mut read = 0;
        for line in SPECS_V1.lines() {
            let mut entry: Value = serde_json::from_str(line).unwrap();
            let want = entry["case_id"].as_str().unwrap().to_string();
            let spec_v1 = entry["spec"].take();
            let mut v2 = spec_v1.clone();
            spec_v1_to_v2(&mut v2);
            let spec: Spec =
                serde_json::from_value(v2.clone()).unwrap_or_else(|e| panic!("{want}: {e}\n{v2}"));
            assert_eq!(spec.case_id().as_str(), want);
            // Nothing is lost: written again, every version-1 value is where the table says.
            let again = serde_json::to_value(&spec).unwrap();
            for (key, value) in spec_v1.as_object().unwrap() {
                if key != "extras" {
                    assert_eq!(&again[key], value, "{want}: {key}");
                }
            }
            for (field, value) in spec_v1["extras"].as_object().unwrap() {
                let (_, part) = EXTRAS_V1.iter().find(|(f, _)| f == field).unwrap();
                assert_eq!(&again[part][field], value, "{want}: {field}");
            }
            read += 1;
        }
        assert_eq!(read, 156, "the fixture's specs");
    }

    #[test]
    fn a_version_1_run_reads_into_the_named_parts() {
        let mut run: Value = serde_json::from_str(RUN_V1).unwrap();
        assert_eq!(run["schema_version"], 1);
        upgrade(&mut run, 1);
        let record: crate::store::record::RunRecord = serde_json::from_value(run).unwrap();
        assert_eq!(record.cases.len(), 3);
        for case in &record.cases {
            assert_eq!(case.spec.case_id(), case.case_id);
            assert_eq!(case.spec.interference.memory_load_cpu, Some(1));
        }
        let crr = &record.cases[0].spec;
        assert!(crr.crr.linger0);
        assert_eq!(
            crr.crr.spread.map(|r| r.to_string()).as_deref(),
            Some("127.0.0.2-127.0.0.3")
        );
        let rate = &record.cases[1].spec;
        assert_eq!((rate.rate.rate_per_sec, rate.rate.max_in_flight), (2000, 4));
    }

    #[test]
    fn a_spec_without_extras_is_left_alone() {
        let mut spec = serde_json::json!({"size": 64, "rate": {"rate_per_sec": 5}});
        let before = spec.clone();
        spec_v1_to_v2(&mut spec);
        assert_eq!(spec, before);
    }
}
