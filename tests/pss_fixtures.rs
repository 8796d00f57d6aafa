//! Table-driven Pod Security Standards tests: every workload in `tests/fixtures/pss/` states
//! what the evaluator must find, in annotations on the object itself:
//!
//! - `expect.kubecis.dev/<level>` (at `latest`) or `expect.kubecis.dev/<level>.v1.<minor>`:
//!   `pass`, or the exact set of admission-controller check ids that fail;
//! - `expect.kubecis.dev/paths`: field paths that must be named by some failing expectation.
//!
//! A workload without expectations fails the test, so no fixture goes unchecked.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use kubecis::policies::objects::Objects;
use kubecis::policies::pss::{self, Level, Version};
use kubecis::policies::workloads;

const PREFIX: &str = "expect.kubecis.dev/";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pss")
}

/// Every fixture file except the deliberately malformed ones and the cluster snapshot (which
/// `tests/pss_checks.rs` judges as a whole).
fn fixture_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(fixture_dir())
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter(|p| {
            !p.components()
                .any(|c| c.as_os_str() == "malformed" || c.as_os_str() == "cluster")
        })
        .collect();
    files.sort();
    files
}

fn parse_key(key: &str) -> (Level, Version) {
    let (level, version) = key.split_once('.').unwrap_or((key, "latest"));
    (
        level.parse().unwrap_or_else(|e| panic!("{key}: {e}")),
        Version::parse_label(version).unwrap_or_else(|| panic!("{key}: bad version")),
    )
}

#[test]
fn every_fixture_workload_meets_its_expectations() {
    let mut judged = 0;
    let mut expectations = 0;
    let mut kinds = BTreeSet::new();
    let mut failures = Vec::new();
    for file in fixture_files() {
        let objects = Objects::load(std::slice::from_ref(&file)).unwrap();
        for w in workloads::workloads(&objects).unwrap() {
            let name = format!("{} ({})", w.object.display_name(), w.object.origin);
            let annotations = w
                .object
                .value
                .pointer("/metadata/annotations")
                .and_then(|a| a.as_object())
                .cloned()
                .unwrap_or_default();
            let mut named_paths = BTreeSet::new();
            let mut mine = 0;
            for (key, want) in &annotations {
                let Some(key) = key.strip_prefix(PREFIX) else {
                    continue;
                };
                if key == "paths" {
                    continue;
                }
                let (level, version) = parse_key(key);
                let want = want.as_str().unwrap();
                let violations = pss::evaluate(&w.template, level, version);
                named_paths.extend(violations.iter().map(|v| v.path.clone()));
                let got: BTreeSet<&str> = violations.iter().map(|v| v.check).collect();
                let want_set: BTreeSet<&str> = if want == "pass" {
                    BTreeSet::new()
                } else {
                    want.split(',').map(str::trim).collect()
                };
                if got != want_set {
                    failures.push(format!(
                        "{name} at {level}:{version}: expected {want_set:?}, got {got:?}: {violations:#?}"
                    ));
                }
                mine += 1;
            }
            if let Some(paths) = annotations
                .get(&format!("{PREFIX}paths"))
                .and_then(|p| p.as_str())
            {
                for path in paths.split(',') {
                    if !named_paths.contains(path) {
                        failures.push(format!(
                            "{name}: path {path} not named; named: {named_paths:?}"
                        ));
                    }
                }
            }
            assert!(mine > 0, "{name} states no expectation");
            expectations += mine;
            judged += 1;
            kinds.insert(w.object.kind().to_string());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(judged >= 70, "only {judged} fixture workloads found");
    assert!(expectations >= 150, "only {expectations} expectations");
    let all: BTreeSet<String> = [
        "Pod",
        "Deployment",
        "ReplicaSet",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
        "ReplicationController",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(kinds, all);
}

#[test]
fn every_check_fails_somewhere_in_the_fixtures() {
    // A check that no fixture makes fail is a check without a test.
    let mut seen = BTreeSet::new();
    for file in fixture_files() {
        let objects = Objects::load(std::slice::from_ref(&file)).unwrap();
        for w in workloads::workloads(&objects).unwrap() {
            for minor in [7, 18, 24, 30, 34] {
                for level in [Level::Baseline, Level::Restricted] {
                    for v in pss::evaluate(&w.template, level, Version::Minor(minor)) {
                        seen.insert(v.check);
                    }
                }
            }
            for v in pss::evaluate(&w.template, Level::Restricted, Version::Latest) {
                seen.insert(v.check);
            }
        }
    }
    let missing: Vec<&str> = pss::CHECKS
        .iter()
        .map(|c| c.id)
        .filter(|id| !seen.contains(id))
        .collect();
    assert!(missing.is_empty(), "never failed: {missing:?}");
}

#[test]
fn malformed_fixtures_are_errors_that_name_file_document_and_field() {
    let dir = fixture_dir().join("malformed");
    let err = Objects::load(&[dir.join("bad-yaml.yaml")]).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("bad-yaml.yaml:9:5 (document 2)"), "{msg}");

    let objects = Objects::load(&[dir.join("no-template.yaml")]).unwrap();
    let msg = workloads::workloads(&objects).unwrap_err().to_string();
    assert!(msg.contains("no-template.yaml (document 1)"), "{msg}");
    assert!(
        msg.contains("Deployment/apps/no-template: spec.template.spec"),
        "{msg}"
    );

    let objects = Objects::load(&[dir.join("containers-not-a-list.yaml")]).unwrap();
    let msg = workloads::workloads(&objects).unwrap_err().to_string();
    assert!(msg.contains("spec.containers: not a sequence"), "{msg}");
}
