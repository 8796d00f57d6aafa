//! `$variable` substitution in audits, texts and remediations.
//!
//! `$name` is replaced as kube-bench replaces it: the longest known variable that the name
//! starts with (`$kubeletconf.` and `$kubeletconfig` both find `kubeletconf` when only it is
//! known); unknown names (shell variables such as `$DATA_DIR`) are left alone. `${...}` is a
//! braced expression (`${flag:apiserver:--encryption-provider-config}`, see [`FlagExpr`]); one
//! that cannot be resolved is reported so the check can say which evidence is missing.

use std::sync::OnceLock;

use regex::Regex;

/// The text after substitution, and the braced expressions that had no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Substituted {
    pub text: String,
    pub unresolved: Vec<String>,
}

/// `flag:<component>:<--flag>` or `flag:<component>:<--flag>:-<default>`: the path a flag of a
/// running component names. The default is the path the component uses when it runs without
/// the flag (its documented default, shell-style `:-`); it never stands in for a component
/// that is not running, because then nothing says the file is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagExpr<'a> {
    pub component: &'a str,
    pub flag: &'a str,
    pub default: Option<&'a str>,
}

impl<'a> FlagExpr<'a> {
    /// Parses the inside of `${...}`; `None` when it is not a well-formed flag expression
    /// (an empty component, flag or default).
    pub fn parse(expr: &'a str) -> Option<FlagExpr<'a>> {
        let rest = expr.strip_prefix("flag:")?;
        let (component, rest) = rest.split_once(':')?;
        let (flag, default) = match rest.split_once(":-") {
            Some((flag, default)) => (flag, Some(default)),
            None => (rest, None),
        };
        if component.is_empty() || flag.is_empty() || default == Some("") {
            return None;
        }
        Some(FlagExpr {
            component,
            flag,
            default,
        })
    }
}

/// The insides of the braced expressions in `text` that are flag expressions (`flag:...`),
/// well-formed or not, for checking definitions when they load.
pub fn flag_expressions(text: &str) -> Vec<&str> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"\$\{(flag:[^}]*)\}").unwrap());
    re.captures_iter(text)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect()
}

/// Replaces variables in `text`; `lookup` answers a plain name (`apiserverconf`) or the inside
/// of a braced expression (`flag:apiserver:--profiling`).
pub fn substitute(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Substituted {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"\$\{([^}]*)\}|\$([A-Za-z][A-Za-z0-9_]*)").unwrap());
    if !text.contains('$') {
        return Substituted {
            text: text.to_string(),
            unresolved: Vec::new(),
        };
    }
    let mut unresolved = Vec::new();
    let out = re.replace_all(text, |caps: &regex::Captures| {
        if let Some(expr) = caps.get(1) {
            match lookup(expr.as_str()) {
                Some(v) => v,
                None => {
                    unresolved.push(expr.as_str().to_string());
                    caps[0].to_string()
                }
            }
        } else {
            let name = &caps[2];
            // Longest known prefix first, as a plain string replace of every known name would.
            for end in (2..=name.len()).rev() {
                if let Some(v) = lookup(&name[..end]) {
                    return format!("{v}{}", &name[end..]);
                }
            }
            caps[0].to_string()
        }
    });
    Substituted {
        text: out.into_owned(),
        unresolved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "kubeletconf" => Some("/var/lib/kubelet/config.yaml".into()),
            "kubeletkubeconfig" => Some("/etc/kubernetes/kubelet.conf".into()),
            "flag:apiserver:--encryption-provider-config" => Some("/etc/enc.yaml".into()),
            _ => None,
        }
    }

    #[test]
    fn names_are_replaced_longest_first_and_unknown_left_alone() {
        let s = substitute(
            "chmod 600 $kubeletconf; chown root $kubeletkubeconfig. $DATA_DIR ${HOME}",
            &lookup,
        );
        assert_eq!(
            s.text,
            "chmod 600 /var/lib/kubelet/config.yaml; chown root /etc/kubernetes/kubelet.conf. $DATA_DIR ${HOME}"
        );
        assert_eq!(s.unresolved, ["HOME"]);
    }

    #[test]
    fn braced_flag_expressions_resolve_or_are_reported() {
        let s = substitute("${flag:apiserver:--encryption-provider-config}", &lookup);
        assert_eq!(s.text, "/etc/enc.yaml");
        assert!(s.unresolved.is_empty());
        let s = substitute("${flag:apiserver:--audit-policy-file}", &lookup);
        assert_eq!(s.unresolved, ["flag:apiserver:--audit-policy-file"]);
    }

    #[test]
    fn flag_expressions_parse_with_and_without_a_default() {
        assert_eq!(
            FlagExpr::parse("flag:kubelet:--cni-conf-dir:-/etc/cni/net.d"),
            Some(FlagExpr {
                component: "kubelet",
                flag: "--cni-conf-dir",
                default: Some("/etc/cni/net.d"),
            })
        );
        assert_eq!(
            FlagExpr::parse("flag:apiserver:--audit-policy-file"),
            Some(FlagExpr {
                component: "apiserver",
                flag: "--audit-policy-file",
                default: None,
            })
        );
        // A default may itself contain ':' and '-'; only the first ':-' separates it.
        assert_eq!(
            FlagExpr::parse("flag:proxy:--config:-/a:b/c-d:-e")
                .unwrap()
                .default,
            Some("/a:b/c-d:-e")
        );
        for bad in [
            "flag:kubelet",
            "flag::--x",
            "flag:kubelet:",
            "flag:kubelet:--x:-",
            "HOME",
            "kubelet:--x",
        ] {
            assert_eq!(FlagExpr::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_known_prefix_keeps_the_rest_of_the_word() {
        assert_eq!(
            substitute("$kubeletconfig", &lookup).text,
            "/var/lib/kubelet/config.yamlig"
        );
        assert_eq!(substitute("no variables", &lookup).text, "no variables");
    }
}
