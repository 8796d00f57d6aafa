//! CIS 1.23 end to end on realistic nodes: each fixture under `tests/fixtures/nodes/` is
//! materialized (real modes, owners, processes), the `kubecis` binary audits it with the bundled
//! definitions, and every check's verdict is compared with the node's hand-reviewed
//! `expected.yaml`. The same run's full text report (`--include-test-output`) and JSON report
//! (pretty-printed) are compared with `report.txt` and `report.json`, so any change in what an
//! operator reads shows up in review; only pids and the temporary root are normalised.
//!
//! Goldens are reviewed like code. `KUBECIS_BLESS=1 cargo test --test fixture_nodes` rewrites
//! them from the current output (keeping nothing by hand), for a reviewer to read in the diff.
//! Independent of the goldens, the rules of truth are asserted directly: the hardened node has
//! no FAIL, the broken nodes FAIL what they break, and a check whose evidence is missing or
//! unparsable is never a PASS.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use assert_cmd::Command;
use common::diff::first_diff;
use common::fixture::{self, FixtureNode};
use regex::{Captures, Regex};
use serde::Deserialize;

/// Targets audited on each kind of node.
const CONTROL_PLANE: &str = "master,controlplane,etcd,node";
const WORKER: &str = "node";

/// One check's outcome as kubecis reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    status: String,
    /// Why the evidence could not be gathered or judged; empty when it was.
    reason: String,
    /// What was observed, for the reviewer of a blessed golden.
    actual: String,
}

#[derive(Debug, Deserialize)]
struct Golden {
    targets: String,
    checks: BTreeMap<String, String>,
}

/// Everything one materialization of a node yields: the verdicts for `expected.yaml`, and the
/// text and JSON reports (normalised, see [`normalize`]) for `report.txt` and `report.json`.
struct Audit {
    results: BTreeMap<String, Outcome>,
    text: String,
    json: String,
}

/// Runs `kubecis run` on a materialized node with the bundled definitions and `extra` args;
/// returns its standard output, panicking with everything it printed if it did not exit 0.
fn kubecis(node: &FixtureNode, targets: &str, extra: &[&str]) -> String {
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("cfg");
    let out = Command::cargo_bin("kubecis")
        .unwrap()
        .arg("run")
        .arg("--root")
        .arg(node.root())
        .arg("--config-dir")
        .arg(&cfg)
        .args(["--benchmark", "cis-1.23", "--targets", targets])
        .args(["--include-test-output"])
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).expect("kubecis prints UTF-8");
    assert!(
        out.status.success(),
        "{}: kubecis {extra:?} exited {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        node.name(),
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Audits a materialized node twice (text, then `--json`: stdout is a pipe, so no colour) and
/// returns id -> outcome for every check, with both reports.
fn audit(node: &FixtureNode, targets: &str) -> Audit {
    let text = kubecis(node, targets, &[]);
    let stdout = kubecis(node, targets, &["--json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{}: kubecis did not print JSON ({e})\n{stdout}",
            node.name()
        )
    });
    let mut results = BTreeMap::new();
    for controls in json["Controls"].as_array().expect("Controls is a list") {
        for group in controls["tests"].as_array().expect("tests is a list") {
            for r in group["results"].as_array().expect("results is a list") {
                let id = r["test_number"].as_str().unwrap().to_string();
                let outcome = Outcome {
                    status: r["status"].as_str().unwrap().to_string(),
                    reason: r["reason"].as_str().unwrap_or_default().to_string(),
                    actual: r["actual_value"].as_str().unwrap_or_default().to_string(),
                };
                let dup = results.insert(id.clone(), outcome);
                assert!(dup.is_none(), "{}: check {id} reported twice", node.name());
            }
        }
    }
    assert!(!results.is_empty(), "{}: no results", node.name());
    // serde_json keeps the keys in the order kubecis wrote them (the `preserve_order` feature),
    // so the golden shows the report's own order and a key that moves between runs is a diff.
    let pretty = serde_json::to_string_pretty(&json).unwrap() + "\n";
    Audit {
        results,
        text: normalize(&text, node),
        json: normalize(&pretty, node),
    }
}

/// Rewrites what differs between two runs on the same fixture, and nothing else: the node's
/// temporary root (`/tmp/kubecis-node-<name>-XXXXXX/root`) becomes `<root>`, and the pid of each
/// process the harness spawned, where it appears as `pid N` or `/proc/N`, becomes
/// `<pid:BINARY>` (so the golden still says which component it was). Any other pid, path or
/// number is left alone: if it changes between runs, the comparison should fail and say so.
fn normalize(output: &str, node: &FixtureNode) -> String {
    let pids: BTreeMap<String, &str> = node
        .processes()
        .iter()
        .map(|p| (p.pid.to_string(), p.binary.as_str()))
        .collect();
    let root = node.root().to_str().expect("temporary root is UTF-8");
    let output = output.replace(root, "<root>");
    let pid = Regex::new(r"(\bpid |/proc/)(\d+)\b").unwrap();
    pid.replace_all(&output, |c: &Captures| match pids.get(&c[2]) {
        Some(binary) => format!("{}<pid:{binary}>", &c[1]),
        None => c[0].to_string(),
    })
    .into_owned()
}

/// Compares a report with its golden file (or rewrites the file when blessing); returns a short
/// diff when they differ.
fn compare_report(path: &Path, got: &str, bless: bool) -> Option<String> {
    if bless {
        fs::write(path, got).unwrap();
        return None;
    }
    let want = fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (KUBECIS_BLESS=1 writes it)", path.display()));
    first_diff(&want, got).map(|d| format!("{} differs:\n{d}", path.display()))
}

/// Compares with `expected.yaml`, `report.txt` and `report.json` (or rewrites them when
/// blessing) and returns the results, or `None` (after saying so) when not running as root: the
/// goldens were reviewed with the fixtures' owners applied, and only root can apply them.
fn check_golden(name: &str, targets: &str) -> Option<BTreeMap<String, Outcome>> {
    if fixture::skip_without_chown(name) {
        return None;
    }
    let node = FixtureNode::materialize(name);
    let Audit {
        results,
        text,
        json,
    } = audit(&node, targets);
    let dir = fixture::fixtures_dir().join(name);
    let bless = std::env::var_os("KUBECIS_BLESS").is_some();
    let reports: Vec<String> = [("report.txt", &text), ("report.json", &json)]
        .into_iter()
        .filter_map(|(file, got)| compare_report(&dir.join(file), got, bless))
        .collect();
    let path = dir.join("expected.yaml");
    let actual: BTreeMap<String, String> = results
        .iter()
        .map(|(id, o)| (id.clone(), o.status.clone()))
        .collect();
    if bless {
        let mut ids: Vec<&String> = actual.keys().collect();
        ids.sort_by_key(|id| numeric_id(id));
        let mut text = format!(
            "# Verdicts of `kubecis run --benchmark cis-1.23 --targets {targets}` on this node,\n\
             # reviewed by hand (see tests/fixture_nodes.rs). Ids are in benchmark order.\n\
             targets: {targets}\nchecks:\n"
        );
        for id in ids {
            text += &format!("  \"{id}\": {}\n", actual[id]);
        }
        fs::write(&path, text).unwrap();
        let mut review = format!(
            "blessed {} and its report.txt, report.json -- review the diff:\n",
            path.display()
        );
        for (id, o) in &results {
            let actual: String = o.actual.chars().take(100).collect();
            review += &format!("  {id:8} {:4} {actual} {}\n", o.status, o.reason);
        }
        eprintln!("{review}");
        return Some(results);
    }
    let text = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (KUBECIS_BLESS=1 writes it)", path.display()));
    let golden: Golden = kubecis::yaml::from_str(&path.display().to_string(), &text)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(golden.targets, targets, "{}: targets", path.display());
    let mut diffs = Vec::new();
    for (id, want) in &golden.checks {
        match results.get(id) {
            None => diffs.push(format!("{id}: expected {want}, not reported")),
            Some(o) if o.status != *want => diffs.push(format!(
                "{id}: expected {want}, got {} {}",
                o.status, o.reason
            )),
            Some(_) => {}
        }
    }
    for id in results.keys().filter(|id| !golden.checks.contains_key(*id)) {
        diffs.push(format!("{id}: reported but not in the golden"));
    }
    assert!(
        diffs.is_empty(),
        "{name} differs from {}:\n  {}\n{}",
        path.display(),
        diffs.join("\n  "),
        reports.join("\n")
    );
    assert!(
        reports.is_empty(),
        "{name}: same verdicts, but what an operator sees changed \
         (KUBECIS_BLESS=1 rewrites the reports; review the diff):\n{}",
        reports.join("\n")
    );
    Some(results)
}

/// "1.2.10" -> [1, 2, 10], so ids sort as the benchmark orders them.
fn numeric_id(id: &str) -> Vec<u32> {
    id.split('.')
        .map(|p| p.parse().unwrap_or(u32::MAX))
        .collect()
}

fn status<'a>(results: &'a BTreeMap<String, Outcome>, id: &str) -> &'a str {
    &results
        .get(id)
        .unwrap_or_else(|| panic!("check {id} not reported"))
        .status
}

/// Evidence that could not be gathered (the engine gives a reason) never yields PASS.
fn assert_no_pass_without_evidence(name: &str, results: &BTreeMap<String, Outcome>) {
    for (id, o) in results {
        assert!(
            o.status != "PASS" || o.reason.is_empty(),
            "{name}: {id} is PASS although {}",
            o.reason
        );
    }
}

fn assert_all(name: &str, results: &BTreeMap<String, Outcome>, ids: &[&str], want: &[&str]) {
    for id in ids {
        let got = status(results, id);
        assert!(
            want.contains(&got),
            "{name}: {id} is {got} ({}), expected one of {want:?}",
            results[*id].reason
        );
    }
}

#[test]
fn kubeadm_control_plane() {
    let Some(r) = check_golden("kubeadm-control-plane", CONTROL_PLANE) else {
        return;
    };
    assert_no_pass_without_evidence("kubeadm-control-plane", &r);
    // kubeadm's defaults: profiling on, no audit log, etcd data dir owned by root.
    assert_all(
        "kubeadm-control-plane",
        &r,
        &["1.2.18", "1.2.19", "1.1.12", "1.3.2", "1.4.1"],
        &["FAIL"],
    );
    assert_all(
        "kubeadm-control-plane",
        &r,
        &["1.1.1", "1.1.11", "1.2.8", "1.2.9", "4.2.1", "4.2.2"],
        &["PASS"],
    );
}

#[test]
fn kubeadm_worker() {
    let Some(r) = check_golden("kubeadm-worker", WORKER) else {
        return;
    };
    assert_no_pass_without_evidence("kubeadm-worker", &r);
    assert_all(
        "kubeadm-worker",
        &r,
        &["4.1.5", "4.1.9", "4.2.1", "4.2.2", "4.2.3", "4.2.11"],
        &["PASS"],
    );
    // kubeadm does not turn on kernel-default protection.
    assert_all("kubeadm-worker", &r, &["4.2.6"], &["FAIL"]);
}

/// kube-proxy's kubeconfig exists only inside its pod (a ConfigMap volume, reached through a
/// symlink): 4.1.3/4.1.4 are judged on that file, read through `/proc/<pid>/root`, not reported
/// missing because the host has no `/var/lib/kube-proxy`.
#[test]
fn proxy_kubeconfig_is_read_inside_the_kube_proxy_pod() {
    let name = "kubeadm-proxy-pod";
    if !fixture::can_chroot() {
        eprintln!("skipped: needs root to chroot ({name})");
        return;
    }
    let Some(r) = check_golden(name, WORKER) else {
        return;
    };
    assert_no_pass_without_evidence(name, &r);
    assert_all(name, &r, &["4.1.3", "4.1.4"], &["PASS"]);
    // The evidence names the file kube-proxy reads, in its own root. Pids differ per run, so
    // the path is checked by shape; the fixture test below pins it to the real pid.
    for id in ["4.1.3", "4.1.4"] {
        let actual = &r[id].actual;
        assert!(
            actual.starts_with("/proc/")
                && actual.contains("/root/var/lib/kube-proxy/kubeconfig.conf "),
            "{id}: {actual}"
        );
    }
    assert!(
        r["4.1.3"].actual.ends_with("permissions=644"),
        "not the symlink's 777"
    );
}

#[test]
fn eks_worker_is_judged_by_the_config_its_kubelet_reads() {
    let Some(r) = check_golden("eks-worker", WORKER) else {
        return;
    };
    assert_no_pass_without_evidence("eks-worker", &r);
    // kubelet-config.json is compliant; the stale config.yaml (anonymous auth, AlwaysAllow,
    // port 10255, no kernel protection) would fail all of these.
    assert_all(
        "eks-worker",
        &r,
        &["4.2.1", "4.2.2", "4.2.3", "4.2.4", "4.2.6"],
        &["PASS"],
    );
}

#[test]
fn hardened_control_plane_has_no_fail() {
    let Some(r) = check_golden("hardened-control-plane", CONTROL_PLANE) else {
        return;
    };
    assert_no_pass_without_evidence("hardened-control-plane", &r);
    let fails: Vec<String> = r
        .iter()
        .filter(|(_, o)| o.status == "FAIL")
        .map(|(id, o)| format!("{id} {}", o.reason))
        .collect();
    assert!(fails.is_empty(), "hardened node fails: {fails:?}");
}

#[test]
fn broken_node_fails_what_it_breaks() {
    let name = "broken-node";
    let Some(r) = check_golden(name, CONTROL_PLANE) else {
        return;
    };
    assert_no_pass_without_evidence(name, &r);
    // Scored (Automated) recommendations the node breaks: FAIL.
    let must_fail = [
        // files: 666/777/664 modes, owners nobody/ubuntu/nogroup, etcd data dir 755 root
        "1.1.1", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.8", "1.1.11", "1.1.12", "1.1.13",
        "1.1.14", "1.1.17", "1.1.18", "1.1.19",
        // apiserver: token file, no kubelet client cert or CA, AlwaysAllow, AlwaysAdmit, no
        // NodeRestriction, profiling, no audit log
        "1.2.2", "1.2.5", "1.2.6", "1.2.7", "1.2.8", "1.2.9", "1.2.11", "1.2.16", "1.2.18",
        "1.2.19",
        // controller manager and scheduler: profiling, SA credentials, 0.0.0.0
        "1.3.2", "1.3.3", "1.3.7", "1.4.1", "1.4.2",
        // etcd: no client/peer cert auth, auto-TLS
        "2.2", "2.3", "2.5", "2.6",
        // kubelet: drop-in 666 owned by ubuntu, kubelet.conf 666, config 666 nobody,
        // anonymous, AlwaysAllow, kernel defaults, iptables chains, rotation off
        "4.1.1", "4.1.2", "4.1.5", "4.1.9", "4.1.10", "4.2.1", "4.2.2", "4.2.6", "4.2.7", "4.2.11",
    ];
    assert_all(name, &r, &must_fail, &["FAIL"]);
    // Unscored (Manual) recommendations it breaks: kubecis, like kube-bench, reports a failed
    // unscored check as WARN. CNI conflist 666, keys 644, anonymous auth, read-only port 10255.
    assert_all(
        name,
        &r,
        &["1.1.9", "1.1.21", "1.2.1", "1.2.10", "4.2.4"],
        &["WARN"],
    );
    // scheduler.conf and kube-proxy's kubeconfig are referenced but missing: no verdict on a
    // file that is not there (4.1.3/4.1.4 read "if the proxy kubeconfig exists", hence INFO).
    assert_all(name, &r, &["1.1.15", "1.1.16"], &["WARN", "FAIL"]);
    assert_all(name, &r, &["4.1.3", "4.1.4"], &["WARN", "FAIL", "INFO"]);
}

#[test]
fn unparsable_kubelet_config_is_never_a_pass() {
    let name = "broken-kubelet-config";
    let Some(r) = check_golden(name, WORKER) else {
        return;
    };
    assert_no_pass_without_evidence(name, &r);
    // Every one of these reads the kubelet config file (no command-line flag overrides them).
    assert_all(
        name,
        &r,
        &[
            "4.2.1", "4.2.2", "4.2.3", "4.2.4", "4.2.6", "4.2.7", "4.2.11",
        ],
        &["WARN", "FAIL"],
    );
}

#[test]
fn relative_kubelet_config_resolves_through_the_process_cwd() {
    let name = "relative-kubelet-config";
    let Some(r) = check_golden(name, WORKER) else {
        return;
    };
    assert_no_pass_without_evidence(name, &r);
    // ./kubelet-config.yaml in the kubelet's working directory is hardened and 0600; the stale
    // /var/lib/kubelet/config.yaml (0666, anonymous auth, AlwaysAllow, port 10255, no kernel
    // protection) would fail every one of these.
    assert_all(
        name,
        &r,
        &["4.1.9", "4.2.1", "4.2.2", "4.2.4", "4.2.6"],
        &["PASS"],
    );
}

/// The failure message of a changed report shows the first change with its context.
#[test]
fn first_diff_shows_the_first_change_in_context() {
    let want = "a\nb\nc\nd\ne\nf\ng\nh\n";
    assert_eq!(first_diff(want, want), None);
    assert_eq!(
        first_diff(want, "a\nb\nc\nd\nE\nf\ng\nh\n").unwrap(),
        "@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n"
    );
    // An inserted line, and a later change mentioned but not shown.
    assert_eq!(
        first_diff(want, "a\nnew\nb\nc\nd\ne\nf\ng\nH\n").unwrap(),
        "@@ -1,4 +1,5 @@\n a\n+new\n b\n c\n d\n  (more differences follow)\n"
    );
    assert_eq!(
        first_diff("a\n", "a").unwrap(),
        "  (only the final newline differs)\n"
    );
}
