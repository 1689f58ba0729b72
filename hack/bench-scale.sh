#!/usr/bin/env bash
# Scale benchmark: can one operator manage N LiveStreams (default 1,000) within MediaLive's API rate
# limits? Starts its own control plane, livestream-local (with a per-operation rate limit standing
# in for AWS's) and one operator, then measures three phases from livestream-local's call counters,
# the operator's /metrics and `kubectl get lvs`:
#
#   create N   N LiveStreams (spec {}: running false) created at once, until all are Ready=True at
#              their current generation;
#   steady     a window of W seconds with nothing to do but resyncs (every R s, ±10 % jitter);
#   delete N   `kubectl delete lvs --all`, until none are left; then livestream-local must hold no
#              channel, input, security group, MediaPackage channel or endpoint.
#
#   hack/bench-scale.sh [--streams 1000] [--resync-seconds 60] [--window SECONDS (2 x resync)]
#                       [--throttle OP=N,...] [--create-timeout 600] [--delete-timeout 600]
#                       [--keep] (keep the work directory: logs, samples, snapshots)
#
# The default throttle is 20 calls/s per operation and service (see THROTTLE below); the production
# resync is 300 s, so the steady figures are also extrapolated to that.
#
# Prints Markdown tables on stdout (progress on stderr). Every process it starts is stopped by
# process id on exit, errors, Ctrl-C and SIGTERM. LIVESTREAM_OPERATOR_BIN and LIVESTREAM_LOCAL_BIN
# skip the build. Exits non-zero when a phase timed out or AWS resources were left behind.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROLE=arn:aws:iam::123456789012:role/MediaLiveAccessRole
PRODUCTION_RESYNC=300
PRODUCTION_STREAMS=1000
MAX_STREAMS=5000

STREAMS=1000
RESYNC=60
WINDOW=""
# livestream-local keys its rate limits by operation name alone, so MediaLive's and MediaPackage's
# CreateChannel, DescribeChannel and DeleteChannel share one bucket; 40/s for those gives each
# service about its own 20/s, as AWS limits each service separately.
THROTTLE='*=20,CreateChannel=40,DescribeChannel=40,DeleteChannel=40'
CREATE_TIMEOUT=600
DELETE_TIMEOUT=600
SAMPLE_SECONDS=2
KEEP=0

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
log() { printf 'bench-scale: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
int() { [[ $2 =~ ^[0-9]+$ ]] || die "$1 needs a whole number, got '$2'"; }

while [ $# -gt 0 ]; do
  case $1 in
    --streams) int "$1" "${2:-}"; STREAMS=$2; shift 2 ;;
    --resync-seconds) int "$1" "${2:-}"; RESYNC=$2; shift 2 ;;
    --window) int "$1" "${2:-}"; WINDOW=$2; shift 2 ;;
    --throttle) THROTTLE=${2:?--throttle needs OPERATION=CALLS_PER_SECOND[,...]}; shift 2 ;;
    --create-timeout) int "$1" "${2:-}"; CREATE_TIMEOUT=$2; shift 2 ;;
    --delete-timeout) int "$1" "${2:-}"; DELETE_TIMEOUT=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage 0 ;;
    *) log "unknown argument $1"; usage ;;
  esac
done
WINDOW=${WINDOW:-$((2 * RESYNC))}
[ "$STREAMS" -ge 1 ] && [ "$STREAMS" -le $MAX_STREAMS ] || die "--streams must be 1-$MAX_STREAMS"
[ "$RESYNC" -ge 5 ] || die "--resync-seconds must be at least 5"
[ "$WINDOW" -ge 10 ] || die "--window must be at least 10"
for tool in kubectl curl python3 openssl; do command -v "$tool" >/dev/null || die "$tool is required"; done

# shellcheck source=hack/env.sh
. "$ROOT/hack/env.sh"
if [ -z "${LIVESTREAM_OPERATOR_BIN:-}" ] || [ -z "${LIVESTREAM_LOCAL_BIN:-}" ]; then
  log "building the operator and livestream-local (a no-op when up to date)"
  (cd "$ROOT" && cargo build --quiet --workspace --bins)
  LIVESTREAM_OPERATOR_BIN=$CARGO_TARGET_DIR/debug/livestream-operator
  LIVESTREAM_LOCAL_BIN=$CARGO_TARGET_DIR/debug/livestream-local
fi
"$ROOT/hack/control-plane.sh" build

WORK=$(mktemp -d "${TMPDIR:-/tmp}/livestream-bench-scale.XXXXXX")
CP=$WORK/control-plane
LOCAL_PID="" OPERATOR_PID="" SAMPLER_PID=""

# stop PID: TERM, then KILL after 10 s.
stop() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM HUP
  set +e
  [ "$status" = 0 ] || log "exiting with status $status"
  stop "$SAMPLER_PID"
  stop "$OPERATOR_PID"
  stop "$LOCAL_PID"
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
  curl -fsS --max-time 30 "$ENDPOINT/_local/calls" >"$WORK/calls-$1.json"
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
# Short AWS transition delays, as the integration tests use (tests/integration/local_cloud.rs).
setsid "$LIVESTREAM_LOCAL_BIN" --listen 127.0.0.1:0 --rtmp-port 0 --data-dir "$WORK/local-data" \
  --channel-create-ms 300 --channel-start-ms 500 --channel-stop-ms 300 --channel-update-ms 200 \
  --channel-delete-ms 300 --input-create-ms 200 --input-delete-ms 200 "${throttle_args[@]}" \
  >"$WORK/local.out" 2>"$WORK/local.log" </dev/null &
LOCAL_PID=$!
ENDPOINT=""
for _ in $(seq 1 200); do
  ENDPOINT=$(sed -n 's/^livestream-local listening on //p' "$WORK/local.out")
  [ -n "$ENDPOINT" ] && break
  kill -0 "$LOCAL_PID" 2>/dev/null || { cat "$WORK/local.log" >&2; die "livestream-local exited"; }
  sleep 0.1
done
[ -n "$ENDPOINT" ] || die "livestream-local did not listen within 20 s"

KUBECONFIG=$KUBECONFIG AWS_ENDPOINT_URL=$ENDPOINT LIVESTREAM_MEDIALIVE_ROLE_ARN=$ROLE RUST_LOG=info \
  setsid "$LIVESTREAM_OPERATOR_BIN" run --log-format json --http-addr 127.0.0.1:0 \
  --resync-seconds "$RESYNC" --transition-requeue-seconds 1 \
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

# The sampler: every SAMPLE_SECONDS, livestream-local's counters, the CPU seconds of each process
# this script started and of the whole machine (to see other load), as JSON lines.
python3 - "$ENDPOINT" "$SAMPLE_SECONDS" "$WORK/samples.jsonl" \
  "operator=$OPERATOR_PID" "livestream-local=$LOCAL_PID" \
  "kube-apiserver=$(cat "$CP/kube-apiserver.pid")" "etcd=$(cat "$CP/etcd.pid")" <<'PY' &
import json, os, sys, time, urllib.request

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

def machine():
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / tick

with open(out, "a") as f:
    while True:
        started = time.time()
        try:
            with urllib.request.urlopen(endpoint + "/_local/calls", timeout=10) as r:
                calls = json.load(r)
        except Exception:
            calls = None
        record = {"t": started, "calls": calls, "cpu": {n: cpu(p) for n, p in pids.items()},
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
  log "steady window: ${WINDOW}s (resync ${RESYNC}s)"
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
    AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
      aws --endpoint-url "$ENDPOINT" --output json "$1" "$2" >"$WORK/left-$1-$2.json"
  }
  list medialive list-channels && list medialive list-inputs && list medialive list-input-security-groups \
    && list mediapackage list-channels && list mediapackage list-origin-endpoints && LEFT_OK=1
else
  log "the AWS CLI is missing (hack/setup.sh installs it): leftovers not checked"
fi

# --- report --------------------------------------------------------------------------------------
kill -0 "$OPERATOR_PID" 2>/dev/null || log "warning: the operator is no longer running"
stop "$SAMPLER_PID"; SAMPLER_PID=""
python3 - "$WORK" "$STREAMS" "$RESYNC" "$WINDOW" "${THROTTLE:-none}" "$CREATE_OK" "$DELETE_OK" \
  "$LEFT_OK" "$PRODUCTION_RESYNC" "$PRODUCTION_STREAMS" "$SAMPLE_SECONDS" <<'PY'
import collections, json, os, re, sys

(work, n, resync, window, throttle, create_ok, delete_ok, left_ok, prod_resync, prod_streams,
 sample_s) = sys.argv[1:]
n, resync, window, prod_resync, prod_streams = int(n), int(resync), int(window), int(prod_resync), int(prod_streams)
create_ok, delete_ok, left_ok = create_ok == "1", delete_ok == "1", left_ok == "1"
w = lambda name: os.path.join(work, name)

marks = {}
for line in open(w("marks")):
    name, t = line.split()
    marks[name] = float(t)
samples = []
for line in open(w("samples.jsonl")):
    try:
        samples.append(json.loads(line))
    except ValueError:
        pass

def calls_of(rows):
    out = collections.Counter()
    for r in rows or []:
        out[(r["service"], r["operation"], r["outcome"])] += r["count"]
    return out

def snapshot(label):
    return marks[f"snapshot-{label}"], calls_of(json.load(open(w(f"calls-{label}.json"))))

def metrics(label):
    out = collections.Counter()
    for line in open(w(f"metrics-{label}.txt")):
        if line.startswith("#") or not line.strip():
            continue
        key, value = line.rsplit(" ", 1)
        out[key] += float(value)
    return out

def by_op(counter, throttled_only=False):
    out = collections.Counter()
    for (svc, op, outcome), c in counter.items():
        if not throttled_only or outcome == "TooManyRequestsException":
            out[(svc, op)] += c
    return out

def fmt(x, digits=1):
    return f"{x:,.{digits}f}"

phases = [("create", f"create {n}"), ("steady", "steady"), ("delete", f"delete {n}")]
results = {}
for key, title in phases:
    if f"snapshot-{key}-start" not in marks or f"snapshot-{key}-end" not in marks:
        continue
    t0, c0 = snapshot(f"{key}-start")
    t1, c1 = snapshot(f"{key}-end")
    diff = c1 - c0
    wall = marks[f"{key}-end"] - marks[f"{key}-start"]
    # Rates between consecutive counter readings (the sampler's, bounded by the two snapshots).
    points = [(t0, c0)] + [(s["t"], calls_of(s["calls"])) for s in samples
                           if s["calls"] is not None and t0 < s["t"] < t1] + [(t1, c1)]
    peak_total, peak_op, peak_op_name, peak_ok, peak_ok_name = 0.0, 0.0, "-", 0.0, "-"
    prev = points[0]
    for point in points[1:]:
        dt = point[0] - prev[0]
        if dt < 1.0:
            continue
        d = by_op(point[1] - prev[1])
        total = sum(d.values()) / dt
        peak_total = max(peak_total, total)
        for (svc, op), c in d.items():
            if c / dt > peak_op:
                peak_op, peak_op_name = c / dt, f"{svc} {op}"
        for (svc, op, outcome), c in (point[1] - prev[1]).items():
            if outcome == "ok" and c / dt > peak_ok:
                peak_ok, peak_ok_name = c / dt, f"{svc} {op}"
        prev = point
    # CPU seconds of each process over the phase, from the samples nearest its ends.
    inside = [s for s in samples if t0 - 3 <= s["t"] <= t1 + 3]
    cpu = {}
    if len(inside) >= 2:
        a, b = inside[0], inside[-1]
        span = b["t"] - a["t"]
        for name in a["cpu"]:
            if a["cpu"][name] is not None and b["cpu"].get(name) is not None:
                cpu[name] = (b["cpu"][name] - a["cpu"][name]) / span
        cpu["machine"] = (b["machine"] - a["machine"]) / span
        cpu["load"] = max(float(s["load"]) for s in inside)
    m0, m1 = metrics(f"{key}-start"), metrics(f"{key}-end")
    md = m1 - m0
    results[key] = dict(title=title, wall=wall, diff=diff, ops=by_op(diff), throttled=by_op(diff, True),
                        peak=peak_total, peak_op=peak_op, peak_op_name=peak_op_name, peak_ok=peak_ok,
                        peak_ok_name=peak_ok_name, cpu=cpu, m=md)

def row(*cells):
    print("| " + " | ".join(str(c) for c in cells) + " |")

print(f"\n### Scale: {n} LiveStreams, one operator (resync {resync} s, window {window} s, throttle `{throttle}`)\n")
row("phase", "wall time (s)", "AWS calls", "peak calls/s", "mean calls/s", "max per-op calls/s",
    "max per-op accepted calls/s", "throttled", "calls per stream")
row(*["---"] * 9)
for key, r in results.items():
    total = sum(r["ops"].values())
    throttled = sum(r["throttled"].values())
    row(r["title"], fmt(r["wall"]), f"{total:,}", fmt(r["peak"]), fmt(total / r["wall"]),
        f"{fmt(r['peak_op'])} ({r['peak_op_name']})", f"{fmt(r['peak_ok'])} ({r['peak_ok_name']})",
        f"{throttled:,}", fmt(total / n, 2))
print(f"\nRates are over ~{sample_s} s intervals of livestream-local's counters; calls include throttled "
      "attempts (AWS SDK retries count once each); accepted = answered without an error.")
# How readiness progressed during the create phase (from the 2 s polls).
progress = []
if os.path.exists(w("ready.txt")):
    progress = [(float(t) - marks["create-start"], int(r)) for t, r in (l.split() for l in open(w("ready.txt")))]
if progress:
    firsts = []
    for share in (0.5, 0.9, 1.0):
        hit = next((t for t, r in progress if r >= share * n), None)
        firsts.append(f"{int(share * 100)} % at {fmt(hit)} s" if hit is not None else f"{int(share * 100)} % never")
    print(f"\nReady during create: " + ", ".join(firsts) + f"; most at once {max(r for _, r in progress)}/{n}.")
if not create_ok:
    ready = open(w("create-ready")).read().strip()
    print(f"\n**create timed out** with {ready}/{n} Ready; the steady window was skipped.")
if not delete_ok:
    print(f"\n**delete timed out** with {open(w('delete-left')).read().strip()} LiveStreams left.")

print()
row("phase", "reconciles", "failed reconciles (reason)", "AWS calls / reconcile", "mean reconcile (s)",
    "CPU cores: operator", "kube-apiserver + etcd", "livestream-local", "whole machine (max load)")
row(*["---"] * 9)
for key, r in results.items():
    m = r["m"]
    rec = {k: v for k, v in m.items() if k.startswith("livestream_operator_reconciles_total")}
    total_rec = sum(rec.values())
    failed = {re.search(r'outcome="([^"]*)"', k).group(1): v for k, v in rec.items()
              if 'outcome="ok"' not in k and v}
    per = m["livestream_operator_aws_calls_per_reconcile_sum"] / max(1, m["livestream_operator_aws_calls_per_reconcile_count"])
    dur = m["livestream_operator_reconcile_duration_seconds_sum"] / max(1, m["livestream_operator_reconcile_duration_seconds_count"])
    c = r["cpu"]
    g = lambda k: fmt(c[k], 2) if k in c else "-"
    api = fmt(c["kube-apiserver"] + c["etcd"], 2) if "kube-apiserver" in c and "etcd" in c else "-"
    row(r["title"], f"{int(total_rec):,}", ", ".join(f"{int(v):,} {k}" for k, v in sorted(failed.items())) or "0",
        fmt(per, 2), fmt(dur, 2), g("operator"), api, g("livestream-local"),
        f"{g('machine')} of 2 ({c.get('load', '-')})")
# The operator's own count of its calls, as a cross-check of livestream-local's.
for key, r in results.items():
    op_calls = sum(v for k, v in r["m"].items() if k.startswith("livestream_operator_aws_calls_total"))
    op_throttled = sum(v for k, v in r["m"].items()
                       if k.startswith("livestream_operator_aws_calls_total") and 'outcome="throttled"' in k)
    print(f"\n{r['title']}: the operator counted {int(op_calls):,} AWS call attempts "
          f"({int(op_throttled):,} throttled); livestream-local {sum(r['ops'].values()):,} "
          f"({sum(r['throttled'].values()):,}).", end="")
print()

steady = results.get("steady")
print()
cols = ["operation", "create: calls (throttled)"]
if steady:
    cols += ["steady: calls/s", "steady: per stream per resync", f"at {prod_resync} s, {prod_streams:,} streams: calls/s"]
cols += ["delete: calls (throttled)"]
row(*cols)
row(*["---"] * len(cols))
ops = sorted(set().union(*(r["ops"].keys() for r in results.values())))
extrapolated = {}
for op in ops:
    cells = [f"{op[0]} {op[1]}"]
    if "create" in results:
        r = results["create"]
        cells.append(f"{r['ops'][op]:,} ({r['throttled'][op]:,})")
    else:
        cells.append("-")
    if steady:
        calls = steady["ops"][op]
        per_resync = calls / n / (steady["wall"] / resync)
        extrapolated[op] = per_resync * prod_streams / prod_resync
        cells += [fmt(calls / steady["wall"], 2), fmt(per_resync, 2), fmt(extrapolated[op], 2)]
    r = results.get("delete")
    cells.append(f"{r['ops'][op]:,} ({r['throttled'][op]:,})" if r else "-")
    row(*cells)
if steady:
    total = sum(steady["ops"].values())
    per_stream = total / n / (steady["wall"] / resync)
    busiest = max(extrapolated.items(), key=lambda kv: kv[1]) if extrapolated else (("-", "-"), 0)
    print(f"\nSteady: {fmt(per_stream, 2)} AWS calls per stream per resync. Extrapolated to the production "
          f"resync ({prod_resync} s) and {prod_streams:,} streams: {fmt(sum(extrapolated.values()), 1)} calls/s "
          f"in total, at most {fmt(busiest[1], 2)}/s for one operation ({busiest[0][0]} {busiest[0][1]}) "
          f"— against the stand-in limit `{throttle}` per operation.")

# Leftovers in livestream-local after the delete.
left_total = None
if left_ok:
    def items(svc, op, key):
        return json.load(open(w(f"left-{svc}-{op}.json"))).get(key, [])
    live = lambda xs: [x for x in xs if x.get("State") not in ("DELETED",)]
    left = {
        "MediaLive channels": len(live(items("medialive", "list-channels", "Channels"))),
        "inputs": len(live(items("medialive", "list-inputs", "Inputs"))),
        "input security groups": len(live(items("medialive", "list-input-security-groups", "InputSecurityGroups"))),
        "MediaPackage channels": len(items("mediapackage", "list-channels", "Channels")),
        "origin endpoints": len(items("mediapackage", "list-origin-endpoints", "OriginEndpoints")),
    }
    left_total = sum(left.values())
    print("\nLeft in livestream-local after the delete (AWS CLI list calls): "
          + ", ".join(f"{v} {k}" for k, v in left.items()) + ".")

# The operator's warnings and errors, grouped.
groups = collections.Counter()
for line in open(w("operator.log"), errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("level") in ("WARN", "ERROR"):
        f = e.get("fields", {})
        msg = f.get("message", "")
        error = re.sub(r"^reconciler for object \S+ failed: ", "", str(f.get("error", "")))
        detail = f.get("reason") or re.sub(r"[0-9a-f-]{8,}|\d+", "#", error)[:100]
        groups[(e["level"], msg, detail)] += 1
if groups:
    print("\nOperator log, warnings and errors:")
    for (level, msg, detail), c in groups.most_common(10):
        print(f"- {c:,} × {level} {msg}" + (f" — {detail}" if detail else ""))
else:
    print("\nOperator log: no warnings or errors.")
with open(w("verdict"), "w") as f:
    f.write("ok" if create_ok and delete_ok and left_total == 0 else "fail")
PY
[ "$(cat "$WORK/verdict")" = ok ] || { log "FAILED: a phase timed out or AWS resources were left"; exit 1; }
log "done"
