//! A run: the selected controls files × the node's facts → a [`Report`], in definition order.
//!
//! The runner picks the benchmark and targets, resolves `$variables` from the node (a running
//! component's own flags first, then config-file candidates), substitutes them into each
//! check, gathers its evidence and judges it. All I/O goes through [`Facts`], once per fact.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::audit::{self, AuditContext, Missing, ObjectsState};
use crate::benchmark::config::{Config, VAR_KINDS};
use crate::benchmark::load::{self, DefinitionError, DefinitionSource};
use crate::benchmark::model::{Audit, Check, CheckType, Controls, NativeAudit};
use crate::benchmark::vars::{substitute, FlagExpr, Substituted};
use crate::facts::flags::{FlagRules, FlagSet};
use crate::facts::{FactErrorKind, Facts};
use crate::report::model::{CheckResult, ControlsResult, GroupResult, Report, Status};
use crate::verdict::{self, jsonpath, Sources};

/// The order kube-bench runs targets in.
pub const TARGET_ORDER: &[&str] = &["master", "etcd", "controlplane", "node", "policies"];

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `--benchmark`.
    pub benchmark: Option<String>,
    /// `--version` (Kubernetes), mapped through `version_mapping`.
    pub kubernetes_version: Option<String>,
    /// `--targets`; empty: the targets whose components are running.
    pub targets: Vec<String>,
    /// `--check`: only these check ids.
    pub checks: Vec<String>,
    /// `--group`: only these group ids.
    pub groups: Vec<String>,
    /// `--skip`: these check or group ids are reported INFO without running.
    pub skip: Vec<String>,
    pub scored: bool,
    pub unscored: bool,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Definition(#[from] DefinitionError),
    #[error("{0}")]
    Usage(String),
}

/// Picks the benchmark: `--benchmark`, else the one `--version` maps to, else the newest in
/// `target_mapping`.
pub fn choose_benchmark(config: &Config, sel: &Selection) -> Result<String, RunError> {
    if let Some(b) = &sel.benchmark {
        return Ok(b.clone());
    }
    if let Some(v) = &sel.kubernetes_version {
        return config
            .benchmark_for_version(v)
            .map(str::to_string)
            .ok_or_else(|| {
                RunError::Usage(format!(
                    "no benchmark is mapped to Kubernetes version {v} in config.yaml's version_mapping; name one with --benchmark"
                ))
            });
    }
    config
        .target_mapping
        .keys()
        .max_by(|a, b| version_key(a).cmp(&version_key(b)))
        .cloned()
        .ok_or_else(|| {
            RunError::Usage("config.yaml has no target_mapping; name --benchmark".into())
        })
}

fn version_key(name: &str) -> Vec<u64> {
    name.split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Everything a run reads.
pub struct Runner<'a> {
    pub source: &'a DefinitionSource,
    pub config: &'a Config,
    pub facts: &'a Facts,
    pub objects: &'a ObjectsState,
}

impl Runner<'_> {
    /// Runs the selection; definition errors stop the run before any check is judged.
    pub fn run(&self, sel: &Selection) -> Result<Report, RunError> {
        let benchmark = choose_benchmark(self.config, sel)?;
        let available = self
            .config
            .target_mapping
            .get(&benchmark)
            .cloned()
            .unwrap_or_else(|| TARGET_ORDER.iter().map(|t| t.to_string()).collect());
        if self.source.benchmarks().iter().all(|b| b != &benchmark) {
            return Err(RunError::Usage(format!(
                "benchmark {benchmark} not found in {} (have: {})",
                self.source.display(""),
                self.source.benchmarks().join(", ")
            )));
        }
        let targets = if sel.targets.is_empty() {
            self.detect_targets(&available)
        } else {
            for t in &sel.targets {
                if !available.contains(t) {
                    return Err(RunError::Usage(format!(
                        "benchmark {benchmark} has no target {t} (has: {})",
                        available.join(", ")
                    )));
                }
            }
            sel.targets.clone()
        };
        if targets.is_empty() {
            return Err(RunError::Usage(
                "no Kubernetes component found running on this node; name the targets with --targets".into(),
            ));
        }
        // Load every file first: a broken definition stops the run before anything is judged.
        let mut files = Vec::new();
        for target in ordered(&targets) {
            match load::load_controls(self.source, &benchmark, &target, self.config)? {
                Some(controls) => files.push((target, controls)),
                None => {
                    return Err(RunError::Usage(format!(
                        "benchmark {benchmark} has no {target}.yaml"
                    )))
                }
            }
        }
        let controls = files
            .iter()
            .map(|(target, controls)| self.run_controls(target, controls, sel, &benchmark))
            .collect();
        Ok(Report::new(controls))
    }

    /// Targets whose components run here: master and controlplane with the API server, etcd
    /// with etcd, node with the kubelet, policies when there are API objects to judge.
    fn detect_targets(&self, available: &[String]) -> Vec<String> {
        let running = |component: &str| {
            self.config
                .component("master", component)
                .or_else(|| self.config.component("node", component))
                .and_then(|def| self.facts.component(component, &def.bins).ok().flatten())
                .is_some()
        };
        let apiserver = running("apiserver");
        available
            .iter()
            .filter(|t| match t.as_str() {
                "master" | "controlplane" => apiserver,
                "etcd" => running("etcd"),
                "node" => running("kubelet"),
                "policies" => self.objects.is_ok(),
                _ => false,
            })
            .cloned()
            .collect()
    }

    fn run_controls(
        &self,
        target: &str,
        controls: &Controls,
        sel: &Selection,
        benchmark: &str,
    ) -> ControlsResult {
        let vars = Variables {
            config: self.config,
            facts: self.facts,
            target,
            cache: RefCell::new(HashMap::new()),
        };
        let ctx = AuditContext {
            facts: self.facts,
            config: self.config,
            target,
            objects: self.objects,
        };
        let (bools, lists) = ctx.all_flag_rules();
        let rules = FlagRules {
            bool_flags: &bools,
            list_flags: &lists,
        };
        let mut notes = Vec::new();
        if let Some(t) = self.config.target(target) {
            for name in &t.components {
                let Some(def) = self.config.component(target, name) else {
                    continue;
                };
                if !def.optional && !def.bins.is_empty() {
                    if let Ok(None) = self.facts.component(name, &def.bins) {
                        notes.push(format!("{} not running", def.bins[0]));
                    }
                }
            }
        }
        if target == "policies" {
            if let Err(reason) = self.objects {
                notes.push(reason.clone());
            }
        }
        let mut groups = Vec::new();
        for group in &controls.groups {
            if !sel.groups.is_empty() && !sel.groups.contains(&group.id) {
                continue;
            }
            let mut results = Vec::new();
            for check in &group.checks {
                if !sel.checks.is_empty() && !sel.checks.contains(&check.id) {
                    continue;
                }
                if (check.scored && !sel.scored) || (!check.scored && !sel.unscored) {
                    continue;
                }
                let skipped = sel.skip.contains(&check.id) || sel.skip.contains(&group.id);
                let kind = if skipped {
                    CheckType::Skip
                } else if group.kind != CheckType::Automated {
                    group.kind
                } else {
                    check.kind
                };
                results.push(self.run_check(check, kind, &vars, &ctx, rules));
            }
            if results.is_empty() {
                continue;
            }
            groups.push(GroupResult {
                id: group.id.clone(),
                group_type: group.kind.as_str().to_string(),
                pass: 0,
                fail: 0,
                warn: 0,
                info: 0,
                text: vars.text(&group.text),
                results,
            });
        }
        ControlsResult {
            id: controls.id.clone(),
            version: if controls.version.is_empty() {
                benchmark.to_string()
            } else {
                controls.version.clone()
            },
            detected_version: sel.kubernetes_version.clone().unwrap_or_default(),
            text: vars.text(&controls.text),
            node_type: if controls.target.is_empty() {
                target.to_string()
            } else {
                controls.target.clone()
            },
            tests: groups,
            totals: Default::default(),
            notes,
        }
    }

    fn run_check(
        &self,
        check: &Check,
        kind: CheckType,
        vars: &Variables,
        ctx: &AuditContext,
        rules: FlagRules,
    ) -> CheckResult {
        let audits = [&check.audit, &check.audit_config, &check.audit_env]
            .map(|a| a.as_ref().map(|a| vars.audit(a)));
        let shown = |i: usize| {
            audits[i]
                .as_ref()
                .map(|(a, _)| a.to_string())
                .unwrap_or_default()
        };
        let remediation = vars.text(&check.remediation);
        let mut result = CheckResult {
            id: check.id.clone(),
            text: vars.text(&check.text),
            audit: shown(0),
            audit_config: shown(1),
            audit_env: shown(2),
            check_type: kind.as_str().to_string(),
            test_info: vec![remediation.clone()],
            remediation,
            status: Status::Warn,
            actual_value: String::new(),
            scored: check.scored,
            is_multiple: check.use_multiple_values,
            expected_result: String::new(),
            reason: String::new(),
            source: String::new(),
            findings: Vec::new(),
        };
        match kind {
            CheckType::Skip => {
                result.status = Status::Info;
                result.reason = "skipped".into();
                return result;
            }
            CheckType::Manual => {
                result.status = Status::Warn;
                result.reason = "manual check: needs a person to review".into();
                return result;
            }
            CheckType::Automated => {}
        }
        let evidence = audits.map(|a| {
            a.map(|(audit, unresolved)| match unresolved {
                Some(missing) => Err(missing),
                None => audit::gather(&audit, ctx),
            })
        });
        let j = verdict::judge(
            check,
            &Sources {
                audit: evidence[0].as_ref(),
                config: evidence[1].as_ref(),
                env: evidence[2].as_ref(),
            },
            rules,
        );
        result.status = j.status;
        result.actual_value = j.actual;
        result.expected_result = j.expected;
        result.reason = j.reason;
        result.source = j.source;
        result.findings = j.findings;
        result
    }
}

fn ordered(targets: &[String]) -> Vec<String> {
    let mut out: Vec<String> = TARGET_ORDER
        .iter()
        .filter(|t| targets.iter().any(|x| x == *t))
        .map(|t| t.to_string())
        .collect();
    out.extend(
        targets
            .iter()
            .filter(|t| !TARGET_ORDER.contains(&t.as_str()))
            .cloned(),
    );
    out
}

/// What a variable resolved to: its value, nothing (unknown name, no candidate), or the reason
/// it could not be determined (component not running, flag not set, its config unreadable).
type Resolved = Result<String, Option<String>>;

/// `$variables` of one target, resolved from the node on first use.
struct Variables<'a> {
    config: &'a Config,
    facts: &'a Facts,
    target: &'a str,
    cache: RefCell<HashMap<String, Resolved>>,
}

impl Variables<'_> {
    fn lookup(&self, name: &str) -> Option<String> {
        self.resolved(name).ok()
    }

    fn resolved(&self, name: &str) -> Resolved {
        if let Some(v) = self.cache.borrow().get(name) {
            return v.clone();
        }
        let value = self.resolve(name);
        self.cache
            .borrow_mut()
            .insert(name.to_string(), value.clone());
        value
    }

    fn resolve(&self, name: &str) -> Resolved {
        if name.starts_with("flag:") {
            return match FlagExpr::parse(name) {
                Some(expr) => self.flag_path(&expr),
                None => Err(Some(format!("${{{name}}} is not a valid flag expression"))),
            };
        }
        for component in self.config.component_names() {
            if let Some(kind) = name.strip_prefix(component) {
                if VAR_KINDS.contains(&kind) {
                    return self.component_var(component, kind);
                }
            }
        }
        Err(None)
    }

    /// The parsed flags of a running component.
    fn flags(&self, component: &str) -> Option<(FlagSet, u32)> {
        let def = self.config.component(self.target, component)?;
        let p = self.facts.component(component, &def.bins).ok().flatten()?;
        let rules = FlagRules {
            bool_flags: &def.bool_flags,
            list_flags: &def.list_flags,
        };
        Some((FlagSet::parse(p.args(), rules), p.pid))
    }

    /// `${flag:<component>:<--flag>[:-<default>]}`: the path the running component's flag
    /// names, or its default when the flag is not set. A component that is not running has no
    /// value (nothing says the file is in use).
    fn flag_path(&self, expr: &FlagExpr) -> Resolved {
        let Some(def) = self.config.component(self.target, expr.component) else {
            return Err(Some(format!(
                "component {} is not described in config.yaml",
                expr.component
            )));
        };
        let Some((flags, pid)) = self.flags(expr.component) else {
            let name = def.bins.first().map_or(expr.component, String::as_str);
            return Err(Some(format!("{name} not running")));
        };
        match flags
            .get(expr.flag)
            .filter(|v| !v.is_empty())
            .or(expr.default)
        {
            Some(v) => Ok(self.process_path(expr.component, pid, v)),
            None => Err(Some(format!(
                "{} is not set on {}",
                expr.flag, expr.component
            ))),
        }
    }

    /// The path an environment variable of the running component names (etcd reads every
    /// flag from `ETCD_<FLAG>` too: `ETCD_DATA_DIR` is its data directory).
    fn env_path(&self, component: &str, var: &str) -> Option<String> {
        let def = self.config.component(self.target, component)?;
        let p = self.facts.component(component, &def.bins).ok().flatten()?;
        let value = p.env.as_ref()?.iter().find_map(|e| {
            e.strip_prefix(var)?
                .strip_prefix('=')
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        })?;
        Some(self.process_path(component, p.pid, &value))
    }

    /// A path as a running component sees it, on the audited node: a relative path through
    /// the process's working directory (`/proc/<pid>/cwd`), an absolute one through its own
    /// root when the component may run in a container ([`in_process_root`]).
    ///
    /// [`in_process_root`]: Variables::in_process_root
    fn process_path(&self, component: &str, pid: u32, path: &str) -> String {
        if !path.starts_with('/') {
            return format!("/proc/{pid}/cwd/{path}");
        }
        let contained = self
            .config
            .component(self.target, component)
            .is_some_and(|d| d.paths_in_process_root);
        if contained {
            self.in_process_root(pid, path)
        } else {
            path.to_string()
        }
    }

    /// `/proc/<pid>/root/<path>`: the file the process itself opens, also when it runs in a
    /// container whose files are not on the host at that path. When the process's root has no
    /// such path, it shares the node's layout and the node path is used; when the process's
    /// root cannot be looked into (no CAP_SYS_PTRACE), the `/proc` path is kept so the check
    /// reports that, rather than judging a host file the process may not read.
    fn in_process_root(&self, pid: u32, path: &str) -> String {
        let inside = format!("/proc/{pid}/root{path}");
        match self.facts.stat(&inside) {
            Err(e) if e.kind == FactErrorKind::NotFound => path.to_string(),
            _ => inside,
        }
    }

    /// `$<component><kind>`: the running process's flag, the value in its config file, the
    /// first existing candidate, the default.
    fn component_var(&self, component: &str, kind: &str) -> Resolved {
        let Some(def) = self.config.component(self.target, component) else {
            return Err(None);
        };
        if kind == "bin" {
            let running = self.facts.component(component, &def.bins).ok().flatten();
            return match running {
                Some(p) => Ok(p.argv[..p.name_words.max(1)]
                    .iter()
                    .map(|w| w.rsplit('/').next().unwrap_or(w).to_string())
                    .collect::<Vec<_>>()
                    .join(" ")),
                None => def.bins.first().cloned().ok_or(None),
            };
        }
        if let Some(flag) = def.from_flags.get(kind) {
            let expr = FlagExpr {
                component,
                flag,
                default: None,
            };
            if let Ok(path) = self.flag_path(&expr) {
                return Ok(path);
            }
        }
        if let Some(var) = def.from_env.get(kind) {
            if let Some(path) = self.env_path(component, var) {
                return Ok(path);
            }
        }
        if let Some(path) = def.from_config.get(kind) {
            if kind != "conf" {
                if let Some(value) = self.config_value(component, kind, path)? {
                    return Ok(value);
                }
            }
        }
        let (candidates, default) = def.candidates(kind);
        candidates
            .iter()
            .find(|c| self.facts.exists(c))
            .cloned()
            .or_else(|| default.map(str::to_string))
            .ok_or(None)
    }

    /// The value at `path` in the component's config file, if it has one. A config file that
    /// exists but cannot be read leaves the variable undetermined (with the reason): the
    /// candidates are a guess, and the file may name another one.
    fn config_value(
        &self,
        component: &str,
        kind: &str,
        path: &str,
    ) -> Result<Option<String>, Option<String>> {
        let conf = match self.resolved(&format!("{component}conf")) {
            Ok(conf) => conf,
            Err(None) => return Ok(None),
            Err(Some(reason)) => return Err(Some(reason)),
        };
        let text = match self.facts.read(&conf) {
            Ok(text) => text,
            Err(e) if e.kind == FactErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Some(format!(
                    "{e} (the {component} config file, read for ${component}{kind})"
                )))
            }
        };
        let Ok(doc) = audit::parse_document(&conf, &text) else {
            return Ok(None);
        };
        let Ok(values) = jsonpath::lookup(&doc, path) else {
            return Ok(None);
        };
        let text = jsonpath::value_text(&values);
        if text.is_empty() {
            return Ok(None);
        }
        // A path inside a config file the process read in its own root is in that root too.
        let pid = conf
            .strip_prefix("/proc/")
            .and_then(|r| r.split_once('/'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok());
        Ok(Some(match pid {
            Some(pid) if text.starts_with('/') => self.process_path(component, pid, &text),
            _ => text,
        }))
    }

    fn text(&self, text: &str) -> String {
        substitute(text, &|n| self.lookup(n)).text
    }

    /// An audit with variables replaced, and what is missing if a variable it needs could not
    /// be determined (the check then WARNs with that reason instead of running a broken audit).
    fn audit(&self, audit: &Audit) -> (Audit, Option<Missing>) {
        let consulted = RefCell::new(Vec::new());
        let sub = |s: &str| {
            substitute(s, &|n| {
                consulted.borrow_mut().push(n.to_string());
                self.lookup(n)
            })
        };
        let (audit, unresolved) = match audit {
            Audit::Shell(cmd) => {
                let Substituted { text, .. } = sub(cmd);
                (Audit::Shell(text), Vec::new())
            }
            Audit::Native(NativeAudit::File {
                path,
                recursive,
                on_missing,
            }) => {
                let s = sub(path);
                (
                    Audit::Native(NativeAudit::File {
                        path: s.text,
                        recursive: *recursive,
                        on_missing: *on_missing,
                    }),
                    s.unresolved,
                )
            }
            Audit::Native(NativeAudit::Config { path }) => {
                let s = sub(path);
                (
                    Audit::Native(NativeAudit::Config { path: s.text }),
                    s.unresolved,
                )
            }
            other => (other.clone(), Vec::new()),
        };
        let reason = |name: &str| match self.resolved(name) {
            Err(Some(reason)) => Some(reason),
            _ => None,
        };
        let missing = unresolved
            .first()
            .map(|expr| reason(expr).unwrap_or_else(|| format!("${{{expr}}} has no value")))
            .or_else(|| {
                if matches!(audit, Audit::Shell(_)) {
                    return None;
                }
                consulted.borrow().iter().find_map(|n| reason(n))
            })
            .map(Missing::warn);
        (audit, missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const CONFIG: &str = r#"
node:
  components: [kubelet, proxy]
  kubelet:
    bins: [kubelet]
  proxy:
    bins: [kube-proxy]
    kubeconfig: [/etc/kubernetes/proxy.conf]
    defaultkubeconfig: /etc/kubernetes/proxy.conf
    from_flags: {conf: --config, kubeconfig: --kubeconfig}
    from_config: {kubeconfig: '{.clientConnection.kubeconfig}'}
    paths_in_process_root: true
"#;

    /// A node tree and a stand-in proc directory (`<pid>/cmdline`, `<pid>/comm`, and for a
    /// containerized process `<pid>/root/`, a directory where the kernel has a link).
    struct Node {
        root: tempfile::TempDir,
        proc_dir: tempfile::TempDir,
    }

    impl Node {
        fn new() -> Node {
            Node {
                root: tempfile::tempdir().unwrap(),
                proc_dir: tempfile::tempdir().unwrap(),
            }
        }
        fn process(&self, pid: u32, argv: &[&str]) -> &Node {
            let dir = self.proc_dir.path().join(pid.to_string());
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join("cmdline"), argv.join("\0") + "\0").unwrap();
            fs::write(dir.join("comm"), format!("{}\n", argv[0])).unwrap();
            self
        }
        fn file(&self, path: &str, text: &str) -> &Node {
            let base = match path.strip_prefix("/proc/") {
                Some(rest) => self.proc_dir.path().join(rest),
                None => self.root.path().join(path.trim_start_matches('/')),
            };
            fs::create_dir_all(base.parent().unwrap()).unwrap();
            fs::write(base, text).unwrap();
            self
        }
        fn vars<R>(&self, run: impl FnOnce(&Variables) -> R) -> R {
            let doc = crate::yaml::to_value("config.yaml", CONFIG).unwrap();
            let config = Config::from_yaml(&doc).unwrap();
            let facts = Facts::live(self.root.path(), self.proc_dir.path());
            let vars = Variables {
                config: &config,
                facts: &facts,
                target: "node",
                cache: RefCell::new(HashMap::new()),
            };
            run(&vars)
        }
    }

    const CNI: &str = "flag:kubelet:--cni-conf-dir:-/etc/cni/net.d";

    #[test]
    fn a_flag_default_applies_only_to_a_running_component_without_the_flag() {
        let node = Node::new();
        node.vars(|v| {
            assert_eq!(v.resolved(CNI), Err(Some("kubelet not running".into())));
        });
        node.process(10, &["kubelet", "--config=/var/lib/kubelet/config.yaml"]);
        node.vars(|v| {
            assert_eq!(v.resolved(CNI), Ok("/etc/cni/net.d".into()));
            assert_eq!(
                v.resolved("flag:kubelet:--cni-bin-dir"),
                Err(Some("--cni-bin-dir is not set on kubelet".into()))
            );
        });
        node.process(
            10,
            &["kubelet", "--cni-conf-dir=/opt/cni/conf", "--cni-bin-dir="],
        );
        node.vars(|v| {
            assert_eq!(v.resolved(CNI), Ok("/opt/cni/conf".into()));
            // An empty value is not a path: the flag counts as not set.
            assert!(v.resolved("flag:kubelet:--cni-bin-dir").is_err());
        });
        node.process(10, &["kubelet", "--cni-conf-dir=net.d"]);
        node.vars(|v| assert_eq!(v.resolved(CNI), Ok("/proc/10/cwd/net.d".into())));
    }

    #[test]
    fn a_flag_default_reaches_audits_and_an_unresolved_one_says_why() {
        let node = Node::new();
        let audit = Audit::Native(NativeAudit::File {
            path: format!("${{{CNI}}}/*"),
            recursive: false,
            on_missing: Default::default(),
        });
        let (_, missing) = node.vars(|v| v.audit(&audit));
        assert_eq!(missing, Some(Missing::warn("kubelet not running")));
        node.process(10, &["kubelet"]);
        let (resolved, missing) = node.vars(|v| v.audit(&audit));
        assert_eq!(missing, None);
        let Audit::Native(NativeAudit::File { path, .. }) = resolved else {
            panic!("{resolved:?}")
        };
        assert_eq!(path, "/etc/cni/net.d/*");
    }

    #[test]
    fn a_containerized_component_s_paths_are_read_in_its_own_root() {
        let node = Node::new();
        node.process(
            7,
            &["kube-proxy", "--config=/var/lib/kube-proxy/config.conf"],
        )
        .file(
            "/proc/7/root/var/lib/kube-proxy/config.conf",
            "clientConnection: {kubeconfig: /var/lib/kube-proxy/kubeconfig.conf}\n",
        )
        .file("/proc/7/root/var/lib/kube-proxy/kubeconfig.conf", "x")
        // A stale copy on the host that kube-proxy does not read.
        .file("/etc/kubernetes/proxy.conf", "stale");
        node.vars(|v| {
            assert_eq!(
                v.resolved("proxyconf"),
                Ok("/proc/7/root/var/lib/kube-proxy/config.conf".into())
            );
            // The kubeconfig named inside that file is in the process's root too.
            assert_eq!(
                v.resolved("proxykubeconfig"),
                Ok("/proc/7/root/var/lib/kube-proxy/kubeconfig.conf".into())
            );
            assert_eq!(
                v.resolved("flag:proxy:--kubeconfig:-/var/lib/kube-proxy/kubeconfig.conf"),
                Ok("/proc/7/root/var/lib/kube-proxy/kubeconfig.conf".into())
            );
        });
    }

    #[test]
    fn a_process_sharing_the_node_layout_keeps_node_paths() {
        let node = Node::new();
        node.process(7, &["kube-proxy", "--config=/etc/kubernetes/proxy.yaml"])
            .file(
                "/etc/kubernetes/proxy.yaml",
                "clientConnection: {kubeconfig: /etc/kubernetes/proxy.conf}\n",
            );
        fs::create_dir_all(node.proc_dir.path().join("7/root")).unwrap();
        node.vars(|v| {
            assert_eq!(
                v.resolved("proxyconf"),
                Ok("/etc/kubernetes/proxy.yaml".into())
            );
            assert_eq!(
                v.resolved("proxykubeconfig"),
                Ok("/etc/kubernetes/proxy.conf".into())
            );
        });
    }

    #[test]
    fn an_unreadable_config_leaves_its_values_undetermined_not_guessed() {
        let node = Node::new();
        node.process(
            7,
            &["kube-proxy", "--config=/var/lib/kube-proxy/config.conf"],
        )
        .file(
            "/etc/kubernetes/proxy.conf",
            "a candidate that may not be in use",
        );
        // Where the config should be, a directory: it exists but cannot be read as a file.
        fs::create_dir_all(
            node.proc_dir
                .path()
                .join("7/root/var/lib/kube-proxy/config.conf"),
        )
        .unwrap();
        let audit = Audit::Native(NativeAudit::File {
            path: "$proxykubeconfig".into(),
            recursive: false,
            on_missing: Default::default(),
        });
        let (_, missing) = node.vars(|v| v.audit(&audit));
        let reason = missing.expect("undetermined").reason;
        assert!(
            reason.starts_with("/proc/7/root/var/lib/kube-proxy/config.conf: is a directory"),
            "{reason}"
        );
        assert!(reason.contains("$proxykubeconfig"), "{reason}");
    }
}
