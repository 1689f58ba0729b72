#!/usr/bin/env bash
# Installs what the build and the tests need, idempotently; a second run only checks.
set -euo pipefail

log() { printf 'setup: %s\n' "$*" >&2; }

# Debian packages: openssl (test certificates), curl (readiness probes), python3 (free ports).
need_apt=()
for tool in openssl:openssl curl:curl python3:python3; do
  command -v "${tool%%:*}" >/dev/null || need_apt+=("${tool#*:}")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

for tool in cargo go; do
  command -v "$tool" >/dev/null || { log "error: $tool is required (the machine image provides it)"; exit 1; }
done
for component in rustfmt clippy; do
  cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1 || rustup component add "$component"
done
