//! A stand-in for a Kubernetes component process in fixture-node tests.
//!
//! The test harness (`tests/common/fixture.rs`) execs this program through a symlink named like
//! the component (`kube-apiserver`, `kubelet`, ...) with the exact command line a real node would
//! show, so `/proc/<pid>/cmdline`, `/proc/<pid>/comm` and `/proc/<pid>/cwd` look like the real
//! thing to kubecis. The program itself does nothing but wait.
//!
//! It must never outlive its test: it exits on SIGTERM, when its parent dies (it is re-parented),
//! or after ten minutes at the latest, whichever comes first.

use std::time::{Duration, Instant};

use nix::sys::signal::{signal, SigHandler, Signal};
use nix::unistd::getppid;

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
