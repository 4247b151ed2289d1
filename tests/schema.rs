//! The JSON Schemas under docs/schema/ are the code's: each is derived from the type that writes
//! the output (`loopbench::schema::all`). A field changed in the code without the committed
//! schema following fails here, with the command that rewrites the files.

use std::path::{Path, PathBuf};

const UPDATE: &str = "UPDATE_SCHEMAS";

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema")
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap() + "\n"
}

#[test]
fn committed_schemas_match_the_code() {
    let dir = schema_dir();
    let update = std::env::var_os(UPDATE).is_some_and(|v| v == "1");
    let docs = loopbench::schema::all();
    let mut stale = Vec::new();
    for doc in &docs {
        let path = dir.join(format!("{}.schema.json", doc.name));
        let want = pretty(&doc.schema);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &want).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(&want) {
            stale.push(path.display().to_string());
        }
    }
    let known: Vec<String> = docs
        .iter()
        .map(|d| format!("{}.schema.json", d.name))
        .collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".schema.json") && !known.contains(&name) {
            if update {
                std::fs::remove_file(dir.join(&name)).unwrap();
            } else {
                stale.push(format!("{} (no output has this schema any more)", name));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "the JSON Schemas in docs/schema/ differ from the code: {}.\n\
         If the change to the output is intended, run `{UPDATE}=1 cargo test --test schema`, \
         review `git diff docs/schema/`, bump the output's schema_version when a reader of the \
         old layout would misread the new one, and commit the files.",
        stale.join(", ")
    );
}

#[test]
fn every_schema_names_its_version_field() {
    for doc in loopbench::schema::all() {
        let props = &doc.schema["properties"];
        assert!(
            props.get("schema_version").is_some(),
            "{}: every JSON output carries schema_version",
            doc.name
        );
        let required = doc.schema["required"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            required.iter().any(|r| r == "schema_version")
                || props["schema_version"].get("default").is_some(),
            "{}: schema_version is required (or, for files older than the field, defaulted)",
            doc.name
        );
    }
}
