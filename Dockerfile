# kubecis container image: one static binary and the bundled benchmark definitions,
# nothing else — no shell, no libc, no package manager.
#
#   docker build -t kubecis:latest .
#   docker run --rm --pid=host -v /:/host:ro kubecis:latest run --root /host
#
# The deployment manifests (deploy/job*.yaml) refer to this image as kubecis:latest;
# push it to your registry and replace that name there.

# ---- build: a static-pie x86_64 binary (glibc linked in, +crt-static) ----------------
# The same build as scripts/build-static.sh, spelled out because the slim image has no
# `file` for that script's self-check; the scratch stage below is the stronger check.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
# Target-scoped RUSTFLAGS and an explicit --target: proc-macros and build scripts are
# built for the host without crt-static (they cannot be static), only kubecis itself is.
ENV CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static"
RUN cargo build --locked --release --target x86_64-unknown-linux-gnu --bin kubecis \
    && install -D -m 0755 target/x86_64-unknown-linux-gnu/release/kubecis /out/kubecis \
    && cp -r cfg /out/cfg

# ---- final: scratch --------------------------------------------------------------------
FROM scratch
# The definitions sit beside the binary (/usr/local/bin/cfg), one of the places kubecis
# looks for cfg/ by default. The binary also embeds them; this copy is there so they can
# be read in the image and replaced by mounting a ConfigMap over the directory (or by
# passing --config-dir).
COPY --from=build /out/kubecis /usr/local/bin/kubecis
COPY --from=build /out/cfg /usr/local/bin/cfg
# Proves at build time that the binary runs with nothing else in the image (`version` is
# the tool's version; `--version` is the Kubernetes version, as in kube-bench): a dynamic
# binary would fail here ("no such file or directory" for its missing loader).
RUN ["/usr/local/bin/kubecis", "version"]

# Root, deliberately. The files CIS asks about (static pod manifests, PKI keys, kubelet
# config, kubeconfigs) are mostly root:root with mode 600; only their owner (uid 0) or a
# process with CAP_DAC_READ_SEARCH may read them, and an unprivileged uid such as 65532
# would turn every such check into "permission denied" (WARN). The Jobs take away
# everything else: all capabilities dropped except DAC_READ_SEARCH, no privilege
# escalation, a read-only root filesystem and a read-only host mount.
# hadolint ignore=DL3002
USER 0:0
ENTRYPOINT ["/usr/local/bin/kubecis"]
CMD ["run"]
