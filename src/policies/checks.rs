//! The registry of policy checks: one line per name a definition may use in `policy: <name>`.

use super::objects::Objects;
use super::PolicyOutcome;

/// A policy check: objects in, verdict out.
pub type PolicyCheck = fn(&Objects) -> PolicyOutcome;

/// Every policy check, by the name definitions use.
pub const REGISTRY: &[(&str, PolicyCheck)] = &[];

pub fn lookup(name: &str) -> Option<PolicyCheck> {
    REGISTRY
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, check)| *check)
}
