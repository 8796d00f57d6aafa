//! `kubecis scan` through the binary: exit codes, `-` for standard input, JSON on stdout.
//!
//! Ignored until the `scan` subcommand is wired into `src/cli.rs` (`Scan(ScanArgs)` calling
//! `kubecis::policies::scan::run_stdio`).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pss")
        .join(rel)
}

fn kubecis() -> Command {
    let mut c = Command::cargo_bin("kubecis").unwrap();
    c.env("NO_COLOR", "1");
    c
}

#[test]

fn compliant_manifests_exit_0() {
    kubecis()
        .args(["scan", "--json"])
        .arg(fixture("charts/key-value-store.yaml"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"total_fail\":0"));
}

#[test]

fn violations_exit_1_and_are_listed() {
    kubecis()
        .args(["scan", "--level", "baseline"])
        .arg(fixture("charts/node-exporter.yaml"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "spec.template.spec.hostPID = true",
        ));
}

#[test]

fn stdin_and_version_flags() {
    let pod = "kind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {sysctls: [{name: net.ipv4.tcp_keepalive_time, value: '60'}]}\n  containers: [{name: c, image: nginx}]\n";
    kubecis()
        .args(["scan", "--level", "baseline", "--pss-version", "v1.28", "-"])
        .write_stdin(pod)
        .assert()
        .code(1);
    kubecis()
        .args(["scan", "--level", "baseline", "--pss-version", "v1.29", "-"])
        .write_stdin(pod)
        .assert()
        .code(0);
    kubecis()
        .args([
            "scan",
            "--allowed-registries",
            "registry.example.com",
            "--level=privileged",
            "-",
        ])
        .write_stdin(pod)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("docker.io/library/nginx"));
}

#[test]

fn malformed_input_exits_2() {
    kubecis()
        .arg("scan")
        .arg(fixture("malformed/bad-yaml.yaml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad-yaml.yaml:9:5 (document 2)"));
    kubecis()
        .args(["scan", "--pss-version", "v2.0", "-"])
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid Pod Security version"));
}
