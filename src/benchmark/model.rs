//! The check-definition schema as kubecis uses it, after loading: kube-bench's controls files,
//! field for field, plus kubecis's native audits. Everything here is already valid — operators
//! are enums, regexes are compiled, JSONPaths parsed, numbers read ([`super::raw`] holds the
//! shapes as written, [`super::load`] turns one into the other) — so nothing is parsed again
//! while checks run. What makes one check unusable as written (an unknown operator, an invalid
//! regex, a JSONPath that cannot be read, an audit that cannot run) is kept on that check as a
//! [`Problem`]: the check is reported WARN with it, the rest of the benchmark runs.

use std::fmt;

use serde::Deserialize;

use super::jsonpath::JsonPath;

/// One controls file (`master.yaml`, `node.yaml`, ...).
#[derive(Debug, Clone)]
pub struct Controls {
    pub version: String,
    pub id: String,
    pub text: String,
    /// The target this file describes (`master`, `node`, ...).
    pub target: String,
    pub groups: Vec<Group>,
}

/// A group of checks: one CIS subsection.
#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub text: String,
    pub kind: CheckType,
    pub checks: Vec<Check>,
}

/// One recommendation.
#[derive(Debug, Clone)]
pub struct Check {
    pub id: String,
    pub text: String,
    pub kind: CheckType,
    pub audit: Option<Audit>,
    pub audit_config: Option<Audit>,
    pub audit_env: Option<Audit>,
    pub tests: Option<Tests>,
    pub use_multiple_values: bool,
    pub remediation: String,
    pub scored: bool,
    /// Why the definition cannot be used as written; empty when it can. A check with problems
    /// is never judged: it is WARN with them as the reason (`--strict`: a load error).
    pub problems: Vec<Problem>,
}

/// What is wrong with a definition, and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    /// 1-based; 0 when unknown.
    pub line: usize,
    pub column: usize,
    /// The field path, e.g. `groups[0].checks[3].tests.test_items[0].compare.op`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        write!(f, ": {}: {}", self.field, self.message)
    }
}

/// `type` of a check or group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CheckType {
    /// Run the audit and judge it.
    #[default]
    Automated,
    /// Needs a person: WARN, the audit is not run.
    Manual,
    /// Not applicable: INFO, the audit is not run.
    Skip,
}

impl CheckType {
    /// Reads a `type` as written: empty (or `automated`), `manual` or `skip`, as kube-bench
    /// spells them.
    pub fn parse(text: &str) -> Option<CheckType> {
        match text {
            "" | "automated" => Some(CheckType::Automated),
            "manual" => Some(CheckType::Manual),
            "skip" => Some(CheckType::Skip),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CheckType::Automated => "",
            CheckType::Manual => "manual",
            CheckType::Skip => "skip",
        }
    }
}

/// How a check gets its evidence: a shell command (kube-bench's form) or a native audit.
#[derive(Debug, Clone, PartialEq)]
pub enum Audit {
    /// Run with `/bin/sh -c`, as kube-bench does; stdout is the evidence.
    Shell(String),
    Native(NativeAudit),
}

/// Audits kubecis performs itself, without a shell. One variant per kind; the evidence each
/// produces is gathered in `crate::audit`.
#[derive(Debug, Clone, PartialEq)]
pub enum NativeAudit {
    /// The parsed command line (and environment) of a running component.
    Process { component: String },
    /// Mode, owner and group of the files a path, glob or directory walk selects.
    File {
        path: String,
        recursive: bool,
        on_missing: OnMissing,
    },
    /// A YAML or JSON document, for `path` test items.
    Config { path: String },
    /// A section-5 check judged from Kubernetes API objects (`crate::policies`).
    Policy { name: String },
}

/// What a file audit concludes when its path selects nothing. Never PASS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnMissing {
    #[default]
    Warn,
    Fail,
    Info,
}

impl fmt::Display for Audit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Audit::Shell(cmd) => f.write_str(cmd),
            Audit::Native(NativeAudit::Process { component }) => write!(f, "process: {component}"),
            Audit::Native(NativeAudit::File {
                path, recursive, ..
            }) => {
                if *recursive {
                    write!(f, "file (recursive): {path}")
                } else {
                    write!(f, "file: {path}")
                }
            }
            Audit::Native(NativeAudit::Config { path }) => write!(f, "config: {path}"),
            Audit::Native(NativeAudit::Policy { name }) => write!(f, "policy: {name}"),
        }
    }
}

/// The mapping form of a native audit, before it is checked to name exactly one kind.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NativeAuditFields {
    #[serde(default)]
    process: Option<String>,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    recursive: Option<bool>,
    #[serde(default)]
    on_missing: Option<OnMissing>,
    #[serde(default)]
    config: Option<String>,
    #[serde(default)]
    policy: Option<String>,
}

impl NativeAuditFields {
    pub(super) fn validate(self) -> Result<NativeAudit, String> {
        let kinds = [
            self.process.is_some(),
            self.file.is_some(),
            self.config.is_some(),
            self.policy.is_some(),
        ];
        match kinds.iter().filter(|k| **k).count() {
            0 => return Err("a native audit needs one of `process`, `file`, `config`, `policy`".into()),
            1 => {}
            _ => return Err("a native audit names exactly one of `process`, `file`, `config`, `policy`; use `audit_config` for a second source".into()),
        }
        if self.file.is_none() && (self.recursive.is_some() || self.on_missing.is_some()) {
            return Err("`recursive` and `on_missing` belong to a `file` audit".into());
        }
        Ok(if let Some(component) = self.process {
            NativeAudit::Process { component }
        } else if let Some(path) = self.file {
            NativeAudit::File {
                path,
                recursive: self.recursive.unwrap_or(false),
                on_missing: self.on_missing.unwrap_or_default(),
            }
        } else if let Some(path) = self.config {
            NativeAudit::Config { path }
        } else {
            NativeAudit::Policy {
                name: self.policy.unwrap_or_default(),
            }
        })
    }
}

/// The tests of a check.
#[derive(Debug, Clone, Default)]
pub struct Tests {
    pub bin_op: BinOp,
    pub test_items: Vec<TestItem>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BinOp {
    #[default]
    And,
    Or,
}

impl BinOp {
    /// Reads `bin_op` as written: `and` (or empty) or `or`.
    pub fn parse(text: &str) -> Option<BinOp> {
        match text {
            "" | "and" => Some(BinOp::And),
            "or" => Some(BinOp::Or),
            _ => None,
        }
    }
}

/// One condition on the evidence.
#[derive(Debug, Clone)]
pub struct TestItem {
    pub flag: String,
    pub path: Option<JsonPath>,
    pub env: String,
    /// true (the default, as in kube-bench): the value must be present (and match `compare`);
    /// false: it must be absent.
    pub set: bool,
    pub compare: Option<Compare>,
}

/// A compare operator and its value, read once: a number for `gt`..`lte`, an octal mode for
/// `bitmask`, a compiled regex for `regex`, the allowed elements for `valid_elements`.
#[derive(Debug, Clone)]
pub struct Compare {
    pub op: Op,
    /// The value as written, for messages.
    pub value: String,
    pub expected: Expected,
}

/// What a compare value means for its operator.
#[derive(Debug, Clone)]
pub enum Expected {
    Text(String),
    Number(i64),
    /// An octal mode: the permission bits allowed.
    Mode(u32),
    Regex(regex::Regex),
    Elements(Vec<String>),
}

impl Compare {
    /// Reads a compare value for `op` as written; the error says why it cannot be used.
    pub fn new(op: Op, value: &str) -> Result<Compare, String> {
        let expected = match op {
            Op::Eq | Op::Noteq | Op::Has | Op::Nothave => Expected::Text(value.to_string()),
            Op::Gt | Op::Gte | Op::Lt | Op::Lte => {
                Expected::Number(value.trim().parse().map_err(|_| {
                    format!("`{}` needs an integer value, not `{value}`", op.as_str())
                })?)
            }
            Op::Bitmask => Expected::Mode(u32::from_str_radix(value.trim(), 8).map_err(|_| {
                format!("`bitmask` needs an octal mode such as 600, not `{value}`")
            })?),
            Op::Regex => Expected::Regex(
                regex::RegexBuilder::new(value)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| format!("invalid regex `{value}`: {e}"))?,
            ),
            Op::ValidElements => Expected::Elements(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
        };
        Ok(Compare {
            op,
            value: value.to_string(),
            expected,
        })
    }
}

/// Every compare operator. Each is one function in `crate::verdict::compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Noteq,
    Gt,
    Gte,
    Lt,
    Lte,
    Has,
    Nothave,
    Regex,
    ValidElements,
    Bitmask,
}

impl Op {
    pub const ALL: [Op; 11] = [
        Op::Eq,
        Op::Noteq,
        Op::Gt,
        Op::Gte,
        Op::Lt,
        Op::Lte,
        Op::Has,
        Op::Nothave,
        Op::Regex,
        Op::ValidElements,
        Op::Bitmask,
    ];

    /// Reads an operator as kube-bench spells it.
    pub fn parse(text: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Noteq => "noteq",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Has => "has",
            Op::Nothave => "nothave",
            Op::Regex => "regex",
            Op::ValidElements => "valid_elements",
            Op::Bitmask => "bitmask",
        }
    }
}
