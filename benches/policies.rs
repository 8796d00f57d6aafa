//! Section 5 on a synthetic cluster (benches/synthetic/mod.rs): Objects -> every CIS 5.1 check, and
//! -> every registered policy check (5.1 plus the Pod Security Standards ones).

use criterion::{criterion_group, criterion_main, Criterion};
use kubecis::policies::checks::REGISTRY;
use kubecis::policies::rbac::{Rbac, Request};

mod synthetic;

fn policies(c: &mut Criterion) {
    let objects = synthetic::cluster();
    let rbac_checks: Vec<_> = REGISTRY
        .iter()
        .filter(|(name, _)| {
            name.starts_with("rbac-")
                || matches!(
                    *name,
                    "default-service-accounts"
                        | "service-account-token-automount"
                        | "system-masters"
                )
        })
        .collect();
    assert_eq!(rbac_checks.len(), 13);

    let mut group = c.benchmark_group("policies");
    group.sample_size(10);
    group.bench_function("rbac_index", |b| b.iter(|| Rbac::from_objects(&objects)));
    let rbac = Rbac::from_objects(&objects);
    group.bench_function("who_can_get_secrets", |b| {
        b.iter(|| rbac.who_can(&Request::resource("get", "", "secrets")).len())
    });
    group.bench_function("cis_5_1_all_13", |b| {
        b.iter(|| {
            rbac_checks
                .iter()
                .map(|(_, check)| check(&objects).findings.len())
                .sum::<usize>()
        })
    });
    group.bench_function("all_registered_checks", |b| {
        b.iter(|| {
            REGISTRY
                .iter()
                .map(|(_, check)| check(&objects).findings.len())
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, policies);
criterion_main!(benches);
