//! Fixture nodes: a node's filesystem and its running components, made real for a test.
//!
//! A fixture lives in `tests/fixtures/nodes/<name>/`: `root/` is the node's filesystem and
//! `node.yaml` says what git cannot keep (modes, owners, empty directories) and which component
//! processes run on the node (see `tests/fixtures/nodes/README.md`). [`FixtureNode::materialize`]
//! copies the tree into a temporary directory, applies the modes and owners, and spawns every
//! process with its exact command line; dropping the [`FixtureNode`] kills and reaps the
//! processes and removes the tree.
//!
//! kubecis finds components in the live `/proc`, so two fixture nodes alive at the same time
//! would see each other's processes. Every `FixtureNode` therefore holds an exclusive `flock` on
//! one lock file in the system temp directory for its whole life, which serialises fixture
//! nodes across threads, test binaries and nextest processes.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{lchown, symlink, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{anyhow, bail, Context, Result};
use nix::fcntl::{Flock, FlockArg};
use serde::Deserialize;
use tempfile::TempDir;
use walkdir::WalkDir;

/// The lock file every live fixture node holds exclusively (see the module docs).
pub const LOCK_FILE_NAME: &str = "kubecis-fixture-node.lock";

/// The directory holding every fixture node.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nodes")
}

/// Names of all fixture nodes (directories with a `node.yaml`), sorted.
pub fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(fixtures_dir())
        .expect("tests/fixtures/nodes is readable")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("node.yaml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Whether the harness can give files the owners the manifest asks for (only root can chown).
pub fn can_chown() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Returns true, after saying so on stderr, when a test about ownership must be skipped because
/// the tests are not running as root. Use as `if skip_without_chown("...") { return; }`.
pub fn skip_without_chown(test: &str) -> bool {
    if can_chown() {
        return false;
    }
    eprintln!("skipped: needs root for chown ({test})");
    true
}

/// `node.yaml`, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(default)]
    defaults: Defaults,
    /// Empty directories to create (git does not keep them), relative to the root.
    #[serde(default)]
    dirs: Vec<String>,
    #[serde(default)]
    files: Vec<FileRule>,
    #[serde(default)]
    processes: Vec<ProcessSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Defaults {
    #[serde(default = "default_file_mode")]
    file_mode: String,
    #[serde(default = "default_dir_mode")]
    dir_mode: String,
    #[serde(default = "default_owner")]
    owner: String,
    #[serde(default = "default_owner")]
    group: String,
}

fn default_file_mode() -> String {
    "0644".into()
}
fn default_dir_mode() -> String {
    "0755".into()
}
fn default_owner() -> String {
    "root".into()
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            file_mode: default_file_mode(),
            dir_mode: default_dir_mode(),
            owner: default_owner(),
            group: default_owner(),
        }
    }
}

/// One `files:` entry: attributes for every path the glob selects (and, with `recursive`,
/// everything below a selected directory). Later entries override earlier ones.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRule {
    path: String,
    /// Mode for everything selected, unless `file_mode` / `dir_mode` say otherwise by type.
    mode: Option<String>,
    file_mode: Option<String>,
    dir_mode: Option<String>,
    owner: Option<String>,
    group: Option<String>,
    #[serde(default)]
    recursive: bool,
}

/// One `processes:` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcessSpec {
    /// The executable's file name: what `/proc/<pid>/comm` shows (truncated to 15 bytes by the
    /// kernel). Optional with `from_static_pod`, where it is the basename of `command[0]`.
    binary: Option<String>,
    /// `argv[0]` when it differs from `binary`, e.g. `/usr/bin/kubelet` as systemd starts it.
    argv0: Option<String>,
    /// A static pod manifest (relative to the root) whose first container's `command[1:]` and
    /// `args` become the arguments, before `args`.
    from_static_pod: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    /// The process's own filesystem root, relative to the node's root: the process `chroot`s
    /// into it, as a container's process has its own root (`/proc/<pid>/root`). Needs root.
    root: Option<String>,
    /// Working directory relative to the root (the process's own `root` when given); that root
    /// itself when absent.
    cwd: Option<String>,
    /// The process environment (the harness's own environment is not passed on).
    #[serde(default)]
    env: BTreeMap<String, String>,
}

/// A process the harness started for a fixture node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureProcess {
    pub pid: u32,
    /// The executable's name, as the symlink the process was exec'd through is called.
    pub binary: String,
    /// The full command line, `argv[0]` first.
    pub argv: Vec<String>,
    /// The absolute working directory on this machine.
    pub cwd: PathBuf,
    /// The process's own root directory on this machine, when it has one (`root:`).
    pub own_root: Option<PathBuf>,
    pub env: BTreeMap<String, String>,
}

/// A materialized fixture node. See the module docs.
pub struct FixtureNode {
    name: String,
    root: PathBuf,
    ownership_applied: bool,
    processes: Vec<FixtureProcess>,
    children: Vec<Child>,
    // Dropped in this order, after `Drop::drop` has killed the children: the tree, then the lock.
    dir: Option<TempDir>,
    _lock: Flock<File>,
}

impl FixtureNode {
    /// Materializes `tests/fixtures/nodes/<name>`, panicking with the reason on any error.
    pub fn materialize(name: &str) -> FixtureNode {
        match Self::try_materialize(name) {
            Ok(node) => node,
            Err(e) => panic!("cannot materialize fixture node {name}: {e:#}"),
        }
    }

    /// Materializes `tests/fixtures/nodes/<name>`.
    pub fn try_materialize(name: &str) -> Result<FixtureNode> {
        Self::materialize_from(&fixtures_dir().join(name))
    }

    /// Materializes a fixture directory anywhere (a `node.yaml` next to a `root/`).
    pub fn materialize_from(fixture: &Path) -> Result<FixtureNode> {
        let name = fixture
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let manifest_path = fixture.join("node.yaml");
        let text = fs::read_to_string(&manifest_path)
            .with_context(|| format!("reading {}", manifest_path.display()))?;
        let manifest: Manifest =
            kubecis::yaml::from_str(&manifest_path.display().to_string(), &text)
                .with_context(|| format!("parsing {}", manifest_path.display()))?;
        let fake = fake_component_path()?;

        // Take the lock before anything is spawned, and keep it until the node is gone.
        let lock = acquire_lock()?;

        let dir = tempfile::Builder::new()
            .prefix(&format!("kubecis-node-{name}-"))
            .tempdir()
            .context("creating the temporary directory")?;
        let root = dir.path().join("root");
        let source_root = fixture.join("root");
        copy_tree(&source_root, &root)
            .with_context(|| format!("copying {}", source_root.display()))?;
        for d in &manifest.dirs {
            let p = under_root(&root, d)?;
            fs::create_dir_all(&p).with_context(|| format!("creating {}", p.display()))?;
        }

        let ownership_applied = can_chown();
        let ids = IdMaps::load(&root)?;
        apply_attributes(&root, &manifest, &ids, ownership_applied)
            .with_context(|| format!("applying {}", manifest_path.display()))?;

        let mut node = FixtureNode {
            name,
            root: root.clone(),
            ownership_applied,
            processes: Vec::new(),
            children: Vec::new(),
            dir: Some(dir),
            _lock: lock,
        };
        let bin_dir = node.dir.as_ref().expect("dir is set").path().join("bin");
        fs::create_dir(&bin_dir).context("creating the bin directory")?;
        for (i, spec) in manifest.processes.iter().enumerate() {
            node.spawn(spec, &fake, &bin_dir)
                .with_context(|| format!("processes[{i}] of {}", manifest_path.display()))?;
        }
        Ok(node)
    }

    /// The fixture's name (its directory name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The node's `/`, to pass as `--root`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The pids of the spawned component processes, in manifest order.
    pub fn pids(&self) -> Vec<u32> {
        self.processes.iter().map(|p| p.pid).collect()
    }

    /// The spawned component processes, in manifest order.
    pub fn processes(&self) -> &[FixtureProcess] {
        &self.processes
    }

    /// Whether owners and groups were applied (false when not running as root).
    pub fn ownership_applied(&self) -> bool {
        self.ownership_applied
    }

    fn spawn(&mut self, spec: &ProcessSpec, fake: &Path, bin_dir: &Path) -> Result<()> {
        let mut args = Vec::new();
        let mut binary = spec.binary.clone();
        if let Some(pod) = &spec.from_static_pod {
            let command = static_pod_command(&under_root(&self.root, pod)?)
                .with_context(|| format!("reading static pod {pod}"))?;
            let first = command
                .first()
                .ok_or_else(|| anyhow!("static pod {pod} has an empty command"))?;
            let base = Path::new(first)
                .file_name()
                .map(|b| b.to_string_lossy().into_owned())
                .unwrap_or_default();
            match &binary {
                Some(b) if *b != base => {
                    bail!("binary {b:?} differs from the static pod's command[0] {first:?}")
                }
                _ => binary = Some(base),
            }
            args.extend(command.into_iter().skip(1));
        }
        args.extend(spec.args.iter().cloned());
        let binary = binary.ok_or_else(|| anyhow!("needs `binary` or `from_static_pod`"))?;
        if binary.is_empty() || binary.contains('/') {
            bail!("binary {binary:?} must be a plain file name");
        }
        let argv0 = spec.argv0.clone().unwrap_or_else(|| binary.clone());

        let link = bin_dir.join(&binary);
        if !link.exists() {
            symlink(fake, &link).with_context(|| format!("linking {}", link.display()))?;
        }
        let own_root = match &spec.root {
            Some(r) => {
                if !can_chroot() {
                    bail!("root: {r:?} needs root to chroot; run the tests as root");
                }
                let dir = under_root(&self.root, r)?;
                if !dir.is_dir() {
                    bail!("root: {r:?} is not a directory under the node's root");
                }
                Some(dir)
            }
            None => None,
        };
        let base = own_root.as_ref().unwrap_or(&self.root);
        let cwd = match &spec.cwd {
            Some(c) => under_root(base, c)?,
            None => base.clone(),
        };
        let mut command = Command::new(&link);
        command
            .arg0(&argv0)
            .args(&args)
            .current_dir(&cwd)
            .env_clear()
            .envs(&spec.env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // The directory goes to the child as ROOT_FD (see examples/fake_component.rs).
        let root_dir = own_root
            .as_ref()
            .map(|d| File::open(d).with_context(|| format!("opening {}", d.display())))
            .transpose()?;
        if let Some(dir) = &root_dir {
            let fd = dir.as_raw_fd();
            // SAFETY: between fork and exec only async-signal-safe calls (dup2, fcntl) are made.
            unsafe {
                command.pre_exec(move || {
                    if fd == ROOT_FD {
                        return clear_cloexec(fd);
                    }
                    nix::unistd::dup2(fd, ROOT_FD)
                        .map(|_| ())
                        .map_err(std::io::Error::from)
                });
            }
        }
        let child = command
            .spawn()
            .with_context(|| format!("spawning {binary} in {}", cwd.display()))?;
        drop(root_dir);
        let pid = child.id();
        self.children.push(child);
        wait_for_comm(pid, &binary)?;
        if let Some(dir) = &own_root {
            wait_for_root(pid, dir)?;
        }
        let mut argv = vec![argv0];
        argv.extend(args);
        self.processes.push(FixtureProcess {
            pid,
            binary,
            argv,
            cwd,
            own_root,
            env: spec.env.clone(),
        });
        Ok(())
    }
}

impl Drop for FixtureNode {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Without root, a directory made 0500 by the manifest could not be emptied; give every
        // directory back its owner's write bit so the TempDir can be removed.
        if !self.ownership_applied {
            for entry in WalkDir::new(&self.root).into_iter().filter_map(|e| e.ok()) {
                if entry.file_type().is_dir() {
                    let _ = fs::set_permissions(entry.path(), fs::Permissions::from_mode(0o700));
                }
            }
        }
        if let Some(dir) = self.dir.take() {
            let path = dir.path().to_path_buf();
            if let Err(e) = dir.close() {
                eprintln!("warning: could not remove {}: {e}", path.display());
            }
        }
    }
}

/// Whether the harness can give a process its own root (only root can chroot).
pub fn can_chroot() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Whether a fixture gives any process its own root (and so needs root to materialize).
pub fn uses_process_roots(name: &str) -> bool {
    let path = fixtures_dir().join(name).join("node.yaml");
    let text = fs::read_to_string(&path).unwrap_or_default();
    kubecis::yaml::from_str::<Manifest>(&path.display().to_string(), &text)
        .map(|m| m.processes.iter().any(|p| p.root.is_some()))
        .unwrap_or(false)
}

/// The descriptor a process started in its own root receives that root on; the
/// `fake_component` example's `ROOT_FD`.
const ROOT_FD: i32 = 10;

/// Clears close-on-exec on `fd` (when the directory happens to be open as ROOT_FD already).
fn clear_cloexec(fd: i32) -> std::io::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag};
    fcntl(fd, FcntlArg::F_SETFD(FdFlag::empty()))
        .map(|_| ())
        .map_err(std::io::Error::from)
}

/// Waits until `/proc/<pid>/root` is `dir`: the process chroots itself after exec.
fn wait_for_root(pid: u32, dir: &Path) -> Result<()> {
    let want = dir
        .canonicalize()
        .with_context(|| format!("resolving {}", dir.display()))?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let now = fs::read_link(format!("/proc/{pid}/root")).ok();
        if now.as_deref() == Some(want.as_path()) {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            bail!(
                "pid {pid} did not enter its root {} within 5 s (its root: {now:?})",
                want.display()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// Waits until the kernel shows the process under its new name. `spawn` returns once the exec
/// has closed the child's close-on-exec pipe, which on some kernels happens before `comm` is
/// renamed; a scan in that window would see the test thread's name instead.
fn wait_for_comm(pid: u32, binary: &str) -> Result<()> {
    let expected: String = binary.bytes().take(15).map(char::from).collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim_end() == expected {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            bail!("pid {pid} still shows comm {comm:?}, not {expected:?}, after 5 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// Where cargo put the `fake_component` example: `target/<profile>/examples/`, next to the
/// `deps/` directory holding the running test binary.
fn fake_component_path() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the test binary")?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| anyhow!("unexpected test binary location {}", exe.display()))?;
    let path = profile_dir.join("examples").join("fake_component");
    if !path.is_file() {
        bail!(
            "{} is missing: the fixture harness needs the fake_component example; \
             build it with `cargo build --example fake_component` (plain `cargo test` and \
             `cargo nextest run` build examples, `cargo test --test NAME` does not)",
            path.display()
        );
    }
    Ok(path)
}

fn acquire_lock() -> Result<Flock<File>> {
    let path = std::env::temp_dir().join(LOCK_FILE_NAME);
    // Open an existing lock file without O_CREAT: with fs.protected_regular, O_CREAT on another
    // user's file in sticky /tmp is refused even to root.
    let file = match OpenOptions::new().read(true).write(true).open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let f = OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(&path)
                .with_context(|| format!("creating lock file {}", path.display()))?;
            // Shared by every user who runs the tests on this machine.
            let _ = f.set_permissions(fs::Permissions::from_mode(0o666));
            f
        }
        Err(e) => return Err(e).with_context(|| format!("opening lock file {}", path.display())),
    };
    Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, errno)| anyhow!("locking {}: {errno}", path.display()))
}

/// Joins a manifest path to the root, refusing absolute paths and `..` so a typo cannot touch
/// the host.
fn under_root(root: &Path, rel: &str) -> Result<PathBuf> {
    let p = Path::new(rel);
    if p.components().any(|c| !matches!(c, Component::Normal(_))) {
        bail!("path {rel:?} must be relative to the node root, without `..`");
    }
    Ok(root.join(p))
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for entry in WalkDir::new(from).follow_links(false) {
        let entry = entry?;
        let rel = entry.path().strip_prefix(from)?;
        let dest = to.join(rel);
        let ft = entry.file_type();
        if ft.is_dir() {
            fs::create_dir_all(&dest).with_context(|| format!("creating {}", dest.display()))?;
        } else if ft.is_symlink() {
            let target = fs::read_link(entry.path())?;
            symlink(&target, &dest).with_context(|| format!("linking {}", dest.display()))?;
        } else {
            fs::copy(entry.path(), &dest)
                .with_context(|| format!("copying to {}", dest.display()))?;
        }
    }
    Ok(())
}

/// User and group names of the fixture's own `/etc/passwd` and `/etc/group`.
struct IdMaps {
    users: HashMap<String, u32>,
    groups: HashMap<String, u32>,
}

impl IdMaps {
    fn load(root: &Path) -> Result<IdMaps> {
        Ok(IdMaps {
            users: read_id_file(&root.join("etc/passwd"))?,
            groups: read_id_file(&root.join("etc/group"))?,
        })
    }

    fn uid(&self, owner: &str) -> Result<u32> {
        resolve(owner, &self.users, "user", "etc/passwd")
    }

    fn gid(&self, group: &str) -> Result<u32> {
        resolve(group, &self.groups, "group", "etc/group")
    }
}

/// `name:x:id:...` lines to name -> id. A missing file is an empty map (numeric ids still work).
fn read_id_file(path: &Path) -> Result<HashMap<String, u32>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut map = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(':').collect();
        let id = fields
            .get(2)
            .and_then(|f| f.parse::<u32>().ok())
            .ok_or_else(|| anyhow!("{}:{}: no numeric id", path.display(), n + 1))?;
        map.insert(fields[0].to_string(), id);
    }
    Ok(map)
}

fn resolve(name: &str, map: &HashMap<String, u32>, what: &str, file: &str) -> Result<u32> {
    if let Ok(id) = name.parse::<u32>() {
        return Ok(id);
    }
    map.get(name)
        .copied()
        .ok_or_else(|| anyhow!("{what} {name:?} is not in the fixture's {file}"))
}

fn parse_mode(mode: &str) -> Result<u32> {
    u32::from_str_radix(mode, 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| anyhow!("mode {mode:?} is not an octal mode"))
}

/// Attributes decided for one path: (mode, uid, gid).
type Attrs = (Option<u32>, u32, u32);

fn apply_attributes(root: &Path, m: &Manifest, ids: &IdMaps, chown: bool) -> Result<()> {
    let file_mode = parse_mode(&m.defaults.file_mode)?;
    let dir_mode = parse_mode(&m.defaults.dir_mode)?;
    let uid = ids.uid(&m.defaults.owner)?;
    let gid = ids.gid(&m.defaults.group)?;

    // Decide everything first, then write once per path.
    let mut decided: BTreeMap<PathBuf, Attrs> = BTreeMap::new();
    for entry in WalkDir::new(root).follow_links(false) {
        let entry = entry?;
        let ft = entry.file_type();
        let mode = if ft.is_symlink() {
            None
        } else if ft.is_dir() {
            Some(dir_mode)
        } else {
            Some(file_mode)
        };
        decided.insert(entry.path().to_path_buf(), (mode, uid, gid));
    }

    for rule in &m.files {
        let pattern = under_root(root, &rule.path)?;
        let pattern = pattern.to_string_lossy();
        let mut matched = Vec::new();
        for p in glob::glob(&pattern).with_context(|| format!("bad glob {:?}", rule.path))? {
            matched.push(p?);
        }
        if matched.is_empty() {
            bail!("files: {:?} matches nothing under the root", rule.path);
        }
        let mode = rule.mode.as_deref().map(parse_mode).transpose()?;
        let fmode = rule
            .file_mode
            .as_deref()
            .map(parse_mode)
            .transpose()?
            .or(mode);
        let dmode = rule
            .dir_mode
            .as_deref()
            .map(parse_mode)
            .transpose()?
            .or(mode);
        let ruid = rule.owner.as_deref().map(|o| ids.uid(o)).transpose()?;
        let rgid = rule.group.as_deref().map(|g| ids.gid(g)).transpose()?;
        for top in matched {
            let walk = WalkDir::new(&top)
                .follow_links(false)
                .max_depth(if rule.recursive { usize::MAX } else { 0 });
            for entry in walk {
                let entry = entry?;
                let ft = entry.file_type();
                let slot = decided
                    .get_mut(entry.path())
                    .ok_or_else(|| anyhow!("{} escaped the walk", entry.path().display()))?;
                if !ft.is_symlink() {
                    let m = if ft.is_dir() { dmode } else { fmode };
                    if let Some(m) = m {
                        slot.0 = Some(m);
                    }
                }
                if let Some(u) = ruid {
                    slot.1 = u;
                }
                if let Some(g) = rgid {
                    slot.2 = g;
                }
            }
        }
    }

    // Children before parents, so a 0500 directory does not stop us from reaching inside it.
    for (path, (mode, uid, gid)) in decided.iter().rev() {
        if chown {
            lchown(path, Some(*uid), Some(*gid))
                .with_context(|| format!("chown {}", path.display()))?;
        }
        if let Some(mode) = mode {
            fs::set_permissions(path, fs::Permissions::from_mode(*mode))
                .with_context(|| format!("chmod {}", path.display()))?;
        }
    }
    Ok(())
}

/// The first container's `command` followed by its `args`, as the kubelet would exec them.
fn static_pod_command(path: &Path) -> Result<Vec<String>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let pod = kubecis::yaml::to_value(&path.display().to_string(), &text)?;
    let container = pod
        .get("spec")
        .and_then(|s| s.get("containers"))
        .and_then(|c| c.get(0))
        .ok_or_else(|| anyhow!("{} has no spec.containers[0]", path.display()))?;
    let mut out = Vec::new();
    for key in ["command", "args"] {
        if let Some(seq) = container.get(key) {
            let seq = seq
                .as_array()
                .ok_or_else(|| anyhow!("{key} of {} is not a list", path.display()))?;
            for item in seq {
                let s = item
                    .as_str()
                    .ok_or_else(|| anyhow!("{key} of {} has a non-string", path.display()))?;
                out.push(s.to_string());
            }
        }
    }
    Ok(out)
}
