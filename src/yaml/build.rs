//! The one walk over parser events that every untyped read shares: it enforces the limits,
//! resolves scalars and keys ([`super::scalar`]), expands aliases and applies merge keys the
//! way go-yaml v2 does, and hands each finished document to the caller. What it builds is up
//! to a [`Shape`]: plain JSON values, or a tree that remembers where each field was written.
//!
//! Merge keys, as go-yaml v2 (and so Kubernetes) applies them: the entries of a mapping are
//! written into the result in the order they appear; a `<<` entry writes the merged mapping's
//! entries at that point, overwriting what is already there, and later entries overwrite it
//! in turn. So keys written after `<<` win over merged ones, and merged ones win over keys
//! written before `<<`. With a sequence of mappings the last is written first, so earlier
//! mappings win over later ones. A merge value that is not a mapping or a sequence of
//! mappings is an error. Two explicit entries with the same key are an error (go-yaml would
//! silently keep the last; refusing is the safe reading of an ambiguous document).

use std::collections::{HashMap, HashSet};

use serde_saphyr::granit_parser::{self, ErrorKind, Event, ScalarStyle, ScanError};

use super::scalar::Written;
use super::{Error, Limits, Position};

/// What the walk builds from a document.
pub(super) trait Shape {
    type Node: Clone;
    type Map: Default;
    fn scalar(&mut self, value: serde_json::Value, at: Position) -> Self::Node;
    fn seq(&mut self, items: Vec<Self::Node>, at: Position) -> Self::Node;
    fn map(&mut self, map: Self::Map, at: Position) -> Self::Node;
    /// Writes one entry; `at` is where its key is written.
    fn insert(&mut self, map: &mut Self::Map, key: String, at: Position, value: Self::Node);
    /// Writes every entry of `node` into `map` (a `<<` merge); false when `node` is not a
    /// mapping.
    fn merge(&mut self, map: &mut Self::Map, node: &Self::Node) -> bool;
    /// The items of a sequence node.
    fn items<'n>(&self, node: &'n Self::Node) -> Option<&'n [Self::Node]>;
}

/// go-yaml v2's alias-ratio rule (decode.go, `allowedAliasRatio`): up to 400,000 decoded
/// nodes, 99% may come from alias expansion; from 4,000,000 on, 10%; linear in between.
fn allowed_alias_ratio(decoded: u64) -> f64 {
    const LOW: u64 = 400_000;
    const HIGH: u64 = 4_000_000;
    match decoded {
        d if d <= LOW => 0.99,
        d if d >= HIGH => 0.10,
        d => 0.99 - 0.89 * ((d - LOW) as f64 / (HIGH - LOW) as f64),
    }
}

enum Key {
    Merge(Position),
    Named(String, Position),
}

enum Frame<N, M> {
    Seq {
        at: Position,
        anchor: usize,
        weight: u64,
        items: Vec<N>,
    },
    Map {
        at: Position,
        anchor: usize,
        weight: u64,
        map: M,
        key: Option<Key>,
        /// Keys written explicitly in this mapping, to refuse duplicates.
        written: HashSet<String>,
    },
}

/// An anchored node, for its aliases.
enum Anchored<N> {
    /// A scalar: aliases may use it as a key too, so its text is kept.
    Scalar {
        text: String,
        plain: bool,
        tag: Option<String>,
        at: Position,
    },
    Node {
        node: N,
        /// Nodes in its expansion.
        weight: u64,
    },
}

struct Walker<'a, S: Shape> {
    file: &'a str,
    limits: &'a Limits,
    shape: &'a mut S,
    stack: Vec<Frame<S::Node, S::Map>>,
    anchors: HashMap<usize, Anchored<S::Node>>,
    root: Option<S::Node>,
    /// Documents started so far.
    documents: usize,
    /// Nodes decoded in this document, and how many of them came from aliases.
    decoded: u64,
    aliased: u64,
    /// Nodes decoded in the whole text.
    total: u64,
}

/// Walks the documents of `text`. With `only`, other documents are parsed (and bounded) but
/// not built, and the walk stops after document `only`. `done` receives each built document
/// with its index; an empty document is null.
pub(super) fn walk<S: Shape>(
    file: &str,
    text: &str,
    limits: &Limits,
    shape: &mut S,
    only: Option<usize>,
    done: impl FnMut(usize, S::Node),
) -> Result<(), Error> {
    limits.check_size(file, text.len())?;
    let mut w = Walker {
        file,
        limits,
        shape,
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        documents: 0,
        decoded: 0,
        aliased: 0,
        total: 0,
    };
    w.run(text, only, done).map_err(|mut e| {
        e.document = w.documents;
        e
    })
}

fn tag_uri(tag: &granit_parser::Tag) -> String {
    let (handle, suffix) = tag.parts();
    format!("{handle}{suffix}")
}

impl<S: Shape> Walker<'_, S> {
    fn run(
        &mut self,
        text: &str,
        only: Option<usize>,
        mut done: impl FnMut(usize, S::Node),
    ) -> Result<(), Error> {
        let limits = self.limits;
        let mut options = granit_parser::options! {
            // One more than allowed, so that the walker's own check names the limit.
            flow_nesting_limit: limits.max_depth + 1,
            block_nesting_limit: limits.max_depth + 1,
        };
        options.set_emit_comments(false);
        let parser = granit_parser::Parser::new_from_str_with_options(text, options);
        let mut building = false;
        for item in parser {
            let (event, span) = item.map_err(|e| self.scan_error(&e))?;
            let at = Position {
                line: span.start.line(),
                column: span.start.col() + 1,
            };
            match event {
                Event::DocumentStart(..) => {
                    if self.documents == limits.max_documents {
                        let message = format!("more than {} YAML documents", limits.max_documents);
                        return Err(self.error(at, message));
                    }
                    self.documents += 1;
                    building = only.is_none_or(|i| i == self.documents - 1);
                    self.anchors.clear();
                    self.decoded = 0;
                    self.aliased = 0;
                }
                Event::DocumentEnd => {
                    if building {
                        let root = match self.root.take() {
                            Some(root) => root,
                            None => self.shape.scalar(serde_json::Value::Null, at),
                        };
                        done(self.documents - 1, root);
                        if only.is_some() {
                            return Ok(());
                        }
                    }
                    building = false;
                }
                _ if !building => {}
                Event::Scalar(text, style, anchor, tag) => {
                    let tag = tag.map(|t| tag_uri(&t));
                    self.scalar(&text, style == ScalarStyle::Plain, tag, anchor, at)?
                }
                Event::SequenceStart(_, anchor, _) => self.open(at, anchor, false)?,
                Event::MappingStart(_, anchor, _) => self.open(at, anchor, true)?,
                Event::SequenceEnd | Event::MappingEnd => self.close()?,
                Event::Alias(id) => self.alias(id, at)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn scan_error(&self, e: &ScanError) -> Error {
        let at = Position {
            line: e.marker().line(),
            column: e.marker().col() + 1,
        };
        if matches!(e.kind(), ErrorKind::RecursionLimitExceeded) {
            // The scanner, which reads ahead of the events, met the limit first.
            return self.error(at, self.too_deep());
        }
        self.error(at, format!("not valid YAML: {}", e.info()))
    }

    fn too_deep(&self) -> String {
        format!("nested deeper than {} levels", self.limits.max_depth)
    }

    fn error(&self, at: Position, message: impl Into<String>) -> Error {
        Error::at(self.file, at, message.into())
    }

    fn expecting_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    /// Counts `weight` decoded nodes, `aliased` of them through an alias.
    fn count(&mut self, weight: u64, aliased: bool, at: Position) -> Result<(), Error> {
        self.decoded = self.decoded.saturating_add(weight);
        self.total = self.total.saturating_add(weight);
        if self.total > self.limits.max_nodes {
            return Err(self.error(
                at,
                format!(
                    "more than {} nodes (after expanding aliases)",
                    self.limits.max_nodes
                ),
            ));
        }
        if aliased {
            self.aliased = self.aliased.saturating_add(weight);
            if self.aliased > 100
                && self.decoded > 1000
                && self.aliased as f64 / self.decoded as f64 > allowed_alias_ratio(self.decoded)
            {
                return Err(self.error(
                    at,
                    "document contains excessive aliasing (refused as Kubernetes refuses it)",
                ));
            }
        }
        Ok(())
    }

    fn scalar(
        &mut self,
        text: &str,
        plain: bool,
        tag: Option<String>,
        anchor: usize,
        at: Position,
    ) -> Result<(), Error> {
        if text.len() > self.limits.max_scalar_bytes {
            return Err(self.error(
                at,
                format!(
                    "a scalar of {} bytes is larger than the limit of {} bytes",
                    text.len(),
                    self.limits.max_scalar_bytes
                ),
            ));
        }
        self.count(1, false, at)?;
        let written = Written {
            text,
            plain,
            tag: tag.as_deref(),
        };
        if self.expecting_key() {
            self.key(written, at)?;
        } else {
            let value = written.value().map_err(|m| self.error(at, m))?;
            let node = self.shape.scalar(value, at);
            self.complete(node, 1, at)?;
        }
        if anchor != 0 {
            self.anchors.insert(
                anchor,
                Anchored::Scalar {
                    text: text.to_string(),
                    plain,
                    tag,
                    at,
                },
            );
        }
        Ok(())
    }

    /// A mapping key: the merge key, or a name that must not repeat an explicit one.
    fn key(&mut self, written: Written<'_>, at: Position) -> Result<(), Error> {
        let key = if written.is_merge_key() {
            Key::Merge(at)
        } else {
            Key::Named(written.key().map_err(|m| self.error(at, m))?, at)
        };
        self.set_key(key, at)
    }

    fn set_key(&mut self, key: Key, at: Position) -> Result<(), Error> {
        let Some(Frame::Map {
            key: slot,
            written,
            weight,
            ..
        }) = self.stack.last_mut()
        else {
            return Err(self.error(at, "a key outside a mapping"));
        };
        *weight = weight.saturating_add(1);
        if let Key::Named(name, _) = &key {
            if !written.insert(name.clone()) {
                let message = format!("duplicate mapping key `{name}`");
                return Err(self.error(at, message));
            }
        }
        *slot = Some(key);
        Ok(())
    }

    fn open(&mut self, at: Position, anchor: usize, mapping: bool) -> Result<(), Error> {
        if self.expecting_key() {
            return Err(self.error(at, "a mapping key must be a scalar"));
        }
        if self.stack.len() >= self.limits.max_depth {
            return Err(self.error(at, self.too_deep()));
        }
        self.stack.push(if mapping {
            Frame::Map {
                at,
                anchor,
                weight: 1,
                map: S::Map::default(),
                key: None,
                written: HashSet::new(),
            }
        } else {
            Frame::Seq {
                at,
                anchor,
                weight: 1,
                items: Vec::new(),
            }
        });
        Ok(())
    }

    fn close(&mut self) -> Result<(), Error> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let (node, at, anchor, weight) = match frame {
            Frame::Seq {
                at,
                anchor,
                weight,
                items,
            } => (self.shape.seq(items, at), at, anchor, weight),
            Frame::Map {
                at,
                anchor,
                weight,
                map,
                ..
            } => (self.shape.map(map, at), at, anchor, weight),
        };
        self.count(1, false, at)?;
        if anchor != 0 {
            self.anchors.insert(
                anchor,
                Anchored::Node {
                    node: node.clone(),
                    weight,
                },
            );
        }
        self.complete(node, weight, at)
    }

    fn alias(&mut self, id: usize, at: Position) -> Result<(), Error> {
        let Some(anchored) = self.anchors.get(&id) else {
            return Err(self.error(at, "an alias refers to the node that contains it"));
        };
        match anchored {
            Anchored::Scalar {
                text,
                plain,
                tag,
                at: written_at,
            } => {
                let (text, plain, tag, written_at) =
                    (text.clone(), *plain, tag.clone(), *written_at);
                self.count(1, true, at)?;
                let written = Written {
                    text: &text,
                    plain,
                    tag: tag.as_deref(),
                };
                if self.expecting_key() {
                    // An alias is never the merge key itself.
                    let name = written.key().map_err(|m| self.error(at, m))?;
                    self.set_key(Key::Named(name, at), at)
                } else {
                    let value = written.value().map_err(|m| self.error(at, m))?;
                    let node = self.shape.scalar(value, written_at);
                    self.complete(node, 1, at)
                }
            }
            Anchored::Node { node, weight } => {
                if self.expecting_key() {
                    return Err(self.error(at, "a mapping key must be a scalar"));
                }
                let (node, weight) = (node.clone(), *weight);
                self.count(weight, true, at)?;
                self.complete(node, weight, at)
            }
        }
    }

    /// Puts a finished node where it belongs: the document root, a sequence item, or the
    /// value of the pending mapping key.
    fn complete(&mut self, node: S::Node, weight: u64, at: Position) -> Result<(), Error> {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        match frame {
            Frame::Seq {
                items, weight: w, ..
            } => {
                items.push(node);
                *w = w.saturating_add(weight);
                Ok(())
            }
            Frame::Map {
                map,
                key,
                weight: w,
                ..
            } => {
                *w = w.saturating_add(weight);
                match key.take() {
                    Some(Key::Named(name, key_at)) => {
                        self.shape.insert(map, name, key_at, node);
                        Ok(())
                    }
                    Some(Key::Merge(key_at)) => {
                        let merged = self.shape.merge(map, &node)
                            || match self.shape.items(&node) {
                                // Earlier mappings win: write the last first.
                                Some(items) => {
                                    items.iter().rev().all(|item| self.shape.merge(map, item))
                                }
                                None => false,
                            };
                        if merged {
                            Ok(())
                        } else {
                            let message =
                                "a merge (`<<`) needs a mapping or a sequence of mappings";
                            Err(Error::at(self.file, key_at, message.into()))
                        }
                    }
                    None => Err(Error::at(self.file, at, "a value without a key".into())),
                }
            }
        }
    }
}
