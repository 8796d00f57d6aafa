//! The JSON report: kube-bench's shape (`Controls`, `Totals`), described in `docs/json.md` and
//! `docs/report.schema.json`.

use std::io::{self, Write};

use super::model::Report;

pub fn write(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer(&mut *w, report)?;
    writeln!(w)
}
