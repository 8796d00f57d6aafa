//! The text report, in kube-bench's shape: `[PASS] 1.1.1 ...` lines per section, then
//! `== Remediations <target> ==`, `== Summary <target> ==`, and `== Summary total ==`.
//! kubecis adds one indented `reason:` line under a check whose evidence was missing.

use std::io::{self, Write};

use colored::Colorize;

use super::model::{CheckResult, ControlsResult, Report, Status, Totals};

/// Which parts to print (kube-bench's `--noresults`, `--noremediations`, ...).
#[derive(Debug, Clone, Copy)]
pub struct TextOptions {
    pub results: bool,
    pub remediations: bool,
    pub summary: bool,
    pub totals: bool,
    /// `--include-test-output`: the observed value under each FAIL and WARN.
    pub test_output: bool,
    pub color: bool,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            results: true,
            remediations: true,
            summary: true,
            totals: true,
            test_output: false,
            color: false,
        }
    }
}

fn tag(status: Status, color: bool) -> String {
    let t = format!("[{status}]");
    if !color {
        return t;
    }
    match status {
        Status::Pass => t.green().to_string(),
        Status::Fail => t.red().to_string(),
        Status::Warn => t.yellow().to_string(),
        Status::Info => t.blue().to_string(),
    }
}

pub fn write(report: &Report, opts: &TextOptions, w: &mut dyn Write) -> io::Result<()> {
    for controls in &report.controls {
        write_controls(controls, opts, w)?;
    }
    if opts.totals && report.controls.len() > 1 {
        writeln!(w, "== Summary total ==")?;
        write_totals(&report.totals, w)?;
    }
    Ok(())
}

fn write_controls(c: &ControlsResult, opts: &TextOptions, w: &mut dyn Write) -> io::Result<()> {
    if opts.results {
        writeln!(w, "{} {} {}", tag(Status::Info, opts.color), c.id, c.text)?;
        for g in &c.tests {
            writeln!(w, "{} {} {}", tag(Status::Info, opts.color), g.id, g.text)?;
            for r in &g.results {
                writeln!(w, "{} {} {}", tag(r.status, opts.color), r.id, r.text)?;
                let automated = r.check_type.is_empty();
                if r.status != Status::Pass && automated && !r.reason.is_empty() {
                    writeln!(w, "       reason: {}", r.reason)?;
                }
                if opts.test_output
                    && matches!(r.status, Status::Fail | Status::Warn)
                    && automated
                    && !r.actual_value.is_empty()
                    && r.actual_value != r.reason
                {
                    writeln!(w, "       ** actual: {}", r.actual_value)?;
                    for f in r.findings.iter().filter(|f| **f != r.actual_value) {
                        writeln!(w, "       ** {f}")?;
                    }
                }
            }
        }
        writeln!(w)?;
    }
    if opts.remediations {
        writeln!(w, "== Remediations {} ==", c.node_type)?;
        for r in c.tests.iter().flat_map(|g| &g.results) {
            if matches!(r.status, Status::Fail | Status::Warn) && !r.remediation.is_empty() {
                writeln!(w, "{} {}", r.id, r.remediation.trim_end())?;
                write_findings(r, w)?;
                writeln!(w)?;
            }
        }
        writeln!(w)?;
    }
    if opts.summary {
        writeln!(w, "== Summary {} ==", c.node_type)?;
        write_totals(&c.totals, w)?;
        for note in &c.notes {
            writeln!(w, "note: {note}")?;
        }
        writeln!(w)?;
    }
    Ok(())
}

/// The offending files, subjects or objects behind a FAIL, so a log names what to fix.
fn write_findings(r: &CheckResult, w: &mut dyn Write) -> io::Result<()> {
    const SHOWN: usize = 20;
    if r.status != Status::Fail || r.findings.is_empty() {
        return Ok(());
    }
    writeln!(w, "Found:")?;
    for f in r.findings.iter().take(SHOWN) {
        writeln!(w, "  - {f}")?;
    }
    if r.findings.len() > SHOWN {
        writeln!(
            w,
            "  ... and {} more (see --json)",
            r.findings.len() - SHOWN
        )?;
    }
    Ok(())
}

fn write_totals(t: &Totals, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "{} checks PASS", t.pass)?;
    writeln!(w, "{} checks FAIL", t.fail)?;
    writeln!(w, "{} checks WARN", t.warn)?;
    writeln!(w, "{} checks INFO", t.info)?;
    Ok(())
}
