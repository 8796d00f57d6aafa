#!/usr/bin/env bash
# Build a fully static kubecis (static-pie, glibc linked in) for x86_64 Linux.
#
# Why static: the binary must run where there is no libc to borrow — a `FROM scratch`
# image, a chroot holding nothing else, or a node reached over SSH whose glibc may be
# older than the build machine's. One file, copied anywhere, runs.
#
# Why `--target` is given explicitly: with an explicit target, cargo applies the target
# RUSTFLAGS only to the crates that end up in the binary. Build scripts and proc-macros
# (serde_derive, clap_derive, thiserror-impl) are built for the host without
# `+crt-static`; a proc-macro is a shared object loaded by rustc and cannot be built
# static. The artifacts also land under target/x86_64-unknown-linux-gnu/, so this build
# never invalidates the normal `target/release` one.
#
# glibc and NSS: a static glibc cannot load NSS modules, so getpwuid/getgrgid would only
# see /etc/passwd-style "files" lookups — at best. kubecis never asks libc for user or
# group names: it reads the audited root's own etc/passwd and etc/group (under --root),
# which is also what makes it correct when auditing a mounted host root from a container.
#
# Usage: scripts/build-static.sh            -> prints the path of the built binary
#        KUBECIS_STATIC_PROFILE=dev scripts/build-static.sh   (faster, unoptimised)
set -euo pipefail

cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-gnu
profile="${KUBECIS_STATIC_PROFILE:-release}"

if [ "$(uname -m)" != x86_64 ]; then
    echo "build-static.sh: only x86_64 hosts are supported (got $(uname -m))" >&2
    exit 2
fi

# CARGO_TARGET_<triple>_RUSTFLAGS rather than RUSTFLAGS: it names the target it is for,
# and it is added to (not replaced by) any rustflags the user already configured.
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static ${CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS:-}"

cargo build --locked --profile "$profile" --target "$target" --bin kubecis >&2

case "$profile" in
    dev) dir=debug ;;
    *) dir="$profile" ;;
esac
bin="target/$target/$dir/kubecis"

# Refuse to hand back something that is not static: a dynamic binary would pass here
# and fail later inside a scratch image with a confusing "no such file or directory".
if ! file "$bin" | grep -Eq 'static-pie linked|statically linked'; then
    echo "build-static.sh: $bin is not statically linked:" >&2
    file "$bin" >&2
    exit 1
fi
if ldd "$bin" >/dev/null 2>&1 && ! ldd "$bin" 2>&1 | grep -Eq 'not a dynamic executable|statically linked'; then
    echo "build-static.sh: ldd lists shared libraries for $bin:" >&2
    ldd "$bin" >&2
    exit 1
fi
echo "$PWD/$bin"
