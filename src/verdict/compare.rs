//! Compare operators: one function each, `found value` against the expected value the
//! definition gave (already read into its type when the definitions loaded).

use crate::benchmark::model::{Compare, Expected, Op};

/// Whether `actual` satisfies the comparison.
pub fn compare(c: &Compare, actual: &str) -> bool {
    match (c.op, &c.expected) {
        (Op::Eq, Expected::Text(e)) => eq(actual, e),
        (Op::Noteq, Expected::Text(e)) => !eq(actual, e),
        (Op::Has, Expected::Text(e)) => actual.contains(e.as_str()),
        (Op::Nothave, Expected::Text(e)) => !actual.contains(e.as_str()),
        (Op::Gt, Expected::Number(e)) => number(actual).is_some_and(|a| a > *e),
        (Op::Gte, Expected::Number(e)) => number(actual).is_some_and(|a| a >= *e),
        (Op::Lt, Expected::Number(e)) => number(actual).is_some_and(|a| a < *e),
        (Op::Lte, Expected::Number(e)) => number(actual).is_some_and(|a| a <= *e),
        (Op::Regex, Expected::Regex(re)) => re.is_match(actual),
        (Op::ValidElements, Expected::Elements(allowed)) => valid_elements(actual, allowed),
        (Op::Bitmask, Expected::Mode(max)) => bitmask(actual, *max),
        // `Compare::new` pairs every operator with its kind of value.
        _ => false,
    }
}

/// Case-insensitive equality; `''` stands for the empty value, as in kube-bench.
fn eq(actual: &str, expected: &str) -> bool {
    let expected = if expected == "''" { "" } else { expected };
    actual.eq_ignore_ascii_case(expected)
}

fn number(actual: &str) -> Option<i64> {
    actual.trim().parse().ok()
}

/// Every element of the comma list `actual` is one of `allowed`.
fn valid_elements(actual: &str, allowed: &[String]) -> bool {
    let found: Vec<&str> = actual
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if found.is_empty() || allowed.is_empty() {
        return found.is_empty() && allowed.is_empty();
    }
    found.iter().all(|f| allowed.iter().any(|a| a == f))
}

/// An octal mode with no permission bit outside `max` (`600` within `644`).
fn bitmask(actual: &str, max: u32) -> bool {
    u32::from_str_radix(actual.trim(), 8).is_ok_and(|a| a & !max == 0)
}

/// How an expectation reads in results: `'--profiling' is equal to 'false'`.
pub fn describe(op: Op, name: &str, expected: &str) -> String {
    let phrase = match op {
        Op::Eq => "is equal to",
        Op::Noteq => "is not equal to",
        Op::Gt => "is greater than",
        Op::Gte => "is greater than or equal to",
        Op::Lt => "is less than",
        Op::Lte => "is less than or equal to",
        Op::Has => "has",
        Op::Nothave => "does not have",
        Op::Regex => "matches the regex",
        Op::ValidElements => "has only elements of",
        Op::Bitmask => "is a mode at most",
    };
    format!("'{name}' {phrase} '{expected}'")
}

#[cfg(test)]
mod tests {
    use super::*;
    use Op::*;

    #[test]
    fn every_operator_passes_and_fails() {
        let cases: &[(Op, &str, &str, bool)] = &[
            (Eq, "false", "false", true),
            (Eq, "False", "false", true),
            (Eq, "true", "false", false),
            (Eq, "", "''", true),
            (Noteq, "0", "0", false),
            (Noteq, "6443", "0", true),
            (Gt, "31", "30", true),
            (Gt, "30", "30", false),
            (Gte, "30", "30", true),
            (Gte, "29", "30", false),
            (Gte, "thirty", "30", false),
            (Lt, "4", "5", true),
            (Lt, "5", "5", false),
            (Lte, "5", "5", true),
            (Lte, "6", "5", false),
            (Has, "Node,RBAC", "RBAC", true),
            (Has, "AlwaysAllow", "RBAC", false),
            (Nothave, "Node,RBAC", "AlwaysAllow", true),
            (Nothave, "AlwaysAllow,RBAC", "AlwaysAllow", false),
            (Regex, "2m0s", "^[1-9][0-9]*m", true),
            (Regex, "0", "^[1-9][0-9]*m", false),
            (ValidElements, "A,B", "A,B,C", true),
            (ValidElements, "A,D", "A,B,C", false),
            (ValidElements, "", "A", false),
            (Bitmask, "600", "644", true),
            (Bitmask, "644", "644", true),
            (Bitmask, "640", "600", false),
            (Bitmask, "777", "644", false),
            (Bitmask, "700", "700", true),
            (Bitmask, "abc", "644", false),
        ];
        for (op, actual, expected, want) in cases {
            let c = Compare::new(*op, expected).unwrap();
            assert_eq!(compare(&c, actual), *want, "{actual} {op:?} {expected}");
        }
    }

    #[test]
    fn values_an_operator_cannot_use_are_refused_when_read() {
        for (op, value, want) in [
            (Regex, "(", "invalid regex `(`"),
            (Gte, "thirty", "`gte` needs an integer value, not `thirty`"),
            (
                Bitmask,
                "644x",
                "`bitmask` needs an octal mode such as 600, not `644x`",
            ),
            (Bitmask, "", "`bitmask` needs an octal mode"),
        ] {
            let err = Compare::new(op, value).unwrap_err();
            assert!(err.starts_with(want), "{op:?} {value}: {err}");
        }
        // Go's RE2 allows escaping '/', as kube-bench's OpenShift definitions do.
        assert!(Compare::new(Regex, r"\/etc\/kubernetes\/.*\.(?:crt|key)").is_ok());
    }
}
