#!/usr/bin/env bash
# Scale benchmark: can one operator manage N LiveStreams (default 1,000) within MediaLive's API rate
# limits? Starts its own control plane, livestream-local (with a per-operation rate limit standing
# in for AWS's) and one operator, then measures three phases from livestream-local's call counters,
# the operator's /metrics and `kubectl get lvs`:
#
#   create N   N LiveStreams (spec {}: running false) created at once, until all are Ready=True at
#              their current generation;
#   steady     a window of W seconds with nothing to do but resyncs (every R s, ±10 % jitter) and
#              the full reads they owe (every F s; between them, listings stand in);
#   delete N   `kubectl delete lvs --all`, until none are left; then livestream-local must hold no
#              channel, input, security group, MediaPackage v1/v2 channel or endpoint, v2 channel
#              group or CloudFront distribution.
#
#   hack/bench-scale.sh [--streams 1000] [--resync-seconds 30] [--full-read-seconds (12 x resync)]
#                       [--window SECONDS (the full-read period)]
#                       [--throttle OP=N,...] [--create-timeout 600] [--delete-timeout 600]
#                       [--keep] (keep the work directory: logs, samples, snapshots)
#
# The default throttle is 20 calls/s per operation and service (see THROTTLE below); the production
# resync is 300 s and full read 3,600 s (12 resyncs): the bench keeps that ratio, so its steady
# window of one full-read period extrapolates to the production figures. The operator is the
# release build, as users run it; livestream-local the debug build the tests use.
#
# Prints Markdown tables on stdout (progress on stderr). Every process it starts is stopped by
# process id on exit, errors, Ctrl-C and SIGTERM. LIVESTREAM_OPERATOR_BIN and LIVESTREAM_LOCAL_BIN
# skip the build. Exits non-zero when a phase timed out or AWS resources were left behind.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOG_NAME=bench-scale
# shellcheck source=hack/lib.sh
. "$ROOT/hack/lib.sh"
ROLE=arn:aws:iam::123456789012:role/MediaLiveAccessRole
PRODUCTION_RESYNC=300
PRODUCTION_FULL_READ=3600
PRODUCTION_STREAMS=1000
MAX_STREAMS=5000

STREAMS=1000
RESYNC=30
FULL_READ=""
WINDOW=""
# livestream-local keys its rate limits by operation name alone, so MediaLive's and MediaPackage's
# CreateChannel, DescribeChannel and DeleteChannel share one bucket; 40/s for those gives each
# service about its own 20/s, as AWS limits each service separately.
THROTTLE='*=20,CreateChannel=40,DescribeChannel=40,DeleteChannel=40'
CREATE_TIMEOUT=600
DELETE_TIMEOUT=600
SAMPLE_SECONDS=2
KEEP=0

usage() { sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
int() { [[ $2 =~ ^[0-9]+$ ]] || die "$1 needs a whole number, got '$2'"; }

while [ $# -gt 0 ]; do
  case $1 in
    --streams) int "$1" "${2:-}"; STREAMS=$2; shift 2 ;;
    --resync-seconds) int "$1" "${2:-}"; RESYNC=$2; shift 2 ;;
    --full-read-seconds) int "$1" "${2:-}"; FULL_READ=$2; shift 2 ;;
    --window) int "$1" "${2:-}"; WINDOW=$2; shift 2 ;;
    --throttle) THROTTLE=${2:?--throttle needs OPERATION=CALLS_PER_SECOND[,...]}; shift 2 ;;
    --create-timeout) int "$1" "${2:-}"; CREATE_TIMEOUT=$2; shift 2 ;;
    --delete-timeout) int "$1" "${2:-}"; DELETE_TIMEOUT=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage 0 ;;
    *) log "unknown argument $1"; usage ;;
  esac
done
FULL_READ=${FULL_READ:-$((RESYNC * PRODUCTION_FULL_READ / PRODUCTION_RESYNC))}
WINDOW=${WINDOW:-$FULL_READ}
[ "$STREAMS" -ge 1 ] && [ "$STREAMS" -le $MAX_STREAMS ] || die "--streams must be 1-$MAX_STREAMS"
[ "$RESYNC" -ge 5 ] || die "--resync-seconds must be at least 5"
[ "$WINDOW" -ge 10 ] || die "--window must be at least 10"
for tool in kubectl curl python3 openssl; do command -v "$tool" >/dev/null || die "$tool is required"; done

if [ -z "${LIVESTREAM_OPERATOR_BIN:-}" ] || [ -z "${LIVESTREAM_LOCAL_BIN:-}" ]; then
  log "building the operator (release) and livestream-local (a no-op when up to date)"
  (cd "$ROOT" && cargo build --quiet --release --locked -p livestream-operator && cargo build --quiet -p livestream-local)
  LIVESTREAM_OPERATOR_BIN=$CARGO_TARGET_DIR/release/livestream-operator
  LIVESTREAM_LOCAL_BIN=$CARGO_TARGET_DIR/debug/livestream-local
fi
"$ROOT/hack/control-plane.sh" build

WORK=$(mktemp -d "${TMPDIR:-/tmp}/livestream-bench-scale.XXXXXX")
CP=$WORK/control-plane
LOCAL_PID="" OPERATOR_PID="" SAMPLER_PID=""

cleanup() {
  local status=$?
  trap - EXIT INT TERM HUP
  set +e
  [ "$status" = 0 ] || log "exiting with status $status"
  stop_pid "$SAMPLER_PID"
  stop_pid "$OPERATOR_PID"
  stop_pid "$LOCAL_PID"
  "$ROOT/hack/control-plane.sh" down --dir "$CP" 2>/dev/null
  if [ "$KEEP" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'log "interrupted (SIGINT): stopping what this run started"; exit 130' INT
trap 'log "terminated (SIGTERM): stopping what this run started"; exit 143' TERM
trap 'log "hung up (SIGHUP): stopping what this run started"; exit 129' HUP

now() { python3 -c 'import time; print(f"{time.time():.3f}")'; }
mark() { printf '%s %s\n' "$1" "$(now)" >>"$WORK/marks"; }
# snapshot LABEL: livestream-local's call counters and the operator's metrics, timestamped.
snapshot() {
  mark "snapshot-$1"
  local_admin GET "$ENDPOINT/_local/calls" --max-time 30 >"$WORK/calls-$1.json"
  curl -fsS --max-time 30 "http://$METRICS_ADDR/metrics" >"$WORK/metrics-$1.txt"
}

# --- the stack -----------------------------------------------------------------------------------
log "work directory $WORK"
"$ROOT/hack/control-plane.sh" up --dir "$CP"
eval "$("$ROOT/hack/control-plane.sh" env --dir "$CP")"
kubectl apply --server-side -f "$ROOT/crds/livestream.yaml" >/dev/null
kubectl wait --for condition=Established --timeout 60s crd/livestreams.media.livestream.io >/dev/null

throttle_args=()
[ -n "$THROTTLE" ] && throttle_args=(--throttle "$THROTTLE")
# livestream-local enforces AWS's default quotas (5 MediaLive channels, 10 v2 channels per group,
# 500 CloudFront distributions, …); the bench is an account that asked Service Quotas for room for
# its streams.
room=$((STREAMS + 10))
quota_args=(
  --medialive-quotas "channels=$room,pushInputs=$room,inputSecurityGroups=$room"
  --mediapackagev2-quotas "channels=$room"
  --cloudfront-quotas "distributions=$room"
)
# Short AWS transition delays, as the integration tests use (tests/integration/local_cloud.rs).
setsid "$LIVESTREAM_LOCAL_BIN" --listen 127.0.0.1:0 --rtmp-port 0 --data-dir "$WORK/local-data" \
  --channel-create-ms 300 --channel-start-ms 500 --channel-stop-ms 300 --channel-update-ms 200 \
  --channel-delete-ms 300 --input-create-ms 200 --input-delete-ms 200 "${throttle_args[@]}" "${quota_args[@]}" \
  >"$WORK/local.out" 2>"$WORK/local.log" </dev/null &
LOCAL_PID=$!
ENDPOINT=$(local_endpoint "$LOCAL_PID" "$WORK/local.out" "$WORK/local.log")

KUBECONFIG=$KUBECONFIG AWS_ENDPOINT_URL=$ENDPOINT LIVESTREAM_MEDIALIVE_ROLE_ARN=$ROLE RUST_LOG=info \
  setsid "$LIVESTREAM_OPERATOR_BIN" run --log-format json --http-addr 127.0.0.1:0 \
  --resync-seconds "$RESYNC" --full-read-seconds "$FULL_READ" --transition-requeue-seconds 1 \
  >/dev/null 2>"$WORK/operator.log" </dev/null &
OPERATOR_PID=$!
METRICS_ADDR=""
for _ in $(seq 1 300); do
  METRICS_ADDR=$(sed -n 's/.*"bound":"\([0-9.:]*\)".*/\1/p' "$WORK/operator.log" | head -1)
  [ -n "$METRICS_ADDR" ] && curl -fsS --max-time 2 "http://$METRICS_ADDR/readyz" >/dev/null 2>&1 && break
  kill -0 "$OPERATOR_PID" 2>/dev/null || { tail -20 "$WORK/operator.log" >&2; die "the operator exited"; }
  sleep 0.1
done
curl -fsS --max-time 2 "http://$METRICS_ADDR/readyz" >/dev/null || die "the operator is not ready after 30 s"
log "livestream-local $ENDPOINT (throttle '${THROTTLE:-none}'), operator metrics http://$METRICS_ADDR"

# The sampler: every SAMPLE_SECONDS, livestream-local's counters, the CPU seconds and resident memory
# of each process this script started, and the whole machine's CPU (to see other load), as JSON lines.
python3 - "$ENDPOINT" "$SAMPLE_SECONDS" "$WORK/samples.jsonl" \
  "operator=$OPERATOR_PID" "livestream-local=$LOCAL_PID" \
  "kube-apiserver=$(cat "$CP/kube-apiserver.pid")" "etcd=$(cat "$CP/etcd.pid")" <<'PY' &
import json, os, sys, time, urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def admin_request(url):
    """A GET of livestream-local's admin API, signed as its administrator (the default key)."""
    signed = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials("local", "local"), "livestream-local", "us-east-1").add_auth(signed)
    return urllib.request.Request(url, headers=dict(signed.headers.items()))


endpoint, interval, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
pids = dict(arg.split("=", 1) for arg in sys.argv[4:])
tick = os.sysconf("SC_CLK_TCK")

def cpu(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick
    except OSError:
        return None

def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            kib = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        return kib / 1024
    except (OSError, StopIteration):
        return None

def machine():
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / tick

with open(out, "a") as f:
    while True:
        started = time.time()
        try:
            with urllib.request.urlopen(admin_request(endpoint + "/_local/calls"), timeout=10) as r:
                calls = json.load(r)
        except Exception:
            calls = None
        record = {"t": started, "calls": calls, "cpu": {n: cpu(p) for n, p in pids.items()},
                  "rss": {n: rss_mib(p) for n, p in pids.items()},
                  "machine": machine(), "load": open("/proc/loadavg").read().split()[0]}
        f.write(json.dumps(record) + "\n")
        f.flush()
        time.sleep(max(0.0, interval - (time.time() - started)))
PY
SAMPLER_PID=$!

# ready_count: prints "READY TOTAL DEGRADED [REASON=COUNT …]" for the LiveStreams in the cluster.
ready_count() {
  kubectl get lvs -o json --request-timeout 60s | python3 -c '
import collections, json, sys
items = json.load(sys.stdin)["items"]
ready = degraded = 0
reasons = collections.Counter()
for s in items:
    gen = s["metadata"].get("generation")
    conds = {c["type"]: c for c in (s.get("status") or {}).get("conditions", [])}
    r = conds.get("Ready")
    if r and r["status"] == "True" and r.get("observedGeneration") == gen:
        ready += 1
    elif r:
        reasons[r["reason"]] += 1
    else:
        reasons["NoStatus"] += 1
    if conds.get("Degraded", {}).get("status") == "True":
        degraded += 1
print(ready, len(items), degraded, " ".join(f"{k}={v}" for k, v in reasons.most_common(4)))
'
}

# --- create N ------------------------------------------------------------------------------------
python3 - "$STREAMS" >"$WORK/streams.yaml" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    print(f"---\napiVersion: media.livestream.io/v1alpha1\nkind: LiveStream\n"
          f"metadata:\n  name: bench-{i:04d}\n  namespace: default\nspec: {{}}")
PY
CREATE_OK=0
snapshot create-start
mark create-start
log "creating $STREAMS LiveStreams"
kubectl create -f "$WORK/streams.yaml" >/dev/null
mark create-submitted
deadline=$((SECONDS + CREATE_TIMEOUT))
while :; do
  read -r ready total degraded reasons <<<"$(ready_count)" || true
  log "ready $ready/$STREAMS (degraded $degraded) ${reasons:-}"
  printf '%s %s\n' "$(now)" "${ready:-0}" >>"$WORK/ready.txt"
  [ "${ready:-0}" -ge "$STREAMS" ] && { CREATE_OK=1; break; }
  [ $SECONDS -lt $deadline ] || { log "create: timed out after ${CREATE_TIMEOUT}s"; break; }
  kill -0 "$OPERATOR_PID" 2>/dev/null || die "the operator exited"
  sleep 2
done
mark create-end
printf '%s\n' "$ready" >"$WORK/create-ready"
snapshot create-end

# --- steady --------------------------------------------------------------------------------------
if [ "$CREATE_OK" = 1 ]; then
  # Let the reconciles that the last status writes triggered finish before the window opens.
  sleep 5
  snapshot steady-start
  mark steady-start
  log "steady window: ${WINDOW}s (resync ${RESYNC}s, full read ${FULL_READ}s)"
  sleep "$WINDOW"
  mark steady-end
  snapshot steady-end
  read -r ready total degraded reasons <<<"$(ready_count)" || true
  printf '%s\n' "$ready" >"$WORK/steady-ready"
  log "after the window: ready $ready/$STREAMS (degraded $degraded) ${reasons:-}"
fi

# --- delete N ------------------------------------------------------------------------------------
DELETE_OK=0
left=$STREAMS
snapshot delete-start
mark delete-start
log "deleting all LiveStreams"
kubectl delete lvs --all --wait=false >/dev/null
deadline=$((SECONDS + DELETE_TIMEOUT))
while :; do
  if names=$(kubectl get lvs -o name --request-timeout 60s); then
    left=$(printf '%s' "$names" | grep -c . || true)
    log "left $left/$STREAMS"
    [ "$left" -eq 0 ] && { DELETE_OK=1; break; }
  fi
  [ $SECONDS -lt $deadline ] || { log "delete: timed out after ${DELETE_TIMEOUT}s"; break; }
  kill -0 "$OPERATOR_PID" 2>/dev/null || die "the operator exited"
  sleep 2
done
mark delete-end
printf '%s\n' "$left" >"$WORK/delete-left"
snapshot delete-end


# --- what livestream-local still holds -----------------------------------------------------------
# Deleted inputs stay listed as DELETED for a minute (as on AWS); they do not count.
LEFT_OK=0
if command -v aws >/dev/null; then
  list() {
    AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1 \
      aws --endpoint-url "$ENDPOINT" --output json "$1" "$2" >"$WORK/left-$1-$2.json"
  }
  list medialive list-channels && list medialive list-inputs && list medialive list-input-security-groups \
    && list mediapackage list-channels && list mediapackage list-origin-endpoints \
    && list mediapackagev2 list-channel-groups && list cloudfront list-distributions && LEFT_OK=1
else
  log "the AWS CLI is missing (hack/setup.sh installs it): leftovers not checked"
fi

# --- report --------------------------------------------------------------------------------------
kill -0 "$OPERATOR_PID" 2>/dev/null || log "warning: the operator is no longer running"
stop_pid "$SAMPLER_PID"; SAMPLER_PID=""
python3 "$ROOT/hack/bench-scale-report.py" "$WORK" "$STREAMS" "$RESYNC:$FULL_READ" "$WINDOW" "${THROTTLE:-none}" "$CREATE_OK" "$DELETE_OK" \
  "$LEFT_OK" "$PRODUCTION_RESYNC" "$PRODUCTION_STREAMS" "$SAMPLE_SECONDS"
[ "$(cat "$WORK/verdict")" = ok ] || { log "FAILED: a phase timed out or AWS resources were left"; exit 1; }
log "done"
