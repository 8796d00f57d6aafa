//! CIS section 5.2 (Pod Security Standards), 5.3.2, 5.4.1 and 5.7.2–5.7.4 as policy checks: the
//! functions `cfg/<benchmark>/policies.yaml` names with `policy: <name>` (see
//! [`super::checks::REGISTRY`]).
//!
//! ## How the 5.2.x checks judge "admission"
//!
//! CIS 1.23 words 5.2.2–5.2.13 as *minimize the admission of* a risky pod feature, and asks that
//! every namespace's policy refuse it. With Pod Security Admission that policy is the
//! namespace's `pod-security.kubernetes.io/enforce` label (and `enforce-version`). A check looks
//! at two kinds of evidence and FAILs on either:
//! 1. **Namespaces**: a non-system Namespace whose enforced level and version do not run the
//!    admission controller check that refuses the feature (no label means the built-in default,
//!    privileged, which refuses nothing) — it would admit such a pod.
//! 2. **Workloads**: an object with a pod template (Pod, Deployment, ..., CronJob) in a
//!    non-system namespace that has the feature: each offending field is a finding, named by
//!    object, file, full field path and value.
//!
//! ## System namespaces
//!
//! `kube-system`, `kube-public` and `kube-node-lease` are exempt from failing these checks. CIS
//! itself notes that some system components need what 5.2 restricts (kube-proxy runs with
//! `hostNetwork` and `privileged`; CNI and storage DaemonSets mount `hostPath` and add
//! capabilities), and the usual Pod Security Admission configuration exempts `kube-system`.
//! What is found there is still listed, marked "exempt (system namespace)", so a reviewer sees
//! it. The exemption applies to 5.2.x only: 5.3.2, 5.4.1 and 5.7.x name no such need.
//!
//! ## No false PASS
//!
//! A check PASSes only on evidence: 5.2.x need Namespace objects (the policy lives on them);
//! workload-only checks need at least one workload. When the kinds a check needs are absent from
//! the input the check is WARN and says which kind was missing. Definite offending evidence is a
//! FAIL even when other evidence is missing.

use serde_json::Value;

use super::{self as pss, Level, NamespacePolicy, Version, Violation};
use crate::policies::objects::{Object, Objects};
use crate::policies::workloads::{workloads_lenient, PodTemplate, TemplateError, Workload};
use crate::policies::PolicyOutcome;
use crate::report::model::Status;

/// Namespaces that hold the cluster's own components.
pub const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

pub fn is_system_namespace(ns: &str) -> bool {
    SYSTEM_NAMESPACES.contains(&ns)
}

/// Whether objects of `kind` were read, or why not. For file input a kind counts as read when
/// the input holds at least one object of it: an absent kind may exist in the cluster.
fn kind_read(objects: &Objects, kind: &str) -> Result<(), String> {
    if objects.of_kind(kind).next().is_some() {
        Ok(())
    } else {
        Err(format!("no {kind} objects in the input"))
    }
}

fn outcome(status: Status, actual: String, reason: String, findings: Vec<String>) -> PolicyOutcome {
    PolicyOutcome {
        status,
        actual,
        reason,
        findings,
    }
}

/// `Kind/ns/name (file (document n))`: how findings name an object.
fn named(object: &Object) -> String {
    format!("{} ({})", object.display_name(), object.origin)
}

fn finding(object: &Object, v: &Violation) -> String {
    format!("{}: {} = {}", named(object), v.path, v.value)
}

// ---------------------------------------------------------------------------------------------
// 5.2.x: admission of risky pod features.

/// One "minimize the admission of ..." control.
struct Admission {
    /// What is being admitted, e.g. "privileged containers".
    what: &'static str,
    /// Admission controller checks of which any one, when enforced, refuses the feature.
    refused_by: &'static [&'static str],
    /// The offending fields of one pod template.
    find: fn(&PodTemplate<'_>) -> Vec<Violation>,
}

fn run_check(id: &str, pod: &PodTemplate<'_>) -> Vec<Violation> {
    pss::check(id)
        .map(|c| c.run(pod, Version::Latest))
        .unwrap_or_default()
}

fn judge_admission(objects: &Objects, a: &Admission) -> PolicyOutcome {
    let mut findings = Vec::new();
    let mut fail = false;

    let namespaces: Vec<&Object> = objects.of_kind("Namespace").collect();
    let mut admitting = 0;
    for ns in &namespaces {
        let policy = NamespacePolicy::from_namespace(&ns.value);
        let refuses = a
            .refused_by
            .iter()
            .any(|id| pss::enforces(policy.level, policy.version, id));
        for problem in &policy.problems {
            findings.push(format!("Namespace/{}: {problem}", ns.name()));
        }
        if refuses {
            continue;
        }
        if is_system_namespace(ns.name()) {
            findings.push(format!(
                "exempt (system namespace): Namespace/{}: {policy} admits {}",
                ns.name(),
                a.what
            ));
        } else {
            admitting += 1;
            fail = true;
            findings.push(format!(
                "Namespace/{}: {policy} admits {}",
                ns.name(),
                a.what
            ));
        }
    }

    let (workloads, malformed) = workloads_lenient(objects);
    let mut offending = 0;
    for w in &workloads {
        let violations = (a.find)(&w.template);
        if violations.is_empty() {
            continue;
        }
        let system = is_system_namespace(w.object.namespace());
        if !system {
            offending += 1;
            fail = true;
        }
        for v in &violations {
            let f = finding(w.object, v);
            findings.push(if system {
                format!("exempt (system namespace): {f}")
            } else {
                f
            });
        }
    }
    findings.extend(malformed.iter().map(|e| format!("not judged: {e}")));

    let actual = format!(
        "{} namespace(s): {admitting} non-system admit {}; {} workload(s): {offending} non-system with {}",
        namespaces.len(),
        a.what,
        workloads.len(),
        a.what
    );
    if fail {
        return outcome(Status::Fail, actual, String::new(), findings);
    }
    if let Err(missing) = kind_read(objects, "Namespace") {
        return outcome(
            Status::Warn,
            actual,
            format!(
                "{missing}: which namespaces admit {} cannot be judged",
                a.what
            ),
            findings,
        );
    }
    if !malformed.is_empty() {
        return outcome(
            Status::Warn,
            actual,
            format!("{} workload(s) could not be judged", malformed.len()),
            findings,
        );
    }
    outcome(Status::Pass, actual, String::new(), findings)
}

fn host_field(pod: &PodTemplate<'_>, field: &str) -> Vec<Violation> {
    let suffix = format!(".{field}");
    run_check("hostNamespaces", pod)
        .into_iter()
        .filter(|v| v.path.ends_with(&suffix))
        .collect()
}

/// Containers that may hold NET_RAW: it is in the container runtimes' default set, so a
/// container holds it unless it drops it (or ALL), and certainly when it adds it (or ALL).
fn net_raw(pod: &PodTemplate<'_>) -> Vec<Violation> {
    if pod.is_windows() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (path, c) in pod.containers() {
        let caps = c.pointer("/securityContext/capabilities");
        let list = |name: &str| -> Vec<&str> {
            caps.and_then(|c| c.get(name))
                .and_then(Value::as_array)
                .map(|l| l.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default()
        };
        let caps_path = format!("{path}.securityContext.capabilities");
        let violation = |path: String, value: String, requirement: &str| Violation {
            check: "netRaw",
            control: "Capabilities",
            path,
            value,
            requirement: requirement.into(),
        };
        let add = list("add");
        if let Some(i) = add.iter().position(|c| *c == "NET_RAW" || *c == "ALL") {
            out.push(violation(
                format!("{caps_path}.add[{i}]"),
                format!("\"{}\"", add[i]),
                "must not add NET_RAW",
            ));
        } else if !list("drop").iter().any(|c| *c == "NET_RAW" || *c == "ALL") {
            let drop = caps.and_then(|c| c.get("drop")).filter(|d| !d.is_null());
            out.push(violation(
                format!("{caps_path}.drop"),
                drop.map(Value::to_string)
                    .unwrap_or_else(|| "<unset>".into()),
                "must drop NET_RAW or ALL (the runtime grants NET_RAW by default)",
            ));
        }
    }
    out
}

macro_rules! admission_check {
    ($(#[$doc:meta])* $name:ident, $what:expr, [$($id:expr),+], $find:expr) => {
        $(#[$doc])*
        pub fn $name(objects: &Objects) -> PolicyOutcome {
            judge_admission(
                objects,
                &Admission {
                    what: $what,
                    refused_by: &[$($id),+],
                    find: $find,
                },
            )
        }
    };
}

admission_check!(
    /// 5.2.2 Minimize the admission of privileged containers.
    privileged,
    "privileged containers",
    ["privileged"],
    |p| run_check("privileged", p)
);
admission_check!(
    /// 5.2.3 Minimize the admission of containers wishing to share the host process ID namespace.
    host_pid,
    "pods sharing the host PID namespace",
    ["hostNamespaces"],
    |p| host_field(p, "hostPID")
);
admission_check!(
    /// 5.2.4 Minimize the admission of containers wishing to share the host IPC namespace.
    host_ipc,
    "pods sharing the host IPC namespace",
    ["hostNamespaces"],
    |p| host_field(p, "hostIPC")
);
admission_check!(
    /// 5.2.5 Minimize the admission of containers wishing to share the host network namespace.
    host_network,
    "pods sharing the host network namespace",
    ["hostNamespaces"],
    |p| host_field(p, "hostNetwork")
);
admission_check!(
    /// 5.2.6 Minimize the admission of containers with allowPrivilegeEscalation (unset counts:
    /// it defaults to true, which is why restricted requires an explicit false).
    allow_privilege_escalation,
    "containers allowing privilege escalation",
    ["allowPrivilegeEscalation"],
    |p| run_check("allowPrivilegeEscalation", p)
);
admission_check!(
    /// 5.2.7 Minimize the admission of root containers (runAsNonRoot not true, or runAsUser 0).
    root_containers,
    "containers that may run as root",
    ["runAsNonRoot"],
    |p| {
        let mut v = run_check("runAsNonRoot", p);
        v.extend(run_check("runAsUser", p));
        v
    }
);
admission_check!(
    /// 5.2.8 Minimize the admission of containers with the NET_RAW capability.
    net_raw_capability,
    "containers with NET_RAW",
    ["capabilities_restricted"],
    net_raw
);
admission_check!(
    /// 5.2.9 Minimize the admission of containers with added capabilities (beyond the runtime's
    /// default set, which baseline allows re-adding).
    added_capabilities,
    "containers adding capabilities beyond the default set",
    ["capabilities_baseline", "capabilities_restricted"],
    |p| run_check("capabilities_baseline", p)
);
admission_check!(
    /// 5.2.10 Minimize the admission of containers with capabilities assigned (restricted:
    /// drop ALL, add at most NET_BIND_SERVICE).
    capabilities_assigned,
    "containers that do not drop ALL capabilities",
    ["capabilities_restricted"],
    |p| run_check("capabilities_restricted", p)
);
admission_check!(
    /// 5.2.11 Minimize the admission of Windows HostProcess containers.
    windows_host_process,
    "Windows HostProcess containers",
    ["windowsHostProcess"],
    |p| run_check("windowsHostProcess", p)
);
admission_check!(
    /// 5.2.12 Minimize the admission of HostPath volumes.
    host_path,
    "hostPath volumes",
    ["hostPathVolumes", "restrictedVolumes"],
    |p| run_check("hostPathVolumes", p)
);
admission_check!(
    /// 5.2.13 Minimize the admission of containers which use HostPorts.
    host_ports,
    "containers using hostPorts",
    ["hostPorts"],
    |p| run_check("hostPorts", p)
);

/// 5.2.1 Ensure that the cluster has at least one active policy control mechanism in place:
/// every non-system namespace enforces baseline or restricted through its
/// `pod-security.kubernetes.io/enforce` label.
pub fn policy_control(objects: &Objects) -> PolicyOutcome {
    if let Err(missing) = kind_read(objects, "Namespace") {
        return outcome(
            Status::Warn,
            String::new(),
            format!("{missing}: the namespaces' Pod Security labels cannot be judged"),
            Vec::new(),
        );
    }
    let mut findings = Vec::new();
    let (mut judged, mut enforcing) = (0, 0);
    for ns in objects.of_kind("Namespace") {
        let policy = NamespacePolicy::from_namespace(&ns.value);
        for problem in &policy.problems {
            findings.push(format!("Namespace/{}: {problem}", ns.name()));
        }
        if is_system_namespace(ns.name()) {
            continue;
        }
        judged += 1;
        if policy.level == Level::Privileged {
            findings.push(format!(
                "Namespace/{}: {policy}: no baseline or restricted policy enforced",
                ns.name()
            ));
        } else {
            enforcing += 1;
        }
    }
    let status = if enforcing < judged {
        Status::Fail
    } else {
        Status::Pass
    };
    outcome(
        status,
        format!("{enforcing} of {judged} non-system namespace(s) enforce baseline or restricted"),
        String::new(),
        findings,
    )
}

// ---------------------------------------------------------------------------------------------
// 5.3.2, 5.4.1, 5.7.x

/// 5.3.2 Ensure that all Namespaces have Network Policies defined (every namespace, system ones
/// included, as CIS words it).
pub fn network_policy_per_namespace(objects: &Objects) -> PolicyOutcome {
    for kind in ["Namespace", "NetworkPolicy"] {
        if let Err(missing) = kind_read(objects, kind) {
            return outcome(
                Status::Warn,
                String::new(),
                format!("{missing}: which namespaces have network policies cannot be judged"),
                Vec::new(),
            );
        }
    }
    let covered: std::collections::BTreeSet<&str> = objects
        .of_kind("NetworkPolicy")
        .map(Object::namespace)
        .collect();
    let mut findings = Vec::new();
    let mut total = 0;
    for ns in objects.of_kind("Namespace") {
        total += 1;
        if !covered.contains(ns.name()) {
            findings.push(format!("Namespace/{}: no NetworkPolicy", ns.name()));
        }
    }
    let status = if findings.is_empty() {
        Status::Pass
    } else {
        Status::Fail
    };
    outcome(
        status,
        format!(
            "{} of {total} namespace(s) have a NetworkPolicy",
            total - findings.len()
        ),
        String::new(),
        findings,
    )
}

/// Runs `find` on every workload; FAIL on any finding, WARN when there was nothing to judge.
fn judge_workloads(
    objects: &Objects,
    what: &str,
    find: impl Fn(&Workload<'_>) -> Vec<Violation>,
) -> PolicyOutcome {
    let (workloads, malformed) = workloads_lenient(objects);
    let mut findings = Vec::new();
    let mut offending = 0;
    for w in &workloads {
        let vs = find(w);
        if !vs.is_empty() {
            offending += 1;
        }
        findings.extend(vs.iter().map(|v| finding(w.object, v)));
    }
    findings.extend(
        malformed
            .iter()
            .map(|e: &TemplateError| format!("not judged: {e}")),
    );
    let actual = format!("{offending} of {} workload(s) {what}", workloads.len());
    if offending > 0 {
        outcome(Status::Fail, actual, String::new(), findings)
    } else if workloads.is_empty() {
        outcome(
            Status::Warn,
            actual,
            "no objects with a pod template in the input".into(),
            findings,
        )
    } else if !malformed.is_empty() {
        outcome(
            Status::Warn,
            actual,
            format!("{} workload(s) could not be judged", malformed.len()),
            findings,
        )
    } else {
        outcome(Status::Pass, actual, String::new(), findings)
    }
}

/// 5.4.1 Prefer using secrets as files over secrets as environment variables.
pub fn secrets_as_env(objects: &Objects) -> PolicyOutcome {
    judge_workloads(objects, "pass secrets through the environment", |w| {
        let mut out = Vec::new();
        for (path, c) in w.template.containers() {
            let v = |path: String, value: &Value| Violation {
                check: "secretsAsEnv",
                control: "Secrets as environment variables",
                path,
                value: value.to_string(),
                requirement: "mount the secret as a file instead".into(),
            };
            for (i, env) in list(c, "env").iter().enumerate() {
                if let Some(r) = env
                    .pointer("/valueFrom/secretKeyRef")
                    .filter(|r| !r.is_null())
                {
                    out.push(v(format!("{path}.env[{i}].valueFrom.secretKeyRef"), r));
                }
            }
            for (i, from) in list(c, "envFrom").iter().enumerate() {
                if let Some(r) = from.get("secretRef").filter(|r| !r.is_null()) {
                    out.push(v(format!("{path}.envFrom[{i}].secretRef"), r));
                }
            }
        }
        out
    })
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// 5.7.2 Ensure that the seccomp profile is set in your pod definitions: RuntimeDefault or
/// Localhost at pod level or on every container (the restricted rule).
pub fn seccomp_profile(objects: &Objects) -> PolicyOutcome {
    judge_workloads(objects, "run without a seccomp profile", |w| {
        run_check("seccompProfile_restricted", &w.template)
    })
}

/// 5.7.3 Apply Security Context to Your Pods and Containers: every container has a security
/// context of its own or inherits a pod-level one (a non-empty mapping either way). What the
/// context should say is judged by the 5.2.x checks and `kubecis scan`.
pub fn security_context(objects: &Objects) -> PolicyOutcome {
    judge_workloads(objects, "have containers without a security context", |w| {
        let non_empty =
            |v: Option<&Value>| v.and_then(Value::as_object).is_some_and(|m| !m.is_empty());
        if non_empty(w.template.spec.get("securityContext")) {
            return Vec::new();
        }
        w.template
            .containers()
            .filter(|(_, c)| !non_empty(c.get("securityContext")))
            .map(|(path, _)| Violation {
                check: "securityContext",
                control: "Security context",
                path: format!("{path}.securityContext"),
                value: "<unset>".into(),
                requirement: "set a security context on the pod or the container".into(),
            })
            .collect()
    })
}

/// Kinds that are not namespaced, so "no namespace" is right for them.
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "StorageClass",
    "CustomResourceDefinition",
    "PriorityClass",
    "IngressClass",
    "RuntimeClass",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "CertificateSigningRequest",
    "PodSecurityPolicy",
    "ComponentStatus",
    "FlowSchema",
    "PriorityLevelConfiguration",
];

/// What Kubernetes itself keeps in `default`; their presence does not mean the namespace is used.
fn builtin_in_default(o: &Object) -> bool {
    matches!(
        (o.kind(), o.name()),
        ("Service" | "Endpoints" | "EndpointSlice", "kubernetes")
            | ("ServiceAccount", "default")
            | ("ConfigMap", "kube-root-ca.crt")
    ) || o.kind() == "Event"
        || (o.kind() == "Secret"
            && o.value.get("type").and_then(Value::as_str)
                == Some("kubernetes.io/service-account-token")
            && o.value
                .pointer("/metadata/annotations/kubernetes.io~1service-account.name")
                .and_then(Value::as_str)
                == Some("default"))
        || (o.kind() == "EndpointSlice"
            && o.value
                .pointer("/metadata/labels/kubernetes.io~1service-name")
                .and_then(Value::as_str)
                == Some("kubernetes"))
}

/// 5.7.4 The default namespace should not be used: nothing but Kubernetes' own objects in
/// `default`. Namespaced objects that name no namespace land wherever they are applied, so they
/// are listed and keep the check from passing.
pub fn default_namespace_in_use(objects: &Objects) -> PolicyOutcome {
    let namespaced: Vec<&Object> = objects
        .items
        .iter()
        .filter(|o| !CLUSTER_SCOPED.contains(&o.kind()))
        .collect();
    let mut findings = Vec::new();
    let mut in_default = 0;
    let mut unplaced = 0;
    for o in &namespaced {
        match o.namespace() {
            "default" if !builtin_in_default(o) => {
                in_default += 1;
                findings.push(format!("{}: in namespace default", named(o)));
            }
            "" => {
                unplaced += 1;
                findings.push(format!(
                    "{}: names no namespace; lands in the namespace chosen when applied (default unless -n or the context says otherwise)",
                    named(o)
                ));
            }
            _ => {}
        }
    }
    let actual = format!(
        "{in_default} of {} namespaced object(s) in default, {unplaced} without a namespace",
        namespaced.len()
    );
    if in_default > 0 {
        outcome(Status::Fail, actual, String::new(), findings)
    } else if namespaced.is_empty() {
        outcome(
            Status::Warn,
            actual,
            "no namespaced objects in the input".into(),
            findings,
        )
    } else if unplaced > 0 {
        outcome(
            Status::Warn,
            actual,
            format!("{unplaced} object(s) name no namespace: where they land is decided when they are applied"),
            findings,
        )
    } else {
        outcome(Status::Pass, actual, String::new(), findings)
    }
}
