//! The RBAC objects every fresh cluster has: the API server's bootstrap policy (`system:*`
//! roles and bindings, `cluster-admin`, `admin`/`edit`/`view`) and what kubeadm adds
//! (`kubeadm:*`, `kube-proxy`, CoreDNS).
//!
//! CIS 5.1 asks about grants *people* made; flagging these would bury every finding under the
//! same forty lines on every cluster. A grant counts as default only when the binding's name,
//! namespace and roleRef are the known ones **and** the subject is one the default binding
//! names — a user added to a default binding (say, to `cluster-admin`) is still reported.

use super::{Binding, BindingKind, Role, RoleKind, Subject};

/// The label the API server puts on every object of its bootstrap policy.
const BOOTSTRAP_LABEL: (&str, &str) = ("kubernetes.io/bootstrapping", "rbac-defaults");

const NODE_TOKEN_GROUP: &str = "system:bootstrappers:kubeadm:default-node-token";

/// One known default binding: (binding kind, namespace, name, roleRef name, subjects).
type Known = (
    BindingKind,
    &'static str,
    &'static str,
    &'static str,
    &'static [KnownSubject],
);

#[derive(Clone, Copy)]
enum KnownSubject {
    User(&'static str),
    Group(&'static str),
    Sa(&'static str, &'static str),
}

use BindingKind::{ClusterRoleBinding as Crb, RoleBinding as Rb};
use KnownSubject::{Group, Sa, User};

/// Default bindings other than the per-controller `system:controller:<name>` ones (those follow
/// one pattern, see [`is_controller_binding`]).
const KNOWN_BINDINGS: &[Known] = &[
    // API server bootstrap policy: ClusterRoleBindings.
    (
        Crb,
        "",
        "cluster-admin",
        "cluster-admin",
        &[Group("system:masters")],
    ),
    (
        Crb,
        "",
        "system:monitoring",
        "system:monitoring",
        &[Group("system:monitoring")],
    ),
    (
        Crb,
        "",
        "system:discovery",
        "system:discovery",
        &[Group("system:authenticated")],
    ),
    (
        Crb,
        "",
        "system:basic-user",
        "system:basic-user",
        &[Group("system:authenticated")],
    ),
    (
        Crb,
        "",
        "system:public-info-viewer",
        "system:public-info-viewer",
        &[
            Group("system:authenticated"),
            Group("system:unauthenticated"),
        ],
    ),
    (
        Crb,
        "",
        "system:node-proxier",
        "system:node-proxier",
        &[User("system:kube-proxy")],
    ),
    (
        Crb,
        "",
        "system:kube-controller-manager",
        "system:kube-controller-manager",
        &[User("system:kube-controller-manager")],
    ),
    (
        Crb,
        "",
        "system:kube-dns",
        "system:kube-dns",
        &[Sa("kube-system", "kube-dns")],
    ),
    (
        Crb,
        "",
        "system:kube-scheduler",
        "system:kube-scheduler",
        &[User("system:kube-scheduler")],
    ),
    (
        Crb,
        "",
        "system:volume-scheduler",
        "system:volume-scheduler",
        &[User("system:kube-scheduler")],
    ),
    (Crb, "", "system:node", "system:node", &[]),
    (
        Crb,
        "",
        "system:service-account-issuer-discovery",
        "system:service-account-issuer-discovery",
        &[Group("system:serviceaccounts")],
    ),
    // API server bootstrap policy: RoleBindings in kube-system.
    (
        Rb,
        "kube-system",
        "system::extension-apiserver-authentication-reader",
        "extension-apiserver-authentication-reader",
        &[
            User("system:kube-controller-manager"),
            User("system:kube-scheduler"),
        ],
    ),
    (
        Rb,
        "kube-system",
        "system::leader-locking-kube-controller-manager",
        "system::leader-locking-kube-controller-manager",
        &[
            User("system:kube-controller-manager"),
            Sa("kube-system", "kube-controller-manager"),
        ],
    ),
    (
        Rb,
        "kube-system",
        "system::leader-locking-kube-scheduler",
        "system::leader-locking-kube-scheduler",
        &[
            User("system:kube-scheduler"),
            Sa("kube-system", "kube-scheduler"),
        ],
    ),
    // kubeadm.
    (
        Crb,
        "",
        "kubeadm:cluster-admins",
        "cluster-admin",
        &[Group("kubeadm:cluster-admins")],
    ),
    (
        Crb,
        "",
        "kubeadm:get-nodes",
        "kubeadm:get-nodes",
        &[Group(NODE_TOKEN_GROUP)],
    ),
    (
        Crb,
        "",
        "kubeadm:kubelet-bootstrap",
        "system:node-bootstrapper",
        &[Group(NODE_TOKEN_GROUP)],
    ),
    (
        Crb,
        "",
        "kubeadm:node-autoapprove-bootstrap",
        "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
        &[Group(NODE_TOKEN_GROUP)],
    ),
    (
        Crb,
        "",
        "kubeadm:node-autoapprove-certificate-rotation",
        "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
        &[Group("system:nodes")],
    ),
    (
        Crb,
        "",
        "kubeadm:node-proxier",
        "system:node-proxier",
        &[Sa("kube-system", "kube-proxy")],
    ),
    (
        Crb,
        "",
        "system:coredns",
        "system:coredns",
        &[Sa("kube-system", "coredns")],
    ),
    (
        Rb,
        "kube-system",
        "kubeadm:kubelet-config",
        "kubeadm:kubelet-config",
        &[Group("system:nodes"), Group(NODE_TOKEN_GROUP)],
    ),
    (
        Rb,
        "kube-system",
        "kubeadm:nodes-kubeadm-config",
        "kubeadm:nodes-kubeadm-config",
        &[Group(NODE_TOKEN_GROUP), Group("system:nodes")],
    ),
    (
        Rb,
        "kube-system",
        "kube-proxy",
        "kube-proxy",
        &[Group(NODE_TOKEN_GROUP)],
    ),
    (
        Rb,
        "kube-public",
        "kubeadm:bootstrap-signer-clusterinfo",
        "kubeadm:bootstrap-signer-clusterinfo",
        &[User("system:anonymous")],
    ),
];

/// Roles kubeadm creates (they carry no bootstrap label): (namespace, name), "" for ClusterRoles.
const KUBEADM_ROLES: &[(&str, &str)] = &[
    ("", "kubeadm:get-nodes"),
    ("", "system:coredns"),
    ("kube-system", "kubeadm:kubelet-config"),
    ("kube-system", "kubeadm:nodes-kubeadm-config"),
    ("kube-system", "kube-proxy"),
    ("kube-public", "kubeadm:bootstrap-signer-clusterinfo"),
];

impl KnownSubject {
    fn is(self, subject: &Subject) -> bool {
        match (self, subject) {
            (KnownSubject::User(a), Subject::User(b)) => a == b,
            (KnownSubject::Group(a), Subject::Group(b)) => a == b,
            (KnownSubject::Sa(ns, n), Subject::ServiceAccount { namespace, name }) => {
                ns == namespace && n == name
            }
            _ => false,
        }
    }
}

/// kubeadm releases before 1.24 named the kubelet-config Role and RoleBinding after the minor
/// version (`kubeadm:kubelet-config-1.23`).
fn normalise(name: &str) -> &str {
    match name.strip_prefix("kubeadm:kubelet-config-") {
        Some(v) if v.chars().all(|c| c.is_ascii_digit() || c == '.') => "kubeadm:kubelet-config",
        _ => name,
    }
}

/// `system:controller:<x>` bound to the role of the same name for ServiceAccount
/// `kube-system/<x>`: the bootstrap policy's one binding per built-in controller (as
/// ClusterRoleBindings, and in kube-system / kube-public for the few namespaced ones).
fn is_controller_binding(binding: &Binding, subject: &Subject) -> bool {
    let Some(controller) = binding.name.strip_prefix("system:controller:") else {
        return false;
    };
    let namespace_ok = match binding.kind {
        BindingKind::ClusterRoleBinding => binding.role_kind == RoleKind::ClusterRole,
        BindingKind::RoleBinding => {
            binding.role_kind == RoleKind::Role
                && matches!(binding.namespace.as_str(), "kube-system" | "kube-public")
        }
    };
    namespace_ok
        && binding.role_name == binding.name
        && *subject
            == Subject::ServiceAccount {
                namespace: "kube-system".into(),
                name: controller.into(),
            }
}

/// Whether `subject` holds `binding` only because a fresh cluster does so.
pub fn is_default_grant(binding: &Binding, subject: &Subject) -> bool {
    if is_controller_binding(binding, subject) {
        return true;
    }
    let name = normalise(&binding.name);
    let role = normalise(&binding.role_name);
    KNOWN_BINDINGS.iter().any(|(kind, ns, n, r, subjects)| {
        *kind == binding.kind
            && *ns == binding.namespace
            && *n == name
            && *r == role
            // Every default ClusterRoleBinding references a ClusterRole, every default
            // RoleBinding a Role.
            && (binding.role_kind == RoleKind::ClusterRole) == (*kind == Crb)
            && subjects.iter().any(|s| s.is(subject))
    })
}

fn is_namespaced_bootstrap_role(name: &str) -> bool {
    name == "extension-apiserver-authentication-reader"
        || name.starts_with("system::leader-locking-")
}

/// Whether every subject of `binding` is a default one (a default binding nobody changed).
pub fn is_default_binding(binding: &Binding) -> bool {
    binding
        .subjects
        .iter()
        .all(|s| is_default_grant(binding, s))
        && (is_known_binding_name(binding) || binding.name.starts_with("system:controller:"))
}

fn is_known_binding_name(binding: &Binding) -> bool {
    let name = normalise(&binding.name);
    KNOWN_BINDINGS
        .iter()
        .any(|(kind, ns, n, _, _)| *kind == binding.kind && *ns == binding.namespace && *n == name)
}

/// Whether `role` is one a fresh cluster has: bootstrap roles carry the bootstrap label (and the
/// API server reconciles their rules at every start); kubeadm's are known by name.
pub fn is_default_role(role: &Role) -> bool {
    let labelled =
        role.labels.get(BOOTSTRAP_LABEL.0).map(String::as_str) == Some(BOOTSTRAP_LABEL.1);
    let bootstrap_name = match role.kind {
        RoleKind::ClusterRole => {
            role.name.starts_with("system:")
                || matches!(
                    role.name.as_str(),
                    "cluster-admin" | "admin" | "edit" | "view"
                )
        }
        RoleKind::Role => {
            matches!(role.namespace.as_str(), "kube-system" | "kube-public")
                && (role.name.starts_with("system:") || is_namespaced_bootstrap_role(&role.name))
        }
    };
    (labelled && bootstrap_name)
        || KUBEADM_ROLES.contains(&(role.namespace.as_str(), normalise(&role.name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policies::objects::Objects;
    use crate::policies::rbac::Rbac;

    fn rbac(yaml: &str) -> Rbac {
        let mut o = Objects::default();
        o.add_text("t.yaml", yaml).unwrap();
        Rbac::from_objects(&o)
    }

    fn defaults(r: &Rbac) -> Vec<(String, String, bool)> {
        r.bindings
            .iter()
            .flat_map(|b| {
                b.subjects
                    .iter()
                    .map(move |s| (b.display_name(), s.to_string(), is_default_grant(b, s)))
            })
            .collect()
    }

    #[test]
    fn defaults_are_judged_per_subject_and_by_role_reference() {
        let r = rbac(
            r#"
kind: ClusterRoleBinding
metadata: {name: cluster-admin}
roleRef: {kind: ClusterRole, name: cluster-admin}
subjects: [{kind: Group, name: "system:masters"}, {kind: User, name: eve}]
---
kind: ClusterRoleBinding
metadata: {name: system:controller:job-controller}
roleRef: {kind: ClusterRole, name: system:controller:job-controller}
subjects: [{kind: ServiceAccount, name: job-controller, namespace: kube-system}, {kind: ServiceAccount, name: job-controller, namespace: evil}]
---
kind: ClusterRoleBinding
metadata: {name: system:discovery}
roleRef: {kind: ClusterRole, name: cluster-admin}
subjects: [{kind: Group, name: "system:authenticated"}]
---
kind: RoleBinding
metadata: {name: "kubeadm:kubelet-config-1.23", namespace: kube-system}
roleRef: {kind: Role, name: "kubeadm:kubelet-config-1.23"}
subjects: [{kind: Group, name: "system:nodes"}]
"#,
        );
        let got = defaults(&r);
        let expect = |b: &str, s: &str, d: bool| (b.to_string(), s.to_string(), d);
        assert_eq!(
            got,
            [
                expect(
                    "ClusterRoleBinding/cluster-admin",
                    "Group system:masters",
                    true
                ),
                expect("ClusterRoleBinding/cluster-admin", "User eve", false),
                expect(
                    "ClusterRoleBinding/system:controller:job-controller",
                    "ServiceAccount kube-system/job-controller",
                    true
                ),
                expect(
                    "ClusterRoleBinding/system:controller:job-controller",
                    "ServiceAccount evil/job-controller",
                    false
                ),
                // A default name pointing at another role is not the default binding.
                expect(
                    "ClusterRoleBinding/system:discovery",
                    "Group system:authenticated",
                    false
                ),
                // kubeadm before 1.24 put the version in the name.
                expect(
                    "RoleBinding/kube-system/kubeadm:kubelet-config-1.23",
                    "Group system:nodes",
                    true
                ),
            ]
        );
        assert!(!is_default_binding(&r.bindings[0]));
        assert!(is_default_binding(&r.bindings[3]));
    }

    #[test]
    fn default_roles_need_the_bootstrap_label_or_a_kubeadm_name() {
        let r = rbac(
            r#"
kind: ClusterRole
metadata: {name: system:controller:x, labels: {kubernetes.io/bootstrapping: rbac-defaults}}
---
kind: ClusterRole
metadata: {name: system:sneaky}
---
kind: ClusterRole
metadata: {name: mine, labels: {kubernetes.io/bootstrapping: rbac-defaults}}
---
kind: Role
metadata: {name: kube-proxy, namespace: kube-system}
---
kind: Role
metadata: {name: kube-proxy, namespace: default}
"#,
        );
        let judged: Vec<bool> = r.roles.iter().map(is_default_role).collect();
        assert_eq!(judged, [true, false, false, true, false]);
    }
}
