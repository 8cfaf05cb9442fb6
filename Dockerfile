# syntax=docker/dockerfile:1
#
# svc as one binary in a FROM scratch image: the binary, the shared libraries
# it links, CA certificates, a non-root user, and the config and protos under
# /etc/svc. No shell, no package manager.
#
#   docker build -t svc-demo .                                   # config/svc.yaml
#   docker build --build-arg CONFIG=examples/routeguide/svc.yaml -t routeguide .
#   docker run --rm -p 50051:50051 -p 9090:9090 svc-demo
#   docker run --rm --entrypoint /svc svc-demo check /etc/svc/config.yaml
#
# Size: the binary is denort (Deno's runtime without the toolchain) plus the
# embedded sources and npm packages, roughly 100-120 MB; the libraries and
# CA bundle add about 3.5 MB. Expect an image of about 105-125 MB
# (about 40 MB compressed in a registry).
#
# `deno compile` downloads denort from dl.deno.land in the build stage. To
# build offline, put a denort binary of Deno 2.8.3 (from
# denort-x86_64-unknown-linux-gnu.zip) in the build context and pass
# --build-arg DENORT_BIN=/src/denort.

# --- build: Deno 2.8.3 from npm, svc build, then the image's root filesystem ---
FROM node:20-bookworm-slim AS build
# The release svc pins (see README: earlier ones cannot serve grpc-js,
# 2.9.4-2.9.6 abort after long server streams).
ARG DENO_VERSION=2.8.3
# ca-certificates: the bundle the image ships. ldd (libc-bin) is already here.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && npm install --global "deno@${DENO_VERSION}" \
 && deno --version
WORKDIR /src
# npm packages first, so source edits do not refetch them.
COPY deno.json deno.lock ./
RUN deno install --frozen
COPY . .
ARG CONFIG=config/svc.yaml
ARG DENORT_BIN=
# Writes dist/svc_manifest.ts (every handler file, imported literally) and
# dist/svc_entry.ts, then deno compile with the runtime's narrow permissions.
RUN DENORT_BIN="${DENORT_BIN}" deno run -A main.ts build "${CONFIG}" -o /out/svc
# The final stage's files: /svc, ldd's libraries and loader, CA bundle,
# /etc/passwd and /etc/group (nonroot, 65532), /etc/svc/config.yaml and protos.
# tests/scratch_test.ts runs the runtime in exactly this set under chroot.
RUN deno run -A runtime/cli/build/rootfs.ts --binary /out/svc --config "${CONFIG}" --out /rootfs

# --- the image ---
FROM scratch
COPY --from=build /rootfs/ /
USER 65532:65532
# glibc: keep buffers of 128 KiB and more in their own mappings, so freed
# messages go back to the OS (the binary has no FFI to set it itself; see
# runtime/util/malloc_tuning.ts). For the V8 heap in a memory-limited pod,
# add DENO_V8_FLAGS=--max-old-space-size=<about 75% of the limit, in MiB>.
ENV MALLOC_MMAP_THRESHOLD_=131072
# gRPC, and admin (/metrics, /healthz, /readyz). Override with SVC_SERVER_PORT
# and SVC_ADMIN_PORT, or a config mounted over /etc/svc/config.yaml.
EXPOSE 50051 9090
# svc drains on SIGTERM: NOT_SERVING, drainDelay, GOAWAY, gracePeriod, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/svc", "run", "/etc/svc/config.yaml"]
