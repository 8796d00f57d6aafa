//! `kubecis scan` through its library entry point ([`scan::run`]): exit codes, report shape,
//! standard input, output files, image registries and malformed input.

use std::path::{Path, PathBuf};

use kubecis::policies::pss::{Level, Version};
use kubecis::policies::scan::{self, ScanArgs, ScanFormat};
use kubecis::report::model::{Report, Status};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pss")
        .join(rel)
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_with(args: &ScanArgs, stdin: &str) -> Run {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = scan::run(args, &mut stdin.as_bytes(), &mut out, &mut err);
    Run {
        code,
        stdout: String::from_utf8(out).unwrap(),
        stderr: String::from_utf8(err).unwrap(),
    }
}

fn json_args(paths: Vec<PathBuf>) -> ScanArgs {
    let mut a = ScanArgs::new(paths);
    a.format = Some(ScanFormat::Json);
    a
}

fn report_of(args: &ScanArgs, stdin: &str) -> (i32, Report) {
    let r = run_with(args, stdin);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    (
        r.code,
        serde_json::from_str(&r.stdout).expect("JSON report"),
    )
}

#[test]
fn a_restricted_chart_exits_0_with_one_group_per_workload() {
    let (code, report) = report_of(&json_args(vec![fixture("charts/key-value-store.yaml")]), "");
    assert_eq!(code, 0);
    let c = &report.controls[0];
    assert_eq!(c.id, "scan");
    assert_eq!(c.version, "restricted:latest");
    let groups: Vec<&str> = c.tests.iter().map(|g| g.text.as_str()).collect();
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert!(groups[0].starts_with("StatefulSet/data/kv-store ("));
    assert!(groups[1].starts_with("CronJob/data/kv-store-backup ("));
    for g in &c.tests {
        assert_eq!(g.results.len(), 15, "every restricted control at latest");
        assert_eq!(g.pass, 15);
    }
    assert_eq!(report.totals.fail, 0);
    assert!(
        c.notes
            .iter()
            .any(|n| n.contains("Secret/data/kv-store")
                && n.contains("Service/data/kv-store-headless")),
        "{:?}",
        c.notes
    );
}

#[test]
fn violations_exit_1_and_name_object_control_path_and_value() {
    let mut args = json_args(vec![fixture("charts/node-exporter.yaml")]);
    args.level = Level::Baseline;
    let (code, report) = report_of(&args, "");
    assert_eq!(code, 1);
    let g = &report.controls[0].tests[0];
    assert!(g.text.starts_with("DaemonSet/monitoring/node-exporter"));
    let failed: Vec<&str> = g
        .results
        .iter()
        .filter(|r| r.status == Status::Fail)
        .map(|r| r.text.as_str())
        .collect();
    assert_eq!(
        failed,
        [
            "Host Namespaces (hostNamespaces)",
            "HostPath Volumes (hostPathVolumes)",
            "Host Ports (hostPorts)"
        ]
    );
    let host = g
        .results
        .iter()
        .find(|r| r.text.starts_with("Host Namespaces"))
        .unwrap();
    assert_eq!(
        host.findings,
        [
            "spec.template.spec.hostNetwork = true (must be unset or false)",
            "spec.template.spec.hostPID = true (must be unset or false)"
        ]
    );
    assert!(host.source.contains("node-exporter.yaml (document"));
    assert!(!host.remediation.is_empty());
    assert_eq!(report.totals.fail, 3);
}

#[test]
fn the_level_and_version_decide() {
    // The ingress controller meets baseline but not restricted.
    let mut args = json_args(vec![fixture("charts/ingress-controller.yaml")]);
    args.level = Level::Baseline;
    assert_eq!(report_of(&args, "").0, 0);
    args.level = Level::Restricted;
    assert_eq!(report_of(&args, "").0, 1);
    args.level = Level::Privileged;
    let (code, report) = report_of(&args, "");
    assert_eq!(code, 0);
    assert!(report.results().all(|r| r.status == Status::Pass));

    // A sysctl that became safe in v1.27.
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext:\n    sysctls: [{name: net.ipv4.ip_local_reserved_ports, value: '30000'}]\n  containers: [{name: c, image: nginx}]\n";
    let mut args = json_args(vec!["-".into()]);
    args.level = Level::Baseline;
    args.pss_version = Version::Minor(26);
    assert_eq!(report_of(&args, pod).0, 1);
    args.pss_version = Version::Minor(27);
    assert_eq!(report_of(&args, pod).0, 0);
}

#[test]
fn stdin_is_read_for_dash_and_named_in_the_report() {
    let text = std::fs::read_to_string(fixture("kinds.yaml")).unwrap();
    let (code, report) = report_of(&json_args(vec!["-".into()]), &text);
    assert_eq!(code, 1);
    let c = &report.controls[0];
    assert_eq!(c.tests.len(), 16);
    assert!(c.tests.iter().all(|g| g.text.contains("(- (document")));
    let failing: Vec<&str> = c
        .tests
        .iter()
        .filter(|g| g.fail > 0)
        .map(|g| g.text.split(' ').next().unwrap())
        .collect();
    assert_eq!(failing.len(), 8);
    assert!(failing.iter().all(|n| n.ends_with("-bad")), "{failing:?}");
}

#[test]
fn directories_are_walked() {
    let (code, report) = report_of(&json_args(vec![fixture("charts")]), "");
    assert_eq!(code, 1);
    // 2 in the ingress chart, 1 in node-exporter, 2 in the key-value store.
    assert_eq!(report.controls[0].tests.len(), 5);
}

#[test]
fn malformed_input_exits_2_naming_file_document_and_field() {
    let r = run_with(&json_args(vec![fixture("malformed/bad-yaml.yaml")]), "");
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains("bad-yaml.yaml:9:5 (document 2)"),
        "{}",
        r.stderr
    );

    let r = run_with(&json_args(vec![fixture("malformed/no-template.yaml")]), "");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("Deployment/apps/no-template: spec.template.spec: missing"),
        "{}",
        r.stderr
    );

    let r = run_with(
        &json_args(vec!["-".into()]),
        "kind: Pod\n---\n- just\n- a list\n",
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("- (document 2)"), "{}", r.stderr);

    let r = run_with(&json_args(vec![fixture("does-not-exist.yaml")]), "");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("does-not-exist.yaml"), "{}", r.stderr);
}

#[test]
fn images_must_come_from_allowed_registries() {
    let mut args = json_args(vec![fixture("charts/key-value-store.yaml")]);
    args.allowed_registries = vec!["registry.example.com/mirror".into()];
    let (code, report) = report_of(&args, "");
    assert_eq!(code, 0);
    let images = report
        .results()
        .filter(|r| r.text == "Image registries")
        .count();
    assert_eq!(images, 2);

    args.allowed_registries = vec![
        "docker.io/library".into(),
        "registry.example.com/mirr".into(),
    ];
    let (code, report) = report_of(&args, "");
    assert_eq!(code, 1);
    let r = report
        .results()
        .find(|r| r.text == "Image registries" && r.status == Status::Fail)
        .unwrap();
    assert_eq!(
        r.findings[0],
        "spec.template.spec.initContainers[0].image = \"registry.example.com/mirror/os-shell:12\" (registry.example.com/mirror/os-shell:12 is not under an allowed registry prefix)"
    );

    // A bare image name is Docker Hub's library.
    let pod = "kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: nginx}]}\n";
    let mut args = json_args(vec!["-".into()]);
    args.level = Level::Baseline;
    args.allowed_registries = vec!["docker.io/library".into()];
    assert_eq!(report_of(&args, pod).0, 0);
    args.allowed_registries = vec!["registry.example.com".into()];
    assert_eq!(report_of(&args, pod).0, 1);
}

#[test]
fn the_report_can_go_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let mut args = json_args(vec![fixture("charts/key-value-store.yaml")]);
    args.output = Some(out.clone());
    let r = run_with(&args, "");
    assert_eq!(r.code, 0);
    assert!(r.stdout.is_empty());
    let report: Report = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(report.controls[0].tests.len(), 2);

    args.output = Some(dir.path().join("missing-dir/report.json"));
    let r = run_with(&args, "");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("missing-dir/report.json"), "{}", r.stderr);
}

#[test]
fn input_without_workloads_is_a_warning_not_a_pass() {
    let (code, report) = report_of(
        &json_args(vec!["-".into()]),
        "kind: ConfigMap\nmetadata: {name: c}\n",
    );
    assert_eq!(code, 0);
    assert_eq!(report.totals.pass, 0);
    assert_eq!(report.totals.warn, 1);
}

#[test]
fn text_output_lists_findings_under_each_failure() {
    let mut args = ScanArgs::new(vec![fixture("charts/node-exporter.yaml")]);
    args.level = Level::Baseline;
    let r = run_with(&args, "");
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("[FAIL] 1.2 Host Namespaces (hostNamespaces)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("spec.template.spec.hostPID = true"),
        "{}",
        r.stdout
    );
}
