//! kubecis: audits a Kubernetes node and cluster against the CIS Kubernetes Benchmark.

pub mod policies;
pub mod report;
