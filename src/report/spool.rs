//! JSON output streamed through a temporary file: a run's trees (or a verify's stacks)
//! go to disk as they come, so memory stays flat with `--format json`.

use super::*;
use serde_json::json;

/// The `trees` of `--format json` (or verify's `stacks`), written to a temporary file as
/// the run goes and read back one at a time when the document is printed: a run's memory
/// does not grow with the number of trees it reports (100,000 trees are tens of megabytes
/// of JSON).
pub struct TreeSpool {
    path: std::path::PathBuf,
    file: std::io::BufWriter<std::fs::File>,
    /// The document's key for the list.
    key: &'static str,
    /// Items spooled so far.
    items: usize,
}

impl TreeSpool {
    pub fn new() -> anyhow::Result<TreeSpool> {
        TreeSpool::of("trees")
    }

    /// A spool for the list `key` of a document.
    pub fn of(key: &'static str) -> anyhow::Result<TreeSpool> {
        use anyhow::Context;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "heat-converge-{key}-{}-{nanos}.jsonl",
            std::process::id()
        ));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(TreeSpool {
            path,
            file: std::io::BufWriter::new(file),
            key,
            items: 0,
        })
    }

    pub fn push(&mut self, t: &TreeReport) -> std::io::Result<()> {
        self.push_json(&tree_json(t))
    }

    /// Spools `item` as it will be printed (pretty, indented as an item of the list),
    /// so that printing the document copies the file instead of parsing it again.
    pub fn push_json(&mut self, item: &serde_json::Value) -> std::io::Result<()> {
        use std::io::Write;
        let pretty = serde_json::to_string_pretty(item)?;
        self.file
            .write_all(if self.items == 0 { b"\n" } else { b",\n" })?;
        for (j, l) in pretty.lines().enumerate() {
            if j > 0 {
                self.file.write_all(b"\n")?;
            }
            self.file.write_all(b"    ")?;
            self.file.write_all(l.as_bytes())?;
        }
        self.items += 1;
        Ok(())
    }

    /// Prints `document` (pretty) with the spooled items as its list (`trees`), its last
    /// key.
    pub fn print(
        mut self,
        out: &mut dyn std::io::Write,
        mut document: serde_json::Value,
    ) -> anyhow::Result<()> {
        use std::io::Write;
        self.file.flush()?;
        document[self.key] = json!([]);
        let text = serde_json::to_string_pretty(&document)?;
        let marker = format!("\"{}\": []", self.key);
        let at = text
            .rfind(&marker)
            .filter(|&at| text[at + marker.len()..].trim() == "}")
            .ok_or_else(|| {
                anyhow::anyhow!("the JSON document does not end with its {}", self.key)
            })?;
        out.write_all(&text.as_bytes()[..at])?;
        out.write_all(format!("\"{}\": [", self.key).as_bytes())?;
        std::io::copy(&mut std::fs::File::open(&self.path)?, out)?;
        out.write_all(b"\n  ]\n}\n")?;
        Ok(())
    }
}

impl Drop for TreeSpool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
