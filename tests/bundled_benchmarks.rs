//! Every bundled benchmark is loaded the way a run loads it and held to what kube-bench's schema
//! lets slip: no field kubecis would silently ignore, no id twice, no `$variable` or
//! `${flag:...}` that `config.yaml` cannot resolve, no shell audit (or no audit at all) on an
//! Automated check, and exactly the benchmark's published recommendations — every id of
//! `cfg-src/<benchmark>/recommendations.txt` is a check with that title, every check is one of
//! them, and a check is scored exactly when the benchmark calls it Automated. The published
//! lists themselves are compared with kube-bench's encodings when those are at hand.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::cfg_source::{self, TARGETS};
use kubecis::benchmark::config::{Config, VAR_KINDS};
use kubecis::benchmark::load::{load_config, load_controls, DefinitionSource};
use kubecis::benchmark::model::{Audit, CheckType, Controls};
use kubecis::benchmark::vars::FlagExpr;
use regex::Regex;

fn cfg() -> DefinitionSource {
    DefinitionSource::Dir(cfg_source::repo().join("cfg"))
}

type Bundled = Vec<(String, Config, Vec<(String, String, Controls)>)>;

/// Every benchmark `config.yaml` maps targets for, with its config and controls files (loaded
/// once for all tests).
fn bundled() -> &'static Bundled {
    static BUNDLED: OnceLock<Bundled> = OnceLock::new();
    BUNDLED.get_or_init(load_bundled)
}

fn load_bundled() -> Bundled {
    let source = cfg();
    let base = load_config(&source, None, None).unwrap();
    let mut out = Vec::new();
    for (benchmark, targets) in &base.target_mapping {
        let config = load_config(&source, None, Some(benchmark)).unwrap();
        let mut files = Vec::new();
        for target in targets {
            let controls = load_controls(&source, benchmark, target, &config)
                .unwrap_or_else(|e| panic!("{benchmark}: {e}"))
                .unwrap_or_else(|| panic!("{benchmark} has no {target}.yaml"));
            let text = std::fs::read_to_string(
                cfg_source::repo().join(format!("cfg/{benchmark}/{target}.yaml")),
            )
            .unwrap();
            files.push((target.clone(), text, controls));
        }
        out.push((benchmark.clone(), config, files));
    }
    out
}

#[test]
fn every_benchmark_directory_is_mapped() {
    let source = cfg();
    let config = load_config(&source, None, None).unwrap();
    let mapped: BTreeSet<&String> = config.target_mapping.keys().collect();
    let present: Vec<String> = source.benchmarks();
    let present: BTreeSet<&String> = present.iter().collect();
    assert_eq!(
        mapped, present,
        "target_mapping and the cfg/ directories differ"
    );
    for (version, benchmark) in &config.version_mapping {
        assert!(
            mapped.contains(benchmark),
            "version_mapping {version} -> {benchmark}, which is not bundled"
        );
    }
}

/// The fields each level of a controls file may have (kube-bench's schema as kubecis reads
/// it, `docs/definitions.md`); a native audit's own fields are checked by the loader.
const FIELDS: &[(&str, &[&str])] = &[
    (
        "controls",
        &["controls", "version", "id", "text", "type", "groups"],
    ),
    ("group", &["id", "text", "type", "checks"]),
    (
        "check",
        &[
            "id",
            "text",
            "type",
            "audit",
            "audit_config",
            "audit_env",
            "tests",
            "use_multiple_values",
            "remediation",
            "scored",
        ],
    ),
    ("tests", &["bin_op", "test_items"]),
    ("test item", &["flag", "path", "env", "set", "compare"]),
    ("compare", &["op", "value"]),
];

fn unknown_fields(level: &str, value: &serde_json::Value, at: &str, out: &mut Vec<String>) {
    let allowed = FIELDS.iter().find(|(l, _)| *l == level).unwrap().1;
    let Some(map) = value.as_object() else {
        return;
    };
    for (key, v) in map {
        let key = key.as_str();
        if !allowed.contains(&key) {
            out.push(format!("{at}: unknown {level} field `{key}`"));
            continue;
        }
        let children = |level: &str, out: &mut Vec<String>| {
            for (i, item) in v.as_array().into_iter().flatten().enumerate() {
                unknown_fields(level, item, &format!("{at}.{key}[{i}]"), out);
            }
        };
        match (level, key) {
            ("controls", "groups") => children("group", out),
            ("group", "checks") => children("check", out),
            ("check", "tests") => unknown_fields("tests", v, &format!("{at}.tests"), out),
            ("tests", "test_items") => children("test item", out),
            ("test item", "compare") => unknown_fields("compare", v, &format!("{at}.compare"), out),
            _ => {}
        }
    }
}

#[test]
fn no_unknown_fields() {
    let mut problems = Vec::new();
    for (benchmark, _, files) in bundled().iter() {
        for (target, text, _) in files {
            let doc = kubecis::yaml::to_value(target, text).unwrap();
            unknown_fields(
                "controls",
                &doc,
                &format!("{benchmark}/{target}.yaml"),
                &mut problems,
            );
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_unknown_field_check_finds_one() {
    let doc = kubecis::yaml::to_value(
        "f",
        "groups:\n  - checks:\n      - id: x\n        scored: true\n        tests:\n          test_items:\n            - flag: a\n              compre: {op: eq}\n",
    )
    .unwrap();
    let mut problems = Vec::new();
    unknown_fields("controls", &doc, "f", &mut problems);
    assert_eq!(
        problems,
        ["f.groups[0].checks[0].tests.test_items[0]: unknown test item field `compre`"]
    );
}

#[test]
fn ids_are_unique() {
    let mut problems = Vec::new();
    for (benchmark, _, files) in bundled().iter() {
        let mut seen = BTreeMap::new();
        for (target, _, controls) in files {
            for g in &controls.groups {
                for c in &g.checks {
                    if let Some(first) = seen.insert(c.id.clone(), target.clone()) {
                        problems.push(format!("{benchmark}: {} in {first} and {target}", c.id));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `$name` must be exactly a variable config.yaml defines (`$<component><kind>`), and every
/// `${...}` a flag expression naming a component it describes.
fn unresolvable(text: &str, target: &str, config: &Config) -> Vec<String> {
    static PLAIN: OnceLock<Regex> = OnceLock::new();
    static BRACED: OnceLock<Regex> = OnceLock::new();
    let plain = PLAIN.get_or_init(|| Regex::new(r"\$([A-Za-z][A-Za-z0-9_]*)").unwrap());
    let braced = BRACED.get_or_init(|| Regex::new(r"\$\{([^}]*)\}").unwrap());
    let known: BTreeSet<String> = config
        .component_names()
        .iter()
        .flat_map(|c| VAR_KINDS.iter().map(move |k| format!("{c}{k}")))
        .collect();
    let mut out = Vec::new();
    for cap in plain.captures_iter(text) {
        if !known.contains(&cap[1]) {
            out.push(format!("${}", &cap[1]));
        }
    }
    for cap in braced.captures_iter(text) {
        match FlagExpr::parse(&cap[1]) {
            Some(e) if config.component(target, e.component).is_some() => {}
            _ => out.push(cap[0].to_string()),
        }
    }
    out
}

#[test]
fn every_variable_resolves() {
    let mut problems = Vec::new();
    for (benchmark, config, files) in bundled().iter() {
        for (target, _, controls) in files {
            for g in &controls.groups {
                for c in &g.checks {
                    let audits = [&c.audit, &c.audit_config, &c.audit_env]
                        .into_iter()
                        .flatten()
                        .map(ToString::to_string);
                    for text in audits.chain([c.text.clone(), c.remediation.clone()]) {
                        for bad in unresolvable(&text, target, config) {
                            problems.push(format!("{benchmark} {}: {bad}", c.id));
                        }
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let config = &bundled()[0].1;
    assert_eq!(
        unresolvable(
            "$apiserverconf $apiserverconfig ${flag:kubelet:--config} ${flag:kubelett:--x} $HOME",
            "node",
            config
        ),
        ["$apiserverconfig", "$HOME", "${flag:kubelett:--x}"]
    );
}

/// An Automated recommendation is judged natively: a shell audit would need a shell the
/// scratch image does not have, and no audit at all could never be judged.
#[test]
fn automated_checks_have_native_audits() {
    let mut problems = Vec::new();
    for (benchmark, _, files) in bundled().iter() {
        for (_, _, controls) in files {
            for g in &controls.groups {
                for c in g.checks.iter().filter(|c| c.scored) {
                    let audits: Vec<&Audit> = [&c.audit, &c.audit_config, &c.audit_env]
                        .into_iter()
                        .flatten()
                        .collect();
                    if audits.iter().any(|a| matches!(a, Audit::Shell(_))) {
                        problems.push(format!("{benchmark} {}: shell audit", c.id));
                    }
                    if audits.is_empty() || c.kind != CheckType::Automated {
                        problems.push(format!("{benchmark} {}: Automated but not judged", c.id));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn checks_are_the_published_recommendations() {
    let mut problems = Vec::new();
    for (benchmark, _, files) in bundled().iter() {
        let published =
            cfg_source::recommendations(benchmark).unwrap_or_else(|e| panic!("{benchmark}: {e}"));
        let mut defined = BTreeMap::new();
        for (_, _, controls) in files {
            for g in &controls.groups {
                for c in &g.checks {
                    defined.insert(c.id.clone(), (c.text.clone(), c.scored));
                }
            }
        }
        for r in &published {
            match defined.get(&r.id) {
                None => problems.push(format!(
                    "{benchmark}: {} is published but not defined",
                    r.id
                )),
                Some((text, _)) if *text != r.title => problems.push(format!(
                    "{benchmark} {}: title {text:?}, published {:?}",
                    r.id, r.title
                )),
                Some((_, scored)) if *scored != r.automated => problems.push(format!(
                    "{benchmark} {}: scored {scored}, but the benchmark says {}",
                    r.id,
                    if r.automated { "Automated" } else { "Manual" }
                )),
                Some(_) => {}
            }
        }
        for id in defined.keys() {
            if !published.iter().any(|r| r.id == *id) {
                problems.push(format!("{benchmark}: {id} is defined but not published"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// kube-bench's `cfg/` (shared test data), where this checkout can see it.
fn kube_bench_cfg() -> Option<PathBuf> {
    let repo = cfg_source::repo();
    [
        repo.join("../shared/kube-bench/cfg"),
        repo.join("../../shared/kube-bench/cfg"),
        PathBuf::from("/work/shared/kube-bench/cfg"),
    ]
    .into_iter()
    .find(|p| p.join("config.yaml").is_file())
}

/// The published lists are facts taken from kube-bench's encodings of the benchmarks: the same
/// ids, in the same order, with the same titles.
#[test]
fn published_lists_match_kube_bench() {
    let Some(kb) = kube_bench_cfg() else {
        eprintln!("skipped: kube-bench's cfg/ (shared/kube-bench) is not beside this checkout");
        return;
    };
    let mut problems = Vec::new();
    for benchmark in cfg_source::benchmarks() {
        let ours = cfg_source::recommendations(&benchmark).unwrap();
        let mut theirs = Vec::new();
        for target in TARGETS {
            let path: &Path = &kb.join(&benchmark).join(format!("{target}.yaml"));
            let text = std::fs::read_to_string(path).unwrap();
            // Only ids and titles are compared: kube-bench's shell audits need no validating.
            let controls: kubecis::benchmark::raw::RawControls =
                kubecis::yaml::from_str(&path.display().to_string(), &text)
                    .unwrap_or_else(|e| panic!("{e}"));
            for g in controls.groups.iter().flatten() {
                for c in g.checks.iter().flatten() {
                    theirs.push((c.id.clone(), c.text.trim().to_string()));
                }
            }
        }
        let ours: Vec<(String, String)> = ours.into_iter().map(|r| (r.id, r.title)).collect();
        if ours != theirs {
            let first = ours
                .iter()
                .zip(&theirs)
                .find(|(a, b)| a != b)
                .map(|(a, b)| format!("ours {a:?}, kube-bench {b:?}"))
                .unwrap_or_else(|| format!("{} vs {} recommendations", ours.len(), theirs.len()));
            problems.push(format!("{benchmark}: {first}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The checks new in the newer benchmarks, judged on evidence the fixture nodes do not have:
/// kube-proxy metrics on every interface, a pod PID limit of -1, eventRecordQPS below 50.
#[test]
fn new_kubelet_and_proxy_checks_fail_what_they_should() {
    use kubecis::audit::{DocumentEvidence, Evidence, ProcessEvidence};
    use kubecis::facts::flags::{FlagRules, FlagSet};
    use kubecis::report::model::Status;
    use kubecis::verdict::{judge, Sources};

    let (_, _, files) = bundled().iter().find(|(b, _, _)| b == "cis-1.12").unwrap();
    let node = &files.iter().find(|(t, _, _)| t == "node").unwrap().2;
    let check = |id: &str| {
        node.groups
            .iter()
            .flat_map(|g| &g.checks)
            .find(|c| c.id == id)
            .unwrap()
            .clone()
    };
    let rules = FlagRules {
        bool_flags: &[],
        list_flags: &[],
    };
    let verdict = |id: &str, args: &[&str], config: &str| {
        let process: Result<Evidence, kubecis::audit::Missing> =
            Ok(Evidence::Process(ProcessEvidence {
                binary: "x".into(),
                pid: 1,
                flags: FlagSet::parse(args, rules),
                env: None,
            }));
        let document = Ok(Evidence::Document(DocumentEvidence {
            path: "/etc/x.yaml".into(),
            text: config.into(),
            value: kubecis::yaml::to_value("x", config).map_err(|e| e.to_string()),
        }));
        let sources = Sources {
            audit: Some(&process),
            config: Some(&document),
            env: None,
        };
        judge(&check(id), &sources, rules).status
    };
    // 4.3.1: kubeadm's empty value and loopback pass; every interface or a node IP fails.
    assert_eq!(
        verdict("4.3.1", &[], "metricsBindAddress: \"\"\n"),
        Status::Pass
    );
    assert_eq!(
        verdict("4.3.1", &[], "metricsBindAddress: 127.0.0.1:10249\n"),
        Status::Pass
    );
    assert_eq!(
        verdict("4.3.1", &[], "metricsBindAddress: 0.0.0.0:10249\n"),
        Status::Fail
    );
    assert_eq!(
        verdict(
            "4.3.1",
            &["--metrics-bind-address=10.0.0.5:10249"],
            "metricsBindAddress: \"\"\n"
        ),
        Status::Fail,
        "the flag wins over the file"
    );
    // 4.2.13 (Manual: a failure is a WARN): -1 is no limit.
    assert_eq!(verdict("4.2.13", &[], "podPidsLimit: -1\n"), Status::Warn);
    assert_eq!(verdict("4.2.13", &[], "podPidsLimit: 4096\n"), Status::Pass);
    // 4.2.8: 0 (no limit) or at least 50.
    assert_eq!(verdict("4.2.8", &[], "eventRecordQPS: 5\n"), Status::Warn);
    assert_eq!(verdict("4.2.8", &[], "eventRecordQPS: 0\n"), Status::Pass);
    assert_eq!(
        verdict("4.2.8", &["--event-qps=60"], "x: 1\n"),
        Status::Pass
    );
    // 4.2.14: seccompDefault must be true.
    assert_eq!(
        verdict("4.2.14", &[], "seccompDefault: false\n"),
        Status::Warn
    );
    assert_eq!(
        verdict("4.2.14", &[], "seccompDefault: true\n"),
        Status::Pass
    );
}
