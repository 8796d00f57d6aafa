#!/usr/bin/env bash
# Installs a real etcd server (Debian's etcd-server package) for tests/etcd_real.rs, which
# starts private etcd members on 127.0.0.1 and audits them. Idempotent: does nothing when an
# `etcd` binary is already on PATH. Needs root on Debian (bookworm ships etcd 3.4).
#
# The package's service must not start: a host-wide etcd would be one more `etcd` process in
# /proc and would hold the default ports, so the install runs under a policy-rc.d that refuses
# every service start (kept when the machine already has one) and any etcd left running by the
# package is reported as an error instead of being left to confuse the tests.
set -euo pipefail

say() { printf 'install-etcd: %s\n' "$*"; }
die() { printf 'install-etcd: error: %s\n' "$*" >&2; exit 1; }

check_binary() {
    local bin
    bin=$(command -v etcd) || die "etcd is still not on PATH"
    # kubecis finds etcd by its executable name (/proc/<pid>/comm): it must be called etcd,
    # not reached through a differently named wrapper.
    local real
    real=$(readlink -f "$bin")
    [ "$(basename "$real")" = etcd ] || die "$bin resolves to $real, whose name is not etcd"
    "$bin" --version >/dev/null 2>&1 || die "$bin --version failed"
    say "$("$bin" --version | head -n1) at $bin"
}

if command -v etcd >/dev/null 2>&1; then
    check_binary
    exit 0
fi

[ "$(id -u)" -eq 0 ] || die "etcd is not installed and installing it needs root"
command -v apt-get >/dev/null 2>&1 || die "etcd is not installed and this is not a Debian-like system (no apt-get)"

export DEBIAN_FRONTEND=noninteractive

made_policy=
log=$(mktemp)
cleanup() {
    if [ -n "$made_policy" ]; then rm -f "$policy"; fi
    rm -f "$log"
}
trap cleanup EXIT
# apt's chatter goes to a log that is shown only when something fails.
quiet() { "$@" >>"$log" 2>&1 || { cat "$log" >&2; return 1; }; }

candidate() { apt-cache policy etcd-server 2>/dev/null | awk '/Candidate:/ {print $2}'; }

# Refresh the package lists only when they do not know etcd-server yet.
cand=$(candidate)
if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
    say "updating package lists"
    quiet apt-get update -qq || die "apt-get update failed (output above)"
    cand=$(candidate)
fi
[ -n "$cand" ] && [ "$cand" != "(none)" ] || die "no etcd-server package is available from apt"

policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# Temporary, from kubecis .ci/install-etcd.sh: no service starts.\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=1
fi

say "installing etcd-server $cand"
quiet apt-get install -y -qq --no-install-recommends etcd-server \
    || die "apt-get install etcd-server failed (output above)"

# Any process named etcd (procps may be missing, so /proc is read directly).
running=$(grep -lx etcd /proc/[0-9]*/comm 2>/dev/null | cut -d/ -f3 | tr '\n' ' ' || true)
if [ -n "$running" ]; then
    die "etcd is running after the install (pid $running); stop it: the etcd tests need a machine without one"
fi

check_binary
