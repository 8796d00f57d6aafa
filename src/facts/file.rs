//! File facts read natively: mode, owner and group through `stat` (nix), file contents, globs
//! and directory walks — all under the audited root, with symlinks resolved inside that root.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nix::sys::stat::{lstat, SFlag};
use serde::{Deserialize, Serialize};

use super::FactError;

/// What `stat` says of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStat {
    /// Permission bits (`st_mode & 0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub kind: FileKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    File,
    Directory,
    Symlink,
    Other,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::File => "file",
            FileKind::Directory => "directory",
            FileKind::Symlink => "symlink",
            FileKind::Other => "other",
        }
    }
}

/// A directory walk: every path below (and including) the start, and what could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Walk {
    pub entries: Vec<String>,
    pub errors: Vec<String>,
}

/// Maps a node path to the host path under `root`. Paths under `/proc/` are read from the
/// `proc` directory instead: `/proc/<pid>/cwd/...` and `/proc/<pid>/root/...` are a process's own
/// view of the filesystem (its working directory and root, also inside a container).
#[derive(Debug, Clone)]
pub struct HostPaths {
    pub root: PathBuf,
    pub proc_dir: PathBuf,
}

/// For a path seen through a process (`/proc/<pid>/root/x`, `/proc/<pid>/cwd/x`), the node path
/// of that process's root, `/proc/<pid>/root`: where its absolute symlinks point.
fn process_root_of(node_path: &str) -> Option<String> {
    let rest = node_path.strip_prefix("/proc/")?;
    let (pid, rest) = rest.split_once('/')?;
    pid.parse::<u32>().ok()?;
    let (link, below) = rest.split_once('/')?;
    (matches!(link, "root" | "cwd") && !below.is_empty()).then(|| format!("/proc/{pid}/root"))
}

impl HostPaths {
    pub fn host(&self, node_path: &str) -> PathBuf {
        if let Some(rest) = node_path.strip_prefix("/proc/") {
            return self.proc_dir.join(rest);
        }
        self.root.join(node_path.trim_start_matches('/'))
    }

    /// Follows symlinks of the last component, keeping absolute targets inside the root (a
    /// node's `/etc/x -> /var/y` must read `<root>/var/y`, not the auditing host's). Below a
    /// process's root or working directory, absolute targets stay inside that process's root
    /// (a ConfigMap volume's `config.conf -> ..data/config.conf` in a container); other `/proc`
    /// entries are the kernel's own links and are not followed here.
    fn resolve(&self, node_path: &str) -> Result<PathBuf, FactError> {
        let process_root = process_root_of(node_path);
        let follow = process_root.is_some() || !node_path.starts_with("/proc/");
        let mut node = PathBuf::from(node_path);
        for _ in 0..40 {
            let host = self.host(&node.to_string_lossy());
            match std::fs::symlink_metadata(&host) {
                Ok(m) if m.file_type().is_symlink() && follow => {
                    let target =
                        std::fs::read_link(&host).map_err(|e| FactError::io(node_path, &e))?;
                    node = match (&process_root, target.is_absolute()) {
                        (Some(root), true) => PathBuf::from(format!(
                            "{root}/{}",
                            target.to_string_lossy().trim_start_matches('/')
                        )),
                        (None, true) => target,
                        (_, false) => node.parent().unwrap_or(Path::new("/")).join(target),
                    };
                }
                Ok(_) => return Ok(host),
                Err(e) => return Err(FactError::io(node_path, &e)),
            }
        }
        Err(FactError::other(
            node_path,
            "too many levels of symbolic links",
        ))
    }

    pub fn stat(&self, node_path: &str) -> Result<FileStat, FactError> {
        let host = self.resolve(node_path)?;
        let st = lstat(&host).map_err(|e| FactError::io(node_path, &std::io::Error::from(e)))?;
        let fmt = SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits());
        let kind = if fmt == SFlag::S_IFREG {
            FileKind::File
        } else if fmt == SFlag::S_IFDIR {
            FileKind::Directory
        } else if fmt == SFlag::S_IFLNK {
            FileKind::Symlink
        } else {
            FileKind::Other
        };
        Ok(FileStat {
            mode: st.st_mode & 0o7777,
            uid: st.st_uid,
            gid: st.st_gid,
            kind,
        })
    }

    /// Reads a text file (at most 16 MiB; invalid UTF-8 is replaced).
    pub fn read(&self, node_path: &str) -> Result<String, FactError> {
        const LIMIT: u64 = 16 << 20;
        let host = self.resolve(node_path)?;
        let meta = std::fs::metadata(&host).map_err(|e| FactError::io(node_path, &e))?;
        if meta.is_dir() {
            return Err(FactError::other(node_path, "is a directory"));
        }
        if meta.len() > LIMIT {
            return Err(FactError::other(node_path, "larger than 16 MiB"));
        }
        let bytes = std::fs::read(&host).map_err(|e| FactError::io(node_path, &e))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Node paths matching a glob pattern, sorted.
    /// A pattern under `/proc/` (a process's own root or working directory) is matched in the
    /// proc directory.
    pub fn glob(&self, pattern: &str) -> Result<Vec<String>, FactError> {
        let (base, prefix, rest) = match pattern.strip_prefix("/proc/") {
            Some(rest) => (&self.proc_dir, "/proc", rest),
            None => (&self.root, "", pattern.trim_start_matches('/')),
        };
        let base_text = base.to_string_lossy();
        let full = format!(
            "{}/{rest}",
            glob::Pattern::escape(base_text.trim_end_matches('/'))
        );
        let paths = glob::glob(&full).map_err(|e| FactError::other(pattern, &e.to_string()))?;
        let mut out = Vec::new();
        for p in paths {
            let p = p.map_err(|e| FactError::io(pattern, e.error()))?;
            let rel = p.strip_prefix(base).unwrap_or(&p);
            out.push(format!("{prefix}/{}", rel.to_string_lossy()));
        }
        out.sort();
        Ok(out)
    }

    /// Every path below `dir` (including it), without following symlinks.
    pub fn walk(&self, dir: &str) -> Result<Walk, FactError> {
        let host = self.resolve(dir)?;
        let mut walk = Walk::default();
        for entry in walkdir::WalkDir::new(&host)
            .follow_links(false)
            .sort_by_file_name()
        {
            match entry {
                Ok(e) => {
                    let rel = e.path().strip_prefix(&host).unwrap_or(e.path());
                    let node = Path::new(dir).join(rel);
                    walk.entries
                        .push(node.to_string_lossy().trim_end_matches('/').to_string());
                }
                Err(e) => walk.errors.push(e.to_string()),
            }
        }
        Ok(walk)
    }
}

/// Parses `/etc/passwd` or `/etc/group`: id → name.
pub fn parse_id_names(text: &str) -> BTreeMap<u32, String> {
    let mut names = BTreeMap::new();
    for line in text.lines() {
        let mut fields = line.split(':');
        let (Some(name), Some(_), Some(id)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        if let Ok(id) = id.parse::<u32>() {
            names.entry(id).or_insert_with(|| name.to_string());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn paths(root: &Path) -> HostPaths {
        HostPaths {
            root: root.to_path_buf(),
            proc_dir: PathBuf::from("/proc"),
        }
    }

    #[test]
    fn stat_reads_real_modes_and_resolves_links_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc/kubernetes")).unwrap();
        std::fs::create_dir_all(dir.path().join("var/data")).unwrap();
        let real = dir.path().join("var/data/admin.conf");
        std::fs::write(&real, "x").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        symlink(
            "/var/data/admin.conf",
            dir.path().join("etc/kubernetes/admin.conf"),
        )
        .unwrap();
        let p = paths(dir.path());
        let st = p.stat("/etc/kubernetes/admin.conf").unwrap();
        assert_eq!(st.mode, 0o640);
        assert_eq!(st.kind, FileKind::File);
        assert_eq!(p.stat("/etc/kubernetes").unwrap().kind, FileKind::Directory);
        let err = p.stat("/etc/missing").unwrap_err();
        assert_eq!(err.kind, super::super::FactErrorKind::NotFound);
        assert_eq!(p.read("/etc/kubernetes/admin.conf").unwrap(), "x");
    }

    #[test]
    fn glob_and_walk_return_node_paths() {
        let dir = tempfile::tempdir().unwrap();
        let pki = dir.path().join("etc/kubernetes/pki");
        std::fs::create_dir_all(pki.join("etcd")).unwrap();
        for f in ["ca.crt", "ca.key", "etcd/ca.crt"] {
            std::fs::write(pki.join(f), "x").unwrap();
        }
        let p = paths(dir.path());
        assert_eq!(
            p.glob("/etc/kubernetes/pki/*.crt").unwrap(),
            ["/etc/kubernetes/pki/ca.crt"]
        );
        let walk = p.walk("/etc/kubernetes/pki").unwrap();
        assert_eq!(
            walk.entries,
            [
                "/etc/kubernetes/pki",
                "/etc/kubernetes/pki/ca.crt",
                "/etc/kubernetes/pki/ca.key",
                "/etc/kubernetes/pki/etcd",
                "/etc/kubernetes/pki/etcd/ca.crt"
            ]
        );
    }

    /// Below `/proc/<pid>/root` (here a directory standing in for the kernel's link), symlinks
    /// are followed inside the process's root: a ConfigMap volume's relative links, and
    /// absolute links that must not land on the node's (or the auditing host's) files.
    #[test]
    fn links_below_a_process_root_stay_in_that_root() {
        let root = tempfile::tempdir().unwrap();
        let proc_dir = tempfile::tempdir().unwrap();
        let p = HostPaths {
            root: root.path().to_path_buf(),
            proc_dir: proc_dir.path().to_path_buf(),
        };
        let vol = proc_dir.path().join("42/root/var/lib/kube-proxy");
        std::fs::create_dir_all(vol.join("..2024_05_01_10_00_00.1")).unwrap();
        let real = vol.join("..2024_05_01_10_00_00.1/kubeconfig.conf");
        std::fs::write(&real, "inside").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        symlink("..2024_05_01_10_00_00.1", vol.join("..data")).unwrap();
        symlink("..data/kubeconfig.conf", vol.join("kubeconfig.conf")).unwrap();
        symlink("/etc/secret", vol.join("absolute")).unwrap();
        std::fs::create_dir_all(proc_dir.path().join("42/root/etc")).unwrap();
        std::fs::write(proc_dir.path().join("42/root/etc/secret"), "container").unwrap();
        std::fs::create_dir_all(root.path().join("etc")).unwrap();
        std::fs::write(root.path().join("etc/secret"), "node").unwrap();

        let st = p
            .stat("/proc/42/root/var/lib/kube-proxy/kubeconfig.conf")
            .unwrap();
        assert_eq!(
            (st.mode, st.kind),
            (0o640, FileKind::File),
            "not the link's 777"
        );
        assert_eq!(
            p.read("/proc/42/root/var/lib/kube-proxy/absolute").unwrap(),
            "container"
        );
        assert_eq!(
            p.glob("/proc/42/root/var/lib/kube-proxy/*.conf").unwrap(),
            ["/proc/42/root/var/lib/kube-proxy/kubeconfig.conf"]
        );
        // Other /proc entries are the kernel's and are not followed by hand.
        assert_eq!(
            process_root_of("/proc/42/cwd/x"),
            Some("/proc/42/root".into())
        );
        assert_eq!(process_root_of("/proc/42/root"), None);
        assert_eq!(process_root_of("/proc/self/root/x"), None);
        assert_eq!(process_root_of("/proc/42/fd/3"), None);
    }

    #[test]
    fn passwd_ids_map_to_names() {
        let m = parse_id_names(
            "root:x:0:0:root:/root:/bin/sh\netcd:x:998:996::/var/lib/etcd:/sbin/nologin\n#c\n",
        );
        assert_eq!(m[&0], "root");
        assert_eq!(m[&998], "etcd");
    }
}
