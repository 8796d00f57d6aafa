//! `kubecis demo`: the bundled benchmark run on an embedded snapshot of a kubeadm v1.29
//! control-plane node (`demo/kubeadm-control-plane.json`, collected from the
//! `tests/fixtures/nodes/kubeadm-control-plane` fixture) and the API objects of a small cluster
//! (the fresh-cluster RBAC and workload fixtures), so the whole report — sections 1 to 5 — can
//! be seen without any Kubernetes. A test keeps the snapshot equal to the fixture node.

use anyhow::{Context, Result};
use clap::Parser;

use crate::cli::{Cli, Command, DemoArgs};
use crate::facts::Facts;
use crate::policies::objects::Objects;

/// The node: `kubecis collect` of the kubeadm-control-plane fixture.
pub const SNAPSHOT: &str = include_str!("../demo/kubeadm-control-plane.json");

/// The cluster's objects, as `kubectl get -o yaml` would give them.
const OBJECTS: &[(&str, &str)] = &[
    (
        "default-cluster.yaml",
        include_str!("../tests/fixtures/rbac/default-cluster.yaml"),
    ),
    (
        "namespaces.yaml",
        include_str!("../tests/fixtures/pss/cluster/namespaces.yaml"),
    ),
    (
        "workloads.yaml",
        include_str!("../tests/fixtures/pss/cluster/workloads.yaml"),
    ),
];

pub fn run(args: &DemoArgs) -> Result<u8> {
    let snapshot = crate::collect::parse("<embedded demo snapshot>", SNAPSHOT)?;
    let mut objects = Objects::default();
    for (name, text) in OBJECTS {
        objects
            .add_text(name, text)
            .with_context(|| format!("embedded demo objects {name}"))?;
    }
    let mut argv = vec![
        "kubecis",
        "run",
        "--benchmark",
        "cis-1.23",
        "--targets",
        "master,etcd,controlplane,node,policies",
    ];
    if args.json {
        argv.push("--json");
    }
    if args.no_color {
        argv.push("--no-color");
    }
    let Some(Command::Run(run_args)) = Cli::parse_from(argv).command else {
        unreachable!("the demo's own arguments parse as `run`");
    };
    eprintln!(
        "kubecis demo: a kubeadm v1.29 control-plane node (embedded snapshot) and a small cluster's API objects; no Kubernetes needed.\n"
    );
    let facts = Facts::replay(snapshot);
    let report = crate::commands::evaluate(&run_args, &facts, &Ok(objects))?;
    crate::commands::write_report(&report, &run_args)?;
    Ok(0)
}
