//! The registered CIS section-5 policy checks (5.2.x, 5.3.2, 5.4.1, 5.7.x) on the cluster
//! snapshot in `tests/fixtures/pss/cluster/`, and on variations of it built in each test.

use std::path::Path;

use kubecis::policies::objects::Objects;
use kubecis::policies::{evaluate, PolicyOutcome};
use kubecis::report::model::Status;

fn cluster() -> Objects {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pss/cluster");
    Objects::load(&[dir]).unwrap()
}

fn without_namespace(mut objects: Objects, ns: &str) -> Objects {
    objects
        .items
        .retain(|o| o.namespace() != ns && !(o.kind() == "Namespace" && o.name() == ns));
    objects
}

fn with(mut objects: Objects, yaml: &str) -> Objects {
    objects.add_text("extra.yaml", yaml).unwrap();
    objects
}

fn run(name: &str, objects: &Objects) -> PolicyOutcome {
    evaluate(name, objects).unwrap_or_else(|| panic!("{name} is not registered"))
}

fn has(outcome: &PolicyOutcome, needle: &str) -> bool {
    outcome.findings.iter().any(|f| f.contains(needle))
}

#[test]
fn every_name_used_by_the_policies_file_is_registered() {
    let names = [
        "pss-policy-control",
        "pss-privileged",
        "pss-host-pid",
        "pss-host-ipc",
        "pss-host-network",
        "pss-allow-privilege-escalation",
        "pss-root-containers",
        "pss-net-raw",
        "pss-added-capabilities",
        "pss-capabilities-assigned",
        "pss-windows-hostprocess",
        "pss-hostpath",
        "pss-hostports",
        "network-policy-per-namespace",
        "secrets-as-env",
        "seccomp-profile",
        "security-context",
        "default-namespace-in-use",
    ];
    for name in names {
        assert!(evaluate(name, &Objects::default()).is_some(), "{name}");
    }
}

#[test]
fn nothing_passes_on_empty_input() {
    for (name, _) in kubecis::policies::checks::REGISTRY {
        let o = run(name, &Objects::default());
        assert_eq!(o.status, Status::Warn, "{name}: {o:?}");
        assert!(!o.reason.is_empty(), "{name} must say why");
    }
}

#[test]
fn policy_control_fails_on_an_unlabelled_application_namespace() {
    let o = run("pss-policy-control", &cluster());
    assert_eq!(o.status, Status::Fail, "{o:?}");
    assert_eq!(
        o.actual,
        "3 of 4 non-system namespace(s) enforce baseline or restricted"
    );
    assert_eq!(o.findings.len(), 1, "{:?}", o.findings);
    assert!(has(&o, "Namespace/legacy"));
    let o = run(
        "pss-policy-control",
        &without_namespace(cluster(), "legacy"),
    );
    assert_eq!(o.status, Status::Pass, "{o:?}");
}

#[test]
fn host_network_names_namespace_and_workload_and_exempts_system_ones() {
    let o = run("pss-host-network", &cluster());
    assert_eq!(o.status, Status::Fail);
    assert!(
        has(&o, "Namespace/legacy: no enforce label"),
        "{:?}",
        o.findings
    );
    assert!(has(
        &o,
        "Deployment/legacy/old-router (" // origin follows
    ));
    assert!(has(
        &o,
        "workloads.yaml (document 3)): spec.template.spec.hostNetwork = true"
    ));
    assert!(has(
        &o,
        "exempt (system namespace): DaemonSet/kube-system/kube-proxy"
    ));
    // Without the legacy namespace only system workloads use the host network: PASS.
    let o = run("pss-host-network", &without_namespace(cluster(), "legacy"));
    assert_eq!(o.status, Status::Pass, "{o:?}");
    assert!(has(
        &o,
        "exempt (system namespace): DaemonSet/kube-system/cni-agent"
    ));
}

#[test]
fn a_pinned_enforce_version_older_than_the_check_admits_the_feature() {
    // payments enforces restricted pinned at v1.21: capabilities_restricted exists from v1.22.
    let objects = without_namespace(cluster(), "legacy");
    let o = run("pss-capabilities-assigned", &objects);
    assert_eq!(o.status, Status::Fail);
    assert!(
        has(&o, "Namespace/payments: enforce=restricted:v1.21 admits"),
        "{:?}",
        o.findings
    );
    // ...but it does refuse root containers (runAsNonRoot is there from v1.0); baseline does not.
    let o = run("pss-root-containers", &objects);
    assert!(!has(&o, "Namespace/payments"), "{:?}", o.findings);
    assert!(has(&o, "Namespace/web: enforce=baseline:latest admits"));
}

#[test]
fn the_5_2_checks_pass_when_every_namespace_refuses_and_no_workload_offends() {
    let mut objects = Objects::default();
    objects
        .add_text(
            "ns.yaml",
            "kind: Namespace\nmetadata: {name: app, labels: {pod-security.kubernetes.io/enforce: restricted}}\n---\nkind: Namespace\nmetadata: {name: kube-system}\n",
        )
        .unwrap();
    objects
        .add_text(
            "pods.yaml",
            "kind: Pod\nmetadata: {name: ok, namespace: app}\nspec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n  containers: [{name: c, image: x, securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]\n",
        )
        .unwrap();
    for name in [
        "pss-privileged",
        "pss-host-pid",
        "pss-host-ipc",
        "pss-host-network",
        "pss-allow-privilege-escalation",
        "pss-root-containers",
        "pss-net-raw",
        "pss-added-capabilities",
        "pss-capabilities-assigned",
        "pss-windows-hostprocess",
        "pss-hostpath",
        "pss-hostports",
        "pss-policy-control",
    ] {
        let o = run(name, &objects);
        assert_eq!(o.status, Status::Pass, "{name}: {o:?}");
    }
}

#[test]
fn workloads_without_namespaces_warn_unless_they_offend() {
    let pod = "kind: Pod\nmetadata: {name: p, namespace: app}\nspec: {containers: [{name: c, image: x}]}\n";
    let o = run("pss-privileged", &with(Objects::default(), pod));
    assert_eq!(o.status, Status::Warn);
    assert!(
        o.reason.contains("no Namespace objects in the input"),
        "{o:?}"
    );
    let bad = "kind: Pod\nmetadata: {name: p, namespace: app}\nspec: {containers: [{name: c, image: x, securityContext: {privileged: true}}]}\n";
    let o = run("pss-privileged", &with(Objects::default(), bad));
    assert_eq!(o.status, Status::Fail);
    assert_eq!(
        o.findings,
        ["Pod/app/p (extra.yaml (document 1)): spec.containers[0].securityContext.privileged = true"]
    );
}

#[test]
fn net_raw_counts_the_runtime_default_unless_dropped() {
    let objects = without_namespace(cluster(), "legacy");
    let o = run("pss-net-raw", &objects);
    // payments enforces restricted v1.21: no drop-ALL requirement yet, so it admits NET_RAW.
    assert_eq!(o.status, Status::Fail);
    assert!(has(&o, "Namespace/payments"));
    assert!(has(
        &o,
        "exempt (system namespace): DaemonSet/kube-system/cni-agent"
    ));
    assert!(has(
        &o,
        "spec.template.spec.containers[0].securityContext.capabilities.add[2] = \"NET_RAW\""
    ));
    assert!(has(&o, "DaemonSet/kube-system/kube-proxy"));
    assert!(
        !has(&o, "ReplicaSet/web/shop-7d9f"),
        "it drops ALL: {:?}",
        o.findings
    );
}

#[test]
fn network_policies_are_required_in_every_namespace() {
    let o = run("network-policy-per-namespace", &cluster());
    assert_eq!(o.status, Status::Fail);
    assert_eq!(o.actual, "2 of 6 namespace(s) have a NetworkPolicy");
    assert!(has(&o, "Namespace/legacy: no NetworkPolicy"));
    assert!(!has(&o, "Namespace/web"));
    let mut only_covered = cluster();
    only_covered
        .items
        .retain(|o| o.kind() != "Namespace" || matches!(o.name(), "web" | "payments"));
    assert_eq!(
        run("network-policy-per-namespace", &only_covered).status,
        Status::Pass
    );
}

#[test]
fn secrets_in_the_environment_are_named_once_per_controller() {
    let o = run("secrets-as-env", &cluster());
    assert_eq!(o.status, Status::Fail);
    assert_eq!(o.findings.len(), 2, "{:?}", o.findings);
    assert!(has(&o, "ReplicaSet/web/shop-7d9f"));
    assert!(has(&o, "spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef = {\"name\":\"shop-db\",\"key\":\"password\"}"));
    assert!(has(&o, "CronJob/payments/report"));
    assert!(has(
        &o,
        "spec.jobTemplate.spec.template.spec.containers[0].envFrom[0].secretRef"
    ));
    assert!(
        !has(&o, "Pod/web/shop-7d9f-x2x9q"),
        "owned pod reported twice"
    );
}

#[test]
fn seccomp_and_security_context() {
    let o = run("seccomp-profile", &cluster());
    assert_eq!(o.status, Status::Fail);
    assert!(has(&o, "CronJob/payments/report"));
    assert!(!has(&o, "ReplicaSet/web/shop-7d9f"));
    let o = run("security-context", &cluster());
    assert_eq!(o.status, Status::Pass, "{o:?}");
    let bare = with(
        cluster(),
        "kind: Deployment\nmetadata: {name: bare, namespace: web}\nspec: {template: {spec: {containers: [{name: c, image: x, securityContext: {}}]}}}\n",
    );
    let o = run("security-context", &bare);
    assert_eq!(o.status, Status::Fail);
    assert_eq!(
        o.findings,
        ["Deployment/web/bare (extra.yaml (document 1)): spec.template.spec.containers[0].securityContext = <unset>"]
    );
}

#[test]
fn default_namespace_use() {
    let o = run("default-namespace-in-use", &cluster());
    assert_eq!(o.status, Status::Pass, "{o:?}");
    let builtins = with(
        cluster(),
        "kind: Service\nmetadata: {name: kubernetes, namespace: default}\n---\nkind: ServiceAccount\nmetadata: {name: default, namespace: default}\n---\nkind: ConfigMap\nmetadata: {name: kube-root-ca.crt, namespace: default}\n",
    );
    assert_eq!(
        run("default-namespace-in-use", &builtins).status,
        Status::Pass
    );
    let used = with(
        builtins,
        "kind: Deployment\nmetadata: {name: app, namespace: default}\nspec: {template: {spec: {containers: [{name: c}]}}}\n",
    );
    let o = run("default-namespace-in-use", &used);
    assert_eq!(o.status, Status::Fail);
    assert_eq!(o.findings.len(), 1, "{:?}", o.findings);
    assert!(has(&o, "Deployment/default/app"));
    let unplaced = with(cluster(), "kind: ConfigMap\nmetadata: {name: settings}\n");
    let o = run("default-namespace-in-use", &unplaced);
    assert_eq!(o.status, Status::Warn, "{o:?}");
    assert!(has(&o, "ConfigMap/settings"));
}

#[test]
fn malformed_workloads_are_not_judged_and_keep_a_check_from_passing() {
    let objects = with(
        without_namespace(cluster(), "legacy"),
        "kind: Deployment\nmetadata: {name: broken, namespace: web}\nspec: {replicas: 1}\n",
    );
    let o = run("pss-host-ipc", &objects);
    assert_eq!(o.status, Status::Warn, "{o:?}");
    assert!(has(
        &o,
        "not judged: extra.yaml (document 1): Deployment/web/broken: spec.template.spec"
    ));
}
