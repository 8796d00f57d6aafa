//! Where a field is written: for SARIF and scan output that point at a line and column.
//!
//! Nothing is recorded while texts are read for checking; a report that needs positions asks
//! for one document ([`locate`]) or all of them ([`locate_all`]), which parses the text again
//! with the same walk and the same limits as [`super::documents`], and so sees the same
//! document: through a merge key the position is that of the entry that won, through an alias
//! that of the anchored node, i.e. always where the value was written.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::build::{self, Shape};
use super::{Error, Limits};

/// A 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// One document's fields and where each is written.
#[derive(Debug, Clone)]
pub struct Located {
    root: Rc<Node>,
}

#[derive(Debug)]
struct Node {
    at: Position,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Leaf,
    Seq(Vec<Rc<Node>>),
    /// Key → (where the key is written, the value).
    Map(BTreeMap<String, (Position, Rc<Node>)>),
}

impl Located {
    /// Where the document's content starts (its first node).
    pub fn start(&self) -> Position {
        self.root.at
    }

    /// Where the field at `path` is written: the key of a mapping entry, the start of a
    /// sequence item; `None` when the document has no such field. `path` is JSON-style, as
    /// kubecis prints field paths: `spec.template.spec.containers[0].securityContext`, with
    /// `[...]` for indices and for keys that contain dots
    /// (`metadata.annotations[kubernetes.io/psp]`; quotes inside brackets are optional). The
    /// empty path is the document itself.
    pub fn find(&self, path: &str) -> Option<Position> {
        let mut node = &self.root;
        let mut at = node.at;
        for step in steps(path)? {
            let next = match &node.kind {
                Kind::Map(entries) => entries.get(step).map(|(key_at, v)| (*key_at, v)),
                Kind::Seq(items) => step
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i))
                    .map(|v| (v.at, v)),
                Kind::Leaf => None,
            };
            let (step_at, child) = next?;
            at = step_at;
            node = child;
        }
        Some(at)
    }
}

/// The steps of a field path; `None` when it is malformed (an unclosed bracket).
fn steps(path: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('[') {
            let end = inner.find(']')?;
            let step = &inner[..end];
            let unquoted = ['"', '\'']
                .iter()
                .find_map(|q| step.strip_prefix(*q).and_then(|s| s.strip_suffix(*q)));
            out.push(unquoted.unwrap_or(step));
            rest = &inner[end + 1..];
        } else if let Some(r) = rest.strip_prefix('.') {
            rest = r;
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            out.push(&rest[..end]);
            rest = &rest[end..];
        }
    }
    Some(out)
}

/// Builds the position tree.
struct Positions;

impl Shape for Positions {
    type Node = Rc<Node>;
    type Map = BTreeMap<String, (Position, Rc<Node>)>;
    fn scalar(&mut self, _: serde_json::Value, at: Position) -> Rc<Node> {
        Rc::new(Node {
            at,
            kind: Kind::Leaf,
        })
    }
    fn seq(&mut self, items: Vec<Rc<Node>>, at: Position) -> Rc<Node> {
        Rc::new(Node {
            at,
            kind: Kind::Seq(items),
        })
    }
    fn map(&mut self, map: Self::Map, at: Position) -> Rc<Node> {
        Rc::new(Node {
            at,
            kind: Kind::Map(map),
        })
    }
    fn insert(&mut self, map: &mut Self::Map, key: String, at: Position, value: Rc<Node>) {
        map.insert(key, (at, value));
    }
    fn merge(&mut self, map: &mut Self::Map, node: &Rc<Node>) -> bool {
        let Kind::Map(entries) = &node.kind else {
            return false;
        };
        for (k, v) in entries {
            map.insert(k.clone(), v.clone());
        }
        true
    }
    fn items<'n>(&self, node: &'n Rc<Node>) -> Option<&'n [Rc<Node>]> {
        match &node.kind {
            Kind::Seq(items) => Some(items),
            _ => None,
        }
    }
}

/// Document `index` (0-based, as [`super::documents`] counts) of `text`, with positions;
/// `None` when the text has fewer documents.
pub fn locate(file: &str, text: &str, index: usize) -> Result<Option<Located>, Error> {
    let mut found = None;
    build::walk(
        file,
        text,
        &Limits::DEFAULT,
        &mut Positions,
        Some(index),
        |_, root| found = Some(Located { root }),
    )?;
    Ok(found)
}

/// Every document of `text`, with positions, in order.
pub fn locate_all(file: &str, text: &str) -> Result<Vec<Located>, Error> {
    let mut out = Vec::new();
    build::walk(
        file,
        text,
        &Limits::DEFAULT,
        &mut Positions,
        None,
        |_, root| out.push(Located { root }),
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_keys_and_indices() {
        assert_eq!(
            steps("spec.containers[0].securityContext").unwrap(),
            ["spec", "containers", "0", "securityContext"]
        );
        assert_eq!(
            steps("metadata.annotations[kubernetes.io/a.b]").unwrap(),
            ["metadata", "annotations", "kubernetes.io/a.b"]
        );
        assert_eq!(steps("a['x.y'][2]").unwrap(), ["a", "x.y", "2"]);
        assert_eq!(steps("").unwrap(), Vec::<&str>::new());
        assert!(steps("a[0").is_none());
    }
}
