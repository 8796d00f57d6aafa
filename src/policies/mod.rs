//! CIS section 5: checks evaluated from Kubernetes API objects rather than node files.
//!
//! A definition names a policy check with the native audit `policy: <name>`; [`evaluate`] looks
//! the name up in the registry ([`checks`]) and judges it against the objects read from manifests
//! or a live cluster ([`objects`]).

pub mod checks;
pub mod commands;
pub mod live;
pub mod objects;
pub mod pss;
pub mod pss_checks;
pub mod rbac;
pub mod rbac_checks;
pub mod rbac_defaults;
pub mod scan;
pub mod workloads;

use crate::report::model::Status;

/// The verdict of one policy check, with its evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyOutcome {
    /// PASS, FAIL or WARN (never PASS when the objects it needs were not available).
    pub status: Status,
    /// A one-line summary of what was observed.
    pub actual: String,
    /// Why the evidence was incomplete, when it was.
    pub reason: String,
    /// Each offending subject, binding or object, named exactly.
    pub findings: Vec<String>,
}

/// Judges the policy check `name`; `None` when no check has that name.
pub fn evaluate(name: &str, objects: &objects::Objects) -> Option<PolicyOutcome> {
    checks::lookup(name).map(|check| check(objects))
}
