//! The JSONPath subset check definitions use (`{.authentication.anonymous.enabled}`,
//! `{.a.b[0]}`, `{.a['dotted.key']}`, `{.list[*].name}`) over a YAML or JSON document.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    All,
}

fn parse(path: &str) -> Result<Vec<Step>, String> {
    let inner = path.trim();
    let inner = inner
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .unwrap_or(inner);
    let mut steps = Vec::new();
    let mut rest = inner.strip_prefix('$').unwrap_or(inner);
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end > 0 {
                steps.push(Step::Key(r[..end].to_string()));
            }
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r
                .find(']')
                .ok_or_else(|| format!("unclosed `[` in {path}"))?;
            let sel = r[..end].trim();
            steps.push(if sel == "*" {
                Step::All
            } else if let Ok(i) = sel.parse() {
                Step::Index(i)
            } else {
                Step::Key(sel.trim_matches(|c| c == '\'' || c == '"').to_string())
            });
            rest = &r[end + 1..];
        } else {
            return Err(format!("cannot read `{rest}` in path {path}"));
        }
    }
    Ok(steps)
}

/// The values at `path` (several with `[*]`); empty when the path leads nowhere.
pub fn lookup(doc: &Value, path: &str) -> Result<Vec<Value>, String> {
    let mut current = vec![doc.clone()];
    for step in parse(path)? {
        current = current
            .into_iter()
            .flat_map(|v| match (&step, v) {
                (Step::Key(k), Value::Object(mut m)) => m.remove(k).into_iter().collect(),
                (Step::Index(i), Value::Array(mut a)) if *i < a.len() => vec![a.swap_remove(*i)],
                (Step::All, Value::Array(a)) => a,
                (Step::All, Value::Object(m)) => m.into_iter().map(|(_, v)| v).collect(),
                _ => Vec::new(),
            })
            .collect();
    }
    Ok(current)
}

/// A found value as the text compare operators read: scalars as written, lists of scalars
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

    #[test]
    fn paths_find_nested_values() {
        let doc = json!({"authentication": {"anonymous": {"enabled": false}, "x509": {"clientCAFile": "/etc/ca.crt"}},
                         "tlsCipherSuites": ["A", "B"], "featureGates": {"a.b": true},
                         "resources": [{"providers": [{"aescbc": {}}, {"identity": {}}]}]});
        let t = |p| value_text(&lookup(&doc, p).unwrap());
        assert_eq!(t("{.authentication.anonymous.enabled}"), "false");
        assert_eq!(t("{.authentication.x509.clientCAFile}"), "/etc/ca.crt");
        assert_eq!(t("{.tlsCipherSuites}"), "A,B");
        assert_eq!(t("{.tlsCipherSuites[1]}"), "B");
        assert_eq!(t("{.featureGates['a.b']}"), "true");
        assert_eq!(t("{.resources[*].providers[0]}"), "{\"aescbc\":{}}");
        let enc =
            json!({"providers": [{"aescbc": {"keys": [{"name": "k", "secret": "c2VjcmV0"}]}}]});
        assert_eq!(
            value_text(&lookup(&enc, "{.providers[0].aescbc}").unwrap()),
            "{\"keys\":[{\"name\":\"k\",\"secret\":\"REDACTED\"}]}"
        );
        assert!(lookup(&doc, "{.authentication.missing}")
            .unwrap()
            .is_empty());
        assert!(lookup(&doc, "{.a[0}").is_err());
    }
}
