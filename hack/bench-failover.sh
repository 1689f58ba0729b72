#!/usr/bin/env bash
# Failover benchmark of livestream-local: the viewer-visible gap when a pipeline's encoder dies
# (STANDARD channel), when the primary encoder dies (automatic input failover), and, as today's
# baseline, when a Single stream's only encoder restarts; then the CPU of a STANDARD channel beside
# a SINGLE_PIPELINE one. Arguments go to hack/bench_failover.py, e.g.
#   hack/bench-failover.sh --runs 5
#   hack/bench-failover.sh --cases failover --runs 1
# LIVESTREAM_LOCAL_BIN=path skips the build and benchmarks that binary.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if ! command -v ffmpeg >/dev/null || ! python3 -c 'import botocore' 2>/dev/null; then
  hack/setup.sh
fi
# shellcheck source=hack/lib.sh
. hack/lib.sh
need_livestream_local

# exec: Ctrl-C and SIGTERM reach the Python process, which stops what it started.
exec python3 hack/bench_failover.py --binary "$LIVESTREAM_LOCAL_BIN" "$@"
