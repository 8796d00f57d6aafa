//! Generated documentation must match what the tool generates from the definitions today:
//! `docs/checks/<benchmark>.md` is `kubecis checks --benchmark <benchmark> --markdown` for every
//! bundled benchmark, and `docs/checks.md` indexes them. `KUBECIS_BLESS=1 cargo test --test
//! docs_fresh` rewrites them.

mod common;

use std::fs;

use common::cfg_source;
use common::diff::first_diff;
use kubecis::benchmark::doc::{self, IndexEntry};
use kubecis::benchmark::load::{load_config, load_controls, DefinitionSource};

#[test]
fn docs_checks_are_generated_from_the_bundled_definitions() {
    let root = cfg_source::repo();
    let bless = std::env::var_os("KUBECIS_BLESS").is_some();
    let source = DefinitionSource::Dir(root.join("cfg"));
    let config = load_config(&source, None, None).unwrap();
    let mut benchmarks: Vec<&String> = config.target_mapping.keys().collect();
    // Newest first, as an operator looks for them: cis-1.12 ... cis-1.7, then cis-1.24, cis-1.23.
    benchmarks.sort_by_key(|b| {
        let v: Vec<u32> = b
            .trim_start_matches("cis-")
            .split('.')
            .map(|p| p.parse().unwrap_or(0))
            .collect();
        // CIS numbered 1.20-1.24 after Kubernetes, then restarted at 1.7 for Kubernetes 1.25.
        let order = if v.get(1).is_some_and(|m| *m >= 20) {
            0
        } else {
            1
        };
        std::cmp::Reverse((order, v))
    });
    let mut problems = Vec::new();
    let mut loaded = Vec::new();
    fs::create_dir_all(root.join("docs/checks")).unwrap();
    for benchmark in &benchmarks {
        let (code, generated, err) = common::kubecis(&[
            "checks",
            "--benchmark",
            benchmark,
            "--markdown",
            "--config-dir",
            root.join("cfg").to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        let path = root.join(format!("docs/checks/{benchmark}.md"));
        let published = cfg_source::recommendations(benchmark).unwrap();
        let rows = generated
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| id"))
            .count();
        assert_eq!(
            rows,
            published.len(),
            "{benchmark}: every recommendation is a row"
        );
        if bless {
            fs::write(&path, &generated).unwrap();
        } else {
            let committed = fs::read_to_string(&path).unwrap_or_default();
            if let Some(d) = first_diff(&committed, &generated) {
                problems.push(format!("{} is stale:\n{d}", path.display()));
            }
        }
        let bench_config = load_config(&source, None, Some(benchmark)).unwrap();
        let files: Vec<(String, _)> = config.target_mapping[*benchmark]
            .iter()
            .map(|t| {
                let c = load_controls(&source, benchmark, t, &bench_config)
                    .unwrap()
                    .unwrap();
                (t.clone(), c)
            })
            .collect();
        loaded.push((benchmark.as_str(), files));
    }
    let entries: Vec<IndexEntry> = loaded
        .iter()
        .map(|(b, files)| IndexEntry {
            benchmark: b,
            versions: config
                .version_mapping
                .iter()
                .filter(|(_, m)| m == b)
                .map(|(v, _)| v.as_str())
                .collect(),
            files,
        })
        .collect();
    let index = doc::index(&entries);
    let path = root.join("docs/checks.md");
    if bless {
        fs::write(&path, &index).unwrap();
    } else if let Some(d) = first_diff(&fs::read_to_string(&path).unwrap(), &index) {
        problems.push(format!("{} is stale:\n{d}", path.display()));
    }
    // A table nobody generates any more would mislead.
    for entry in fs::read_dir(root.join("docs/checks")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !benchmarks.iter().any(|b| name == format!("{b}.md")) {
            problems.push(format!("docs/checks/{name} documents no bundled benchmark"));
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n(KUBECIS_BLESS=1 cargo test --test docs_fresh rewrites them)",
        problems.join("\n")
    );
}
