//! Offline mode: a node's facts written to a snapshot file by `kubecis collect` and read back
//! by `kubecis run --snapshot`. This module owns the file (versioned JSON, see
//! `docs/snapshot.md`) and what is taken out of it before it leaves the node: secrets that no
//! check compares. The facts themselves, and their recording, belong to [`crate::facts`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::Regex;

use crate::benchmark::load::{self, DefinitionSource};
use crate::facts::{Facts, Snapshot, SNAPSHOT_FORMAT};
use crate::runner::{choose_benchmark, RunError, Runner, Selection};

pub use crate::secrets::REDACTED;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotFileError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: not a kubecis snapshot: {message}")]
    Parse {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{path}: snapshot format {found:?} is not supported by this kubecis \
         (it reads {SNAPSHOT_FORMAT:?}); collect it again with this version"
    )]
    Format { path: String, found: String },
}

/// Runs the selected checks against the live node behind `facts` — the results are thrown
/// away — and returns everything they read, redacted.
///
/// Without `--targets` every target of the benchmark that reads the node is run (all but
/// `policies`, which judges API objects rather than node facts), whatever runs on the node:
/// then any later `run --snapshot`, with or without `--targets`, finds every fact it asks
/// for, and its target detection sees the same running components the live run would.
pub fn collect(
    source: &DefinitionSource,
    config_file: Option<&Path>,
    sel: &Selection,
    facts: &Facts,
) -> Result<Snapshot, RunError> {
    let base = load::load_config(source, config_file, None)?;
    let benchmark = choose_benchmark(&base, sel)?;
    let config = load::load_config(source, config_file, Some(&benchmark))?;
    let mut sel = Selection {
        benchmark: Some(benchmark.clone()),
        ..sel.clone()
    };
    if sel.targets.is_empty() {
        let mapped = config
            .target_mapping
            .get(&benchmark)
            .cloned()
            .unwrap_or_default();
        for target in mapped {
            let has_file = source
                .read(&format!("{benchmark}/{target}.yaml"))?
                .is_some();
            if target != "policies" && has_file {
                sel.targets.push(target);
            }
        }
    }
    let objects = Err("collect records node facts only; API objects are not read".to_string());
    Runner {
        source,
        config: &config,
        facts,
        objects: &objects,
    }
    .run(&sel)?;
    let mut snapshot = facts.snapshot();
    redact(&mut snapshot);
    Ok(snapshot)
}

/// Where a snapshot goes: a file, or standard output for `-` (so `ssh node sudo kubecis collect
/// > node.json` leaves nothing behind on the node).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Stdout,
    File(PathBuf),
}

impl Output {
    pub fn parse(arg: &str) -> Output {
        if arg == "-" {
            Output::Stdout
        } else {
            Output::File(PathBuf::from(arg))
        }
    }
}

/// Writes `snapshot` as pretty JSON. A file is created with mode 0600 (it describes the
/// node's security configuration) and refused if it already exists, so a collect never
/// overwrites anything.
pub fn write(snapshot: &Snapshot, out: &Output) -> Result<(), SnapshotFileError> {
    let mut json = serde_json::to_string_pretty(snapshot).expect("a snapshot always serializes");
    json.push('\n');
    match out {
        Output::Stdout => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(json.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|source| SnapshotFileError::Io {
                    path: "<stdout>".into(),
                    source,
                })
        }
        Output::File(path) => {
            use std::os::unix::fs::OpenOptionsExt;
            let io = |source| SnapshotFileError::Io {
                path: path.display().to_string(),
                source,
            };
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(io)?;
            f.write_all(json.as_bytes()).map_err(io)
        }
    }
}

/// Reads a snapshot file, refusing other formats and naming the line of a JSON error.
pub fn read(path: &Path) -> Result<Snapshot, SnapshotFileError> {
    let name = path.display().to_string();
    let text = crate::yaml::read_file(path, crate::yaml::Limits::SNAPSHOT.max_bytes).map_err(
        |source| SnapshotFileError::Io {
            path: name.clone(),
            source,
        },
    )?;
    parse(&name, &text)
}

/// [`read`] for text already in memory; `name` is used in errors.
pub fn parse(name: &str, text: &str) -> Result<Snapshot, SnapshotFileError> {
    let parse_err = |e: crate::yaml::Error| SnapshotFileError::Parse {
        path: e.file,
        line: e.line,
        column: e.column,
        message: e.message,
    };
    let limits = &crate::yaml::Limits::SNAPSHOT;
    // The format is checked before the shape, so a future format gets the clear message
    // rather than whatever field of it this version does not know.
    #[derive(serde::Deserialize)]
    struct Head {
        format: String,
    }
    let head: Head = crate::yaml::from_json(name, text, limits).map_err(parse_err)?;
    if head.format != SNAPSHOT_FORMAT {
        return Err(SnapshotFileError::Format {
            path: name.to_string(),
            found: head.format,
        });
    }
    crate::yaml::from_json(name, text, limits).map_err(parse_err)
}

/// Replaces secrets that no check compares, in place; returns how many values were replaced.
///
/// A snapshot is meant to be copied off the node, so it must not carry what would let its
/// reader into the cluster: keys of an EncryptionConfiguration, tokens, passwords and
/// embedded private keys in kubeconfigs, PEM private key blocks, and environment variables
/// of components whose names say they hold a secret. Checks ask whether such settings exist
/// and how files are protected, never what the secret is, so results over a redacted
/// snapshot equal those of the live run (tested on every fixture node). Redaction works
/// line by line and keeps the line count, so a parse error in a file still names the line
/// it has on the node.
pub fn redact(snapshot: &mut Snapshot) -> usize {
    let mut n = 0;
    for text in snapshot
        .files
        .values_mut()
        .chain(snapshot.shells.values_mut())
        .filter_map(|f| f.as_mut().ok())
    {
        n += redact_text(text);
    }
    for env in snapshot
        .components
        .values_mut()
        .flatten()
        .filter_map(|p| p.env.as_mut())
    {
        for entry in env.iter_mut() {
            if let Some((name, value)) = entry.split_once('=') {
                if secret_env_name().is_match(name) && value != REDACTED {
                    *entry = format!("{name}={REDACTED}");
                    n += 1;
                }
            }
        }
    }
    n
}

/// YAML or JSON keys whose values are secrets: kubeconfig users (`token`, `password`,
/// `client-key-data`, auth-provider `id-token`/`refresh-token`/`client-secret`) and
/// EncryptionConfiguration keys (`secret`).
fn secret_key_line() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let keys: Vec<String> = crate::secrets::SECRET_KEYS
            .iter()
            .map(|k| regex::escape(k))
            .collect();
        Regex::new(&format!(
            r#"^(?P<head>\s*(?:-\s+)?(?P<q>["']?)(?:{})["']?\s*:\s*)(?P<value>[^\s,{{}}\[\]][^,]*?)(?P<tail>\s*,?\s*)$"#,
            keys.join("|")
        ))
        .expect("valid regex")
    })
}

fn secret_env_name() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|ACCESS_KEY|CREDENTIAL)")
            .expect("valid regex")
    })
}

/// Redacts one file's text; returns how many values were replaced.
fn redact_text(text: &mut String) -> usize {
    let mut n = 0;
    let mut in_pem_key = false;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let trimmed = body.trim();
        if in_pem_key {
            if trimmed.starts_with("-----END ") {
                in_pem_key = false;
                out.push_str(body);
            } else if !trimmed.is_empty() {
                out.push_str(REDACTED);
            }
            out.push_str(newline);
            continue;
        }
        if trimmed.starts_with("-----BEGIN ") && trimmed.contains("PRIVATE KEY-----") {
            in_pem_key = true;
            n += 1;
            out.push_str(body);
            out.push_str(newline);
            continue;
        }
        match secret_key_line().captures(body) {
            Some(c) if &c["value"] != REDACTED && &c["value"] != "\"REDACTED\"" => {
                let q = &c["q"];
                let quote = if q.is_empty() && c["value"].starts_with('"') {
                    "\""
                } else {
                    q
                };
                out.push_str(&c["head"]);
                out.push_str(&format!("{quote}{REDACTED}{quote}"));
                out.push_str(&c["tail"]);
                n += 1;
            }
            _ => out.push_str(body),
        }
        out.push_str(newline);
    }
    if n > 0 {
        *text = out;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Facts, Process};

    #[test]
    fn encryption_keys_and_kubeconfig_credentials_are_replaced_line_for_line() {
        let mut text = "\
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aescbc:
          keys:
            - name: key1
              secret: a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=
      - identity: {}
users:
- name: admin
  user:
    client-certificate-data: LS0tLS1CRUdJTi...
    client-key-data: LS0tLS1CRUdJTiBSU0Eg...
    token: abcdef.0123456789abcdef
"
        .to_string();
        let lines_before = text.lines().count();
        assert_eq!(redact_text(&mut text), 3);
        assert_eq!(text.lines().count(), lines_before);
        assert!(!text.contains("a2tra2tr"), "{text}");
        assert!(!text.contains("LS0tLS1CRUdJTiBSU0Eg"), "{text}");
        assert!(!text.contains("abcdef.0123"), "{text}");
        assert!(text.contains("              secret: REDACTED\n"), "{text}");
        // What checks do read is untouched: providers, names, the certificate.
        assert!(text.contains("      - aescbc:\n"));
        assert!(text.contains("            - name: key1\n"));
        assert!(text.contains("client-certificate-data: LS0tLS1CRUdJTi...\n"));
        // Still YAML, with the same shape.
        let v = crate::yaml::to_value("encryption.yaml", &text).unwrap();
        assert_eq!(
            v["resources"][0]["providers"][0]["aescbc"]["keys"][0]["secret"],
            REDACTED
        );
    }

    #[test]
    fn json_values_stay_json_and_pem_keys_lose_their_body() {
        let mut json = "{\n  \"token\": \"s3cr3t\",\n  \"readOnlyPort\": 0\n}\n".to_string();
        assert_eq!(redact_text(&mut json), 1);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["token"], REDACTED);
        assert_eq!(v["readOnlyPort"], 0);

        let mut pem =
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA\n-----END RSA PRIVATE KEY-----\n"
                .to_string();
        assert_eq!(redact_text(&mut pem), 1);
        assert_eq!(
            pem,
            "-----BEGIN RSA PRIVATE KEY-----\nREDACTED\nREDACTED\n-----END RSA PRIVATE KEY-----\n"
        );
        // A certificate is public and stays.
        let mut cert = "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n".to_string();
        assert_eq!(redact_text(&mut cert), 0);
        assert!(cert.contains("MIIC"));
    }

    #[test]
    fn settings_that_checks_compare_are_left_alone() {
        for line in [
            "tokenAuthFile: /etc/kubernetes/tokens.csv",
            "  secretbox:",
            "authentication: {anonymous: {enabled: false}}",
            "  - --token-auth-file=/etc/tokens.csv",
        ] {
            let mut text = format!("{line}\n");
            assert_eq!(redact_text(&mut text), 0, "{line}");
        }
        assert!(secret_env_name().is_match("ETCD_INITIAL_CLUSTER_TOKEN"));
        assert!(secret_env_name().is_match("AWS_SECRET_ACCESS_KEY"));
        assert!(!secret_env_name().is_match("ETCD_KEY_FILE"));
        assert!(!secret_env_name().is_match("ETCD_AUTO_TLS"));
    }

    #[test]
    fn a_snapshot_round_trips_through_a_file_and_other_formats_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("enc.yaml"), "secret: abc\n").unwrap();
        let facts = Facts::live(dir.path(), Path::new("/proc"));
        facts.read("/enc.yaml").unwrap();
        facts.stat("/missing").unwrap_err();
        let mut snap = facts.snapshot();
        snap.components.insert(
            "etcd".into(),
            Some(Process {
                pid: 1,
                argv: vec!["etcd".into()],
                comm: "etcd".into(),
                name_words: 1,
                env: Some(vec![
                    "ETCD_INITIAL_CLUSTER_TOKEN=xyz".into(),
                    "ETCD_AUTO_TLS=false".into(),
                ]),
            }),
        );
        assert_eq!(redact(&mut snap), 2);
        assert_eq!(redact(&mut snap), 0, "redaction is idempotent");

        let path = dir.path().join("node.json");
        write(&snap, &Output::File(path.clone())).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(
            matches!(
                write(&snap, &Output::File(path.clone())),
                Err(SnapshotFileError::Io { .. })
            ),
            "an existing file is never overwritten"
        );
        let back = read(&path).unwrap();
        assert_eq!(back, snap);
        assert_eq!(
            back.files["/enc.yaml"].as_deref().unwrap(),
            "secret: REDACTED\n"
        );
        let env = back.components["etcd"]
            .as_ref()
            .unwrap()
            .env
            .clone()
            .unwrap();
        assert_eq!(
            env,
            ["ETCD_INITIAL_CLUSTER_TOKEN=REDACTED", "ETCD_AUTO_TLS=false"]
        );

        let future = std::fs::read_to_string(&path)
            .unwrap()
            .replace(SNAPSHOT_FORMAT, "kubecis-snapshot/99");
        let err = parse("node.json", &future).unwrap_err().to_string();
        assert!(err.contains("kubecis-snapshot/99"), "{err}");

        let err = parse(
            "node.json",
            "{\n  \"format\": \"kubecis-snapshot/1\",\n  \"files\": 3\n}",
        )
        .unwrap_err();
        match err {
            SnapshotFileError::Parse { line, .. } => assert!(line >= 3, "{err}"),
            other => panic!("{other}"),
        }
    }
}
