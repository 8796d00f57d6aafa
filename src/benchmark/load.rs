//! Finding and parsing definitions: the `cfg/` directory (or the copy embedded in the binary),
//! `config.yaml` merged with a benchmark's own, and the controls file of each target, read as
//! written ([`super::raw`]) and validated into [`super::model`]. A file that cannot be read as
//! a controls file is an error naming the file, line and field; a check whose definition
//! cannot be used keeps its [`Problem`]s (with file, line and field) and the rest loads.

use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};

use super::config::{merge, normalize, Config};
use super::jsonpath::JsonPath;
use super::model::{
    Audit, BinOp, Check, CheckType, Compare, Controls, Group, NativeAudit, NativeAuditFields, Op,
    Problem, TestItem, Tests,
};
use super::raw::{RawAudit, RawCheck, RawControls, RawTests};
use super::vars::{flag_expressions, FlagExpr};

/// The `cfg/` directory compiled into the binary, for a single file copied to a node.
static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/cfg");

/// Where definitions are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefinitionSource {
    Dir(PathBuf),
    /// The `cfg/` embedded in the binary.
    Embedded,
}

impl DefinitionSource {
    /// `--config-dir` when given, else `./cfg`, else `cfg/` beside the binary, else the
    /// embedded copy.
    pub fn locate(explicit: Option<&Path>) -> DefinitionSource {
        if let Some(dir) = explicit {
            return DefinitionSource::Dir(dir.to_path_buf());
        }
        let local = PathBuf::from("cfg");
        if local.join("config.yaml").is_file() {
            return DefinitionSource::Dir(local);
        }
        if let Some(dir) = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|p| p.join("cfg")))
        {
            if dir.join("config.yaml").is_file() {
                return DefinitionSource::Dir(dir);
            }
        }
        DefinitionSource::Embedded
    }

    /// How a file is named in messages.
    pub fn display(&self, rel: &str) -> String {
        match self {
            DefinitionSource::Dir(dir) => dir.join(rel).display().to_string(),
            DefinitionSource::Embedded => format!("<embedded cfg>/{rel}"),
        }
    }

    /// A file's text, `Ok(None)` when it does not exist.
    pub fn read(&self, rel: &str) -> Result<Option<String>, DefinitionError> {
        match self {
            DefinitionSource::Dir(dir) => match read_file(&dir.join(rel)) {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(DefinitionError::Io {
                    file: self.display(rel),
                    source,
                }),
            },
            DefinitionSource::Embedded => Ok(EMBEDDED
                .get_file(rel)
                .and_then(|f| f.contents_utf8())
                .map(str::to_string)),
        }
    }

    /// The benchmark directories present (names like `cis-1.23`).
    pub fn benchmarks(&self) -> Vec<String> {
        let mut names: Vec<String> = match self {
            DefinitionSource::Dir(dir) => std::fs::read_dir(dir)
                .map(|rd| {
                    rd.filter_map(Result::ok)
                        .filter(|e| e.path().is_dir())
                        .filter_map(|e| e.file_name().into_string().ok())
                        .collect()
                })
                .unwrap_or_default(),
            DefinitionSource::Embedded => EMBEDDED
                .dirs()
                .filter_map(|d| d.path().to_str().map(str::to_string))
                .collect(),
        };
        names.sort();
        names
    }
}

/// A definition that cannot be used. Exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: {field}: {message}")]
    Parse {
        file: String,
        line: usize,
        column: usize,
        field: String,
        message: String,
    },
    /// Unusable check definitions, under `--strict`: each with its file, line, field and check.
    #[error("{}", problems_text(.0))]
    Problems(Vec<(String, Problem)>),
    #[error("{file}: {field}: {message}")]
    Config {
        file: String,
        field: String,
        message: String,
    },
    #[error("{0}")]
    NotFound(String),
}

/// Reads `config.yaml` (or `--config FILE`) and merges the benchmark's own `config.yaml` over it.
pub fn load_config(
    source: &DefinitionSource,
    config_file: Option<&Path>,
    benchmark: Option<&str>,
) -> Result<Config, DefinitionError> {
    let (name, text) = match config_file {
        Some(path) => {
            let name = path.display().to_string();
            let text = read_file(path).map_err(|source| DefinitionError::Io {
                file: name.clone(),
                source,
            })?;
            (name, text)
        }
        None => {
            let name = source.display("config.yaml");
            let text = source
                .read("config.yaml")?
                .ok_or_else(|| DefinitionError::NotFound(format!("{name} not found")))?;
            (name, text)
        }
    };
    let mut doc = config_document(&name, &text)?;
    if let Some(bench) = benchmark {
        let rel = format!("{bench}/config.yaml");
        if let Some(text) = source.read(&rel)? {
            // Comment-only (most of kube-bench's): null, which changes nothing.
            merge(&mut doc, config_document(&source.display(&rel), &text)?);
        }
    }
    Config::from_yaml(&doc).map_err(|(field, message)| DefinitionError::Config {
        file: name,
        field,
        message,
    })
}

/// A `config.yaml` document with its keys lowercased (as viper reads them): a mapping, or null
/// when the file holds no document (only comments).
fn config_document(file: &str, text: &str) -> Result<serde_json::Value, DefinitionError> {
    let mut doc = parse_yaml(file, text)?;
    if !(doc.is_object() || doc.is_null()) {
        return Err(DefinitionError::Config {
            file: file.to_string(),
            field: "(document)".into(),
            message: "expected a mapping at the top level".into(),
        });
    }
    normalize(&mut doc);
    Ok(doc)
}

/// A definitions file's text, within the size every YAML text is held to.
fn read_file(path: &Path) -> std::io::Result<String> {
    crate::yaml::read_file(path, crate::yaml::Limits::DEFAULT.max_bytes)
}

fn parse_yaml(file: &str, text: &str) -> Result<serde_json::Value, DefinitionError> {
    crate::yaml::to_value(file, text).map_err(parse_error)
}

fn parse_error(e: crate::yaml::Error) -> DefinitionError {
    DefinitionError::Parse {
        file: e.file,
        line: e.line,
        column: e.column,
        field: if e.path.is_empty() {
            "(document)".into()
        } else {
            e.path
        },
        message: e.message,
    }
}

/// Parses one controls file and validates every check: operators, compare values, regexes and
/// JSONPaths are read once into their types; a `process` audit must name a component of
/// `config`, a `policy` audit a registered policy check, a `${flag:...}` expression a described
/// component. What fails is kept on its check as a [`Problem`] (see [`strict`]).
pub fn parse_controls(
    file: &str,
    text: &str,
    config: &Config,
) -> Result<Controls, DefinitionError> {
    let raw: RawControls = crate::yaml::from_str(file, text).map_err(parse_error)?;
    let target = raw.target;
    let v = Validator {
        config,
        target: &target,
    };
    let mut groups = Vec::new();
    for (gi, g) in raw.groups.unwrap_or_default().into_iter().enumerate() {
        let field = format!("groups[{gi}]");
        let kind = CheckType::parse(&g.kind);
        let checks = g
            .checks
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(ci, c)| {
                let mut check = v.check(c, &format!("{field}.checks[{ci}]"));
                if kind.is_none() {
                    check.problems.insert(
                        0,
                        problem(
                            format!("{field}.type"),
                            format!(
                                "unknown group type `{}`, expected skip, manual or empty",
                                g.kind
                            ),
                        ),
                    );
                }
                check
            })
            .collect();
        groups.push(Group {
            id: g.id,
            text: g.text,
            kind: kind.unwrap_or_default(),
            checks,
        });
    }
    let mut controls = Controls {
        version: raw.version,
        id: raw.id,
        text: raw.text,
        target,
        groups,
    };
    place_problems(file, text, &mut controls);
    Ok(controls)
}

/// A problem whose place is known only as its field path so far.
fn problem(field: String, message: String) -> Problem {
    Problem {
        file: String::new(),
        line: 0,
        column: 0,
        field,
        message,
    }
}

/// Fills in the file, line and column of every problem; the text is read for positions only
/// when there is a problem to place.
fn place_problems(file: &str, text: &str, controls: &mut Controls) {
    let problems = controls
        .groups
        .iter_mut()
        .flat_map(|g| g.checks.iter_mut())
        .flat_map(|c| c.problems.iter_mut());
    let mut located = None;
    for p in problems {
        let doc = located.get_or_insert_with(|| crate::yaml::locate(file, text, 0).ok().flatten());
        if let Some(at) = doc.as_ref().and_then(|d| d.find(&p.field)) {
            p.line = at.line;
            p.column = at.column;
        }
        p.file = file.to_string();
    }
}

/// Validates raw checks against the config they run with.
struct Validator<'a> {
    config: &'a Config,
    target: &'a str,
}

impl Validator<'_> {
    fn check(&self, raw: RawCheck, field: &str) -> Check {
        let mut problems = Vec::new();
        let kind = CheckType::parse(&raw.kind).unwrap_or_else(|| {
            problems.push(problem(
                format!("{field}.type"),
                format!(
                    "unknown check type `{}`, expected manual, skip or empty",
                    raw.kind
                ),
            ));
            CheckType::Automated
        });
        let mut audit = |name: &str, raw: Option<RawAudit>| {
            let audit = match raw? {
                RawAudit::Shell(cmd) => Ok(Audit::Shell(cmd)),
                RawAudit::Native(map) => serde_json::from_value::<NativeAuditFields>(map)
                    .map_err(|e| e.to_string())
                    .and_then(NativeAuditFields::validate)
                    .map(Audit::Native),
            }
            .and_then(|a| match self.audit_problem(&a) {
                Some(message) => Err(message),
                None => Ok(a),
            });
            match audit {
                Ok(a) => Some(a),
                Err(message) => {
                    problems.push(problem(format!("{field}.{name}"), message));
                    None
                }
            }
        };
        let (audit, audit_config, audit_env) = (
            audit("audit", raw.audit),
            audit("audit_config", raw.audit_config),
            audit("audit_env", raw.audit_env),
        );
        let tests = raw
            .tests
            .map(|t| tests(t, &format!("{field}.tests"), &mut problems));
        Check {
            id: raw.id,
            text: raw.text,
            kind,
            audit,
            audit_config,
            audit_env,
            tests,
            use_multiple_values: raw.use_multiple_values,
            remediation: raw.remediation,
            scored: raw.scored,
            problems,
        }
    }

    /// Why an audit cannot run against `config`, if it cannot.
    fn audit_problem(&self, audit: &Audit) -> Option<String> {
        match audit {
            Audit::Native(NativeAudit::Process { component })
                if self.config.component(self.target, component).is_none() =>
            {
                Some(format!(
                    "audit names component `{component}`, which config.yaml does not describe"
                ))
            }
            Audit::Native(NativeAudit::Policy { name })
                if crate::policies::checks::lookup(name).is_none() =>
            {
                Some(format!(
                    "audit names policy check `{name}`, which kubecis does not have"
                ))
            }
            Audit::Native(NativeAudit::File { path, .. } | NativeAudit::Config { path }) => {
                flag_expression_problem(path, self.target, self.config)
            }
            _ => None,
        }
    }
}

fn tests(raw: RawTests, field: &str, problems: &mut Vec<Problem>) -> Tests {
    let bin_op = BinOp::parse(&raw.bin_op).unwrap_or_else(|| {
        problems.push(problem(
            format!("{field}.bin_op"),
            format!("unknown bin_op `{}`, expected and or or", raw.bin_op),
        ));
        BinOp::And
    });
    let mut test_items = Vec::new();
    for (i, item) in raw.test_items.unwrap_or_default().into_iter().enumerate() {
        let field = format!("{field}.test_items[{i}]");
        let mut report = |at: &str, message: String| {
            problems.push(problem(format!("{field}{at}"), message));
        };
        if item.flag.is_empty() && item.env.is_empty() && item.path.is_none() {
            report(
                "",
                "the test item names nothing to look up: give `flag`, `path` or `env`".into(),
            );
        }
        let path = item.path.and_then(|p| {
            JsonPath::parse(&p)
                .map_err(|e| report(".path", format!("unusable JSONPath `{p}`: {e}")))
                .ok()
        });
        let compare = item.compare.and_then(|c| {
            let Some(op) = Op::parse(&c.op) else {
                let known: Vec<&str> = Op::ALL.iter().map(|o| o.as_str()).collect();
                report(
                    ".compare.op",
                    format!(
                        "unknown compare op `{}`, expected one of {}",
                        c.op,
                        known.join(", ")
                    ),
                );
                return None;
            };
            Compare::new(op, &c.value)
                .map_err(|e| report(".compare.value", e))
                .ok()
        });
        test_items.push(TestItem {
            flag: item.flag,
            path,
            env: item.env,
            set: item.set,
            compare,
        });
    }
    Tests { bin_op, test_items }
}

/// `--strict`: every problem of the loaded controls files as one error; `Ok` when there is
/// none.
pub fn strict(files: &[&Controls]) -> Result<(), DefinitionError> {
    let problems: Vec<(String, Problem)> = files
        .iter()
        .flat_map(|c| c.groups.iter())
        .flat_map(|g| g.checks.iter())
        .flat_map(|c| c.problems.iter().map(|p| (c.id.clone(), p.clone())))
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(DefinitionError::Problems(problems))
    }
}

fn problems_text(problems: &[(String, Problem)]) -> String {
    let lines: Vec<String> = problems
        .iter()
        .map(|(check, p)| format!("{p} (check {check})"))
        .collect();
    if lines.len() == 1 {
        lines[0].clone()
    } else {
        format!(
            "{} unusable check definitions:\n  {}",
            lines.len(),
            lines.join("\n  ")
        )
    }
}

/// What is wrong with the first malformed `${flag:...}` expression in `text`, if any.
fn flag_expression_problem(text: &str, target: &str, config: &Config) -> Option<String> {
    flag_expressions(text)
        .into_iter()
        .find_map(|inside| match FlagExpr::parse(inside) {
            None => Some(format!(
                "`${{{inside}}}` is not `${{flag:<component>:<--flag>}}` or \
             `${{flag:<component>:<--flag>:-<default>}}`"
            )),
            Some(e) if config.component(target, e.component).is_none() => Some(format!(
                "`${{{inside}}}` names component `{}`, which config.yaml does not describe",
                e.component
            )),
            Some(_) => None,
        })
}

/// Loads the controls file of one target; `Ok(None)` when the benchmark has none for it.
pub fn load_controls(
    source: &DefinitionSource,
    benchmark: &str,
    target: &str,
    config: &Config,
) -> Result<Option<Controls>, DefinitionError> {
    let rel = format!("{benchmark}/{target}.yaml");
    match source.read(&rel)? {
        Some(text) => parse_controls(&source.display(&rel), &text, config).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::benchmark::model::{BinOp, CheckType, OnMissing, Op};

    fn config() -> Config {
        let doc = crate::yaml::to_value(
            "config.yaml",
            "master:\n  components: [apiserver]\n  apiserver:\n    bins: [kube-apiserver]\n",
        )
        .unwrap();
        Config::from_yaml(&doc).unwrap()
    }

    const GOOD: &str = r#"
controls:
version: cis-1.23
id: 1
text: "Control Plane"
type: master
groups:
  - id: 1.10
    text: Files
    checks:
      - id: 1.1.1
        text: perms
        audit:
          file: $apiserverconf
          on_missing: fail
        tests:
          test_items:
            - flag: permissions
              compare: {op: bitmask, value: 600}
        scored: true
      - id: 1.2.1
        text: anon
        audit: {process: apiserver}
        tests:
          bin_op: or
          test_items:
            - flag: --anonymous-auth
              compare: {op: eq, value: false}
            - flag: --anonymous-auth
              set: false
      - id: 1.2.2
        text: shell
        type: manual
        audit: "ps -ef | grep kube-apiserver"
"#;

    #[test]
    fn kube_bench_and_native_forms_load() {
        let c = parse_controls("master.yaml", GOOD, &config()).unwrap();
        assert_eq!(c.id, "1");
        assert_eq!(c.groups[0].id, "1.10", "ids keep their text");
        let checks = &c.groups[0].checks;
        assert_eq!(
            checks[0].audit,
            Some(Audit::Native(NativeAudit::File {
                path: "$apiserverconf".into(),
                recursive: false,
                on_missing: OnMissing::Fail
            }))
        );
        let item = &checks[0].tests.as_ref().unwrap().test_items[0];
        assert!(item.set, "set defaults to true");
        assert_eq!(item.compare.as_ref().unwrap().op, Op::Bitmask);
        assert_eq!(item.compare.as_ref().unwrap().value, "600");
        assert_eq!(checks[1].tests.as_ref().unwrap().bin_op, BinOp::Or);
        assert!(!checks[1].tests.as_ref().unwrap().test_items[1].set);
        assert_eq!(checks[2].kind, CheckType::Manual);
        assert_eq!(
            checks[2].audit,
            Some(Audit::Shell("ps -ef | grep kube-apiserver".into()))
        );
    }

    #[test]
    fn broken_yaml_in_a_definition_names_file_line_and_column() {
        let bad = GOOD.replace("text: perms", "text: perms: 600");
        let msg = parse_controls("cfg/x/master.yaml", &bad, &config())
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with(
                "cfg/x/master.yaml:12:20: groups[0].checks[0]: mapping values are not allowed"
            ),
            "{msg}"
        );
        let msg = parse_yaml("config.yaml", "master: [\n")
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("config.yaml:1:9: (document): not valid YAML"),
            "{msg}"
        );
    }

    /// The problems of each check, as they read in a WARN's reason.
    fn problems(file: &str, text: &str) -> Vec<(String, String)> {
        let c = parse_controls(file, text, &config()).expect("the file loads");
        c.groups
            .iter()
            .flat_map(|g| &g.checks)
            .flat_map(|c| c.problems.iter().map(|p| (c.id.clone(), p.to_string())))
            .collect()
    }

    fn one_problem(text: &str) -> (String, String) {
        let mut found = problems("m.yaml", text);
        assert_eq!(found.len(), 1, "{found:?}");
        found.pop().unwrap()
    }

    #[test]
    fn an_unknown_operator_is_that_check_s_problem_with_file_line_and_field() {
        let bad = GOOD.replace("op: bitmask", "op: bitmsk");
        let found = problems("cfg/x/master.yaml", &bad);
        assert_eq!(
            found,
            [(
                "1.1.1".to_string(),
                "cfg/x/master.yaml:19:25: groups[0].checks[0].tests.test_items[0].compare.op: \
                 unknown compare op `bitmsk`, expected one of eq, noteq, gt, gte, lt, lte, has, \
                 nothave, regex, valid_elements, bitmask"
                    .to_string()
            )]
        );
        // The other checks load as written.
        let c = parse_controls("m.yaml", &bad, &config()).unwrap();
        assert!(c.groups[0].checks[1].problems.is_empty());
        assert_eq!(
            c.groups[0].checks[1].tests.as_ref().unwrap().bin_op,
            BinOp::Or
        );
        // --strict: the same problem is a load error, with the check's id.
        let err = strict(&[&c]).unwrap_err().to_string();
        assert!(err.starts_with("m.yaml:19:25: groups[0].checks[0].tests.test_items[0].compare.op: unknown compare op `bitmsk`"), "{err}");
        assert!(err.ends_with("(check 1.1.1)"), "{err}");
        assert!(strict(&[&parse_controls("m.yaml", GOOD, &config()).unwrap()]).is_ok());
    }

    #[test]
    fn malformed_jsonpaths_and_regexes_are_problems_never_not_set() {
        let item = |yaml: &str| GOOD.replace("- flag: permissions\n", &format!("- {yaml}\n"));
        for (yaml, want) in [
            (
                "path: ''",
                "test_items[0].path: unusable JSONPath ``: empty JSONPath",
            ),
            ("path: '.x'", "unusable JSONPath `.x`: text outside `{...}`"),
            (
                "path: '{.a]}'",
                "unusable JSONPath `{.a]}`: cannot read `]`",
            ),
            ("path: '{.a[-1]}'", "negative index `-1` is not supported"),
            (
                "flag: x\n              compare: {op: regex, value: '('}",
                "compare.value: invalid regex `(`",
            ),
            (
                "flag: x\n              compare: {op: gt, value: ten}",
                "`gt` needs an integer value, not `ten`",
            ),
            (
                "set: false",
                "test_items[0]: the test item names nothing to look up",
            ),
        ] {
            let text = item(yaml).replace("              compare: {op: bitmask, value: 600}\n", "");
            let (check, problem) = one_problem(&text);
            assert_eq!(check, "1.1.1");
            assert!(problem.starts_with("m.yaml:"), "{problem}");
            assert!(problem.contains(want), "{yaml}: {problem}");
        }
        // kube-bench's range template is a JSONPath like any other; a null path is no path.
        for yaml in [
            "path: \"{range .tlsCipherSuites[:]}{}{','}{end}\"",
            "flag: x\n              path: ~",
        ] {
            assert!(problems("m.yaml", &item(yaml)).is_empty(), "{yaml}");
        }
    }

    #[test]
    fn unknown_types_and_bin_ops_are_problems() {
        let (_, p) = one_problem(&GOOD.replace("type: manual", "type: manul"));
        assert!(
            p.contains("groups[0].checks[2].type: unknown check type `manul`"),
            "{p}"
        );
        let (_, p) = one_problem(&GOOD.replace("bin_op: or", "bin_op: xor"));
        assert!(p.contains("tests.bin_op: unknown bin_op `xor`"), "{p}");
        let text = GOOD.replace("    text: Files\n", "    text: Files\n    type: skp\n");
        let found = problems("m.yaml", &text);
        assert_eq!(found.len(), 3, "every check of the group: {found:?}");
        assert!(
            found[0]
                .1
                .contains("groups[0].type: unknown group type `skp`"),
            "{found:?}"
        );
    }

    #[test]
    fn native_audit_with_two_kinds_is_that_check_s_problem() {
        let bad = GOOD.replace(
            "audit: {process: apiserver}",
            "audit: {process: apiserver, file: /x}",
        );
        let (check, p) = one_problem(&bad);
        assert_eq!(check, "1.2.1");
        assert!(
            p.starts_with("m.yaml:23:9: groups[0].checks[1].audit: "),
            "{p}"
        );
        assert!(p.contains("exactly one of"), "{p}");
        let (_, p) =
            one_problem(&GOOD.replace("audit: {process: apiserver}", "audit: {proces: apiserver}"));
        assert!(p.contains("unknown field `proces`"), "{p}");
    }

    #[test]
    fn unknown_component_names_the_check_and_its_line() {
        let bad = GOOD.replace("process: apiserver", "process: apisrv");
        assert_eq!(
            one_problem(&bad),
            (
                "1.2.1".to_string(),
                "m.yaml:23:9: groups[0].checks[1].audit: audit names component `apisrv`, which config.yaml does not describe".to_string()
            )
        );
    }

    #[test]
    fn malformed_flag_expressions_are_problems_when_loading() {
        let with = |path: &str| GOOD.replace("file: $apiserverconf", &format!("file: '{path}'"));
        let ok = with("${flag:apiserver:--cni-conf-dir:-/etc/cni/net.d}/*");
        assert!(problems("m.yaml", &ok).is_empty());
        for (path, want) in [
            (
                "${flag:apiserver:--x:-}",
                "is not `${flag:<component>:<--flag>}`",
            ),
            ("${flag:apiserver}", "is not `${flag:<component>:<--flag>}`"),
            ("${flag:kubelett:--config}", "names component `kubelett`"),
        ] {
            let (check, p) = one_problem(&with(path));
            assert_eq!(check, "1.1.1");
            assert!(
                p.starts_with("m.yaml:13:9: groups[0].checks[0].audit: "),
                "{p}"
            );
            assert!(p.contains(want), "{path}: {p}");
        }
    }

    #[test]
    fn what_yaml_v2_refuses_is_still_a_load_error_with_file_line_and_field() {
        let no_id = GOOD.replace(
            "      - id: 1.2.2\n        text: shell",
            "      - text: shell",
        );
        let msg = parse_controls("m.yaml", &no_id, &config())
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with("m.yaml:"), "{msg}");
        assert!(msg.contains("groups[0].checks[2]"), "{msg}");
        assert!(msg.contains("missing field `id`"), "{msg}");
        let msg = parse_controls("m.yaml", "groups: [\n", &config())
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with("m.yaml:"), "{msg}");
        let msg = parse_controls("m.yaml", "groups: {a: 1}\n", &config())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("groups"), "{msg}");
    }

    #[test]
    fn a_comment_only_benchmark_config_keeps_the_base_and_a_bad_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.yaml"),
            "master:\n  components: [apiserver]\n  apiserver:\n    bins: [kube-apiserver]\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        let overlay = dir.path().join("b/config.yaml");
        std::fs::write(&overlay, "---\n## Version-specific settings\n").unwrap();
        let source = DefinitionSource::Dir(dir.path().to_path_buf());
        let config = load_config(&source, None, Some("b")).unwrap();
        assert_eq!(
            config.component("master", "apiserver").unwrap().bins,
            ["kube-apiserver"]
        );
        std::fs::write(&overlay, "- a list\n").unwrap();
        let err = load_config(&source, None, Some("b"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "{}: (document): expected a mapping at the top level",
                overlay.display()
            )
        );
    }

    #[test]
    fn embedded_cfg_is_readable() {
        let readme = DefinitionSource::Embedded.read("README.md").unwrap();
        assert!(readme.unwrap().contains("Bundled definitions"));
    }
}
