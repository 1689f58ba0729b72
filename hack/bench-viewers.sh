#!/usr/bin/env bash
# Audience benchmark (a benchmark, not a test: it prints a table, it asserts nothing): how many
# origin requests a live audience costs through livestream-local's CloudFront edge, against the
# same audience straight at the MediaPackage origin.
#
#   hack/bench-viewers.sh                              # N = 100 and 1000, 40 s per case, ~5 minutes
#   BENCH_VIEWERS="100 1000" BENCH_DURATION_S=40 hack/bench-viewers.sh
#   LIVESTREAM_LOCAL_BIN=path hack/bench-viewers.sh    # default $CARGO_TARGET_DIR/debug/livestream-local
#
# With the AWS CLI against one livestream-local it creates what the operator would: a MediaPackage
# v1 channel and HLS endpoint (2 s segments, 60 s window), a MediaLive input security group, an
# RTMP push input and a channel with the default ladder (1080p30 5 Mb/s + 720p30 3 Mb/s, GOP 1 s,
# AAC 192 kb/s), started, fed by ffmpeg -re (testsrc2 + sine, 720p30) for the whole run; and per
# edge case a fresh CloudFront distribution (cold cache) in front of the endpoint's host (custom
# origin 127.0.0.1:<port>, http-only, legacy ForwardedValues with the query strings forwarded and
# _HLS_msn/_HLS_part in the cache key, TTLs 0/86400/31536000: the config the operator sends).
#
# Per N in BENCH_VIEWERS, two cases side by side: N viewers (hack/bench/viewers.mjs: master, one
# rendition each, spread over both, media playlist reloaded every target duration / 2, each new
# segment downloaded once) through the edge, then directly against the origin, BENCH_DURATION_S
# each. Reported per case: origin requests per segment per rendition (edge: the edge's
# /metrics per-path origin request counters ÷ the distinct segments; direct: every viewer request
# reaches the origin, counted by the viewers), playlist origin requests per second, the viewers'
# time to first byte p50/p99 for segments and playlists, the share of segment downloads slower
# than real time (longer than the target duration), the viewers' own event loop delay p99 (a
# starved client inflates its own TTFB), the edge's hit ratio, errors, what the viewers received,
# and CPU in % of one core over the case: livestream-local's own process, its ffmpeg children (the
# channel's encoder), the viewers' node process. "(N segments)" is how many distinct segments the
# window saw: BENCH_DURATION_S / 2 + 3 while the encoder keeps real time. Binds only 127.0.0.1;
# every process it starts is stopped by pid on exit.
set -euo pipefail
LOG_NAME=bench-viewers
cd "$(dirname "$0")/.."
. hack/lib.sh

VIEWERS=${BENCH_VIEWERS:-100 1000}
DURATION_S=${BENCH_DURATION_S:-40}
CLK_TCK=$(getconf CLK_TCK)

for tool in ffmpeg node python3 curl aws; do command -v "$tool" >/dev/null || die "$tool is missing (hack/setup.sh)"; done
need_livestream_local
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
started_at=$(date -u '+%Y-%m-%d %H:%M:%S UTC')

work=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do stop_pid "$p" 5; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

json_field() { python3 -c 'import json,sys; r=json.loads(sys.argv[1])
for k in sys.argv[2].split("."): r=r[int(k)] if isinstance(r, list) else r[k]
print(r)' "$1" "$2"; }

# --- livestream-local ---
LIVESTREAM_LOCAL_CLOUDFRONT_DEPLOY_SECONDS=1 "$LIVESTREAM_LOCAL_BIN" --listen 127.0.0.1:0 --rtmp-port 0 \
  --data-dir "$work/data" >"$work/local.out" 2>"$work/local.err" &
local_pid=$!
pids+=("$local_pid")
url=$(local_endpoint "$local_pid" "$work/local.out" "$work/local.err")
port=${url##*:}
log "livestream-local at $url (pid $local_pid); load $load_at_start"
export AWS_ENDPOINT_URL=$url AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=

# --- MediaPackage v1: channel and HLS endpoint, 2 s segments ---
aws mediapackage create-channel --id bench >/dev/null
endpoint=$(aws mediapackage create-origin-endpoint --output json --channel-id bench --id bench-hls \
  --hls-package '{"SegmentDurationSeconds": 2, "PlaylistWindowSeconds": 60}')
origin_master=$(json_field "$endpoint" Url)
master_path=/${origin_master#http://*/}
log "origin endpoint $origin_master"

# --- MediaLive: security group, RTMP push input, the default ladder ---
group=$(aws medialive create-input-security-group --whitelist-rules Cidr=127.0.0.1/32 --query SecurityGroup.Id --output text)
input=$(aws medialive create-input --output json --name bench --type RTMP_PUSH --destinations StreamName=live/bench \
  --input-security-groups "$group")
input_id=$(json_field "$input" Input.Id)
ingest=$(json_field "$input" Input.Destinations.0.Url)
# The default ladder as hack/bench_media.py's channel_request (src/desired/medialive.rs), GOP 1 s.
python3 - "$input_id" >"$work/channel.json" <<'PY'
import json, sys
ladder = [("1080p", 1920, 1080, 5_000_000), ("720p", 1280, 720, 3_000_000)]
def video(name, width, height, bitrate):
    return {"Name": f"video_{name}", "Width": width, "Height": height, "CodecSettings": {"H264Settings": {
        "Bitrate": bitrate, "BufSize": 2 * bitrate, "RateControlMode": "CBR",
        "FramerateControl": "SPECIFIED", "FramerateNumerator": 30, "FramerateDenominator": 1,
        "GopSize": 1.0, "GopSizeUnits": "SECONDS", "ParControl": "SPECIFIED", "ParNumerator": 1,
        "ParDenominator": 1, "Profile": "HIGH", "Level": "H264_LEVEL_AUTO", "ScanType": "PROGRESSIVE"}}}
print(json.dumps({
    "Name": "bench", "ChannelClass": "SINGLE_PIPELINE",
    "RoleArn": "arn:aws:iam::123456789012:role/MediaLiveAccessRole",
    "InputSpecification": {"Codec": "AVC", "MaximumBitrate": "MAX_20_MBPS", "Resolution": "HD"},
    "InputAttachments": [{"InputId": sys.argv[1], "InputAttachmentName": "bench-rtmp",
                          "InputSettings": {"SourceEndBehavior": "CONTINUE", "AudioSelectors": [{"Name": "default"}]}}],
    "Destinations": [{"Id": "mediapackage", "MediaPackageSettings": [{"ChannelId": "bench"}]}],
    "EncoderSettings": {
        "TimecodeConfig": {"Source": "SYSTEMCLOCK"},
        "VideoDescriptions": [video(*r) for r in ladder],
        "AudioDescriptions": [{"Name": "audio_aac", "AudioSelectorName": "default", "CodecSettings": {"AacSettings": {
            "Bitrate": 192000.0, "SampleRate": 48000.0, "CodingMode": "CODING_MODE_2_0", "Profile": "LC",
            "RateControlMode": "CBR"}}}],
        "OutputGroups": [{"Name": "hls", "OutputGroupSettings": {"MediaPackageGroupSettings": {
            "Destination": {"DestinationRefId": "mediapackage"}}},
            "Outputs": [{"OutputName": name, "VideoDescriptionName": f"video_{name}", "AudioDescriptionNames": ["audio_aac"],
                         "OutputSettings": {"MediaPackageOutputSettings": {}}} for name, *_ in ladder]}]},
    "Tags": {"livestream.io/managed-by": "bench-viewers"}}))
PY
channel=$(aws medialive create-channel --cli-input-json "file://$work/channel.json" --query Channel.Id --output text)
state() { aws medialive describe-channel --channel-id "$channel" --query State --output text; }
for _ in $(seq 1 100); do [ "$(state)" = IDLE ] && break; sleep 0.2; done
aws medialive start-channel --channel-id "$channel" >/dev/null
for _ in $(seq 1 100); do [ "$(state)" = RUNNING ] && break; sleep 0.2; done
[ "$(state)" = RUNNING ] || die "the channel is $(state), not RUNNING"

# --- the publisher, bounded: every case plus a margin ---
read -ra counts <<<"$VIEWERS"
publish_s=$((60 + ${#counts[@]} * 2 * (DURATION_S + 20)))
ffmpeg -hide_banner -loglevel error -nostdin -re -f lavfi -i testsrc2=size=1280x720:rate=30 \
  -f lavfi -i sine=frequency=440:sample_rate=48000 -t "$publish_s" \
  -c:v libx264 -preset ultrafast -tune zerolatency -g 30 -pix_fmt yuv420p -c:a aac -b:a 128k \
  -f flv "$ingest" >"$work/publisher.log" 2>&1 &
publisher=$!
pids+=("$publisher")
log "publishing to $ingest for at most $publish_s s (pid $publisher)"

# Both renditions' playlists with at least 3 segments (60 s at most).
ready=
for _ in $(seq 1 120); do
  if python3 - "$origin_master" <<'PY'; then ready=1; break; fi
import sys, urllib.parse, urllib.request
def get(u):
    with urllib.request.urlopen(u, timeout=5) as r:
        return r.read().decode()
try:
    master = get(sys.argv[1])
    uris = [l for l in master.splitlines() if l and not l.startswith("#")]
    ok = len(uris) >= 2 and all(get(urllib.parse.urljoin(sys.argv[1], u)).count("#EXTINF") >= 3 for u in uris)
except Exception:
    ok = False
sys.exit(0 if ok else 1)
PY
  sleep 0.5
done
[ -n "$ready" ] || { tail -20 "$work/local.err" >&2; die "no two-rendition stream with 3 segments within 60 s"; }
log "the stream plays: $(curl -s "$origin_master" | grep -vc '^#') renditions"

# --- CloudFront: one distribution per edge case (a cold cache each time) ---
distribution() {
  local ref=$1 created id
  cat >"$work/dist-$ref.json" <<EOF
{"CallerReference": "bench-viewers-$ref", "Comment": "LiveStream bench/viewers ($ref)", "Enabled": true,
 "Origins": {"Quantity": 1, "Items": [{"Id": "mediapackage", "DomainName": "127.0.0.1",
   "CustomOriginConfig": {"HTTPPort": $port, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}]},
 "DefaultCacheBehavior": {"TargetOriginId": "mediapackage", "ViewerProtocolPolicy": "allow-all",
   "ForwardedValues": {"QueryString": true, "Cookies": {"Forward": "none"},
     "QueryStringCacheKeys": {"Quantity": 2, "Items": ["_HLS_msn", "_HLS_part"]}},
   "MinTTL": 0, "DefaultTTL": 86400, "MaxTTL": 31536000}}
EOF
  created=$(aws cloudfront create-distribution --output json --distribution-config "file://$work/dist-$ref.json")
  id=$(json_field "$created" Distribution.Id)
  for _ in $(seq 1 100); do
    [ "$(aws cloudfront get-distribution --id "$id" --query Distribution.Status --output text)" = Deployed ] && break
    sleep 0.2
  done
  echo "$id $(json_field "$created" Distribution.DomainName)"
}

# ticks PID...: user + system clock ticks of the processes (0 for one that is gone).
ticks() {
  local total=0 p t
  for p in "$@"; do
    t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
    total=$((total + t))
  done
  echo "$total"
}
children() { cat /proc/"$local_pid"/task/*/children 2>/dev/null | tr ' ' '\n' | grep . || true; }

# run_case NAME N URL DISTRIBUTION: the viewers for DURATION_S; a JSON record into $work/cases.
run_case() {
  local name=$1 n=$2 play=$3 dist=$4 kids t0 l0 k0 t1 l1 k1 out
  log "$name: $n viewers on $play for $DURATION_S s (load $(cut -d' ' -f1 /proc/loadavg))"
  curl -s "$url/metrics" >"$work/metrics-before"
  mapfile -t kids < <(children)
  t0=$(date +%s.%N)
  l0=$(ticks "$local_pid")
  k0=$(ticks "${kids[@]}")
  out=$(node hack/bench/viewers.mjs --url "$play" --viewers "$n" --duration-s "$DURATION_S")
  l1=$(ticks "$local_pid")
  k1=$(ticks "${kids[@]}")
  t1=$(date +%s.%N)
  curl -s "$url/metrics" >"$work/metrics-after"
  python3 - "$name" "$n" "$dist" "$out" "$work/metrics-before" "$work/metrics-after" \
    "$(python3 -c "print(($l1 - $l0) / $CLK_TCK / ($t1 - $t0) * 100)")" \
    "$(python3 -c "print(($k1 - $k0) / $CLK_TCK / ($t1 - $t0) * 100)")" "$(cut -d' ' -f1 /proc/loadavg)" >>"$work/cases" <<'PY'
import json, re, sys
name, n, dist, out, before, after, cpu_local, cpu_ffmpeg, load = sys.argv[1:10]
def by_path(path):
    counts = {}
    for m in re.finditer(r'livestream_local_cloudfront_origin_requests_by_path_total\{distribution="([^"]+)",path="([^"]+)"\} (\d+)', open(path).read()):
        if m.group(1) == dist:
            counts[m.group(2)] = int(m.group(3))
    return counts
def counter(path, name):
    m = re.search(r'livestream_local_cloudfront_%s_total\{distribution="%s"\} (\d+)' % (name, dist), open(path).read())
    return int(m.group(1)) if m else 0
b, a = by_path(before), by_path(after)
origin = {p: a[p] - b.get(p, 0) for p in a if a[p] - b.get(p, 0) > 0}
edge = {k: counter(after, k) - counter(before, k) for k in ("requests", "hits", "misses", "origin_requests")}
print(json.dumps({"name": name, "n": int(n), "edge": dist != "-", "viewers": json.loads(out), "origin": origin, "edgeCounters": edge,
                  "cpuLocal": float(cpu_local), "cpuFfmpeg": float(cpu_ffmpeg), "load": load}))
PY
}

: >"$work/cases"
for n in "${counts[@]}"; do
  read -r dist domain < <(distribution "$n")
  log "distribution $dist at $domain"
  run_case "$n viewers, through the edge" "$n" "http://$domain$master_path" "$dist"
  sleep 5 # the previous case's in-flight requests end, the encoder settles
  run_case "$n viewers, direct to the origin" "$n" "$origin_master" -
  sleep 5
done

echo
echo "# BENCH_VIEWERS=\"$VIEWERS\" BENCH_DURATION_S=$DURATION_S hack/bench-viewers.sh  ($started_at, $(nproc) cores, load at start $load_at_start)"
python3 - "$work/cases" <<'PY'
import json, posixpath, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def ms(v):
    return "-" if v is None else (f"{v:.0f}" if v >= 10 else f"{v:.1f}")
print("| case | origin requests per segment (1080p / 720p) | playlist origin requests/s | edge hits | segment TTFB p50 / p99 (ms) | playlist TTFB p50 / p99 (ms) | viewer requests/s | segments slower than real time | viewers' event loop delay p99 (ms) | errors | received (MB/s) | CPU % livestream-local / its ffmpeg / viewers |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    v = r["viewers"]
    dur = v["durationS"]
    rends = sorted(v["renditions"].items(), key=lambda kv: ("720" in kv[0], kv[0]))
    per_segment = []
    for path, rend in rends:
        folder = posixpath.dirname(path)
        if r["edge"]:
            segs = {p: c for p, c in r["origin"].items() if p.endswith(".ts") and posixpath.dirname(p) == folder}
            per_segment.append(f"{sum(segs.values()) / len(segs):.2f} ({len(segs)} segments)" if segs else "-")
        else:
            d = rend["distinctSegments"]
            per_segment.append(f"{rend['segmentRequests'] / d:.1f} ({d} segments)" if d else "-")
    if r["edge"]:
        playlists = sum(c for p, c in r["origin"].items() if p.endswith(".m3u8"))
    else:
        playlists = v["kinds"]["playlist"]["count"] + v["kinds"]["master"]["count"]
    k = v["kinds"]
    requests = sum(x["count"] for x in k.values())
    errors = sum(x["errors"] for x in k.values())
    why = {}
    for x in k.values():
        for w, c in x["why"].items():
            why[w] = why.get(w, 0) + c
    errs = f"{errors}" + (" (" + ", ".join(f"{w}: {c}" for w, c in why.items()) + ")" if why else "")
    received = sum(x["bytes"] for x in k.values()) / dur / 1e6
    seg = k["segment"]
    e = r.get("edgeCounters") or {}
    hits = f"{e['hits'] / e['requests'] * 100:.1f} %" if r["edge"] and e.get("requests") else "-"
    slow = f"{seg['slow'] / seg['count'] * 100:.1f} %" if seg["count"] else "-"
    print(f"| {r['name']} | {' / '.join(per_segment)} | {playlists / dur:.1f} | {hits} | {ms(k['segment']['ttfbP50'])} / {ms(k['segment']['ttfbP99'])}"
          f" | {ms(k['playlist']['ttfbP50'])} / {ms(k['playlist']['ttfbP99'])} | {requests / dur:.0f} | {slow} | {ms(v.get('loopDelayP99Ms'))} | {errs} | {received:.0f}"
          f" | {r['cpuLocal']:.0f} / {r['cpuFfmpeg']:.0f} / {v['cpuPercent']:.0f} |")
PY
echo
echo "raw: $(wc -l <"$work/cases") cases; loads at each case's end: $(python3 -c 'import json,sys; print(" ".join(json.loads(l)["load"] for l in open(sys.argv[1])))' "$work/cases")"
