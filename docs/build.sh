#!/usr/bin/env bash
# Builds the docs site: renders the Graphviz diagrams, runs `mdbook build`, then fails on any broken
# internal link or #anchor in the generated HTML (docs/check_links.py). Usage: docs/build.sh [OUT]
# (default: $LIVESTREAM_CACHE/docs/book, outside the clone). Open OUT/index.html in a browser.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=hack/lib.sh
. "$ROOT/hack/lib.sh"
LOG_NAME=docs
out=${1:-$LIVESTREAM_CACHE/docs/book}
cd "$ROOT"
command -v mdbook >/dev/null || die "mdbook is missing: run hack/setup.sh"
command -v dot >/dev/null || die "Graphviz dot is missing: run hack/setup.sh"

# The Helm values page is generated from values.yaml's comments; a stale page fails the build.
python3 "$ROOT/docs/helm_values.py" deploy/helm/livestream-operator/values.yaml --check \
  "$ROOT/docs/src/reference/helm-values.md"

# Each committed .dot becomes an .svg beside it (gitignored), which the pages embed.
while IFS= read -r -d '' source; do
  dot -Tsvg "$source" -o "${source%.dot}.svg"
done < <(find "$ROOT/docs/src" -name '*.dot' -print0)

rm -rf "$out"
mkdir -p "$(dirname "$out")"
mdbook build --dest-dir "$out" "$ROOT/docs" >"$out.log" 2>&1 || { cat "$out.log" >&2; die "mdbook build failed"; }
grep -i -E 'warn|error' "$out.log" >&2 && die "mdbook build warned (above)"
[ -f "$out/index.html" ] || die "mdbook build produced no site"
python3 "$ROOT/docs/check_links.py" "$out"
python3 "$ROOT/docs/check_links.py" --markdown README.md
log "site built in $out"
