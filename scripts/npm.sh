#!/usr/bin/env bash
# Runs npm's CLI on the provisioned Node (so engines and native builds see Node 24).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
node=$("$here/scripts/provision-node.sh")
if ! command -v npm >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
fi
cli=$(readlink -f "$(command -v npm)")
case "$cli" in *.js) ;; *) cli="$(dirname "$cli")/../lib/node_modules/npm/bin/npm-cli.js" ;; esac
exec "$node" "$cli" "$@"
