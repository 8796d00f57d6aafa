//! Compare operators: one function each, `found value` against `expected`.

use crate::benchmark::model::Op;

/// Whether `actual` satisfies `op expected`.
pub fn compare(op: Op, actual: &str, expected: &str) -> bool {
    match op {
        Op::Eq => eq(actual, expected),
        Op::Noteq => !eq(actual, expected),
        Op::Gt => numbers(actual, expected).is_some_and(|(a, e)| a > e),
        Op::Gte => numbers(actual, expected).is_some_and(|(a, e)| a >= e),
        Op::Lt => numbers(actual, expected).is_some_and(|(a, e)| a < e),
        Op::Lte => numbers(actual, expected).is_some_and(|(a, e)| a <= e),
        Op::Has => actual.contains(expected),
        Op::Nothave => !actual.contains(expected),
        Op::Regex => regex::Regex::new(expected).is_ok_and(|re| re.is_match(actual)),
        Op::ValidElements => valid_elements(actual, expected),
        Op::Bitmask => bitmask(actual, expected),
    }
}

/// Case-insensitive equality; `''` stands for the empty value, as in kube-bench.
fn eq(actual: &str, expected: &str) -> bool {
    let expected = if expected == "''" { "" } else { expected };
    actual.eq_ignore_ascii_case(expected)
}

fn numbers(actual: &str, expected: &str) -> Option<(i64, i64)> {
    Some((actual.trim().parse().ok()?, expected.trim().parse().ok()?))
}

/// Every element of the comma list `actual` is one of the comma list `allowed`.
fn valid_elements(actual: &str, allowed: &str) -> bool {
    let split = |s: &str| -> Vec<String> {
        s.split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (found, allowed) = (split(actual), split(allowed));
    if found.is_empty() || allowed.is_empty() {
        return found.is_empty() && allowed.is_empty();
    }
    found.iter().all(|f| allowed.contains(f))
}

/// An octal mode with no permission bit outside the octal `max` (`600` within `644`).
fn bitmask(actual: &str, max: &str) -> bool {
    match (
        u32::from_str_radix(actual.trim(), 8),
        u32::from_str_radix(max.trim(), 8),
    ) {
        (Ok(a), Ok(m)) => a & !m == 0,
        _ => false,
    }
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
            (Regex, "x", "(", false),
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
            assert_eq!(
                compare(*op, actual, expected),
                *want,
                "{actual} {op:?} {expected}"
            );
        }
    }
}
