//! `kubecis demo` is the first command of the README: it must run with no Kubernetes and show
//! exactly what a live run on the kubeadm control-plane fixture shows. The embedded snapshot
//! is regenerated from the fixture with `KUBECIS_BLESS=1 cargo test --test demo`.

mod common;

use std::path::Path;

use common::fixture::FixtureNode;
use common::kubecis;
use regex::Regex;
use serde_json::Value;

const NODE_TARGETS: &str = "master,etcd,controlplane,node";

/// id → (status, actual, reason, source), with process ids blanked (they differ per run).
fn verdicts(report: &Value, node_only: bool) -> Vec<(String, String, String, String, String)> {
    let pid = Regex::new(r"(pid |/proc/)\d+").unwrap();
    let blank = |v: &Value| {
        pid.replace_all(v.as_str().unwrap_or(""), "${1}N")
            .into_owned()
    };
    report["Controls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !node_only || c["node_type"] != "policies")
        .flat_map(|c| c["tests"].as_array().unwrap())
        .flat_map(|g| g["results"].as_array().unwrap())
        .map(|r| {
            (
                blank(&r["test_number"]),
                blank(&r["status"]),
                blank(&r["actual_value"]),
                blank(&r["reason"]),
                blank(&r["source"]),
            )
        })
        .collect()
}

#[test]
fn the_demo_shows_what_a_live_run_on_the_kubeadm_fixture_shows() {
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("cfg");
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/kubeadm-control-plane.json");
    let node = FixtureNode::materialize("kubeadm-control-plane");
    let root = node.root().to_str().unwrap();
    let cfg = cfg.to_str().unwrap();
    if std::env::var_os("KUBECIS_BLESS").is_some() {
        let _ = std::fs::remove_file(&snapshot);
        let (code, _, err) = kubecis(&[
            "collect",
            "--root",
            root,
            "--config-dir",
            cfg,
            "--benchmark",
            "cis-1.23",
            "--targets",
            NODE_TARGETS,
            "--output",
            snapshot.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        eprintln!("blessed {} -- review the diff", snapshot.display());
    }
    let (code, live, err) = kubecis(&[
        "run",
        "--root",
        root,
        "--config-dir",
        cfg,
        "--benchmark",
        "cis-1.23",
        "--targets",
        NODE_TARGETS,
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    drop(node);
    let (code, demo, err) = kubecis(&["demo", "--json"]);
    assert_eq!(code, 0, "{err}");
    let live: Value = serde_json::from_str(&live).unwrap();
    let demo: Value = serde_json::from_str(&demo).unwrap();
    assert_eq!(
        verdicts(&demo, true),
        verdicts(&live, true),
        "demo/kubeadm-control-plane.json is stale: KUBECIS_BLESS=1 cargo test --test demo"
    );
}

#[test]
fn the_demo_prints_all_five_sections_with_summaries() {
    let (code, out, err) = kubecis(&["demo"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("no Kubernetes needed"), "{err}");
    for section in ["master", "etcd", "controlplane", "node", "policies"] {
        assert!(
            out.contains(&format!("== Summary {section} ==")),
            "{section}: {out}"
        );
    }
    assert!(out.contains("== Summary total =="));
    // What a default kubeadm node gets wrong, judged from real evidence in the snapshot.
    assert!(
        out.contains("[FAIL] 1.2.18 Ensure that the --profiling argument is set to false"),
        "{out}"
    );
    assert!(
        out.contains(
            "[FAIL] 1.1.12 Ensure that the etcd data directory ownership is set to etcd:etcd"
        ),
        "{out}"
    );
    // Section 5 is judged from the cluster's objects, not left to a person.
    assert!(out.contains("[PASS] 5.1.1 "), "{out}");
    assert!(!out.contains('\u{1b}'), "no colour when piped");
}
