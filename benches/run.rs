//! Times a full `kubecis run` of a 100-check benchmark on a fixture node: definitions loaded
//! and parsed, the live /proc scanned, a real `kube-apiserver` process's flags parsed, files
//! stat'ed and config documents read under --root, every check judged. A second figure times
//! the same checks evaluated from a snapshot (no I/O), which is the cost of judging alone.
//!
//! Then the bundled benchmarks themselves: a full five-target audit (master, etcd,
//! controlplane, node, policies) with cis-1.23 and with cis-1.12 on the
//! `hardened-control-plane` fixture node (its files, modes and running components, as the
//! tests materialize it) and the demo cluster's API objects. cis-1.12 must stay within twice
//! cis-1.23's time. The node's processes are the `fake_component` example, which `cargo bench`
//! does not build: `cargo build --release --example fake_component` first.

use std::fmt::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};

use criterion::{criterion_group, Criterion};
use kubecis::audit::ObjectsState;
use kubecis::benchmark::load::{self, DefinitionSource};
use kubecis::facts::Facts;
use kubecis::policies::objects::Objects;
use kubecis::runner::{Runner, Selection};

#[allow(dead_code)]
#[path = "../tests/common/fixture.rs"]
mod fixture;

const CONFIG: &str = r#"
master:
  components: [apiserver]
  apiserver:
    bins: [kube-apiserver]
    confs: [/etc/kubernetes/manifests/kube-apiserver.yaml]
    defaultconf: /etc/kubernetes/manifests/kube-apiserver.yaml
    bool_flags: [--profiling, --anonymous-auth]
    list_flags: [--enable-admission-plugins]
node:
  components: [kubelet]
  kubelet:
    bins: [kubelet]
    defaultconf: /var/lib/kubelet/config.yaml
version_mapping: {"1.23": bench}
target_mapping:
  bench: [master, node]
"#;

/// 100 checks: 40 file checks (single files, globs, a recursive walk), 40 process-flag checks,
/// 20 config-document checks.
fn definitions(dir: &Path) {
    std::fs::write(dir.join("config.yaml"), CONFIG).unwrap();
    std::fs::create_dir_all(dir.join("bench")).unwrap();
    let mut master = String::from("id: 1\ntext: Control Plane\ntype: master\ngroups:\n");
    master.push_str("  - id: '1.1'\n    text: Files\n    checks:\n");
    for i in 0..40 {
        let audit = match i % 4 {
            0 => "{file: $apiserverconf}".to_string(),
            1 => format!("{{file: /etc/kubernetes/f{}.conf}}", i % 10),
            2 => "{file: /etc/kubernetes/pki/*.key}".to_string(),
            _ => "{file: /etc/kubernetes/pki, recursive: true}".to_string(),
        };
        let _ = write!(
            master,
            "      - id: 1.1.{i}\n        text: file check {i}\n        audit: {audit}\n        tests: {{test_items: [{{flag: permissions, compare: {{op: bitmask, value: '755'}}}}, {{flag: owner, compare: {{op: eq, value: 'root:root'}}}}]}}\n        remediation: chmod 600 $apiserverconf\n        scored: true\n"
        );
    }
    master.push_str("  - id: '1.2'\n    text: API Server\n    checks:\n");
    for i in 0..40 {
        let _ = write!(
            master,
            "      - id: 1.2.{i}\n        text: flag check {i}\n        audit: {{process: apiserver}}\n        tests:\n          bin_op: or\n          test_items:\n            - {{flag: --flag-{i}, compare: {{op: eq, value: 'v{i}'}}}}\n            - {{flag: --enable-admission-plugins, compare: {{op: has, value: NodeRestriction}}}}\n        scored: true\n"
        );
    }
    std::fs::write(dir.join("bench/master.yaml"), master).unwrap();
    let mut node = String::from("id: 4\ntext: Node\ntype: node\ngroups:\n  - id: '4.2'\n    text: Kubelet config\n    checks:\n");
    for i in 0..20 {
        let _ = write!(
            node,
            "      - id: 4.2.{i}\n        text: config check {i}\n        audit: {{config: $kubeletconf}}\n        tests: {{test_items: [{{path: '{{.section{}.key{i}}}', compare: {{op: gte, value: '0'}}}}]}}\n        scored: true\n",
            i % 5
        );
    }
    std::fs::write(dir.join("bench/node.yaml"), node).unwrap();
}

fn node_tree(root: &Path) {
    let k = root.join("etc/kubernetes");
    std::fs::create_dir_all(k.join("manifests")).unwrap();
    std::fs::create_dir_all(k.join("pki/etcd")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/kubelet")).unwrap();
    std::fs::write(k.join("manifests/kube-apiserver.yaml"), "kind: Pod\n").unwrap();
    for i in 0..10 {
        std::fs::write(k.join(format!("f{i}.conf")), "x").unwrap();
        std::fs::write(k.join(format!("pki/k{i}.key")), "x").unwrap();
        std::fs::write(k.join(format!("pki/etcd/c{i}.crt")), "x").unwrap();
        std::fs::set_permissions(
            k.join(format!("pki/k{i}.key")),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }
    let mut kubelet = String::new();
    for s in 0..5 {
        let _ = writeln!(kubelet, "section{s}:");
        for i in 0..20 {
            let _ = writeln!(kubelet, "  key{i}: {i}");
        }
    }
    std::fs::write(root.join("var/lib/kubelet/config.yaml"), kubelet).unwrap();
    std::fs::write(root.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    std::fs::write(root.join("etc/group"), "root:x:0:\n").unwrap();
}

/// Set in the environment of the stand-in process.
const STAND_IN: &str = "KUBECIS_BENCH_STAND_IN";

/// A real process whose argv[0] is kube-apiserver and whose command line carries 41 flags:
/// this bench binary itself, re-executed as a stand-in that only sleeps.
fn apiserver() -> StandIn {
    let mut flags: Vec<String> = (0..40).map(|i| format!("--flag-{i}=v{i}")).collect();
    flags.push("--enable-admission-plugins=NodeRestriction,AlwaysPullImages".into());
    Command::new(std::env::current_exe().unwrap())
        .arg0("kube-apiserver")
        .args(flags)
        .env(STAND_IN, "1")
        .spawn()
        .map(StandIn)
        .expect("re-executing the bench binary as kube-apiserver")
}

/// Kills the stand-in when the bench ends, panics included.
struct StandIn(Child);

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn bench(c: &mut Criterion) {
    let defs = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    definitions(defs.path());
    node_tree(root.path());
    let _apiserver = apiserver();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let source = DefinitionSource::Dir(defs.path().to_path_buf());
    let objects: ObjectsState = Err("no objects".into());
    let selection = Selection {
        benchmark: Some("bench".into()),
        targets: vec!["master".into(), "node".into()],
        scored: true,
        unscored: true,
        ..Selection::default()
    };
    let full_run = || {
        let config = load::load_config(&source, None, Some("bench")).unwrap();
        let facts = Facts::live(root.path(), Path::new("/proc"));
        let report = Runner {
            source: &source,
            config: &config,
            facts: &facts,
            objects: &objects,
        }
        .run(&selection)
        .unwrap();
        (report, facts)
    };
    let (report, facts) = full_run();
    assert_eq!(report.totals.total(), 100);
    let failing: Vec<String> = report
        .results()
        .filter(|r| r.status != kubecis::report::model::Status::Pass)
        .map(|r| format!("{} {} {} {}", r.id, r.status, r.actual_value, r.reason))
        .collect();
    assert!(
        failing.is_empty(),
        "every generated check holds on this node: {failing:#?}"
    );
    let snapshot = facts.snapshot();

    c.bench_function(
        "run 100 checks on a fixture node (load + gather + judge)",
        |b| b.iter(full_run),
    );
    c.bench_function(
        "judge 100 checks from a snapshot (load + judge, no I/O)",
        |b| {
            b.iter(|| {
                let config = load::load_config(&source, None, Some("bench")).unwrap();
                let facts = Facts::replay(snapshot.clone());
                Runner {
                    source: &source,
                    config: &config,
                    facts: &facts,
                    objects: &objects,
                }
                .run(&selection)
                .unwrap()
            })
        },
    );
}

/// A full five-target audit with each bundled benchmark on a fixture node.
fn bundled(c: &mut Criterion) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The harness spawns the node's components from the fake_component example, which
    // `cargo bench` does not build.
    let node = match fixture::FixtureNode::try_materialize("hardened-control-plane") {
        Ok(node) => node,
        Err(e) => {
            eprintln!(
                "skipped: the bundled benchmarks' runs ({e:#}; `cargo build --release --example \
                 fake_component` first)"
            );
            return;
        }
    };
    let source = DefinitionSource::Dir(repo.join("cfg"));
    let mut objects = Objects::default();
    for file in [
        "tests/fixtures/rbac/default-cluster.yaml",
        "tests/fixtures/pss/cluster/namespaces.yaml",
        "tests/fixtures/pss/cluster/workloads.yaml",
    ] {
        let text = std::fs::read_to_string(repo.join(file)).unwrap();
        objects.add_text(file, &text).unwrap();
    }
    let objects: ObjectsState = Ok(objects);
    for benchmark in ["cis-1.23", "cis-1.12"] {
        let selection = Selection {
            benchmark: Some(benchmark.into()),
            targets: ["master", "etcd", "controlplane", "node", "policies"]
                .map(String::from)
                .to_vec(),
            scored: true,
            unscored: true,
            ..Selection::default()
        };
        let full_run = || {
            let config = load::load_config(&source, None, Some(benchmark)).unwrap();
            let facts = Facts::live(node.root(), Path::new("/proc"));
            Runner {
                source: &source,
                config: &config,
                facts: &facts,
                objects: &objects,
            }
            .run(&selection)
            .unwrap()
        };
        let report = full_run();
        assert!(report.totals.total() > 120, "{benchmark}: every target ran");
        c.bench_function(
            &format!("{benchmark}: five targets on hardened-control-plane"),
            |b| b.iter(full_run),
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = bench, bundled
}

fn main() {
    if std::env::var_os(STAND_IN).is_some() {
        // The stand-in kube-apiserver: alive until the bench kills it, the bench dies, or 15
        // minutes pass.
        let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
        std::thread::sleep(std::time::Duration::from_secs(900));
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
