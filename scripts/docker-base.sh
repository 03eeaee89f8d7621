#!/usr/bin/env bash
# Makes the image `debian:bookworm-slim` in a Docker engine that cannot pull it (no image registry
# is reachable here): a Debian root from `debootstrap --variant=minbase` (Debian's mirror only),
# trimmed like the official slim image (no apt lists, no docs), with the official image's apt
# sources, then `docker import` under that exact name, so the Dockerfile builds unchanged
# anywhere else. Does nothing when the engine already has the image.
#   DOCKER="docker -H unix:///path/docker.sock" scripts/docker-base.sh
# The root is cached as a tarball in $OBI_CACHE_DIR (default /var/cache/obi-ts), so only the
# first run on a machine pays for debootstrap (~1-2 minutes).
set -euo pipefail
DOCKER=${DOCKER:-docker}
NAME=debian:bookworm-slim
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${OBI_CACHE_DIR:-/var/cache/obi-ts}
tarball="$cache/debian-bookworm-minbase.tar"

if $DOCKER image inspect "$NAME" >/dev/null 2>&1; then exit 0; fi
if [ ! -s "$tarball" ]; then
  command -v debootstrap >/dev/null || { echo "docker-base: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/root.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "docker-base: debootstrap --variant=minbase bookworm ($MIRROR)" >&2
  debootstrap --variant=minbase bookworm "$tmp/root" "$MIRROR" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
  r="$tmp/root"
  rm -f "$r/etc/apt/sources.list"
  cat >"$r/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  # as the official slim image: no documentation, man pages or locales from later installs
  cat >"$r/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
CFG
  rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/var/log/*.log
  # no machine id in the image (as the official one): each host gives its own
  rm -f "$r/etc/machine-id" "$r/var/lib/dbus/machine-id"
  tar --numeric-owner --xattrs -C "$r" -cf "$tmp/root.tar" .
  mv "$tmp/root.tar" "$tarball"
fi
# This machine's own trust anchors (/usr/local/share/ca-certificates: a TLS-inspecting proxy's
# CA, where there is one) go into the local base, so that the build's `apt-get install
# ca-certificates` trusts what the machine trusts; the official image has none and needs none.
src=$tarball
extra=(/usr/local/share/ca-certificates/*.crt)
if [ -e "${extra[0]}" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/stage/usr/local/share/ca-certificates"
  cp "${extra[@]}" "$work/stage/usr/local/share/ca-certificates/"
  cp "$tarball" "$work/base.tar"
  tar --numeric-owner --owner=0 --group=0 -C "$work/stage" -rf "$work/base.tar" ./usr/local/share/ca-certificates
  src="$work/base.tar"
fi
$DOCKER import --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "$src" "$NAME" >/dev/null
echo "docker-base: imported $NAME from $tarball${extra[0]:+ (with ${#extra[@]} local CA certificates)}" >&2
