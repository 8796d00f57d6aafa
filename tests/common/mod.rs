//! Shared helpers for kubecis's integration tests.
//!
//! Each file under `tests/` is its own crate and uses only part of this module, hence the
//! `dead_code` allowance.
#![allow(dead_code)]

pub mod fixture;
