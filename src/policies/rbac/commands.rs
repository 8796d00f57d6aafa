//! The `who-can` and `can-i` commands: RBAC questions answered from manifests or a live cluster.
//!
//! Each command is an argument struct (clap `Args`, for the CLI to embed) and a function that
//! writes its answer and returns the process exit code. `can-i` follows `kubectl auth can-i`:
//! prints `yes` or `no`, exit 0 for yes and 1 for no.

use std::io::Write;
use std::path::PathBuf;

use super::{Identity, Rbac, Request, Scope, Subject, RBAC_KINDS};
use crate::policies::live::{fetch_objects, LiveError, LiveOptions};
use crate::policies::objects::{KindState, Objects, ObjectsError};

/// Where the RBAC objects come from.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SourceArgs {
    /// Read objects from these files or directories (`-` for stdin) instead of a live cluster:
    /// manifests or `kubectl get -o yaml|json` output.
    #[arg(long = "objects", value_name = "PATH", num_args = 1..)]
    pub objects: Vec<PathBuf>,
    /// The kubeconfig to use for a live cluster (default: $KUBECONFIG, ~/.kube/config, then
    /// the in-cluster service account).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

/// `who-can VERB RESOURCE`: every subject allowed, with the binding and role that allow it.
#[derive(Debug, Clone, clap::Args)]
pub struct WhoCanArgs {
    /// The verb: get, list, watch, create, update, patch, delete, bind, escalate, impersonate, ...
    pub verb: String,
    /// The resource: `pods`, `pods/exec`, `deployments.apps`, `deployments.apps/scale`, or a
    /// non-resource URL such as `/metrics`.
    pub resource: String,
    /// Only grants that apply in this namespace (default: in any namespace).
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `can-i VERB RESOURCE --as SUBJECT`: yes or no, as the RBAC authorizer decides.
#[derive(Debug, Clone, clap::Args)]
pub struct CanIArgs {
    /// The verb, as for `who-can`.
    pub verb: String,
    /// The resource, as for `who-can`.
    pub resource: String,
    /// The user to ask for: a user name, or `system:serviceaccount:<namespace>:<name>`.
    #[arg(long = "as", value_name = "SUBJECT")]
    pub as_user: Option<String>,
    /// A group the user is in (repeatable); alone, asks for a member of that group.
    #[arg(long = "as-group", value_name = "GROUP")]
    pub as_group: Vec<String>,
    /// The namespace of the request (default: `default`).
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Ask cluster-wide, in all namespaces at once (only ClusterRoleBindings count).
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    #[command(flatten)]
    pub source: SourceArgs,
}

/// Why a command could not answer.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Objects(#[from] ObjectsError),
    #[error(transparent)]
    Live(#[from] LiveError),
    #[error("{0}")]
    Usage(String),
    #[error("cannot write output: {0}")]
    Io(#[from] std::io::Error),
}

/// Resources whose API group is not the core group, and resources that are cluster-scoped, so
/// `deployments` works without spelling `deployments.apps`. Anything else without a `.group`
/// suffix is taken to be a core resource.
const GROUPS: &[(&str, &str)] = &[
    ("deployments", "apps"),
    ("replicasets", "apps"),
    ("statefulsets", "apps"),
    ("daemonsets", "apps"),
    ("controllerrevisions", "apps"),
    ("jobs", "batch"),
    ("cronjobs", "batch"),
    ("roles", "rbac.authorization.k8s.io"),
    ("rolebindings", "rbac.authorization.k8s.io"),
    ("clusterroles", "rbac.authorization.k8s.io"),
    ("clusterrolebindings", "rbac.authorization.k8s.io"),
    ("networkpolicies", "networking.k8s.io"),
    ("ingresses", "networking.k8s.io"),
    ("ingressclasses", "networking.k8s.io"),
    ("horizontalpodautoscalers", "autoscaling"),
    ("poddisruptionbudgets", "policy"),
    ("certificatesigningrequests", "certificates.k8s.io"),
    (
        "validatingwebhookconfigurations",
        "admissionregistration.k8s.io",
    ),
    (
        "mutatingwebhookconfigurations",
        "admissionregistration.k8s.io",
    ),
    (
        "validatingadmissionpolicies",
        "admissionregistration.k8s.io",
    ),
    ("storageclasses", "storage.k8s.io"),
    ("csidrivers", "storage.k8s.io"),
    ("csinodes", "storage.k8s.io"),
    ("volumeattachments", "storage.k8s.io"),
    ("leases", "coordination.k8s.io"),
    ("endpointslices", "discovery.k8s.io"),
    ("tokenreviews", "authentication.k8s.io"),
    ("subjectaccessreviews", "authorization.k8s.io"),
    ("customresourcedefinitions", "apiextensions.k8s.io"),
    ("apiservices", "apiregistration.k8s.io"),
    ("priorityclasses", "scheduling.k8s.io"),
    ("runtimeclasses", "node.k8s.io"),
];

const CLUSTER_SCOPED: &[&str] = &[
    "namespaces",
    "nodes",
    "persistentvolumes",
    "clusterroles",
    "clusterrolebindings",
    "certificatesigningrequests",
    "validatingwebhookconfigurations",
    "mutatingwebhookconfigurations",
    "validatingadmissionpolicies",
    "storageclasses",
    "csidrivers",
    "csinodes",
    "volumeattachments",
    "customresourcedefinitions",
    "apiservices",
    "priorityclasses",
    "runtimeclasses",
    "ingressclasses",
    "tokenreviews",
    "subjectaccessreviews",
];

/// kubectl's singular forms and short names for common resources.
const ALIASES: &[(&str, &str)] = &[
    ("po", "pods"),
    ("pod", "pods"),
    ("svc", "services"),
    ("service", "services"),
    ("cm", "configmaps"),
    ("configmap", "configmaps"),
    ("secret", "secrets"),
    ("ns", "namespaces"),
    ("namespace", "namespaces"),
    ("no", "nodes"),
    ("node", "nodes"),
    ("sa", "serviceaccounts"),
    ("serviceaccount", "serviceaccounts"),
    ("pv", "persistentvolumes"),
    ("pvc", "persistentvolumeclaims"),
    ("deploy", "deployments"),
    ("deployment", "deployments"),
    ("rs", "replicasets"),
    ("ds", "daemonsets"),
    ("sts", "statefulsets"),
    ("job", "jobs"),
    ("cj", "cronjobs"),
    ("cronjob", "cronjobs"),
    ("netpol", "networkpolicies"),
    ("csr", "certificatesigningrequests"),
    ("role", "roles"),
    ("clusterrole", "clusterroles"),
];

/// A parsed RESOURCE argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceArg {
    Resource {
        api_group: String,
        /// `pods` or `pods/exec`.
        resource: String,
        cluster_scoped: bool,
    },
    NonResource(String),
}

/// Reads `pods`, `pod`, `pods/exec`, `deployments.apps/scale`, `*` or `/metrics`.
pub fn parse_resource(arg: &str) -> Result<ResourceArg, CommandError> {
    if arg.starts_with('/') {
        return Ok(ResourceArg::NonResource(arg.to_string()));
    }
    if arg.is_empty() {
        return Err(CommandError::Usage("empty RESOURCE".into()));
    }
    let (base, sub) = match arg.split_once('/') {
        Some((b, s)) if !s.is_empty() => (b, Some(s)),
        Some(_) => return Err(CommandError::Usage(format!("{arg:?}: empty subresource"))),
        None => (arg, None),
    };
    let (name, explicit_group) = match base.split_once('.') {
        Some((n, g)) => (n, Some(g)),
        None => (base, None),
    };
    let name = ALIASES
        .iter()
        .find(|(a, _)| *a == name)
        .map(|(_, r)| *r)
        .unwrap_or(name);
    let api_group = match explicit_group {
        Some(g) => g.to_string(),
        None => GROUPS
            .iter()
            .find(|(r, _)| *r == name)
            .map(|(_, g)| g.to_string())
            .unwrap_or_default(),
    };
    let resource = match sub {
        Some(s) => format!("{name}/{s}"),
        None => name.to_string(),
    };
    Ok(ResourceArg::Resource {
        api_group,
        resource,
        cluster_scoped: CLUSTER_SCOPED.contains(&name),
    })
}

fn load(source: &SourceArgs) -> Result<Objects, CommandError> {
    if source.objects.is_empty() {
        Ok(fetch_objects(&LiveOptions {
            kubeconfig: source.kubeconfig.clone(),
            context: source.context.clone(),
            ..LiveOptions::default()
        })?)
    } else {
        Ok(Objects::load(&source.objects)?)
    }
}

/// Warnings about RBAC evidence that is missing, so a "no" is never taken for certain when it
/// is not.
fn evidence_warnings(objects: &Objects, rbac: &Rbac) -> Vec<String> {
    let mut out = Vec::new();
    for kind in RBAC_KINDS {
        match objects.kind_state(kind) {
            KindState::Unavailable(reason) => out.push(format!("could not read {kind}: {reason}")),
            KindState::Absent if objects.is_live() => out.push(format!("{kind} was not listed")),
            _ => {}
        }
    }
    if !objects.is_live() && rbac.is_empty() {
        out.push("the input holds no Role, ClusterRole, RoleBinding or ClusterRoleBinding".into());
    }
    out.extend(rbac.problems.iter().map(|p| format!("ignored: {p}")));
    out
}

fn request(verb: &str, resource: &ResourceArg, scope: Scope) -> Request {
    match resource {
        ResourceArg::NonResource(path) => Request::non_resource(verb, path),
        ResourceArg::Resource {
            api_group,
            resource,
            cluster_scoped,
        } => {
            let scope = if *cluster_scoped {
                Scope::Cluster
            } else {
                scope
            };
            Request::resource(verb, api_group, resource).scope(scope)
        }
    }
}

/// Runs `who-can` against the objects `args` names; writes a table to `out`, warnings to `err`.
pub fn who_can(
    args: &WhoCanArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, CommandError> {
    let objects = load(&args.source)?;
    who_can_in(args, &objects, out, err)
}

/// `who-can` over objects already read.
pub fn who_can_in(
    args: &WhoCanArgs,
    objects: &Objects,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, CommandError> {
    let resource = parse_resource(&args.resource)?;
    let scope = match &args.namespace {
        Some(ns) => Scope::Namespace(ns.clone()),
        None => Scope::AnyNamespace,
    };
    let request = request(&args.verb, &resource, scope);
    let rbac = Rbac::from_objects(objects);
    for warning in evidence_warnings(objects, &rbac) {
        writeln!(err, "warning: {warning}")?;
    }
    let grants = rbac.who_can(&request);
    if grants.is_empty() {
        writeln!(out, "No subjects found with permission to {request}")?;
        return Ok(0);
    }
    let rows: Vec<[String; 4]> = grants
        .iter()
        .map(|g| {
            let (kind, name) = match &g.subject {
                Subject::User(n) => ("User", n.clone()),
                Subject::Group(n) => ("Group", n.clone()),
                Subject::ServiceAccount { namespace, name } => {
                    ("ServiceAccount", format!("{namespace}/{name}"))
                }
            };
            let mut role = g.role.clone();
            if !g.only_names.is_empty() {
                role.push_str(&format!(" [only: {}]", g.only_names.join(",")));
            }
            [kind.to_string(), name, g.binding.clone(), role]
        })
        .collect();
    let header = ["KIND", "SUBJECT", "BINDING", "ROLE"];
    let widths: Vec<usize> = (0..3)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: [&str; 4]| {
        format!(
            "{:w0$}  {:w1$}  {:w2$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        )
    };
    writeln!(out, "{}", line(header).trim_end())?;
    for r in &rows {
        writeln!(out, "{}", line([&r[0], &r[1], &r[2], &r[3]]).trim_end())?;
    }
    Ok(0)
}

/// Runs `can-i`; prints `yes` or `no` and returns 0 or 1.
pub fn can_i(
    args: &CanIArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, CommandError> {
    if args.as_user.is_none() && args.as_group.is_empty() {
        return Err(CommandError::Usage(
            "can-i needs --as SUBJECT or --as-group GROUP: kubecis has no identity of its own to \
             ask about"
                .into(),
        ));
    }
    let objects = load(&args.source)?;
    can_i_in(args, &objects, out, err)
}

/// `can-i` over objects already read.
pub fn can_i_in(
    args: &CanIArgs,
    objects: &Objects,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, CommandError> {
    let identity = match &args.as_user {
        Some(user) => Identity::of(&Subject::from_user_name(user)),
        None => Identity {
            user: String::new(),
            groups: Default::default(),
        },
    }
    .with_groups(args.as_group.iter().cloned());
    if identity.user.is_empty() && identity.groups.is_empty() {
        return Err(CommandError::Usage(
            "can-i needs --as SUBJECT or --as-group GROUP".into(),
        ));
    }
    let resource = parse_resource(&args.resource)?;
    let scope = if args.all_namespaces {
        Scope::Cluster
    } else {
        Scope::Namespace(args.namespace.clone().unwrap_or_else(|| "default".into()))
    };
    let request = request(&args.verb, &resource, scope);
    let rbac = Rbac::from_objects(objects);
    let allowed = rbac.allows(&identity, &request);
    if !allowed {
        for warning in evidence_warnings(objects, &rbac) {
            writeln!(err, "warning: {warning}")?;
        }
    }
    writeln!(out, "{}", if allowed { "yes" } else { "no" })?;
    Ok(if allowed { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_arguments_resolve_group_scope_and_aliases() {
        let r = |a: &str| parse_resource(a).unwrap();
        let res = |g: &str, r: &str, c: bool| ResourceArg::Resource {
            api_group: g.into(),
            resource: r.into(),
            cluster_scoped: c,
        };
        assert_eq!(r("pods"), res("", "pods", false));
        assert_eq!(r("po/exec"), res("", "pods/exec", false));
        assert_eq!(r("deployments"), res("apps", "deployments", false));
        assert_eq!(
            r("deployments.apps/scale"),
            res("apps", "deployments/scale", false)
        );
        assert_eq!(
            r("widgets.example.com"),
            res("example.com", "widgets", false)
        );
        assert_eq!(r("ns"), res("", "namespaces", true));
        assert_eq!(r("/metrics"), ResourceArg::NonResource("/metrics".into()));
        assert!(parse_resource("pods/").is_err());
    }
}
