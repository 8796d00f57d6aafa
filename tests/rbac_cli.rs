//! `kubecis can-i` and `kubecis who-can` through the binary: answers, exit codes (0 yes, 1 no,
//! 2 bad input) and output, on the worked example of the RBAC article
//! (tests/fixtures/rbac/article-examples.yaml).

mod common;

use common::kubecis;

const OBJECTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/rbac/article-examples.yaml"
);

#[test]
fn can_i_answers_like_kubectl_auth_can_i() {
    let cases = [
        (
            "list",
            "pods",
            "system:serviceaccount:default:pod-sa",
            "default",
            0,
            "yes",
        ),
        (
            "create",
            "pods",
            "system:serviceaccount:default:pod-sa",
            "default",
            1,
            "no",
        ),
        (
            "list",
            "pods",
            "system:serviceaccount:default:pod-sa",
            "kube-system",
            1,
            "no",
        ),
        (
            "list",
            "namespaces",
            "system:serviceaccount:default:namespace-sa",
            "default",
            0,
            "yes",
        ),
        (
            "create",
            "namespaces",
            "system:serviceaccount:default:namespace-sa",
            "default",
            1,
            "no",
        ),
    ];
    for (verb, resource, who, ns, code, answer) in cases {
        let (got, out, err) = kubecis(&[
            "can-i",
            verb,
            resource,
            "--as",
            who,
            "-n",
            ns,
            "--objects",
            OBJECTS,
        ]);
        assert_eq!(got, code, "{verb} {resource} as {who} in {ns}: {out}{err}");
        assert_eq!(out.trim(), answer, "{verb} {resource} as {who} in {ns}");
    }
}

#[test]
fn who_can_names_the_subject_binding_and_role() {
    let (code, out, err) = kubecis(&[
        "who-can",
        "list",
        "pods",
        "-n",
        "default",
        "--objects",
        OBJECTS,
    ]);
    assert_eq!(code, 0, "{err}");
    let line = out
        .lines()
        .find(|l| l.contains("pod-sa"))
        .unwrap_or_else(|| panic!("pod-sa not listed:\n{out}"));
    assert!(
        line.contains("pod-rolebinding") && line.contains("pod-role"),
        "{line}"
    );
    let (_, out, _) = kubecis(&[
        "who-can",
        "create",
        "pods",
        "-n",
        "default",
        "--objects",
        OBJECTS,
    ]);
    assert!(!out.contains("pod-sa"), "pod-sa may only list pods:\n{out}");
}

#[test]
fn unreadable_objects_exit_2_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "kind: Role\n---\nkind: [unclosed\n").unwrap();
    let (code, _, err) = kubecis(&[
        "can-i",
        "list",
        "pods",
        "--as",
        "alice",
        "--objects",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.yaml:3:7 (document 2)"), "{err}");
}
