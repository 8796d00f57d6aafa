//! Generated documentation must match what the tool generates from the definitions today.

use assert_cmd::Command;

#[test]
fn docs_checks_md_is_generated_from_the_bundled_definitions() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::cargo_bin("kubecis")
        .unwrap()
        .args([
            "checks",
            "--benchmark",
            "cis-1.23",
            "--markdown",
            "--config-dir",
        ])
        .arg(root.join("cfg"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated = String::from_utf8(out.stdout).unwrap();
    let committed = std::fs::read_to_string(root.join("docs/checks.md")).unwrap();
    assert!(
        generated == committed,
        "docs/checks.md is stale: kubecis checks --benchmark cis-1.23 --markdown > docs/checks.md"
    );
    // Every recommendation of the benchmark is in the table: 95 node checks and the 30 of
    // section 5 (5.2 numbered 5.2.1-5.2.13, as the benchmark now has it).
    let rows = generated
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| id"))
        .count();
    assert_eq!(rows, 125);
}
