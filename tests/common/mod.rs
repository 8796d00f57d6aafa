//! Shared helpers for kubecis's integration tests.
//!
//! Each file under `tests/` is its own crate and uses only part of this module, hence the
//! `dead_code` allowance.
#![allow(dead_code)]

pub mod cfg_source;
pub mod diff;
pub mod fixture;

/// Runs the kubecis binary; returns its exit code (-1 when killed by a signal), stdout and
/// stderr.
pub fn kubecis(args: &[&str]) -> (i32, String, String) {
    let out = assert_cmd::Command::cargo_bin("kubecis")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
