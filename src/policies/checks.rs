//! The registry of policy checks: one line per name a definition may use in `policy: <name>`.

use super::objects::Objects;
use super::pss::checks as pss_checks;
use super::rbac::checks as rbac_checks;
use super::PolicyOutcome;

/// A policy check: objects in, verdict out.
pub type PolicyCheck = fn(&Objects) -> PolicyOutcome;

/// Every policy check, by the name definitions use.
pub const REGISTRY: &[(&str, PolicyCheck)] = &[
    // CIS 5.1: RBAC and service accounts.
    ("rbac-cluster-admin", rbac_checks::cluster_admin),
    ("rbac-secrets-access", rbac_checks::secrets_access),
    ("rbac-wildcards", rbac_checks::wildcards),
    ("rbac-create-pods", rbac_checks::create_pods),
    (
        "default-service-accounts",
        rbac_checks::default_service_accounts,
    ),
    (
        "service-account-token-automount",
        rbac_checks::token_automount,
    ),
    ("system-masters", rbac_checks::system_masters),
    (
        "rbac-bind-impersonate-escalate",
        rbac_checks::bind_impersonate_escalate,
    ),
    ("rbac-create-pv", rbac_checks::create_pv),
    ("rbac-node-proxy", rbac_checks::node_proxy),
    ("rbac-csr-approval", rbac_checks::csr_approval),
    ("rbac-webhook-config", rbac_checks::webhook_config),
    ("rbac-create-tokens", rbac_checks::create_tokens),
    ("pss-policy-control", pss_checks::policy_control),
    ("pss-privileged", pss_checks::privileged),
    ("pss-host-pid", pss_checks::host_pid),
    ("pss-host-ipc", pss_checks::host_ipc),
    ("pss-host-network", pss_checks::host_network),
    (
        "pss-allow-privilege-escalation",
        pss_checks::allow_privilege_escalation,
    ),
    ("pss-root-containers", pss_checks::root_containers),
    ("pss-net-raw", pss_checks::net_raw_capability),
    ("pss-added-capabilities", pss_checks::added_capabilities),
    (
        "pss-capabilities-assigned",
        pss_checks::capabilities_assigned,
    ),
    ("pss-windows-hostprocess", pss_checks::windows_host_process),
    ("pss-hostpath", pss_checks::host_path),
    ("pss-hostports", pss_checks::host_ports),
    (
        "network-policy-per-namespace",
        pss_checks::network_policy_per_namespace,
    ),
    ("secrets-as-env", pss_checks::secrets_as_env),
    ("seccomp-profile", pss_checks::seccomp_profile),
    ("security-context", pss_checks::security_context),
    (
        "default-namespace-in-use",
        pss_checks::default_namespace_in_use,
    ),
];

pub fn lookup(name: &str) -> Option<PolicyCheck> {
    REGISTRY
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, check)| *check)
}
