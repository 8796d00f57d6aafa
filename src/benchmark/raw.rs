//! Controls files as written: serde shapes that accept what kube-bench's YAML reading accepts
//! (yaml.v2 into Go structs: lowercase keys, unknown keys ignored, any scalar read as text)
//! and keep every value that has to be checked as its text, so that one check's unusable
//! value (an unknown operator, a bad regex) is that check's problem and not a failure of the
//! whole file. [`super::load`] validates these into [`super::model`]. What yaml.v2 itself
//! refuses stays an error here, with file, line and field: YAML syntax, a wrong shape (`groups`
//! that is not a list), a check or group without an `id`.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
pub struct RawControls {
    #[serde(default, deserialize_with = "scalar")]
    pub version: String,
    #[serde(default, deserialize_with = "scalar")]
    pub id: String,
    #[serde(default, deserialize_with = "scalar")]
    pub text: String,
    #[serde(rename = "type", default, deserialize_with = "scalar")]
    pub target: String,
    #[serde(default)]
    pub groups: Option<Vec<RawGroup>>,
}

#[derive(Debug, Deserialize)]
pub struct RawGroup {
    #[serde(deserialize_with = "scalar")]
    pub id: String,
    #[serde(default, deserialize_with = "scalar")]
    pub text: String,
    #[serde(rename = "type", default, deserialize_with = "scalar")]
    pub kind: String,
    #[serde(default)]
    pub checks: Option<Vec<RawCheck>>,
}

#[derive(Debug, Deserialize)]
pub struct RawCheck {
    #[serde(deserialize_with = "scalar")]
    pub id: String,
    #[serde(default, deserialize_with = "scalar")]
    pub text: String,
    #[serde(rename = "type", default, deserialize_with = "scalar")]
    pub kind: String,
    #[serde(default)]
    pub audit: Option<RawAudit>,
    #[serde(default)]
    pub audit_config: Option<RawAudit>,
    #[serde(default)]
    pub audit_env: Option<RawAudit>,
    #[serde(default)]
    pub tests: Option<RawTests>,
    #[serde(default, deserialize_with = "boolean")]
    pub use_multiple_values: bool,
    #[serde(default, deserialize_with = "scalar")]
    pub remediation: String,
    #[serde(default, deserialize_with = "boolean")]
    pub scored: bool,
}

/// `audit`: a shell command (kube-bench's form) or a native-audit mapping, checked later.
#[derive(Debug)]
pub enum RawAudit {
    Shell(String),
    Native(Value),
}

impl<'de> Deserialize<'de> for RawAudit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AuditVisitor;
        impl<'de> Visitor<'de> for AuditVisitor {
            type Value = RawAudit;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a shell command string or a native audit mapping")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawAudit, E> {
                Ok(RawAudit::Shell(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawAudit, A::Error> {
                Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(RawAudit::Native)
            }
        }
        deserializer.deserialize_any(AuditVisitor)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RawTests {
    #[serde(default, deserialize_with = "scalar")]
    pub bin_op: String,
    #[serde(default)]
    pub test_items: Option<Vec<RawTestItem>>,
}

#[derive(Debug, Deserialize)]
pub struct RawTestItem {
    #[serde(default, deserialize_with = "scalar")]
    pub flag: String,
    /// `None` when not written (or null); `Some("")` when written empty, which is no JSONPath.
    #[serde(default, deserialize_with = "optional_scalar")]
    pub path: Option<String>,
    #[serde(default, deserialize_with = "scalar")]
    pub env: String,
    /// true (the default, as in kube-bench): the value must be present.
    #[serde(default = "yes", deserialize_with = "boolean_or_yes")]
    pub set: bool,
    #[serde(default)]
    pub compare: Option<RawCompare>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
pub struct RawCompare {
    #[serde(default, deserialize_with = "scalar")]
    pub op: String,
    #[serde(default, deserialize_with = "scalar")]
    pub value: String,
}

/// Reads any YAML scalar (string, number, boolean, null) as its text, the way kube-bench's Go
/// structs do: `id: 1.10` stays "1.10" (not the float 1.1), `value: false` is "false".
pub(crate) fn scalar<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let text = String::deserialize(deserializer)?;
    Ok(if text == "~" { String::new() } else { text })
}

fn optional_scalar<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let text = Option::<String>::deserialize(deserializer)?;
    Ok(text.filter(|t| t != "~"))
}

/// A boolean; null (a key written without a value) is false, as yaml.v2 leaves a Go bool.
fn boolean<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(deserializer)?.unwrap_or(false))
}

/// `set`: a boolean; null keeps the default, true.
fn boolean_or_yes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(deserializer)?.unwrap_or(true))
}
