#!/usr/bin/env bash
# Bundles the player script (hls.js included) into website/dist/player.js (committed: the operator
# embeds it, with src/index.html and src/player.css as they are, with include_bytes!).
# Idempotent and deterministic: a second run gives the same bytes, so CI can rebuild and
# `git diff --exit-code website/dist`.
#   website/build.sh          install the locked npm packages if needed, then build
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
log() { printf 'website: %s\n' "$*" >&2; }

# Never let an install step fetch a browser: the tests use Debian's /usr/bin/chromium.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

# `npm ci` only when node_modules does not match package-lock.json (stamp of its hash and of node's
# major version, since esbuild's binary package is per platform).
stamp=node_modules/.lock-stamp
want="$(sha256sum package-lock.json | cut -d' ' -f1) node-$(node -p 'process.versions.node.split(".")[0]')"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -x node_modules/.bin/esbuild ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error >&2
  printf '%s\n' "$want" >"$stamp"
fi

rm -rf dist
mkdir -p dist
node_modules/.bin/esbuild src/player.js \
  --bundle \
  --format=iife \
  --platform=browser \
  --target=es2020 \
  --minify \
  --legal-comments=eof \
  --charset=utf8 \
  --log-level=warning \
  --outfile=dist/player.js
chmod 0644 dist/*

log "built $(cd dist && for f in *; do printf '%s=%s ' "$f" "$(wc -c <"$f")"; done)"
