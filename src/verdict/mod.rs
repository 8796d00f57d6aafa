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
        // A value inside a config file says which file: a JSONPath alone does not tell an
        // operator where to look.
        let place = match (evidence, kind) {
            (Evidence::Document(d), Kind::Path) => format!(" in {}", d.path),
            _ => String::new(),
        };
        match &f {
            Found::Value(v) => {
                observed.push(format!("{name}={v}{place}"));
                source = source_label(evidence, kind);
            }
            Found::Absent => observed.push(format!("{name} not set{place}")),
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
        (Evidence::Text(t), Kind::Path) => match crate::audit::parse_document("audit output", t) {
            Ok(doc) => path_value(&doc, name),
            Err(e) => Found::Unknown(e),
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

fn source_label(evidence: &Evidence, kind: Kind) -> String {
    match evidence {
        Evidence::Process(ProcessEvidence { binary, pid, .. }) => match kind {
            Kind::Env => format!("environment of {binary} (pid {pid})"),
            _ => format!("command line of {binary} (pid {pid})"),
        },
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::DocumentEvidence;
    use crate::benchmark::model::Check;

    fn check(yaml: &str) -> Check {
        crate::yaml::from_str("check.yaml", yaml).unwrap()
    }

    fn process(flags: &[&str]) -> Gathered {
        let args: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
        Ok(Evidence::Process(ProcessEvidence {
            binary: "kubelet".into(),
            pid: 42,
            flags: crate::facts::flags::FlagSet::parse(&args, FlagRules::default()),
            env: Some(vec!["HTTP_PROXY=x".into()]),
        }))
    }

    fn document(text: &str) -> Gathered {
        Ok(Evidence::Document(DocumentEvidence {
            path: "/var/lib/kubelet/config.yaml".into(),
            text: text.into(),
            value: crate::audit::parse_document("/var/lib/kubelet/config.yaml", text),
        }))
    }

    fn run(c: &Check, audit: &Gathered, config: Option<&Gathered>) -> Judgement {
        judge(
            c,
            &Sources {
                audit: Some(audit),
                config,
                env: None,
            },
            FlagRules::default(),
        )
    }

    const ANON: &str = "id: 4.2.1\nscored: true\ntests:\n  test_items:\n    - flag: --anonymous-auth\n      path: '{.authentication.anonymous.enabled}'\n      compare: {op: eq, value: false}\n";

    #[test]
    fn flag_first_then_config_file() {
        let c = check(ANON);
        let unsafe_doc = document("authentication: {anonymous: {enabled: true}}");
        let j = run(&c, &process(&["--anonymous-auth=false"]), Some(&unsafe_doc));
        assert_eq!(
            (j.status, j.source.as_str()),
            (Status::Pass, "command line of kubelet (pid 42)")
        );
        let j = run(&c, &process(&[]), Some(&unsafe_doc));
        assert_eq!(j.status, Status::Fail);
        assert_eq!(j.source, "config file /var/lib/kubelet/config.yaml");
        assert_eq!(
            j.actual,
            "--anonymous-auth not set, {.authentication.anonymous.enabled}=true in /var/lib/kubelet/config.yaml"
        );
        assert_eq!(
            j.expected,
            "'--anonymous-auth | {.authentication.anonymous.enabled}' is equal to 'false'"
        );
    }

    #[test]
    fn a_value_that_cannot_be_known_is_a_warn_never_a_pass() {
        let c = check(ANON);
        let broken = document("authentication: [");
        let j = run(&c, &process(&[]), Some(&broken));
        assert_eq!(j.status, Status::Warn);
        assert!(
            j.reason
                .starts_with("/var/lib/kubelet/config.yaml:1:17: not valid YAML"),
            "{}",
            j.reason
        );
        let missing: Gathered = Err(Missing::warn("/var/lib/kubelet/config.yaml: not found"));
        let j = run(&c, &process(&[]), Some(&missing));
        assert_eq!(
            (j.status, j.reason.as_str()),
            (Status::Warn, "/var/lib/kubelet/config.yaml: not found")
        );
        // set: false would pass on absence — but absence in a file we could not read is unknown.
        let c = check("id: x\nscored: true\ntests:\n  test_items:\n    - {flag: --x, path: '{.x}', set: false}\n");
        assert_eq!(run(&c, &process(&[]), Some(&missing)).status, Status::Warn);
        let gone: Gathered = Err(Missing::warn("kubelet not running"));
        assert_eq!(run(&c, &gone, None).status, Status::Warn);
    }

    #[test]
    fn bin_op_or_passes_on_any_known_pass_and_and_fails_on_any_known_fail() {
        let missing: Gathered = Err(Missing::warn("gone"));
        let or = check("id: x\nscored: true\ntests:\n  bin_op: or\n  test_items:\n    - {flag: --a, compare: {op: eq, value: '1'}}\n    - {flag: --b, path: '{.b}'}\n");
        assert_eq!(
            run(&or, &process(&["--a=1"]), Some(&missing)).status,
            Status::Pass
        );
        assert_eq!(
            run(&or, &process(&["--a=2"]), Some(&missing)).status,
            Status::Warn
        );
        let and = check("id: x\nscored: true\ntests:\n  test_items:\n    - {flag: --a, compare: {op: eq, value: '1'}}\n    - {flag: --b, path: '{.b}'}\n");
        assert_eq!(
            run(&and, &process(&["--a=2"]), Some(&missing)).status,
            Status::Fail
        );
        assert_eq!(
            run(&and, &process(&["--a=1"]), Some(&missing)).status,
            Status::Warn
        );
        assert_eq!(
            run(&and, &process(&["--a=1", "--b"]), Some(&missing)).status,
            Status::Pass
        );
    }

    #[test]
    fn env_items_read_the_process_environment_and_multiple_values_every_line() {
        let c = check(
            "id: x\nscored: true\ntests:\n  test_items:\n    - {env: HTTP_PROXY, set: true}\n",
        );
        assert_eq!(run(&c, &process(&[]), None).status, Status::Pass);
        let c = check("id: x\nscored: true\nuse_multiple_values: true\ntests:\n  test_items:\n    - {flag: permissions, compare: {op: bitmask, value: '600'}}\n");
        let lines: Gathered = Ok(Evidence::Text("permissions=600\npermissions=644\n".into()));
        let j = run(&c, &lines, None);
        assert_eq!(j.status, Status::Fail);
        assert_eq!(j.findings, ["permissions=644"]);
    }

    #[test]
    fn unscored_failures_are_warnings() {
        let c = check("id: x\nscored: false\ntests:\n  test_items:\n    - {flag: --a}\n");
        assert_eq!(run(&c, &process(&[]), None).status, Status::Warn);
        assert_eq!(run(&c, &process(&["--a"]), None).status, Status::Pass);
    }
}
