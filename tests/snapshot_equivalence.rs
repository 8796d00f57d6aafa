//! Offline mode gives the live answer: on every fixture node, `kubecis collect` then
//! `kubecis run --snapshot` prints exactly the JSON report of `kubecis run` on the live node,
//! for target detection and for explicit selections. The replay runs after the node is gone
//! (processes killed, tree deleted), so nothing it prints can come from the live node.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::fixture::{self, FixtureNode};

/// Selections compared: detection (no --targets), every node target, one target, one check.
const SELECTIONS: &[&[&str]] = &[
    &[],
    &["--targets", "master,controlplane,etcd,node"],
    &["--targets", "node"],
    &["--targets", "master", "--check", "1.1.1,1.2.1"],
];

fn cfg() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cfg")
}

fn kubecis(args: &[&str], extra: &[&std::ffi::OsStr]) -> (Option<i32>, String, String) {
    let out = Command::cargo_bin("kubecis")
        .unwrap()
        .args(args)
        .args(extra)
        .arg("--config-dir")
        .arg(cfg())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn secret_line() -> regex::Regex {
    regex::Regex::new(
        r#"(?m)^\s*(?:-\s+)?["']?(?:secret|token|password|client-key-data)["']?:\s*["']?([^\s"',]+)"#,
    )
    .unwrap()
}

/// Secret values written in the node's files (what `collect` must redact).
fn secrets_on(root: &Path) -> Vec<String> {
    let re = secret_line();
    let mut out: Vec<String> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .flat_map(|t| {
            re.captures_iter(&t)
                .map(|c| c[1].to_string())
                .collect::<Vec<_>>()
        })
        .filter(|v| v.len() >= 8 && v != "REDACTED")
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Readable differences between two reports: per check, each field that differs.
fn differences(live: &serde_json::Value, replay: &serde_json::Value) -> Vec<String> {
    let results = |v: &serde_json::Value| -> std::collections::BTreeMap<String, serde_json::Value> {
        v["Controls"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["tests"].as_array().into_iter().flatten())
            .flat_map(|g| g["results"].as_array().into_iter().flatten())
            .map(|r| {
                (
                    r["test_number"].as_str().unwrap_or("?").to_string(),
                    r.clone(),
                )
            })
            .collect()
    };
    let (l, r) = (results(live), results(replay));
    let mut out = Vec::new();
    for id in l.keys().chain(r.keys().filter(|k| !l.contains_key(*k))) {
        match (l.get(id), r.get(id)) {
            (Some(a), Some(b)) if a != b => {
                for (field, av) in a.as_object().unwrap() {
                    let bv = &b[field];
                    if av != bv {
                        out.push(format!("  {id} {field}: live {av} / snapshot {bv}"));
                    }
                }
            }
            (Some(_), None) => out.push(format!("  {id}: only in the live run")),
            (None, Some(_)) => out.push(format!("  {id}: only in the snapshot run")),
            _ => {}
        }
    }
    out
}

#[test]
fn a_snapshot_run_prints_the_live_report_on_every_fixture_node() {
    let names = fixture::fixture_names();
    assert!(names.len() >= 5, "fixture nodes: {names:?}");
    let out_dir = tempfile::tempdir().unwrap();
    for name in names {
        let snapshot = out_dir.path().join(format!("{name}.json"));
        let mut live = Vec::new();
        let secrets;
        {
            let node = FixtureNode::materialize(&name);
            secrets = secrets_on(node.root());
            let root = node.root().as_os_str();
            for sel in SELECTIONS {
                let mut args = vec!["run", "--json", "--benchmark", "cis-1.23"];
                args.extend_from_slice(sel);
                live.push(kubecis(&args, &[std::ffi::OsStr::new("--root"), root]));
            }
            let (code, _, err) = kubecis(
                &["collect", "--benchmark", "cis-1.23", "--output"],
                &[snapshot.as_os_str(), std::ffi::OsStr::new("--root"), root],
            );
            assert_eq!(code, Some(0), "{name}: collect failed: {err}");
        }

        let mut compared = 0;
        for (sel, (live_code, live_out, live_err)) in SELECTIONS.iter().zip(&live) {
            let mut args = vec!["run", "--json", "--benchmark", "cis-1.23"];
            args.extend_from_slice(sel);
            let (code, out, err) = kubecis(
                &args,
                &[std::ffi::OsStr::new("--snapshot"), snapshot.as_os_str()],
            );
            assert_eq!(
                (code, err.as_str()),
                (*live_code, live_err.as_str()),
                "{name} {sel:?}: exit status and errors differ"
            );
            if live_code != &Some(0) {
                continue;
            }
            // The one allowed difference: a secret the live report quotes (the live report
            // prints what it observed) is REDACTED in the snapshot run.
            let live_out = secrets
                .iter()
                .fold(live_out.clone(), |t, s| t.replace(s.as_str(), "REDACTED"));
            let live_json: serde_json::Value = serde_json::from_str(&live_out)
                .unwrap_or_else(|e| panic!("{name} {sel:?}: live output is not JSON: {e}"));
            let replay_json: serde_json::Value = serde_json::from_str(&out)
                .unwrap_or_else(|e| panic!("{name} {sel:?}: replay output is not JSON: {e}"));
            assert!(
                live_json["Controls"]
                    .as_array()
                    .is_some_and(|c| !c.is_empty()),
                "{name} {sel:?}: the live run judged nothing:\n{live_out}"
            );
            let diff = differences(&live_json, &replay_json);
            assert!(
                diff.is_empty(),
                "{name} {sel:?}: the snapshot run differs from the live run:\n{}",
                diff.join("\n")
            );
            assert_eq!(replay_json, live_json, "{name} {sel:?}");
            compared += 1;
        }
        assert!(
            compared >= 3,
            "{name}: only {compared} selections produced reports"
        );
    }
}

/// The snapshot of a node whose files hold secrets carries none of them, and still gives
/// the live verdicts (the equality above includes this node when it is a fixture).
#[test]
fn the_snapshot_of_a_control_plane_holds_no_secret_it_read() {
    let node = FixtureNode::materialize("hardened-control-plane");
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("cp.json");
    let (code, _, err) = kubecis(
        &["collect", "--benchmark", "cis-1.23", "--output"],
        &[
            snapshot.as_os_str(),
            std::ffi::OsStr::new("--root"),
            node.root().as_os_str(),
        ],
    );
    assert_eq!(code, Some(0), "collect failed: {err}");
    let text = std::fs::read_to_string(&snapshot).unwrap();
    let snap: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(snap["format"], "kubecis-snapshot/1");

    // Every secret value in every file the run read must be gone from the snapshot.
    let secret = secret_line();
    let mut seen = 0;
    for path in snap["files"].as_object().unwrap().keys() {
        let Ok(on_node) = std::fs::read_to_string(node.root().join(path.trim_start_matches('/')))
        else {
            continue;
        };
        for c in secret.captures_iter(&on_node) {
            let value = &c[1];
            if value.len() >= 8 {
                seen += 1;
                assert!(
                    !text.contains(value),
                    "{path}: secret {value} in the snapshot"
                );
            }
        }
    }
    assert!(
        seen > 0,
        "the hardened control plane reads an encryption config with a key; none was seen"
    );
    // The snapshot is written for the user alone.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&snapshot).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}
