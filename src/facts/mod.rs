//! The node, read once: running components ([`process`]), their flags ([`flags`]) and files
//! ([`file`]). Every fact a run asks for is remembered, so it is read at most once and the
//! whole record can be written out as a [`Snapshot`] and evaluated elsewhere with identical
//! results (`kubecis collect` / `run --snapshot`).

pub mod file;
pub mod flags;
pub mod process;

use std::cell::{OnceCell, RefCell};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use file::{FileKind, FileStat, HostPaths, Walk};
pub use process::Process;

/// Why a fact could not be read. Kept on results as their `reason`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct FactError {
    pub kind: FactErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactErrorKind {
    NotFound,
    PermissionDenied,
    /// A snapshot was taken without this fact.
    NotCollected,
    Other,
}

impl FactError {
    pub fn io(path: &str, e: &std::io::Error) -> FactError {
        let (kind, what) = match e.kind() {
            std::io::ErrorKind::NotFound => (FactErrorKind::NotFound, "not found".to_string()),
            std::io::ErrorKind::PermissionDenied => (
                FactErrorKind::PermissionDenied,
                "permission denied".to_string(),
            ),
            _ => (FactErrorKind::Other, e.to_string()),
        };
        FactError {
            kind,
            message: format!("{path}: {what}"),
        }
    }
    pub fn other(path: &str, what: &str) -> FactError {
        FactError {
            kind: FactErrorKind::Other,
            message: format!("{path}: {what}"),
        }
    }
    fn not_collected(what: &str) -> FactError {
        FactError {
            kind: FactErrorKind::NotCollected,
            message: format!("{what}: not in the snapshot"),
        }
    }
}

pub type Fact<T> = Result<T, FactError>;

/// The version of the snapshot format written by this build.
pub const SNAPSHOT_FORMAT: &str = "kubecis-snapshot/1";

/// Every fact a run read, as written by `kubecis collect`. Documented in `docs/snapshot.md`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub format: String,
    /// Component → its process (`None`: not running). Only components' processes are kept,
    /// never the rest of the node's process list.
    pub components: BTreeMap<String, Option<Process>>,
    pub stats: BTreeMap<String, Fact<FileStat>>,
    pub files: BTreeMap<String, Fact<String>>,
    pub globs: BTreeMap<String, Fact<Vec<String>>>,
    pub walks: BTreeMap<String, Fact<Walk>>,
    /// Shell audit command → its standard output.
    pub shells: BTreeMap<String, Fact<String>>,
}

enum Mode {
    Live { paths: HostPaths },
    Replay,
}

/// The facts of one node, read on demand and remembered.
pub struct Facts {
    mode: Mode,
    all_processes: OnceCell<Fact<Vec<Process>>>,
    users: OnceCell<BTreeMap<u32, String>>,
    groups: OnceCell<BTreeMap<u32, String>>,
    record: RefCell<Snapshot>,
}

impl Facts {
    /// Reads the live node: files under `root`, processes under `proc_dir`.
    pub fn live(root: &Path, proc_dir: &Path) -> Facts {
        Facts::with_mode(Mode::Live {
            paths: HostPaths {
                root: root.to_path_buf(),
                proc_dir: proc_dir.to_path_buf(),
            },
        })
    }

    /// Answers from a snapshot; a fact it lacks is "not in the snapshot", never a PASS.
    pub fn replay(snapshot: Snapshot) -> Facts {
        let facts = Facts::with_mode(Mode::Replay);
        *facts.record.borrow_mut() = snapshot;
        facts
    }

    fn with_mode(mode: Mode) -> Facts {
        Facts {
            mode,
            all_processes: OnceCell::new(),
            users: OnceCell::new(),
            groups: OnceCell::new(),
            record: RefCell::new(Snapshot {
                format: SNAPSHOT_FORMAT.to_string(),
                ..Snapshot::default()
            }),
        }
    }

    /// Everything read so far.
    pub fn snapshot(&self) -> Snapshot {
        self.record.borrow().clone()
    }

    /// The running process of a component, found by its binary names.
    pub fn component(&self, name: &str, bins: &[String]) -> Fact<Option<Process>> {
        if let Some(p) = self.record.borrow().components.get(name) {
            return Ok(p.clone());
        }
        let Mode::Live { paths } = &self.mode else {
            return Err(FactError::not_collected(&format!("process of {name}")));
        };
        let all = self.all_processes.get_or_init(|| {
            process::scan(&paths.proc_dir)
                .map_err(|e| FactError::io(&paths.proc_dir.to_string_lossy(), &e))
        });
        let all = all.as_ref().map_err(Clone::clone)?;
        let found = process::find(all, bins).map(|(p, words)| {
            let mut p = p.clone();
            p.name_words = words;
            p.env = process::read_env(&paths.proc_dir, p.pid);
            p
        });
        self.record
            .borrow_mut()
            .components
            .insert(name.to_string(), found.clone());
        Ok(found)
    }

    pub fn stat(&self, path: &str) -> Fact<FileStat> {
        self.remember(|s| &mut s.stats, path, |p| p.stat(path))
    }

    pub fn read(&self, path: &str) -> Fact<String> {
        self.remember(|s| &mut s.files, path, |p| p.read(path))
    }

    pub fn glob(&self, pattern: &str) -> Fact<Vec<String>> {
        self.remember(|s| &mut s.globs, pattern, |p| p.glob(pattern))
    }

    pub fn walk(&self, dir: &str) -> Fact<Walk> {
        self.remember(|s| &mut s.walks, dir, |p| p.walk(dir))
    }

    pub fn exists(&self, path: &str) -> bool {
        self.stat(path).is_ok()
    }

    /// Runs a kube-bench shell audit with `/bin/sh -c` (on the live system, as kube-bench
    /// does); an error when there is no shell.
    pub fn shell(&self, command: &str) -> Fact<String> {
        self.remember(|s| &mut s.shells, command, |_| run_shell(command))
    }

    /// The user name of a uid, through the node's `/etc/passwd`; the number when unknown.
    pub fn user_name(&self, uid: u32) -> String {
        self.id_name(&self.users, "/etc/passwd", uid)
    }

    /// The group name of a gid, through the node's `/etc/group`; the number when unknown.
    pub fn group_name(&self, gid: u32) -> String {
        self.id_name(&self.groups, "/etc/group", gid)
    }

    fn id_name(&self, names: &OnceCell<BTreeMap<u32, String>>, file: &str, id: u32) -> String {
        let names = names.get_or_init(|| {
            self.read(file)
                .map(|t| file::parse_id_names(&t))
                .unwrap_or_default()
        });
        match names.get(&id) {
            Some(name) => name.clone(),
            // Id 0 is root by definition, even on a tree without /etc/passwd.
            None if id == 0 => "root".into(),
            None => id.to_string(),
        }
    }

    fn remember<T: Clone>(
        &self,
        table: impl Fn(&mut Snapshot) -> &mut BTreeMap<String, Fact<T>>,
        key: &str,
        read: impl FnOnce(&HostPaths) -> Fact<T>,
    ) -> Fact<T> {
        if let Some(v) = table(&mut self.record.borrow_mut()).get(key) {
            return v.clone();
        }
        let value = match &self.mode {
            Mode::Live { paths } => read(paths),
            Mode::Replay => return Err(FactError::not_collected(key)),
        };
        table(&mut self.record.borrow_mut()).insert(key.to_string(), value.clone());
        value
    }
}

fn run_shell(command: &str) -> Fact<String> {
    let sh = PathBuf::from("/bin/sh");
    if !sh.exists() {
        return Err(FactError {
            kind: FactErrorKind::Other,
            message: "audit needs a shell: /bin/sh not found".into(),
        });
    }
    // The script is not on the shell's command line (kube-bench feeds it on standard input):
    // `ps -ef | grep kubelet | grep -- --cni-conf-dir` must not find the audit's own shell.
    let out = std::process::Command::new(sh)
        .arg("-c")
        .arg("eval \"$KUBECIS_AUDIT\"")
        .env("KUBECIS_AUDIT", command)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| FactError::other("/bin/sh", &e.to_string()))?;
    // A failing audit gathered nothing to judge: `ps -fC kubelet` with no kubelet exits 1
    // (printing only its header), `stat` of a missing file exits 1. Judging its output would
    // PASS every `set: false` test.
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let why = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no error output");
        return Err(FactError {
            kind: FactErrorKind::Other,
            message: format!("audit command failed ({}): {}", out.status, why.trim()),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_answers_what_was_recorded_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), "hello").unwrap();
        let live = Facts::live(dir.path(), Path::new("/proc"));
        assert_eq!(live.read("/a").unwrap(), "hello");
        assert_eq!(
            live.stat("/missing").unwrap_err().kind,
            FactErrorKind::NotFound
        );
        let json = serde_json::to_string(&live.snapshot()).unwrap();
        let replay = Facts::replay(serde_json::from_str(&json).unwrap());
        assert_eq!(replay.read("/a").unwrap(), "hello");
        assert_eq!(
            replay.stat("/missing").unwrap_err().kind,
            FactErrorKind::NotFound
        );
        assert_eq!(
            replay.read("/b").unwrap_err().kind,
            FactErrorKind::NotCollected
        );
    }

    #[test]
    fn shell_audits_capture_stdout() {
        let facts = Facts::live(Path::new("/"), Path::new("/proc"));
        assert_eq!(
            facts.shell("echo permissions=600").unwrap(),
            "permissions=600\n"
        );
    }

    #[test]
    fn a_shell_audit_does_not_see_itself_in_ps() {
        let facts = Facts::live(Path::new("/"), Path::new("/proc"));
        let own = facts
            .shell("for v in 1; do tr '\\0' ' ' < /proc/$$/cmdline; done")
            .unwrap();
        assert!(!own.contains("cmdline"), "{own}");
    }
}
