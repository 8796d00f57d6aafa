//! Runs every registered policy check once on the synthetic cluster of benches/synthetic/mod.rs and
//! prints the time of each; for peak memory: `/usr/bin/time -v target/release/examples/policies_synthetic`.

use std::time::Instant;

use kubecis::policies::checks::REGISTRY;

#[path = "../benches/synthetic/mod.rs"]
mod synthetic;

fn main() {
    let start = Instant::now();
    let objects = synthetic::cluster();
    println!(
        "built {} objects in {:?}",
        objects.items.len(),
        start.elapsed()
    );
    let all = Instant::now();
    for (name, check) in REGISTRY {
        let t = Instant::now();
        let out = check(&objects);
        println!(
            "{name:34} {:5} {:6} findings  {:?}",
            out.status.as_str(),
            out.findings.len(),
            t.elapsed()
        );
    }
    println!("all checks: {:?}", all.elapsed());
}
