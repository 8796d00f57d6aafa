//! How a check gets its evidence: each audit kind turns facts into [`Evidence`] — a shell
//! command's output, a component's parsed flags, file stats, a parsed config document, or a
//! policy verdict. Evidence that cannot be gathered is [`Missing`], with the status it implies
//! (never PASS) and the reason.

use serde_json::Value;

use crate::benchmark::config::Config;
use crate::benchmark::model::{Audit, NativeAudit, OnMissing};
use crate::facts::flags::{FlagRules, FlagSet};
use crate::facts::{FactError, FactErrorKind, Facts};
use crate::policies::objects::Objects;
use crate::policies::PolicyOutcome;
use crate::report::model::Status;

/// What an audit observed.
#[derive(Debug, Clone)]
pub enum Evidence {
    /// Output of a shell audit.
    Text(String),
    Process(ProcessEvidence),
    Files(Vec<FileEvidence>),
    Document(DocumentEvidence),
    Policy(PolicyOutcome),
}

#[derive(Debug, Clone)]
pub struct ProcessEvidence {
    /// The binary name that matched (`kube-apiserver`, `hyperkube apiserver`).
    pub binary: String,
    pub pid: u32,
    pub flags: FlagSet,
    pub env: Option<Vec<String>>,
}

/// One file selected by a file audit; its stat, or why it could not be read.
#[derive(Debug, Clone)]
pub struct FileEvidence {
    pub path: String,
    pub fields: Result<FileFields, FactError>,
}

/// The fields test items of a file audit read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFields {
    /// Octal, as `stat -c %a` prints it: `600`.
    pub permissions: String,
    pub user: String,
    pub group: String,
    pub kind: &'static str,
}

impl FileFields {
    pub fn get(&self, name: &str) -> Option<String> {
        match name {
            "permissions" | "mode" => Some(self.permissions.clone()),
            "owner" => Some(format!("{}:{}", self.user, self.group)),
            "user" => Some(self.user.clone()),
            "group" => Some(self.group.clone()),
            "type" => Some(self.kind.to_string()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct DocumentEvidence {
    pub path: String,
    pub text: String,
    /// The parsed document, or why it does not parse.
    pub value: Result<Value, String>,
}

/// Evidence that could not be gathered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub status: Status,
    pub reason: String,
}

impl Missing {
    pub fn warn(reason: impl Into<String>) -> Missing {
        Missing {
            status: Status::Warn,
            reason: reason.into(),
        }
    }
}

/// Section-5 objects, or why there are none.
pub type ObjectsState = Result<Objects, String>;

/// What gathering needs besides the audit itself.
pub struct AuditContext<'a> {
    pub facts: &'a Facts,
    pub config: &'a Config,
    pub target: &'a str,
    pub objects: &'a ObjectsState,
}

impl AuditContext<'_> {
    /// Boolean and list flags of every component, for reading flags in shell output.
    pub fn all_flag_rules(&self) -> (Vec<String>, Vec<String>) {
        let mut bools = Vec::new();
        let mut lists = Vec::new();
        for (_, t) in &self.config.targets {
            for c in t.defs.values() {
                bools.extend(c.bool_flags.iter().cloned());
                lists.extend(c.list_flags.iter().cloned());
            }
        }
        (bools, lists)
    }
}

/// Gathers the evidence of one (already substituted) audit.
pub fn gather(audit: &Audit, ctx: &AuditContext) -> Result<Evidence, Missing> {
    match audit {
        Audit::Shell(command) => ctx
            .facts
            .shell(command)
            .map(Evidence::Text)
            .map_err(|e| Missing::warn(e.message)),
        Audit::Native(NativeAudit::Process { component }) => process(component, ctx),
        Audit::Native(NativeAudit::File {
            path,
            recursive,
            on_missing,
        }) => files(path, *recursive, *on_missing, ctx),
        Audit::Native(NativeAudit::Config { path }) => document(path, ctx),
        Audit::Native(NativeAudit::Policy { name }) => match ctx.objects {
            Err(reason) => Err(Missing::warn(reason.clone())),
            Ok(objects) => crate::policies::evaluate(name, objects)
                .map(Evidence::Policy)
                .ok_or_else(|| Missing::warn(format!("no policy check named {name}"))),
        },
    }
}

fn process(component: &str, ctx: &AuditContext) -> Result<Evidence, Missing> {
    let Some(def) = ctx.config.component(ctx.target, component) else {
        return Err(Missing::warn(format!(
            "component {component} is not described in config.yaml"
        )));
    };
    let running = ctx
        .facts
        .component(component, &def.bins)
        .map_err(|e| Missing::warn(e.message))?;
    let Some(p) = running else {
        let name = def.bins.first().map_or(component, String::as_str);
        return Err(Missing::warn(format!("{name} not running")));
    };
    let rules = FlagRules {
        bool_flags: &def.bool_flags,
        list_flags: &def.list_flags,
    };
    Ok(Evidence::Process(ProcessEvidence {
        binary: p.argv[..p.name_words.max(1)]
            .iter()
            .map(|w| w.rsplit('/').next().unwrap_or(w))
            .collect::<Vec<_>>()
            .join(" "),
        pid: p.pid,
        flags: FlagSet::parse(p.args(), rules),
        env: p.env,
    }))
}

fn is_glob(path: &str) -> bool {
    path.contains(['*', '?', '['])
}

fn files(
    pattern: &str,
    recursive: bool,
    on_missing: OnMissing,
    ctx: &AuditContext,
) -> Result<Evidence, Missing> {
    let missing = |reason: String| Missing {
        status: match on_missing {
            OnMissing::Warn => Status::Warn,
            OnMissing::Fail => Status::Fail,
            OnMissing::Info => Status::Info,
        },
        reason,
    };
    let roots = if is_glob(pattern) {
        let found = ctx
            .facts
            .glob(pattern)
            .map_err(|e| Missing::warn(e.message))?;
        if found.is_empty() {
            return Err(missing(format!("no file matches {pattern}")));
        }
        found
    } else {
        match ctx.facts.stat(pattern) {
            Err(e) if e.kind == FactErrorKind::NotFound => return Err(missing(e.message)),
            _ => vec![pattern.to_string()],
        }
    };
    let mut paths = Vec::new();
    let mut out = Vec::new();
    for root in roots {
        let is_dir =
            matches!(ctx.facts.stat(&root), Ok(s) if s.kind == crate::facts::FileKind::Directory);
        if recursive && is_dir {
            match ctx.facts.walk(&root) {
                Ok(walk) => {
                    paths.extend(walk.entries);
                    out.extend(walk.errors.into_iter().map(|e| FileEvidence {
                        path: root.clone(),
                        fields: Err(FactError::other(&root, &e)),
                    }));
                }
                Err(e) => out.push(FileEvidence {
                    path: root.clone(),
                    fields: Err(e),
                }),
            }
        } else {
            paths.push(root);
        }
    }
    for path in paths {
        let fields = ctx.facts.stat(&path).map(|st| FileFields {
            permissions: format!("{:o}", st.mode),
            user: ctx.facts.user_name(st.uid),
            group: ctx.facts.group_name(st.gid),
            kind: st.kind.as_str(),
        });
        out.push(FileEvidence { path, fields });
    }
    Ok(Evidence::Files(out))
}

fn document(path: &str, ctx: &AuditContext) -> Result<Evidence, Missing> {
    let text = ctx.facts.read(path).map_err(|e| Missing::warn(e.message))?;
    let value = parse_document(path, &text);
    Ok(Evidence::Document(DocumentEvidence {
        path: path.to_string(),
        text,
        value,
    }))
}

/// Parses a YAML or JSON document the way the component reads it (JSON first when it looks
/// like JSON: EKS ships JSON kubelet configs). `file` names it in the error, which gives the
/// line and column.
pub fn parse_document(file: &str, text: &str) -> Result<Value, String> {
    if text.trim_start().starts_with('{') {
        if let Ok(v) = crate::yaml::from_json(file, text, &crate::yaml::Limits::DEFAULT) {
            return Ok(v);
        }
    }
    match crate::yaml::to_value(file, text) {
        Ok(Value::Null) => Err(format!("{file}: empty document")),
        Ok(v) => Ok(v),
        Err(e) => Err(e.to_string()),
    }
}
