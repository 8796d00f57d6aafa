//! The results of a run: what every reporter reads and nothing else writes.
//!
//! The shapes follow kube-bench's JSON (`Controls` → `tests` → `results`, with per-section and
//! overall totals) so existing consumers keep working; kubecis adds fields, never renames them.

use serde::{Deserialize, Serialize};

/// The verdict of one check, with kube-bench's meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum Status {
    #[serde(rename = "PASS")]
    Pass,
    #[serde(rename = "FAIL")]
    Fail,
    #[serde(rename = "WARN")]
    Warn,
    #[serde(rename = "INFO")]
    Info,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::Info => "INFO",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counts of each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    #[serde(rename = "total_pass")]
    pub pass: usize,
    #[serde(rename = "total_fail")]
    pub fail: usize,
    #[serde(rename = "total_warn")]
    pub warn: usize,
    #[serde(rename = "total_info")]
    pub info: usize,
}

impl Totals {
    pub fn add(&mut self, status: Status) {
        match status {
            Status::Pass => self.pass += 1,
            Status::Fail => self.fail += 1,
            Status::Warn => self.warn += 1,
            Status::Info => self.info += 1,
        }
    }

    pub fn merge(&mut self, other: &Totals) {
        self.pass += other.pass;
        self.fail += other.fail;
        self.warn += other.warn;
        self.info += other.info;
    }

    pub fn total(&self) -> usize {
        self.pass + self.fail + self.warn + self.info
    }
}

/// One check's verdict and the evidence behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    #[serde(rename = "test_number")]
    pub id: String,
    #[serde(rename = "test_desc")]
    pub text: String,
    /// The audit as written in the definition (after variable substitution).
    pub audit: String,
    #[serde(rename = "AuditEnv", default)]
    pub audit_env: String,
    #[serde(rename = "AuditConfig", default)]
    pub audit_config: String,
    #[serde(rename = "type", default)]
    pub check_type: String,
    pub remediation: String,
    #[serde(default)]
    pub test_info: Vec<String>,
    pub status: Status,
    /// What was observed, e.g. `--anonymous-auth=true` or `permissions=644`.
    pub actual_value: String,
    pub scored: bool,
    #[serde(rename = "IsMultiple", default)]
    pub is_multiple: bool,
    /// What the tests expected, e.g. `'--anonymous-auth' is equal to 'false'`.
    pub expected_result: String,
    /// Why the evidence could not be gathered or judged; empty when it was.
    #[serde(default)]
    pub reason: String,
    /// Which source decided: `command line`, `config file /var/lib/kubelet/config.yaml`, ...
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// Individual findings (an offending file, subject or object) behind a FAIL or WARN.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
}

/// A group of checks (a CIS subsection such as 1.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupResult {
    #[serde(rename = "section")]
    pub id: String,
    #[serde(rename = "type", default)]
    pub group_type: String,
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub info: usize,
    #[serde(rename = "desc")]
    pub text: String,
    pub results: Vec<CheckResult>,
}

impl GroupResult {
    pub fn totals(&self) -> Totals {
        Totals {
            pass: self.pass,
            fail: self.fail,
            warn: self.warn,
            info: self.info,
        }
    }
}

/// The results of one controls file (one target).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlsResult {
    pub id: String,
    pub version: String,
    #[serde(default)]
    pub detected_version: String,
    pub text: String,
    pub node_type: String,
    pub tests: Vec<GroupResult>,
    #[serde(flatten)]
    pub totals: Totals,
    /// Why some checks could not run, e.g. "kube-apiserver not running".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    #[serde(rename = "Controls")]
    pub controls: Vec<ControlsResult>,
    #[serde(rename = "Totals")]
    pub totals: Totals,
}

impl Report {
    /// Builds a report, computing every count from the results themselves.
    pub fn new(mut controls: Vec<ControlsResult>) -> Report {
        let mut totals = Totals::default();
        for c in &mut controls {
            let mut ct = Totals::default();
            for g in &mut c.tests {
                let mut gt = Totals::default();
                for r in &g.results {
                    gt.add(r.status);
                }
                g.pass = gt.pass;
                g.fail = gt.fail;
                g.warn = gt.warn;
                g.info = gt.info;
                ct.merge(&gt);
            }
            c.totals = ct;
            totals.merge(&ct);
        }
        Report { controls, totals }
    }

    pub fn results(&self) -> impl Iterator<Item = &CheckResult> {
        self.controls
            .iter()
            .flat_map(|c| c.tests.iter())
            .flat_map(|g| g.results.iter())
    }
}
