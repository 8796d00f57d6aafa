//! Unit tests of the evaluator on inline pods: the version registry, overrides, inheritance and
//! each check's edge cases. Whole manifests per controller kind are in `tests/pss_fixtures.rs`.

use super::*;
use serde_json::json;

fn ids(level: Level, version: Version) -> Vec<&'static str> {
    active_checks(level, version).iter().map(|c| c.id).collect()
}

fn failing(spec: Value, level: Level, version: Version) -> Vec<(&'static str, String, String)> {
    failing_meta(spec, json!({}), level, version)
}

fn failing_meta(
    spec: Value,
    meta: Value,
    level: Level,
    version: Version,
) -> Vec<(&'static str, String, String)> {
    evaluate_pod(&spec, &meta, level, version)
        .into_iter()
        .map(|v| (v.check, v.path, v.value))
        .collect()
}

/// A pod that meets restricted at every version.
fn restricted_pod() -> Value {
    json!({
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "app", "image": "nginx",
            "securityContext": {
                "allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}
            }
        }]
    })
}

const V: fn(u64) -> Version = Version::Minor;

#[test]
fn versions_parse_like_the_namespace_labels() {
    assert_eq!("latest".parse::<Version>(), Ok(Version::Latest));
    assert_eq!("v1.25".parse::<Version>(), Ok(V(25)));
    assert_eq!("1.0".parse::<Version>(), Ok(V(0)));
    for bad in ["v2.1", "v1.", "1.x", "v1.05", "vlatest", "", "v1.25.1"] {
        assert!(bad.parse::<Version>().is_err(), "{bad}");
    }
    assert_eq!(Version::parse_label("v1.30"), Some(V(30)));
    assert_eq!(Version::parse_label("1.30"), None, "labels need the v");
    for bad in [
        "v1.00",
        "v1.-1",
        "v1.+5",
        "V1.30",
        " v1.30",
        "v1.9223372036854775808",
    ] {
        assert_eq!(Version::parse_label(bad), None, "{bad}");
    }
    // Any minor the admission controller's ParseVersion accepts, newer ones included: they
    // are evaluated at the newest policy version, as the admission controller clamps them.
    assert_eq!(Version::parse_label("v1.12345"), Some(V(12345)));
    assert_eq!(
        Version::parse_label("v1.9223372036854775807"),
        Some(V(i64::MAX as u64))
    );
    assert_eq!(LATEST_MINOR, 37);
    assert_eq!(Version::Latest.effective_minor(), 37);
    for newer in [38, 99, 12345, i64::MAX as u64] {
        assert_eq!(V(newer).effective_minor(), LATEST_MINOR, "v1.{newer}");
    }
    assert_eq!(V(36).effective_minor(), 36);
    assert_eq!(Version::Latest.to_string(), "latest");
    assert_eq!(V(7).to_string(), "v1.7");
    assert!("root".parse::<Level>().is_err());
}

#[test]
fn registry_grows_with_the_version_and_restricted_overrides_baseline() {
    assert!(ids(Level::Privileged, Version::Latest).is_empty());
    let b0 = ids(Level::Baseline, V(0));
    assert_eq!(b0.len(), 11, "{b0:?}");
    assert!(!b0.contains(&"hostProbesAndHostLifecycle"));
    assert!(ids(Level::Baseline, V(34)).contains(&"hostProbesAndHostLifecycle"));

    let r0 = ids(Level::Restricted, V(0));
    assert!(r0.contains(&"restrictedVolumes") && !r0.contains(&"hostPathVolumes"));
    assert!(
        r0.contains(&"seccompProfile_baseline"),
        "no restricted seccomp before 1.19"
    );
    assert!(
        !r0.contains(&"allowPrivilegeEscalation"),
        "field added in 1.8"
    );
    let r19 = ids(Level::Restricted, V(19));
    assert!(
        r19.contains(&"seccompProfile_restricted") && !r19.contains(&"seccompProfile_baseline")
    );
    assert!(r19.contains(&"capabilities_baseline"));
    let r22 = ids(Level::Restricted, V(22));
    assert!(r22.contains(&"capabilities_restricted") && !r22.contains(&"capabilities_baseline"));
    assert!(!r22.contains(&"runAsUser"));
    assert!(ids(Level::Restricted, V(23)).contains(&"runAsUser"));
    let latest = ids(Level::Restricted, Version::Latest);
    assert!(latest.contains(&"procMount_restricted") && !latest.contains(&"procMount"));
    assert_eq!(latest.len(), 19 - 4, "19 checks, 4 overridden: {latest:?}");
    assert!(enforces(Level::Baseline, V(10), "privileged"));
    assert!(!enforces(Level::Baseline, Version::Latest, "runAsNonRoot"));
}

#[test]
fn every_check_lists_its_revisions_and_latest_is_the_newest() {
    for c in CHECKS {
        assert!(!c.versions.is_empty(), "{}", c.id);
        assert!(
            c.versions.windows(2).all(|w| w[0] < w[1]),
            "{}: revisions must ascend: {:?}",
            c.id,
            c.versions
        );
        assert!(c.overrides.is_empty() || c.level == Level::Restricted);
    }
    let newest = CHECKS.iter().flat_map(|c| c.versions).max();
    assert_eq!(newest, Some(&LATEST_MINOR));
    // The versioned allow-lists may not hold a revision the registry does not name.
    for (table, id) in [(SAFE_SYSCTLS, "sysctls"), (SELINUX_TYPES, "seLinuxOptions")] {
        let revisions = check(id).unwrap().versions;
        for (since, name) in table {
            assert!(
                revisions.contains(since),
                "{name}: v1.{since} not in {revisions:?}"
            );
        }
    }
}

#[test]
fn a_hardened_pod_passes_every_level_and_version() {
    for minor in 0..=40 {
        for level in [Level::Privileged, Level::Baseline, Level::Restricted] {
            let v = failing(restricted_pod(), level, V(minor));
            assert!(v.is_empty(), "{level} v1.{minor}: {v:?}");
        }
    }
}

#[test]
fn the_default_pod_passes_baseline_but_not_restricted() {
    let spec = json!({"containers": [{"name": "c", "image": "nginx"}]});
    assert!(failing(spec.clone(), Level::Baseline, Version::Latest).is_empty());
    let checks: Vec<&str> = failing(spec, Level::Restricted, Version::Latest)
        .into_iter()
        .map(|(c, _, _)| c)
        .collect();
    assert_eq!(
        checks,
        [
            "allowPrivilegeEscalation",
            "runAsNonRoot",
            "seccompProfile_restricted",
            "capabilities_restricted"
        ]
    );
}

#[test]
fn container_values_override_and_unset_containers_inherit_the_pod() {
    let mut spec = restricted_pod();
    spec["initContainers"] = json!([{"name": "init", "securityContext": {
        "runAsNonRoot": false, "allowPrivilegeEscalation": false,
        "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "Unconfined"}}}]);
    let v = failing(spec.clone(), Level::Restricted, Version::Latest);
    assert_eq!(
        v,
        [
            (
                "runAsNonRoot",
                "spec.initContainers[0].securityContext.runAsNonRoot".into(),
                "false".into()
            ),
            (
                "seccompProfile_restricted",
                "spec.initContainers[0].securityContext.seccompProfile.type".into(),
                "\"Unconfined\"".into()
            ),
        ]
    );
    // Without the pod-level value, the unset app container is caught too.
    spec["securityContext"] = json!({"runAsNonRoot": false});
    let v = failing(spec, Level::Restricted, Version::Latest);
    let paths: Vec<&str> = v.iter().map(|(_, p, _)| p.as_str()).collect();
    assert!(
        paths.contains(&"spec.securityContext.runAsNonRoot"),
        "{paths:?}"
    );
    assert!(paths.contains(&"spec.containers[0].securityContext.runAsNonRoot"));
    assert!(paths.contains(&"spec.containers[0].securityContext.seccompProfile.type"));
}

#[test]
fn ephemeral_containers_are_judged_too() {
    let mut spec = restricted_pod();
    spec["ephemeralContainers"] =
        json!([{"name": "debug", "securityContext": {"privileged": true}}]);
    let v = failing(spec, Level::Baseline, Version::Latest);
    assert_eq!(
        v,
        [(
            "privileged",
            "spec.ephemeralContainers[0].securityContext.privileged".into(),
            "true".into()
        )]
    );
}

#[test]
fn sysctls_follow_the_safe_set_of_each_version() {
    let spec = |name: &str| {
        json!({"securityContext": {"sysctls": [{"name": name, "value": "1"}]},
               "containers": [{"name": "c"}]})
    };
    let cases = [
        ("net.ipv4.ip_unprivileged_port_start", 0),
        ("net.ipv4.ip_local_reserved_ports", 27),
        ("net.ipv4.tcp_keepalive_time", 29),
        ("net.ipv4.tcp_fin_timeout", 29),
        ("net.ipv4.tcp_rmem", 32),
        ("net.ipv4.tcp_wmem", 32),
        ("net.ipv4.tcp_slow_start_after_idle", 37),
        ("net.ipv4.tcp_notsent_lowat", 37),
    ];
    for (name, since) in cases {
        if since > 0 {
            let v = failing(spec(name), Level::Baseline, V(since - 1));
            assert_eq!(
                v,
                [(
                    "sysctls",
                    "spec.securityContext.sysctls[0].name".into(),
                    format!("\"{name}\"")
                )],
                "{name} before 1.{since}"
            );
        }
        assert!(
            failing(spec(name), Level::Baseline, V(since)).is_empty(),
            "{name}"
        );
        assert!(failing(spec(name), Level::Baseline, Version::Latest).is_empty());
        // A version newer than the registry is evaluated as its newest.
        assert!(failing(spec(name), Level::Baseline, V(40)).is_empty());
    }
    assert_eq!(safe_sysctls(36).len(), 12);
    assert_eq!(safe_sysctls(37).len(), 14);
    assert_eq!(
        failing(spec("kernel.msgmax"), Level::Baseline, Version::Latest).len(),
        1
    );
    assert!(failing(spec("kernel.msgmax"), Level::Privileged, Version::Latest).is_empty());
}

#[test]
fn seccomp_uses_annotations_before_1_19_and_fields_after() {
    let spec = json!({"containers": [{"name": "app"}]});
    let meta = json!({"annotations": {
        "seccomp.security.alpha.kubernetes.io/pod": "unconfined",
        "container.seccomp.security.alpha.kubernetes.io/app": "docker/default",
        "container.seccomp.security.alpha.kubernetes.io/ghost": "unconfined"}});
    let v = failing_meta(spec.clone(), meta.clone(), Level::Baseline, V(18));
    assert_eq!(
        v,
        [(
            "seccompProfile_baseline",
            "metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]".into(),
            "\"unconfined\"".into()
        )],
        "only the pod key and keys of existing containers count"
    );
    assert!(failing_meta(spec.clone(), meta, Level::Baseline, V(19)).is_empty());
    let mut unconfined = spec.clone();
    unconfined["securityContext"] = json!({"seccompProfile": {"type": "Unconfined"}});
    assert!(failing(unconfined.clone(), Level::Baseline, V(18)).is_empty());
    assert_eq!(failing(unconfined, Level::Baseline, V(19)).len(), 1);
    // Restricted before 1.19 has no seccomp requirement of its own.
    let v = failing(spec, Level::Restricted, V(18));
    assert!(v.iter().all(|(c, _, _)| !c.starts_with("seccomp")), "{v:?}");
}

#[test]
fn windows_pods_are_exempt_from_linux_only_restricted_checks_from_1_25() {
    let spec = json!({"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": true},
                      "containers": [{"name": "c"}]});
    assert!(failing(spec.clone(), Level::Restricted, V(25)).is_empty());
    let before: Vec<&str> = failing(spec, Level::Restricted, V(24))
        .into_iter()
        .map(|(c, _, _)| c)
        .collect();
    assert_eq!(
        before,
        [
            "allowPrivilegeEscalation",
            "seccompProfile_restricted",
            "capabilities_restricted"
        ]
    );
}

#[test]
fn host_process_is_forbidden_at_pod_and_container_level() {
    let spec = json!({"securityContext": {"windowsOptions": {"hostProcess": true}},
                      "hostNetwork": true,
                      "containers": [{"name": "c", "securityContext": {"windowsOptions": {"hostProcess": true}}}]});
    let v = failing(spec, Level::Baseline, Version::Latest);
    let paths: Vec<&str> = v.iter().map(|(_, p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "spec.securityContext.windowsOptions.hostProcess",
            "spec.containers[0].securityContext.windowsOptions.hostProcess",
            "spec.hostNetwork"
        ]
    );
}

#[test]
fn user_namespaces_relax_root_and_proc_checks_only_from_1_35() {
    let mut spec = restricted_pod();
    spec["hostUsers"] = json!(false);
    spec["securityContext"]["runAsNonRoot"] = json!(false);
    spec["containers"][0]["securityContext"]["runAsUser"] = json!(0);
    spec["containers"][0]["securityContext"]["procMount"] = json!("Unmasked");
    let at = |level, minor| -> Vec<&'static str> {
        failing(spec.clone(), level, V(minor))
            .into_iter()
            .map(|(c, _, _)| c)
            .collect()
    };
    // Pod-level false, and the container inheriting it, are both named.
    assert_eq!(
        at(Level::Restricted, 34),
        ["procMount", "runAsNonRoot", "runAsNonRoot", "runAsUser"]
    );
    assert_eq!(at(Level::Restricted, 35), ["procMount_restricted"]);
    assert_eq!(at(Level::Baseline, 34), ["procMount"]);
    assert!(at(Level::Baseline, 35).is_empty());
}

#[test]
fn selinux_type_allow_list_grows_in_1_31_and_user_role_are_always_forbidden() {
    let spec = |opts: Value| json!({"containers": [{"name": "c", "securityContext": {"seLinuxOptions": opts}}]});
    let engine = spec(json!({"type": "container_engine_t"}));
    assert_eq!(failing(engine.clone(), Level::Baseline, V(30)).len(), 1);
    assert!(failing(engine, Level::Baseline, V(31)).is_empty());
    assert!(failing(
        spec(json!({"type": "container_t", "level": "s0:c1"})),
        Level::Baseline,
        V(0)
    )
    .is_empty());
    let v = failing(
        spec(json!({"type": "spc_t", "user": "system_u", "role": ""})),
        Level::Baseline,
        Version::Latest,
    );
    let paths: Vec<&str> = v.iter().map(|(_, p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "spec.containers[0].securityContext.seLinuxOptions.type",
            "spec.containers[0].securityContext.seLinuxOptions.user"
        ]
    );
}

#[test]
fn apparmor_annotations_and_fields() {
    let spec = json!({"securityContext": {"appArmorProfile": {"type": "Unconfined"}},
                      "containers": [{"name": "c", "securityContext": {"appArmorProfile": {"type": "Localhost", "localhostProfile": "p"}}}]});
    let meta = json!({"annotations": {
        "container.apparmor.security.beta.kubernetes.io/c": "unconfined",
        "container.apparmor.security.beta.kubernetes.io/d": "localhost/custom",
        "other": "unconfined"}});
    let v = failing_meta(spec, meta, Level::Baseline, Version::Latest);
    assert_eq!(
        v,
        [
            (
                "appArmorProfile",
                "spec.securityContext.appArmorProfile.type".into(),
                "\"Unconfined\"".into()
            ),
            (
                "appArmorProfile",
                "metadata.annotations[container.apparmor.security.beta.kubernetes.io/c]".into(),
                "\"unconfined\"".into()
            ),
        ]
    );
}

#[test]
fn capabilities_baseline_allow_list_and_restricted_drop_all() {
    let spec = json!({"containers": [{"name": "c", "securityContext": {"capabilities": {
        "add": ["CHOWN", "NET_RAW", "SYS_ADMIN"], "drop": ["NET_RAW"]}}}]});
    let v = failing(spec.clone(), Level::Baseline, Version::Latest);
    let vals: Vec<&str> = v.iter().map(|(_, _, val)| val.as_str()).collect();
    assert_eq!(vals, ["\"NET_RAW\"", "\"SYS_ADMIN\""]);
    assert_eq!(
        v[0].1,
        "spec.containers[0].securityContext.capabilities.add[1]"
    );
    let v = failing(spec, Level::Restricted, Version::Latest);
    let caps: Vec<(&str, &str)> = v
        .iter()
        .filter(|(c, _, _)| *c == "capabilities_restricted")
        .map(|(_, p, val)| (p.as_str(), val.as_str()))
        .collect();
    assert_eq!(
        caps,
        [
            (
                "spec.containers[0].securityContext.capabilities.drop",
                "[\"NET_RAW\"]"
            ),
            (
                "spec.containers[0].securityContext.capabilities.add[0]",
                "\"CHOWN\""
            ),
            (
                "spec.containers[0].securityContext.capabilities.add[1]",
                "\"NET_RAW\""
            ),
            (
                "spec.containers[0].securityContext.capabilities.add[2]",
                "\"SYS_ADMIN\""
            ),
        ]
    );
}

#[test]
fn volumes_host_paths_ports_and_probe_hosts() {
    let spec = json!({
        "volumes": [
            {"name": "cfg", "configMap": {"name": "x"}},
            {"name": "img", "image": {"reference": "x"}},
            {"name": "host", "hostPath": {"path": "/var/run/docker.sock"}},
            {"name": "nfs", "nfs": {"server": "s", "path": "/"}},
            {"name": "empty", "emptyDir": null},
            {"name": "bare"},
            {"name": "odd", "flocker": null, "unheardOf": {"x": 1}}
        ],
        "containers": [{"name": "c",
            "ports": [{"containerPort": 80, "hostPort": 0}, {"containerPort": 443, "hostPort": 8443}],
            "livenessProbe": {"httpGet": {"path": "/", "port": 80, "host": "10.0.0.1"}},
            "readinessProbe": {"tcpSocket": {"port": 80, "host": ""}},
            "lifecycle": {"preStop": {"httpGet": {"port": 80, "host": "metadata.internal"}}}}]
    });
    let base: Vec<(&str, String)> = failing(spec.clone(), Level::Baseline, Version::Latest)
        .into_iter()
        .map(|(c, p, _)| (c, p))
        .collect();
    assert_eq!(
        base,
        [
            ("hostPathVolumes", "spec.volumes[2].hostPath".into()),
            ("hostPorts", "spec.containers[0].ports[1].hostPort".into()),
            (
                "hostProbesAndHostLifecycle",
                "spec.containers[0].livenessProbe.httpGet.host".into()
            ),
            (
                "hostProbesAndHostLifecycle",
                "spec.containers[0].lifecycle.preStop.httpGet.host".into()
            ),
        ]
    );
    assert!(failing(spec.clone(), Level::Baseline, V(33))
        .iter()
        .all(|(c, _, _)| *c != "hostProbesAndHostLifecycle"));
    let vols: Vec<String> = failing(spec, Level::Restricted, Version::Latest)
        .into_iter()
        .filter(|(c, _, _)| *c == "restrictedVolumes")
        .map(|(_, p, _)| p)
        .collect();
    // No source (absent or null) is the API server's default, emptyDir; an unknown key is not.
    assert_eq!(
        vols,
        [
            "spec.volumes[2].hostPath",
            "spec.volumes[3].nfs",
            "spec.volumes[6].unheardOf"
        ]
    );
}

#[test]
fn a_volume_without_a_source_is_an_empty_dir_at_every_version() {
    let mut spec = restricted_pod();
    spec["volumes"] = json!([{"name": "v"}, {"name": "w", "secret": null}]);
    for minor in [0, 19, 25, 36, 37] {
        assert!(
            failing(spec.clone(), Level::Restricted, V(minor)).is_empty(),
            "v1.{minor}"
        );
    }
}

#[test]
fn malformed_values_never_pass() {
    let spec = json!({"hostPID": "yes", "containers": [{"name": "c", "securityContext": {
        "privileged": "true", "allowPrivilegeEscalation": "false", "runAsUser": "0"}}]});
    let v: Vec<&str> = failing(spec, Level::Restricted, V(23))
        .into_iter()
        .map(|(c, _, _)| c)
        .collect();
    for expected in [
        "hostNamespaces",
        "privileged",
        "allowPrivilegeEscalation",
        "runAsUser",
    ] {
        assert!(v.contains(&expected), "{expected} missing from {v:?}");
    }
}

#[test]
fn namespace_labels_select_the_policy_like_the_admission_controller() {
    let ns =
        |labels: Value| json!({"kind": "Namespace", "metadata": {"name": "n", "labels": labels}});
    let p = NamespacePolicy::from_namespace(&ns(json!({})));
    assert_eq!((p.level, p.labelled), (Level::Privileged, false));
    let p = NamespacePolicy::from_namespace(&ns(
        json!({ENFORCE_LABEL: "baseline", ENFORCE_VERSION_LABEL: "v1.21"}),
    ));
    assert_eq!(
        (p.level, p.version, p.labelled),
        (Level::Baseline, V(21), true)
    );
    assert!(p.problems.is_empty());
    let p = NamespacePolicy::from_namespace(&ns(
        json!({ENFORCE_LABEL: "strict", ENFORCE_VERSION_LABEL: "1.21"}),
    ));
    assert_eq!((p.level, p.version), (Level::Restricted, Version::Latest));
    assert_eq!(p.problems.len(), 2, "{:?}", p.problems);
    assert!(
        p.problems[0].ends_with("enforces restricted"),
        "{:?}",
        p.problems
    );
    assert!(p.problems[1].ends_with("uses latest"), "{:?}", p.problems);
    // A bad version does not touch a good level (and the other way round).
    let p = NamespacePolicy::from_namespace(&ns(
        json!({ENFORCE_LABEL: "baseline", ENFORCE_VERSION_LABEL: "v1.05"}),
    ));
    assert_eq!((p.level, p.version), (Level::Baseline, Version::Latest));
    assert_eq!(p.problems.len(), 1);
    // A version newer than kubecis knows is valid and means the newest policy.
    let p = NamespacePolicy::from_namespace(&ns(
        json!({ENFORCE_LABEL: "baseline", ENFORCE_VERSION_LABEL: "v1.40"}),
    ));
    assert_eq!(
        (p.version, p.version.effective_minor()),
        (V(40), LATEST_MINOR)
    );
    assert!(p.problems.is_empty());
    assert_eq!(
        p.to_string(),
        "enforce=baseline:v1.40 (evaluated as v1.37, the newest policy)"
    );
}
