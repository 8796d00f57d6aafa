//! The Pod Security policy version as an operator gives it, end to end: `kubecis scan
//! --pss-version` through the binary, and the `enforce-version` label through the 5.2.x checks.
//! Both accept `latest` and any `v1.<minor>`; a minor newer than kubecis knows is judged as the
//! newest policy (v1.37), as the admission controller clamps it.

mod common;

use common::kubecis;
use kubecis::policies::evaluate;
use kubecis::policies::objects::Objects;
use kubecis::report::model::Status;

/// A pod whose only departure from baseline before v1.37 is the two sysctls v1.37 made safe.
const SYSCTL_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: tuned, namespace: apps}\nspec:\n  securityContext:\n    sysctls:\n    - {name: net.ipv4.tcp_slow_start_after_idle, value: '0'}\n    - {name: net.ipv4.tcp_notsent_lowat, value: '16384'}\n  containers: [{name: c, image: registry.example.com/app:1}]\n";

#[test]
fn scan_pss_version_accepts_every_minor_and_clamps_newer_ones() {
    let dir = tempfile::tempdir().unwrap();
    let pod = dir.path().join("pod.yaml");
    std::fs::write(&pod, SYSCTL_POD).unwrap();
    let pod = pod.to_str().unwrap();

    for (version, code) in [
        ("v1.0", 1),
        ("v1.36", 1),
        ("v1.37", 0),
        ("1.37", 0),
        ("latest", 0),
        ("v1.38", 0),
        ("v1.12345", 0),
    ] {
        let (got, out, err) =
            kubecis(&["scan", "--level", "baseline", "--pss-version", version, pod]);
        assert_eq!(got, code, "--pss-version {version}\n{out}\n{err}");
        if code == 1 {
            assert!(
                out.contains("spec.securityContext.sysctls[1].name")
                    && out.contains("net.ipv4.tcp_notsent_lowat"),
                "--pss-version {version} must name the sysctl:\n{out}"
            );
        }
    }
    for bad in ["v1.05", "v2.0", "v1.99999999999999999999"] {
        let (got, _, err) = kubecis(&["scan", "--pss-version", bad, pod]);
        assert_eq!(got, 2, "--pss-version {bad}: {err}");
        assert!(err.contains("invalid Pod Security version"), "{err}");
    }
}

/// 5.2.1's view of a namespace with `enforce-version` newer than kubecis knows: a valid label
/// (no problem reported), enforcing baseline.
#[test]
fn enforce_version_labels_newer_than_known_are_valid() {
    let mut objects = Objects::default();
    objects
        .add_text(
            "ns.yaml",
            "kind: Namespace\nmetadata:\n  name: apps\n  labels:\n    pod-security.kubernetes.io/enforce: baseline\n    pod-security.kubernetes.io/enforce-version: v1.40\n---\nkind: Namespace\nmetadata:\n  name: typo\n  labels:\n    pod-security.kubernetes.io/enforce: baseline\n    pod-security.kubernetes.io/enforce-version: v1.040\n",
        )
        .unwrap();
    let o = evaluate("pss-policy-control", &objects).unwrap();
    assert_eq!(o.status, Status::Pass, "{o:?}");
    assert_eq!(
        o.findings,
        ["Namespace/typo: pod-security.kubernetes.io/enforce-version=\"v1.040\" is not a version; the admission controller uses latest"],
    );
}
