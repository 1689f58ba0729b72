#!/usr/bin/env bash
# Media benchmark of livestream-local (time to first playable HLS segment, ladder transcode speed)
# for the x264 presets ultrafast and superfast. Arguments go to hack/bench_media.py, e.g.
#   hack/bench-media.sh --runs 5
#   hack/bench-media.sh --cases ultrafast --runs 1
# LIVESTREAM_LOCAL_BIN=path skips the build and benchmarks that binary.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# setup.sh is idempotent but slow-ish to re-check; run it only when a tool is missing.
if ! command -v ffmpeg >/dev/null || ! command -v python3 >/dev/null \
  || ! python3 -c 'import botocore' 2>/dev/null; then
  hack/setup.sh
fi
# shellcheck source=hack/lib.sh
. hack/lib.sh

if [ -z "${LIVESTREAM_LOCAL_BIN:-}" ]; then
  # A no-op when up to date; benchmarks the tree as it is. Debug is fine: ffmpeg does the work.
  cargo build --quiet -p livestream-local
  LIVESTREAM_LOCAL_BIN=$CARGO_TARGET_DIR/debug/livestream-local
fi

# exec: Ctrl-C and SIGTERM reach the Python process, which stops what it started.
exec python3 hack/bench_media.py --binary "$LIVESTREAM_LOCAL_BIN" "$@"
