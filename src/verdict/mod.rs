//! From evidence to PASS / FAIL / WARN / INFO. Test items look their value up in the evidence
//! (flag first, then the config document, then the environment), compare it
//! ([`compare`]), and combine with `bin_op`. A value that cannot be known makes the check WARN
//! with the reason — never PASS.

pub mod compare;
pub mod jsonpath;

use crate::audit::{DocumentEvidence, Evidence, FileEvidence, Missing, ProcessEvidence};
use crate::benchmark::model::{BinOp, Check, TestItem};
use crate::facts::flags::{find_in_text, FlagRules};
use crate::report::model::Status;

/// The verdict of one check and the evidence behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub status: Status,
    pub actual: String,
    pub expected: String,
    pub reason: String,
    pub source: String,
    pub findings: Vec<String>,
}

/// One audit's evidence, or why it is missing.
pub type Gathered = Result<Evidence, Missing>;

/// The evidence of a check's three audits (`audit`, `audit_config`, `audit_env`).
pub struct Sources<'a> {
    pub audit: Option<&'a Gathered>,
    pub config: Option<&'a Gathered>,
    pub env: Option<&'a Gathered>,
}

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Pass,
    Fail,
    Unknown(String),
}

/// What a lookup found.
enum Found {
    Value(String),
    Absent,
    Unknown(String),
}

struct ItemResult {
    outcome: Outcome,
    observed: String,
    source: String,
}

/// Judges one check.
pub fn judge(check: &Check, sources: &Sources, rules: FlagRules) -> Judgement {
    let mut j = Judgement {
        status: Status::Warn,
        actual: String::new(),
        expected: expected(check),
        reason: String::new(),
        source: String::new(),
        findings: Vec::new(),
    };
    let primary = match sources.audit.or(sources.config).or(sources.env) {
        None => {
            j.reason = "the check has no audit".into();
            return j;
        }
        Some(Err(missing)) => {
            j.status = downgrade(missing.status, check.scored);
            j.reason = missing.reason.clone();
            return j;
        }
        Some(Ok(e)) => e,
    };
    if let Evidence::Policy(outcome) = primary {
        j.status = downgrade(outcome.status, check.scored);
        j.actual = outcome.actual.clone();
        j.reason = outcome.reason.clone();
        j.findings = outcome.findings.clone();
        j.source = "Kubernetes API objects".into();
        return j;
    }
    let items = check
        .tests
        .as_ref()
        .map(|t| t.test_items.as_slice())
        .unwrap_or_default();
    if items.is_empty() {
        j.reason = "the check has no tests".into();
        return j;
    }
    let bin_op = check.tests.as_ref().map(|t| t.bin_op).unwrap_or_default();
    let outcome = match primary {
        Evidence::Files(files) => judge_files(files, items, bin_op, &mut j),
        Evidence::Text(text) if check.use_multiple_values => {
            judge_lines(text, items, bin_op, sources, rules, &mut j)
        }
        _ => {
            let results: Vec<ItemResult> = items
                .iter()
                .map(|item| eval_item(item, primary, sources, rules))
                .collect();
            j.actual = join_observed(&results);
            j.source = join_sources(&results);
            combine(bin_op, results.iter().map(|r| r.outcome.clone()))
        }
    };
    match outcome {
        Outcome::Pass => j.status = Status::Pass,
        Outcome::Fail => j.status = downgrade(Status::Fail, check.scored),
        Outcome::Unknown(reason) => {
            j.status = Status::Warn;
            j.reason = reason;
        }
    }
    j
}

/// An unscored check that fails is a WARN, as in kube-bench.
fn downgrade(status: Status, scored: bool) -> Status {
    if status == Status::Fail && !scored {
        Status::Warn
    } else {
        status
    }
}

fn combine(op: BinOp, outcomes: impl Iterator<Item = Outcome>) -> Outcome {
    let all: Vec<Outcome> = outcomes.collect();
    let unknown = all.iter().find_map(|o| match o {
        Outcome::Unknown(r) => Some(r.clone()),
        _ => None,
    });
    let decided = match op {
        BinOp::And if all.contains(&Outcome::Fail) => Some(Outcome::Fail),
        BinOp::Or if all.contains(&Outcome::Pass) => Some(Outcome::Pass),
        _ => None,
    };
    decided.unwrap_or_else(|| match unknown {
        Some(r) => Outcome::Unknown(r),
        None if op == BinOp::And => Outcome::Pass,
        None => Outcome::Fail,
    })
}

fn item_outcome(item: &TestItem, found: &Found) -> Outcome {
    match found {
        Found::Unknown(r) => Outcome::Unknown(r.clone()),
        Found::Absent => pass_if(!item.set),
        Found::Value(v) => pass_if(
            item.set
                && item
                    .compare
                    .as_ref()
                    .is_none_or(|c| compare::compare(c.op, v, &c.value)),
        ),
    }
}

fn pass_if(b: bool) -> Outcome {
    if b {
        Outcome::Pass
    } else {
        Outcome::Fail
    }
}

/// One test item against the check's sources: flag in `audit`, else path in `audit_config`,
/// else env in `audit_env` (each falling back to the primary evidence when that audit is
/// absent).
fn eval_item(
    item: &TestItem,
    primary: &Evidence,
    sources: &Sources,
    rules: FlagRules,
) -> ItemResult {
    let mut observed = Vec::new();
    let mut source = String::new();
    let mut found = Found::Absent;
    let attempts: [(&str, Option<&Gathered>, Kind); 3] = [
        (&item.flag, None, Kind::Flag),
        (&item.path, sources.config, Kind::Path),
        (&item.env, sources.env, Kind::Env),
    ];
    for (name, specific, kind) in attempts {
        if name.is_empty() {
            continue;
        }
        let evidence = match specific {
            Some(Err(missing)) => {
                found = Found::Unknown(missing.reason.clone());
                observed.push(missing.reason.clone());
                break;
            }
            Some(Ok(e)) => e,
            None => primary,
        };
        let f = lookup(evidence, name, kind, rules);
        match &f {
            Found::Value(v) => {
                observed.push(format!("{name}={v}"));
                source = source_label(evidence);
            }
            Found::Absent => observed.push(format!("{name} not set")),
            Found::Unknown(r) => observed.push(r.clone()),
        }
        found = f;
        if !matches!(found, Found::Absent) {
            break;
        }
    }
    ItemResult {
        outcome: item_outcome(item, &found),
        observed: observed.join(", "),
        source,
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Flag,
    Path,
    Env,
}

fn lookup(evidence: &Evidence, name: &str, kind: Kind, rules: FlagRules) -> Found {
    let opt = |v: Option<String>| v.map_or(Found::Absent, Found::Value);
    match (evidence, kind) {
        (Evidence::Text(t), Kind::Flag) => opt(find_in_text(t, name, rules)),
        (Evidence::Text(t), Kind::Env) => opt(env_value(t.split_whitespace(), name)),
        (Evidence::Text(t), Kind::Path) => match crate::audit::parse_document(t) {
            Ok(doc) => path_value(&doc, name),
            Err(e) => Found::Unknown(format!("audit output: {e}")),
        },
        (Evidence::Process(p), Kind::Flag) => opt(p.flags.get(name).map(str::to_string)),
        (Evidence::Process(p), Kind::Env) => match &p.env {
            Some(env) => opt(env_value(env.iter().map(String::as_str), name)),
            None => Found::Unknown(format!(
                "environment of {} (pid {}) unreadable",
                p.binary, p.pid
            )),
        },
        (Evidence::Document(d), Kind::Path) => match &d.value {
            Ok(doc) => path_value(doc, name),
            Err(e) => Found::Unknown(e.clone()),
        },
        (Evidence::Document(d), Kind::Flag) => opt(find_in_text(&d.text, name, rules)),
        _ => Found::Absent,
    }
}

fn path_value(doc: &serde_json::Value, path: &str) -> Found {
    match jsonpath::lookup(doc, path) {
        Ok(values) if values.is_empty() || values.iter().all(|v| v.is_null()) => Found::Absent,
        Ok(values) => Found::Value(jsonpath::value_text(&values)),
        Err(e) => Found::Unknown(e),
    }
}

fn env_value<'a>(mut entries: impl Iterator<Item = &'a str>, name: &str) -> Option<String> {
    entries.find_map(|e| e.strip_prefix(name)?.strip_prefix('=').map(str::to_string))
}

fn source_label(evidence: &Evidence) -> String {
    match evidence {
        Evidence::Process(ProcessEvidence { binary, pid, .. }) => {
            format!("command line of {binary} (pid {pid})")
        }
        Evidence::Document(DocumentEvidence { path, .. }) => format!("config file {path}"),
        Evidence::Text(_) => "audit output".into(),
        Evidence::Files(_) => "file stat".into(),
        Evidence::Policy(_) => "Kubernetes API objects".into(),
    }
}

fn join_observed(results: &[ItemResult]) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for r in results {
        if !r.observed.is_empty() && !parts.contains(&r.observed.as_str()) {
            parts.push(&r.observed);
        }
    }
    parts.join("; ")
}

fn join_sources(results: &[ItemResult]) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for r in results {
        if !r.source.is_empty() && !parts.contains(&r.source.as_str()) {
            parts.push(&r.source);
        }
    }
    parts.join("; ")
}

/// Every selected file must pass; failing and unreadable files are named in the findings.
fn judge_files(
    files: &[FileEvidence],
    items: &[TestItem],
    op: BinOp,
    j: &mut Judgement,
) -> Outcome {
    let mut outcomes = Vec::new();
    let mut observed = Vec::new();
    for file in files {
        let (outcome, seen) = match &file.fields {
            Err(e) => (Outcome::Unknown(e.message.clone()), e.message.clone()),
            Ok(fields) => {
                let mut seen = Vec::new();
                let outcome = combine(
                    op,
                    items.iter().map(|item| {
                        let found = match fields.get(&item.flag) {
                            Some(v) => {
                                seen.push(format!("{}={v}", item.flag));
                                Found::Value(v)
                            }
                            None => Found::Absent,
                        };
                        item_outcome(item, &found)
                    }),
                );
                (outcome, format!("{} {}", file.path, seen.join(" ")))
            }
        };
        if outcome != Outcome::Pass {
            j.findings.push(seen.clone());
        }
        observed.push(seen);
        outcomes.push(outcome);
    }
    j.source = "file stat".into();
    j.actual = if files.len() == 1 {
        observed.pop().unwrap_or_default()
    } else {
        let bad = j.findings.len();
        format!("{} files checked, {bad} not compliant", files.len())
    };
    combine(BinOp::And, outcomes.into_iter())
}

/// `use_multiple_values`: every line of the output must pass on its own.
fn judge_lines(
    text: &str,
    items: &[TestItem],
    op: BinOp,
    sources: &Sources,
    rules: FlagRules,
    j: &mut Judgement,
) -> Outcome {
    let mut outcomes = Vec::new();
    let mut observed = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let evidence = Evidence::Text(line.to_string());
        let results: Vec<ItemResult> = items
            .iter()
            .map(|i| eval_item(i, &evidence, sources, rules))
            .collect();
        let outcome = combine(op, results.iter().map(|r| r.outcome.clone()));
        if outcome != Outcome::Pass {
            j.findings.push(line.to_string());
        }
        observed.push(join_observed(&results));
        outcomes.push(outcome);
    }
    j.actual = observed.join("; ");
    if outcomes.is_empty() {
        return Outcome::Fail;
    }
    combine(BinOp::And, outcomes.into_iter())
}

/// What the tests expect, e.g. `'--profiling' is equal to 'false'`.
pub fn expected(check: &Check) -> String {
    let Some(tests) = &check.tests else {
        return String::new();
    };
    let parts: Vec<String> = tests
        .test_items
        .iter()
        .map(|item| {
            let name = [&item.flag, &item.path, &item.env]
                .into_iter()
                .filter(|n| !n.is_empty())
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(" | ");
            match (&item.compare, item.set) {
                (_, false) => format!("'{name}' is not set"),
                (None, true) => format!("'{name}' is set"),
                (Some(c), true) => compare::describe(c.op, &name, &c.value),
            }
        })
        .collect();
    let sep = match tests.bin_op {
        BinOp::And => " AND ",
        BinOp::Or => " OR ",
    };
    parts.join(sep)
}
