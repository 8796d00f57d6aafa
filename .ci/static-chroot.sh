#!/usr/bin/env bash
# Builds the static binary once (scripts/build-static.sh) and runs the tests that need
# it: tests/scratch_chroot.rs runs it under chroot with nothing else around it.
# Needs root for chroot; the tests skip with a message otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(scripts/build-static.sh)
ls -l "$bin"
file "$bin"
KUBECIS_STATIC_BIN="$bin" cargo test --locked --test scratch_chroot -- --nocapture
