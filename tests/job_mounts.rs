//! Every path a bundled check can read is visible to the Jobs in `deploy/`: the host path it
//! lives at is mounted, at the place `--root` points to. The paths come from the bundled
//! definitions themselves — every candidate location in `cfg/config.yaml` (kubeadm, k3s,
//! RKE2, snap, EKS, ...) and every literal path in a native `file`/`config` audit — so a
//! new layout or check that a narrower mount would miss fails here, not on a customer's node.

use std::path::Path;

use kubecis::benchmark::load::{load_config, load_controls, DefinitionSource};
use kubecis::benchmark::model::{Audit, NativeAudit};
use serde_json::Value;

const JOBS: [&str; 3] = ["job.yaml", "job-master.yaml", "job-node.yaml"];

/// What a Job's container can see of the host: (host path, path in the container) pairs,
/// its `--root`, and whether it shares the host's PID namespace.
struct View {
    file: String,
    mounts: Vec<(String, String)>,
    root: String,
    host_pid: bool,
}

fn views() -> Vec<View> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let mut out = Vec::new();
    for file in JOBS {
        let job: Value =
            kubecis::yaml::to_value(file, &std::fs::read_to_string(dir.join(file)).unwrap())
                .unwrap();
        let pod = &job["spec"]["template"]["spec"];
        let volumes = pod["volumes"].as_array().unwrap();
        for c in pod["containers"].as_array().unwrap() {
            let args: Vec<&str> = c["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            let i = args.iter().position(|a| *a == "--root").expect("--root");
            let mounts = c["volumeMounts"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|m| {
                    let vol = volumes.iter().find(|v| v["name"] == m["name"])?;
                    Some((
                        vol["hostPath"]["path"].as_str()?.to_string(),
                        m["mountPath"].as_str()?.to_string(),
                    ))
                })
                .collect();
            out.push(View {
                file: file.to_string(),
                mounts,
                root: args[i + 1].to_string(),
                host_pid: pod["hostPID"].as_bool() == Some(true),
            });
        }
    }
    out
}

fn under(path: &str, dir: &str) -> Option<String> {
    if dir == "/" {
        return Some(path.trim_start_matches('/').to_string());
    }
    let rest = path.strip_prefix(dir)?;
    (rest.is_empty() || rest.starts_with('/')).then(|| rest.trim_start_matches('/').to_string())
}

/// Whether the container reads the node's `path` where kubecis looks for it: at
/// `<root>/<path>`, through a mount of the host directory holding it. `/proc/...` is read
/// from the container's own /proc, which shows the host's processes only with hostPID.
fn visible(view: &View, path: &str) -> bool {
    if path.starts_with("/proc/") {
        return view.host_pid;
    }
    let wanted = format!(
        "{}/{}",
        view.root.trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    view.mounts.iter().any(|(host, mount)| {
        under(path, host).is_some_and(|rest| {
            let seen = format!("{}/{}", mount.trim_end_matches('/'), rest);
            seen.trim_end_matches('/') == wanted.trim_end_matches('/')
        })
    })
}

/// The fixed part of a path that may hold a glob or a `$variable`: the directories before
/// the first component with one (a glob is matched, a variable resolved, below it).
fn fixed_prefix(path: &str) -> String {
    let mut out = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        if part.contains(['*', '?', '[', '$', '{']) {
            break;
        }
        out.push('/');
        out.push_str(part);
    }
    if out.is_empty() {
        "/".into()
    } else {
        out
    }
}

/// Every node path the bundled definitions name.
fn bundled_paths() -> Vec<String> {
    let source = DefinitionSource::Embedded;
    let mut paths = Vec::new();
    for bench in source.benchmarks() {
        let config = load_config(&source, None, Some(&bench)).unwrap();
        for (_, target) in &config.targets {
            for comp in target.defs.values() {
                for kind in ["conf", "svc", "kubeconfig", "cafile", "datadir"] {
                    let (cands, default) = comp.candidates(kind);
                    paths.extend(cands.iter().cloned());
                    paths.extend(default.map(str::to_string));
                }
            }
        }
        for target in config.targets.iter().map(|(t, _)| t.clone()) {
            let Some(controls) = load_controls(&source, &bench, &target, &config).unwrap() else {
                continue;
            };
            for check in controls.groups.iter().flat_map(|g| &g.checks) {
                for audit in [&check.audit, &check.audit_config].into_iter().flatten() {
                    if let Audit::Native(
                        NativeAudit::File { path, .. } | NativeAudit::Config { path },
                    ) = audit
                    {
                        paths.push(fixed_prefix(path));
                    }
                }
            }
        }
    }
    paths.retain(|p| p.starts_with('/'));
    paths.sort();
    paths.dedup();
    paths
}

#[test]
fn every_path_the_bundled_checks_name_is_mounted_where_root_points() {
    let paths = bundled_paths();
    assert!(
        paths.len() > 20,
        "expected the bundled cfg to name many paths, got {paths:?}"
    );
    for view in views() {
        let missing: Vec<&String> = paths.iter().filter(|p| !visible(&view, p)).collect();
        assert!(
            missing.is_empty(),
            "{}: not visible under --root {}: {missing:?}",
            view.file,
            view.root
        );
    }
}

/// The coverage rule itself, on a narrow mount, so the test above cannot pass vacuously.
#[test]
fn a_path_outside_the_mounts_is_reported() {
    let narrow = View {
        file: "narrow".into(),
        mounts: vec![("/etc/kubernetes".into(), "/host/etc/kubernetes".into())],
        root: "/host".into(),
        host_pid: false,
    };
    assert!(visible(
        &narrow,
        "/etc/kubernetes/manifests/kube-apiserver.yaml"
    ));
    assert!(visible(&narrow, "/etc/kubernetes"));
    assert!(!visible(&narrow, "/etc/kubernetes-other/x"));
    assert!(!visible(&narrow, "/var/lib/kubelet/config.yaml"));
    assert!(!visible(&narrow, "/proc/1/cmdline"), "no hostPID");
    let misplaced = View {
        mounts: vec![("/".into(), "/node".into())],
        ..narrow
    };
    assert!(
        !visible(&misplaced, "/etc/passwd"),
        "mounted, but not at --root"
    );
    assert_eq!(
        fixed_prefix("/etc/kubernetes/pki/*.key"),
        "/etc/kubernetes/pki"
    );
    assert_eq!(fixed_prefix("$kubeletconf"), "/");
}
