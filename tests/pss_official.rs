//! The evaluator against pod-security-admission's own fixtures: every pod under
//! `shared/pss-fixtures/<level>/v1.<minor>/{pass,fail}/` (on the project machine
//! `/work/shared`: pod-security-admission's `test/testdata`, see the README and SOURCE there)
//! gets the verdict upstream expects.
//!
//! Upstream's `test/run.go` creates, for each level and version, a namespace labelled
//! `enforce=<level>`, `enforce-version=v1.<minor>`, and dry-run creates every fixture of that
//! directory in it: a `pass` pod must be admitted, a `fail` pod refused with the message of the
//! check the fixture was written for. Only that level and version are asked. This test asks the
//! same questions of [`pss::evaluate`], after reading the files through [`Objects::load`] and
//! [`workloads::workloads`], the path `kubecis scan` takes:
//! - `pass`: no violation at the directory's level and version;
//! - `fail`: at least one violation there, and one of them from the fixture's own check (its
//!   file name is the lower-cased check id plus an index), or from the restricted check that
//!   replaces it at restricted (upstream's expected message is the replacing check's then).
//!
//! One property upstream does not test is checked as well, because it follows from how the
//! levels are built (restricted replaces baseline checks only with stricter ones): at the same
//! version, a pod that passes restricted passes baseline, and one that fails baseline fails
//! restricted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kubecis::policies::objects::Objects;
use kubecis::policies::pss::{self, Level, Version, Violation};
use kubecis::policies::workloads;

/// `$KUBECIS_PSS_FIXTURES`, else the first `shared/pss-fixtures` beside the crate or one of its
/// parents: `../shared` from the main checkout, `../../shared` from a worktree under `wt/`.
fn fixtures_root() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("KUBECIS_PSS_FIXTURES") {
        return Some(PathBuf::from(dir));
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .skip(1)
        .map(|dir| dir.join("shared/pss-fixtures"))
        .find(|dir| dir.is_dir())
}

/// The subdirectories of `dir`, by name.
fn subdirs(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    out.sort();
    out
}

fn yaml_files(dir: &Path) -> usize {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "yaml"))
        .count()
}

/// The check a fixture was written for: its file name without the index, matched to a check
/// id case-insensitively (`base`, the minimal valid pod, names none).
fn fixture_check(file: &str) -> Option<&'static pss::CheckDef> {
    let stem = Path::new(file).file_stem()?.to_str()?;
    let id = stem.trim_end_matches(|c: char| c.is_ascii_digit());
    pss::CHECKS.iter().find(|c| c.id.eq_ignore_ascii_case(id))
}

/// The checks whose violation shows that `check` refused the pod at `level` and `version`: the
/// check itself, or the restricted check that replaces it there.
fn accepted_checks(check: &pss::CheckDef, level: Level, version: Version) -> Vec<&'static str> {
    let mut ids = vec![check.id];
    ids.extend(
        pss::active_checks(level, version)
            .iter()
            .filter(|c| c.overrides.contains(&check.id))
            .map(|c| c.id),
    );
    ids
}

fn show(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {v}", v.check))
        .collect::<Vec<_>>()
        .join("; ")
}

#[derive(Default)]
struct Tally {
    judged: usize,
    pass: usize,
    fail: usize,
    failures: Vec<String>,
}

/// Judges every pod of one `<level>/v1.<minor>/<outcome>` directory.
fn judge_dir(dir: &Path, level: Level, version: Version, expect_pass: bool, tally: &mut Tally) {
    let objects =
        Objects::load(&[dir.to_path_buf()]).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let found = workloads::workloads(&objects).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        found.len(),
        yaml_files(dir),
        "{}: every file holds one pod",
        dir.display()
    );
    for w in found {
        tally.judged += 1;
        let file = &w.object.origin.file;
        let violations = pss::evaluate(&w.template, level, version);
        let at = format!("{file} at {level}:{version}");
        if expect_pass {
            tally.pass += 1;
            if !violations.is_empty() {
                tally
                    .failures
                    .push(format!("{at}: expected pass, got {}", show(&violations)));
            }
            if level == Level::Restricted {
                let baseline = pss::evaluate(&w.template, Level::Baseline, version);
                if !baseline.is_empty() {
                    tally.failures.push(format!(
                        "{at}: passes restricted but not baseline: {}",
                        show(&baseline)
                    ));
                }
            }
            continue;
        }
        tally.fail += 1;
        if level == Level::Baseline
            && pss::evaluate(&w.template, Level::Restricted, version).is_empty()
        {
            tally
                .failures
                .push(format!("{at}: fails baseline but passes restricted"));
        }
        let Some(check) = fixture_check(file) else {
            tally
                .failures
                .push(format!("{at}: no kubecis check matches the file name"));
            continue;
        };
        let accepted = accepted_checks(check, level, version);
        if violations.is_empty() {
            tally
                .failures
                .push(format!("{at}: expected fail, got pass"));
        } else if !violations.iter().any(|v| accepted.contains(&v.check)) {
            tally.failures.push(format!(
                "{at}: refused, but not by {}: {}",
                accepted.join(" or "),
                show(&violations)
            ));
        }
    }
}

#[test]
fn every_official_fixture_gets_its_official_verdict() {
    let Some(root) = fixtures_root() else {
        eprintln!(
            "skipped: no shared/pss-fixtures beside the crate or its parents, and KUBECIS_PSS_FIXTURES unset (pod-security-admission's testdata lives on the project machine)"
        );
        return;
    };
    assert!(root.is_dir(), "{}: not a directory", root.display());
    let mut tally = Tally::default();
    let mut per_level: BTreeMap<String, (u64, usize)> = BTreeMap::new();
    for (level_name, level_dir) in subdirs(&root) {
        let level: Level = level_name.parse().unwrap();
        assert_ne!(level, Level::Privileged, "privileged has no fixtures");
        for (version_name, version_dir) in subdirs(&level_dir) {
            let version = Version::parse_label(&version_name)
                .unwrap_or_else(|| panic!("{}: not a version", version_dir.display()));
            let Version::Minor(minor) = version else {
                panic!("{}: fixtures name versions", version_dir.display())
            };
            let before = tally.judged;
            for (outcome, dir) in subdirs(&version_dir) {
                let expect_pass = match outcome.as_str() {
                    "pass" => true,
                    "fail" => false,
                    other => panic!("{}: unknown outcome {other}", dir.display()),
                };
                judge_dir(&dir, level, version, expect_pass, &mut tally);
            }
            assert!(
                tally.judged > before,
                "{}: no fixtures",
                version_dir.display()
            );
            let entry = per_level.entry(level_name.clone()).or_default();
            entry.0 = entry.0.max(minor);
            entry.1 += tally.judged - before;
        }
    }
    assert_eq!(tally.judged, yaml_files(&root), "every fixture judged");
    assert_eq!(
        per_level.keys().map(String::as_str).collect::<Vec<_>>(),
        ["baseline", "restricted"]
    );
    for (level, (newest, _)) in &per_level {
        assert!(
            *newest >= u64::from(pss::LATEST_MINOR),
            "{level}: fixtures stop at v1.{newest}, before kubecis's newest policy v1.{}",
            pss::LATEST_MINOR
        );
    }
    eprintln!(
        "{} official fixtures judged ({} pass, {} fail); {} disagree; per level (newest minor, pods): {per_level:?}",
        tally.judged,
        tally.pass,
        tally.fail,
        tally.failures.len()
    );
    assert!(
        tally.failures.is_empty(),
        "{} of {} fixtures disagree:\n{}",
        tally.failures.len(),
        tally.judged,
        tally.failures.join("\n")
    );
}
