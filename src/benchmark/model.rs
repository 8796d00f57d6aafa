//! The check-definition schema as serde shapes: kube-bench's controls files, field for field,
//! plus kubecis's native audits. Values that must be one of a fixed set (compare operators,
//! `bin_op`, check types, audit kinds) are enums, so a typo is a load error that names its line,
//! never a surprise at run time.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// One controls file (`master.yaml`, `node.yaml`, ...).
#[derive(Debug, Clone, Deserialize)]
pub struct Controls {
    #[serde(default, deserialize_with = "scalar")]
    pub version: String,
    #[serde(default, deserialize_with = "scalar")]
    pub id: String,
    #[serde(default, deserialize_with = "scalar")]
    pub text: String,
    /// The target this file describes (`master`, `node`, ...).
    #[serde(rename = "type", default, deserialize_with = "scalar")]
    pub target: String,
    #[serde(default)]
    pub groups: Vec<Group>,
}

/// A group of checks: one CIS subsection.
#[derive(Debug, Clone, Deserialize)]
pub struct Group {
    #[serde(deserialize_with = "scalar")]
    pub id: String,
    #[serde(default, deserialize_with = "scalar")]
    pub text: String,
    #[serde(rename = "type", default)]
    pub kind: CheckType,
    #[serde(default)]
    pub checks: Vec<Check>,
}

/// One recommendation.
#[derive(Debug, Clone, Deserialize)]
pub struct Check {
    #[serde(deserialize_with = "scalar")]
    pub id: String,
    #[serde(default, deserialize_with = "scalar")]
    pub text: String,
    #[serde(rename = "type", default)]
    pub kind: CheckType,
    #[serde(default)]
    pub audit: Option<Audit>,
    #[serde(default)]
    pub audit_config: Option<Audit>,
    #[serde(default)]
    pub audit_env: Option<Audit>,
    #[serde(default)]
    pub tests: Option<Tests>,
    #[serde(default)]
    pub use_multiple_values: bool,
    #[serde(default, deserialize_with = "scalar")]
    pub remediation: String,
    #[serde(default)]
    pub scored: bool,
}

/// `type` of a check or group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckType {
    /// Run the audit and judge it.
    #[default]
    #[serde(alias = "")]
    Automated,
    /// Needs a person: WARN, the audit is not run.
    Manual,
    /// Not applicable: INFO, the audit is not run.
    Skip,
}

impl CheckType {
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
struct NativeAuditFields {
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
    fn validate<E: de::Error>(self) -> Result<NativeAudit, E> {
        let kinds = [
            self.process.is_some(),
            self.file.is_some(),
            self.config.is_some(),
            self.policy.is_some(),
        ];
        match kinds.iter().filter(|k| **k).count() {
            0 => return Err(E::custom("a native audit needs one of `process`, `file`, `config`, `policy`")),
            1 => {}
            _ => return Err(E::custom("a native audit names exactly one of `process`, `file`, `config`, `policy`; use `audit_config` for a second source")),
        }
        if self.file.is_none() && (self.recursive.is_some() || self.on_missing.is_some()) {
            return Err(E::custom(
                "`recursive` and `on_missing` belong to a `file` audit",
            ));
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

impl<'de> Deserialize<'de> for Audit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AuditVisitor;
        impl<'de> Visitor<'de> for AuditVisitor {
            type Value = Audit;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a shell command string or a native audit mapping")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Audit, E> {
                Ok(Audit::Shell(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Audit, A::Error> {
                let fields =
                    NativeAuditFields::deserialize(de::value::MapAccessDeserializer::new(map))?;
                fields.validate().map(Audit::Native)
            }
        }
        deserializer.deserialize_any(AuditVisitor)
    }
}

/// The tests of a check.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Tests {
    #[serde(default)]
    pub bin_op: BinOp,
    #[serde(default)]
    pub test_items: Vec<TestItem>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BinOp {
    #[default]
    #[serde(alias = "")]
    And,
    Or,
}

/// One condition on the evidence.
#[derive(Debug, Clone, Deserialize)]
pub struct TestItem {
    #[serde(default, deserialize_with = "scalar")]
    pub flag: String,
    #[serde(default, deserialize_with = "scalar")]
    pub path: String,
    #[serde(default, deserialize_with = "scalar")]
    pub env: String,
    /// true (the default, as in kube-bench): the value must be present (and match `compare`);
    /// false: it must be absent.
    #[serde(default = "yes")]
    pub set: bool,
    #[serde(default)]
    pub compare: Option<Compare>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
pub struct Compare {
    pub op: Op,
    #[serde(default, deserialize_with = "scalar")]
    pub value: String,
}

/// Every compare operator. Each is one function in `crate::verdict::compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
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

/// Reads any YAML scalar (string, number, boolean, null) as its text, the way kube-bench's Go
/// structs do: `id: 1.10` stays "1.10" (not the float 1.1), `value: false` is "false".
pub(crate) fn scalar<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let text = String::deserialize(deserializer)?;
    Ok(if text == "~" { String::new() } else { text })
}
