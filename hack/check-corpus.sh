#!/usr/bin/env bash
# Sends the corpus of requests real AWS accepted (local/corpus/, each entry with its source) to a
# fresh livestream-local with botocore (hack/check-corpus.py) and requires each to be accepted and
# described back as sent. One row per entry (ok / REFUSED with AWS's error / NOT ECHOED with the
# member paths), a summary per service; exits non-zero on any failure. Independent of the operator.
#
#   hack/check-corpus.sh                      # builds livestream-local (debug) first
#   LIVESTREAM_LOCAL_BIN=path hack/check-corpus.sh [--only medialive/] [--json results.json]
#
# Needs python3 with botocore (the AWS CLI that hack/setup.sh installs brings it).
set -euo pipefail
LOG_NAME=check-corpus
cd "$(dirname "$0")/.."
. hack/lib.sh

python3 -c 'import botocore' 2>/dev/null || die "botocore is missing (hack/setup.sh installs the AWS CLI)"
need_livestream_local

work=$(mktemp -d)
pid=
cleanup() {
  stop_pid "$pid"
  rm -rf "$work"
}
trap cleanup EXIT

: >"$work/stdout"
# Short lifecycle delays (the corpus waits for states); MediaPackage v2 quotas raised so that every
# entry fits in one account, as one asks AWS to.
"$LIVESTREAM_LOCAL_BIN" --listen 127.0.0.1:0 --rtmp-port 0 --data-dir "$work/data" \
  --cloudfront-deploy-seconds 1 --channel-create-ms 100 --channel-start-ms 100 --channel-stop-ms 100 \
  --channel-update-ms 100 --channel-delete-ms 100 --input-create-ms 100 --input-delete-ms 100 \
  --mediapackagev2-quotas channelGroups=100,channels=100,originEndpoints=100,manifests=100 \
  >"$work/stdout" 2>"$work/stderr" &
pid=$!
url=$(local_endpoint "$pid" "$work/stdout" "$work/stderr")
log "livestream-local at $url"

status=0
python3 hack/check-corpus.py --endpoint "$url" "$@" || status=$?
kill -0 "$pid" 2>/dev/null || { cat "$work/stderr" >&2; die "livestream-local exited during the run"; }
exit "$status"
