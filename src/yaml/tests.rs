use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;

use super::*;

fn value(text: &str) -> Value {
    to_value("t.yaml", text).unwrap_or_else(|e| panic!("{e}"))
}

fn error(text: &str) -> Error {
    match to_value("t.yaml", text) {
        Ok(v) => panic!("expected an error, read {v}"),
        Err(e) => e,
    }
}

/// Runs `f` on a thread and fails the test if it has not finished within `secs`: a harness
/// limit that catches a parser going quadratic or exponential, not a timing assertion.
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .unwrap_or_else(|_| panic!("still parsing after {secs} s"))
}

#[test]
fn deep_nesting_is_refused_early() {
    for (open, n) in [("{a: ", 40_000), ("{a: ", 100_000), ("[", 100_000)] {
        let text = open.repeat(n);
        let e = within(10, move || to_value("deep.yaml", &text).unwrap_err());
        assert_eq!(e.file, "deep.yaml");
        assert!(e.message.contains("nested deeper than 128 levels"), "{e}");
        assert_eq!(e.line, 1, "{e}");
    }
    let block: String = (0..200)
        .map(|i| format!("{}a:\n", "  ".repeat(i)))
        .collect();
    let e = within(10, move || to_value("deep.yaml", &block).unwrap_err());
    assert!(e.message.contains("nested deeper than 128 levels"), "{e}");
    assert_eq!(e.line, 129, "{e}");
    // 128 levels are fine.
    let ok = format!("{}1{}", "[".repeat(128), "]".repeat(128));
    assert!(to_value("ok.yaml", &ok).is_ok());
}

#[test]
fn alias_bombs_are_refused_before_they_expand() {
    // "Billion laughs": nine levels of nine aliases, 10^9 nodes once expanded.
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..=9 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    assert!(text.len() < 1024);
    let e = within(10, move || to_value("bomb.yaml", &text).unwrap_err());
    assert!(e.message.contains("excessive aliasing"), "{e}");
    assert_eq!(e.file, "bomb.yaml");
    assert!(e.line >= 2, "{e}");

    // A wide bomb stays under go-yaml's ratio (half the nodes are written out) but not under
    // the node limit.
    let mut wide = String::from("base: &b [");
    wide.push_str(&vec!["x"; 200_000].join(","));
    wide.push_str("]\nrefs: [");
    wide.push_str(&vec!["*b"; 30].join(","));
    wide.push_str("]\n");
    let e = within(10, move || to_value("wide.yaml", &wide).unwrap_err());
    assert!(
        e.message.contains("excessive aliasing") || e.message.contains("nodes"),
        "{e}"
    );

    // Ordinary reuse is fine.
    let v = value("base: &b {image: nginx}\nx: *b\nz: *b\n");
    assert_eq!(v["z"]["image"], "nginx");
    // `y` and `n` are booleans in YAML 1.1, keys included: Kubernetes reads this key as "true".
    assert_eq!(value("y: 1\n")["true"], 1);

    let e = error("a: &a [1, *a]\n");
    assert!(e.message.contains("contains it"), "{e}");
}

#[test]
fn size_scalars_and_documents_are_bounded() {
    let big = "a: ".to_string() + &"x".repeat(Limits::DEFAULT.max_bytes);
    let e = to_value("big.yaml", &big).unwrap_err();
    assert_eq!(e.line, 0);
    assert_eq!(
        e.to_string(),
        format!(
            "big.yaml: {} bytes is larger than the limit of {} bytes",
            big.len(),
            Limits::DEFAULT.max_bytes
        )
    );
    let scalar = format!("a: {}\n", "x".repeat(Limits::DEFAULT.max_scalar_bytes + 1));
    let e = within(10, move || to_value("s.yaml", &scalar).unwrap_err());
    assert!(e.message.contains("a scalar of 4194305 bytes"), "{e}");
    assert_eq!((e.line, e.column), (1, 4));

    let many = "---\na: 1\n".repeat(Limits::DEFAULT.max_documents + 1);
    let e = within(10, move || documents("many.yaml", &many).unwrap_err());
    assert!(e.message.contains("more than 10000 YAML documents"), "{e}");
    let fine = "---\na: 1\n".repeat(Limits::DEFAULT.max_documents);
    assert_eq!(documents("many.yaml", &fine).unwrap().len(), 10_000);

    let e = from_json::<Value>("snap.json", &"[".repeat(200), &Limits::DEFAULT).unwrap_err();
    assert!(e.message.contains("recursion limit"), "{e}");
    assert_eq!(e.line, 1);
}

#[test]
fn merge_keys_apply_as_go_yaml_v2_applies_them() {
    // Keys written after `<<` win; merged keys win over keys written before it.
    let v = value("m: {<<: {a: 1, b: 1}, a: 2}\nk: {a: 2, <<: {a: 1, b: 1}}\n");
    assert_eq!(v["m"], json!({"a": 2, "b": 1}));
    assert_eq!(v["k"], json!({"a": 1, "b": 1}));
    // A sequence of mappings: earlier ones win.
    let v = value("m: {<<: [{a: 1}, {a: 2, b: 2}], c: 3}\n");
    assert_eq!(v["m"], json!({"a": 1, "b": 2, "c": 3}));
    // Merged values replace, they are not merged deeper.
    let v = value("m: {<<: {s: {a: 1}}, s: {b: 2}}\n");
    assert_eq!(v["m"], json!({"s": {"b": 2}}));
    // Aliases, nested merges, merges inside sequence items.
    let v = value(
        "x: &x {a: 1}\nv: &v {<<: *x, b: 2}\nz: {<<: *v, c: 3}\nw: {<<: [*x, *v], a: 0}\n\
         items:\n  - <<: *x\n    name: one\n  - {<<: [*v], name: two}\n",
    );
    assert_eq!(v["z"], json!({"a": 1, "b": 2, "c": 3}));
    assert_eq!(v["w"], json!({"a": 0, "b": 2}));
    assert_eq!(v["items"][0], json!({"a": 1, "name": "one"}));
    assert_eq!(v["items"][1], json!({"a": 1, "b": 2, "name": "two"}));
    // Only the plain (or `!!merge`-tagged) `<<` merges.
    let v = value("m: {'<<': {a: 1}}\nk: {!!merge '<<': {a: 1}}\n");
    assert_eq!(v["m"], json!({"<<": {"a": 1}}));
    assert_eq!(v["k"], json!({"a": 1}));
    for bad in [
        "m: {<<: 1}",
        "m: {<<: [1]}",
        "m: {<<: ~}",
        "s: &s [1]\nm: {<<: *s}",
    ] {
        let e = error(bad);
        assert!(
            e.message.contains("a merge (`<<`) needs a mapping"),
            "{bad}: {e}"
        );
    }
}

#[test]
fn pod_specs_read_as_kubectl_reads_them() {
    let v = value(
        "spec:\n  hostNetwork: on\n  <<: {hostPID: yes}\n  containers:\n  - name: c\n    \
         securityContext: {<<: {privileged: true}, runAsUser: 0x0}\n    ports: [{containerPort: 0o17}]\n",
    );
    assert_eq!(v["spec"]["hostNetwork"], true);
    assert_eq!(v["spec"]["hostPID"], true);
    let c = &v["spec"]["containers"][0];
    assert_eq!(c["securityContext"]["privileged"], true);
    assert_eq!(c["securityContext"]["runAsUser"], 0);
    assert_eq!(c["ports"][0]["containerPort"], 15);
    // Non-string keys become strings; quoted scalars stay strings.
    let v = value("{1: a, yes: b, 1.10: c, 0x10: d, \"0644\": e, mode: '0644', m: 0644}");
    assert_eq!(
        v,
        json!({"1": "a", "true": "b", "1.1": "c", "16": "d", "0644": "e", "mode": "0644", "m": 420})
    );
    for (bad, want) in [
        ("{~: a}", "cannot be null"),
        ("{[a]: b}", "must be a scalar"),
        ("a: .inf", "not a number JSON can hold"),
        ("a: 1\na: 2", "duplicate mapping key `a`"),
        ("{1: a, '1': b}", "duplicate mapping key `1`"),
    ] {
        let e = error(bad);
        assert!(e.message.contains(want), "{bad}: {e}");
        assert!(e.line >= 1 && e.column >= 1, "{bad}: {e}");
    }
}

#[test]
fn documents_empty_and_multiple() {
    assert_eq!(value(""), Value::Null);
    assert_eq!(value("# only a comment\n"), Value::Null);
    let docs = documents("d.yaml", "a: 1\n---\n---\nb: 2\n").unwrap();
    assert_eq!(docs, [json!({"a": 1}), Value::Null, json!({"b": 2})]);
    let e = error("a: 1\n---\nb: 2\n");
    assert_eq!(
        e.to_string(),
        "t.yaml:3:1 (document 2): 2 YAML documents where one is expected"
    );
    let e = documents("d.yaml", "a: 1\n---\nb: [\n").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("d.yaml:3:4 (document 2): not valid YAML"),
        "{e}"
    );
}

#[derive(Debug, serde::Deserialize)]
struct Typed {
    #[serde(deserialize_with = "crate::benchmark::model::scalar")]
    id: String,
    #[serde(default, deserialize_with = "crate::benchmark::model::scalar")]
    value: String,
    #[serde(default)]
    scored: bool,
    #[serde(default)]
    items: Vec<Item>,
}

#[derive(Debug, serde::Deserialize)]
struct Item {
    #[allow(dead_code)]
    n: u32,
}

#[test]
fn typed_reads_keep_scalar_text_and_name_the_field() {
    let t: Typed = from_str("d.yaml", "id: 1.10\nvalue: false\nscored: yes\n").unwrap();
    assert_eq!(
        (t.id.as_str(), t.value.as_str(), t.scored),
        ("1.10", "false", true)
    );
    let t: Typed = from_str("d.yaml", "id: 0644\nvalue: ~\n").unwrap();
    assert_eq!((t.id.as_str(), t.value.as_str()), ("0644", ""));
    assert!(t.items.is_empty());
    let e = from_str::<Typed>("d.yaml", "id: a\nitems:\n  - n: 1\n  - n: x\n").unwrap_err();
    assert_eq!((e.line, e.column), (4, 8), "{e}");
    assert_eq!(e.path, "items[1].n");
    assert!(e.to_string().starts_with("d.yaml:4:8: items[1].n: "), "{e}");
    let e = from_str::<Typed>("d.yaml", &"[".repeat(100_000)).unwrap_err();
    assert!(e.line >= 1, "{e}");
}

#[test]
fn positions_point_where_fields_are_written() {
    let text = "\
# first
apiVersion: v1
kind: Pod
metadata:
  name: a
  annotations:
    kubernetes.io/x.y: z
---
base: &sc
  privileged: true
spec:
  template:
    spec:
      securityContext:
        <<: *sc
        runAsUser: 0
      containers:
        - name: c
          image: nginx
        - name: d
          securityContext: {<<: [{privileged: false}, *sc]}
";
    let docs = locate_all("p.yaml", text).unwrap();
    assert_eq!(docs.len(), 2);
    let at = |d: usize, path: &str| docs[d].find(path).map(|p| (p.line, p.column));
    assert_eq!(docs[0].start(), Position { line: 2, column: 1 });
    assert_eq!(docs[1].start(), Position { line: 9, column: 1 });
    assert_eq!(at(0, "metadata.name"), Some((5, 3)));
    assert_eq!(
        at(0, "metadata.annotations[kubernetes.io/x.y]"),
        Some((7, 5))
    );
    let sc = "spec.template.spec.securityContext";
    // Through the merge key: where the merged value was written.
    assert_eq!(at(1, &format!("{sc}.privileged")), Some((10, 3)));
    assert_eq!(at(1, &format!("{sc}.runAsUser")), Some((16, 9)));
    assert_eq!(at(1, "spec.template.spec.containers[1]"), Some((20, 11)));
    assert_eq!(
        at(
            1,
            "spec.template.spec.containers[1].securityContext.privileged"
        ),
        Some((21, 35))
    );
    assert_eq!(
        at(1, "spec.template.spec.containers[0].image"),
        Some((19, 11))
    );
    assert_eq!(at(1, "spec.template.spec.containers[2]"), None);
    assert_eq!(at(1, "spec.nothing"), None);
    assert_eq!(at(1, ""), Some((9, 1)));
    let one = locate("p.yaml", text, 1).unwrap().unwrap();
    assert_eq!(one.find("spec.template").map(|p| p.line), Some(12));
    assert!(locate("p.yaml", text, 2).unwrap().is_none());
    // The same reading as `documents`: the merged value here is false, written on line 21.
    let v = &documents("p.yaml", text).unwrap()[1];
    assert_eq!(
        v["spec"]["template"]["spec"]["containers"][1]["securityContext"]["privileged"],
        false
    );
}
