//! The bundled benchmarks `cfg/<benchmark>/*.yaml` are generated from `cfg-src/` (see
//! `cfg/README.md` and `tests/common/cfg_source.rs`): one library of checks keyed by a stable
//! name, and per benchmark its published recommendations and a layout. This test regenerates
//! every benchmark and fails on any difference from the committed files, printing the first
//! one; `KUBECIS_BLESS=1 cargo test --test cfg_generated` rewrites them instead.

mod common;

use std::fs;

use common::cfg_source::{self, TARGETS};
use common::diff::first_diff;

#[test]
fn cfg_is_generated_from_cfg_src() {
    let bless = std::env::var_os("KUBECIS_BLESS").is_some();
    let cfg = cfg_source::repo().join("cfg");
    let mut problems = Vec::new();
    let sources = cfg_source::benchmarks();
    assert!(!sources.is_empty(), "cfg-src/ describes no benchmark");
    for benchmark in &sources {
        let files = match cfg_source::generate(benchmark) {
            Ok(files) => files,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let dir = cfg.join(benchmark);
        if bless {
            fs::create_dir_all(&dir).unwrap();
        }
        for (name, text) in &files {
            let path = dir.join(name);
            if bless {
                fs::write(&path, text).unwrap();
                continue;
            }
            match fs::read_to_string(&path) {
                Err(e) => problems.push(format!("{}: {e}", path.display())),
                Ok(committed) => {
                    if let Some(d) = first_diff(&committed, text) {
                        problems.push(format!(
                            "{} is not what cfg-src/ generates:\n{d}",
                            path.display()
                        ));
                    }
                }
            }
        }
        // A controls file the source does not generate would be loaded but never reviewed.
        for target in TARGETS {
            let name = format!("{target}.yaml");
            if dir.join(&name).exists() && !files.iter().any(|(n, _)| *n == name) {
                problems.push(format!(
                    "{}: not generated from cfg-src/{benchmark}",
                    dir.join(&name).display()
                ));
            }
        }
    }
    for entry in fs::read_dir(&cfg).unwrap().filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && !sources.contains(&name) {
            problems.push(format!("cfg/{name} has no source in cfg-src/{name}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n(KUBECIS_BLESS=1 cargo test --test cfg_generated rewrites cfg/ from cfg-src/)",
        problems.join("\n")
    );
}

/// A check no benchmark places is dead text that reviewers would still read and maintain.
#[test]
fn every_library_check_is_used() {
    let used = cfg_source::used_names().unwrap();
    let mut unused = Vec::new();
    for target in TARGETS {
        let lib = cfg_source::library(target).unwrap();
        for name in lib.entries.keys() {
            if !used.get(*target).is_some_and(|u| u.contains(name)) {
                unused.push(format!("cfg-src/checks/{target}.yaml: {name}"));
            }
        }
    }
    assert!(
        unused.is_empty(),
        "checks no layout uses:\n{}",
        unused.join("\n")
    );
}

#[test]
fn library_errors_name_the_file_and_line() {
    let err = cfg_source::parse_library(
        "lib.yaml",
        "good:\n  audit: {process: x}\nBad Name:\n  x: 1\n",
    )
    .unwrap_err();
    assert!(err.starts_with("lib.yaml:3:"), "{err}");
    let err = cfg_source::parse_library("lib.yaml", "a:\n  x: 1\na:\n  x: 2\n").unwrap_err();
    assert!(err.contains("lib.yaml"), "{err}");
    let recs =
        cfg_source::parse_recommendations("r.txt", "# c\n1.1 Do it (Manual)\n2.1 Do it (Scored)\n")
            .unwrap();
    assert_eq!((recs[0].automated, recs[1].automated), (false, true));
    let err = cfg_source::parse_recommendations("r.txt", "1.1 Do it\n").unwrap_err();
    assert!(err.starts_with("r.txt:1:"), "{err}");
}
