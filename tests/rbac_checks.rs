//! CIS 5.1 checks on the fixture clusters: a fresh kubeadm cluster yields no FAIL, and an
//! over-privileged one is reported subject by subject, binding by binding.

use std::path::PathBuf;

use kubecis::policies::objects::Objects;
use kubecis::policies::{evaluate, PolicyOutcome};
use kubecis::report::model::Status;

fn fixture(names: &[&str]) -> Objects {
    let paths: Vec<PathBuf> = names
        .iter()
        .map(|n| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/rbac")
                .join(n)
        })
        .collect();
    Objects::load(&paths).expect("fixtures load")
}

fn run(name: &str, objects: &Objects) -> PolicyOutcome {
    evaluate(name, objects).unwrap_or_else(|| panic!("{name} is not registered"))
}

const CHECKS: [&str; 13] = [
    "rbac-cluster-admin",
    "rbac-secrets-access",
    "rbac-wildcards",
    "rbac-create-pods",
    "default-service-accounts",
    "service-account-token-automount",
    "system-masters",
    "rbac-bind-impersonate-escalate",
    "rbac-create-pv",
    "rbac-node-proxy",
    "rbac-csr-approval",
    "rbac-webhook-config",
    "rbac-create-tokens",
];

#[test]
fn fresh_default_cluster_has_no_fail() {
    let objects = fixture(&["default-cluster.yaml"]);
    for name in CHECKS {
        let out = run(name, &objects);
        assert_ne!(out.status, Status::Fail, "{name}: {out:#?}");
        println!("{name}: {} {} {}", out.status, out.actual, out.reason);
    }
    // Checks whose objects are all there pass outright.
    for name in [
        "rbac-cluster-admin",
        "rbac-secrets-access",
        "rbac-wildcards",
        "rbac-create-pods",
        "rbac-bind-impersonate-escalate",
        "rbac-create-pv",
        "rbac-node-proxy",
        "rbac-csr-approval",
        "rbac-webhook-config",
        "rbac-create-tokens",
    ] {
        assert_eq!(run(name, &objects).status, Status::Pass, "{name}");
    }
    // No ServiceAccounts or workloads in the input: never a PASS.
    let sa = run("default-service-accounts", &objects);
    assert_eq!(sa.status, Status::Warn);
    assert!(sa.reason.contains("no ServiceAccount objects"), "{sa:?}");
    assert_eq!(
        run("service-account-token-automount", &objects).status,
        Status::Warn
    );
    // system:masters membership lives in certificates: WARN, never PASS.
    assert_eq!(run("system-masters", &objects).status, Status::Warn);
}

fn findings(name: &str, objects: &Objects) -> Vec<String> {
    let out = run(name, objects);
    assert_eq!(out.status, Status::Fail, "{name}: {out:#?}");
    out.findings
}

#[test]
fn overprivileged_cluster_names_exact_subjects_and_bindings() {
    let o = fixture(&["default-cluster.yaml", "overprivileged.yaml"]);
    assert_eq!(
        findings("rbac-cluster-admin", &o),
        [
            "ServiceAccount shop/default via RoleBinding/shop/default-sa-admin",
            "User alice via ClusterRoleBinding/alice-admin",
            "User mallory via ClusterRoleBinding/cluster-admin",
        ]
    );
    assert_eq!(
        findings("rbac-secrets-access", &o),
        [
            "Group shop-devs via RoleBinding/shop/devs-everything (Role/shop/everything): get secrets, list secrets, watch secrets",
            "ServiceAccount build/ci via ClusterRoleBinding/ci-reads-secrets (ClusterRole/secret-reader): get secrets, list secrets",
            "ServiceAccount shop/default via RoleBinding/shop/default-sa-admin (ClusterRole/cluster-admin): get secrets, list secrets, watch secrets",
            "User alice via ClusterRoleBinding/alice-admin (ClusterRole/cluster-admin): get secrets, list secrets, watch secrets",
            "User mallory via ClusterRoleBinding/cluster-admin (ClusterRole/cluster-admin): get secrets, list secrets, watch secrets",
        ]
    );
    assert_eq!(
        findings("rbac-wildcards", &o),
        [r#"Role/shop/everything rule 1: verbs ["*"] apiGroups ["*"] resources ["*"]"#]
    );
    let create_pods = findings("rbac-create-pods", &o);
    assert!(create_pods.contains(
        &"ServiceAccount platform/operator via ClusterRoleBinding/operator (ClusterRole/platform-operator): create pods".to_string()
    ));
    assert_eq!(create_pods.len(), 5, "{create_pods:#?}");
    assert_eq!(
        findings("default-service-accounts", &o),
        [
            "ServiceAccount shop/default is bound via RoleBinding/shop/default-sa-admin (ClusterRole/cluster-admin)",
            "ServiceAccount/shop/default: automountServiceAccountToken is not false",
        ]
    );
    assert_eq!(
        findings("service-account-token-automount", &o),
        ["Deployment/quiet/web mounts the token of ServiceAccount quiet/web, which no binding grants anything"]
    );
    assert_eq!(
        findings("system-masters", &o),
        ["Group system:masters via ClusterRoleBinding/masters-view (ClusterRole/view)"]
    );
    let bie = findings("rbac-bind-impersonate-escalate", &o);
    assert!(bie.contains(&"User bob via ClusterRoleBinding/bob-rbac-manager (ClusterRole/rbac-manager): bind clusterroles.rbac.authorization.k8s.io, escalate clusterroles.rbac.authorization.k8s.io, impersonate groups, impersonate users".to_string()), "{bie:#?}");
    for (check, what) in [
        ("rbac-create-pv", "create persistentvolumes"),
        ("rbac-node-proxy", "get nodes/proxy"),
        (
            "rbac-csr-approval",
            "update certificatesigningrequests/approval.certificates.k8s.io",
        ),
        (
            "rbac-webhook-config",
            "patch mutatingwebhookconfigurations.admissionregistration.k8s.io",
        ),
        ("rbac-create-tokens", "create serviceaccounts/token"),
    ] {
        let f = findings(check, &o);
        let operator = format!(
            "ServiceAccount platform/operator via ClusterRoleBinding/operator (ClusterRole/platform-operator): {what}"
        );
        assert!(f.contains(&operator), "{check}: {f:#?}");
        // Everyone else reported holds cluster-admin or the namespace wildcard role.
        for line in &f {
            assert!(
                *line == operator
                    || line.contains("(ClusterRole/cluster-admin)")
                    || line.contains("(Role/shop/everything)"),
                "{check}: unexpected {line}"
            );
        }
    }
}

#[test]
fn no_rbac_objects_is_warn_never_pass() {
    let mut o = Objects::default();
    o.add_text(
        "pods.yaml",
        "kind: Pod\nmetadata: {name: p, namespace: default}\nspec: {}\n",
    )
    .unwrap();
    for name in CHECKS {
        let out = run(name, &o);
        assert_eq!(out.status, Status::Warn, "{name}: {out:?}");
        assert!(!out.reason.is_empty(), "{name}");
    }
}

#[test]
fn live_kind_that_could_not_be_listed_is_warn_with_reason() {
    let mut o = fixture(&["default-cluster.yaml"]);
    for kind in ["ClusterRole", "ClusterRoleBinding", "Role"] {
        o.mark_listed(kind);
    }
    o.mark_unavailable("RoleBinding", "forbidden: cannot list rolebindings");
    let out = run("rbac-secrets-access", &o);
    assert_eq!(out.status, Status::Warn);
    assert!(out.reason.contains("RoleBinding: forbidden"), "{out:?}");
}

#[test]
fn default_cluster_really_grants_what_the_checks_ignore() {
    // The fresh cluster is only a meaningful "no FAIL" case if its defaults do hold the
    // permissions the checks look for.
    use kubecis::policies::rbac::{Rbac, Request, Scope};
    let rbac = Rbac::from_objects(&fixture(&["default-cluster.yaml"]));
    assert!(rbac.problems.is_empty(), "{:?}", rbac.problems);
    let secrets = rbac.who_can(&Request::resource("get", "", "secrets"));
    let shown: Vec<String> = secrets.iter().map(ToString::to_string).collect();
    assert!(shown.iter().any(|g| g.starts_with("User system:kube-controller-manager via ClusterRoleBinding/system:kube-controller-manager")), "{shown:#?}");
    assert!(shown
        .iter()
        .any(|g| g.starts_with("Group system:masters via ClusterRoleBinding/cluster-admin")));
    let escalate = rbac.who_can(
        &Request::resource("escalate", "rbac.authorization.k8s.io", "clusterroles")
            .scope(Scope::Cluster),
    );
    assert!(escalate
        .iter()
        .any(|g| g.binding
            == "ClusterRoleBinding/system:controller:clusterrole-aggregation-controller"));
}

#[test]
fn namespace_role_cannot_impersonate_users_but_can_impersonate_its_service_accounts() {
    let o = fixture(&["default-cluster.yaml", "overprivileged.yaml"]);
    let f = findings("rbac-bind-impersonate-escalate", &o);
    let devs: Vec<&String> = f
        .iter()
        .filter(|l| l.starts_with("Group shop-devs"))
        .collect();
    assert_eq!(
        devs,
        ["Group shop-devs via RoleBinding/shop/devs-everything (Role/shop/everything): bind clusterroles.rbac.authorization.k8s.io, bind roles.rbac.authorization.k8s.io, escalate clusterroles.rbac.authorization.k8s.io, escalate roles.rbac.authorization.k8s.io, impersonate serviceaccounts"]
    );
}
