//! The SARIF 2.1.0 report, for code-scanning dashboards: one rule per check, one result per
//! FAIL (level `error`) or WARN (level `warning`) naming the observed value, the reason and the
//! findings. PASS and INFO are not results, as SARIF reports problems only.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::model::{CheckResult, Report, Status};

pub fn write(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &sarif(report))?;
    writeln!(w)
}

/// The SARIF log of a report.
pub fn sarif(report: &Report) -> Value {
    // SARIF wants each rule once; results point at their rule by index.
    let mut rules: Vec<Value> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut results = Vec::new();
    for c in &report.controls {
        for g in &c.tests {
            for r in &g.results {
                let rule = *index.entry(r.id.as_str()).or_insert_with(|| {
                    rules.push(json!({
                        "id": r.id,
                        "shortDescription": {"text": r.text},
                        "help": {"text": r.remediation},
                        "properties": {"target": c.node_type, "section": g.id, "scored": r.scored},
                    }));
                    rules.len() - 1
                });
                if let Some(level) = level(r.status) {
                    results.push(result(r, level, rule, &c.node_type));
                }
            }
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "kubecis",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

fn level(status: Status) -> Option<&'static str> {
    match status {
        Status::Fail => Some("error"),
        Status::Warn => Some("warning"),
        Status::Pass | Status::Info => None,
    }
}

fn result(r: &CheckResult, level: &str, rule_index: usize, target: &str) -> Value {
    let mut text = format!("[{}] {} {}", r.status, r.id, r.text);
    if !r.reason.is_empty() {
        text.push_str(&format!("\nReason: {}", r.reason));
    }
    if !r.actual_value.is_empty() && r.actual_value != r.reason {
        text.push_str(&format!("\nObserved: {}", r.actual_value));
    }
    if !r.expected_result.is_empty() {
        text.push_str(&format!("\nExpected: {}", r.expected_result));
    }
    // A file a check judged is where the problem is; node-wide checks have no location.
    let locations: Vec<Value> = r
        .findings
        .iter()
        .filter_map(|f| f.split_whitespace().next())
        .filter(|p| p.starts_with('/'))
        .map(|p| json!({"physicalLocation": {"artifactLocation": {"uri": format!("file://{p}")}}}))
        .collect();
    json!({
        "ruleId": r.id,
        "ruleIndex": rule_index,
        "level": level,
        "message": {"text": text},
        "locations": locations,
        "properties": {"target": target, "findings": r.findings, "source": r.source},
    })
}
