//! Every YAML and JSON text kubecis reads goes through this module: check definitions,
//! `config.yaml`, kubelet and other component configs, manifests and `kubectl get` output,
//! snapshots. It owns three things:
//!
//! - **Bounds.** A text is refused, with an error naming it, before it can cost more than its
//!   size allows: the size is checked before parsing, then nesting depth, nodes (counted after
//!   alias expansion, so a "billion laughs" file is refused after a few thousand nodes),
//!   documents and scalar size are checked while parsing. The limits are [`Limits::DEFAULT`],
//!   set in one place below.
//! - **Kubernetes' reading.** Untyped reads ([`to_value`], [`documents`]) give the JSON that
//!   Kubernetes' own YAML reader (sigs.k8s.io/yaml over go-yaml v2, YAML 1.1) gives for the same
//!   text: `privileged: yes` is `true`, `0644` is 420, merge keys (`<<`) are applied as go-yaml
//!   v2 applies them, non-string keys become strings. The rules are in `scalar.rs` (scalars,
//!   keys) and `build.rs` (merges, aliases). Typed reads ([`from_str`]: definitions, fixture
//!   manifests) use serde-saphyr with the same bounds, and keep a scalar read into a `String`
//!   as written (`id: 1.10` is "1.10").
//! - **Where things are.** Errors name the file, line and column (and the field path for typed
//!   reads). [`locate`] maps a field path in one document to the line and column where it is
//!   written, for reports that point into a file.
//!
//! The parser is granit-parser, as re-exported by serde-saphyr: maintained, free of `unsafe`
//! and panics on bad input, with nesting limits of its own.

mod build;
mod locate;
mod scalar;

use std::io::{self, Read};
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value;

pub use locate::{locate, locate_all, Located, Position};

/// How much one text may cost. Generous for real Kubernetes objects, kubelet configs and
/// kube-bench definitions; small enough that a hostile file is refused in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one text, checked before parsing.
    pub max_bytes: usize,
    /// Nested mappings and sequences. serde_json stops at 128 too, so YAML and JSON agree; the
    /// deepest real objects (CRDs with nested OpenAPI schemas) stay well below.
    pub max_depth: usize,
    /// Nodes of one text, counted after alias expansion: a bound on the memory a parsed text
    /// takes, whatever its aliases do. (go-yaml's ratio rule for aliases applies as well.)
    pub max_nodes: u64,
    /// Documents (`---`) in one text. `helm template` of a large chart gives hundreds.
    pub max_documents: usize,
    /// Bytes of one scalar. Nothing in a Kubernetes object can be larger: etcd caps a whole
    /// object at 1.5 MiB.
    pub max_scalar_bytes: usize,
}

impl Limits {
    /// The limits every read uses.
    pub const DEFAULT: Limits = Limits {
        max_bytes: 32 << 20,
        max_depth: 128,
        max_nodes: 4_000_000,
        max_documents: 10_000,
        max_scalar_bytes: 4 << 20,
    };

    /// A snapshot holds a node's config files and command lines in one JSON text; each file in
    /// it is bounded by the facts reader's 16 MiB.
    pub const SNAPSHOT: Limits = Limits {
        max_bytes: 64 << 20,
        ..Limits::DEFAULT
    };

    /// Refuses a text larger than `max_bytes`, before anything reads it.
    pub fn check_size(&self, file: &str, len: usize) -> Result<(), Error> {
        if len > self.max_bytes {
            return Err(Error::whole(
                file,
                format!(
                    "{len} bytes is larger than the limit of {} bytes",
                    self.max_bytes
                ),
            ));
        }
        Ok(())
    }
}

/// A text that could not be read: where (file, line, column; the field path for typed reads)
/// and why. Line and column are 1-based; 0 when unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Error {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The field path (`groups[0].checks[1].audit`) for typed reads, else empty.
    pub path: String,
    /// The 1-based document the error is in, 0 when unknown. Shown from the second on.
    pub document: usize,
    pub message: String,
}

impl Error {
    fn whole(file: &str, message: String) -> Error {
        Error::at(file, Position::default(), message)
    }

    fn at(file: &str, at: Position, message: String) -> Error {
        Error {
            file: file.to_string(),
            line: at.line,
            column: at.column,
            path: String::new(),
            document: 0,
            message,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if self.document > 1 {
            write!(f, " (document {})", self.document)?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Builds plain JSON values.
struct Json;

impl build::Shape for Json {
    type Node = Value;
    type Map = serde_json::Map<String, Value>;
    fn scalar(&mut self, value: Value, _: Position) -> Value {
        value
    }
    fn seq(&mut self, items: Vec<Value>, _: Position) -> Value {
        Value::Array(items)
    }
    fn map(&mut self, map: Self::Map, _: Position) -> Value {
        Value::Object(map)
    }
    fn insert(&mut self, map: &mut Self::Map, key: String, _: Position, value: Value) {
        map.insert(key, value);
    }
    fn merge(&mut self, map: &mut Self::Map, node: &Value) -> bool {
        let Value::Object(entries) = node else {
            return false;
        };
        for (k, v) in entries {
            map.insert(k.clone(), v.clone());
        }
        true
    }
    fn items<'n>(&self, node: &'n Value) -> Option<&'n [Value]> {
        node.as_array().map(Vec::as_slice)
    }
}

/// Every document of a YAML (or JSON) text, as Kubernetes reads them; an empty document is
/// null. `file` names the text in errors.
pub fn documents(file: &str, text: &str) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    build::walk(file, text, &Limits::DEFAULT, &mut Json, None, |_, v| {
        out.push(v)
    })?;
    Ok(out)
}

/// The one document of a YAML (or JSON) text, as Kubernetes reads it; null when the text holds
/// none. More than one document is an error.
pub fn to_value(file: &str, text: &str) -> Result<Value, Error> {
    let mut docs = documents(file, text)?;
    if docs.len() > 1 {
        let second = locate(file, text, 1)?
            .map(|d| d.start())
            .unwrap_or_default();
        let message = format!("{} YAML documents where one is expected", docs.len());
        return Err(Error {
            document: 2,
            ..Error::at(file, second, message)
        });
    }
    Ok(docs.pop().unwrap_or(Value::Null))
}

/// Reads a typed value (a definitions file, a fixture manifest) from a single-document YAML
/// text. A scalar read into a `String` keeps its text (`1.10`, `false`, `0644`); an error
/// names the file, line, column and the field path.
pub fn from_str<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, Error> {
    let limits = &Limits::DEFAULT;
    limits.check_size(file, text.len())?;
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_reader_input_bytes: Some(limits.max_bytes),
            max_depth: limits.max_depth,
            max_documents: 1,
            max_nodes: usize::try_from(limits.max_nodes).unwrap_or(usize::MAX),
            max_total_scalar_bytes: limits.max_bytes,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: usize::try_from(limits.max_nodes).unwrap_or(usize::MAX),
        },
        // `text: ~` is an empty string, as go-yaml reads null into a string field.
        null_as_string: true,
        with_snippet: false,
    };
    let mut path = String::new();
    serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            path = e.path().to_string();
            e.into_inner()
        })
    })
    .map_err(|e| {
        let (line, column) = e
            .location()
            .map_or((0, 0), |l| (l.line() as usize, l.column() as usize));
        let message = serde_saphyr::MessageFormatter::format_message(
            &serde_saphyr::DefaultMessageFormatter,
            &e,
        );
        // serde's messages may already start with the path.
        let message = message
            .strip_prefix(&format!("{path}: "))
            .unwrap_or(&message)
            .to_string();
        Error {
            path: if path == "." || path == "?" {
                String::new()
            } else {
                path
            },
            ..Error::at(file, Position { line, column }, message)
        }
    })
}

/// Reads a whole input (a file, standard input) as UTF-8 text, refusing one larger than
/// `max_bytes`: at most `max_bytes + 1` bytes are read, whatever size the input claims.
pub fn read_text(input: impl Read, max_bytes: usize) -> io::Result<String> {
    let mut buf = Vec::new();
    input.take(max_bytes as u64 + 1).read_to_end(&mut buf)?;
    if buf.len() > max_bytes {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("larger than the limit of {max_bytes} bytes"),
        ));
    }
    String::from_utf8(buf)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not valid UTF-8 text"))
}

/// [`read_text`] of a file.
pub fn read_file(path: &Path, max_bytes: usize) -> io::Result<String> {
    read_text(std::fs::File::open(path)?, max_bytes)
}

/// Reads a JSON text (a snapshot, a JSON kubelet config) within `limits.max_bytes`; serde_json
/// bounds nesting at 128 levels.
pub fn from_json<T: DeserializeOwned>(file: &str, text: &str, limits: &Limits) -> Result<T, Error> {
    limits.check_size(file, text.len())?;
    serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        // serde_json appends " at line L column C"; the location is already in front.
        let message = match message.rfind(" at line ") {
            Some(i) => message[..i].to_string(),
            None => message,
        };
        let at = Position {
            line: e.line(),
            column: e.column(),
        };
        Error::at(file, at, message)
    })
}

#[cfg(test)]
mod tests;
