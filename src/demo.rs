//! `kubecis demo`: the bundled benchmark run on an embedded snapshot of a kubeadm control-plane
//! node, so the report can be seen without any Kubernetes.

use anyhow::{bail, Result};

use crate::cli::DemoArgs;

pub fn run(_args: &DemoArgs) -> Result<u8> {
    bail!("the demo node snapshot is not bundled in this build")
}
