//! A stand-in for a Kubernetes component process in fixture-node tests.
//!
//! The test harness (`tests/common/fixture.rs`) execs this program through a symlink named like
//! the component (`kube-apiserver`, `kubelet`, ...) with the exact command line a real node would
//! show, so `/proc/<pid>/cmdline`, `/proc/<pid>/comm` and `/proc/<pid>/cwd` look like the real
//! thing to kubecis. The program itself does nothing but wait.
//!
//! A component that runs in a container has its own filesystem root. The harness gives such a
//! process the directory holding that filesystem as file descriptor [`ROOT_FD`] (nothing shows
//! in its command line or environment); the process then `chroot`s into it, so
//! `/proc/<pid>/root` is that directory, as for a containerized process. The program was
//! already loaded, so it needs no files inside its new root.
//!
//! It must never outlive its test: it exits on SIGTERM, when its parent dies (it is re-parented),
//! or after ten minutes at the latest, whichever comes first.

use std::time::{Duration, Instant};

use nix::sys::signal::{signal, SigHandler, Signal};
use nix::sys::stat::{fstat, SFlag};
use nix::unistd::{chroot, close, getppid};

/// The descriptor on which the harness passes the directory to use as root, if any. The
/// harness's own descriptors are close-on-exec, so an open directory here was meant for us.
pub const ROOT_FD: i32 = 10;

/// Upper bound on the life of a fixture process, in case every other exit path fails.
const MAX_LIFETIME: Duration = Duration::from_secs(600);
const POLL: Duration = Duration::from_millis(200);

fn main() {
    // A parent that ignores SIGTERM would pass that disposition on through exec; restore the
    // default so the harness (or a human with `kill`) can always end us.
    // SAFETY: installing the default disposition runs no handler code.
    unsafe {
        let _ = signal(Signal::SIGTERM, SigHandler::SigDfl);
    }
    enter_own_root();
    let parent = getppid();
    let started = Instant::now();
    while started.elapsed() < MAX_LIFETIME {
        if getppid() != parent {
            // The test process died without reaping us (killed by a timeout, say).
            return;
        }
        std::thread::sleep(POLL);
    }
}

/// Enters the root directory passed on [`ROOT_FD`], if there is one; exits with status 3 (the
/// harness then reports that the process did not enter its root) when that fails.
fn enter_own_root() {
    let Ok(st) = fstat(ROOT_FD) else { return };
    if SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) != SFlag::S_IFDIR {
        return;
    }
    if let Err(e) = chroot(format!("/proc/self/fd/{ROOT_FD}").as_str()) {
        eprintln!("fake_component: chroot: {e}");
        std::process::exit(3);
    }
    let _ = close(ROOT_FD);
}
