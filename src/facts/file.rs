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
/// `proc` directory instead (a process's `cwd` link resolves in that process's own view).
#[derive(Debug, Clone)]
pub struct HostPaths {
    pub root: PathBuf,
    pub proc_dir: PathBuf,
}

impl HostPaths {
    pub fn host(&self, node_path: &str) -> PathBuf {
        if let Some(rest) = node_path.strip_prefix("/proc/") {
            return self.proc_dir.join(rest);
        }
        self.root.join(node_path.trim_start_matches('/'))
    }

    /// Follows symlinks of the last component, keeping absolute targets inside the root (a
    /// node's `/etc/x -> /var/y` must read `<root>/var/y`, not the auditing host's).
    fn resolve(&self, node_path: &str) -> Result<PathBuf, FactError> {
        let mut node = PathBuf::from(node_path);
        for _ in 0..40 {
            let host = self.host(&node.to_string_lossy());
            match std::fs::symlink_metadata(&host) {
                Ok(m) if m.file_type().is_symlink() && !node_path.starts_with("/proc/") => {
                    let target =
                        std::fs::read_link(&host).map_err(|e| FactError::io(node_path, &e))?;
                    node = if target.is_absolute() {
                        target
                    } else {
                        node.parent().unwrap_or(Path::new("/")).join(target)
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
    pub fn glob(&self, pattern: &str) -> Result<Vec<String>, FactError> {
        let root = self.root.to_string_lossy();
        let full = format!(
            "{}/{}",
            glob::Pattern::escape(root.trim_end_matches('/')),
            pattern.trim_start_matches('/')
        );
        let paths = glob::glob(&full).map_err(|e| FactError::other(pattern, &e.to_string()))?;
        let mut out = Vec::new();
        for p in paths {
            let p = p.map_err(|e| FactError::io(pattern, e.error()))?;
            out.push(self.node_path(&p));
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

    fn node_path(&self, host: &Path) -> String {
        let rel = host.strip_prefix(&self.root).unwrap_or(host);
        format!("/{}", rel.to_string_lossy())
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

    #[test]
    fn passwd_ids_map_to_names() {
        let m = parse_id_names(
            "root:x:0:0:root:/root:/bin/sh\netcd:x:998:996::/var/lib/etcd:/sbin/nologin\n#c\n",
        );
        assert_eq!(m[&0], "root");
        assert_eq!(m[&998], "etcd");
    }
}
