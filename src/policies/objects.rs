//! Kubernetes API objects as section-5 checks see them: read from manifests and `kubectl get -o
//! json|yaml` output (files, directories, stdin) or fetched from a live cluster, and kept as plain
//! JSON values, one per object, with where each came from.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Where an object was read from: a file (or `-` for stdin) and the document's index in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    /// 0-based index of the YAML document within the file.
    pub document: usize,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (document {})", self.file, self.document + 1)
    }
}

/// One API object.
#[derive(Debug, Clone)]
pub struct Object {
    pub value: Value,
    pub origin: Origin,
}

impl Object {
    pub fn kind(&self) -> &str {
        self.value.get("kind").and_then(Value::as_str).unwrap_or("")
    }
    pub fn api_version(&self) -> &str {
        self.value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
    pub fn name(&self) -> &str {
        self.value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
    /// The namespace, or "" for cluster-scoped objects (and namespaced manifests without one).
    pub fn namespace(&self) -> &str {
        self.value
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
    /// `Kind/name` or `Kind/namespace/name`, how findings name objects.
    pub fn display_name(&self) -> String {
        if self.namespace().is_empty() {
            format!("{}/{}", self.kind(), self.name())
        } else {
            format!("{}/{}/{}", self.kind(), self.namespace(), self.name())
        }
    }
}

/// Why objects could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ObjectsError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Not YAML or JSON, or beyond the limits of `crate::yaml`; names file, line and column.
    #[error("{0}")]
    Parse(crate::yaml::Error),
    #[error("{origin}: not a Kubernetes object: {message}")]
    NotAnObject { origin: Origin, message: String },
}

/// A set of API objects, as read.
///
/// Checks must tell "there are none" from "we could not look": `listed` holds the kinds a live
/// cluster listed completely (so an absent object really is absent) and `unavailable` the kinds
/// that could not be listed, with why. Objects read from files have neither: there, a kind counts
/// as read only when at least one object of it is in the input (see [`Objects::kind_state`]).
#[derive(Debug, Clone, Default)]
pub struct Objects {
    pub items: Vec<Object>,
    /// Kinds listed completely from a live cluster, even when the list was empty.
    pub listed: BTreeSet<String>,
    /// Kinds that could not be read (e.g. `"Secret" -> "forbidden: ..."`), kind -> reason.
    pub unavailable: BTreeMap<String, String>,
}

/// What is known about one kind of object in an [`Objects`] set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KindState {
    /// Listed completely from a live cluster (possibly zero objects).
    Listed,
    /// Not listed live, but the input holds objects of this kind.
    Present,
    /// Neither listed nor present in the input: nothing is known.
    Absent,
    /// Listing was attempted and failed, with the reason.
    Unavailable(String),
}

impl Objects {
    /// Reads every path: a file, a directory (walked for `.yaml`, `.yml` and `.json` files, in
    /// name order) or `-` for standard input.
    pub fn load(paths: &[PathBuf]) -> Result<Objects, ObjectsError> {
        Objects::load_with_stdin(paths, &mut std::io::stdin())
    }

    /// [`Objects::load`] with `-` read from `stdin` (once, however often it is named).
    pub fn load_with_stdin(
        paths: &[PathBuf],
        stdin: &mut dyn Read,
    ) -> Result<Objects, ObjectsError> {
        let mut objects = Objects::default();
        let mut stdin_read = false;
        for path in paths {
            if path.as_os_str() == "-" {
                if std::mem::replace(&mut stdin_read, true) {
                    continue;
                }
                let mut text = String::new();
                stdin
                    .read_to_string(&mut text)
                    .map_err(|source| ObjectsError::Io {
                        path: "-".into(),
                        source,
                    })?;
                objects.add_text("-", &text)?;
            } else if path.is_dir() {
                let walker = walkdir::WalkDir::new(path).sort_by_file_name();
                for entry in walker {
                    let entry = entry.map_err(|e| ObjectsError::Io {
                        path: path.display().to_string(),
                        source: e.into(),
                    })?;
                    if entry.file_type().is_file() && is_manifest(entry.path()) {
                        objects.add_file(entry.path())?;
                    }
                }
            } else {
                objects.add_file(path)?;
            }
        }
        Ok(objects)
    }

    fn add_file(&mut self, path: &Path) -> Result<(), ObjectsError> {
        let text = std::fs::read_to_string(path).map_err(|source| ObjectsError::Io {
            path: path.display().to_string(),
            source,
        })?;
        self.add_text(&path.display().to_string(), &text)
    }

    /// Adds the objects of one file's text: YAML documents (JSON is YAML), read as Kubernetes
    /// reads them (`crate::yaml`), with `List` kinds (`kind: List`, `RoleList`, ...) flattened
    /// into their items.
    pub fn add_text(&mut self, file: &str, text: &str) -> Result<(), ObjectsError> {
        let docs = crate::yaml::documents(file, text).map_err(ObjectsError::Parse)?;
        for (index, value) in docs.into_iter().enumerate() {
            let origin = Origin {
                file: file.to_string(),
                document: index,
            };
            self.add_value(value, origin)?;
        }
        Ok(())
    }

    /// Adds one decoded document (an object, a list of objects, or nothing).
    pub fn add_value(&mut self, value: Value, origin: Origin) -> Result<(), ObjectsError> {
        match value {
            Value::Null => Ok(()),
            Value::Object(ref map) => {
                let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
                if let Some(items) = map.get("items").and_then(Value::as_array) {
                    if kind.ends_with("List") || kind.is_empty() {
                        for item in items.clone() {
                            self.add_value(item, origin.clone())?;
                        }
                        return Ok(());
                    }
                }
                if kind.is_empty() {
                    return Err(ObjectsError::NotAnObject {
                        origin,
                        message: "no `kind` field".into(),
                    });
                }
                self.items.push(Object { value, origin });
                Ok(())
            }
            other => Err(ObjectsError::NotAnObject {
                origin,
                message: format!("expected a mapping, found {}", type_name(&other)),
            }),
        }
    }

    /// The objects of one kind, e.g. `"ClusterRoleBinding"`.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Object> + 'a {
        self.items.iter().filter(move |o| o.kind() == kind)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether objects of `kind` were read, and if not, why.
    pub fn kind_state(&self, kind: &str) -> KindState {
        if let Some(reason) = self.unavailable.get(kind) {
            KindState::Unavailable(reason.clone())
        } else if self.listed.contains(kind) {
            KindState::Listed
        } else if self.of_kind(kind).next().is_some() {
            KindState::Present
        } else {
            KindState::Absent
        }
    }

    /// True when the objects of `kind` can be trusted to be all there are: listed live, or (for
    /// file input, where nothing else is known) present in the input.
    pub fn was_read(&self, kind: &str) -> bool {
        matches!(
            self.kind_state(kind),
            KindState::Listed | KindState::Present
        )
    }

    /// True when these objects came from a live cluster rather than files.
    pub fn is_live(&self) -> bool {
        !self.listed.is_empty() || !self.unavailable.is_empty()
    }

    /// Records that `kind` was listed completely (live input).
    pub fn mark_listed(&mut self, kind: &str) {
        self.listed.insert(kind.to_string());
    }

    /// Records that `kind` could not be read, and why.
    pub fn mark_unavailable(&mut self, kind: &str, reason: impl Into<String>) {
        self.unavailable.insert(kind.to_string(), reason.into());
    }
}

fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_yaml_and_lists_are_flattened() {
        let text = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: default}\n---\n---\nkind: List\napiVersion: v1\nitems:\n- {kind: Role, apiVersion: rbac.authorization.k8s.io/v1, metadata: {name: r, namespace: x}}\n- {kind: RoleBinding, metadata: {name: b, namespace: x}}\n";
        let mut o = Objects::default();
        o.add_text("m.yaml", text).unwrap();
        let names: Vec<String> = o.items.iter().map(Object::display_name).collect();
        assert_eq!(
            names,
            ["ServiceAccount/default/a", "Role/x/r", "RoleBinding/x/b"]
        );
        assert_eq!(o.items[1].origin.document, 2);
    }

    #[test]
    fn kind_state_tells_absent_from_unavailable() {
        let mut o = Objects::default();
        o.add_text("m.yaml", "kind: Role\nmetadata: {name: r, namespace: x}\n")
            .unwrap();
        assert_eq!(o.kind_state("Role"), KindState::Present);
        assert_eq!(o.kind_state("RoleBinding"), KindState::Absent);
        assert!(!o.is_live());
        o.mark_listed("RoleBinding");
        o.mark_unavailable("Secret", "forbidden");
        assert_eq!(o.kind_state("RoleBinding"), KindState::Listed);
        assert!(o.was_read("RoleBinding"));
        assert_eq!(
            o.kind_state("Secret"),
            KindState::Unavailable("forbidden".into())
        );
        assert!(!o.was_read("Secret"));
    }

    #[test]
    fn malformed_document_is_named_by_file_line_column_and_index() {
        let mut o = Objects::default();
        let err = o
            .add_text("bad.yaml", "kind: Pod\n---\nkind: [unclosed\n")
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("bad.yaml:3:7 (document 2): not valid YAML"),
            "{msg}"
        );
        let err = o.add_text("s.yaml", "just a string\n").unwrap_err();
        assert!(err.to_string().contains("expected a mapping"), "{err}");
    }
}
