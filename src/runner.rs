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
use crate::benchmark::vars::{substitute, Substituted};
use crate::facts::flags::{FlagRules, FlagSet};
use crate::facts::Facts;
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
                if !def.optional && def.bins.iter().len() > 0 {
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
        let mut result = CheckResult {
            id: check.id.clone(),
            text: vars.text(&check.text),
            audit: shown(0),
            audit_config: shown(1),
            audit_env: shown(2),
            check_type: kind.as_str().to_string(),
            remediation: vars.text(&check.remediation),
            test_info: vec![vars.text(&check.remediation)],
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

/// `$variables` of one target, resolved from the node on first use.
struct Variables<'a> {
    config: &'a Config,
    facts: &'a Facts,
    target: &'a str,
    cache: RefCell<HashMap<String, Option<String>>>,
}

impl Variables<'_> {
    fn lookup(&self, name: &str) -> Option<String> {
        if let Some(v) = self.cache.borrow().get(name) {
            return v.clone();
        }
        let value = self.resolve(name);
        self.cache
            .borrow_mut()
            .insert(name.to_string(), value.clone());
        value
    }

    fn resolve(&self, name: &str) -> Option<String> {
        if let Some(expr) = name.strip_prefix("flag:") {
            let (component, flag) = expr.split_once(':')?;
            return self.path_flag(component, flag);
        }
        for component in self.config.component_names() {
            if let Some(kind) = name.strip_prefix(component) {
                if VAR_KINDS.contains(&kind) {
                    return self.component_var(component, kind);
                }
            }
        }
        None
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

    /// The path a running component's flag names; a relative path is resolved against the
    /// process's working directory, seen through `/proc/<pid>/cwd`.
    fn path_flag(&self, component: &str, flag: &str) -> Option<String> {
        let (flags, pid) = self.flags(component)?;
        let v = flags.get(flag).filter(|v| !v.is_empty())?;
        Some(if v.starts_with('/') {
            v.to_string()
        } else {
            format!("/proc/{pid}/cwd/{v}")
        })
    }

    /// `$<component><kind>`: the running process's flag, the value in its config file, the
    /// first existing candidate, the default.
    fn component_var(&self, component: &str, kind: &str) -> Option<String> {
        let def = self.config.component(self.target, component)?;
        if kind == "bin" {
            let running = self.facts.component(component, &def.bins).ok().flatten();
            return match running {
                Some(p) => Some(
                    p.argv[..p.name_words.max(1)]
                        .iter()
                        .map(|w| w.rsplit('/').next().unwrap_or(w).to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                None => def.bins.first().cloned(),
            };
        }
        if let Some(path) = def
            .from_flags
            .get(kind)
            .and_then(|f| self.path_flag(component, f))
        {
            return Some(path);
        }
        if let Some(path) = def.from_config.get(kind) {
            if kind != "conf" {
                if let Some(conf) = self.lookup(&format!("{component}conf")) {
                    if let Ok(doc) = self.facts.read(&conf).and_then(|t| {
                        audit::parse_document(&t)
                            .map_err(|e| crate::facts::FactError::other(&conf, &e))
                    }) {
                        if let Ok(values) = jsonpath::lookup(&doc, path) {
                            let text = jsonpath::value_text(&values);
                            if !text.is_empty() {
                                return Some(text);
                            }
                        }
                    }
                }
            }
        }
        let (candidates, default) = def.candidates(kind);
        candidates
            .iter()
            .find(|c| self.facts.exists(c))
            .cloned()
            .or_else(|| default.map(str::to_string))
    }

    fn text(&self, text: &str) -> String {
        substitute(text, &|n| self.lookup(n)).text
    }

    /// An audit with variables replaced, and what is missing if a braced expression had no
    /// value (the check then WARNs with that reason instead of running a broken audit).
    fn audit(&self, audit: &Audit) -> (Audit, Option<Missing>) {
        let sub = |s: &str| substitute(s, &|n| self.lookup(n));
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
        let missing = unresolved.first().map(|expr| {
            Missing::warn(
                match expr.strip_prefix("flag:").and_then(|e| e.split_once(':')) {
                    Some((component, flag)) => format!("{flag} is not set on {component}"),
                    None => format!("${{{expr}}} has no value"),
                },
            )
        });
        (audit, missing)
    }
}
