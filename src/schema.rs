//! JSON Schemas of every JSON document loopbench writes or prints, derived from the types that
//! write them (schemars). `docs/schema/` holds them as committed files; `tests/schema.rs` fails
//! when the code and those files differ (`UPDATE_SCHEMAS=1 cargo test --test schema` rewrites
//! them) and validates real outputs against them.

use schemars::{JsonSchema, generate::SchemaSettings};

/// One schema document: its file name under docs/schema/ (without `.schema.json`), what it
/// describes, and the schema.
pub struct SchemaDoc {
    /// `run`, `comparison`, ...: the file is `docs/schema/<name>.schema.json`.
    pub name: &'static str,
    /// Which output it describes.
    pub describes: &'static str,
    /// The JSON Schema (draft 2020-12).
    pub schema: serde_json::Value,
}

fn doc<T: JsonSchema>(name: &'static str, describes: &'static str) -> SchemaDoc {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "$id".into(),
            format!("https://github.com/loopbench/loopbench/docs/schema/{name}.schema.json").into(),
        );
    }
    SchemaDoc {
        name,
        describes,
        schema,
    }
}

/// Every schema, in a fixed order.
pub fn all() -> Vec<SchemaDoc> {
    #[allow(unused_mut)] // without the history feature nothing is added
    let mut docs = vec![
        doc::<crate::store::record::RunRecord>(
            "run",
            "run.json, and `loopbench run --format json`",
        ),
        doc::<crate::compare::Comparison>(
            "comparison",
            "`loopbench compare --format json`, comparison.json of an ab session, --export-json of compare and ab",
        ),
        doc::<crate::compare::ab::AbSession>("ab", "ab.json of an ab session"),
        doc::<crate::study::record::StudyRecord>("study", "study.json of a study"),
        doc::<crate::study::record::VariantRunRecord>(
            "variant",
            "variant.json next to each run of a study",
        ),
        doc::<crate::store::find::RunList>("list", "`loopbench list --json`"),
        doc::<crate::doctor::DoctorReport>("doctor", "`loopbench doctor --json`"),
        doc::<crate::loopback::iface::LoopbackReport>("iface", "`loopbench iface --json`"),
        doc::<crate::store::baseline::BaselineInfo>(
            "baseline",
            "baseline.json in each saved baseline",
        ),
        doc::<crate::store::baseline::BaselineList>(
            "baseline-list",
            "`loopbench baseline list --json`",
        ),
        doc::<crate::loopback::alias::AliasList>("alias-list", "`loopbench alias list --json`"),
    ];
    #[cfg(feature = "history")]
    docs.extend([
        doc::<crate::history::check::CheckReport>(
            "history-check",
            "`loopbench history check --format json`",
        ),
        doc::<crate::history::db::RunList>("history-list", "`loopbench history list --json`"),
        doc::<crate::history::show::ShowReport>("history-show", "`loopbench history show --json`"),
    ]);
    docs
}
