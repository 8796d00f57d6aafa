//! CIS section 5: checks evaluated from Kubernetes API objects rather than node files.
//!
//! One folder per policy family: [`rbac`] (the authorizer, its checks, `who-can`/`can-i`) and
//! [`pss`] (Pod Security Standards and their checks). [`objects`] and [`live`] bring the objects
//! in (manifests or the API); [`workloads`] finds the pod templates in them; [`scan`] is the CI
//! command.
//!
//! A definition names a policy check with the native audit `policy: <name>`; [`evaluate`] looks
//! the name up in the registry ([`checks`]) and judges it against the objects read from manifests
//! or a live cluster ([`objects`]).

pub mod checks;
pub mod live;
pub mod objects;
pub mod pss;
pub mod rbac;
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
