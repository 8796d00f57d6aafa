//! The JSONPath that check definitions use to find a value in a YAML or JSON document, parsed
//! once when the definitions load. It is the part of Kubernetes' JSONPath templates
//! (`k8s.io/client-go/util/jsonpath`, which kube-bench runs) that definitions need:
//!
//! - one expression in braces: `{.authentication.anonymous.enabled}`, `{.a.b[0]}`,
//!   `{.a['dotted.key']}`, `{.list[*].name}`, `{.list[1:3]}`, `{$.a}`;
//! - kube-bench's way of printing a list: `{range .tlsCipherSuites[:]}{}{','}{end}` — a
//!   `range ... end` block whose body prints the current item (`{}` or `{@}`), a field of it,
//!   or a quoted literal.
//!
//! Anything else is refused with the reason, so a definition that cannot be evaluated is
//! reported as such instead of reading as "not set": text outside braces (`.x` without braces,
//! a stray `}`), an unclosed bracket, an unquoted key in brackets, negative indices and slice
//! steps, filters (`[?(...)]`), recursive descent (`..`) and unions (`[0,1]`).

use std::fmt;

use serde_json::Value;

/// A parsed JSONPath. Displays as written.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    text: String,
    actions: Vec<Action>,
}

/// One `{...}` of a template.
#[derive(Debug, Clone, PartialEq)]
enum Action {
    /// A path from the document (or, inside `range`, from the current item).
    Path(Vec<Step>),
    /// `{}` or `{@}`: the current item.
    Current,
    /// `{'text'}`.
    Literal(String),
    /// `{range PATH}` ... `{end}`.
    Range(Vec<Step>, Vec<Action>),
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    /// `[*]`, `[:]` and `[a:b]` (end exclusive, either bound optional).
    Slice(Option<usize>, Option<usize>),
}

/// Read from `config.yaml` (`from_config`), where a malformed path is an error of the file.
impl<'de> serde::Deserialize<'de> for JsonPath {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        JsonPath::parse(&text).map_err(|e| serde::de::Error::custom(format!("`{text}`: {e}")))
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl JsonPath {
    /// Parses a template; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<JsonPath, String> {
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err("empty JSONPath: write the field to read, e.g. `{.readOnlyPort}`".into());
        }
        let mut flat = Vec::new();
        while !rest.is_empty() {
            let Some(inner) = rest.strip_prefix('{') else {
                let shown = rest.chars().take(20).collect::<String>();
                return Err(format!(
                    "text outside `{{...}}` (`{shown}`): a JSONPath is written in braces, e.g. `{{.readOnlyPort}}`"
                ));
            };
            let end = closing_brace(inner).ok_or("unclosed `{`")?;
            flat.push(action(inner[..end].trim())?);
            rest = &inner[end + 1..];
        }
        let mut items = flat.into_iter();
        let actions = nest(&mut items, false)?;
        Ok(JsonPath {
            text: text.to_string(),
            actions,
        })
    }

    /// The path as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The value the path finds in `doc`, as the text compare operators read; `None` when the
    /// path leads nowhere (or only to nulls, or prints nothing): the value is not set.
    ///
    /// A single expression gives scalars as written and a list of scalars joined with commas;
    /// a template with `range` or literals gives what it prints.
    pub fn find(&self, doc: &Value) -> Option<String> {
        if let [Action::Path(steps)] = self.actions.as_slice() {
            let values = select(doc, steps);
            if values.iter().all(|v| v.is_null()) {
                return None;
            }
            return Some(value_text(&values));
        }
        let mut out = String::new();
        print(&self.actions, doc, &mut out);
        (!out.is_empty()).then_some(out)
    }
}

/// Where the `}` closing an action is, skipping braces inside quotes.
fn closing_brace(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '}') => return Some(i),
            _ => {}
        }
    }
    None
}

/// A parsed action before `range` blocks are nested; `End` closes one.
enum Flat {
    Action(Action),
    RangeStart(Vec<Step>),
    End,
}

fn action(inner: &str) -> Result<Flat, String> {
    if inner.is_empty() || inner == "@" {
        return Ok(Flat::Action(Action::Current));
    }
    if inner == "end" {
        return Ok(Flat::End);
    }
    if let Some(path) = inner.strip_prefix("range ") {
        return Ok(Flat::RangeStart(steps(path.trim())?));
    }
    if let Some(q) = inner.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let body = &inner[1..];
        return match body.strip_suffix(q) {
            Some(text) if !text.contains(q) => Ok(Flat::Action(Action::Literal(text.to_string()))),
            _ => Err(format!("malformed literal `{inner}`")),
        };
    }
    Ok(Flat::Action(Action::Path(steps(inner)?)))
}

fn nest(items: &mut impl Iterator<Item = Flat>, in_range: bool) -> Result<Vec<Action>, String> {
    let mut out = Vec::new();
    while let Some(item) = items.next() {
        match item {
            Flat::Action(a) => out.push(a),
            Flat::RangeStart(path) => out.push(Action::Range(path, nest(items, true)?)),
            Flat::End if in_range => return Ok(out),
            Flat::End => return Err("`{end}` without `{range ...}`".into()),
        }
    }
    if in_range {
        return Err("`{range ...}` without `{end}`".into());
    }
    Ok(out)
}

/// The steps of one path expression: `.a.b[0]`, `$.a`, `@.a`, `['k']`.
fn steps(expr: &str) -> Result<Vec<Step>, String> {
    let mut rest = expr
        .strip_prefix('$')
        .or_else(|| expr.strip_prefix('@'))
        .unwrap_or(expr);
    if rest.is_empty() && expr.is_empty() {
        return Err("empty expression".into());
    }
    let mut out = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            if r.starts_with('.') {
                return Err(format!(
                    "recursive descent (`..`) is not supported in `{expr}`"
                ));
            }
            let end = r
                .find(|c: char| {
                    matches!(c, '.' | '[' | ']' | '{' | '}' | '\'' | '"') || c.is_whitespace()
                })
                .unwrap_or(r.len());
            if end == 0 {
                // `{.}` is the document itself; `.[0]` an index of it.
                rest = r;
                if rest.is_empty() || rest.starts_with('[') {
                    continue;
                }
                return Err(format!("cannot read `{r}` in `{expr}`"));
            }
            out.push(Step::Key(r[..end].to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r
                .find(']')
                .ok_or_else(|| format!("unclosed `[` in `{expr}`"))?;
            out.push(selector(r[..end].trim(), expr)?);
            rest = &r[end + 1..];
        } else {
            return Err(format!("cannot read `{rest}` in `{expr}`"));
        }
    }
    Ok(out)
}

fn selector(sel: &str, expr: &str) -> Result<Step, String> {
    if sel == "*" {
        return Ok(Step::Slice(None, None));
    }
    if let Some(q) = sel.chars().next().filter(|c| *c == '\'' || *c == '"') {
        return match sel[1..].strip_suffix(q) {
            Some(key) => Ok(Step::Key(key.to_string())),
            None => Err(format!("malformed quoted key `[{sel}]` in `{expr}`")),
        };
    }
    if sel.starts_with('?') {
        return Err(format!("filters (`[{sel}]`) are not supported in `{expr}`"));
    }
    if sel.contains(',') {
        return Err(format!("unions (`[{sel}]`) are not supported in `{expr}`"));
    }
    let index = |s: &str| -> Result<Option<usize>, String> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        if s.starts_with('-') {
            return Err(format!(
                "negative index `{s}` is not supported in `{expr}`: name the position from the start"
            ));
        }
        s.parse()
            .map(Some)
            .map_err(|_| format!("`[{sel}]` in `{expr}` is not an index, a slice or a quoted key"))
    };
    match sel.split(':').collect::<Vec<_>>().as_slice() {
        [one] => index(one)?
            .map(Step::Index)
            .ok_or_else(|| format!("empty `[]` in `{expr}`")),
        [from, to] => Ok(Step::Slice(index(from)?, index(to)?)),
        _ => Err(format!(
            "slice steps (`[{sel}]`) are not supported in `{expr}`"
        )),
    }
}

/// The values `steps` lead to from `from`; several after a slice.
fn select(from: &Value, steps: &[Step]) -> Vec<Value> {
    let mut current = vec![from];
    for step in steps {
        current = current
            .into_iter()
            .flat_map(|v| -> Vec<&Value> {
                match (step, v) {
                    (Step::Key(k), Value::Object(m)) => m.get(k).into_iter().collect(),
                    (Step::Index(i), Value::Array(a)) => a.get(*i).into_iter().collect(),
                    (Step::Slice(from, to), Value::Array(a)) => {
                        let to = to.unwrap_or(a.len()).min(a.len());
                        let from = from.unwrap_or(0).min(to);
                        a[from..to].iter().collect()
                    }
                    (Step::Slice(None, None), Value::Object(m)) => m.values().collect(),
                    _ => Vec::new(),
                }
            })
            .collect();
    }
    current.into_iter().cloned().collect()
}

/// Prints a template's actions as Kubernetes' JSONPath prints them: the results of one
/// action separated by spaces, a `range` body once per item, whose paths start at that item.
fn print(actions: &[Action], current: &Value, out: &mut String) {
    for action in actions {
        match action {
            Action::Literal(text) => out.push_str(text),
            Action::Current => out.push_str(&value_text(std::slice::from_ref(current))),
            Action::Path(steps) => {
                let values = select(current, steps);
                let texts: Vec<String> = values
                    .iter()
                    .map(|v| value_text(std::slice::from_ref(v)))
                    .collect();
                out.push_str(&texts.join(" "));
            }
            Action::Range(steps, body) => {
                for value in select(current, steps) {
                    match &value {
                        Value::Array(items) => {
                            for item in items {
                                print(body, item, out);
                            }
                        }
                        other => print(body, other, out),
                    }
                }
            }
        }
    }
}

/// Found values as the text compare operators read: scalars as written, lists of scalars
/// joined with commas, anything else as JSON with secret values redacted (this text is shown
/// in reports as the observed value).
pub fn value_text(values: &[Value]) -> String {
    let parts: Vec<String> = values
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            Value::Array(items) => value_text(items),
            Value::Null => String::new(),
            other => crate::secrets::redact_value(other).to_string(),
        })
        .collect();
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn find(doc: &Value, path: &str) -> Option<String> {
        JsonPath::parse(path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .find(doc)
    }

    #[test]
    fn paths_find_nested_values() {
        let doc = json!({"authentication": {"anonymous": {"enabled": false}, "x509": {"clientCAFile": "/etc/ca.crt"}},
                         "tlsCipherSuites": ["A", "B"], "featureGates": {"a.b": true},
                         "resources": [{"providers": [{"aescbc": {}}, {"identity": {}}]}],
                         "nothing": null});
        let t = |p| find(&doc, p).unwrap_or_else(|| panic!("{p} not found"));
        assert_eq!(t("{.authentication.anonymous.enabled}"), "false");
        assert_eq!(t("{$.authentication.x509.clientCAFile}"), "/etc/ca.crt");
        assert_eq!(t("{.tlsCipherSuites}"), "A,B");
        assert_eq!(t("{.tlsCipherSuites[1]}"), "B");
        assert_eq!(t("{.tlsCipherSuites[0:1]}"), "A");
        assert_eq!(t("{.featureGates['a.b']}"), "true");
        assert_eq!(t("{.resources[*].providers[0]}"), "{\"aescbc\":{}}");
        let enc =
            json!({"providers": [{"aescbc": {"keys": [{"name": "k", "secret": "c2VjcmV0"}]}}]});
        assert_eq!(
            find(&enc, "{.providers[0].aescbc}").unwrap(),
            "{\"keys\":[{\"name\":\"k\",\"secret\":\"REDACTED\"}]}"
        );
        for absent in [
            "{.authentication.missing}",
            "{.nothing}",
            "{.tlsCipherSuites[5]}",
        ] {
            assert_eq!(find(&doc, absent), None, "{absent}");
        }
    }

    #[test]
    fn kube_bench_s_range_template_prints_every_item() {
        let path = "{range .tlsCipherSuites[:]}{}{','}{end}";
        let doc = json!({"tlsCipherSuites": ["A", "B"], "items": [{"n": 1}, {"n": 2}]});
        assert_eq!(find(&doc, path).as_deref(), Some("A,B,"));
        assert_eq!(
            find(&json!({}), path),
            None,
            "no list: nothing printed, not set"
        );
        assert_eq!(
            find(&doc, "{range .items[*]}{.n}{\"-\"}{end}").as_deref(),
            Some("1-2-")
        );
    }

    #[test]
    fn malformed_paths_are_refused_with_the_reason() {
        for (path, want) in [
            ("", "empty JSONPath"),
            ("  ", "empty JSONPath"),
            (".x", "text outside `{...}`"),
            ("{.a}}", "text outside `{...}`"),
            ("/var/lib/kubelet/x.crt", "text outside"),
            ("{.a]}", "cannot read `]`"),
            ("{.a[0}", "unclosed `[`"),
            ("{.a", "unclosed `{`"),
            ("{.a[-1]}", "negative index `-1` is not supported"),
            ("{.a[x]}", "is not an index"),
            ("{.a[?(@.x==1)]}", "filters"),
            ("{..a}", "recursive descent"),
            ("{.a[0,1]}", "unions"),
            ("{.a[::2]}", "slice steps"),
            ("{range .a[*]}{}", "without `{end}`"),
            ("{end}", "without `{range"),
        ] {
            let err = JsonPath::parse(path).expect_err(path);
            assert!(err.contains(want), "{path}: {err}");
        }
    }
}
