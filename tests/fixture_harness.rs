//! Tests of the fixture-node harness itself (`tests/common/fixture.rs`): what it promises the
//! kubecis integration tests — real modes, real owners, real processes with exact command lines
//! and working directories, nothing left running — is checked here against the kernel's view
//! (`stat`, `/proc`), not against the harness's own bookkeeping.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use common::fixture::{self, FixtureNode};

/// Writes a small fixture (manifest + root) into a temporary directory.
fn scratch_fixture(manifest: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let fixture = dir.path().join("scratch");
    let defaults = [("etc/passwd", PASSWD), ("etc/group", GROUP)];
    for (path, content) in defaults.iter().chain(files) {
        let p = fixture.join("root").join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, content).unwrap();
    }
    fs::write(fixture.join("node.yaml"), manifest).unwrap();
    (dir, fixture)
}

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
                      etcd:x:4242:4243:etcd:/var/lib/etcd:/usr/sbin/nologin\n";
const GROUP: &str = "root:x:0:\netcd:x:4243:\n";

fn mode_of(p: &Path) -> u32 {
    fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

fn proc_cmdline(pid: u32) -> Vec<String> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    raw.split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

fn proc_comm(pid: u32) -> String {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap()
        .trim_end()
        .to_string()
}

#[test]
fn modes_follow_defaults_then_rules_in_order() {
    let (_keep, fixture) = scratch_fixture(
        r#"
defaults: {file_mode: "0640", dir_mode: "0750"}
dirs: [var/log/empty]
files:
  - {path: "etc/kubernetes/manifests/*.yaml", mode: "0600"}
  - {path: etc/kubernetes/manifests/etcd.yaml, mode: "0666"}
  - {path: var/lib/etcd, dir_mode: "0700", file_mode: "0600", recursive: true}
  - {path: etc/kubernetes/pki, mode: "0711"}
"#,
        &[
            ("etc/kubernetes/manifests/kube-apiserver.yaml", "x: 1\n"),
            ("etc/kubernetes/manifests/etcd.yaml", "x: 1\n"),
            ("etc/kubernetes/pki/ca.crt", "placeholder\n"),
            ("var/lib/etcd/member/snap/db", "placeholder\n"),
        ],
    );
    let node = FixtureNode::materialize_from(&fixture).unwrap();
    let r = node.root();
    assert_eq!(mode_of(r), 0o750);
    assert_eq!(mode_of(&r.join("etc/passwd")), 0o640);
    assert_eq!(
        mode_of(&r.join("etc/kubernetes/manifests/kube-apiserver.yaml")),
        0o600
    );
    // The later rule wins over the glob.
    assert_eq!(
        mode_of(&r.join("etc/kubernetes/manifests/etcd.yaml")),
        0o666
    );
    // Not recursive: only the directory itself.
    assert_eq!(mode_of(&r.join("etc/kubernetes/pki")), 0o711);
    assert_eq!(mode_of(&r.join("etc/kubernetes/pki/ca.crt")), 0o640);
    // Recursive, by type.
    assert_eq!(mode_of(&r.join("var/lib/etcd")), 0o700);
    assert_eq!(mode_of(&r.join("var/lib/etcd/member/snap")), 0o700);
    assert_eq!(mode_of(&r.join("var/lib/etcd/member/snap/db")), 0o600);
    // An empty directory git could not have kept.
    assert!(r.join("var/log/empty").is_dir());
    assert_eq!(mode_of(&r.join("var/log/empty")), 0o750);
}

#[test]
fn owners_come_from_the_fixtures_own_passwd_and_group() {
    if fixture::skip_without_chown("owners_come_from_the_fixtures_own_passwd_and_group") {
        return;
    }
    let (_keep, fixture) = scratch_fixture(
        r#"
files:
  - {path: var/lib/etcd, owner: etcd, group: etcd, recursive: true}
  - {path: etc/kubernetes/admin.conf, owner: "1000", group: "1000"}
"#,
        &[
            ("etc/kubernetes/admin.conf", "placeholder\n"),
            ("var/lib/etcd/member/wal/0.wal", "placeholder\n"),
        ],
    );
    let node = FixtureNode::materialize_from(&fixture).unwrap();
    assert!(node.ownership_applied());
    let r = node.root();
    let ids = |p: &str| {
        let m = fs::symlink_metadata(r.join(p)).unwrap();
        (m.uid(), m.gid())
    };
    assert_eq!(ids("etc/passwd"), (0, 0));
    // 4242/4243 exist only in the fixture's passwd/group, not on the test machine.
    assert_eq!(ids("var/lib/etcd"), (4242, 4243));
    assert_eq!(ids("var/lib/etcd/member/wal/0.wal"), (4242, 4243));
    assert_eq!(ids("etc/kubernetes/admin.conf"), (1000, 1000));
}

#[test]
fn processes_show_the_manifest_argv_comm_cwd_and_env() {
    let (_keep, fixture) = scratch_fixture(
        r#"
processes:
  - from_static_pod: etc/kubernetes/manifests/kube-apiserver.yaml
    args: ["--v=2"]
  - binary: kubelet
    argv0: /usr/bin/kubelet
    args: ["--config", "config.yaml", "--kubeconfig=/etc/kubernetes/kubelet.conf"]
    cwd: var/lib/kubelet
    env: {HTTPS_PROXY: "http://proxy.example:3128"}
  - binary: hyperkube
    args: [scheduler, "--profiling=false"]
  - binary: kube-controller-manager
    args: ["--profiling=false"]
"#,
        &[
            (
                "etc/kubernetes/manifests/kube-apiserver.yaml",
                "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: kube-apiserver\n    \
                 command:\n    - kube-apiserver\n    - --anonymous-auth=false\n    \
                 args:\n    - --profiling=false\n",
            ),
            ("var/lib/kubelet/config.yaml", "readOnlyPort: 0\n"),
        ],
    );
    let node = FixtureNode::materialize_from(&fixture).unwrap();
    let pids = node.pids();
    assert_eq!(pids.len(), 4);

    assert_eq!(
        proc_cmdline(pids[0]),
        [
            "kube-apiserver",
            "--anonymous-auth=false",
            "--profiling=false",
            "--v=2"
        ]
    );
    assert_eq!(proc_comm(pids[0]), "kube-apiserver");

    assert_eq!(
        proc_cmdline(pids[1]),
        [
            "/usr/bin/kubelet",
            "--config",
            "config.yaml",
            "--kubeconfig=/etc/kubernetes/kubelet.conf"
        ]
    );
    assert_eq!(proc_comm(pids[1]), "kubelet");
    // The relative --config resolves through the process's own working directory.
    let cwd = fs::read_link(format!("/proc/{}/cwd", pids[1])).unwrap();
    assert_eq!(cwd, node.root().join("var/lib/kubelet"));
    let via_proc = fs::read_to_string(format!("/proc/{}/cwd/config.yaml", pids[1])).unwrap();
    assert_eq!(via_proc, "readOnlyPort: 0\n");
    let environ = fs::read(format!("/proc/{}/environ", pids[1])).unwrap();
    assert_eq!(environ, b"HTTPS_PROXY=http://proxy.example:3128\0");

    assert_eq!(
        proc_cmdline(pids[2]),
        ["hyperkube", "scheduler", "--profiling=false"]
    );
    assert_eq!(proc_comm(pids[2]), "hyperkube");
    // Without `cwd`, a process runs in the node's root.
    let cwd = fs::read_link(format!("/proc/{}/cwd", pids[2])).unwrap();
    assert_eq!(cwd, node.root());

    // The kernel keeps 15 bytes of the name, as on a real node.
    assert_eq!(proc_comm(pids[3]), "kube-controller");

    // The harness's record agrees with the kernel's.
    for p in node.processes() {
        assert_eq!(proc_cmdline(p.pid), p.argv);
    }
}

/// `root:` gives a process its own filesystem root, as a container's process has: the kernel
/// shows it in `/proc/<pid>/root`, files resolve there, and the working directory is inside it.
#[test]
fn a_process_can_run_in_its_own_root() {
    if !fixture::can_chroot() {
        eprintln!("skipped: needs root to chroot");
        return;
    }
    let (_keep, fixture) = scratch_fixture(
        r#"
processes:
  - binary: kube-proxy
    args: ["--config=/var/lib/kube-proxy/config.conf"]
    root: run/pod/rootfs
    cwd: var/lib
"#,
        &[
            ("run/pod/rootfs/var/lib/kube-proxy/config.conf", "inside\n"),
            ("var/lib/kube-proxy/config.conf", "on the host\n"),
        ],
    );
    let node = FixtureNode::materialize_from(&fixture).unwrap();
    let p = &node.processes()[0];
    let own = node.root().join("run/pod/rootfs");
    assert_eq!(p.own_root.as_deref(), Some(own.as_path()));
    assert_eq!(fs::read_link(format!("/proc/{}/root", p.pid)).unwrap(), own);
    assert_eq!(
        fs::read_to_string(format!(
            "/proc/{}/root/var/lib/kube-proxy/config.conf",
            p.pid
        ))
        .unwrap(),
        "inside\n"
    );
    assert_eq!(
        fs::read_link(format!("/proc/{}/cwd", p.pid)).unwrap(),
        own.join("var/lib")
    );
    // The root travels on a descriptor, not on the command line or in the environment.
    assert_eq!(proc_cmdline(p.pid), p.argv);
    assert_eq!(fs::read(format!("/proc/{}/environ", p.pid)).unwrap(), b"");
    assert_eq!(proc_comm(p.pid), "kube-proxy");
}

#[test]
fn processes_are_gone_after_drop() {
    let (_keep, fixture) = scratch_fixture(
        "processes:\n  - {binary: etcd, args: [\"--data-dir=/var/lib/etcd\"]}\n",
        &[],
    );
    let node = FixtureNode::materialize_from(&fixture).unwrap();
    let pid = node.pids()[0];
    let root = node.root().to_path_buf();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    drop(node);
    // Reaped, so not even a zombie is left. (A recycled pid would not be our etcd.)
    let still_ours = fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| c.starts_with(b"etcd\0--data-dir=/var/lib/etcd"))
        .unwrap_or(false);
    assert!(!still_ours, "pid {pid} still runs after drop");
    assert!(!root.exists(), "{} survived the drop", root.display());
}

#[test]
fn a_live_node_holds_the_global_lock() {
    let (_keep, fixture) = scratch_fixture("processes: []\n", &[]);
    let node = FixtureNode::materialize_from(&fixture).unwrap();
    let path = std::env::temp_dir().join(fixture::LOCK_FILE_NAME);
    let file = fs::OpenOptions::new().read(true).open(&path).unwrap();
    let attempt = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock);
    match attempt {
        Ok(_) => panic!("took the fixture lock while node {} is alive", node.name()),
        Err((_, errno)) => assert_eq!(errno, nix::errno::Errno::EWOULDBLOCK),
    }
    drop(node);
}

#[test]
fn manifest_mistakes_are_reported_not_ignored() {
    let cases = [
        (
            "files:\n  - {path: etc/kubernetes/scheduler.conf, mode: \"0600\"}\n",
            "matches nothing",
        ),
        (
            "files:\n  - {path: etc/passwd, owner: kube}\n",
            "user \"kube\" is not in the fixture's etc/passwd",
        ),
        ("files:\n  - {path: etc/passwd, mode: \"0999\"}\n", "octal"),
        (
            "files:\n  - {path: ../outside, mode: \"0600\"}\n",
            "without `..`",
        ),
        ("processes:\n  - {args: [\"--x\"]}\n", "needs `binary`"),
        (
            "processes:\n  - {binary: kubelet, colour: blue}\n",
            "colour",
        ),
        (
            "processes:\n  - {binary: kube-proxy, root: run/missing}\n",
            if fixture::can_chroot() {
                "is not a directory"
            } else {
                "needs root to chroot"
            },
        ),
    ];
    for (manifest, expected) in cases {
        let (_keep, fixture) = scratch_fixture(manifest, &[]);
        let err = match FixtureNode::materialize_from(&fixture) {
            Ok(_) => panic!("accepted a bad manifest:\n{manifest}"),
            Err(e) => format!("{e:#}"),
        };
        assert!(err.contains(expected), "error {err:?} lacks {expected:?}");
    }
}

/// Every checked-in fixture materializes, and its static-pod processes carry exactly the
/// command line of the manifest the kubelet would run.
#[test]
fn every_fixture_node_materializes() {
    let names = fixture::fixture_names();
    assert!(names.len() >= 5, "fixtures found: {names:?}");
    for name in names {
        if !fixture::can_chroot() && fixture::uses_process_roots(&name) {
            eprintln!("skipped: {name} needs root to chroot a process into its own root");
            continue;
        }
        let node = FixtureNode::materialize(&name);
        assert!(!node.pids().is_empty(), "{name} runs no process");
        for p in node.processes() {
            assert_eq!(proc_cmdline(p.pid), p.argv, "{name}: {}", p.binary);
            let comm = proc_comm(p.pid);
            assert!(p.binary.starts_with(&comm), "{name}: comm {comm}");
        }
        let manifests = node.root().join("etc/kubernetes/manifests");
        for entry in fs::read_dir(&manifests).into_iter().flatten() {
            let path = entry.unwrap().path();
            let Ok(text) = fs::read_to_string(&path) else {
                continue; // an unreadable manifest is a fixture's point, not the harness's
            };
            let pod = kubecis::yaml::to_value(&path.display().to_string(), &text).unwrap();
            let command: Vec<String> =
                serde_json::from_value(pod["spec"]["containers"][0]["command"].clone()).unwrap();
            let running = node.processes().iter().find(|p| p.argv[0] == command[0]);
            let running = running.unwrap_or_else(|| panic!("{name}: {command:?} not running"));
            assert_eq!(running.argv, command, "{name}: {}", path.display());
        }
    }
}

/// The fixtures are what their descriptions claim, once materialized: the end-to-end tests rely
/// on these properties, so a fixture edit that loses one must fail here first.
#[test]
fn fixtures_have_the_properties_they_claim() {
    let uid = |node: &FixtureNode, p: &str| fs::metadata(node.root().join(p)).unwrap().uid();

    let broken = FixtureNode::materialize("broken-node");
    let r = broken.root();
    assert_eq!(
        mode_of(&r.join("etc/kubernetes/manifests/kube-apiserver.yaml")),
        0o666
    );
    assert_eq!(
        mode_of(&r.join("etc/kubernetes/manifests/kube-controller-manager.yaml")),
        0o777
    );
    assert_eq!(mode_of(&r.join("var/lib/etcd")), 0o755);
    assert!(!r.join("etc/kubernetes/scheduler.conf").exists());
    assert!(!r.join("var/lib/kube-proxy/kubeconfig.conf").exists());
    let kubelet = kubecis::yaml::to_value(
        "config.yaml",
        &fs::read_to_string(r.join("var/lib/kubelet/config.yaml")).unwrap(),
    )
    .unwrap();
    assert_eq!(kubelet["readOnlyPort"].as_u64(), Some(10255));
    assert_eq!(
        kubelet["authentication"]["anonymous"]["enabled"].as_bool(),
        Some(true)
    );
    let api = &broken.processes()[0].argv;
    for flag in [
        "--anonymous-auth=true",
        "--profiling=true",
        "--authorization-mode=AlwaysAllow",
    ] {
        assert!(
            api.iter().any(|a| a == flag),
            "broken apiserver lacks {flag}"
        );
    }
    if !fixture::skip_without_chown("broken-node owners") {
        assert_eq!(
            uid(
                &broken,
                "etc/kubernetes/manifests/kube-controller-manager.yaml"
            ),
            65534
        );
        assert_eq!(uid(&broken, "etc/kubernetes/admin.conf"), 1000);
    }
    drop(broken);

    let hardened = FixtureNode::materialize("hardened-control-plane");
    let r = hardened.root();
    assert_eq!(mode_of(&r.join("var/lib/etcd")), 0o700);
    for entry in walkdir::WalkDir::new(r.join("etc/kubernetes")) {
        let entry = entry.unwrap();
        let mode = mode_of(entry.path());
        assert_eq!(mode & 0o022, 0, "{} is {mode:o}", entry.path().display());
        if entry.file_type().is_file() {
            assert_eq!(mode & 0o133, 0, "{} is {mode:o}", entry.path().display());
        }
    }
    if !fixture::skip_without_chown("hardened etcd owner") {
        assert_eq!(uid(&hardened, "var/lib/etcd/member/snap/db"), 997);
    }
    drop(hardened);

    let eks = FixtureNode::materialize("eks-worker");
    let r = eks.root();
    let used: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(r.join("etc/kubernetes/kubelet/kubelet-config.json")).unwrap(),
    )
    .unwrap();
    let stale = kubecis::yaml::to_value(
        "config.yaml",
        &fs::read_to_string(r.join("var/lib/kubelet/config.yaml")).unwrap(),
    )
    .unwrap();
    assert_eq!(used["readOnlyPort"], 0);
    assert_eq!(stale["readOnlyPort"].as_u64(), Some(10255));
    let argv = &eks.processes()[0].argv;
    let at = argv.iter().position(|a| a == "--config").unwrap();
    assert_eq!(argv[at + 1], "/etc/kubernetes/kubelet/kubelet-config.json");
    drop(eks);

    let bad = FixtureNode::materialize("broken-kubelet-config");
    let text = fs::read_to_string(bad.root().join("var/lib/kubelet/config.yaml")).unwrap();
    assert!(kubecis::yaml::to_value("config.yaml", &text).is_err());
}
