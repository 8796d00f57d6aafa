//! YAML read as Kubernetes reads it, through the binary: merge keys and YAML 1.1 scalars can
//! no longer hide a privileged pod from `scan` or an open kubelet from section 4, and hostile
//! inputs (nesting, alias and size bombs) are refused quickly with an error naming the input.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use common::fixture::FixtureNode;
use serde_json::Value;

/// Runs kubecis with `stdin`; a run still going after `secs` is killed, failing the test.
fn run(args: &[&str], stdin: &[u8], secs: u64) -> (i32, String, String) {
    let out = Command::cargo_bin("kubecis")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(args)
        .write_stdin(stdin.to_vec())
        .timeout(Duration::from_secs(secs))
        .output()
        .unwrap();
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("kubecis {args:?} was killed (still running after {secs} s?)"));
    (
        code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const MERGED_POD: &str = "\
apiVersion: v1
kind: Pod
metadata: {name: merged, namespace: apps}
spec:
  <<: {hostNetwork: true}
  containers:
    - name: app
      image: registry.example.com/app:1
      securityContext: {<<: {privileged: true}}
---
apiVersion: v1
kind: Pod
metadata: {name: yaml11, namespace: apps}
spec:
  hostPID: on
  containers:
    - name: app
      image: registry.example.com/app:1
      securityContext:
        privileged: yes
";

#[test]
fn merge_keys_and_yaml_1_1_booleans_do_not_hide_violations_from_scan() {
    let (code, out, err) = run(
        &["scan", "--level", "restricted", "-"],
        MERGED_POD.as_bytes(),
        60,
    );
    assert_eq!(code, 1, "{out}{err}");
    for want in [
        "[FAIL] 1.2 Host Namespaces",
        "[FAIL] 1.3 Privileged Containers",
        "[FAIL] 2.2 Host Namespaces",
        "[FAIL] 2.3 Privileged Containers",
        "  - spec.hostNetwork = true",
        "  - spec.hostPID = true",
        "  - spec.containers[0].securityContext.privileged = true",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}

#[test]
fn hostile_manifests_are_refused_quickly_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let deep = dir.path().join("deep.yaml");
    fs::write(&deep, "{a: ".repeat(100_000)).unwrap();
    let mut bomb = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..=9 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let bombs = dir.path().join("bomb.yaml");
    fs::write(&bombs, &bomb).unwrap();
    for (file, want) in [
        (&deep, "nested deeper than 128 levels"),
        (&bombs, "excessive aliasing"),
    ] {
        let (code, _, err) = run(&["scan", file.to_str().unwrap()], b"", 20);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(&*file.display().to_string()), "{err}");
        assert!(err.contains(want), "{err}");
    }

    // Standard input is bounded by what is read, not by what it claims.
    let big = vec![b'#'; (32 << 20) + 1];
    let (code, _, err) = run(&["scan", "-"], &big, 20);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("-: larger than the limit of 33554432 bytes"),
        "{err}"
    );

    // Together, inputs may not pass 64 MiB: the third read of a 30 MiB file is refused, and
    // nothing has been parsed (the file would be valid: a comment). Naming one file three
    // times keeps the test's disk use at 30 MiB.
    let part = dir.path().join("part.yaml");
    fs::write(&part, format!("#{}\n", "x".repeat((30 << 20) - 2))).unwrap();
    let part = part.display().to_string();
    let (code, _, err) = run(&["scan", &part, &part, &part], b"", 20);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "{part}: the inputs together are larger than the limit of 67108864 bytes"
        )),
        "{err}"
    );
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let dest = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            fs::create_dir_all(&dest).unwrap();
        } else {
            fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// Runs 4.2.1 and 4.2.4 of the bundled benchmark on the kubeadm worker, its kubelet config
/// edited by `edit`; returns (status, actual value) per check.
fn kubelet_checks(edit: impl FnOnce(String) -> String) -> Vec<(String, String)> {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nodes/kubeadm-worker");
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture, dir.path());
    let config = dir.path().join("root/var/lib/kubelet/config.yaml");
    fs::write(&config, edit(fs::read_to_string(&config).unwrap())).unwrap();
    let node = FixtureNode::materialize_from(dir.path()).unwrap();
    let root = node.root().to_str().unwrap();
    let args = [
        "run",
        "--root",
        root,
        "--targets",
        "node",
        "--check",
        "4.2.1,4.2.4",
        "--json",
    ];
    let (code, out, err) = run(&args, b"", 60);
    assert!(code == 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let results: Vec<&Value> = report["Controls"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["tests"].as_array().unwrap())
        .flat_map(|g| g["results"].as_array().unwrap())
        .collect();
    assert_eq!(results.len(), 2, "{out}");
    results
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap().to_string(),
                r["actual_value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A merge key appended to the kubeadm worker's kubelet config: go-yaml v2 writes the merged
/// entries over the explicit `authentication:` above them, so the kubelet runs with anonymous
/// auth and the read-only port. 4.2.1 fails; 4.2.4, a manual check, warns with the port seen.
#[test]
fn a_merge_key_in_the_kubelet_config_is_read_as_the_kubelet_reads_it() {
    let merge = "<<: {authentication: {anonymous: {enabled: true}}, readOnlyPort: 10255}\n";
    let after = kubelet_checks(|text| text + merge);
    assert_eq!(after[0].0, "FAIL", "{after:?}");
    assert!(
        after[0]
            .1
            .contains("{.authentication.anonymous.enabled}=true"),
        "{after:?}"
    );
    assert_eq!(after[1].0, "WARN", "{after:?}");
    assert!(after[1].1.contains("{.readOnlyPort}=10255"), "{after:?}");

    // Written before them, the merged entries lose to the explicit ones.
    let before = kubelet_checks(|text| format!("{merge}{text}"));
    assert_eq!(before[0].0, "PASS", "{before:?}");
    assert_eq!(before[1].0, "WARN", "{before:?}");
    assert!(before[1].1.contains("{.readOnlyPort}=10255"), "{before:?}");
}
