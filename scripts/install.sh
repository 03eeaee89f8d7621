#!/usr/bin/env bash
# `make install`: lays the built agent out under $DESTDIR$PREFIX (default /opt/obi-ts), with
# its own Node runtime (the one the build used), the production npm dependencies only, the
# systemd unit in $DESTDIR$UNITDIR and, when there is none yet, the configuration in
# $DESTDIR$SYSCONFDIR/obi-ts/obi-ts.yaml. The Dockerfile uses it for the image's tree too.
# Needs a finished `make build` (the Makefile target depends on it). No network.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=${PREFIX:-/opt/obi-ts}
DESTDIR=${DESTDIR:-}
SYSCONFDIR=${SYSCONFDIR:-/etc}
UNITDIR=${UNITDIR:-/etc/systemd/system}
NODE=${NODE:-$("$here/scripts/provision-node.sh")}
root="$DESTDIR$PREFIX"

for f in build/js/.stamp build/bpf/obi.bpf.o build/native/obi_native.node build/native/obi-selftest; do
  [ -e "$here/$f" ] || { echo "obi-ts install: $f is missing; run 'make build' first" >&2; exit 1; }
done
rm -rf "$root"
mkdir -p "$root/bin" "$root/build/bpf" "$root/build/native" "$root/.tools/node/bin"
install -m 0755 "$here/bin/obi-ts" "$root/bin/obi-ts"
cp -a "$here/build/js" "$root/build/js"
install -m 0644 "$here/build/bpf/obi.bpf.o" "$root/build/bpf/obi.bpf.o"
install -m 0755 "$here/build/native/obi_native.node" "$root/build/native/obi_native.node"
install -m 0755 "$here/build/native/obi-selftest" "$root/build/native/obi-selftest"
install -m 0644 "$here/package.json" "$here/package-lock.json" "$root/"
install -m 0755 "$(readlink -f "$NODE")" "$root/.tools/node/bin/node"
# production dependencies: a copy of node_modules pruned offline (no registry access)
cp -a "$here/node_modules" "$root/node_modules"
rm -f "$root/node_modules/.obi-stamp"
( cd "$root" && "$here/scripts/npm.sh" prune --omit=dev --offline --no-audit --no-fund --loglevel=error )
mkdir -p "$root/deploy" && install -m 0644 "$here/deploy/default.yaml" "$root/deploy/default.yaml"

install -D -m 0644 "$here/deploy/systemd/obi-ts.service" "$DESTDIR$UNITDIR/obi-ts.service"
if [ "$PREFIX" != /opt/obi-ts ]; then sed -i "s#/opt/obi-ts#$PREFIX#g" "$DESTDIR$UNITDIR/obi-ts.service"; fi
if [ "$SYSCONFDIR" != /etc ]; then sed -i "s#/etc/obi-ts/#$SYSCONFDIR/obi-ts/#g" "$DESTDIR$UNITDIR/obi-ts.service"; fi
conf="$DESTDIR$SYSCONFDIR/obi-ts/obi-ts.yaml"
[ -e "$conf" ] || install -D -m 0644 "$here/deploy/default.yaml" "$conf"
echo "obi-ts installed in $root ($(du -sh "$root" | cut -f1)); unit $DESTDIR$UNITDIR/obi-ts.service; config $conf" >&2
