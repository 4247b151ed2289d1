//! The one trait every export implements, for any report model (a run's
//! [`Report`](crate::report::Report), a study's report), and writing a model's exports.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::store::write_atomic;

/// One output format of a report model `M`.
pub trait Exporter<M> {
    /// The file it writes in the report's directory.
    fn file_name(&self) -> &'static str;
    /// The file's contents.
    fn render(&self, model: &M) -> Result<String>;
}

/// Renders `model` with every exporter and writes each file into `dir`, atomically. Returns the
/// paths written, in the exporters' order.
pub fn write_all<M>(
    dir: &Path,
    model: &M,
    exporters: &[Box<dyn Exporter<M>>],
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for exporter in exporters {
        let path = dir.join(exporter.file_name());
        write_atomic(&path, exporter.render(model)?.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}
