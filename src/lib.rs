//! kubecis: audits a Kubernetes node and cluster against the CIS Kubernetes Benchmark.
//!
//! The pipeline, one way: definitions ([`benchmark`]) + node facts ([`facts`]) → evidence
//! ([`audit`]) → verdicts ([`verdict`]), driven by [`runner`] → reports ([`report`]).
//! Section 5 is judged from Kubernetes API objects ([`policies`]).

pub mod audit;
pub mod benchmark;
pub mod cli;
pub mod collect;
pub mod commands;
pub mod demo;
pub mod facts;
pub mod policies;
pub mod report;
pub mod runner;
pub mod secrets;
pub mod verdict;
pub mod yaml;
