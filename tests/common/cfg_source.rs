//! `cfg-src/`, the source the bundled benchmarks `cfg/<benchmark>/*.yaml` are generated from
//! (see `cfg/README.md`), and the generator.
//!
//! - `cfg-src/checks/<target>.yaml`: the library. Each top-level key is a check's stable name;
//!   its value is the check's body as it appears in a controls file (`type`, `audit`,
//!   `audit_config`, `tests`, `remediation`), without `id`, `text` and `scored`. Comment lines
//!   directly above a key (no blank line between) are the check's comment and are copied above
//!   it. The key `header` holds the comment that opens every generated file of that target.
//! - `cfg-src/<benchmark>/recommendations.txt`: the benchmark's recommendations as published,
//!   one per line: the id, a space, the title ending in `(Automated)` or `(Manual)` (`(Scored)`
//!   or `(Not Scored)` in older benchmarks). Facts, nothing of ours.
//! - `cfg-src/<benchmark>/layout.yaml`: the benchmark's controls files and groups, and for each
//!   recommendation a line `<id> <check name> [<param>=<value> ...]`.
//!
//! A generated check is `id` and `text` (the published title), the library body, and `scored`
//! (true exactly when the title says Automated or Scored). Text is copied, never re-serialised,
//! so the files read like hand-written ones. In bodies, comments, headers and notes `{{title}}`
//! and `{{version}}` are the layout's, `{{id:<check name>}}` is the id that check has in this
//! benchmark (cross-references follow renumbering), `{{<param>}}` is a parameter of the layout
//! line. Anything else in `{{...}}`, an unused parameter, an unknown check name or a layout that
//! does not list exactly the published recommendations, in order, is an error.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The targets in the order of the benchmark's sections.
pub const TARGETS: &[&str] = &["master", "etcd", "controlplane", "node", "policies"];

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn src_dir() -> PathBuf {
    repo().join("cfg-src")
}

/// The benchmarks `cfg-src/` describes (directories with a `layout.yaml`), sorted.
pub fn benchmarks() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(src_dir())
        .expect("cfg-src/ is readable")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("layout.yaml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// YAML goes through here (one place to switch parsers).
fn parse_yaml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, String> {
    kubecis::yaml::from_str(file, text).map_err(|e| e.to_string())
}

/// One published recommendation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recommendation {
    pub id: String,
    /// The title as published, with its `(Automated)`/`(Manual)` marker.
    pub title: String,
    /// Automated (or Scored): counts towards the score.
    pub automated: bool,
}

/// Reads `cfg-src/<benchmark>/recommendations.txt`.
pub fn recommendations(benchmark: &str) -> Result<Vec<Recommendation>, String> {
    let file = format!("cfg-src/{benchmark}/recommendations.txt");
    let text = fs::read_to_string(repo().join(&file)).map_err(|e| format!("{file}: {e}"))?;
    parse_recommendations(&file, &text)
}

pub fn parse_recommendations(file: &str, text: &str) -> Result<Vec<Recommendation>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("{file}:{}", n + 1);
        let (id, title) = line
            .split_once(' ')
            .ok_or_else(|| format!("{at}: expected `<id> <title>`"))?;
        let automated = if title.ends_with(" (Automated)") || title.ends_with(" (Scored)") {
            true
        } else if title.ends_with(" (Manual)") || title.ends_with(" (Not Scored)") {
            false
        } else {
            return Err(format!(
                "{at}: the title must end in (Automated), (Manual), (Scored) or (Not Scored)"
            ));
        };
        if out.iter().any(|r: &Recommendation| r.id == id) {
            return Err(format!("{at}: {id} is listed twice"));
        }
        out.push(Recommendation {
            id: id.to_string(),
            title: title.to_string(),
            automated,
        });
    }
    Ok(out)
}

/// `layout.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// "CIS Kubernetes Benchmark v1.23", for file headers.
    pub title: String,
    /// "v1.23", for comments that name the benchmark's version.
    pub version: String,
    pub targets: Vec<TargetLayout>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetLayout {
    pub target: String,
    pub id: String,
    pub text: String,
    /// Added to the library's header of this target: what is particular to this benchmark.
    #[serde(default)]
    pub note: Option<String>,
    pub groups: Vec<GroupLayout>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupLayout {
    pub id: String,
    pub text: String,
    /// One line per recommendation: `<id> <check name> [<param>=<value> ...]`.
    pub checks: Vec<String>,
}

pub fn layout(benchmark: &str) -> Result<Layout, String> {
    let file = format!("cfg-src/{benchmark}/layout.yaml");
    let text = fs::read_to_string(repo().join(&file)).map_err(|e| format!("{file}: {e}"))?;
    parse_yaml(&file, &text)
}

/// A layout line.
#[derive(Debug)]
struct Placement<'a> {
    id: &'a str,
    name: &'a str,
    params: BTreeMap<&'a str, &'a str>,
}

fn placement<'a>(line: &'a str, at: &str) -> Result<Placement<'a>, String> {
    let mut words = line.split_whitespace();
    let (Some(id), Some(name)) = (words.next(), words.next()) else {
        return Err(format!(
            "{at}: `{line}` is not `<id> <check name> [<param>=<value> ...]`"
        ));
    };
    let mut params = BTreeMap::new();
    for word in words {
        let (k, v) = word
            .split_once('=')
            .ok_or_else(|| format!("{at}: `{word}` in `{line}` is not `<param>=<value>`"))?;
        params.insert(k, v);
    }
    Ok(Placement { id, name, params })
}

/// One check of the library.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Comment lines above it, `#` included.
    pub comment: Vec<String>,
    /// Its body, indented as under the key (two spaces less than in a controls file's check).
    pub body: Vec<String>,
}

/// `cfg-src/checks/<target>.yaml`.
#[derive(Debug, Default)]
pub struct Library {
    pub header: String,
    pub entries: BTreeMap<String, Entry>,
}

pub fn library(target: &str) -> Result<Library, String> {
    let file = format!("cfg-src/checks/{target}.yaml");
    let text = fs::read_to_string(repo().join(&file)).map_err(|e| format!("{file}: {e}"))?;
    parse_library(&file, &text)
}

/// Splits a library file into its entries, keeping their text as written. The file must also
/// be valid YAML whose top level is a mapping, so an editor's YAML support works on it.
pub fn parse_library(file: &str, text: &str) -> Result<Library, String> {
    let doc = kubecis::yaml::to_value(file, text).map_err(|e| e.to_string())?;
    if !doc.is_object() {
        return Err(format!("{file}: the top level is not a mapping"));
    }
    let mut lib = Library::default();
    let lines: Vec<&str> = text.lines().collect();
    let mut comment: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.trim().is_empty() {
            comment.clear();
            i += 1;
            continue;
        }
        if line.starts_with('#') {
            comment.push(line.to_string());
            i += 1;
            continue;
        }
        let at = format!("{file}:{}", i + 1);
        let Some(name) = line
            .strip_suffix(':')
            .or_else(|| line.strip_suffix(": |"))
            .filter(|n| {
                !n.is_empty()
                    && n.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            })
        else {
            return Err(format!(
                "{at}: expected `<check name>:` at the start of a line (lower case, digits, -)"
            ));
        };
        let mut body = Vec::new();
        i += 1;
        while i < lines.len() && (lines[i].is_empty() || lines[i].starts_with("  ")) {
            body.push(lines[i].strip_prefix("  ").unwrap_or("").to_string());
            i += 1;
        }
        while body.last().is_some_and(String::is_empty) {
            body.pop();
        }
        if name == "header" {
            lib.header = body.join("\n");
        } else if lib
            .entries
            .insert(
                name.to_string(),
                Entry {
                    comment: std::mem::take(&mut comment),
                    body,
                },
            )
            .is_some()
        {
            return Err(format!("{at}: {name} is defined twice"));
        }
        comment.clear();
    }
    Ok(lib)
}

/// Replaces every `{{...}}` in `text`: `title`, `version`, `id:<check name>` and the
/// parameters. `used` collects the parameters used.
fn substitute<'a>(
    text: &str,
    layout: &Layout,
    ids: &BTreeMap<&str, &str>,
    params: &BTreeMap<&'a str, &'a str>,
    used: &mut BTreeSet<&'a str>,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed `{{{{` in `{text}`"))?;
        let name = &after[..end];
        let value = match name {
            "title" => layout.title.as_str(),
            "version" => layout.version.as_str(),
            _ => match name.strip_prefix("id:") {
                Some(check) => ids.get(check).copied().ok_or_else(|| {
                    format!("`{{{{{name}}}}}`: this benchmark has no check {check}")
                })?,
                None => match params.get_key_value(name) {
                    Some((k, v)) => {
                        used.insert(k);
                        v
                    }
                    None => return Err(format!("`{{{{{name}}}}}` has no value here")),
                },
            },
        };
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The first line of every generated file.
pub const BANNER: &str = "\
# Generated from cfg-src/ (see cfg/README.md); do not edit. Change the source, then
#   KUBECIS_BLESS=1 cargo test --test cfg_generated
#
";

fn comment_block(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "#\n".to_string()
            } else {
                format!("# {l}\n")
            }
        })
        .collect()
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The generated controls files of one benchmark: `(file name, text)` per target.
pub fn generate(benchmark: &str) -> Result<Vec<(String, String)>, String> {
    let layout = layout(benchmark)?;
    let recs = recommendations(benchmark)?;
    let at = format!("cfg-src/{benchmark}/layout.yaml");
    // Every placement, in order, and the id of each check name.
    let mut placements = Vec::new();
    for t in &layout.targets {
        for g in &t.groups {
            for line in &g.checks {
                placements.push(placement(line, &at)?);
            }
        }
    }
    let laid: Vec<&str> = placements.iter().map(|p| p.id).collect();
    let published: Vec<&str> = recs.iter().map(|r| r.id.as_str()).collect();
    if laid != published {
        let missing: Vec<&&str> = published.iter().filter(|i| !laid.contains(i)).collect();
        let extra: Vec<&&str> = laid.iter().filter(|i| !published.contains(i)).collect();
        return Err(format!(
            "{at}: the layout must list the published recommendations in order; \
             missing {missing:?}, not published {extra:?}"
        ));
    }
    let mut ids: BTreeMap<&str, &str> = BTreeMap::new();
    for p in &placements {
        if ids.insert(p.name, p.id).is_some() {
            return Err(format!("{at}: check {} is placed twice", p.name));
        }
    }
    let mut placements = placements.into_iter();
    let mut recs = recs.iter();
    let mut files = Vec::new();
    for t in &layout.targets {
        if !TARGETS.contains(&t.target.as_str()) {
            return Err(format!("{at}: unknown target {}", t.target));
        }
        let lib = library(&t.target)?;
        let none = BTreeMap::new();
        let mut header = substitute(&lib.header, &layout, &ids, &none, &mut BTreeSet::new())?;
        if let Some(note) = &t.note {
            header.push_str("\n\n");
            header
                .push_str(substitute(note, &layout, &ids, &none, &mut BTreeSet::new())?.trim_end());
        }
        let mut out = String::from(BANNER);
        out += &comment_block(&header);
        out += "controls:\n";
        out += &format!("version: {}\n", quoted(benchmark));
        out += &format!("id: {}\n", quoted(&t.id));
        out += &format!("text: {}\n", quoted(&t.text));
        out += &format!("type: {}\n", quoted(&t.target));
        out += "groups:\n";
        for (gi, g) in t.groups.iter().enumerate() {
            if gi > 0 {
                out.push('\n');
            }
            out += &format!("  - id: {}\n", quoted(&g.id));
            out += &format!("    text: {}\n", quoted(&g.text));
            out += "    checks:\n";
            for ci in 0..g.checks.len() {
                let p = placements.next().expect("counted above");
                let rec = recs.next().expect("counted above");
                let entry = lib.entries.get(p.name).ok_or_else(|| {
                    format!(
                        "{at}: {}: no check {} in cfg-src/checks/{}.yaml",
                        p.id, p.name, t.target
                    )
                })?;
                let mut used = BTreeSet::new();
                let mut sub = |s: &str| {
                    substitute(s, &layout, &ids, &p.params, &mut used)
                        .map_err(|e| format!("{at}: {} ({}): {e}", p.id, p.name))
                };
                if ci > 0 {
                    out.push('\n');
                }
                for c in &entry.comment {
                    out += &format!("      {}\n", sub(c)?);
                }
                out += &format!("      - id: {}\n", quoted(p.id));
                out += &format!("        text: {}\n", quoted(&rec.title));
                for b in &entry.body {
                    let b = sub(b)?;
                    if b.is_empty() {
                        out.push('\n');
                    } else {
                        out += &format!("        {b}\n");
                    }
                }
                out += &format!("        scored: {}\n", rec.automated);
                if let Some(unused) = p.params.keys().find(|k| !used.contains(*k)) {
                    return Err(format!(
                        "{at}: {} ({}): parameter {unused} is not used by the check",
                        p.id, p.name
                    ));
                }
            }
        }
        files.push((format!("{}.yaml", t.target), out));
    }
    Ok(files)
}

/// Every check name some layout places, per target.
pub fn used_names() -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let mut used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for b in benchmarks() {
        let layout = layout(&b)?;
        for t in &layout.targets {
            for g in &t.groups {
                for line in &g.checks {
                    let p = placement(line, &b)?;
                    used.entry(t.target.clone())
                        .or_default()
                        .insert(p.name.to_string());
                }
            }
        }
    }
    Ok(used)
}
