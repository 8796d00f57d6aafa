//! The Pod Security Standards, judged the way Kubernetes' PodSecurity admission controller
//! (`k8s.io/pod-security-admission/policy`) judges them: the same checks, the same policy
//! versions, the same allowed values, the same pod-versus-container inheritance.
//!
//! The model mirrors the admission controller's registry on purpose, so a difference between
//! the two is a visible row in [`CHECKS`], not a surprise:
//! - a check has a level (baseline or restricted) and the policy versions at which it was
//!   introduced and revised (upstream's `VersionedCheck` minimum versions); each revision is an
//!   explicit `minor >= N` test in its function, or a row of a versioned table
//!   ([`SAFE_SYSCTLS`], [`SELINUX_TYPES`]);
//! - *restricted* is every baseline check, minus the baseline checks a restricted check
//!   overrides (e.g. `restrictedVolumes` replaces `hostPathVolumes`), plus the restricted checks;
//! - *privileged* runs nothing;
//! - `latest`, and any version newer than the newest check revision, resolve to
//!   [`LATEST_MINOR`], as the admission controller clamps to its registry's newest version;
//! - init, regular and ephemeral containers are all visited.
//!
//! The registry reproduced here is the one of Kubernetes 1.37 (newest check revision: policy
//! v1.37, the `sysctls` safe set). Behaviour the admission controller patched into a check's
//! v1.0 function rather than versioning (the AppArmor *fields* and the `image` volume type)
//! applies at every version here too, because that is what a current API server does with a
//! pinned `enforce-version`.
//!
//! Pods are judged as the admission controller sees them, that is after the API server's
//! defaulting: a volume that names no source is an `emptyDir` volume.
//!
//! `tests/pss_official.rs` holds the evaluator to pod-security-admission's own fixtures (every
//! level and policy version, pass and fail).

pub mod checks;

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::policies::workloads::PodTemplate;

/// The newest policy version with a check revision (1.37: two more safe sysctls), which
/// `latest` means; the newest of every [`CheckDef::versions`].
pub const LATEST_MINOR: u32 = 37;

/// A Pod Security Standards level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A level or version that does not parse, with the text that was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("unknown Pod Security level {0:?} (expected privileged, baseline or restricted)")]
    Level(String),
    #[error("invalid Pod Security version {0:?} (expected latest or v1.<minor>, e.g. v1.25)")]
    Version(String),
}

impl FromStr for Level {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Level, ParseError> {
        match s {
            "privileged" => Ok(Level::Privileged),
            "baseline" => Ok(Level::Baseline),
            "restricted" => Ok(Level::Restricted),
            _ => Err(ParseError::Level(s.to_string())),
        }
    }
}

/// A policy version: `latest` or `v1.<minor>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    Latest,
    /// Kubernetes 1.<minor>; any minor the label syntax allows, newer ones included.
    Minor(u64),
}

impl Version {
    /// The minor version whose checks apply: `latest` and anything newer than the newest check
    /// revision resolve to [`LATEST_MINOR`].
    pub fn effective_minor(self) -> u32 {
        match self {
            Version::Latest => LATEST_MINOR,
            Version::Minor(m) => u32::try_from(m).map_or(LATEST_MINOR, |m| m.min(LATEST_MINOR)),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Latest => f.write_str("latest"),
            Version::Minor(m) => write!(f, "v1.{m}"),
        }
    }
}

impl FromStr for Version {
    type Err = ParseError;
    /// `latest`, `v1.25` (the label syntax) or `1.25` (also accepted on the command line).
    fn from_str(s: &str) -> Result<Version, ParseError> {
        if s == "latest" {
            return Ok(Version::Latest);
        }
        parse_version(s.strip_prefix('v').unwrap_or(s)).ok_or_else(|| ParseError::Version(s.into()))
    }
}

impl Version {
    /// The label syntax the admission controller accepts (`ParseVersion`): `latest` or
    /// `v1.<minor>`, the minor without leading zeros and within Go's `int`. Any such minor is
    /// valid; one newer than [`LATEST_MINOR`] is evaluated as [`LATEST_MINOR`].
    pub fn parse_label(s: &str) -> Option<Version> {
        if s == "latest" {
            return Some(Version::Latest);
        }
        parse_version(s.strip_prefix('v')?)
    }
}

fn parse_version(s: &str) -> Option<Version> {
    let minor = s.strip_prefix("1.")?;
    let digits_ok = !minor.is_empty()
        && minor.bytes().all(|b| b.is_ascii_digit())
        && (minor == "0" || !minor.starts_with('0'));
    if !digits_ok {
        return None;
    }
    // strconv.Atoi on a 64-bit int: a longer number is an error upstream too.
    let minor: i64 = minor.parse().ok()?;
    u64::try_from(minor).ok().map(Version::Minor)
}

/// One field that breaks one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The admission controller's check id, e.g. `capabilities_restricted`.
    pub check: &'static str,
    /// The control's name in the Pod Security Standards, e.g. `Capabilities`.
    pub control: &'static str,
    /// The full field path in the object, e.g.
    /// `spec.template.spec.containers[0].securityContext.privileged`.
    pub path: String,
    /// The offending value as JSON, or `<unset>` when a required field is missing.
    pub value: String,
    /// What the standard requires of this field.
    pub requirement: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {} ({})", self.path, self.value, self.requirement)
    }
}

/// A check of the standard.
pub struct CheckDef {
    pub id: &'static str,
    pub control: &'static str,
    /// What the check allows, in one line.
    pub summary: &'static str,
    /// Baseline or Restricted.
    pub level: Level,
    /// The policy minor versions (1.<n>) at which the check was introduced and then revised,
    /// ascending: upstream's `VersionedCheck` minimum versions. The first is when it starts to
    /// apply; each later one is a `minor >= n` behaviour in the check.
    pub versions: &'static [u32],
    /// Baseline checks this (restricted) check replaces when it is active.
    pub overrides: &'static [&'static str],
    run: fn(&Ctx<'_>) -> Vec<Violation>,
}

impl fmt::Debug for CheckDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckDef")
            .field("id", &self.id)
            .field("level", &self.level)
            .field("versions", &self.versions)
            .finish()
    }
}

impl CheckDef {
    /// The first policy minor version the check applies at.
    pub fn since(&self) -> u32 {
        self.versions[0]
    }

    /// Runs this check alone at `version` (no level or override logic).
    pub fn run(&self, pod: &PodTemplate<'_>, version: Version) -> Vec<Violation> {
        let ctx = Ctx {
            pod,
            minor: version.effective_minor(),
            check: self,
        };
        (self.run)(&ctx)
    }
}

/// Every check, in the order the standard's page lists the controls.
pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        id: "windowsHostProcess",
        control: "HostProcess",
        summary: "windowsOptions.hostProcess unset or false on the pod and every container",
        level: Level::Baseline,
        versions: &[0],
        overrides: &[],
        run: windows_host_process,
    },
    CheckDef {
        id: "hostNamespaces",
        control: "Host Namespaces",
        summary: "hostNetwork, hostPID and hostIPC unset or false",
        level: Level::Baseline,
        versions: &[0],
        overrides: &[],
        run: host_namespaces,
    },
    CheckDef {
        id: "privileged",
        control: "Privileged Containers",
        summary: "securityContext.privileged unset or false on every container",
        level: Level::Baseline,
        versions: &[0],
        overrides: &[],
        run: privileged,
    },
    CheckDef {
        id: "capabilities_baseline",
        control: "Capabilities",
        summary: "capabilities.add only from the runtime default set (AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT)",
        level: Level::Baseline,
        versions: &[0],
        overrides: &[],
        run: capabilities_baseline,
    },
    CheckDef {
        id: "hostPathVolumes",
        control: "HostPath Volumes",
        summary: "no hostPath volumes",
        level: Level::Baseline,
        versions: &[0],
        overrides: &[],
        run: host_path_volumes,
    },
    CheckDef {
        id: "hostPorts",
        control: "Host Ports",
        summary: "ports[*].hostPort unset or 0 on every container",
        level: Level::Baseline,
        versions: &[0],
        overrides: &[],
        run: host_ports,
    },
    CheckDef {
        id: "hostProbesAndHostLifecycle",
        control: "Host Probes / Lifecycle Hooks",
        summary: "probes and lifecycle hooks set no httpGet.host or tcpSocket.host",
        level: Level::Baseline,
        versions: &[34],
        overrides: &[],
        run: host_probes_and_lifecycle,
    },
    CheckDef {
        id: "appArmorProfile",
        control: "AppArmor",
        summary: "AppArmor profile RuntimeDefault or Localhost (annotations: runtime/default or localhost/*), or unset",
        level: Level::Baseline,
        versions: &[0],
        overrides: &[],
        run: app_armor,
    },
    CheckDef {
        id: "seLinuxOptions",
        control: "SELinux",
        summary: "seLinuxOptions.type unset or container_t, container_init_t, container_kvm_t (container_engine_t from v1.31); user and role unset",
        level: Level::Baseline,
        versions: &[0, 31],
        overrides: &[],
        run: se_linux,
    },
    CheckDef {
        id: "procMount",
        control: "/proc Mount Type",
        summary: "securityContext.procMount unset or Default",
        level: Level::Baseline,
        versions: &[0, 35],
        overrides: &[],
        run: proc_mount_baseline,
    },
    CheckDef {
        id: "seccompProfile_baseline",
        control: "Seccomp",
        summary: "seccomp profile unset, RuntimeDefault or Localhost (never Unconfined)",
        level: Level::Baseline,
        versions: &[0, 19],
        overrides: &[],
        run: seccomp_baseline,
    },
    CheckDef {
        id: "sysctls",
        control: "Sysctls",
        summary: "only sysctls of the safe set of the policy version",
        level: Level::Baseline,
        versions: &[0, 27, 29, 32, 37],
        overrides: &[],
        run: sysctls,
    },
    CheckDef {
        id: "restrictedVolumes",
        control: "Volume Types",
        summary: "volumes only of type configMap, csi, downwardAPI, emptyDir (also a volume naming no source), ephemeral, image, persistentVolumeClaim, projected or secret",
        level: Level::Restricted,
        versions: &[0],
        overrides: &["hostPathVolumes"],
        run: restricted_volumes,
    },
    CheckDef {
        id: "allowPrivilegeEscalation",
        control: "Privilege Escalation",
        summary: "securityContext.allowPrivilegeEscalation false on every container",
        level: Level::Restricted,
        versions: &[8, 25],
        overrides: &[],
        run: allow_privilege_escalation,
    },
    CheckDef {
        id: "runAsNonRoot",
        control: "Running as Non-root",
        summary: "runAsNonRoot true on the pod, or on every container",
        level: Level::Restricted,
        versions: &[0, 35],
        overrides: &[],
        run: run_as_non_root,
    },
    CheckDef {
        id: "runAsUser",
        control: "Running as Non-root user",
        summary: "runAsUser never 0",
        level: Level::Restricted,
        versions: &[23, 35],
        overrides: &[],
        run: run_as_user,
    },
    CheckDef {
        id: "seccompProfile_restricted",
        control: "Seccomp",
        summary: "seccompProfile.type RuntimeDefault or Localhost on the pod, or on every container",
        level: Level::Restricted,
        versions: &[19, 25],
        overrides: &["seccompProfile_baseline"],
        run: seccomp_restricted,
    },
    CheckDef {
        id: "capabilities_restricted",
        control: "Capabilities",
        summary: "capabilities.drop includes ALL; capabilities.add at most NET_BIND_SERVICE",
        level: Level::Restricted,
        versions: &[22, 25],
        overrides: &["capabilities_baseline"],
        run: capabilities_restricted,
    },
    CheckDef {
        id: "procMount_restricted",
        control: "/proc Mount Type",
        summary: "securityContext.procMount unset or Default",
        level: Level::Restricted,
        versions: &[35],
        overrides: &["procMount"],
        run: proc_mount_restricted,
    },
];

/// The check with this admission-controller id.
pub fn check(id: &str) -> Option<&'static CheckDef> {
    CHECKS.iter().find(|c| c.id == id)
}

/// The checks that run at `level` and `version`, after restricted overrides.
pub fn active_checks(level: Level, version: Version) -> Vec<&'static CheckDef> {
    if level == Level::Privileged {
        return Vec::new();
    }
    let minor = version.effective_minor();
    let mut active: Vec<&CheckDef> = CHECKS
        .iter()
        .filter(|c| {
            c.since() <= minor && (c.level == Level::Baseline || level == Level::Restricted)
        })
        .collect();
    let overridden: HashSet<&str> = active
        .iter()
        .flat_map(|c| c.overrides.iter().copied())
        .collect();
    active.retain(|c| !overridden.contains(c.id));
    active
}

/// True when a namespace enforcing `level`/`version` runs the check `id` on every admitted pod.
pub fn enforces(level: Level, version: Version, id: &str) -> bool {
    active_checks(level, version).iter().any(|c| c.id == id)
}

/// Judges one pod template against a level at a version: every offending field, by check.
pub fn evaluate(pod: &PodTemplate<'_>, level: Level, version: Version) -> Vec<Violation> {
    active_checks(level, version)
        .into_iter()
        .flat_map(|c| c.run(pod, version))
        .collect()
}

/// [`evaluate`] for a bare pod (`spec` and `metadata` of a Pod object).
pub fn evaluate_pod(
    pod_spec: &Value,
    pod_meta: &Value,
    level: Level,
    version: Version,
) -> Vec<Violation> {
    evaluate(&PodTemplate::pod(pod_spec, pod_meta), level, version)
}

// ---------------------------------------------------------------------------------------------
// How a namespace's labels select a policy.

/// The label that selects the enforced level.
pub const ENFORCE_LABEL: &str = "pod-security.kubernetes.io/enforce";
/// The label that pins the enforced level's version.
pub const ENFORCE_VERSION_LABEL: &str = "pod-security.kubernetes.io/enforce-version";

/// The policy a namespace enforces, as the admission controller reads its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespacePolicy {
    pub level: Level,
    pub version: Version,
    /// Whether the enforce label is present at all (absent: the cluster default applies).
    pub labelled: bool,
    /// Label values that did not parse, each with what replaces it: the admission controller
    /// (`PolicyToEvaluate`) uses restricted for a bad level and latest for a bad version, each
    /// on its own, and so do we.
    pub problems: Vec<String>,
}

impl NamespacePolicy {
    /// Reads `metadata.labels` of a Namespace. Without an enforce label the built-in default,
    /// privileged, is assumed: an API server AdmissionConfiguration may set another default,
    /// but that is not visible in API objects.
    pub fn from_namespace(ns: &Value) -> NamespacePolicy {
        let labels = ns.pointer("/metadata/labels");
        let label = |k: &str| labels.and_then(|l| l.get(k));
        let mut problems = Vec::new();
        let (level, labelled) = match label(ENFORCE_LABEL) {
            None | Some(Value::Null) => (Level::Privileged, false),
            Some(v) => match v.as_str().map(str::parse::<Level>) {
                Some(Ok(level)) => (level, true),
                _ => {
                    problems.push(format!(
                        "{ENFORCE_LABEL}={} is not a level; the admission controller enforces restricted",
                        compact(v)
                    ));
                    (Level::Restricted, true)
                }
            },
        };
        let version = match label(ENFORCE_VERSION_LABEL) {
            None | Some(Value::Null) => Version::Latest,
            Some(v) => match v.as_str().and_then(Version::parse_label) {
                Some(version) => version,
                None => {
                    problems.push(format!(
                        "{ENFORCE_VERSION_LABEL}={} is not a version; the admission controller uses latest",
                        compact(v)
                    ));
                    Version::Latest
                }
            },
        };
        NamespacePolicy {
            level,
            version,
            labelled,
            problems,
        }
    }
}

impl fmt::Display for NamespacePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.labelled {
            write!(f, "enforce={}:{}", self.level, self.version)?;
            match self.version {
                Version::Minor(m) if m > u64::from(LATEST_MINOR) => {
                    write!(f, " (evaluated as v1.{LATEST_MINOR}, the newest policy)")
                }
                _ => Ok(()),
            }
        } else {
            f.write_str("no enforce label (cluster default, privileged unless configured)")
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The checks. Each reads JSON as the API would decode it: `null` is the same as absent, and a
// value of the wrong type counts against the pod (the API server would reject it; never judge it
// compliant).

struct Ctx<'a> {
    pod: &'a PodTemplate<'a>,
    minor: u32,
    check: &'a CheckDef,
}

impl<'a> Ctx<'a> {
    fn violation(&self, path: String, value: String, requirement: impl Into<String>) -> Violation {
        Violation {
            check: self.check.id,
            control: self.check.control,
            path,
            value,
            requirement: requirement.into(),
        }
    }

    fn spec(&self, key: &str) -> Option<&'a Value> {
        present(self.pod.spec.get(key))
    }

    fn pod_sc(&self) -> Option<&'a Value> {
        self.spec("securityContext")
    }

    fn pod_sc_path(&self, field: &str) -> String {
        format!("{}.securityContext.{field}", self.pod.spec_path)
    }

    /// `spec.hostUsers: false`: the pod runs in its own user namespace.
    fn user_namespaced(&self) -> bool {
        self.spec("hostUsers").and_then(Value::as_bool) == Some(false)
    }

    /// Each container's path and security context (`None` when it has none).
    fn container_scs(&self) -> Vec<(String, &'a Value, Option<&'a Value>)> {
        self.pod
            .containers()
            .map(|(path, c)| (path, c, present(c.get("securityContext"))))
            .collect()
    }

    /// Pod-level then container-level values of one security-context field, with paths.
    fn sc_fields(&self, field: &str) -> Vec<(String, &'a Value)> {
        let mut out = Vec::new();
        if let Some(v) = self.pod_sc().and_then(|sc| present(sc.get(field))) {
            out.push((self.pod_sc_path(field), v));
        }
        for (path, _, sc) in self.container_scs() {
            if let Some(v) = sc.and_then(|sc| present(sc.get(field))) {
                out.push((format!("{path}.securityContext.{field}"), v));
            }
        }
        out
    }
}

fn present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

fn compact(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        let cut: String = s.chars().take(117).collect();
        format!("{cut}...")
    } else {
        s
    }
}

const UNSET: &str = "<unset>";

/// A field that must not be `true`: true, or not a boolean, is a violation.
fn is_true_or_malformed(v: &Value) -> bool {
    v.as_bool() != Some(false)
}

fn windows_host_process(ctx: &Ctx<'_>) -> Vec<Violation> {
    ctx.sc_fields("windowsOptions")
        .into_iter()
        .filter_map(|(path, opts)| {
            let hp = present(opts.get("hostProcess"))?;
            is_true_or_malformed(hp).then(|| {
                ctx.violation(
                    format!("{path}.hostProcess"),
                    compact(hp),
                    "must be unset or false",
                )
            })
        })
        .collect()
}

fn host_namespaces(ctx: &Ctx<'_>) -> Vec<Violation> {
    ["hostNetwork", "hostPID", "hostIPC"]
        .into_iter()
        .filter_map(|key| {
            let v = ctx.spec(key)?;
            is_true_or_malformed(v).then(|| {
                ctx.violation(
                    format!("{}.{key}", ctx.pod.spec_path),
                    compact(v),
                    "must be unset or false",
                )
            })
        })
        .collect()
}

fn privileged(ctx: &Ctx<'_>) -> Vec<Violation> {
    let mut out = Vec::new();
    for (path, _, sc) in ctx.container_scs() {
        if let Some(v) = sc.and_then(|sc| present(sc.get("privileged"))) {
            if is_true_or_malformed(v) {
                out.push(ctx.violation(
                    format!("{path}.securityContext.privileged"),
                    compact(v),
                    "must be unset or false",
                ));
            }
        }
    }
    out
}

/// The capabilities a container may add at baseline: the container runtimes' default set.
pub const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Each entry of `capabilities.<list>` of every container, with its path; a list that is not a
/// sequence is reported as one entry at the list's path.
fn capability_entries<'a>(ctx: &Ctx<'a>, list: &str) -> Vec<(String, &'a Value)> {
    let mut out = Vec::new();
    for (path, _, sc) in ctx.container_scs() {
        let Some(v) = sc
            .and_then(|sc| present(sc.get("capabilities")))
            .and_then(|caps| present(caps.get(list)))
        else {
            continue;
        };
        let list_path = format!("{path}.securityContext.capabilities.{list}");
        match v.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    out.push((format!("{list_path}[{i}]"), item));
                }
            }
            None => out.push((list_path, v)),
        }
    }
    out
}

fn capabilities_baseline(ctx: &Ctx<'_>) -> Vec<Violation> {
    capability_entries(ctx, "add")
        .into_iter()
        .filter(|(_, cap)| {
            !cap.as_str()
                .is_some_and(|c| BASELINE_CAPABILITIES.contains(&c))
        })
        .map(|(path, cap)| {
            ctx.violation(
                path,
                compact(cap),
                "may add only the runtime's default capabilities",
            )
        })
        .collect()
}

fn host_path_volumes(ctx: &Ctx<'_>) -> Vec<Violation> {
    let Some(volumes) = ctx.spec("volumes").and_then(Value::as_array) else {
        return Vec::new();
    };
    volumes
        .iter()
        .enumerate()
        .filter_map(|(i, vol)| {
            let hp = present(vol.get("hostPath"))?;
            Some(ctx.violation(
                format!("{}.volumes[{i}].hostPath", ctx.pod.spec_path),
                compact(hp.get("path").unwrap_or(hp)),
                "hostPath volumes are forbidden",
            ))
        })
        .collect()
}

fn host_ports(ctx: &Ctx<'_>) -> Vec<Violation> {
    let mut out = Vec::new();
    for (path, c) in ctx.pod.containers() {
        let Some(ports) = present(c.get("ports")) else {
            continue;
        };
        let Some(ports) = ports.as_array() else {
            out.push(ctx.violation(format!("{path}.ports"), compact(ports), "not a sequence"));
            continue;
        };
        for (j, port) in ports.iter().enumerate() {
            if let Some(hp) = present(port.get("hostPort")) {
                if hp.as_i64() != Some(0) {
                    out.push(ctx.violation(
                        format!("{path}.ports[{j}].hostPort"),
                        compact(hp),
                        "must be unset or 0",
                    ));
                }
            }
        }
    }
    out
}

fn host_probes_and_lifecycle(ctx: &Ctx<'_>) -> Vec<Violation> {
    let mut out = Vec::new();
    for (path, c) in ctx.pod.containers() {
        let mut handlers: Vec<(String, &Value)> = Vec::new();
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            if let Some(p) = present(c.get(probe)) {
                handlers.push((format!("{path}.{probe}"), p));
            }
        }
        if let Some(lc) = present(c.get("lifecycle")) {
            for hook in ["postStart", "preStop"] {
                if let Some(h) = present(lc.get(hook)) {
                    handlers.push((format!("{path}.lifecycle.{hook}"), h));
                }
            }
        }
        for (hpath, handler) in handlers {
            for action in ["httpGet", "tcpSocket"] {
                if let Some(host) = handler.get(action).and_then(|a| present(a.get("host"))) {
                    if host.as_str() != Some("") {
                        out.push(ctx.violation(
                            format!("{hpath}.{action}.host"),
                            compact(host),
                            "must be unset or empty",
                        ));
                    }
                }
            }
        }
    }
    out
}

const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

fn app_armor(ctx: &Ctx<'_>) -> Vec<Violation> {
    let mut out = Vec::new();
    for (path, profile) in ctx.sc_fields("appArmorProfile") {
        let ty = profile.get("type").unwrap_or(&Value::Null);
        if !matches!(ty.as_str(), Some("RuntimeDefault" | "Localhost")) {
            out.push(ctx.violation(
                format!("{path}.type"),
                if ty.is_null() {
                    UNSET.into()
                } else {
                    compact(ty)
                },
                "must be RuntimeDefault or Localhost",
            ));
        }
    }
    if let Some(annotations) =
        present(ctx.pod.metadata.get("annotations")).and_then(Value::as_object)
    {
        for (key, v) in annotations {
            if !key.starts_with(APPARMOR_ANNOTATION_PREFIX) {
                continue;
            }
            let ok = v.as_str().is_some_and(|s| {
                s.is_empty() || s == "runtime/default" || s.starts_with("localhost/")
            });
            if !ok {
                out.push(ctx.violation(
                    format!("{}.annotations[{key}]", ctx.pod.metadata_path),
                    compact(v),
                    "must be runtime/default or localhost/*",
                ));
            }
        }
    }
    out
}

/// The `seLinuxOptions.type` values baseline allows besides empty, with the policy version
/// that allowed each.
pub const SELINUX_TYPES: &[(u32, &str)] = &[
    (0, "container_t"),
    (0, "container_init_t"),
    (0, "container_kvm_t"),
    (31, "container_engine_t"),
];

fn se_linux(ctx: &Ctx<'_>) -> Vec<Violation> {
    let allowed = allowed_at(SELINUX_TYPES, ctx.minor);
    let mut out = Vec::new();
    for (path, opts) in ctx.sc_fields("seLinuxOptions") {
        let ty = present(opts.get("type"));
        if let Some(ty) = ty {
            if !ty
                .as_str()
                .is_some_and(|t| t.is_empty() || allowed.contains(&t))
            {
                out.push(ctx.violation(
                    format!("{path}.type"),
                    compact(ty),
                    format!("must be unset or one of {}", allowed.join(", ")),
                ));
            }
        }
        for field in ["user", "role"] {
            if let Some(v) = present(opts.get(field)) {
                if v.as_str() != Some("") {
                    out.push(ctx.violation(
                        format!("{path}.{field}"),
                        compact(v),
                        "must be unset or empty",
                    ));
                }
            }
        }
    }
    out
}

fn proc_mount_any(ctx: &Ctx<'_>) -> Vec<Violation> {
    let mut out = Vec::new();
    for (path, _, sc) in ctx.container_scs() {
        if let Some(pm) = sc.and_then(|sc| present(sc.get("procMount"))) {
            if pm.as_str() != Some("Default") {
                out.push(ctx.violation(
                    format!("{path}.securityContext.procMount"),
                    compact(pm),
                    "must be unset or Default",
                ));
            }
        }
    }
    out
}

fn proc_mount_baseline(ctx: &Ctx<'_>) -> Vec<Violation> {
    // From 1.35 a pod in its own user namespace may unmask /proc at baseline.
    if ctx.minor >= 35 && ctx.user_namespaced() {
        return Vec::new();
    }
    proc_mount_any(ctx)
}

fn proc_mount_restricted(ctx: &Ctx<'_>) -> Vec<Violation> {
    proc_mount_any(ctx)
}

fn valid_seccomp_type(v: &Value) -> bool {
    matches!(v.as_str(), Some("RuntimeDefault" | "Localhost"))
}

fn seccomp_type_of(profile: &Value) -> &Value {
    profile.get("type").unwrap_or(&Value::Null)
}

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

fn seccomp_baseline(ctx: &Ctx<'_>) -> Vec<Violation> {
    if ctx.minor < 19 {
        // Before the seccompProfile field (1.19), the alpha annotations were the only channel.
        let annotations = present(ctx.pod.metadata.get("annotations"));
        let valid = |v: &Value| {
            v.as_str().is_some_and(|s| {
                s == "runtime/default" || s == "docker/default" || s.starts_with("localhost/")
            })
        };
        let mut keys = vec![SECCOMP_POD_ANNOTATION.to_string()];
        for (_, c) in ctx.pod.containers() {
            if let Some(name) = c.get("name").and_then(Value::as_str) {
                keys.push(format!("{SECCOMP_CONTAINER_ANNOTATION_PREFIX}{name}"));
            }
        }
        return keys
            .into_iter()
            .filter_map(|key| {
                let v = present(annotations?.get(&key))?;
                (!valid(v)).then(|| {
                    ctx.violation(
                        format!("{}.annotations[{key}]", ctx.pod.metadata_path),
                        compact(v),
                        "must be runtime/default, docker/default or localhost/*",
                    )
                })
            })
            .collect();
    }
    ctx.sc_fields("seccompProfile")
        .into_iter()
        .filter(|(_, p)| !valid_seccomp_type(seccomp_type_of(p)))
        .map(|(path, p)| {
            let ty = seccomp_type_of(p);
            ctx.violation(
                format!("{path}.type"),
                if ty.is_null() {
                    UNSET.into()
                } else {
                    compact(ty)
                },
                "must be unset, RuntimeDefault or Localhost",
            )
        })
        .collect()
}

/// The sysctls baseline allows, each with the policy version that made it safe: namespaced in
/// the kernel and isolated from other pods (upstream's `sysctlsAllowedV1Dot<n>` sets, which
/// only ever grow).
pub const SAFE_SYSCTLS: &[(u32, &str)] = &[
    (0, "kernel.shm_rmid_forced"),
    (0, "net.ipv4.ip_local_port_range"),
    (0, "net.ipv4.tcp_syncookies"),
    (0, "net.ipv4.ping_group_range"),
    (0, "net.ipv4.ip_unprivileged_port_start"),
    (27, "net.ipv4.ip_local_reserved_ports"),
    (29, "net.ipv4.tcp_keepalive_time"),
    (29, "net.ipv4.tcp_fin_timeout"),
    (29, "net.ipv4.tcp_keepalive_intvl"),
    (29, "net.ipv4.tcp_keepalive_probes"),
    (32, "net.ipv4.tcp_rmem"),
    (32, "net.ipv4.tcp_wmem"),
    (37, "net.ipv4.tcp_slow_start_after_idle"),
    (37, "net.ipv4.tcp_notsent_lowat"),
];

/// Entries of a versioned allow-list that apply at policy version 1.`minor`.
fn allowed_at(table: &'static [(u32, &'static str)], minor: u32) -> Vec<&'static str> {
    table
        .iter()
        .filter(|(since, _)| *since <= minor)
        .map(|(_, name)| *name)
        .collect()
}

/// The sysctls baseline allows at policy version 1.`minor`.
pub fn safe_sysctls(minor: u32) -> Vec<&'static str> {
    allowed_at(SAFE_SYSCTLS, minor)
}

fn sysctls(ctx: &Ctx<'_>) -> Vec<Violation> {
    let Some(list) = ctx.pod_sc().and_then(|sc| present(sc.get("sysctls"))) else {
        return Vec::new();
    };
    let base = ctx.pod_sc_path("sysctls");
    let Some(items) = list.as_array() else {
        return vec![ctx.violation(base, compact(list), "not a sequence")];
    };
    let safe = safe_sysctls(ctx.minor);
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let name = item.get("name").unwrap_or(&Value::Null);
            (!name.as_str().is_some_and(|n| safe.contains(&n))).then(|| {
                ctx.violation(
                    format!("{base}[{i}].name"),
                    compact(name),
                    format!("not a safe sysctl at v1.{}", ctx.minor),
                )
            })
        })
        .collect()
}

/// Inline volume sources restricted pods may use.
pub const RESTRICTED_VOLUME_TYPES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

fn restricted_volumes(ctx: &Ctx<'_>) -> Vec<Violation> {
    let Some(volumes) = ctx.spec("volumes").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, vol) in volumes.iter().enumerate() {
        let Some(map) = vol.as_object() else {
            out.push(ctx.violation(
                format!("{}.volumes[{i}]", ctx.pod.spec_path),
                compact(vol),
                "a volume must be a mapping",
            ));
            continue;
        };
        let sources: Vec<(&String, &Value)> = map
            .iter()
            .filter(|(k, v)| k.as_str() != "name" && !v.is_null())
            .collect();
        // No source at all is not an unknown type: the API server defaults such a volume to
        // emptyDir before admission runs. A key it does not know still counts against the pod.
        if sources.is_empty()
            || sources
                .iter()
                .any(|(k, _)| RESTRICTED_VOLUME_TYPES.contains(&k.as_str()))
        {
            continue;
        }
        let (ty, source) = (sources[0].0.as_str(), sources[0].1);
        out.push(ctx.violation(
            format!("{}.volumes[{i}].{ty}", ctx.pod.spec_path),
            compact(source),
            format!(
                "volume type {ty} is not allowed (allowed: {})",
                RESTRICTED_VOLUME_TYPES.join(", ")
            ),
        ));
    }
    out
}

/// From 1.25 the Linux-only restricted checks do not apply to pods declaring `os.name: windows`.
fn windows_exempt(ctx: &Ctx<'_>) -> bool {
    ctx.minor >= 25 && ctx.pod.is_windows()
}

fn allow_privilege_escalation(ctx: &Ctx<'_>) -> Vec<Violation> {
    if windows_exempt(ctx) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (path, _, sc) in ctx.container_scs() {
        let v = sc.and_then(|sc| present(sc.get("allowPrivilegeEscalation")));
        if v.and_then(Value::as_bool) != Some(false) {
            out.push(ctx.violation(
                format!("{path}.securityContext.allowPrivilegeEscalation"),
                v.map(compact).unwrap_or_else(|| UNSET.into()),
                "must be false",
            ));
        }
    }
    out
}

/// Restricted fields a container may leave unset when the pod sets them: a container value
/// overrides the pod's; an unset container inherits it.
fn inherited_requirement(
    ctx: &Ctx<'_>,
    field: &str,
    ok: fn(&Value) -> bool,
    requirement: &str,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut pod_ok = false;
    if let Some(v) = ctx.pod_sc().and_then(|sc| present(sc.get(field))) {
        let v = if field == "seccompProfile" {
            seccomp_type_of(v)
        } else {
            v
        };
        if ok(v) {
            pod_ok = true;
        } else {
            out.push(ctx.violation(
                sub_path(ctx.pod_sc_path(field), field),
                if v.is_null() {
                    UNSET.into()
                } else {
                    compact(v)
                },
                requirement,
            ));
        }
    }
    for (path, _, sc) in ctx.container_scs() {
        let cpath = sub_path(format!("{path}.securityContext.{field}"), field);
        match sc.and_then(|sc| present(sc.get(field))) {
            Some(v) => {
                let v = if field == "seccompProfile" {
                    seccomp_type_of(v)
                } else {
                    v
                };
                if !ok(v) {
                    let shown = if v.is_null() {
                        UNSET.into()
                    } else {
                        compact(v)
                    };
                    out.push(ctx.violation(cpath, shown, requirement));
                }
            }
            None if !pod_ok => out.push(ctx.violation(
                cpath,
                UNSET.into(),
                format!("{requirement}, here or at pod level"),
            )),
            None => {}
        }
    }
    out
}

fn sub_path(path: String, field: &str) -> String {
    if field == "seccompProfile" {
        format!("{path}.type")
    } else {
        path
    }
}

fn run_as_non_root(ctx: &Ctx<'_>) -> Vec<Violation> {
    if ctx.minor >= 35 && ctx.user_namespaced() {
        return Vec::new();
    }
    inherited_requirement(
        ctx,
        "runAsNonRoot",
        |v| v.as_bool() == Some(true),
        "must be true",
    )
}

fn run_as_user(ctx: &Ctx<'_>) -> Vec<Violation> {
    if ctx.minor >= 35 && ctx.user_namespaced() {
        return Vec::new();
    }
    ctx.sc_fields("runAsUser")
        .into_iter()
        .filter(|(_, v)| !matches!(v.as_i64(), Some(uid) if uid != 0))
        .map(|(path, v)| ctx.violation(path, compact(v), "must not be 0"))
        .collect()
}

fn seccomp_restricted(ctx: &Ctx<'_>) -> Vec<Violation> {
    if windows_exempt(ctx) {
        return Vec::new();
    }
    inherited_requirement(
        ctx,
        "seccompProfile",
        valid_seccomp_type,
        "must be RuntimeDefault or Localhost",
    )
}

fn capabilities_restricted(ctx: &Ctx<'_>) -> Vec<Violation> {
    if windows_exempt(ctx) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (path, _, sc) in ctx.container_scs() {
        let drop = sc
            .and_then(|sc| present(sc.get("capabilities")))
            .and_then(|caps| present(caps.get("drop")));
        let drops_all = drop
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|c| c.as_str() == Some("ALL")));
        if !drops_all {
            out.push(ctx.violation(
                format!("{path}.securityContext.capabilities.drop"),
                drop.map(compact).unwrap_or_else(|| UNSET.into()),
                "must include ALL",
            ));
        }
    }
    out.extend(
        capability_entries(ctx, "add")
            .into_iter()
            .filter(|(_, cap)| cap.as_str() != Some("NET_BIND_SERVICE"))
            .map(|(path, cap)| ctx.violation(path, compact(cap), "may add only NET_BIND_SERVICE")),
    );
    out
}

#[cfg(test)]
mod tests;
