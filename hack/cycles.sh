#!/usr/bin/env bash
# Module import cycles in the operator and in livestream-local, found by cargo-cycles (installed by
# hack/setup.sh). A module and a module it declares count as one edge each way when the child
# imports from its parent, so a cycle here is also a child reaching back up.
#
#   hack/cycles.sh            prints the cycles and their count; fails when there are any
#   hack/cycles.sh --count    prints only the count per crate
#
# cargo-cycles reads `Cargo.toml` in the directory it runs in and wants a workspace of named
# members (ours has "."), and its walk skips symlinks: it runs on a copy of both crates' sources.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOG_NAME=cycles
# shellcheck source=hack/lib.sh
. "$ROOT/hack/lib.sh"
command -v cargo-cycles >/dev/null || die "cargo-cycles is not installed: run hack/setup.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/cycles.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/operator" "$work/local"
printf '[workspace]\nmembers = ["operator", "local"]\n' >"$work/Cargo.toml"
cp -r "$ROOT/src" "$ROOT/Cargo.toml" "$work/operator/"
cp -r "$ROOT/local/src" "$ROOT/local/Cargo.toml" "$work/local/"
out=$(cd "$work" && cargo-cycles 2>&1 || true)
# The line after each "Cycle N:" starts with the module the cycle begins at.
count() { grep -A1 -E '^Cycle [0-9]+:' <<<"$out" | grep -c "^ *$1::" || true; }
if [ "${1:-}" = --count ]; then
  printf 'operator %s\nlocal %s\n' "$(count operator)" "$(count local)"
  exit 0
fi
printf '%s\n' "$out" | sed "s|\\./||"
total=$(($(count operator) + $(count local)))
echo "import cycles: $total"
[ "$total" -eq 0 ]
