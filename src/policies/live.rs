//! Reads the objects section 5 needs from a live cluster, read-only.
//!
//! One paginated LIST per kind (`limit` + `continue`), never a request per object, through the
//! dynamic API so objects land as the same JSON values manifests give. A kind the credentials
//! may not list (403) or the server does not serve (404) is recorded in
//! [`Objects::unavailable`] with the reason — checks then WARN instead of passing on a partial
//! picture — while a cluster that cannot be reached at all is an error.
//!
//! The client is the `kube` crate (kubeconfig with `--context`, or the pod's service account
//! in-cluster), TLS by rustls; a current-thread tokio runtime lives only inside
//! [`fetch_objects`], so callers stay synchronous.

use std::path::PathBuf;
use std::time::Duration;

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::Value;

use super::objects::{Objects, Origin};

/// A kind to list: (API group, version, kind, plural resource).
pub type KindSpec = (&'static str, &'static str, &'static str, &'static str);

/// Exactly the kinds CIS section 5 reads. `deploy/rbac.yaml` grants get/list on these and nothing else.
pub const KINDS: &[KindSpec] = &[
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
    ),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles"),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
    ),
    ("", "v1", "ServiceAccount", "serviceaccounts"),
    ("", "v1", "Namespace", "namespaces"),
    ("", "v1", "Pod", "pods"),
    ("", "v1", "ReplicationController", "replicationcontrollers"),
    ("apps", "v1", "Deployment", "deployments"),
    ("apps", "v1", "ReplicaSet", "replicasets"),
    ("apps", "v1", "StatefulSet", "statefulsets"),
    ("apps", "v1", "DaemonSet", "daemonsets"),
    ("batch", "v1", "Job", "jobs"),
    ("batch", "v1", "CronJob", "cronjobs"),
    (
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
    ),
];

/// How to reach the cluster.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// A kubeconfig file; without it, `KUBECONFIG`/`~/.kube/config`, then the in-cluster
    /// service account.
    pub kubeconfig: Option<PathBuf>,
    /// A kubeconfig context other than the current one.
    pub context: Option<String>,
    /// Objects per LIST page.
    pub page_size: u32,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            kubeconfig: None,
            context: None,
            page_size: 500,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Why the cluster could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("cannot load cluster credentials: {0}")]
    Config(String),
    #[error("cannot start the client runtime: {0}")]
    Runtime(#[from] std::io::Error),
    #[error("cannot create the Kubernetes client: {0}")]
    Client(String),
    #[error("the API server rejected our credentials while listing {kind}: {message}")]
    Unauthorized { kind: String, message: String },
    #[error("cannot reach the API server while listing {kind}: {message}")]
    Transport { kind: String, message: String },
    #[error("{kind} (page {page}): {message}")]
    BadObject {
        kind: String,
        page: usize,
        message: String,
    },
}

/// Lists every kind of [`KINDS`] from the cluster `options` points at.
pub fn fetch_objects(options: &LiveOptions) -> Result<Objects, LiveError> {
    fetch_kinds(options, KINDS)
}

/// Lists the given kinds (exposed for tests and for callers needing fewer kinds).
pub fn fetch_kinds(options: &LiveOptions, kinds: &[KindSpec]) -> Result<Objects, LiveError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = client(options).await?;
        let mut objects = Objects::default();
        for spec in kinds {
            list_kind(&client, options, *spec, &mut objects).await?;
        }
        Ok(objects)
    })
}

async fn client(options: &LiveOptions) -> Result<Client, LiveError> {
    let kube_options = KubeConfigOptions {
        context: options.context.clone(),
        ..Default::default()
    };
    let mut config = match &options.kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path)
                .map_err(|e| LiveError::Config(format!("{}: {e}", path.display())))?;
            Config::from_custom_kubeconfig(file, &kube_options)
                .await
                .map_err(|e| LiveError::Config(format!("{}: {e}", path.display())))?
        }
        None if options.context.is_some() => Config::from_kubeconfig(&kube_options)
            .await
            .map_err(|e| LiveError::Config(e.to_string()))?,
        None => Config::infer()
            .await
            .map_err(|e| LiveError::Config(e.to_string()))?,
    };
    config.read_timeout = Some(options.timeout);
    config.connect_timeout = Some(options.timeout);
    Client::try_from(config).map_err(|e| LiveError::Client(e.to_string()))
}

async fn list_kind(
    client: &Client,
    options: &LiveOptions,
    (group, version, kind, plural): KindSpec,
    objects: &mut Objects,
) -> Result<(), LiveError> {
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let resource = ApiResource::from_gvk_with_plural(&gvk, plural);
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    let api_version = resource.api_version.clone();
    let mut continue_token: Option<String> = None;
    let mut page = 0;
    let mut items = Vec::new();
    loop {
        page += 1;
        let mut params = ListParams::default().limit(options.page_size);
        if let Some(token) = &continue_token {
            params = params.continue_token(token);
        }
        let list = match api.list(&params).await {
            Ok(list) => list,
            Err(kube::Error::Api(status)) if status.code == 401 => {
                return Err(LiveError::Unauthorized {
                    kind: kind.into(),
                    message: status.message,
                })
            }
            Err(kube::Error::Api(status)) => {
                // Forbidden, not served, ...: this kind is unknown, the others may still be read.
                objects.mark_unavailable(
                    kind,
                    format!(
                        "listing {plural} failed: HTTP {} {}: {}",
                        status.code, status.reason, status.message
                    ),
                );
                return Ok(());
            }
            Err(e @ kube::Error::SerdeError(_)) => {
                return Err(LiveError::BadObject {
                    kind: kind.into(),
                    page,
                    message: e.to_string(),
                })
            }
            Err(e) => {
                return Err(LiveError::Transport {
                    kind: kind.into(),
                    message: e.to_string(),
                })
            }
        };
        for item in list.items {
            let mut value = serde_json::to_value(&item).map_err(|e| LiveError::BadObject {
                kind: kind.into(),
                page,
                message: e.to_string(),
            })?;
            // List items carry no kind/apiVersion of their own.
            if let Value::Object(map) = &mut value {
                map.insert("kind".into(), Value::String(kind.into()));
                map.insert("apiVersion".into(), Value::String(api_version.clone()));
            }
            items.push(value);
        }
        continue_token = list.metadata.continue_.filter(|t| !t.is_empty());
        if continue_token.is_none() {
            break;
        }
    }
    for (index, value) in items.into_iter().enumerate() {
        let origin = Origin {
            file: format!("cluster:{plural}"),
            document: index,
        };
        objects
            .add_value(value, origin)
            .map_err(|e| LiveError::BadObject {
                kind: kind.into(),
                page,
                message: e.to_string(),
            })?;
    }
    objects.mark_listed(kind);
    Ok(())
}
