//! kube-bench's definitions run unchanged: shell audits through `/bin/sh` (`stat -c`, `ps -fC`,
//! `cat`), `$variables` substituted into them, `audit_config` with `path` items, `bin_op` after
//! `test_items`, `use_multiple_values`, `audit_env`, `type: skip` groups and fields kubecis does
//! not use (`constraints`). The definitions below are written in kube-bench's style and
//! exercise its constructs; the audits really run `ps`, `stat` and `cat` against a real kubelet
//! stand-in and real files.

mod common;

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use common::fixture::FixtureNode;
use serde_json::Value;

/// kube-bench's `config.yaml` layout: components without binaries (`kubernetes`), `optional`,
/// an empty `policies` target, mappings. `{dir}` is replaced with the test's temp directory, so
/// the shell audits (which run on the live system) see the same files kubecis stats.
const CONFIG: &str = r#"---
## Controls Files.
master:
  components:
    - apiserver
    - kubernetes
  kubernetes:
    defaultconf: /etc/kubernetes/config
  apiserver:
    bins:
      - "kube-apiserver"
      - "hyperkube apiserver"
    defaultconf: /etc/kubernetes/manifests/kube-apiserver.yaml
node:
  components:
    - kubelet
    - proxy
    - kubernetes
  kubernetes:
    defaultconf: "/etc/kubernetes/config"
  kubelet:
    svc:
      - "{dir}/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"
    bins:
      - "hyperkube kubelet"
      - "kubelet"
    confs:
      - "{dir}/var/lib/kubelet/config.yaml"
    defaultconf: "{dir}/var/lib/kubelet/config.yaml"
    defaultsvc: "{dir}/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"
    defaultkubeconfig: "/etc/kubernetes/kubelet.conf"
  proxy:
    optional: true
    bins:
      - "kube-proxy"
    defaultkubeconfig: "/etc/kubernetes/proxy.conf"
policies:
  components: []
version_mapping:
  "1.23": "kb-1.23"
target_mapping:
  "kb-1.23":
    - "master"
    - "node"
    - "policies"
"#;

const NODE: &str = r#"---
controls:
version: "kb-1.23"
id: 4
text: "Worker Node Security Configuration"
type: "node"
groups:
  - id: 4.1
    text: "Worker Node Configuration Files"
    checks:
      - id: 4.1.1
        text: "kubelet service file permissions are 644 or more restrictive (Automated)"
        audit: '/bin/sh -c ''if test -e $kubeletsvc; then stat -c permissions=%a $kubeletsvc; fi'' '
        tests:
          test_items:
            - flag: "permissions"
              compare:
                op: bitmask
                value: "644"
        remediation: |
          chmod 644 $kubeletsvc
        scored: true

      - id: 4.1.2
        text: "kubelet service file ownership is root:root (Automated)"
        audit: '/bin/sh -c "stat -c %U:%G $kubeletsvc"'
        tests:
          bin_op: or
          test_items:
            - flag: root:root
        remediation: chown root:root $kubeletsvc
        scored: true

      - id: 4.1.9
        text: "every file of the kubelet directory is 644 or more restrictive (Automated)"
        audit: "find $(dirname $kubeletconf) -type f -exec stat -c permissions=%a {} \\;"
        use_multiple_values: true
        tests:
          test_items:
            - flag: "permissions"
              compare:
                op: bitmask
                value: "644"
        remediation: chmod 644 $kubeletconf
        scored: true

  - id: 4.2
    text: "Kubelet"
    checks:
      - id: 4.2.1
        text: "Ensure that the --anonymous-auth argument is set to false (Automated)"
        audit: "/bin/ps -fC $kubeletbin"
        audit_config: "/bin/cat $kubeletconf"
        tests:
          test_items:
            - flag: "--anonymous-auth"
              path: '{.authentication.anonymous.enabled}'
              compare:
                op: eq
                value: false
        remediation: set anonymous auth off in $kubeletconf
        scored: true

      - id: 4.2.4
        text: "Ensure that the --read-only-port argument is set to 0 (Manual)"
        audit: "/bin/ps -fC $kubeletbin"
        audit_config: "/bin/cat $kubeletconf"
        tests:
          test_items:
            - flag: "--read-only-port"
              path: '{.readOnlyPort}'
              compare:
                op: eq
                value: 0
            - flag: "--read-only-port"
              path: '{.readOnlyPort}'
              set: false
          bin_op: or
        remediation: readOnlyPort 0
        scored: false

      - id: 4.2.6
        text: "Ensure that the --protect-kernel-defaults argument is set to true (Automated)"
        audit: "/bin/ps -fC $kubeletbin"
        audit_config: "/bin/cat $kubeletconf"
        tests:
          test_items:
            - flag: --protect-kernel-defaults
              path: '{.protectKernelDefaults}'
              compare:
                op: eq
                value: true
        remediation: protectKernelDefaults true
        scored: true

      - id: 4.2.8
        text: "Ensure that the --hostname-override argument is not set (Manual)"
        audit: "/bin/ps -fC $kubeletbin "
        tests:
          test_items:
            - flag: --hostname-override
              set: false
        remediation: remove --hostname-override
        scored: false

      - id: 4.2.14
        text: "the kubelet does not run with a proxy in its environment"
        audit: "/bin/ps -fC $kubeletbin"
        audit_env: "cat /proc/$(pidof -s kubelet)/environ | tr '\\0' '\\n'"
        tests:
          test_items:
            - flag: "--no-proxy-flag"
              env: "HTTPS_PROXY"
              set: false
        remediation: unset HTTPS_PROXY
        scored: true

      - id: 4.2.15
        text: "kube-proxy: --hostname-override is not set"
        audit: "/bin/ps -fC $proxybin"
        tests:
          test_items:
            - flag: --hostname-override
              set: false
        scored: true

  - id: 4.3
    text: "Skipped on this platform"
    type: skip
    constraints:
      platform:
        - eks
    checks:
      - id: 4.3.1
        text: "not applicable here"
        audit: "false"
        tests:
          test_items:
            - flag: x
        scored: true
"#;

#[test]
fn kube_bench_style_definitions_run_unchanged_through_the_shell() {
    for tool in ["/bin/sh", "/bin/ps", "/bin/cat"] {
        if !Path::new(tool).exists() {
            eprintln!("skipped: {tool} not on this machine (kube-bench's audits need it)");
            return;
        }
    }
    // The kubelet reads a config that fails 4.2.1 and 4.2.6 and passes 4.2.4; its command line
    // sets --protect-kernel-defaults=true, which must win over the file for 4.2.6.
    let node_dir = tempfile::tempdir().unwrap();
    let root = node_dir.path().join("root");
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::write(root.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    fs::write(root.join("etc/group"), "root:x:0:\n").unwrap();
    fs::write(
        node_dir.path().join("node.yaml"),
        "processes:\n  - binary: kubelet\n    args: [\"--protect-kernel-defaults=true\", \"--config=/var/lib/kubelet/config.yaml\"]\n    env: {HTTPS_PROXY: \"http://proxy.internal:3128\"}\n",
    )
    .unwrap();
    let node = FixtureNode::materialize_from(node_dir.path()).unwrap();
    let dir = node.root();
    // Files at real paths: the shell audits see them where the definitions say.
    let svc = dir.join("etc/systemd/system/kubelet.service.d/10-kubeadm.conf");
    fs::create_dir_all(svc.parent().unwrap()).unwrap();
    fs::write(&svc, "[Service]\n").unwrap();
    fs::set_permissions(&svc, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    let conf = dir.join("var/lib/kubelet/config.yaml");
    fs::create_dir_all(conf.parent().unwrap()).unwrap();
    fs::write(
        &conf,
        "authentication:\n  anonymous:\n    enabled: true\nreadOnlyPort: 0\nprotectKernelDefaults: false\n",
    )
    .unwrap();
    let extra = dir.join("var/lib/kubelet/kubeadm-flags.env");
    fs::write(&extra, "KUBELET_KUBEADM_ARGS=\"\"\n").unwrap();
    fs::set_permissions(&extra, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();

    let cfg = tempfile::tempdir().unwrap();
    fs::write(
        cfg.path().join("config.yaml"),
        CONFIG.replace("{dir}", &dir.display().to_string()),
    )
    .unwrap();
    fs::create_dir(cfg.path().join("kb-1.23")).unwrap();
    fs::write(cfg.path().join("kb-1.23/node.yaml"), NODE).unwrap();

    let out = Command::cargo_bin("kubecis")
        .unwrap()
        .args(["--config-dir"])
        .arg(cfg.path())
        .args(["--version", "1.23", "--targets", "node", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results: Vec<&Value> = report["Controls"][0]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["results"].as_array().unwrap())
        .collect();
    let get = |id: &str| {
        *results
            .iter()
            .find(|r| r["test_number"] == id)
            .unwrap_or_else(|| panic!("{id} missing"))
    };
    let status = |id: &str| get(id)["status"].as_str().unwrap().to_string();

    assert_eq!(status("4.1.1"), "PASS", "{}", get("4.1.1"));
    assert_eq!(get("4.1.1")["actual_value"], "permissions=640");
    assert!(get("4.1.1")["audit"]
        .as_str()
        .unwrap()
        .contains(&svc.display().to_string()));
    assert_eq!(status("4.1.2"), "PASS", "{}", get("4.1.2"));
    // use_multiple_values: every file of the directory must pass; the 666 one does not.
    assert_eq!(status("4.1.9"), "FAIL", "{}", get("4.1.9"));
    assert_eq!(
        get("4.1.9")["findings"],
        serde_json::json!(["permissions=666"])
    );
    // ps output, token by token: the flag is absent, so the config file (cat) decides.
    assert_eq!(status("4.2.1"), "FAIL", "{}", get("4.2.1"));
    assert_eq!(get("4.2.1")["source"], "audit output");
    assert_eq!(status("4.2.4"), "PASS", "{}", get("4.2.4"));
    // The command line wins over the file.
    assert_eq!(status("4.2.6"), "PASS", "{}", get("4.2.6"));
    assert_eq!(status("4.2.8"), "PASS");
    // audit_env: the proxy variable of the real process's environment is found.
    assert_eq!(status("4.2.14"), "FAIL", "{}", get("4.2.14"));
    assert!(
        get("4.2.14")["actual_value"]
            .as_str()
            .unwrap()
            .contains("HTTPS_PROXY=http://proxy.internal:3128"),
        "{}",
        get("4.2.14")
    );
    // kube-proxy is not running: `ps -fC` prints its header and exits 1. That is no evidence,
    // so the `set: false` test must not pass (kube-bench reports PASS here).
    assert_eq!(status("4.2.15"), "WARN", "{}", get("4.2.15"));
    assert!(
        get("4.2.15")["reason"]
            .as_str()
            .unwrap()
            .starts_with("audit command failed (exit status: 1)"),
        "{}",
        get("4.2.15")
    );
    // A `type: skip` group is INFO, its audit never run.
    assert_eq!(status("4.3.1"), "INFO");
}
