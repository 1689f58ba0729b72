#!/usr/bin/env bash
# Regenerates the reference pages the operator binary prints (docs/src/reference/): the LiveStream
# and LiveStreamClip fields from the CRD schema, and the flags of `run`. Unit tests
# (`cargo test -p livestream-operator docs_`) fail while a committed page differs from this output.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=hack/lib.sh
. hack/lib.sh
# Two clones (or worktrees) building into one CARGO_TARGET_DIR at once overwrite each other's
# artifacts (cargo names them without the clone's path): give a second clone its own target dir.
cargo build -q --locked -p livestream-operator --bin livestream-operator
for page in livestream livestreamclip flags; do
  "$CARGO_TARGET_DIR/debug/livestream-operator" docs "$page" >"docs/src/reference/$page.md.new"
  mv "docs/src/reference/$page.md.new" "docs/src/reference/$page.md"
done
