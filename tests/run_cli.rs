//! The `kubecis run` command end to end on small, purpose-built nodes: real files with real
//! modes and owners in temp dirs, real component processes (through the fixture harness), and
//! definitions written for each test. Each test asserts what an operator would see: statuses,
//! reasons, the deciding source, exit codes and error messages.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::fixture::{self, FixtureNode};
use common::kubecis;
use serde_json::Value;
use tempfile::TempDir;

/// A definitions directory with one benchmark `t` and the given controls files.
fn definitions(config: &str, files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("config.yaml"), config).unwrap();
    fs::create_dir(dir.path().join("t")).unwrap();
    for (name, text) in files {
        fs::write(dir.path().join("t").join(name), text).unwrap();
    }
    dir
}

const CONFIG: &str = r#"
master:
  components: [apiserver]
  apiserver:
    bins: [kube-apiserver, "hyperkube apiserver"]
    confs: [/etc/kubernetes/manifests/kube-apiserver.yaml]
    defaultconf: /etc/kubernetes/manifests/kube-apiserver.yaml
    bool_flags: [--profiling, --anonymous-auth]
    list_flags: [--enable-admission-plugins]
node:
  components: [kubelet]
  kubelet:
    bins: [kubelet]
    confs: [/var/lib/kubelet/config.yaml]
    defaultconf: /var/lib/kubelet/config.yaml
    bool_flags: [--anonymous-auth]
    from_flags: {conf: --config}
version_mapping: {"1.23": t}
target_mapping:
  t: [master, node]
"#;

fn json_run(defs: &Path, root: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "run",
        "--config-dir",
        defs.to_str().unwrap(),
        "--root",
        root.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = kubecis(&args);
    assert!(code == 0 || code == 7, "exit {code}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// id → result object.
fn result<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["Controls"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["tests"].as_array().unwrap())
        .flat_map(|g| g["results"].as_array().unwrap())
        .find(|r| r["test_number"] == id)
        .unwrap_or_else(|| panic!("no result {id} in {report}"))
}

/// A fixture directory (node.yaml + root/) written by a test, for the harness.
fn node_dir(manifest: &str, files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n",
    )
    .unwrap();
    fs::write(root.join("etc/group"), "root:x:0:\nalice:x:1000:\n").unwrap();
    for (path, text) in files {
        let p = root.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    fs::write(dir.path().join("node.yaml"), manifest).unwrap();
    dir
}

const FILE_CHECKS: &str = r#"
id: 1
text: Control Plane
type: master
groups:
  - id: "1.1"
    text: Files
    checks:
      - id: 1.1.1
        text: apiserver manifest permissions
        audit: {file: $apiserverconf}
        tests: {test_items: [{flag: permissions, compare: {op: bitmask, value: "600"}}]}
        remediation: chmod 600 $apiserverconf
        scored: true
      - id: 1.1.2
        text: apiserver manifest owner
        audit: {file: $apiserverconf}
        tests: {test_items: [{flag: owner, compare: {op: eq, value: "root:root"}}]}
        scored: true
      - id: 1.1.3
        text: pki keys
        audit: {file: /etc/kubernetes/pki/*.key}
        tests: {test_items: [{flag: permissions, compare: {op: bitmask, value: "600"}}]}
        scored: true
      - id: 1.1.4
        text: pki ownership
        audit: {file: /etc/kubernetes/pki, recursive: true}
        tests: {test_items: [{flag: owner, compare: {op: eq, value: "root:root"}}]}
        scored: true
      - id: 1.1.5
        text: optional file
        audit: {file: /etc/kubernetes/absent.conf, on_missing: info}
        tests: {test_items: [{flag: permissions, compare: {op: bitmask, value: "600"}}]}
        scored: true
      - id: 1.1.6
        text: required file
        audit: {file: /etc/kubernetes/admin.conf}
        tests: {test_items: [{flag: permissions, compare: {op: bitmask, value: "600"}}]}
        scored: true
"#;

#[test]
fn file_audits_judge_real_modes_and_owners_and_never_pass_a_missing_file() {
    let defs = definitions(CONFIG, &[("master.yaml", FILE_CHECKS)]);
    let dir = node_dir(
        "files:\n  - {path: etc/kubernetes/manifests/kube-apiserver.yaml, mode: \"0644\"}\n  - {path: etc/kubernetes/pki/ca.key, mode: \"0600\"}\n  - {path: etc/kubernetes/pki/sa.key, mode: \"0640\", owner: alice}\n",
        &[
            ("etc/kubernetes/manifests/kube-apiserver.yaml", "kind: Pod\n"),
            ("etc/kubernetes/pki/ca.key", "placeholder\n"),
            ("etc/kubernetes/pki/sa.key", "placeholder\n"),
        ],
    );
    let node = FixtureNode::materialize_from(dir.path()).unwrap();
    let report = json_run(defs.path(), node.root(), &["--targets", "master"]);

    let r = result(&report, "1.1.1");
    assert_eq!(r["status"], "FAIL");
    assert_eq!(
        r["actual_value"],
        "/etc/kubernetes/manifests/kube-apiserver.yaml permissions=644"
    );
    assert_eq!(
        r["remediation"],
        "chmod 600 /etc/kubernetes/manifests/kube-apiserver.yaml"
    );
    assert_eq!(result(&report, "1.1.2")["status"], "PASS");

    // The glob selects both keys; only sa.key is too open, and it is named.
    let r = result(&report, "1.1.3");
    assert_eq!(r["status"], "FAIL");
    assert_eq!(
        r["findings"],
        serde_json::json!(["/etc/kubernetes/pki/sa.key permissions=640"])
    );

    let r = result(&report, "1.1.4");
    if fixture::skip_without_chown("file_audits ... pki ownership") {
        assert_eq!(r["status"], "PASS");
    } else {
        assert_eq!(r["status"], "FAIL");
        assert_eq!(
            r["findings"],
            serde_json::json!(["/etc/kubernetes/pki/sa.key owner=alice:root"])
        );
    }

    let r = result(&report, "1.1.5");
    assert_eq!(r["status"], "INFO");
    assert_eq!(r["reason"], "/etc/kubernetes/absent.conf: not found");
    let r = result(&report, "1.1.6");
    assert_eq!(r["status"], "WARN");
    assert_eq!(r["reason"], "/etc/kubernetes/admin.conf: not found");
}

#[test]
fn an_unreadable_file_is_a_warn_with_the_reason_not_a_pass() {
    use std::os::unix::process::CommandExt;
    // A directory kubecis may not enter. As root, kubecis runs as `nobody` so the kernel really
    // refuses; otherwise the test user's own 000 directory refuses it.
    let defs = definitions(CONFIG, &[("master.yaml", FILE_CHECKS)]);
    let root = tempfile::tempdir().unwrap();
    fs::set_permissions(root.path(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(defs.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let manifests = root.path().join("etc/kubernetes/manifests");
    fs::create_dir_all(&manifests).unwrap();
    fs::write(manifests.join("kube-apiserver.yaml"), "kind: Pod\n").unwrap();
    fs::set_permissions(
        root.path().join("etc/kubernetes"),
        fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    let as_root = nix::unistd::geteuid().is_root();
    if !as_root {
        fs::set_permissions(
            root.path().join("etc/kubernetes"),
            fs::Permissions::from_mode(0o000),
        )
        .unwrap();
    }
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("kubecis"));
    cmd.args(["run", "--config-dir"])
        .arg(defs.path())
        .arg("--root")
        .arg(root.path())
        .args(["--targets", "master", "--check", "1.1.1,1.1.2", "--json"]);
    if as_root {
        cmd.uid(65534).gid(65534);
    }
    let out = cmd.output().unwrap();
    fs::set_permissions(
        root.path().join("etc/kubernetes"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text} {}", String::from_utf8_lossy(&out.stderr)));
    for id in ["1.1.1", "1.1.2"] {
        let r = result(&report, id);
        assert_eq!(r["status"], "WARN", "{r}");
        assert_eq!(
            r["reason"],
            "/etc/kubernetes/manifests/kube-apiserver.yaml: permission denied"
        );
    }
}

const FLAG_CHECKS: &str = r#"
id: 1
text: Control Plane
type: master
groups:
  - id: "1.2"
    text: API Server
    checks:
      - id: 1.2.1
        text: profiling off
        audit: {process: apiserver}
        tests: {test_items: [{flag: --profiling, compare: {op: eq, value: false}}]}
        scored: true
      - id: 1.2.2
        text: authorization includes RBAC
        audit: {process: apiserver}
        tests: {test_items: [{flag: --authorization-mode, compare: {op: has, value: RBAC}}]}
        scored: true
      - id: 1.2.3
        text: read-only not set
        audit: {process: apiserver}
        tests: {test_items: [{flag: --read-only, set: false}]}
        scored: true
      - id: 1.2.4
        text: admission plugins accumulate
        audit: {process: apiserver}
        tests:
          bin_op: and
          test_items:
            - {flag: --enable-admission-plugins, compare: {op: has, value: NodeRestriction}}
            - {flag: --enable-admission-plugins, compare: {op: has, value: AlwaysPullImages}}
        scored: true
      - id: 1.2.5
        text: unscored failure is a warning
        audit: {process: apiserver}
        tests: {test_items: [{flag: --audit-log-path}]}
        scored: false
      - id: 1.2.6
        text: same flags read through a shell, token by token
        audit: "cat /proc/$(pgrep -x -n kube-apiserver)/cmdline | tr '\\0' ' '"
        tests:
          test_items:
            - {flag: --read-only, set: false}
            - {flag: --authorization-mode, compare: {op: eq, value: "Node,RBAC"}}
        scored: true
"#;

#[test]
fn process_flags_are_read_with_pflag_rules_from_a_real_process() {
    let defs = definitions(CONFIG, &[("master.yaml", FLAG_CHECKS)]);
    let dir = node_dir(
        r#"
processes:
  - binary: kube-apiserver
    argv0: /usr/local/bin/kube-apiserver
    args: ["--profiling", "false", "--authorization-mode", "Node,RBAC", "--read-only-port=10255",
           "--enable-admission-plugins=NodeRestriction", "--enable-admission-plugins", "AlwaysPullImages"]
"#,
        &[],
    );
    let node = FixtureNode::materialize_from(dir.path()).unwrap();
    let report = json_run(
        defs.path(),
        node.root(),
        &["--targets", "master", "--exit-code", "7"],
    );

    // A boolean flag never takes the next token: `--profiling false` is profiling=true.
    let r = result(&report, "1.2.1");
    assert_eq!(r["status"], "FAIL");
    assert_eq!(r["actual_value"], "--profiling=true");
    assert_eq!(
        r["source"],
        format!("command line of kube-apiserver (pid {})", node.pids()[0])
    );
    assert_eq!(result(&report, "1.2.2")["status"], "PASS");
    assert_eq!(
        result(&report, "1.2.3")["status"],
        "PASS",
        "--read-only is not --read-only-port"
    );
    assert_eq!(result(&report, "1.2.4")["status"], "PASS");
    assert_eq!(result(&report, "1.2.5")["status"], "WARN");
    let r = result(&report, "1.2.6");
    assert_eq!(r["status"], "PASS", "{r}");
    assert_eq!(r["source"], "audit output");
}

#[test]
fn a_component_that_is_not_running_warns_and_the_summary_says_so() {
    let defs = definitions(CONFIG, &[("master.yaml", FLAG_CHECKS)]);
    let root = tempfile::tempdir().unwrap();
    let (code, out, _) = kubecis(&[
        "run",
        "--config-dir",
        defs.path().to_str().unwrap(),
        "--root",
        root.path().to_str().unwrap(),
        "--targets",
        "master",
        "--check",
        "1.2.1,1.2.3",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("[WARN] 1.2.1 profiling off\n       reason: kube-apiserver not running\n"),
        "{out}"
    );
    assert!(out.contains("[WARN] 1.2.3 read-only not set\n"), "{out}");
    assert!(!out.contains("[PASS]"), "{out}");
    assert!(out.contains("== Summary master ==\n0 checks PASS\n0 checks FAIL\n2 checks WARN\n0 checks INFO\nnote: kube-apiserver not running\n"), "{out}");
}

const KUBELET_CHECKS: &str = r#"
id: 4
text: Worker Node
type: node
groups:
  - id: "4.2"
    text: Kubelet
    checks:
      - id: 4.2.1
        text: anonymous auth off
        audit: {process: kubelet}
        audit_config: {config: $kubeletconf}
        tests:
          test_items:
            - flag: --anonymous-auth
              path: '{.authentication.anonymous.enabled}'
              compare: {op: eq, value: false}
        remediation: edit $kubeletconf
        scored: true
      - id: 4.2.4
        text: read-only port 0
        audit: {process: kubelet}
        audit_config: {config: $kubeletconf}
        tests:
          test_items:
            - flag: --read-only-port
              path: '{.readOnlyPort}'
              compare: {op: eq, value: 0}
        scored: true
"#;

#[test]
fn kubelet_flag_wins_over_the_config_file_the_running_kubelet_reads() {
    let defs = definitions(CONFIG, &[("node.yaml", KUBELET_CHECKS)]);
    // The default path holds a compliant config; the kubelet reads another, relative to its cwd.
    let dir = node_dir(
        r#"
processes:
  - binary: kubelet
    args: ["--config=custom.yaml", "--anonymous-auth=false"]
    cwd: etc/kubelet
"#,
        &[
            (
                "var/lib/kubelet/config.yaml",
                "readOnlyPort: 0\nauthentication: {anonymous: {enabled: false}}\n",
            ),
            (
                "etc/kubelet/custom.yaml",
                "readOnlyPort: 10255\nauthentication: {anonymous: {enabled: true}}\n",
            ),
        ],
    );
    let node = FixtureNode::materialize_from(dir.path()).unwrap();
    let pid = node.pids()[0];
    let report = json_run(defs.path(), node.root(), &["--targets", "node"]);

    let r = result(&report, "4.2.1");
    assert_eq!(r["status"], "PASS", "the flag decides: {r}");
    assert_eq!(r["source"], format!("command line of kubelet (pid {pid})"));
    assert_eq!(
        r["remediation"],
        format!("edit /proc/{pid}/cwd/custom.yaml")
    );
    let r = result(&report, "4.2.4");
    assert_eq!(
        r["status"], "FAIL",
        "the file the kubelet reads decides: {r}"
    );
    assert_eq!(
        r["actual_value"],
        format!("--read-only-port not set, {{.readOnlyPort}}=10255 in /proc/{pid}/cwd/custom.yaml")
    );
    assert_eq!(
        r["source"],
        format!("config file /proc/{pid}/cwd/custom.yaml")
    );
}

#[test]
fn an_unparsable_or_missing_kubelet_config_never_passes() {
    let defs = definitions(CONFIG, &[("node.yaml", KUBELET_CHECKS)]);
    let dir = node_dir(
        "processes:\n  - binary: kubelet\n    args: [\"--config=/var/lib/kubelet/config.yaml\", \"--read-only-port=0\"]\n",
        &[("var/lib/kubelet/config.yaml", "authentication:\n  anonymous: {enabled: false\nreadOnlyPort: 0\n")],
    );
    let node = FixtureNode::materialize_from(dir.path()).unwrap();
    let report = json_run(defs.path(), node.root(), &["--targets", "node"]);
    let r = result(&report, "4.2.1");
    assert_eq!(r["status"], "WARN");
    let reason = r["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("/var/lib/kubelet/config.yaml:3:13: not valid YAML"),
        "the parse error names its line and column: {reason}"
    );
    // The flag is on the command line, so the broken file does not matter for this one.
    assert_eq!(result(&report, "4.2.4")["status"], "PASS");
    drop(node);

    let dir = node_dir(
        "processes:\n  - binary: kubelet\n    args: [\"--config=/var/lib/kubelet/missing.yaml\"]\n",
        &[],
    );
    let node = FixtureNode::materialize_from(dir.path()).unwrap();
    let report = json_run(defs.path(), node.root(), &["--targets", "node"]);
    for id in ["4.2.1", "4.2.4"] {
        let r = result(&report, id);
        assert_eq!(r["status"], "WARN");
        assert_eq!(r["reason"], "/var/lib/kubelet/missing.yaml: not found");
    }
}

#[test]
fn a_malformed_definition_names_file_line_and_field_and_exits_2() {
    let bad = FLAG_CHECKS.replace("op: has, value: RBAC", "op: hass, value: RBAC");
    let defs = definitions(CONFIG, &[("master.yaml", &bad)]);
    let (code, out, err) = kubecis(&[
        "run",
        "--config-dir",
        defs.path().to_str().unwrap(),
        "--targets",
        "master",
    ]);
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    let file = defs.path().join("t/master.yaml");
    let (place, message) = err.split_once(": ").unwrap();
    assert_eq!(place, "kubecis");
    let want_file = format!("{}:17:", file.display());
    assert!(message.starts_with(&want_file), "{err}");
    assert!(
        message.contains(": groups[0].checks[1].tests.test_items[0].compare.op: unknown variant `hass`, expected one of eq,"),
        "{err}"
    );
    assert_eq!(
        message.matches("groups[0]").count(),
        1,
        "the field is named once: {err}"
    );
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    let defs = definitions(CONFIG, &[("master.yaml", FLAG_CHECKS)]);
    let d = defs.path().to_str().unwrap();
    let (code, _, err) = kubecis(&["run", "--config-dir", d, "--targets", "etcd"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("benchmark t has no target etcd (has: master, node)"),
        "{err}"
    );
    let (code, _, err) = kubecis(&["run", "--config-dir", d, "--version", "1.30"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no benchmark is mapped to Kubernetes version 1.30"),
        "{err}"
    );
    let (code, _, err) = kubecis(&["run", "--bogus"]);
    assert_eq!(code, 2);
    assert!(err.contains("--bogus"), "{err}");
}

#[test]
fn selection_flags_and_exit_code_work_like_kube_bench() {
    let defs = definitions(CONFIG, &[("master.yaml", FILE_CHECKS)]);
    let dir = node_dir(
        "files:\n  - {path: etc/kubernetes/manifests/kube-apiserver.yaml, mode: \"0644\"}\n",
        &[(
            "etc/kubernetes/manifests/kube-apiserver.yaml",
            "kind: Pod\n",
        )],
    );
    let node = FixtureNode::materialize_from(dir.path()).unwrap();
    let d = defs.path().to_str().unwrap();
    let r = node.root().to_str().unwrap();
    let (code, out, _) = kubecis(&[
        "--config-dir",
        d,
        "--root",
        r,
        "--targets",
        "master",
        "--check",
        "1.1.1,1.1.2",
        "--skip",
        "1.1.2",
        "--exit-code",
        "7",
        "--noremediations",
        "--nosummary",
    ]);
    assert_eq!(code, 7, "a FAIL with --exit-code 7: {out}");
    assert_eq!(
        out,
        "[INFO] 1 Control Plane\n[INFO] 1.1 Files\n[FAIL] 1.1.1 apiserver manifest permissions\n[INFO] 1.1.2 apiserver manifest owner\n\n"
    );
    let (code, out, _) = kubecis(&[
        "run",
        "--config-dir",
        d,
        "--root",
        r,
        "--targets",
        "master",
        "--check",
        "1.1.2",
        "--exit-code",
        "7",
    ]);
    assert_eq!(code, 0, "no FAIL: {out}");
    assert!(!out.contains('\u{1b}'), "no colour when not on a terminal");
    let (_, out, _) = kubecis(&[
        "run",
        "--config-dir",
        d,
        "--root",
        r,
        "--targets",
        "master",
        "--scored=false",
    ]);
    assert!(
        out.contains("0 checks PASS\n0 checks FAIL\n0 checks WARN\n0 checks INFO"),
        "{out}"
    );
}

#[test]
fn json_output_validates_against_the_documented_schema() {
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json");
    let schema: Value = serde_json::from_str(&fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::JSONSchema::compile(&schema).expect("schema compiles");
    let defs = definitions(
        CONFIG,
        &[("master.yaml", FILE_CHECKS), ("node.yaml", KUBELET_CHECKS)],
    );
    let dir = node_dir(
        "files:\n  - {path: etc/kubernetes/manifests/kube-apiserver.yaml, mode: \"0600\"}\n",
        &[(
            "etc/kubernetes/manifests/kube-apiserver.yaml",
            "kind: Pod\n",
        )],
    );
    let node = FixtureNode::materialize_from(dir.path()).unwrap();
    let report = json_run(defs.path(), node.root(), &["--targets", "master,node"]);
    let errors: Vec<String> = match validator.validate(&report) {
        Ok(()) => Vec::new(),
        Err(errs) => errs
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect(),
    };
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(report["Totals"]["total_pass"], 2);
    // A PASS with a reason, or a wrong status, is rejected by the same schema.
    let mut broken = report.clone();
    broken["Controls"][0]["tests"][0]["results"][0]["reason"] = "x".into();
    assert!(!validator.is_valid(&broken));
    broken["Controls"][0]["tests"][0]["results"][0]["status"] = "OK".into();
    assert!(!validator.is_valid(&broken));
}

#[test]
fn junit_output_is_xml_with_failures_for_fail_only() {
    let defs = definitions(CONFIG, &[("master.yaml", FILE_CHECKS)]);
    let root = tempfile::tempdir().unwrap();
    let out_file: PathBuf = root.path().join("report.xml");
    let (code, stdout, err) = kubecis(&[
        "run",
        "--config-dir",
        defs.path().to_str().unwrap(),
        "--root",
        root.path().to_str().unwrap(),
        "--targets",
        "master",
        "--junit",
        "--outputfile",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.is_empty());
    let xml = fs::read_to_string(out_file).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(
        xml.contains("<testsuites name=\"kubecis\" tests=\"6\" failures=\"0\">"),
        "{xml}"
    );
    assert!(
        xml.contains(
            "<skipped message=\"WARN: /etc/kubernetes/manifests/kube-apiserver.yaml: not found\">"
        ),
        "{xml}"
    );
}

const CNI_CONFIG: &str = r#"
master:
  components: [apiserver]
  apiserver:
    bins: [kube-apiserver]
node:
  components: [kubelet, proxy]
  kubelet:
    bins: [kubelet]
  proxy:
    optional: true
    bins: [kube-proxy]
    kubeconfig: [/var/lib/kube-proxy/kubeconfig.conf]
    defaultkubeconfig: /var/lib/kube-proxy/kubeconfig.conf
    from_flags: {conf: --config, kubeconfig: --kubeconfig}
    from_config: {kubeconfig: '{.clientConnection.kubeconfig}'}
    paths_in_process_root: true
version_mapping: {"1.23": t}
target_mapping:
  t: [master, node]
"#;

const CNI_CHECKS: &str = r#"
id: 1
text: Control Plane
type: master
groups:
  - id: "1.1"
    text: Files
    checks:
      - id: 1.1.9
        text: CNI files 644
        audit: {file: '${flag:kubelet:--cni-conf-dir:-/etc/cni/net.d}/*'}
        tests: {test_items: [{flag: permissions, compare: {op: bitmask, value: "644"}}]}
        remediation: chmod 644 ${flag:kubelet:--cni-conf-dir:-/etc/cni/net.d}/*
        scored: true
"#;

/// `${flag:kubelet:--cni-conf-dir:-/etc/cni/net.d}`: the directory the kubelet names, its
/// default when it names none, and no verdict at all when no kubelet runs.
#[test]
fn a_flag_default_is_used_only_when_the_component_runs_without_the_flag() {
    let defs = definitions(CNI_CONFIG, &[("master.yaml", CNI_CHECKS)]);
    let files = [
        ("etc/cni/net.d/10-calico.conflist", "{}"),
        ("opt/cni/conf/10-flannel.conflist", "{}"),
    ];
    // The default directory holds a world-writable file, the moved one does not.
    let modes = "files:\n  - {path: etc/cni/net.d/10-calico.conflist, mode: \"0666\"}\n";
    let run = |processes: &str| {
        let dir = node_dir(&format!("{modes}{processes}"), &files);
        let node = FixtureNode::materialize_from(dir.path()).unwrap();
        let report = json_run(defs.path(), node.root(), &["--targets", "master"]);
        result(&report, "1.1.9").clone()
    };

    let r = run(
        "processes:\n  - {binary: kubelet, args: [\"--config=/var/lib/kubelet/config.yaml\"]}\n",
    );
    assert_eq!(r["status"], "FAIL", "the default directory is judged: {r}");
    assert_eq!(r["audit"], "file: /etc/cni/net.d/*");
    assert_eq!(
        r["actual_value"],
        "/etc/cni/net.d/10-calico.conflist permissions=666"
    );

    let r = run("processes:\n  - {binary: kubelet, args: [\"--cni-conf-dir=/opt/cni/conf\"]}\n");
    assert_eq!(
        r["status"], "PASS",
        "the kubelet's own directory is judged: {r}"
    );
    assert_eq!(r["remediation"], "chmod 644 /opt/cni/conf/*");

    let r = run("processes: []\n");
    assert_eq!(r["status"], "WARN", "{r}");
    assert_eq!(r["reason"], "kubelet not running");
}

const PROXY_CHECKS: &str = r#"
id: 4
text: Worker Node
type: node
groups:
  - id: "4.1"
    text: Files
    checks:
      - id: 4.1.3
        text: proxy kubeconfig 644
        audit: {file: $proxykubeconfig, on_missing: info}
        tests: {test_items: [{flag: permissions, compare: {op: bitmask, value: "644"}}]}
        scored: true
"#;

/// A containerized kube-proxy's kubeconfig is judged in its own root, not by a file at the
/// same path on the host: here the host copy is compliant and the one kube-proxy reads is not.
#[test]
fn a_containerized_component_is_judged_on_the_files_it_reads() {
    if !fixture::can_chroot() {
        eprintln!("skipped: needs root to chroot");
        return;
    }
    let defs = definitions(CNI_CONFIG, &[("node.yaml", PROXY_CHECKS)]);
    let proxy_config = "clientConnection: {kubeconfig: /var/lib/kube-proxy/kubeconfig.conf}\n";
    let dir = node_dir(
        r#"
files:
  - {path: var/lib/kube-proxy/kubeconfig.conf, mode: "0600"}
  - {path: pod/var/lib/kube-proxy/kubeconfig.conf, mode: "0666"}
processes:
  - {binary: kubelet}
  - binary: kube-proxy
    args: [--config=/var/lib/kube-proxy/config.conf]
    root: pod
"#,
        &[
            ("var/lib/kube-proxy/config.conf", proxy_config),
            ("var/lib/kube-proxy/kubeconfig.conf", "host copy"),
            ("pod/var/lib/kube-proxy/config.conf", proxy_config),
            (
                "pod/var/lib/kube-proxy/kubeconfig.conf",
                "what kube-proxy reads",
            ),
        ],
    );
    let node = FixtureNode::materialize_from(dir.path()).unwrap();
    let pid = node.pids()[1];
    let report = json_run(defs.path(), node.root(), &["--targets", "node"]);
    let r = result(&report, "4.1.3");
    assert_eq!(r["status"], "FAIL", "{r}");
    assert_eq!(
        r["actual_value"],
        format!("/proc/{pid}/root/var/lib/kube-proxy/kubeconfig.conf permissions=666")
    );
}

#[test]
fn sarif_output_has_one_rule_per_check_and_results_for_fail_and_warn() {
    let defs = definitions(CONFIG, &[("master.yaml", FILE_CHECKS)]);
    let dir = node_dir(
        "files:\n  - {path: etc/kubernetes/manifests/kube-apiserver.yaml, mode: \"0644\"}\n",
        &[(
            "etc/kubernetes/manifests/kube-apiserver.yaml",
            "kind: Pod\n",
        )],
    );
    let node = FixtureNode::materialize_from(dir.path()).unwrap();
    let (code, out, err) = kubecis(&[
        "run",
        "--config-dir",
        defs.path().to_str().unwrap(),
        "--root",
        node.root().to_str().unwrap(),
        "--targets",
        "master",
        "--format",
        "sarif",
    ]);
    assert_eq!(code, 0, "{err}");
    let log: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 6, "one rule per check");
    let results = run["results"].as_array().unwrap();
    // 1.1.1 FAILs (644 > 600); 1.1.3, 1.1.4 and 1.1.6 WARN (no pki directory, no admin.conf);
    // 1.1.2 PASSes and 1.1.5 is INFO: neither is a result.
    let levels: Vec<(&str, &str)> = results
        .iter()
        .map(|r| (r["ruleId"].as_str().unwrap(), r["level"].as_str().unwrap()))
        .collect();
    assert_eq!(
        levels,
        [
            ("1.1.1", "error"),
            ("1.1.3", "warning"),
            ("1.1.4", "warning"),
            ("1.1.6", "warning")
        ]
    );
    let fail = &results[0];
    assert_eq!(
        rules[fail["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "1.1.1"
    );
    assert_eq!(
        fail["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "file:///etc/kubernetes/manifests/kube-apiserver.yaml"
    );
    assert!(fail["message"]["text"]
        .as_str()
        .unwrap()
        .contains("Observed: /etc/kubernetes/manifests/kube-apiserver.yaml permissions=644"));
}
