//! A synthetic cluster for benchmarks: 2,000 roles, 5,000 bindings and 5,000 pods owned by
//! ReplicaSets of Deployments, on top of the fresh-cluster RBAC fixture. Deterministic (no RNG),
//! so runs compare.

use kubecis::policies::objects::{Objects, Origin};
use serde_json::{json, Value};

pub const NAMESPACES: usize = 50;
pub const ROLES: usize = 2_000;
pub const BINDINGS: usize = 5_000;
pub const PODS: usize = 5_000;
const PODS_PER_REPLICASET: usize = 5;

const RESOURCES: &[(&str, &str)] = &[
    ("", "pods"),
    ("", "pods/exec"),
    ("", "pods/log"),
    ("", "secrets"),
    ("", "configmaps"),
    ("", "services"),
    ("", "serviceaccounts"),
    ("", "serviceaccounts/token"),
    ("", "persistentvolumeclaims"),
    ("", "nodes"),
    ("", "nodes/proxy"),
    ("", "persistentvolumes"),
    ("apps", "deployments"),
    ("apps", "deployments/scale"),
    ("apps", "statefulsets"),
    ("batch", "jobs"),
    ("networking.k8s.io", "networkpolicies"),
    ("rbac.authorization.k8s.io", "roles"),
    ("rbac.authorization.k8s.io", "rolebindings"),
    ("certificates.k8s.io", "certificatesigningrequests/approval"),
];
const VERBS: &[&str] = &[
    "get", "list", "watch", "create", "update", "patch", "delete",
];

fn ns(i: usize) -> String {
    format!("team-{}", i % NAMESPACES)
}

fn rules(i: usize) -> Value {
    let mut rules = Vec::new();
    for r in 0..5 {
        let k = i * 7 + r * 3;
        let (group, resource) = RESOURCES[k % RESOURCES.len()];
        let verbs: Vec<&str> = (0..3).map(|v| VERBS[(k + v * 2) % VERBS.len()]).collect();
        rules.push(json!({"apiGroups": [group], "resources": [resource], "verbs": verbs}));
    }
    if i.is_multiple_of(97) {
        rules.push(json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list"]}));
    }
    if i.is_multiple_of(13) {
        rules.push(json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": [format!("s-{i}")]}));
    }
    Value::Array(rules)
}

fn subjects(i: usize, namespace: &str) -> Value {
    let mut s = vec![
        json!({"kind": "ServiceAccount", "name": format!("sa-{}", i % 40), "namespace": namespace}),
    ];
    if i.is_multiple_of(3) {
        s.push(json!({"kind": "User", "name": format!("user-{}", i % 300)}));
    }
    if i.is_multiple_of(5) {
        s.push(json!({"kind": "Group", "name": format!("group-{}", i % 30)}));
    }
    Value::Array(s)
}

fn pod_spec(i: usize) -> Value {
    let mut container = json!({"name": "app", "image": format!("registry.example.com/app:{i}")});
    if i.is_multiple_of(2) {
        container["securityContext"] = json!({"runAsNonRoot": true, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}});
    }
    if i.is_multiple_of(11) {
        container["env"] = json!([{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]);
    }
    json!({"serviceAccountName": format!("sa-{}", i % 40), "containers": [container]})
}

/// The synthetic cluster, as a live listing would give it (every kind marked listed).
pub fn cluster() -> Objects {
    let mut objects = Objects::default();
    objects
        .add_text(
            "default-cluster.yaml",
            include_str!("../../tests/fixtures/rbac/default-cluster.yaml"),
        )
        .expect("fixture");
    let mut add = |value: Value| {
        let origin = Origin {
            file: "synthetic".into(),
            document: 0,
        };
        objects.add_value(value, origin).expect("synthetic object");
    };
    for n in 0..NAMESPACES {
        let name = format!("team-{n}");
        add(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {"pod-security.kubernetes.io/enforce": if n % 2 == 0 {"baseline"} else {"privileged"}}}}),
        );
        add(
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": name}}),
        );
        for s in 0..40 {
            add(
                json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": format!("sa-{s}"), "namespace": name}}),
            );
        }
        if n % 3 != 0 {
            add(
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny", "namespace": name}, "spec": {"podSelector": {}}}),
            );
        }
    }
    // 2,000 roles: a quarter ClusterRoles, the rest Roles spread over the namespaces.
    for i in 0..ROLES {
        if i.is_multiple_of(4) {
            add(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": format!("cr-{i}")}, "rules": rules(i)}),
            );
        } else {
            add(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": format!("role-{i}"), "namespace": ns(i)}, "rules": rules(i)}),
            );
        }
    }
    // 5,000 bindings: a fifth ClusterRoleBindings, the rest RoleBindings (to Roles of their
    // namespace and to ClusterRoles).
    for i in 0..BINDINGS {
        let role = (i * 31) % ROLES;
        if i.is_multiple_of(5) {
            let cr = role - role % 4;
            add(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": format!("crb-{i}")},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": format!("cr-{cr}")},
                "subjects": subjects(i, &ns(i))}),
            );
        } else if role.is_multiple_of(4) {
            add(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": format!("rb-{i}"), "namespace": ns(i)},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": format!("cr-{role}")},
                "subjects": subjects(i, &ns(i))}),
            );
        } else {
            add(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": format!("rb-{i}"), "namespace": ns(role)},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": format!("role-{role}")},
                "subjects": subjects(i, &ns(role))}),
            );
        }
    }
    // 5,000 pods in 1,000 ReplicaSets of 1,000 Deployments.
    for d in 0..PODS / PODS_PER_REPLICASET {
        let namespace = ns(d);
        let spec = pod_spec(d);
        add(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": format!("app-{d}"), "namespace": namespace},
            "spec": {"replicas": PODS_PER_REPLICASET, "template": {"metadata": {"labels": {"app": format!("app-{d}")}}, "spec": spec}}}),
        );
        add(
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": format!("app-{d}-7d9f"), "namespace": namespace,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": format!("app-{d}"), "controller": true}]},
            "spec": {"template": {"spec": spec}}}),
        );
        for p in 0..PODS_PER_REPLICASET {
            add(
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("app-{d}-7d9f-{p}"), "namespace": namespace,
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("app-{d}-7d9f"), "controller": true}]},
                "spec": spec}),
            );
        }
    }
    for kind in [
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "ServiceAccount",
        "Namespace",
        "Pod",
        "ReplicationController",
        "Deployment",
        "ReplicaSet",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
        "NetworkPolicy",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    ] {
        objects.mark_listed(kind);
    }
    objects
}
