//! The Job manifests under `deploy/` checked for what the schema cannot say: that each
//! one sees the host the way kubecis needs (host PID namespace, the host root mounted
//! read-only where `--root` points) and is locked down the way the comments in
//! `deploy/job.yaml` promise. kubernetes-validate (`.ci/lint-deploy.sh`) checks the
//! schema; this checks the meaning.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use common::fixture::FixtureNode;
use serde_json::Value;

const JOBS: [&str; 3] = ["job.yaml", "job-master.yaml", "job-node.yaml"];

/// The only capability the Jobs add; see the comment in deploy/job.yaml for why.
const ADDED_CAPS: [&str; 1] = ["DAC_READ_SEARCH"];

/// The args of a Job's (single) container.
fn job_args(file: &str) -> Vec<String> {
    let job = load(file);
    let containers = at(file, &job, &["spec", "template", "spec", "containers"])
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 1, "{file}: one container");
    strings(file, at(file, &containers[0], &["args"]))
}

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn load(name: &str) -> Value {
    let path = deploy_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    kubecis::yaml::to_value(&path.display().to_string(), &text).unwrap_or_else(|e| panic!("{e}"))
}

/// Walks a path of mapping keys, naming the file and the missing key on failure.
fn at<'a>(file: &str, v: &'a Value, keys: &[&str]) -> &'a Value {
    let mut cur = v;
    for (i, k) in keys.iter().enumerate() {
        cur = cur
            .get(*k)
            .unwrap_or_else(|| panic!("{file}: missing {}", keys[..=i].join(".")));
    }
    cur
}

fn strings(file: &str, v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("{file}: expected a list, got {v:?}"))
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap_or_else(|| panic!("{file}: expected a string, got {s:?}"))
                .to_string()
        })
        .collect()
}

/// The value following `flag` in an argument list (`--flag value` or `--flag=value`).
fn flag_value(args: &[String], flag: &str) -> Option<String> {
    let prefix = format!("{flag}=");
    args.iter().enumerate().find_map(|(i, a)| {
        if a == flag {
            args.get(i + 1).cloned()
        } else {
            a.strip_prefix(&prefix).map(str::to_string)
        }
    })
}

#[test]
fn every_job_sees_the_host_read_only_where_root_points() {
    for file in JOBS {
        let job = load(file);
        assert_eq!(at(file, &job, &["kind"]).as_str(), Some("Job"), "{file}");
        let pod = at(file, &job, &["spec", "template", "spec"]);

        assert_eq!(
            at(file, pod, &["hostPID"]).as_bool(),
            Some(true),
            "{file}: hostPID"
        );
        for ns in ["hostNetwork", "hostIPC"] {
            assert_ne!(
                pod.get(ns).and_then(Value::as_bool),
                Some(true),
                "{file}: {ns} is not needed and must stay off"
            );
        }
        assert_eq!(
            at(file, pod, &["restartPolicy"]).as_str(),
            Some("Never"),
            "{file}"
        );
        assert_eq!(
            at(file, pod, &["serviceAccountName"]).as_str(),
            Some("kubecis"),
            "{file}"
        );
        assert_eq!(
            at(file, pod, &["automountServiceAccountToken"]).as_bool(),
            Some(false),
            "{file}: kubecis does not call the API server, so no token"
        );
        assert!(
            at(file, &job, &["spec", "backoffLimit"]).as_u64().is_some(),
            "{file}: backoffLimit"
        );

        // Volumes: every one is a hostPath, and the host root is among them.
        let volumes = at(file, pod, &["volumes"]).as_array().expect("volumes");
        let host_path_of = |name: &str| -> Option<String> {
            volumes
                .iter()
                .find(|v| v.get("name").and_then(Value::as_str) == Some(name))
                .and_then(|v| v.get("hostPath"))
                .and_then(|h| h.get("path"))
                .and_then(Value::as_str)
                .map(str::to_string)
        };

        let containers = at(file, pod, &["containers"])
            .as_array()
            .expect("containers");
        assert!(!containers.is_empty(), "{file}: no container");
        for c in containers {
            let name = at(file, c, &["name"]).as_str().unwrap_or("?");
            let ctx = format!("{file}: container {name}");
            let args = strings(&ctx, at(&ctx, c, &["args"]));
            assert_eq!(args.first().map(String::as_str), Some("run"), "{ctx}: args");

            // --root names a mount of the host's / and that mount is read-only.
            let root = flag_value(&args, "--root")
                .unwrap_or_else(|| panic!("{ctx}: no --root in {args:?}"));
            let mounts = at(&ctx, c, &["volumeMounts"]).as_array().expect("mounts");
            assert!(!mounts.is_empty(), "{ctx}: no volumeMounts");
            let mut root_mounted = false;
            for m in mounts {
                let path = at(&ctx, m, &["mountPath"]).as_str().unwrap();
                assert_eq!(
                    m.get("readOnly").and_then(Value::as_bool),
                    Some(true),
                    "{ctx}: mount {path} must be readOnly (kubecis never writes to the host)"
                );
                let vol = at(&ctx, m, &["name"]).as_str().unwrap();
                let host = host_path_of(vol)
                    .unwrap_or_else(|| panic!("{ctx}: volume {vol} is not a hostPath"));
                if path == root {
                    assert_eq!(host, "/", "{ctx}: --root {root} must be the host's /");
                    root_mounted = true;
                }
            }
            assert!(root_mounted, "{ctx}: --root {root} is not a mountPath");

            let sc = at(&ctx, c, &["securityContext"]);
            assert_eq!(
                at(&ctx, sc, &["readOnlyRootFilesystem"]).as_bool(),
                Some(true),
                "{ctx}"
            );
            assert_eq!(
                at(&ctx, sc, &["allowPrivilegeEscalation"]).as_bool(),
                Some(false),
                "{ctx}"
            );
            assert_ne!(
                sc.get("privileged").and_then(Value::as_bool),
                Some(true),
                "{ctx}: privileged"
            );
            let caps = at(&ctx, sc, &["capabilities"]);
            assert_eq!(
                strings(&ctx, at(&ctx, caps, &["drop"])),
                vec!["ALL"],
                "{ctx}: drop"
            );
            assert_eq!(
                strings(&ctx, at(&ctx, caps, &["add"])),
                ADDED_CAPS.to_vec(),
                "{ctx}: only the documented capabilities are added"
            );

            for kind in ["requests", "limits"] {
                for res in ["cpu", "memory"] {
                    assert!(
                        at(&ctx, c, &["resources", kind, res]).as_str().is_some(),
                        "{ctx}: resources.{kind}.{res}"
                    );
                }
            }
        }
    }
}

#[test]
fn master_and_node_jobs_land_on_their_kind_of_node() {
    let cp = "node-role.kubernetes.io/control-plane";
    let legacy = "node-role.kubernetes.io/master";

    // Each term: the (key, operator) pairs of its matchExpressions.
    let terms = |file: &str| -> Vec<Vec<(String, String)>> {
        let job = load(file);
        let t = at(
            file,
            &job,
            &[
                "spec",
                "template",
                "spec",
                "affinity",
                "nodeAffinity",
                "requiredDuringSchedulingIgnoredDuringExecution",
                "nodeSelectorTerms",
            ],
        );
        t.as_array()
            .unwrap()
            .iter()
            .map(|term| {
                at(file, term, &["matchExpressions"])
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| {
                        (
                            at(file, e, &["key"]).as_str().unwrap().to_string(),
                            at(file, e, &["operator"]).as_str().unwrap().to_string(),
                        )
                    })
                    .collect()
            })
            .collect()
    };
    let pair = |k: &str, op: &str| (k.to_string(), op.to_string());

    // Master: either label (two terms are ORed) ...
    assert_eq!(
        terms("job-master.yaml"),
        vec![vec![pair(cp, "Exists")], vec![pair(legacy, "Exists")]]
    );
    // ... and both taints tolerated.
    let master = load("job-master.yaml");
    let tolerated: Vec<String> = at(
        "job-master.yaml",
        &master,
        &["spec", "template", "spec", "tolerations"],
    )
    .as_array()
    .unwrap()
    .iter()
    .map(|t| t.get("key").and_then(Value::as_str).unwrap().to_string())
    .collect();
    assert!(tolerated.contains(&cp.to_string()), "{tolerated:?}");
    assert!(tolerated.contains(&legacy.to_string()), "{tolerated:?}");

    // Node: neither label (one term, expressions ANDed).
    assert_eq!(
        terms("job-node.yaml"),
        vec![vec![pair(cp, "DoesNotExist"), pair(legacy, "DoesNotExist")]]
    );
}

/// The manifests grant exactly ADDED_CAPS on top of uid 0. This runs a real reader with
/// that capability set (setpriv, util-linux) against files made here, to show the set is
/// enough for what the comments claim and that dropping it would not be: a 600 root file
/// is readable with no capability, a 600 file of another owner inside a 700 directory
/// (an etcd data dir, a wrongly owned kubeconfig) needs DAC_READ_SEARCH.
#[test]
fn the_jobs_capability_set_reads_what_the_checks_need() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root to create files of another owner and drop capabilities");
        return;
    }
    if Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("skipped: setpriv (util-linux) is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let own = dir.path().join("root600");
    std::fs::write(&own, "root").unwrap();
    let other_dir = dir.path().join("etcd");
    std::fs::create_dir(&other_dir).unwrap();
    let other = other_dir.join("member");
    std::fs::write(&other, "etcd").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(&other_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let nobody = nix::unistd::Uid::from_raw(65534);
    let nogroup = nix::unistd::Gid::from_raw(65534);
    nix::unistd::chown(&other, Some(nobody), Some(nogroup)).unwrap();
    nix::unistd::chown(&other_dir, Some(nobody), Some(nogroup)).unwrap();
    // The temp dir itself must be searchable by uid 0 without DAC_OVERRIDE: it is root's.

    let read_with = |caps: &[&str], path: &Path| -> bool {
        let out = setpriv(caps)
            .arg("cat")
            .arg(path)
            .output()
            .expect("running setpriv");
        out.status.success()
    };

    assert!(
        read_with(&[], &own),
        "uid 0 reads its own 600 file without capabilities"
    );
    assert!(
        !read_with(&[], &other),
        "without DAC_READ_SEARCH a 600 file of another owner must be unreadable \
         (if this passes, capabilities were not dropped and the test proves nothing)"
    );
    assert!(read_with(&ADDED_CAPS, &own));
    assert!(
        read_with(&ADDED_CAPS, &other),
        "the Jobs' capability set must read a 600 file of another owner in a 700 dir"
    );
}

/// The Jobs' command lines are kubecis's: they parse, and with the host mount swapped for a
/// fixture node's root they audit that node (the image's ENTRYPOINT is the binary, so the
/// container's args are exactly its arguments).
#[test]
fn each_jobs_args_audit_its_kind_of_node() {
    for file in JOBS {
        let args = job_args(file);
        let argv = std::iter::once("kubecis".to_string()).chain(args.iter().cloned());
        if let Err(e) = kubecis::cli::Cli::try_parse_from(argv) {
            panic!("{file}: kubecis rejects the Job's args {args:?}: {e}");
        }
    }
    // job.yaml detects its targets; on a control plane that includes policies, which has no
    // controls file in the bundled benchmark yet, so it is run on a worker here.
    for (file, fixture) in [
        ("job-master.yaml", "kubeadm-control-plane"),
        ("job-node.yaml", "kubeadm-worker"),
        ("job.yaml", "kubeadm-worker"),
    ] {
        let node = FixtureNode::materialize(fixture);
        let mut args = job_args(file);
        let i = args.iter().position(|a| a == "--root").unwrap();
        args[i + 1] = node.root().display().to_string();
        args.push("--json".into());
        let out = Command::new(env!("CARGO_BIN_EXE_kubecis"))
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{file} on {fixture}: {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let targets: Vec<&str> = report["Controls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["node_type"].as_str().unwrap())
            .collect();
        let expected: Vec<&str> = match file {
            "job-master.yaml" => vec!["master", "etcd", "controlplane", "node"],
            _ => vec!["node"],
        };
        assert_eq!(targets, expected, "{file} on {fixture}");
        let pass = report["Totals"]["total_pass"].as_u64().unwrap();
        assert!(pass > 0, "{file} on {fixture}: nothing passed");
    }
}

/// Runs the kubecis binary with only `caps` (uid 0, every other capability dropped, as in
/// the Jobs); returns check id -> (status, reason).
fn run_with_caps(
    caps: &[String],
    root: &Path,
    targets: &str,
) -> std::collections::BTreeMap<String, (String, String)> {
    let out = setpriv(caps)
        .arg(env!("CARGO_BIN_EXE_kubecis"))
        .args([
            "run",
            "--json",
            "--benchmark",
            "cis-1.23",
            "--targets",
            targets,
        ])
        .arg("--root")
        .arg(root)
        .output()
        .expect("running setpriv");
    assert!(
        out.status.success(),
        "kubecis with caps {caps:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut results = std::collections::BTreeMap::new();
    for c in report["Controls"].as_array().unwrap() {
        for g in c["tests"].as_array().unwrap() {
            for r in g["results"].as_array().unwrap() {
                results.insert(
                    r["test_number"].as_str().unwrap().to_string(),
                    (
                        r["status"].as_str().unwrap().to_string(),
                        r["reason"].as_str().unwrap_or_default().to_string(),
                    ),
                );
            }
        }
    }
    results
}

/// What the Jobs' capability set gives up, by reason: another process's environment and its
/// own view of the filesystem (`/proc/<pid>/environ`, `/proc/<pid>/root`, `/proc/<pid>/cwd`)
/// need SYS_PTRACE when the process holds capabilities the reader lacks. Either is a WARN that
/// says so, never a PASS.
fn lost_for_want_of_ptrace(status: &str, reason: &str) -> bool {
    let environment = reason.contains("environment") && reason.contains("unreadable");
    let process_view = reason.starts_with("/proc/")
        && (reason.contains("/root/") || reason.contains("/cwd/"))
        && reason.contains("permission denied");
    status == "WARN" && (environment || process_view)
}

/// kubecis itself, with the Jobs' capability set, judges a node as full root does — except
/// for what the manifests say it gives up (a component's environment and its own root, which
/// need SYS_PTRACE) — and without that set it would not: a kubelet config of the wrong owner,
/// mode 600, becomes unreadable.
#[test]
fn kubecis_with_the_jobs_capabilities_judges_like_full_root() {
    if !nix::unistd::geteuid().is_root()
        || Command::new("setpriv").arg("--version").output().is_err()
    {
        eprintln!("skipped: needs root and setpriv (util-linux)");
        return;
    }
    let job = load("job-node.yaml");
    let containers = at(
        "job-node.yaml",
        &job,
        &["spec", "template", "spec", "containers"],
    );
    let job_caps = strings(
        "job-node.yaml",
        at(
            "job-node.yaml",
            &containers[0],
            &["securityContext", "capabilities", "add"],
        ),
    );
    // Every capability that bears on reading files and /proc: full root, as far as kubecis can tell.
    let root_caps: Vec<String> = ["DAC_OVERRIDE", "DAC_READ_SEARCH", "SYS_PTRACE", "FOWNER"]
        .map(String::from)
        .to_vec();

    // A worker whose kubelet config has the wrong owner, mode 600 (what 4.1.9/4.1.10 catch).
    let worker = FixtureNode::materialize("kubeadm-worker");
    let config = worker.root().join("var/lib/kubelet/config.yaml");
    nix::unistd::chown(&config, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();

    let full = run_with_caps(&root_caps, worker.root(), "node");
    let job = run_with_caps(&job_caps, worker.root(), "node");
    let none = run_with_caps(&[], worker.root(), "node");
    // kube-proxy may run in its own root (config.yaml: paths_in_process_root), and without
    // SYS_PTRACE nobody can look there: its kubeconfig checks (4.1.3/4.1.4) say so.
    for (id, (status, reason)) in &job {
        if full[id] != (status.clone(), reason.clone()) {
            assert!(
                ["4.1.3", "4.1.4"].contains(&id.as_str())
                    && lost_for_want_of_ptrace(status, reason),
                "{id}: the Job's capabilities judge otherwise than full root: {status} {reason}"
            );
        }
    }
    let lost: Vec<&String> = full.keys().filter(|id| none[*id] != full[*id]).collect();
    assert!(
        lost.iter().any(|id| id.starts_with("4.2.")),
        "without DAC_READ_SEARCH the foreign 600 kubelet config should have been unreadable"
    );
    for id in &lost {
        assert!(
            none[*id].1.contains("permission denied"),
            "{id}: {:?}",
            none[*id]
        );
    }
    drop(worker);

    // On a control plane the only loss is the components' environment (etcd's ETCD_*
    // settings) and kube-proxy's own root, each a WARN that says so, never a PASS.
    let cp = FixtureNode::materialize("kubeadm-control-plane");
    let targets = "master,controlplane,etcd,node";
    let full = run_with_caps(&root_caps, cp.root(), targets);
    let job = run_with_caps(&job_caps, cp.root(), targets);
    let mut lost = 0;
    for (id, (status, reason)) in &job {
        if full[id] != (status.clone(), reason.clone()) {
            lost += 1;
            eprintln!("{id}: with the Job's capabilities: {status} {reason}");
            assert!(
                lost_for_want_of_ptrace(status, reason),
                "{id}: differs from full root for another reason than SYS_PTRACE: {status} {reason}"
            );
        }
    }
    eprintln!("{lost} checks need SYS_PTRACE under the Job's capabilities");
}

/// Where kube-proxy really keeps its kubeconfig (a ConfigMap inside its pod), the Jobs'
/// capability set cannot look: `/proc/<pid>/root` of a process holding capabilities the reader
/// lacks needs SYS_PTRACE. kubecis then WARNs with the reason (never PASS, never "not found");
/// with SYS_PTRACE added it judges the file as full root does.
#[test]
fn a_containerized_kube_proxy_needs_sys_ptrace_to_be_judged() {
    if !nix::unistd::geteuid().is_root()
        || Command::new("setpriv").arg("--version").output().is_err()
    {
        eprintln!("skipped: needs root (to chroot and drop capabilities) and setpriv");
        return;
    }
    let node = FixtureNode::materialize("kubeadm-proxy-pod");
    let pid = node
        .processes()
        .iter()
        .find(|p| p.binary == "kube-proxy")
        .unwrap()
        .pid;
    let caps = |names: &[&str]| names.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    let job = run_with_caps(&caps(&ADDED_CAPS), node.root(), "node");
    for id in ["4.1.3", "4.1.4"] {
        let (status, reason) = &job[id];
        assert_eq!(status, "WARN", "{id}: {reason}");
        assert_eq!(
            reason,
            &format!(
                "/proc/{pid}/root/var/lib/kube-proxy/config.conf: permission denied \
                 (the proxy config file, read for $proxykubeconfig)"
            ),
            "{id}"
        );
    }
    let mut with_ptrace: Vec<&str> = ADDED_CAPS.to_vec();
    with_ptrace.push("SYS_PTRACE");
    let traced = run_with_caps(&caps(&with_ptrace), node.root(), "node");
    let full = run_with_caps(
        &caps(&["DAC_OVERRIDE", "DAC_READ_SEARCH", "SYS_PTRACE", "FOWNER"]),
        node.root(),
        "node",
    );
    assert_eq!(traced, full, "SYS_PTRACE is all that was missing");
    assert_eq!(traced["4.1.3"], ("PASS".to_string(), String::new()));
    // Everything else is judged alike with or without it.
    for (id, v) in &job {
        if !["4.1.3", "4.1.4"].contains(&id.as_str()) {
            assert_eq!(v, &full[id], "{id}");
        }
    }
}

/// The policies Job reads the API with the ServiceAccount `deploy/rbac.yaml` creates, in the
/// namespace the Jobs are applied to, and asks for nothing from the node.
#[test]
fn the_policies_job_uses_the_shipped_service_account_and_no_host_access() {
    let job = load("job-policies.yaml");
    let pod = at("job-policies.yaml", &job, &["spec", "template", "spec"]);
    assert_eq!(pod["serviceAccountName"], "kubecis");
    assert_eq!(pod["automountServiceAccountToken"], true);
    for host in ["hostPID", "hostNetwork", "hostIPC", "volumes"] {
        assert!(pod.get(host).is_none(), "job-policies.yaml: {host} set");
    }
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let container = &pod["containers"][0];
    assert_eq!(
        strings("job-policies.yaml", &container["args"]),
        ["run", "--targets", "policies"]
    );
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        container["securityContext"]["capabilities"]["drop"][0],
        "ALL"
    );
    assert!(container["securityContext"]["capabilities"]
        .get("add")
        .is_none());

    // rbac.yaml: the ServiceAccount the Jobs name lives where the Jobs run, and the binding
    // points at it.
    let text = std::fs::read_to_string(deploy_dir().join("rbac.yaml")).unwrap();
    let docs = kubecis::yaml::documents("rbac.yaml", &text).unwrap();
    let sa = docs.iter().find(|d| d["kind"] == "ServiceAccount").unwrap();
    assert_eq!(sa["metadata"]["name"], "kubecis");
    assert_eq!(sa["metadata"]["namespace"], "kubecis");
    let binding = docs
        .iter()
        .find(|d| d["kind"] == "ClusterRoleBinding")
        .unwrap();
    assert_eq!(binding["subjects"][0]["name"], "kubecis");
    assert_eq!(binding["subjects"][0]["namespace"], "kubecis");
    let operating = std::fs::read_to_string(deploy_dir().join("../docs/operating.md")).unwrap();
    assert!(operating.contains("kubectl apply -n kubecis -f deploy/rbac.yaml"));
}

/// `setpriv` that runs its command with exactly the capabilities `caps` (inheritable, ambient
/// and bounding set), as a container with `drop: [ALL]` and `add: caps` gets them.
fn setpriv<S: AsRef<str>>(caps: &[S]) -> Command {
    let set: String = std::iter::once("-all".to_string())
        .chain(
            caps.iter()
                .map(|c| format!("+{}", c.as_ref().to_lowercase())),
        )
        .collect::<Vec<_>>()
        .join(",");
    let mut cmd = Command::new("setpriv");
    cmd.arg(format!("--inh-caps={set}"))
        .arg(format!("--ambient-caps={set}"))
        .arg(format!("--bounding-set={set}"));
    cmd
}
