//! kube-bench's own `cfg/` loads and runs unchanged: all 46 benchmarks of
//! `shared/kube-bench/cfg` (read-only test data on the project machine, see its README), with
//! their quirks (comment-only `config.yaml` files, a string where a list is expected, an unknown
//! compare op, JSONPaths that cannot be read). Every benchmark's definitions load; every
//! benchmark runs against the kubeadm control-plane fixture node without a load error or a
//! panic, its unusable checks WARN with their reason. The bundled definitions pass `--strict`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::fixture::FixtureNode;
use common::kubecis;
use kubecis::benchmark::load::{self, DefinitionSource};
use kubecis::runner;
use serde_json::Value;

/// `$KUBECIS_KUBE_BENCH_CFG`, else the first `shared/kube-bench/cfg` beside the crate or one of
/// its parents (`../shared` from the main checkout, `../../shared` from a worktree).
fn kube_bench_cfg() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("KUBECIS_KUBE_BENCH_CFG") {
        return Some(PathBuf::from(dir));
    }
    let found = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .skip(1)
        .map(|dir| dir.join("shared/kube-bench/cfg"))
        .find(|dir| dir.join("config.yaml").is_file());
    if found.is_none() {
        eprintln!(
            "skipped: no shared/kube-bench/cfg beside the crate or its parents, and \
             KUBECIS_KUBE_BENCH_CFG unset (kube-bench's cfg/ lives on the project machine)"
        );
    }
    found
}

/// A benchmark's targets that have a controls file, in run order.
fn targets(
    source: &DefinitionSource,
    config: &kubecis::benchmark::config::Config,
    bench: &str,
) -> Vec<String> {
    let mapped = config
        .target_mapping
        .get(bench)
        .cloned()
        .unwrap_or_default();
    runner::ordered(&mapped)
        .into_iter()
        .filter(|t| source.read(&format!("{bench}/{t}.yaml")).unwrap().is_some())
        .collect()
}

/// Loads every controls file of every benchmark; returns, per benchmark, its number of checks
/// and its unusable ones (`id: problem`).
fn load_all(source: &DefinitionSource) -> BTreeMap<String, (usize, Vec<String>)> {
    source
        .benchmarks()
        .into_iter()
        .map(|bench| {
            let config = load::load_config(source, None, Some(&bench))
                .unwrap_or_else(|e| panic!("{bench}: config.yaml: {e}"));
            let loaded = load_benchmark(source, &config, &bench);
            (bench, loaded)
        })
        .collect()
}

/// One benchmark's number of checks and its unusable ones (`id: problem`).
fn load_benchmark(
    source: &DefinitionSource,
    config: &kubecis::benchmark::config::Config,
    bench: &str,
) -> (usize, Vec<String>) {
    let targets = targets(source, config, bench);
    assert!(
        !targets.is_empty(),
        "{bench}: no controls file for its targets"
    );
    let mut checks = 0;
    let mut problems = Vec::new();
    for target in targets {
        let controls = load::load_controls(source, bench, &target, config)
            .unwrap_or_else(|e| panic!("{bench}/{target}.yaml: {e}"))
            .unwrap();
        for check in controls.groups.iter().flat_map(|g| &g.checks) {
            checks += 1;
            problems.extend(check.problems.iter().map(|p| format!("{}: {p}", check.id)));
        }
    }
    (checks, problems)
}

#[test]
fn bundled_definitions_pass_strict() {
    let source = DefinitionSource::Embedded;
    let all = load_all(&source);
    assert!(!all.is_empty());
    for (bench, (checks, problems)) in &all {
        assert!(*checks > 0, "{bench} has no checks");
        assert!(problems.is_empty(), "{bench}: {problems:#?}");
    }
    // The same through the command a definition author runs.
    for bench in all.keys() {
        let (code, _, err) = kubecis(&["checks", "--strict", "--benchmark", bench]);
        assert_eq!(code, 0, "{bench}: {err}");
    }
}

#[test]
fn every_kube_bench_benchmark_loads_its_quirks_included() {
    let Some(cfg) = kube_bench_cfg() else { return };
    let source = DefinitionSource::Dir(cfg.clone());
    let all = load_all(&source);
    assert_eq!(all.len(), 46, "{:?}", all.keys());
    let total: usize = all.values().map(|(n, _)| n).sum();
    assert!(total > 4000, "{total} checks");
    // The unusable definitions kube-bench ships: each is its check's problem, nothing more.
    let unusable: BTreeMap<&str, usize> = all
        .iter()
        .filter(|(_, (_, p))| !p.is_empty())
        .map(|(b, (_, p))| (b.as_str(), p.len()))
        .collect();
    let want: BTreeMap<&str, usize> = [
        ("k3s-cis-1.23", 2), // `path: /var/lib/rancher/k3s/agent/serving-kubelet.crt`: a file, not a JSONPath
        ("k3s-cis-1.24", 2),
        ("k3s-cis-1.7", 2),
        ("k3s-cis-1.8", 2),
        ("k3s-cis-1.9", 3), // and `op: noteqx`
        ("rh-0.7", 2),      // `{...}}`: a stray brace
        ("rh-1.4", 4),      // `.kubeAPIQPS` without braces: literal text to kube-bench
        ("rh-1.8", 4),
    ]
    .into();
    assert_eq!(unusable, want, "{all:#?}");
    let noteqx = &all["k3s-cis-1.9"].1;
    assert!(
        noteqx.iter().any(|p| p.starts_with("4.2.5: ")
            && p.contains("k3s-cis-1.9/node.yaml:247:17: groups[1].checks[4].tests.test_items[0].compare.op: unknown compare op `noteqx`")),
        "{noteqx:#?}"
    );

    // `checks` lists every benchmark (exit 0); `--strict` refuses exactly those with problems.
    let dir = cfg.to_str().unwrap();
    for (bench, (checks, problems)) in &all {
        let (code, out, err) = kubecis(&["checks", "--config-dir", dir, "--benchmark", bench]);
        assert_eq!(code, 0, "{bench}: {err}");
        assert_eq!(out.lines().count(), *checks, "{bench}");
        let (code, _, err) = kubecis(&[
            "checks",
            "--strict",
            "--config-dir",
            dir,
            "--benchmark",
            bench,
        ]);
        assert_eq!(
            code,
            if problems.is_empty() { 0 } else { 2 },
            "{bench}: {err}"
        );
    }
}

#[test]
fn every_kube_bench_benchmark_runs_on_the_kubeadm_node() {
    let Some(cfg) = kube_bench_cfg() else { return };
    if !Path::new("/bin/sh").exists() {
        eprintln!("skipped: /bin/sh not on this machine (kube-bench's audits need it)");
        return;
    }
    let source = DefinitionSource::Dir(cfg.clone());
    let node = FixtureNode::materialize("kubeadm-control-plane");
    // The policies target reads API objects: one namespace, not a live cluster.
    let objects = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        objects.path(),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n",
    )
    .unwrap();
    for bench in source.benchmarks() {
        let config = load::load_config(&source, None, Some(&bench)).unwrap();
        let (checks, problems) = &load_benchmark(&source, &config, &bench);
        let targets = targets(&source, &config, &bench).join(",");
        let (code, out, err) = kubecis(&[
            "run",
            "--config-dir",
            cfg.to_str().unwrap(),
            "--benchmark",
            &bench,
            "--targets",
            &targets,
            "--root",
            node.root().to_str().unwrap(),
            "--objects",
            objects.path().to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(code, 0, "{bench}: {err}");
        assert!(!err.contains("panicked"), "{bench}: {err}");
        let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{bench}: {e}"));
        let results: Vec<&Value> = report["Controls"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["tests"].as_array().unwrap())
            .flat_map(|g| g["results"].as_array().unwrap())
            .collect();
        assert_eq!(results.len(), *checks, "{bench}: every check has a result");
        let unusable: Vec<&&Value> = results
            .iter()
            .filter(|r| {
                r["reason"]
                    .as_str()
                    .unwrap()
                    .starts_with("unusable definition: ")
            })
            .collect();
        for r in &unusable {
            assert!(
                r["status"] == "WARN" || r["status"] == "INFO",
                "{bench}: an unusable definition is never judged: {r}"
            );
        }
        let ids: std::collections::BTreeSet<&str> = problems
            .iter()
            .map(|p| p.split_once(':').unwrap().0)
            .collect();
        assert_eq!(unusable.len(), ids.len(), "{bench}: {problems:?}");
    }
}

/// Runs `kubecis run` with kube-bench's definitions as kube-bench runs them on a node: in a
/// private mount namespace, chrooted into the fixture node's root, with the host's programs
/// (`/usr`, for `/bin/sh`, `ps`, `stat`), `/proc` and `/dev` bound in, so that the shell audits
/// (`stat -c %a /etc/kubernetes/manifests/...`, `ps -ef | grep`) see the node's files and its
/// running components. Needs root (mount, chroot).
fn run_on_node(node: &FixtureNode, cfg: &Path, args: &[&str]) -> std::process::Output {
    use nix::mount::{mount, MsFlags};
    use nix::sched::{unshare, CloneFlags};
    use nix::unistd::{chdir, chroot};
    use std::os::unix::fs::symlink;
    use std::os::unix::process::CommandExt;

    let root = node.root().to_path_buf();
    let mut binds: Vec<(PathBuf, PathBuf)> = Vec::new();
    for name in ["usr", "lib", "lib64", "bin", "sbin", "proc", "dev"] {
        let host = Path::new("/").join(name);
        let inside = root.join(name);
        let Ok(meta) = std::fs::symlink_metadata(&host) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            match std::fs::symlink_metadata(&inside) {
                Err(_) => symlink(std::fs::read_link(&host).unwrap(), &inside).unwrap(),
                Ok(existing) if existing.is_dir() => {
                    // The node has its own `/lib` (systemd units): the host's entries beside them,
                    // through `/usr`, which is bound in.
                    let target = std::fs::canonicalize(&host).unwrap();
                    for entry in std::fs::read_dir(&target).unwrap() {
                        let entry = entry.unwrap();
                        let at = inside.join(entry.file_name());
                        if std::fs::symlink_metadata(&at).is_err() {
                            symlink(entry.path(), &at).unwrap();
                        }
                    }
                }
                Ok(_) => {}
            }
        } else {
            std::fs::create_dir_all(&inside).unwrap();
            binds.push((host, inside));
        }
    }
    let cfg_inside = root.join("kube-bench-cfg");
    std::fs::create_dir_all(&cfg_inside).unwrap();
    binds.push((cfg.to_path_buf(), cfg_inside));
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_kubecis"));
    let exe_inside = root.join("kubecis");
    std::fs::write(&exe_inside, "").unwrap();
    binds.push((exe, exe_inside));
    let mut cmd = std::process::Command::new("/kubecis");
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin");
    // SAFETY: runs in the forked child before exec; only system calls on data prepared before
    // the fork.
    unsafe {
        cmd.pre_exec(move || {
            let none: Option<&str> = None;
            unshare(CloneFlags::CLONE_NEWNS)?;
            mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)?;
            for (host, inside) in &binds {
                mount(
                    Some(host.as_path()),
                    inside.as_path(),
                    none,
                    MsFlags::MS_BIND | MsFlags::MS_REC,
                    none,
                )?;
            }
            chroot(root.as_path())?;
            chdir("/")?;
            Ok(())
        });
    }
    cmd.output().expect("running kubecis in the node's root")
}

/// Every check's status and reason, by id.
fn verdicts(report: &Value) -> BTreeMap<String, (String, String, String)> {
    report["Controls"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["tests"].as_array().unwrap())
        .flat_map(|g| g["results"].as_array().unwrap())
        .map(|r| {
            (
                r["test_number"].as_str().unwrap().to_string(),
                (
                    r["status"].as_str().unwrap().to_string(),
                    r["reason"].as_str().unwrap_or_default().to_string(),
                    r["actual_value"].as_str().unwrap_or_default().to_string(),
                ),
            )
        })
        .collect()
}

#[test]
fn cis_1_23_and_1_12_give_kube_bench_s_verdicts_on_the_kubeadm_nodes() {
    let Some(cfg) = kube_bench_cfg() else { return };
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root to run kube-bench's shell audits chrooted into the node");
        return;
    }
    for (fixture, targets) in [
        ("kubeadm-control-plane", "master,controlplane,etcd,node"),
        ("kubeadm-worker", "node"),
    ] {
        let table = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/fixtures/kube-bench/{fixture}.yaml"));
        let expected: BTreeMap<String, KubeBenchVerdicts> = kubecis::yaml::from_str(
            &table.display().to_string(),
            &std::fs::read_to_string(&table).unwrap(),
        )
        .unwrap();
        let node = FixtureNode::materialize(fixture);
        for bench in ["cis-1.23", "cis-1.12"] {
            let out = run_on_node(
                &node,
                &cfg,
                &[
                    "run",
                    "--config-dir",
                    "/kube-bench-cfg",
                    "--benchmark",
                    bench,
                    "--targets",
                    targets,
                    "--json",
                ],
            );
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{fixture} {bench}: {err}");
            let report: Value = serde_json::from_slice(&out.stdout).unwrap();
            let got = verdicts(&report);
            if std::env::var_os("KUBECIS_KB_DUMP").is_some() {
                for (id, (status, reason, actual)) in &got {
                    println!("{fixture}\t{bench}\t{id}\t{status}\t{reason}\t{actual}");
                }
                continue;
            }
            let want = &expected[bench];
            let mut agree = 0;
            let mut wrong = Vec::new();
            for (id, (status, reason, actual)) in &got {
                let deliberate = want.differences.get(id);
                match deliberate.or(want.kube_bench.get(id)) {
                    Some(s) if s == status => agree += usize::from(deliberate.is_none()),
                    other => wrong.push(format!(
                        "{id}: kubecis {status} ({reason}; {actual}), expected {other:?}"
                    )),
                }
            }
            let missing: Vec<&String> = want
                .kube_bench
                .keys()
                .filter(|id| !got.contains_key(*id))
                .collect();
            assert!(
                wrong.is_empty() && missing.is_empty(),
                "{fixture} {bench}: {wrong:#?}\nmissing: {missing:?}"
            );
            eprintln!(
                "{fixture} {bench}: {agree} of {} checks give kube-bench's verdict; deliberately different: {:?}",
                got.len(),
                want.differences
            );
        }
    }
}

/// kube-bench's verdicts for one benchmark, and where kubecis deliberately differs.
#[derive(serde::Deserialize)]
struct KubeBenchVerdicts {
    #[serde(rename = "kube-bench")]
    kube_bench: BTreeMap<String, String>,
    differences: BTreeMap<String, String>,
}
