#!/usr/bin/env bash
# End-to-end test of the extension in real VS Code (code-server + Playwright + Chromium).
# Needs the built VSIX (runs ci.sh when it is missing) and the Handrail server from the
# repository's .venv (the README's test command creates it); HANDRAIL_E2E_SERVER overrides.
# Screenshots of every step land in client-vscode/e2e/artifacts/.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
# shellcheck source=tools.sh
source "$HERE/scripts/tools.sh"

if [ ! -x /usr/lib/chromium/chromium ]; then
  # libkrb5-dev and a compiler: code-server's postinstall builds its kerberos module.
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium libkrb5-dev build-essential pkg-config
fi

[ -f "$HERE/handrail.vsix" ] || bash "$HERE/scripts/ci.sh"

SERVER="${HANDRAIL_E2E_SERVER:-$REPO/.venv/bin/handrail}"
if [ ! -x "$SERVER" ]; then
  echo "e2e: no Handrail server at $SERVER; create the .venv with the README's test command first." >&2
  exit 2
fi

use_node24
ensure_tools "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION" \
  "@vscode/vsce@$VSCE_VERSION"

# The test-only language model the chat scenarios talk to (e2e/fake-model), packed fresh.
FAKE_DIR="$(mktemp -d)"
trap 'rm -rf "$FAKE_DIR"' EXIT
(cd "$HERE/e2e/fake-model" &&
  vsce package --no-dependencies --skip-license --allow-missing-repository \
    -o "$FAKE_DIR/handrail-fake-model.vsix" >/dev/null)

rm -rf "$HERE/e2e/artifacts"
TOOLS_DIR="$TOOLS_DIR" VSIX="$HERE/handrail.vsix" HANDRAIL_SERVER="$SERVER" \
  FIXTURE="$REPO/examples/quickstart" ARTIFACTS="$HERE/e2e/artifacts" \
  FAKE_MODEL_VSIX="$FAKE_DIR/handrail-fake-model.vsix" \
  node "$HERE/e2e/run.mjs"
