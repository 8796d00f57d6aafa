//! CIS 5.1 (RBAC and service accounts) as policy checks over API objects.
//!
//! Each check resolves the RBAC state with [`Rbac`], ignores what a fresh cluster grants
//! ([`defaults`](super::defaults)) and names every remaining subject with the binding and role that grant
//! it. A check never passes on evidence it does not have: when the kinds it needs were not read
//! (absent from the input, or not listable live) or an RBAC object could not be understood, the
//! verdict is WARN with the reason.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::Value;

use super::defaults::{is_default_grant, is_default_role};
use super::{Rbac, Request, Scope, Subject, RBAC_KINDS};
use crate::policies::objects::{KindState, Object, Objects};
use crate::policies::PolicyOutcome;
use crate::report::model::Status;

/// The workload kinds whose pod templates 5.1.6 looks at, with where their pod spec lives.
const WORKLOADS: &[(&str, &str)] = &[
    ("Pod", "/spec"),
    ("Deployment", "/spec/template/spec"),
    ("ReplicaSet", "/spec/template/spec"),
    ("StatefulSet", "/spec/template/spec"),
    ("DaemonSet", "/spec/template/spec"),
    ("Job", "/spec/template/spec"),
    ("CronJob", "/spec/jobTemplate/spec/template/spec"),
    ("ReplicationController", "/spec/template/spec"),
];

fn outcome(status: Status, actual: impl Into<String>, reason: impl Into<String>) -> PolicyOutcome {
    PolicyOutcome {
        status,
        actual: actual.into(),
        reason: reason.into(),
        findings: Vec::new(),
    }
}

/// Why the given kinds cannot be trusted to be complete, or `None` when they can.
///
/// Live input: every kind must have been listed. File input: at least one of them must be
/// present (the input is then taken as the whole story, as for a manifest repository).
fn missing_kinds(objects: &Objects, kinds: &[&str]) -> Option<String> {
    if objects.is_live() {
        let missing: Vec<String> = kinds
            .iter()
            .filter_map(|k| match objects.kind_state(k) {
                KindState::Listed | KindState::Present => None,
                KindState::Unavailable(reason) => Some(format!("{k}: {reason}")),
                KindState::Absent => Some(format!("{k}: not listed")),
            })
            .collect();
        (!missing.is_empty()).then(|| format!("could not read {}", missing.join("; ")))
    } else if kinds.iter().any(|k| objects.was_read(k)) {
        None
    } else {
        Some(format!("no {} objects in the input", kinds.join("/")))
    }
}

/// Resolves RBAC from what there is, with the reasons the picture may be incomplete (kinds not
/// read, objects not understood). Grants found are real either way; only their absence is in
/// doubt, which [`verdict`] turns into WARN.
fn load_rbac(objects: &Objects) -> (Rbac, Vec<String>) {
    let rbac = Rbac::from_objects(objects);
    let mut incomplete: Vec<String> = missing_kinds(objects, &RBAC_KINDS).into_iter().collect();
    incomplete.extend(rbac.problems.iter().cloned());
    (rbac, incomplete)
}

/// The verdict from findings: FAIL when there are any, WARN when the evidence was incomplete,
/// PASS otherwise.
fn verdict(
    mut findings: Vec<String>,
    incomplete: Vec<String>,
    what: &str,
    clean: &str,
) -> PolicyOutcome {
    findings.sort();
    findings.dedup();
    let reason = incomplete.join("; ");
    let mut out = if !findings.is_empty() {
        outcome(Status::Fail, format!("{} {what}", findings.len()), reason)
    } else if !reason.is_empty() {
        outcome(
            Status::Warn,
            format!("no {what} found, but the evidence is incomplete"),
            reason,
        )
    } else {
        outcome(Status::Pass, clean, "")
    };
    out.findings = findings;
    out
}

/// Subjects (other than a fresh cluster's) granted any of `requests`, one finding per subject
/// and binding, listing what it may do.
fn grants_check(objects: &Objects, requests: &[Request], what: &str, clean: &str) -> PolicyOutcome {
    let (rbac, incomplete) = load_rbac(objects);
    // (subject, binding, role) -> (what it may do, names it is limited to)
    type Found = BTreeMap<(Subject, String, String), (BTreeSet<String>, Vec<String>)>;
    let mut found = Found::new();
    for request in requests {
        for grant in rbac.who_can(request) {
            let binding = &rbac.bindings[grant.binding_index];
            if is_default_grant(binding, &grant.subject) {
                continue;
            }
            let entry = found
                .entry((grant.subject, grant.binding, grant.role))
                .or_default();
            entry.0.insert(request.to_string());
            entry.1 = grant.only_names;
        }
    }
    let findings = found
        .into_iter()
        .map(|((subject, binding, role), (reqs, names))| {
            let mut line = format!(
                "{subject} via {binding} ({role}): {}",
                reqs.into_iter().collect::<Vec<_>>().join(", ")
            );
            if !names.is_empty() {
                line.push_str(&format!(" [only: {}]", names.join(", ")));
            }
            line
        })
        .collect();
    verdict(findings, incomplete, what, clean)
}

fn requests(verbs: &[&str], group: &str, resources: &[&str], scope: Scope) -> Vec<Request> {
    let mut out = Vec::new();
    for resource in resources {
        for verb in verbs {
            out.push(Request::resource(verb, group, resource).scope(scope.clone()));
        }
    }
    out
}

/// 5.1.1: subjects bound to `cluster-admin` other than a fresh cluster's (`system:masters`,
/// kubeadm's `kubeadm:cluster-admins`).
pub fn cluster_admin(objects: &Objects) -> PolicyOutcome {
    let (rbac, mut incomplete) = load_rbac(objects);
    let mut findings = Vec::new();
    for binding in rbac.bindings_to_cluster_role("cluster-admin") {
        for subject in &binding.subjects {
            if !is_default_grant(binding, subject) {
                findings.push(format!("{subject} via {}", binding.display_name()));
            }
        }
    }
    if !rbac.roles.iter().any(|r| r.name == "cluster-admin") && !objects.is_live() {
        incomplete.push("ClusterRole cluster-admin is not in the input".into());
    }
    findings.sort();
    verdict(
        findings,
        incomplete,
        "non-default subjects bound to cluster-admin",
        "cluster-admin is bound only by the default bindings",
    )
}

/// 5.1.2: who can get, list or watch Secrets, in any namespace.
pub fn secrets_access(objects: &Objects) -> PolicyOutcome {
    grants_check(
        objects,
        &requests(
            &["get", "list", "watch"],
            "",
            &["secrets"],
            Scope::AnyNamespace,
        ),
        "non-default grants of get/list/watch on secrets",
        "only default bindings can read Secrets",
    )
}

/// 5.1.3: Roles and ClusterRoles (other than a fresh cluster's) with `*` in verbs, apiGroups,
/// resources (including `*/subresource`) or nonResourceURLs.
pub fn wildcards(objects: &Objects) -> PolicyOutcome {
    let (rbac, incomplete) = load_rbac(objects);
    let mut findings = Vec::new();
    for role in rbac.roles.iter().filter(|r| !is_default_role(r)) {
        for (i, rule) in role.own_rules.iter().enumerate() {
            if rule.has_wildcard() {
                let mut parts = vec![format!("verbs {:?}", rule.verbs)];
                if !rule.non_resource_urls.is_empty() {
                    parts.push(format!("nonResourceURLs {:?}", rule.non_resource_urls));
                } else {
                    parts.push(format!("apiGroups {:?}", rule.api_groups));
                    parts.push(format!("resources {:?}", rule.resources));
                }
                findings.push(format!(
                    "{} rule {}: {}",
                    role.display_name(),
                    i + 1,
                    parts.join(" ")
                ));
            }
        }
    }
    verdict(
        findings,
        incomplete,
        "rules with wildcards in non-default roles",
        "no non-default Role or ClusterRole uses wildcards",
    )
}

/// 5.1.4: who can create Pods, in any namespace.
pub fn create_pods(objects: &Objects) -> PolicyOutcome {
    grants_check(
        objects,
        &requests(&["create"], "", &["pods"], Scope::AnyNamespace),
        "non-default grants of create on pods",
        "only default bindings can create Pods",
    )
}

fn bool_at(value: &Value, pointer: &str) -> Option<bool> {
    value.pointer(pointer).and_then(Value::as_bool)
}

/// 5.1.5: every `default` ServiceAccount must have `automountServiceAccountToken: false` and
/// must not be named by any binding other than a fresh cluster's.
pub fn default_service_accounts(objects: &Objects) -> PolicyOutcome {
    let (rbac, mut incomplete) = load_rbac(objects);
    let mut findings = Vec::new();
    for binding in &rbac.bindings {
        for subject in &binding.subjects {
            let is_default_sa = match subject {
                Subject::ServiceAccount { name, .. } => name == "default",
                Subject::User(u) => matches!(
                    Subject::from_user_name(u),
                    Subject::ServiceAccount { ref name, .. } if name == "default"
                ),
                Subject::Group(_) => false,
            };
            if is_default_sa && !is_default_grant(binding, subject) {
                findings.push(format!(
                    "{subject} is bound via {} ({})",
                    binding.display_name(),
                    binding.role_display_name()
                ));
            }
        }
    }
    match missing_kinds(objects, &["ServiceAccount"]) {
        Some(reason) => incomplete.push(reason),
        None => {
            for sa in objects
                .of_kind("ServiceAccount")
                .filter(|o| o.name() == "default")
            {
                if bool_at(&sa.value, "/automountServiceAccountToken") != Some(false) {
                    findings.push(format!(
                        "{}: automountServiceAccountToken is not false",
                        sa.display_name()
                    ));
                }
            }
        }
    }
    verdict(
        findings,
        incomplete,
        "uses of default service accounts",
        "default service accounts are unbound and do not automount tokens",
    )
}

/// A workload whose pods run with a service account.
struct PodTemplate<'a> {
    object: &'a Object,
    namespace: String,
    service_account: String,
    /// The pod-level `automountServiceAccountToken`, when set.
    automount: Option<bool>,
}

/// Every workload's pod template, skipping objects whose owner (e.g. the Deployment of a
/// ReplicaSet, the ReplicaSet of a Pod) is itself in the input, so each workload is judged once,
/// at the object a person writes. Mirror pods of static pods are skipped: they never get a token.
fn pod_templates(objects: &Objects) -> Vec<PodTemplate<'_>> {
    let present: HashSet<(&str, &str, &str)> = objects
        .items
        .iter()
        .filter(|o| WORKLOADS.iter().any(|(k, _)| *k == o.kind()))
        .map(|o| (o.kind(), o.namespace(), o.name()))
        .collect();
    let mut out = Vec::new();
    for object in &objects.items {
        let Some((_, path)) = WORKLOADS.iter().find(|(k, _)| *k == object.kind()) else {
            continue;
        };
        let owned = object
            .value
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .is_some_and(|owners| {
                owners.iter().any(|o| {
                    let kind = o.get("kind").and_then(Value::as_str).unwrap_or("");
                    let name = o.get("name").and_then(Value::as_str).unwrap_or("");
                    present.contains(&(kind, object.namespace(), name))
                })
            });
        let mirror = object
            .value
            .pointer("/metadata/annotations/kubernetes.io~1config.mirror")
            .is_some();
        if owned || mirror {
            continue;
        }
        let Some(spec) = object.value.pointer(path) else {
            continue;
        };
        let service_account = spec
            .get("serviceAccountName")
            .or_else(|| spec.get("serviceAccount"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or("default")
            .to_string();
        let namespace = if object.namespace().is_empty() {
            "default".to_string()
        } else {
            object.namespace().to_string()
        };
        out.push(PodTemplate {
            object,
            namespace,
            service_account,
            automount: spec
                .get("automountServiceAccountToken")
                .and_then(Value::as_bool),
        });
    }
    out
}

/// 5.1.6, made precise: a token is mounted where it is *not necessary* when a workload's pods
/// get their service account's token (neither the pod spec nor the ServiceAccount sets
/// `automountServiceAccountToken: false`) while no binding other than a fresh cluster's grants
/// that service account anything — not by name, not by user name, not through
/// `system:serviceaccounts` or `system:serviceaccounts:<namespace>`. Such a token lets whoever
/// breaks into the pod talk to the API server and gains the workload nothing.
pub fn token_automount(objects: &Objects) -> PolicyOutcome {
    let (rbac, mut incomplete) = load_rbac(objects);
    // Whether a service account needs its token is decided by its grants: without the whole
    // RBAC picture no workload can be judged either way.
    if let Some(reason) = missing_kinds(objects, &RBAC_KINDS) {
        return outcome(Status::Warn, "RBAC objects not available", reason);
    }
    let workload_kinds: Vec<&str> = WORKLOADS.iter().map(|(k, _)| *k).collect();
    if objects.is_live() {
        if let Some(reason) = missing_kinds(objects, &workload_kinds) {
            incomplete.push(reason);
        }
    } else if let Some(reason) = missing_kinds(objects, &workload_kinds) {
        return outcome(Status::Warn, "no workloads to judge", reason);
    }
    let sa_read = missing_kinds(objects, &["ServiceAccount"]);
    if let Some(reason) = &sa_read {
        incomplete.push(format!(
            "{reason}; service accounts were taken to mount tokens (the Kubernetes default)"
        ));
    }
    let sa_automount: HashMap<(&str, &str), Option<bool>> = objects
        .of_kind("ServiceAccount")
        .map(|sa| {
            (
                (sa.namespace(), sa.name()),
                bool_at(&sa.value, "/automountServiceAccountToken"),
            )
        })
        .collect();

    // Identities with a non-default grant of any kind.
    let mut granted_users: HashSet<String> = HashSet::new();
    let mut granted_groups: HashSet<String> = HashSet::new();
    for binding in &rbac.bindings {
        if rbac
            .role_of(binding)
            .is_none_or(|role| role.rules.is_empty())
        {
            continue;
        }
        for subject in &binding.subjects {
            if is_default_grant(binding, subject) {
                continue;
            }
            match subject {
                Subject::Group(g) => {
                    granted_groups.insert(g.clone());
                }
                other => {
                    granted_users.insert(other.user_name().unwrap_or_default());
                }
            }
        }
    }
    let needs_token = |ns: &str, sa: &str| {
        granted_users.contains(&format!("system:serviceaccount:{ns}:{sa}"))
            || granted_groups.contains("system:serviceaccounts")
            || granted_groups.contains(&format!("system:serviceaccounts:{ns}"))
    };

    let mut findings = Vec::new();
    for t in pod_templates(objects) {
        let mounted = match t.automount {
            Some(v) => v,
            None => sa_automount
                .get(&(t.namespace.as_str(), t.service_account.as_str()))
                .copied()
                .flatten()
                .unwrap_or(true),
        };
        if mounted && !needs_token(&t.namespace, &t.service_account) {
            findings.push(format!(
                "{} mounts the token of ServiceAccount {}/{}, which no binding grants anything",
                t.object.display_name(),
                t.namespace,
                t.service_account
            ));
        }
    }
    verdict(
        findings,
        incomplete,
        "workloads mounting service account tokens they have no use for",
        "every workload that mounts a token has RBAC permissions to use it",
    )
}

/// 5.1.7: bindings naming the group `system:masters`, other than the bootstrap `cluster-admin`
/// one. Membership of `system:masters` comes from client certificates (`O=system:masters`),
/// which no API object shows, so a clean result is WARN, not PASS.
pub fn system_masters(objects: &Objects) -> PolicyOutcome {
    let (rbac, mut incomplete) = load_rbac(objects);
    let mut findings = Vec::new();
    for binding in &rbac.bindings {
        for subject in &binding.subjects {
            if *subject == Subject::Group("system:masters".into())
                && !is_default_grant(binding, subject)
            {
                findings.push(format!(
                    "{subject} via {} ({})",
                    binding.display_name(),
                    binding.role_display_name()
                ));
            }
        }
    }
    incomplete.push(
        "members of system:masters are set by client certificates (O=system:masters), which API \
         objects do not show: review the certificates your CA has issued"
            .into(),
    );
    verdict(
        findings,
        incomplete,
        "non-default bindings to group system:masters",
        "",
    )
}

/// 5.1.8: who can bind or escalate roles, or impersonate users, groups, service accounts or
/// UIDs.
pub fn bind_impersonate_escalate(objects: &Objects) -> PolicyOutcome {
    let mut reqs = requests(
        &["bind", "escalate"],
        "rbac.authorization.k8s.io",
        &["roles", "clusterroles"],
        Scope::AnyNamespace,
    );
    // Impersonating a service account is checked in its namespace; users, groups, UIDs and
    // user extras have none, so only ClusterRoleBindings can grant impersonating them.
    reqs.extend(requests(
        &["impersonate"],
        "",
        &["serviceaccounts"],
        Scope::AnyNamespace,
    ));
    reqs.extend(requests(
        &["impersonate"],
        "",
        &["users", "groups"],
        Scope::Cluster,
    ));
    reqs.extend(requests(
        &["impersonate"],
        "authentication.k8s.io",
        &["uids", "userextras"],
        Scope::Cluster,
    ));
    grants_check(
        objects,
        &reqs,
        "non-default grants of bind/escalate/impersonate",
        "only default bindings can bind, escalate or impersonate",
    )
}

/// 5.1.9: who can create PersistentVolumes (cluster-scoped, so only ClusterRoleBindings count).
pub fn create_pv(objects: &Objects) -> PolicyOutcome {
    grants_check(
        objects,
        &requests(&["create"], "", &["persistentvolumes"], Scope::Cluster),
        "non-default grants of create on persistentvolumes",
        "only default bindings can create PersistentVolumes",
    )
}

/// 5.1.10: who can use the `proxy` subresource of Nodes (the kubelet API).
pub fn node_proxy(objects: &Objects) -> PolicyOutcome {
    grants_check(
        objects,
        &requests(&["get", "create"], "", &["nodes/proxy"], Scope::Cluster),
        "non-default grants on nodes/proxy",
        "only default bindings can reach nodes/proxy",
    )
}

/// 5.1.11: who can update the `approval` subresource of CertificateSigningRequests.
pub fn csr_approval(objects: &Objects) -> PolicyOutcome {
    grants_check(
        objects,
        &requests(
            &["update", "patch"],
            "certificates.k8s.io",
            &["certificatesigningrequests/approval"],
            Scope::Cluster,
        ),
        "non-default grants on certificatesigningrequests/approval",
        "only default bindings can approve certificate signing requests",
    )
}

/// 5.1.12: who can create, change or delete admission webhook configurations.
pub fn webhook_config(objects: &Objects) -> PolicyOutcome {
    grants_check(
        objects,
        &requests(
            &["create", "update", "patch", "delete"],
            "admissionregistration.k8s.io",
            &[
                "validatingwebhookconfigurations",
                "mutatingwebhookconfigurations",
            ],
            Scope::Cluster,
        ),
        "non-default grants on admission webhook configurations",
        "only default bindings can change admission webhook configurations",
    )
}

/// 5.1.13: who can create service account tokens (`serviceaccounts/token`).
pub fn create_tokens(objects: &Objects) -> PolicyOutcome {
    grants_check(
        objects,
        &requests(
            &["create"],
            "",
            &["serviceaccounts/token"],
            Scope::AnyNamespace,
        ),
        "non-default grants of create on serviceaccounts/token",
        "only default bindings can create service account tokens",
    )
}
