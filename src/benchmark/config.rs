//! `cfg/config.yaml`: the components of each target (binary names, config-file candidates,
//! kubecis's flag hints) and the Kubernetes-version → benchmark mapping.
//!
//! kube-bench reads this file through viper, and its definitions rely on what viper accepts:
//! keys in any case (viper lowercases them), a scalar where a list of strings is expected
//! (`confs: /path`), and a benchmark's own `config.yaml` that holds only comments (nothing to
//! merge). [`normalize`], [`merge`] and the list fields below read the file the same way.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::jsonpath::JsonPath;

/// One component (`apiserver`, `kubelet`, ...): how to find its process and files.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Component {
    #[serde(default, deserialize_with = "string_list")]
    pub bins: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub confs: Vec<String>,
    #[serde(default)]
    pub defaultconf: Option<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub svc: Vec<String>,
    #[serde(default)]
    pub defaultsvc: Option<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub kubeconfig: Vec<String>,
    #[serde(default)]
    pub defaultkubeconfig: Option<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub cafile: Vec<String>,
    #[serde(default)]
    pub defaultcafile: Option<String>,
    #[serde(default, deserialize_with = "string_list")]
    pub datadirs: Vec<String>,
    #[serde(default)]
    pub defaultdatadir: Option<String>,
    /// Not running is normal (etcd on a node whose etcd is external, kube-proxy as a pod).
    #[serde(default)]
    pub optional: bool,
    /// Boolean flags: never take the next token as their value.
    #[serde(default, deserialize_with = "string_list")]
    pub bool_flags: Vec<String>,
    /// Flags whose repeated occurrences accumulate into one comma list.
    #[serde(default, deserialize_with = "string_list")]
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
    pub from_config: BTreeMap<String, JsonPath>,
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
                    // Any scalar is its text, as viper's GetStringMapString reads it.
                    let entries: BTreeMap<String, Value> =
                        from_value(value).map_err(|m| (key.clone(), m))?;
                    for (version, bench) in entries {
                        let bench = match bench {
                            Value::String(s) => s,
                            Value::Number(_) | Value::Bool(_) => bench.to_string(),
                            other => {
                                return Err((
                                    format!("{key}.{version}"),
                                    format!("expected a benchmark name, found {other}"),
                                ))
                            }
                        };
                        config.version_mapping.insert(version, bench);
                    }
                }
                "target_mapping" => {
                    let lists: BTreeMap<String, StringList> =
                        from_value(value).map_err(|m| (key.clone(), m))?;
                    config.target_mapping = lists.into_iter().map(|(k, v)| (k, v.0)).collect();
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
                            let StringList(components) = from_value(def).map_err(|m| (field, m))?;
                            target.components = components;
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

/// Merges `overlay` into `base` as viper's `MergeInConfig` does: mappings key by key, a
/// scalar or list replaced, but a mapping is never replaced by something that is not one (a
/// benchmark's `master:` left empty, or null, keeps the base's `master` section). An empty
/// overlay (a `config.yaml` that holds only comments) changes nothing.
pub fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (_, Value::Null) => {}
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
        (Value::Object(_), _) => {}
        (b, o) => *b = o,
    }
}

/// Lowercases every mapping key, as viper does when it reads a config file: `Bins:` and
/// `defaultConf:` mean `bins:` and `defaultconf:`.
pub fn normalize(doc: &mut Value) {
    match doc {
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (k, mut v) in entries {
                normalize(&mut v);
                map.insert(k.to_lowercase(), v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        _ => {}
    }
}

/// A list of strings, read as viper reads one: a sequence of scalars, or a single scalar (a
/// string is split on whitespace, as `GetStringSlice` splits it: `confs: /path` is one path),
/// or nothing (null).
struct StringList(Vec<String>);

impl<'de> Deserialize<'de> for StringList {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;
        impl<'de> serde::de::Visitor<'de> for ListVisitor {
            type Value = StringList;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of strings or a single string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<StringList, E> {
                Ok(StringList(
                    v.split_whitespace().map(str::to_string).collect(),
                ))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<StringList, E> {
                Ok(StringList(vec![v.to_string()]))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<StringList, E> {
                Ok(StringList(vec![v.to_string()]))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<StringList, E> {
                Ok(StringList(vec![v.to_string()]))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<StringList, E> {
                Ok(StringList(vec![v.to_string()]))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<StringList, E> {
                Ok(StringList(Vec::new()))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<StringList, E> {
                Ok(StringList(Vec::new()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<StringList, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<Value>()? {
                    match item {
                        Value::String(s) => out.push(s),
                        Value::Null => {}
                        Value::Bool(_) | Value::Number(_) => out.push(item.to_string()),
                        other => {
                            return Err(serde::de::Error::custom(format!(
                                "expected a string in the list, found {other}"
                            )))
                        }
                    }
                }
                Ok(StringList(out))
            }
        }
        deserializer.deserialize_any(ListVisitor)
    }
}

fn string_list<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    StringList::deserialize(deserializer).map(|l| l.0)
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

    fn read(text: &str) -> Value {
        let mut doc = crate::yaml::to_value("config.yaml", text).unwrap();
        normalize(&mut doc);
        doc
    }

    #[test]
    fn a_scalar_is_a_list_as_viper_reads_it() {
        let c = Config::from_yaml(&read(
            "etcd:\n  components: etcd\n  etcd:\n    confs: /var/lib/rancher/k3s/server/db/etcd/config\n    bins: ~\n    bool_flags: [--a, 1]\ntarget_mapping:\n  k3s: master node\n",
        ))
        .unwrap();
        assert_eq!(c.target("etcd").unwrap().components, ["etcd"]);
        let etcd = c.component("etcd", "etcd").unwrap();
        assert_eq!(etcd.confs, ["/var/lib/rancher/k3s/server/db/etcd/config"]);
        assert!(etcd.bins.is_empty(), "null is an empty list");
        assert_eq!(etcd.bool_flags, ["--a", "1"]);
        // A string is split on whitespace, as viper's GetStringSlice splits it.
        assert_eq!(c.target_mapping["k3s"], ["master", "node"]);
        let c = Config::from_yaml(&read("version_mapping: {\"1.5\": 15}\n")).unwrap();
        assert_eq!(c.benchmark_for_version("1.5"), Some("15"));
        assert!(Config::from_yaml(&read("version_mapping: {\"1.5\": [a]}\n")).is_err());
    }

    #[test]
    fn keys_are_read_in_any_case_as_viper_lowercases_them() {
        let c = Config::from_yaml(&read(
            "Node:\n  Components: [kubelet]\n  Kubelet:\n    Bins: [kubelet]\n    defaultConf: /etc/k.yaml\n",
        ))
        .unwrap();
        let kubelet = c.component("node", "kubelet").unwrap();
        assert_eq!(kubelet.bins, ["kubelet"]);
        assert_eq!(kubelet.defaultconf.as_deref(), Some("/etc/k.yaml"));
    }

    #[test]
    fn an_empty_overlay_or_a_non_mapping_over_a_mapping_changes_nothing() {
        let mut base = read(CONFIG);
        // A comment-only benchmark config.yaml is no document at all.
        let empty = crate::yaml::to_value("c.yaml", "---\n## only comments\n").unwrap();
        merge(&mut base, empty);
        assert_eq!(base, read(CONFIG));
        // viper keeps a section that the overlay gives as null or a scalar.
        merge(
            &mut base,
            read("master:\nnode: 3\nversion_mapping: {\"1.30\": cis-1.30}\n"),
        );
        let c = Config::from_yaml(&base).unwrap();
        assert!(c.component("master", "apiserver").is_some());
        assert_eq!(c.target("node").unwrap().components, ["kubelet"]);
        assert_eq!(c.benchmark_for_version("1.30"), Some("cis-1.30"));
    }

    #[test]
    fn a_wrong_type_names_the_field() {
        let doc = crate::yaml::to_value(
            "config.yaml",
            "node:\n  components: [kubelet]\n  kubelet:\n    bins: {a: b}\n",
        )
        .unwrap();
        let (field, msg) = Config::from_yaml(&doc).unwrap_err();
        assert_eq!(field, "node.kubelet");
        assert!(msg.contains("bins"), "{msg}");
    }
}
