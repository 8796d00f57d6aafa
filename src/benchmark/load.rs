//! Finding and parsing definitions: the `cfg/` directory (or the copy embedded in the binary),
//! `config.yaml` merged with a benchmark's own, and the controls file of each target. Every
//! error names the file, and the line and field where serde can tell.

use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};

use super::config::{merge, Config};
use super::model::{Audit, Controls, NativeAudit};
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
    #[error("{file}:{line}: check {check}: {message}")]
    Invalid {
        file: String,
        line: usize,
        check: String,
        message: String,
    },
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
    let mut doc = parse_yaml(&name, &text)?;
    if let Some(bench) = benchmark {
        let rel = format!("{bench}/config.yaml");
        if let Some(text) = source.read(&rel)? {
            merge(&mut doc, parse_yaml(&source.display(&rel), &text)?);
        }
    }
    Config::from_yaml(&doc).map_err(|(field, message)| DefinitionError::Config {
        file: name,
        field,
        message,
    })
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

/// Parses one controls file and checks what serde cannot: every `process` audit names a
/// component of `config`, every `policy` audit a registered policy check.
pub fn parse_controls(
    file: &str,
    text: &str,
    config: &Config,
) -> Result<Controls, DefinitionError> {
    let controls: Controls = crate::yaml::from_str(file, text).map_err(parse_error)?;
    for group in &controls.groups {
        for check in &group.checks {
            for audit in [&check.audit, &check.audit_config, &check.audit_env]
                .into_iter()
                .flatten()
            {
                let problem = match audit {
                    Audit::Native(NativeAudit::Process { component })
                        if config.component(&controls.target, component).is_none() =>
                    {
                        Some(format!(
                            "audit names component `{component}`, which config.yaml does not describe"
                        ))
                    }
                    Audit::Native(NativeAudit::Policy { name })
                        if crate::policies::checks::lookup(name).is_none() =>
                    {
                        Some(format!("audit names policy check `{name}`, which kubecis does not have"))
                    }
                    Audit::Native(NativeAudit::File { path, .. } | NativeAudit::Config { path }) => {
                        flag_expression_problem(path, &controls.target, config)
                    }
                    _ => None,
                };
                if let Some(message) = problem {
                    return Err(DefinitionError::Invalid {
                        file: file.to_string(),
                        line: line_of_id(text, &check.id),
                        check: check.id.clone(),
                        message,
                    });
                }
            }
        }
    }
    Ok(controls)
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

/// The 1-based line where `id: <id>` is written, 0 when it cannot be found.
fn line_of_id(text: &str, id: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start().trim_start_matches("- ").trim();
            l.strip_prefix("id:")
                .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\'') == id)
                .unwrap_or(false)
        })
        .map_or(0, |i| i + 1)
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
    fn unknown_operator_names_file_line_and_field() {
        let bad = GOOD.replace("op: bitmask", "op: bitmsk");
        let err = parse_controls("cfg/x/master.yaml", &bad, &config()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("cfg/x/master.yaml:19:"), "{msg}");
        assert!(
            msg.contains("groups[0].checks[0].tests.test_items[0].compare.op"),
            "{msg}"
        );
        assert!(msg.contains("unknown variant `bitmsk`"), "{msg}");
    }

    #[test]
    fn native_audit_with_two_kinds_is_rejected() {
        let bad = GOOD.replace(
            "audit: {process: apiserver}",
            "audit: {process: apiserver, file: /x}",
        );
        let msg = parse_controls("m.yaml", &bad, &config())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("exactly one of"), "{msg}");
        assert!(msg.contains("groups[0].checks[1].audit"), "{msg}");
    }

    #[test]
    fn unknown_component_names_the_check_and_its_line() {
        let bad = GOOD.replace("process: apiserver", "process: apisrv");
        let msg = parse_controls("m.yaml", &bad, &config())
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "m.yaml:21: check 1.2.1: audit names component `apisrv`, which config.yaml does not describe"
        );
    }

    #[test]
    fn malformed_flag_expressions_are_rejected_when_loading() {
        let with = |path: &str| GOOD.replace("file: $apiserverconf", &format!("file: '{path}'"));
        let ok = with("${flag:apiserver:--cni-conf-dir:-/etc/cni/net.d}/*");
        assert!(parse_controls("m.yaml", &ok, &config()).is_ok());
        for (path, want) in [
            (
                "${flag:apiserver:--x:-}",
                "is not `${flag:<component>:<--flag>}`",
            ),
            ("${flag:apiserver}", "is not `${flag:<component>:<--flag>}`"),
            ("${flag:kubelett:--config}", "names component `kubelett`"),
        ] {
            let msg = parse_controls("m.yaml", &with(path), &config())
                .unwrap_err()
                .to_string();
            assert!(msg.starts_with("m.yaml:"), "{msg}");
            assert!(msg.contains(want), "{path}: {msg}");
        }
    }

    #[test]
    fn embedded_cfg_is_readable() {
        let readme = DefinitionSource::Embedded.read("README.md").unwrap();
        assert!(readme.unwrap().contains("Bundled definitions"));
    }
}
