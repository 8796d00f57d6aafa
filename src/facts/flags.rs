//! Command-line flags read the way Kubernetes components' own flag library (pflag) reads them.
//!
//! `--name=value`; `--name value` unless the flag is boolean; a bare `--name` is `true`;
//! repeated flags: the last wins, except list flags whose values accumulate; `--` ends the
//! flags. A flag is always a whole token, so `--read-only` never matches `--read-only-port`.
//! Go-style single-dash long flags (`-data-dir=...`, accepted by etcd) are read as `--data-dir`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Which flags are boolean and which accumulate, from `config.yaml`.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlagRules<'a> {
    pub bool_flags: &'a [String],
    pub list_flags: &'a [String],
}

impl FlagRules<'_> {
    fn is_bool(&self, name: &str) -> bool {
        self.bool_flags.iter().any(|f| f == name)
    }
    fn is_list(&self, name: &str) -> bool {
        self.list_flags.iter().any(|f| f == name)
    }
}

/// The flags of one command line: name (with its leading `--`) → value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagSet {
    pub values: BTreeMap<String, String>,
}

impl FlagSet {
    /// Parses `args` (without the program name).
    pub fn parse<S: AsRef<str>>(args: &[S], rules: FlagRules) -> FlagSet {
        let mut set = FlagSet::default();
        let mut i = 0;
        while i < args.len() {
            let token = args[i].as_ref();
            i += 1;
            if token == "--" {
                break;
            }
            let Some(body) = long_flag_body(token) else {
                continue;
            };
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (format!("--{n}"), v.to_string()),
                None => {
                    let name = format!("--{body}");
                    let next = args.get(i).map(AsRef::as_ref);
                    match next {
                        Some(v) if !rules.is_bool(&name) && takes_as_value(v) => {
                            i += 1;
                            (name, v.to_string())
                        }
                        _ => (name, "true".to_string()),
                    }
                }
            };
            if rules.is_list(&name) {
                if let Some(prev) = set.values.get_mut(&name) {
                    prev.push(',');
                    prev.push_str(&value);
                    continue;
                }
            }
            set.values.insert(name, value);
        }
        set
    }

    /// The value of `--flag`. A name without dashes (a feature gate such as
    /// `RotateKubeletServerCertificate`) is looked up inside `key=value` lists of any flag.
    pub fn get(&self, flag: &str) -> Option<&str> {
        if flag.starts_with('-') {
            let name = match long_flag_body(flag) {
                Some(body) => format!("--{body}"),
                None => flag.to_string(),
            };
            return self.values.get(&name).map(String::as_str);
        }
        self.values.values().find_map(|v| {
            v.split(',').find_map(|element| {
                let (k, val) = element.split_once('=')?;
                (k.trim() == flag).then_some(val.trim())
            })
        })
    }
}

/// The name part of a long flag token (`--a=b` → `a=b`), `None` for anything else.
fn long_flag_body(token: &str) -> Option<&str> {
    if let Some(body) = token.strip_prefix("--") {
        return (!body.is_empty()).then_some(body);
    }
    let body = token.strip_prefix('-')?;
    // `-v` is a pflag shorthand and `-1` a number; `-data-dir` is a Go-style long flag.
    let name = body.split('=').next().unwrap_or(body);
    (name.len() > 1 && name.starts_with(|c: char| c.is_ascii_alphabetic())).then_some(body)
}

/// Whether the token after a non-boolean flag is its value (not the next flag).
fn takes_as_value(token: &str) -> bool {
    !token.starts_with('-') || token == "-" || token.parse::<f64>().is_ok()
}

/// Finds `flag` in free text (shell-audit output), token by token.
///
/// Dashed flags are read with [`FlagSet::parse`] over the whitespace-separated tokens. Other
/// names are matched whole: `root:root` as a token, `permissions=600`, `key: value`, or inside a
/// comma list (`A=true,B=false`). Returns the value (the name itself for a bare token).
pub fn find_in_text(text: &str, flag: &str, rules: FlagRules) -> Option<String> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    if flag.starts_with('-') {
        return FlagSet::parse(&tokens, rules).get(flag).map(str::to_string);
    }
    for (i, token) in tokens.iter().enumerate() {
        let token = token.trim_end_matches(',');
        if token == flag {
            return Some(flag.to_string());
        }
        if token == format!("{flag}:") {
            return Some(tokens.get(i + 1).copied().unwrap_or_default().to_string());
        }
        for sep in ['=', ':'] {
            if let Some(rest) = token.strip_prefix(flag).and_then(|r| r.strip_prefix(sep)) {
                return Some(rest.to_string());
            }
        }
    }
    // Inside a list: `--feature-gates=A=true,RotateKubeletServerCertificate=true`.
    tokens.iter().find_map(|token| {
        let list = match token.strip_prefix('-') {
            Some(_) => token.split_once('=')?.1,
            None => token,
        };
        list.split(',')
            .find_map(|element| Some(element.strip_prefix(flag)?.strip_prefix('=')?.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> (Vec<String>, Vec<String>) {
        (
            vec!["--anonymous-auth".into(), "--profiling".into()],
            vec![
                "--enable-admission-plugins".into(),
                "--tls-cipher-suites".into(),
            ],
        )
    }

    fn parse(line: &str) -> FlagSet {
        let (b, l) = rules();
        let args: Vec<&str> = line.split_whitespace().collect();
        FlagSet::parse(
            &args,
            FlagRules {
                bool_flags: &b,
                list_flags: &l,
            },
        )
    }

    #[test]
    fn equals_space_and_bare_forms() {
        let f = parse("--secure-port=6443 --etcd-servers https://127.0.0.1:2379 --profiling --anonymous-auth=false");
        assert_eq!(f.get("--secure-port"), Some("6443"));
        assert_eq!(f.get("--etcd-servers"), Some("https://127.0.0.1:2379"));
        assert_eq!(f.get("--profiling"), Some("true"));
        assert_eq!(f.get("--anonymous-auth"), Some("false"));
        assert_eq!(f.get("--missing"), None);
    }

    #[test]
    fn boolean_flags_never_take_the_next_token() {
        let f = parse("--profiling false --anonymous-auth --v 2");
        assert_eq!(
            f.get("--profiling"),
            Some("true"),
            "pflag: `false` is a positional arg"
        );
        assert_eq!(f.get("--anonymous-auth"), Some("true"));
        assert_eq!(f.get("--v"), Some("2"));
    }

    #[test]
    fn a_non_boolean_flag_followed_by_a_flag_is_bare() {
        let f = parse("--kubelet-https --secure-port 6443");
        assert_eq!(f.get("--kubelet-https"), Some("true"));
        assert_eq!(f.get("--secure-port"), Some("6443"));
        let f = parse("--oom-score-adj -999 --x=1");
        assert_eq!(
            f.get("--oom-score-adj"),
            Some("-999"),
            "a negative number is a value"
        );
    }

    #[test]
    fn last_wins_and_lists_accumulate() {
        let f = parse("--audit-log-maxage=10 --audit-log-maxage=30 --enable-admission-plugins=NodeRestriction --enable-admission-plugins AlwaysPullImages");
        assert_eq!(f.get("--audit-log-maxage"), Some("30"));
        assert_eq!(
            f.get("--enable-admission-plugins"),
            Some("NodeRestriction,AlwaysPullImages")
        );
    }

    #[test]
    fn a_flag_is_never_the_prefix_of_a_longer_flag() {
        let f = parse("--read-only-port=10255 --anonymous-auth-extra=true");
        assert_eq!(f.get("--read-only"), None);
        assert_eq!(f.get("--anonymous-auth"), None);
    }

    #[test]
    fn double_dash_ends_flags_and_go_style_single_dash_is_long() {
        let f = parse("-data-dir=/var/lib/etcd -v=2 -x --name=a -- --after=1");
        assert_eq!(f.get("--data-dir"), Some("/var/lib/etcd"));
        assert_eq!(f.get("-data-dir"), Some("/var/lib/etcd"));
        assert_eq!(f.get("--v"), None, "-v=2 is a shorthand, not --v");
        assert_eq!(f.get("--name"), Some("a"));
        assert_eq!(f.get("--after"), None);
    }

    #[test]
    fn feature_gates_are_found_by_name() {
        let f = parse("--feature-gates=A=false,RotateKubeletServerCertificate=true");
        assert_eq!(f.get("RotateKubeletServerCertificate"), Some("true"));
        assert_eq!(f.get("A"), Some("false"));
        assert_eq!(f.get("B"), None);
    }

    #[test]
    fn text_lookup_matches_whole_tokens() {
        let (b, l) = rules();
        let r = FlagRules {
            bool_flags: &b,
            list_flags: &l,
        };
        let ps = "root 812 1 2 10:00 ? 00:10:00 kube-apiserver --read-only-port=10255 --authorization-mode Node,RBAC";
        assert_eq!(find_in_text(ps, "--read-only", r), None);
        assert_eq!(
            find_in_text(ps, "--authorization-mode", r).as_deref(),
            Some("Node,RBAC")
        );
        assert_eq!(
            find_in_text("root:root\n", "root:root", r).as_deref(),
            Some("root:root")
        );
        assert_eq!(find_in_text("root:rootx\n", "root:root", r), None);
        assert_eq!(
            find_in_text("permissions=600\n", "permissions", r).as_deref(),
            Some("600")
        );
        assert_eq!(
            find_in_text("readOnlyPort: 0\n", "readOnlyPort", r).as_deref(),
            Some("0")
        );
        assert_eq!(
            find_in_text(
                "--feature-gates=RotateKubeletServerCertificate=true",
                "RotateKubeletServerCertificate",
                r
            )
            .as_deref(),
            Some("true")
        );
    }
}
