//! `kubecis scan`: judge manifests (files, directories, stdin) against a Pod Security Standards
//! level before they reach a cluster, and optionally check that every image comes from an
//! allowed registry.
//!
//! The result is an ordinary [`Report`], so the text, JSON and JUnit reporters render it. Its
//! shape: one `ControlsResult` ("scan"), one `GroupResult` per workload object, one
//! `CheckResult` per control of the level (plus "Image registries" when allowed registries are
//! given). Grouping by object rather than by control is deliberate: a manifest is fixed one
//! object at a time, and the per-group counts then say which objects need work; every finding
//! still names the control, the full field path and the value.
//!
//! Exit codes: 0 when every workload meets the level (and every image is allowed), 1 when any
//! does not, 2 when the input cannot be read or is malformed (the message names the file and
//! document, and for a broken pod template the object and field).

use std::io::{self, Read, Write};
use std::path::PathBuf;

use serde_json::Value;

use super::objects::{Objects, ObjectsError};
use super::pss::{self, Level, Version, Violation};
use super::workloads::{self, TemplateError, Workload};
use crate::report::model::{CheckResult, ControlsResult, GroupResult, Report, Status};
use crate::report::{self, text::TextOptions};

/// Output formats of `kubecis scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanFormat {
    Text,
    Json,
    Junit,
    Sarif,
}

/// The arguments of `kubecis scan`.
#[derive(Debug, Clone, clap::Args)]
pub struct ScanArgs {
    /// Pod Security Standards level every workload must meet.
    #[arg(long, value_enum, default_value_t = Level::Restricted)]
    pub level: Level,
    /// Policy version, as in pod-security.kubernetes.io/enforce-version: latest or v1.<minor>.
    #[arg(long = "pss-version", value_name = "VERSION", default_value = "latest",
          value_parser = parse_version)]
    pub pss_version: Version,
    /// Registry prefixes images must come from, comma separated (e.g.
    /// registry.example.com,docker.io/library). An image without a registry is docker.io's.
    #[arg(
        long = "allowed-registries",
        value_name = "PREFIX",
        value_delimiter = ','
    )]
    pub allowed_registries: Vec<String>,
    /// Print the report as JSON (same as --format json).
    #[arg(long)]
    pub json: bool,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: Option<ScanFormat>,
    /// Write the report to this file instead of standard output.
    #[arg(
        long = "outputfile",
        visible_alias = "output",
        short = 'o',
        value_name = "FILE"
    )]
    pub output: Option<PathBuf>,
    /// No colours in the text report.
    #[arg(long = "no-color")]
    pub no_color: bool,
    /// Manifests to scan: files, directories (every .yaml, .yml and .json below), or - for
    /// standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

fn parse_version(s: &str) -> Result<Version, pss::ParseError> {
    s.parse()
}

impl ScanArgs {
    /// Arguments with every default, for `paths`.
    pub fn new(paths: Vec<PathBuf>) -> ScanArgs {
        ScanArgs {
            level: Level::Restricted,
            pss_version: Version::Latest,
            allowed_registries: Vec::new(),
            json: false,
            format: None,
            output: None,
            no_color: true,
            paths,
        }
    }

    pub fn format(&self) -> ScanFormat {
        match (self.format, self.json) {
            (Some(f), _) => f,
            (None, true) => ScanFormat::Json,
            _ => ScanFormat::Text,
        }
    }
}

/// Why a scan could not judge its input.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Objects(#[from] ObjectsError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("{path}: {source}")]
    Output {
        path: String,
        #[source]
        source: io::Error,
    },
}

/// The outcome of a scan: the report and the exit code it implies.
#[derive(Debug, Clone)]
pub struct ScanOutcome {
    pub report: Report,
    pub exit_code: i32,
}

/// Exit code: every workload meets the level.
pub const EXIT_OK: i32 = 0;
/// Exit code: some workload violates the level or uses an image from elsewhere.
pub const EXIT_VIOLATIONS: i32 = 1;
/// Exit code: the input could not be read or is malformed.
pub const EXIT_INPUT_ERROR: i32 = 2;

/// `kubecis scan` end to end: reads the paths (`-` from `stdin`), writes the report to the
/// output file or `out`, reports errors on `err`, and returns the exit code.
pub fn run(args: &ScanArgs, stdin: &mut dyn Read, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    run_colored(args, stdin, out, err, false)
}

fn run_colored(
    args: &ScanArgs,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
    err: &mut dyn Write,
    color: bool,
) -> i32 {
    let result = load(&args.paths, stdin)
        .map_err(ScanError::from)
        .and_then(|objects| scan(&objects, args))
        .and_then(|outcome| {
            write_report(args, &outcome.report, out, color)?;
            Ok(outcome.exit_code)
        });
    match result {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(err, "kubecis scan: {e}");
            EXIT_INPUT_ERROR
        }
    }
}

/// [`run`] on the process's standard streams, in colour when writing to a terminal (unless
/// `--no-color` or `NO_COLOR`). This is what `kubecis scan` calls.
pub fn run_stdio(args: &ScanArgs) -> i32 {
    use std::io::IsTerminal;
    let color = args.output.is_none()
        && io::stdout().is_terminal()
        && !args.no_color
        && std::env::var_os("NO_COLOR").is_none();
    colored::control::set_override(color);
    let mut out = io::BufWriter::new(io::stdout().lock());
    let code = run_colored(
        args,
        &mut io::stdin().lock(),
        &mut out,
        &mut io::stderr().lock(),
        color,
    );
    match out.flush() {
        Ok(()) => code,
        Err(e) => {
            eprintln!("kubecis scan: standard output: {e}");
            EXIT_INPUT_ERROR
        }
    }
}

/// Reads every path into one object set; `-` reads `stdin` (once, however often it is named).
pub fn load(paths: &[PathBuf], stdin: &mut dyn Read) -> Result<Objects, ObjectsError> {
    Objects::load_with_stdin(paths, stdin)
}

/// Judges every workload in `objects`; a malformed pod template is an error.
pub fn scan(objects: &Objects, args: &ScanArgs) -> Result<ScanOutcome, ScanError> {
    let found = workloads::workloads(objects)?;
    let checks = pss::active_checks(args.level, args.pss_version);
    let allowed: Vec<String> = args
        .allowed_registries
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(normalize_prefix)
        .collect();

    let mut groups = Vec::new();
    for (i, w) in found.iter().enumerate() {
        let group_id = (i + 1).to_string();
        let mut results = Vec::new();
        let violations = pss::evaluate(&w.template, args.level, args.pss_version);
        for (j, check) in checks.iter().enumerate() {
            let mine: Vec<&Violation> = violations.iter().filter(|v| v.check == check.id).collect();
            results.push(control_result(
                format!("{group_id}.{}", j + 1),
                check,
                args,
                w,
                &mine,
            ));
        }
        if args.level == Level::Privileged {
            results.push(privileged_result(format!("{group_id}.1"), w));
        }
        if !allowed.is_empty() {
            let n = results.len() + 1;
            results.push(image_result(format!("{group_id}.{n}"), w, &allowed));
        }
        groups.push(GroupResult {
            id: group_id,
            group_type: String::new(),
            pass: 0,
            fail: 0,
            warn: 0,
            info: 0,
            text: format!("{} ({})", w.object.display_name(), w.object.origin),
            results,
        });
    }

    let mut notes = Vec::new();
    let skipped: Vec<String> = objects
        .items
        .iter()
        .filter(|o| !workloads::has_pod_template(o.kind()))
        .map(|o| o.display_name())
        .collect();
    if !skipped.is_empty() {
        notes.push(format!(
            "{} object(s) without a pod template not judged: {}",
            skipped.len(),
            skipped.join(", ")
        ));
    }
    let owned = objects
        .items
        .iter()
        .filter(|o| workloads::has_pod_template(o.kind()))
        .count()
        - found.len();
    if owned > 0 {
        notes.push(format!(
            "{owned} object(s) judged through their controller (ownerReferences) in the input"
        ));
    }
    if found.is_empty() {
        groups.push(GroupResult {
            id: "1".into(),
            group_type: String::new(),
            pass: 0,
            fail: 0,
            warn: 0,
            info: 0,
            text: "Input".into(),
            results: vec![CheckResult {
                id: "1.1".into(),
                text: "Workloads to judge".into(),
                audit: audit_text(args),
                audit_env: String::new(),
                audit_config: String::new(),
                check_type: String::new(),
                remediation: "Pass manifests that contain Pods or pod controllers (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, ReplicationController).".into(),
                test_info: Vec::new(),
                status: Status::Warn,
                actual_value: format!("{} object(s), none with a pod template", objects.items.len()),
                scored: true,
                is_multiple: false,
                expected_result: "at least one workload".into(),
                reason: "no objects with a pod template in the input".into(),
                source: String::new(),
                findings: Vec::new(),
            }],
        });
    }

    let controls = ControlsResult {
        id: "scan".into(),
        version: format!("{}:{}", args.level, args.pss_version),
        detected_version: format!("v1.{}", args.pss_version.effective_minor()),
        text: format!(
            "Pod Security Standards {}:{} (policy v1.{})",
            args.level,
            args.pss_version,
            args.pss_version.effective_minor()
        ),
        node_type: "scan".into(),
        tests: groups,
        totals: Default::default(),
        notes,
    };
    let report = Report::new(vec![controls]);
    let exit_code = if report.totals.fail > 0 {
        EXIT_VIOLATIONS
    } else {
        EXIT_OK
    };
    Ok(ScanOutcome { report, exit_code })
}

fn audit_text(args: &ScanArgs) -> String {
    format!("pss {}:{}", args.level, args.pss_version)
}

fn control_result(
    id: String,
    check: &pss::CheckDef,
    args: &ScanArgs,
    w: &Workload<'_>,
    violations: &[&Violation],
) -> CheckResult {
    let status = if violations.is_empty() {
        Status::Pass
    } else {
        Status::Fail
    };
    CheckResult {
        id,
        text: format!("{} ({})", check.control, check.id),
        audit: format!("{} check {}", audit_text(args), check.id),
        audit_env: String::new(),
        audit_config: String::new(),
        check_type: String::new(),
        remediation: remediation(check.id).into(),
        test_info: Vec::new(),
        status,
        actual_value: match violations.len() {
            0 => "compliant".into(),
            n => format!("{n} field(s) violate {}", check.id),
        },
        scored: true,
        is_multiple: false,
        expected_result: check.summary.into(),
        reason: String::new(),
        source: w.object.origin.to_string(),
        findings: violations.iter().map(|v| v.to_string()).collect(),
    }
}

fn privileged_result(id: String, w: &Workload<'_>) -> CheckResult {
    CheckResult {
        id,
        text: "Pod Security Standard privileged".into(),
        audit: "pss privileged".into(),
        audit_env: String::new(),
        audit_config: String::new(),
        check_type: String::new(),
        remediation: String::new(),
        test_info: Vec::new(),
        status: Status::Pass,
        actual_value: "the privileged level places no restrictions".into(),
        scored: true,
        is_multiple: false,
        expected_result: "anything".into(),
        reason: String::new(),
        source: w.object.origin.to_string(),
        findings: Vec::new(),
    }
}

/// Remediation for a failed control, in our own words.
fn remediation(check: &str) -> &'static str {
    match check {
        "windowsHostProcess" => "Remove securityContext.windowsOptions.hostProcess (or set it to false) on the pod and its containers; run host-level Windows agents outside restricted namespaces.",
        "hostNamespaces" => "Remove hostNetwork, hostPID and hostIPC from the pod spec (or set them to false); expose ports through a Service instead of the node's network.",
        "privileged" => "Remove securityContext.privileged: true; grant the one capability the container needs instead of all of them.",
        "capabilities_baseline" => "Remove capabilities beyond the runtime's default set from securityContext.capabilities.add (NET_RAW, SYS_ADMIN, NET_ADMIN, ...).",
        "hostPathVolumes" => "Replace hostPath volumes with emptyDir, configMap, secret or a PersistentVolumeClaim.",
        "hostPorts" => "Remove hostPort from the container ports; publish the port with a Service (NodePort or LoadBalancer) instead.",
        "hostProbesAndHostLifecycle" => "Remove host from the probes' and lifecycle hooks' httpGet/tcpSocket: they must target the pod itself.",
        "appArmorProfile" => "Set the AppArmor profile to RuntimeDefault or a Localhost profile (or leave it unset); never Unconfined.",
        "seLinuxOptions" => "Leave seLinuxOptions.user and .role unset and use an allowed type (container_t, container_init_t, container_kvm_t, container_engine_t) or none.",
        "procMount" | "procMount_restricted" => "Remove securityContext.procMount or set it to Default so /proc stays masked.",
        "seccompProfile_baseline" => "Do not set the seccomp profile to Unconfined; use RuntimeDefault or a Localhost profile.",
        "sysctls" => "Set only sysctls of the safe set; configure other kernel parameters on the node.",
        "restrictedVolumes" => "Use only configMap, secret, emptyDir, projected, downwardAPI, csi, ephemeral, image or persistentVolumeClaim volumes; move other storage behind a PersistentVolumeClaim.",
        "allowPrivilegeEscalation" => "Set securityContext.allowPrivilegeEscalation: false on every container, init and ephemeral container.",
        "runAsNonRoot" => "Set securityContext.runAsNonRoot: true on the pod (or every container) and build the image to run as a non-root user.",
        "runAsUser" => "Do not set runAsUser: 0; run as a non-zero UID.",
        "seccompProfile_restricted" => "Set securityContext.seccompProfile.type: RuntimeDefault on the pod (or Localhost with a profile).",
        "capabilities_restricted" => "Set securityContext.capabilities.drop: [\"ALL\"] on every container and add back at most NET_BIND_SERVICE.",
        _ => "",
    }
}

// ---------------------------------------------------------------------------------------------
// Image registries.

/// Docker Hub's names for itself.
fn canonical_host(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".into()
        }
        _ => host,
    }
}

fn looks_like_host(component: &str) -> bool {
    component.contains('.') || component.contains(':') || component == "localhost"
}

/// The fully qualified form of an image reference, as a container runtime resolves it:
/// `nginx` is `docker.io/library/nginx`, `bitnami/redis:7` is `docker.io/bitnami/redis:7`.
pub fn normalize_image(image: &str) -> String {
    match image.split_once('/') {
        None => format!("docker.io/library/{image}"),
        Some((first, rest)) if looks_like_host(first) => {
            let host = canonical_host(first);
            if host == "docker.io" && !rest.contains('/') {
                format!("docker.io/library/{rest}")
            } else {
                format!("{host}/{rest}")
            }
        }
        Some(_) => format!("docker.io/{image}"),
    }
}

/// An allowed-registry prefix in the same form: a first component that is not a host means a
/// Docker Hub namespace (`bitnami` is `docker.io/bitnami`).
pub fn normalize_prefix(prefix: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    let (first, rest) = prefix.split_once('/').unwrap_or((prefix, ""));
    let mut out = if looks_like_host(first) || first == "docker.io" {
        canonical_host(first)
    } else {
        format!("docker.io/{first}")
    };
    if !rest.is_empty() {
        out.push('/');
        out.push_str(rest);
    }
    out
}

/// True when the normalized image lies under the normalized prefix, at a path boundary
/// (`registry.example.com/team` allows `registry.example.com/team/app`, not
/// `registry.example.com/teamster/app`).
pub fn image_allowed(image: &str, prefix: &str) -> bool {
    image == prefix
        || image
            .strip_prefix(prefix)
            .is_some_and(|rest| matches!(rest.chars().next(), Some('/' | ':' | '@')))
}

fn image_result(id: String, w: &Workload<'_>, allowed: &[String]) -> CheckResult {
    let mut findings = Vec::new();
    for (path, c) in w.template.containers() {
        let path = format!("{path}.image");
        match c
            .get("image")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            None => findings.push(format!(
                "{path} = {} (no image)",
                c.get("image")
                    .map(Value::to_string)
                    .unwrap_or_else(|| "<unset>".into())
            )),
            Some(image) => {
                let norm = normalize_image(image);
                if !allowed.iter().any(|p| image_allowed(&norm, p)) {
                    findings.push(format!(
                        "{path} = \"{image}\" ({norm} is not under an allowed registry prefix)"
                    ));
                }
            }
        }
    }
    CheckResult {
        id,
        text: "Image registries".into(),
        audit: format!("images under {}", allowed.join(", ")),
        audit_env: String::new(),
        audit_config: String::new(),
        check_type: String::new(),
        remediation:
            "Pull every image from an allowed registry (mirror third-party images into it).".into(),
        test_info: Vec::new(),
        status: if findings.is_empty() {
            Status::Pass
        } else {
            Status::Fail
        },
        actual_value: findings
            .first()
            .cloned()
            .unwrap_or_else(|| "every image from an allowed registry".into()),
        scored: true,
        is_multiple: false,
        expected_result: format!("every image under one of: {}", allowed.join(", ")),
        reason: String::new(),
        source: w.object.origin.to_string(),
        findings,
    }
}

// ---------------------------------------------------------------------------------------------
// Output.

fn write_report(
    args: &ScanArgs,
    report: &Report,
    out: &mut dyn Write,
    color: bool,
) -> Result<(), ScanError> {
    match &args.output {
        Some(path) => {
            let io_err = |source| ScanError::Output {
                path: path.display().to_string(),
                source,
            };
            let mut file = io::BufWriter::new(std::fs::File::create(path).map_err(io_err)?);
            render(args, report, &mut file, false).map_err(io_err)?;
            file.flush().map_err(io_err)
        }
        None => render(args, report, out, color).map_err(|source| ScanError::Output {
            path: "standard output".into(),
            source,
        }),
    }
}

/// Renders the report with the shared reporters. Text always shows the findings under each
/// failure: for a scan they are the answer, not detail.
pub fn render(args: &ScanArgs, report: &Report, w: &mut dyn Write, color: bool) -> io::Result<()> {
    match args.format() {
        ScanFormat::Json => report::json::write(report, w),
        ScanFormat::Junit => report::junit::write(report, w),
        ScanFormat::Sarif => report::sarif::write(report, w),
        ScanFormat::Text => {
            let opts = TextOptions {
                test_output: true,
                color,
                ..TextOptions::default()
            };
            report::text::write(report, &opts, w)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_normalized_like_a_runtime_resolves_them() {
        let cases = [
            ("nginx", "docker.io/library/nginx"),
            ("nginx:1.25", "docker.io/library/nginx:1.25"),
            ("bitnami/redis:7", "docker.io/bitnami/redis:7"),
            ("docker.io/nginx", "docker.io/library/nginx"),
            (
                "index.docker.io/library/nginx@sha256:ab",
                "docker.io/library/nginx@sha256:ab",
            ),
            (
                "registry.k8s.io/kube-proxy:v1.29.0",
                "registry.k8s.io/kube-proxy:v1.29.0",
            ),
            ("localhost:5000/app", "localhost:5000/app"),
            ("localhost/app", "localhost/app"),
            (
                "Quay.io/prometheus/node-exporter",
                "quay.io/prometheus/node-exporter",
            ),
        ];
        for (image, want) in cases {
            assert_eq!(normalize_image(image), want, "{image}");
        }
        assert_eq!(normalize_prefix("bitnami"), "docker.io/bitnami");
        assert_eq!(
            normalize_prefix("registry.example.com/"),
            "registry.example.com"
        );
        assert_eq!(
            normalize_prefix("index.docker.io/library"),
            "docker.io/library"
        );
    }

    #[test]
    fn prefixes_match_at_path_boundaries_only() {
        let img = normalize_image("registry.example.com/team/app:1");
        assert!(image_allowed(&img, "registry.example.com"));
        assert!(image_allowed(&img, "registry.example.com/team"));
        assert!(image_allowed(&img, "registry.example.com/team/app"));
        assert!(!image_allowed(&img, "registry.example.com/tea"));
        assert!(!image_allowed(&img, "registry.example"));
        assert!(image_allowed(
            &normalize_image("nginx"),
            &normalize_prefix("docker.io/library")
        ));
        assert!(!image_allowed(
            &normalize_image("evil/nginx"),
            &normalize_prefix("docker.io/library")
        ));
        assert!(!image_allowed(
            &normalize_image("registry.example.com.evil.io/app"),
            "registry.example.com"
        ));
    }
}
