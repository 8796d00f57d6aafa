//! Running components, found in `/proc` without `ps`: every process's argv and comm, matched
//! against a component's binary names from `config.yaml`.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// A process as kubecis sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    pub pid: u32,
    pub argv: Vec<String>,
    /// `/proc/<pid>/comm`: the executable's name, at most 15 bytes.
    pub comm: String,
    /// How many leading argv words named the component (2 for `hyperkube apiserver`).
    #[serde(default)]
    pub name_words: usize,
    /// `KEY=value` entries of `/proc/<pid>/environ`, `None` when it could not be read.
    #[serde(default)]
    pub env: Option<Vec<String>>,
}

impl Process {
    /// The arguments after the component's name.
    pub fn args(&self) -> &[String] {
        self.argv.get(self.name_words.max(1)..).unwrap_or_default()
    }
}

/// Reads argv and comm of every process under `proc_dir` (kernel threads, whose command line
/// is empty, are left out; processes that exit meanwhile are skipped).
pub fn scan(proc_dir: &Path) -> std::io::Result<Vec<Process>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(proc_dir)? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let argv: Vec<String> = raw
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if argv.is_empty() {
            continue;
        }
        let comm = std::fs::read_to_string(entry.path().join("comm"))
            .map(|c| c.trim_end().to_string())
            .unwrap_or_default();
        out.push(Process {
            pid,
            argv,
            comm,
            name_words: 0,
            env: None,
        });
    }
    out.sort_by_key(|p| p.pid);
    Ok(out)
}

/// Reads `/proc/<pid>/environ`.
pub fn read_env(proc_dir: &Path, pid: u32) -> Option<Vec<String>> {
    let raw = std::fs::read(proc_dir.join(pid.to_string()).join("environ")).ok()?;
    Some(
        raw.split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

/// How many argv words `bin` matches (`kube-apiserver`: 1, `hyperkube apiserver`: 2), if any.
///
/// The first word is compared with argv[0]'s file name, or with comm (which the kernel cuts
/// to 15 bytes, so `kube-controller-manager` shows as `kube-controller`).
pub fn matches(process: &Process, bin: &str) -> Option<usize> {
    let words: Vec<&str> = bin.split_whitespace().collect();
    let first = *words.first()?;
    let argv0 = process.argv.first()?;
    let base = argv0.rsplit('/').next().unwrap_or(argv0);
    let comm_matches = !process.comm.is_empty()
        && (process.comm == first
            || (process.comm.len() == 15 && first.starts_with(&process.comm)));
    let by_name = base == first;
    let by_comm = words.len() == 1 && comm_matches && !is_wrapper(base);
    if !by_name && !by_comm {
        return None;
    }
    for (i, word) in words.iter().enumerate().skip(1) {
        if process.argv.get(i).map(String::as_str) != Some(*word) {
            return None;
        }
    }
    Some(words.len())
}

/// Programs whose comm may carry another program's name without being it (a shell running a
/// script named `kube-apiserver`, a `grep` for it).
fn is_wrapper(base: &str) -> bool {
    matches!(
        base,
        "sh" | "bash" | "dash" | "busybox" | "python" | "python3" | "perl" | "grep" | "ps"
    )
}

/// The first process (lowest pid) that any of `bins` matches, in the order of `bins`.
pub fn find<'a>(processes: &'a [Process], bins: &[String]) -> Option<(&'a Process, usize)> {
    bins.iter().find_map(|bin| {
        processes
            .iter()
            .find_map(|p| matches(p, bin).map(|words| (p, words)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(argv: &[&str], comm: &str) -> Process {
        Process {
            pid: 1,
            argv: argv.iter().map(|s| s.to_string()).collect(),
            comm: comm.into(),
            name_words: 0,
            env: None,
        }
    }

    #[test]
    fn binary_names_match_argv0_basename_or_comm() {
        let p = proc(
            &["/usr/local/bin/kube-apiserver", "--a=b"],
            "kube-apiserver",
        );
        assert_eq!(matches(&p, "kube-apiserver"), Some(1));
        assert_eq!(matches(&p, "apiserver"), None);
        let p = proc(&["kube-controller-manager", "--x"], "kube-controller");
        assert_eq!(matches(&p, "kube-controller-manager"), Some(1));
        let p = proc(&["/hyperkube", "apiserver", "--x"], "hyperkube");
        assert_eq!(matches(&p, "hyperkube apiserver"), Some(2));
        assert_eq!(matches(&p, "hyperkube kubelet"), None);
        let p = Process { name_words: 2, ..p };
        assert_eq!(p.args(), ["--x"]);
    }

    #[test]
    fn a_grep_or_shell_mentioning_the_name_is_not_the_component() {
        let p = proc(&["grep", "kube-apiserver"], "grep");
        assert_eq!(matches(&p, "kube-apiserver"), None);
        let p = proc(&["/bin/sh", "-c", "kube-apiserver --x"], "sh");
        assert_eq!(matches(&p, "kube-apiserver"), None);
    }

    #[test]
    fn scan_sees_this_test_process() {
        let me = std::process::id();
        let all = scan(Path::new("/proc")).unwrap();
        let mine = all.iter().find(|p| p.pid == me).expect("own pid listed");
        assert!(!mine.argv.is_empty());
        assert!(read_env(Path::new("/proc"), me).is_some());
    }
}
