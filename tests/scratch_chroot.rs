//! The static binary alone: copied into an empty directory with a node tree beside it and
//! run under `chroot`, where there is no shell, no libc, no loader and no cfg/ on disk —
//! what a `FROM scratch` image or a bare node gives it.
//!
//! The binary is the one `scripts/build-static.sh` makes, handed over in
//! KUBECIS_STATIC_BIN (`.ci/static-chroot.sh` builds it and runs this test). Without the
//! variable, or without root (chroot(2) needs CAP_SYS_CHROOT), the test says so and
//! skips: a stale binary found lying in target/ would prove nothing about this commit.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::fixture::FixtureNode;

fn static_bin() -> Option<PathBuf> {
    let Some(bin) = std::env::var_os("KUBECIS_STATIC_BIN") else {
        eprintln!("skipped: KUBECIS_STATIC_BIN is not set (run .ci/static-chroot.sh)");
        return None;
    };
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: chroot needs root");
        return None;
    }
    let bin = PathBuf::from(bin);
    assert!(
        bin.is_file(),
        "KUBECIS_STATIC_BIN={} is not a file",
        bin.display()
    );
    Some(bin)
}

/// A new root holding only `/kubecis`.
fn jail(bin: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("kubecis");
    std::fs::copy(bin, &dest).unwrap();
    std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// chroot(8) from the test's own PATH: the child's environment is cleared below, so
/// the name cannot be left for Command to resolve.
fn chroot_cmd() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("chroot"))
        .find(|p| p.is_file())
        .expect("chroot(8) not found on PATH (coreutils)")
}

fn in_chroot(root: &Path, args: &[&str]) -> Output {
    Command::new(chroot_cmd())
        .arg(root)
        .arg("/kubecis")
        .args(args)
        // Nothing from the outside environment that could point back out of the jail.
        .env_clear()
        .output()
        .expect("running chroot")
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Everything under `root`, relative, sorted: the proof of what the jail held.
fn listing(root: &Path) -> Vec<String> {
    let mut v: Vec<String> = walkdir::WalkDir::new(root)
        .min_depth(1)
        .into_iter()
        .map(|e| {
            e.unwrap()
                .path()
                .strip_prefix(root)
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn static_binary_runs_alone_in_an_empty_root() {
    let Some(bin) = static_bin() else { return };
    let root = jail(&bin);
    assert_eq!(
        listing(root.path()),
        vec!["kubecis"],
        "the jail holds the binary only"
    );

    // `version` is the tool's version (`--version` is the Kubernetes version, as in
    // kube-bench).
    let version = in_chroot(root.path(), &["version"]);
    assert!(
        version.status.success(),
        "version in chroot:\n{}",
        text(&version)
    );
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("kubecis {}", env!("CARGO_PKG_VERSION")),
        "{}",
        text(&version)
    );

    let help = in_chroot(root.path(), &["--help"]);
    assert!(help.status.success(), "--help in chroot:\n{}", text(&help));
    assert!(
        String::from_utf8_lossy(&help.stdout).contains("run"),
        "--help lists the run command:\n{}",
        text(&help)
    );
}

/// Finds a program on the test's PATH.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The static binary audits a fixture node from inside a root that holds only itself, the
/// node (at /node) and the kernel's /proc, with the definitions embedded in it, and prints
/// the same report as the normal build run from outside. The node and /proc are bind-mounted
/// in a private mount namespace (unshare), so nothing is mounted on the machine itself.
#[test]
fn static_binary_audits_a_node_from_an_empty_root() {
    let Some(bin) = static_bin() else { return };
    let (Some(unshare), Some(mount)) = (which("unshare"), which("mount")) else {
        eprintln!("skipped: unshare and mount (util-linux) are needed");
        return;
    };
    let jail = jail(&bin);
    std::fs::create_dir(jail.path().join("node")).unwrap();
    std::fs::create_dir(jail.path().join("proc")).unwrap();
    assert_eq!(listing(jail.path()), vec!["kubecis", "node", "proc"]);

    let node = FixtureNode::materialize("kubeadm-control-plane");
    let args = [
        "run",
        "--targets",
        "master,controlplane,etcd,node",
        "--benchmark",
        "cis-1.23",
        "--json",
    ];
    let script = r#"set -e
jail=$1; node=$2; mount=$3; shift 3
"$mount" --bind "$node" "$jail/node"
"$mount" --bind /proc "$jail/proc"
exec chroot "$jail" /kubecis "$@" --root /node"#;
    let chrooted = Command::new(unshare)
        .args([
            "--mount",
            "--propagation",
            "private",
            "--",
            "/bin/sh",
            "-c",
            script,
            "sh",
        ])
        .arg(jail.path())
        .arg(node.root())
        .arg(mount)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap();
    assert!(
        chrooted.status.success(),
        "static binary in chroot:\n{}",
        text(&chrooted)
    );
    let outside = Command::new(env!("CARGO_BIN_EXE_kubecis"))
        .args(args)
        .arg("--root")
        .arg(node.root())
        // The bundled copy, as the jail has no cfg/ either.
        .current_dir(jail.path())
        .output()
        .unwrap();
    assert!(outside.status.success(), "{}", text(&outside));

    let inside: serde_json::Value = serde_json::from_slice(&chrooted.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", text(&chrooted)));
    let expected: serde_json::Value = serde_json::from_slice(&outside.stdout).unwrap();
    assert!(
        inside["Totals"]["total_pass"].as_u64().unwrap_or(0) > 0,
        "nothing passed in the chroot:\n{}",
        text(&chrooted)
    );
    assert_eq!(
        inside, expected,
        "the static binary in an empty root reports differently from the normal build"
    );
    // The bind mounts lived in the private namespace only.
    assert_eq!(
        std::fs::read_dir(jail.path().join("node")).unwrap().count(),
        0
    );
}
