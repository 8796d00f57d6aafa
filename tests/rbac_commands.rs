//! `can-i` and `who-can` on the article's worked example (shared/seeds/000) and the fixtures.

use std::path::PathBuf;

use kubecis::policies::rbac::commands::{can_i, who_can, CanIArgs, SourceArgs, WhoCanArgs};

fn source(names: &[&str]) -> SourceArgs {
    SourceArgs {
        objects: names
            .iter()
            .map(|n| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures/rbac")
                    .join(n)
            })
            .collect(),
        ..SourceArgs::default()
    }
}

fn can_i_as(
    user: &str,
    verb: &str,
    resource: &str,
    namespace: Option<&str>,
) -> (i32, String, String) {
    let args = CanIArgs {
        verb: verb.into(),
        resource: resource.into(),
        as_user: Some(user.into()),
        as_group: vec![],
        namespace: namespace.map(Into::into),
        all_namespaces: false,
        source: source(&["article-examples.yaml"]),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = can_i(&args, &mut out, &mut err).unwrap();
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[test]
fn pod_sa_can_list_pods_in_default_but_not_create_them() {
    let sa = "system:serviceaccount:default:pod-sa";
    assert_eq!(can_i_as(sa, "list", "pods", None).0, 0);
    assert_eq!(can_i_as(sa, "list", "pods", None).1, "yes\n");
    let (code, out, _) = can_i_as(sa, "create", "pods", None);
    assert_eq!((code, out.as_str()), (1, "no\n"));
    // The Role lives in `default`: nothing in other namespaces.
    assert_eq!(can_i_as(sa, "list", "pods", Some("kube-system")).0, 1);
    // And namespaces are not pods.
    assert_eq!(can_i_as(sa, "list", "namespaces", None).0, 1);
}

#[test]
fn namespace_sa_can_list_namespaces_but_not_create_one() {
    let sa = "system:serviceaccount:default:namespace-sa";
    assert_eq!(
        can_i_as(sa, "list", "namespaces", None),
        (0, "yes\n".into(), String::new())
    );
    assert_eq!(can_i_as(sa, "create", "namespaces", None).0, 1);
    assert_eq!(can_i_as(sa, "list", "pods", None).0, 1);
}

#[test]
fn group_only_and_missing_identity() {
    let mut args = CanIArgs {
        verb: "get".into(),
        resource: "/healthz".into(),
        as_user: None,
        as_group: vec!["system:unauthenticated".into()],
        namespace: None,
        all_namespaces: false,
        source: source(&["default-cluster.yaml"]),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(can_i(&args, &mut out, &mut err).unwrap(), 0);
    args.resource = "/metrics".into();
    assert_eq!(can_i(&args, &mut out, &mut err).unwrap(), 1);
    args.as_group.clear();
    assert!(can_i(&args, &mut out, &mut err).is_err());
}

#[test]
fn who_can_lists_subject_binding_and_role() {
    let run = |verb: &str, resource: &str, ns: Option<&str>, files: &[&str]| {
        let args = WhoCanArgs {
            verb: verb.into(),
            resource: resource.into(),
            namespace: ns.map(Into::into),
            source: source(files),
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert_eq!(who_can(&args, &mut out, &mut err).unwrap(), 0);
        (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    };
    let (out, err) = run("list", "pods", Some("default"), &["article-examples.yaml"]);
    assert_eq!(
        out,
        "KIND            SUBJECT         BINDING                              ROLE\n\
         ServiceAccount  default/pod-sa  RoleBinding/default/pod-rolebinding  Role/default/pod-role\n"
    );
    assert_eq!(err, "");
    let (out, _) = run("create", "pods", None, &["article-examples.yaml"]);
    assert_eq!(out, "No subjects found with permission to create pods\n");
    let (out, _) = run("list", "ns", None, &["article-examples.yaml"]);
    assert!(out.contains("ServiceAccount  default/namespace-sa  ClusterRoleBinding/namespace-clusterrolebinding  ClusterRole/namespace-clusterrole"), "{out}");

    // Over the fixtures: escalate on clusterroles, default grant included (who-can shows all).
    let (out, _) = run(
        "escalate",
        "clusterroles",
        None,
        &["default-cluster.yaml", "overprivileged.yaml"],
    );
    let subjects: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    let mut sorted = subjects.clone();
    sorted.sort();
    // Group system:masters holds cluster-admin twice (the bootstrap binding and
    // overprivileged.yaml's copy of it), so it is listed twice, once per binding.
    assert_eq!(
        sorted,
        [
            "alice",
            "bob",
            "kube-system/clusterrole-aggregation-controller",
            "kubeadm:cluster-admins",
            "mallory",
            "system:masters",
            "system:masters",
        ],
        "{out}"
    );
}

#[test]
fn shipped_rbac_yaml_grants_nobody_secrets() {
    let args = WhoCanArgs {
        verb: "get".into(),
        resource: "secrets".into(),
        namespace: None,
        source: SourceArgs {
            objects: vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/rbac.yaml")],
            ..SourceArgs::default()
        },
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    who_can(&args, &mut out, &mut err).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "No subjects found with permission to get secrets\n"
    );
}
