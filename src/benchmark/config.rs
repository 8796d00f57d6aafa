//! `cfg/config.yaml`: the components of each target (binary names, config-file candidates,
//! kubecis's flag hints) and the Kubernetes-version → benchmark mapping.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// One component (`apiserver`, `kubelet`, ...): how to find its process and files.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Component {
    #[serde(default)]
    pub bins: Vec<String>,
    #[serde(default)]
    pub confs: Vec<String>,
    #[serde(default)]
    pub defaultconf: Option<String>,
    #[serde(default)]
    pub svc: Vec<String>,
    #[serde(default)]
    pub defaultsvc: Option<String>,
    #[serde(default)]
    pub kubeconfig: Vec<String>,
    #[serde(default)]
    pub defaultkubeconfig: Option<String>,
    #[serde(default)]
    pub cafile: Vec<String>,
    #[serde(default)]
    pub defaultcafile: Option<String>,
    #[serde(default)]
    pub datadirs: Vec<String>,
    #[serde(default)]
    pub defaultdatadir: Option<String>,
    /// Not running is normal (etcd on a node whose etcd is external, kube-proxy as a pod).
    #[serde(default)]
    pub optional: bool,
    /// Boolean flags: never take the next token as their value.
    #[serde(default)]
    pub bool_flags: Vec<String>,
    /// Flags whose repeated occurrences accumulate into one comma list.
    #[serde(default)]
    pub list_flags: Vec<String>,
    /// Variable kind → flag of the running process that names it (kubelet `conf: --config`).
    #[serde(default)]
    pub from_flags: BTreeMap<String, String>,
    /// Variable kind → environment variable of the running process that names it, read when
    /// the flag is not set (etcd `datadir: ETCD_DATA_DIR`).
    #[serde(default)]
    pub from_env: BTreeMap<String, String>,
    /// Variable kind → JSONPath into the component's config file (`cafile:
    /// '{.authentication.x509.clientCAFile}'`).
    #[serde(default)]
    pub from_config: BTreeMap<String, String>,
    /// The component may run in a container with its own filesystem (kube-proxy as a DaemonSet
    /// pod, its config a ConfigMap mounted only inside the pod). Absolute paths taken from its
    /// flags, its config file and `${flag:...}` defaults are then read where the process reads
    /// them, in `/proc/<pid>/root/<path>`; when that path does not exist (the process shares
    /// the audited root's layout), the node path is used.
    #[serde(default)]
    pub paths_in_process_root: bool,
}

/// The kinds of `$<component><kind>` variables.
pub const VAR_KINDS: &[&str] = &["bin", "conf", "svc", "kubeconfig", "cafile", "datadir"];

impl Component {
    /// Candidate paths and the default for a variable kind.
    pub fn candidates(&self, kind: &str) -> (&[String], Option<&str>) {
        match kind {
            "conf" => (&self.confs, self.defaultconf.as_deref()),
            "svc" => (&self.svc, self.defaultsvc.as_deref()),
            "kubeconfig" => (&self.kubeconfig, self.defaultkubeconfig.as_deref()),
            "cafile" => (&self.cafile, self.defaultcafile.as_deref()),
            "datadir" => (&self.datadirs, self.defaultdatadir.as_deref()),
            _ => (&[], None),
        }
    }
}

/// One target's section (`master:`, `node:` ...).
#[derive(Debug, Clone, Default)]
pub struct TargetConfig {
    pub components: Vec<String>,
    pub defs: BTreeMap<String, Component>,
}

/// The whole `config.yaml`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Targets in file order.
    pub targets: Vec<(String, TargetConfig)>,
    pub version_mapping: BTreeMap<String, String>,
    pub target_mapping: BTreeMap<String, Vec<String>>,
}

impl Config {
    /// Builds the config from merged YAML; errors are `(field path, message)`.
    pub fn from_yaml(doc: &Value) -> Result<Config, (String, String)> {
        let mut config = Config::default();
        let Some(map) = doc.as_object() else {
            return Err((String::new(), "expected a mapping at the top level".into()));
        };
        for (key, value) in map {
            let key = key.clone();
            match key.as_str() {
                "version_mapping" => {
                    config.version_mapping = from_value(value).map_err(|m| (key.clone(), m))?
                }
                "target_mapping" => {
                    config.target_mapping = from_value(value).map_err(|m| (key.clone(), m))?
                }
                _ => {
                    let Some(section) = value.as_object() else {
                        continue;
                    };
                    if !section.contains_key("components") {
                        continue;
                    }
                    let mut target = TargetConfig::default();
                    for (name, def) in section {
                        let name = name.clone();
                        let field = format!("{key}.{name}");
                        if name == "components" {
                            target.components = from_value(def).map_err(|m| (field, m))?;
                        } else if def.is_object() {
                            let component: Component = from_value(def).map_err(|m| (field, m))?;
                            target.defs.insert(name, component);
                        }
                    }
                    config.targets.push((key, target));
                }
            }
        }
        Ok(config)
    }

    pub fn target(&self, name: &str) -> Option<&TargetConfig> {
        self.targets.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    /// A component's description: the given target's section first, then any other.
    pub fn component(&self, target: &str, name: &str) -> Option<&Component> {
        self.target(target)
            .and_then(|t| t.defs.get(name))
            .or_else(|| self.targets.iter().find_map(|(_, t)| t.defs.get(name)))
    }

    /// Every described component name, once.
    pub fn component_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .targets
            .iter()
            .flat_map(|(_, t)| t.defs.keys().map(String::as_str))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// The benchmark for a Kubernetes version such as `1.23` or `v1.23.17`.
    pub fn benchmark_for_version(&self, version: &str) -> Option<&str> {
        let v = version.trim_start_matches('v');
        let minor: String = v.splitn(3, '.').take(2).collect::<Vec<_>>().join(".");
        self.version_mapping.get(&minor).map(String::as_str)
    }
}

fn from_value<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value.clone()).map_err(|e| {
        let path = e.path().to_string();
        if path == "." || path.is_empty() {
            e.into_inner().to_string()
        } else {
            format!("{path}: {}", e.into_inner())
        }
    })
}

/// Merges `overlay` into `base`: mappings key by key, anything else replaced.
pub fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
master:
  components: [apiserver, etcd]
  apiserver:
    bins: [kube-apiserver, "hyperkube apiserver"]
    confs: [/etc/kubernetes/manifests/kube-apiserver.yaml]
    defaultconf: /etc/kubernetes/manifests/kube-apiserver.yaml
  etcd:
    optional: true
    bins: [etcd]
    datadirs: [/var/lib/etcd]
etcd:
  components: [etcd]
node:
  components: [kubelet]
  kubelet:
    bins: [kubelet]
    from_flags: {conf: --config}
version_mapping:
  "1.23": cis-1.23
target_mapping:
  cis-1.23: [master, etcd, node]
"#;

    #[test]
    fn components_are_found_in_any_target() {
        let doc = crate::yaml::to_value("config.yaml", CONFIG).unwrap();
        let c = Config::from_yaml(&doc).unwrap();
        assert_eq!(c.target("etcd").unwrap().components, ["etcd"]);
        let etcd = c
            .component("etcd", "etcd")
            .expect("etcd described under master");
        assert!(etcd.optional);
        assert_eq!(etcd.candidates("datadir").0, ["/var/lib/etcd"]);
        assert_eq!(
            c.component("node", "kubelet").unwrap().from_flags["conf"],
            "--config"
        );
        assert_eq!(c.benchmark_for_version("v1.23.17"), Some("cis-1.23"));
        assert_eq!(c.benchmark_for_version("1.29"), None);
    }

    #[test]
    fn merge_replaces_leaves_and_keeps_siblings() {
        let mut base = crate::yaml::to_value("config.yaml", CONFIG).unwrap();
        let overlay = crate::yaml::to_value(
            "over.yaml",
            "master:\n  apiserver:\n    bins: [apiserver]\n",
        )
        .unwrap();
        merge(&mut base, overlay);
        let c = Config::from_yaml(&base).unwrap();
        let api = c.component("master", "apiserver").unwrap();
        assert_eq!(api.bins, ["apiserver"]);
        assert_eq!(api.confs.len(), 1);
    }

    #[test]
    fn a_wrong_type_names_the_field() {
        let doc = crate::yaml::to_value(
            "config.yaml",
            "node:\n  components: [kubelet]\n  kubelet:\n    bins: 3\n",
        )
        .unwrap();
        let (field, msg) = Config::from_yaml(&doc).unwrap_err();
        assert_eq!(field, "node.kubelet");
        assert!(msg.contains("bins"), "{msg}");
    }
}
