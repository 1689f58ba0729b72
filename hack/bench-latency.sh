#!/usr/bin/env bash
# Glass-to-glass latency benchmark (a benchmark, not a test: it prints a table, it asserts nothing).
#
#   hack/bench-latency.sh                      # every case, ~8 minutes
#   BENCH_CASES="v1-2 nginx-2" hack/bench-latency.sh
#   BENCH_JOINS=5 BENCH_SAMPLES=2 BENCH_WARMUP_S=4 hack/bench-latency.sh
#
# Cases: v1-5 v1-2 (livestream-local, MediaPackage v1 HLS, 5 s / 2 s segments), v2-ts (v2 TS
# endpoint, HLS, 2 s), v2-ll (v2 CMAF endpoint, low-latency HLS, 2 s segments, 1/3 s parts, hls.js
# lowLatencyMode), v2-hls-shaka v2-ll-shaka v2-dash-shaka v2-dash-dashjs (the same CMAF endpoint's
# HLS, low-latency HLS and DASH manifests played with Shaka Player or dash.js), nginx-2 nginx-5 (nginx-rtmp `hls on`, hls_fragment 2 s / 5 s), ffmpeg-2 (ffmpeg
# listening for RTMP, -f hls -hls_time 2 -c copy, served by python3 -m http.server).
#
# The publisher (ffmpeg -re, lavfi testsrc2 640x360 30 fps + sine, x264 veryfast zerolatency, a
# keyframe every 30 frames, FLV to RTMP) burns the capture time into every frame: a setpts with
# RTCTIME stamps the frame with the wall clock (ms) as it is generated, and 48 drawbox filters
# (enabled by the timeline expression on that stamp) draw its 24 low bits as white/black blocks on
# the top rows, with a second row of complements as a check. hack/bench/latency.mjs plays the
# stream in headless Chromium with hls.js, or the case's player (hack/bench/latency.html), decodes the blocks of every
# presented frame (requestVideoFrameCallback), and latency = Date.now() - capture time (same
# machine, same clock). Each sample is the median over the frames of one second. Per case, one
# viewer joins as the first segment is listed (first_s: what the first viewers of a new stream see),
# then, once the playlist holds more than hls.js's hold-back of three target durations, BENCH_JOINS
# viewers join one after another, spread evenly over the segment cadence (where in a segment a viewer
# joins moves its latency by up to a segment): the case reports the median, min and max over those
# joins, each the median of its samples, the player's own latency figure beside it (player_s: hls.js
# `latency`, Shaka `getStats().liveLatency`, dash.js `getCurrentLiveLatency()`, median over the
# joins), and the CPU of the server process trees (livestream-local
# and its ffmpeg children; nginx; the packaging ffmpeg plus http.server) meanwhile, in % of one core. Binds only 127.0.0.1; every process it starts is stopped by pid on exit.
set -euo pipefail
LOG_NAME=bench-latency
cd "$(dirname "$0")/.."
. hack/lib.sh

CASES=${BENCH_CASES:-v1-5 v1-2 v2-ts v2-ll v2-hls-shaka v2-ll-shaka v2-dash-shaka v2-dash-dashjs nginx-2 nginx-5 ffmpeg-2}
PLAYER=hlsjs
JOINS=${BENCH_JOINS:-5}
SAMPLES=${BENCH_SAMPLES:-2}
WARMUP_S=${BENCH_WARMUP_S:-4}
CLK_TCK=$(getconf CLK_TCK)

for tool in ffmpeg node python3 curl aws; do command -v "$tool" >/dev/null || die "$tool is missing (hack/setup.sh)"; done
[ -x /usr/bin/chromium ] || [ -n "${CHROMIUM:-}" ] || die "chromium is missing (hack/setup.sh)"
[ -d website/node_modules/playwright-core ] || die "website/node_modules is missing (website/build.sh installs it)"
need_apt=()
command -v nginx >/dev/null || need_apt+=(nginx)
[ -f /usr/lib/nginx/modules/ngx_rtmp_module.so ] || need_apt+=(libnginx-mod-rtmp)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
need_livestream_local

work=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do stop_pid "$p" 5; done
  rm -rf "$work"
}
trap cleanup EXIT
# started PID: remember PID to stop it at the end of the case (and on exit).
started() { pids+=("$1"); }
stop_started() {
  local p
  for p in "${pids[@]}"; do stop_pid "$p" 5; done
  pids=()
}

# The burn-in filter: wall clock (ms) into the pts, its 24 low bits as blocks, pts back to N/30.
python3 - >"$work/burn.txt" <<'PY'
parts = ["settb=1/1000", "setpts='floor(RTCTIME/1000)'", "drawbox=x=0:y=0:w=640:h=56:color=black:t=fill"]
for i in range(24):
    bit = f"mod(floor(floor(t*1000+0.5)/{2 ** i}),2)"
    parts.append(f"drawbox=x={8 + i * 25}:y=4:w=25:h=24:color=white:t=fill:enable='{bit}'")
    parts.append(f"drawbox=x={8 + i * 25}:y=28:w=25:h=24:color=white:t=fill:enable='1-{bit}'")
parts += ["settb=1/30", "setpts=N"]
print(",\n".join(parts))
PY

# publish URL: the test source with the clock burnt in, pushed to URL (bounded: 150 s).
publish() {
  ffmpeg -hide_banner -loglevel error -nostdin -re -f lavfi -i testsrc2=size=640x360:rate=30 \
    -f lavfi -i sine=frequency=440:sample_rate=48000 -t 150 -filter_script:v "$work/burn.txt" \
    -c:v libx264 -preset veryfast -tune zerolatency -g 30 -keyint_min 30 -sc_threshold 0 -b:v 1500k \
    -pix_fmt yuv420p -c:a aac -b:a 96k -f flv "$1" >"$work/publisher.log" 2>&1 &
  started $!
}

# wait_manifest URL: polls until URL serves a playlist with a segment (60 s at most).
wait_manifest() {
  local body
  for _ in $(seq 1 120); do
    body=$(curl -sf --max-time 5 "$1" 2>/dev/null || true)
    case $body in *'#EXTINF'* | *'#EXT-X-STREAM-INF'*) return 0 ;; esac
    sleep 0.5
  done
  log "no playlist at $1 within 60 s"
  return 1
}

# wait_steady URL SEGMENT: polls until the (first variant's) playlist lists at least four
# segments of SEGMENT s, more than hls.js's default hold-back of three target durations (120 s at
# most), so a viewer who joins now joins a stream in its steady state.
wait_steady() {
  local listed
  for _ in $(seq 1 240); do
    listed=$(python3 - "$1" <<'PY'
import sys, urllib.request
url = sys.argv[1]
try:
    body = urllib.request.urlopen(url, timeout=5).read().decode()
    if "#EXT-X-STREAM-INF" in body:
        variant = next(l for l in body.splitlines() if l and not l.startswith("#"))
        body = urllib.request.urlopen(urllib.parse.urljoin(url, variant), timeout=5).read().decode()
    print(sum(float(l.split(":")[1].split(",")[0]) for l in body.splitlines() if l.startswith("#EXTINF:")))
except Exception:
    print(0)
PY
)
    python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 4 * float(sys.argv[2]) - 0.5 else 1)" "$listed" "$2" && return 0
    sleep 0.5
  done
  log "the playlist at $1 did not reach four segments within 120 s"
  return 1
}

# play URL LL JOINS SLOT PIDS...: runs latency.mjs; prints its JSON line.
play() {
  local url=$1 ll=$2 joins=$3 slot=$4 flags=()
  shift 4
  [ "$ll" = 1 ] && flags+=(--low-latency)
  node hack/bench/latency.mjs --url "$url" --player "$PLAYER" "${flags[@]}" --pids "$*" --clk-tck "$CLK_TCK" \
    --joins "$joins" --slot-s "$slot" --warmup-s "$WARMUP_S" --samples "$SAMPLES" --interval-s 1 \
    --timeout-s $((joins * (${slot%.*} + 1 + WARMUP_S + SAMPLES + 30) + 30)) || true
}

# measure NAME SEGMENT URL LL PIDS...: one viewer who joins as the first segment is listed, then,
# once the stream is steady, JOINS viewers one after another; appends a row to the table. The waits
# read WAIT_URL (an HLS playlist of the same media) when URL is not HLS.
measure() {
  local name=$1 segment=$2 url=$3 ll=$4 first steady slot wait_url=${WAIT_URL:-$3}
  shift 4
  wait_manifest "$wait_url" || true
  log "$name: a viewer joins at the first segment of $url"
  first=$(play "$url" "$ll" 1 0 "$@")
  log "$name: $first"
  wait_steady "$wait_url" "$segment" || true
  # A join takes about WARMUP_S + SAMPLES + 1 s; the slot is that, rounded up to whole segments,
  # plus 1/JOINS of a segment, so the joins fall evenly over the segment cadence.
  slot=$(python3 -c "import math,sys; w,s,n=map(float,sys.argv[1:]); print(round(math.ceil((w)/s)*s + s/n, 2))" \
    "$((WARMUP_S + SAMPLES + 1))" "$segment" "$JOINS")
  log "$name: $JOINS viewers join $slot s apart"
  steady=$(play "$url" "$ll" "$JOINS" "$slot" "$@")
  log "$name: $steady"
  python3 - "$name" "$segment" "$first" "$steady" >>"$work/table" <<'PY'
import json, statistics, sys
name, segment, first, steady = sys.argv[1:5]
def parse(out):
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"joins": [], "error": "no result"}
f, r = parse(first), parse(steady)
joins = r.get("joins") or []
own = r.get("playerJoins") or []
player_s = f"{statistics.median(own):.2f}" if own else "-"
cpu = r.get("cpuPercent")
cells = [f"{statistics.median(joins):.2f}", f"{min(joins):.2f}", f"{max(joins):.2f}"] if joins else ["-", "-", "-"]
at_first = f"{f['joins'][0]:.2f}" if f.get("joins") else "-"
notes = [f"{w}: {x.get('error')}" for w, x in (("first", f), ("steady", r)) if not x.get("ok")]
note = f"  ({'; '.join(notes)})" if notes else ""
print(f"{name:<40}{segment + ' s':>7}{cells[0]:>10}{cells[1]:>7}{cells[2]:>7}{player_s:>10}{at_first:>10}{'-' if cpu is None else f'{cpu:.0f}':>7}{note}")
PY
}

# --- livestream-local ---
ll_pid=
start_local() {
  "$LIVESTREAM_LOCAL_BIN" --listen 127.0.0.1:0 --rtmp-port 0 --data-dir "$work/data-$1" >"$work/local.out" 2>"$work/local.err" &
  ll_pid=$!
  started "$ll_pid"
  url=$(local_endpoint "$ll_pid" "$work/local.out" "$work/local.err")
  export AWS_ENDPOINT_URL=$url AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1
  unset AWS_PROFILE AWS_SESSION_TOKEN
  export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=
}
json_field() { python3 -c 'import json,sys; r=json.loads(sys.argv[1])
for k in sys.argv[2].split("."): r=r[int(k)] if isinstance(r, list) else r[k]
print(r)' "$1" "$2"; }

# medialive_channel DESTINATION-JSON: an RTMP_PUSH input and a running MediaLive channel (one 720p
# rendition, GOP 1 s) into DESTINATION; prints the input's RTMP URL.
medialive_channel() {
  local group input input_id channel
  group=$(aws medialive create-input-security-group --whitelist-rules Cidr=127.0.0.1/32 --query SecurityGroup.Id --output text)
  input=$(aws medialive create-input --output json --name bench --type RTMP_PUSH --destinations StreamName=live/bench --input-security-groups "$group")
  input_id=$(json_field "$input" Input.Id)
  python3 - "$input_id" "$1" >"$work/channel.json" <<'PY'
import json, sys
video = {"Name": "v720", "Width": 1280, "Height": 720, "CodecSettings": {"H264Settings": {
    "Bitrate": 3000000, "RateControlMode": "CBR", "FramerateControl": "SPECIFIED", "FramerateNumerator": 30,
    "FramerateDenominator": 1, "ParControl": "SPECIFIED", "ParNumerator": 1, "ParDenominator": 1,
    "GopSize": 1, "GopSizeUnits": "SECONDS"}}}
audio = {"Name": "aac", "AudioSelectorName": "default", "CodecSettings": {"AacSettings": {"Bitrate": 128000, "SampleRate": 48000}}}
print(json.dumps({
    "Name": "bench", "ChannelClass": "SINGLE_PIPELINE",
    "RoleArn": "arn:aws:iam::123456789012:role/MediaLiveAccessRole",
    "InputSpecification": {"Codec": "AVC", "Resolution": "HD", "MaximumBitrate": "MAX_20_MBPS"},
    "InputAttachments": [{"InputId": sys.argv[1], "InputAttachmentName": "rtmp",
                          "InputSettings": {"AudioSelectors": [{"Name": "default"}]}}],
    "Destinations": [{"Id": "mp", "MediaPackageSettings": [json.loads(sys.argv[2])]}],
    "EncoderSettings": {
        "TimecodeConfig": {"Source": "EMBEDDED"}, "VideoDescriptions": [video], "AudioDescriptions": [audio],
        "OutputGroups": [{"Name": "mediapackage", "OutputGroupSettings": {"MediaPackageGroupSettings": {"Destination": {"DestinationRefId": "mp"}}},
                          "Outputs": [{"OutputName": "720p", "VideoDescriptionName": "v720", "AudioDescriptionNames": ["aac"],
                                       "OutputSettings": {"MediaPackageOutputSettings": {}}}]}]}}))
PY
  channel=$(aws medialive create-channel --cli-input-json "file://$work/channel.json" --query Channel.Id --output text)
  for _ in $(seq 1 100); do
    [ "$(aws medialive describe-channel --channel-id "$channel" --query State --output text)" = IDLE ] && break; sleep 0.1
  done
  aws medialive start-channel --channel-id "$channel" >/dev/null
  for _ in $(seq 1 100); do
    [ "$(aws medialive describe-channel --channel-id "$channel" --query State --output text)" = RUNNING ] && break; sleep 0.1
  done
  json_field "$input" Input.Destinations.0.Url
}

case_v1() {
  local seconds=$1 endpoint ingest play
  start_local "v1-$seconds"
  aws mediapackage create-channel --id bench >/dev/null
  endpoint=$(aws mediapackage create-origin-endpoint --output json --channel-id bench --id hls \
    --hls-package "{\"SegmentDurationSeconds\": $seconds, \"PlaylistWindowSeconds\": 60}")
  play=$(json_field "$endpoint" Url)
  ingest=$(medialive_channel '{"ChannelId": "bench"}')
  publish "$ingest"
  measure "livestream-local v1 HLS" "$seconds" "$play" 0 "$ll_pid"
  stop_started
}

# case_v2 KIND: ts (TS endpoint, hls.js), or a CMAF endpoint with HLS, low-latency HLS and DASH
# manifests played as KIND says: ll (hls.js), hls-shaka, ll-shaka, dash-shaka, dash-dashjs.
case_v2() {
  local kind=$1 endpoint ingest play ll=0 name manifests
  start_local "v2-$kind"
  aws mediapackagev2 create-channel-group --channel-group-name bench >/dev/null
  aws mediapackagev2 create-channel --channel-group-name bench --channel-name main --input-type CMAF >/dev/null
  if [ "$kind" = ts ]; then
    endpoint=$(aws mediapackagev2 create-origin-endpoint --output json --channel-group-name bench --channel-name main \
      --origin-endpoint-name ts --container-type TS --segment '{"SegmentDurationSeconds": 2}' \
      --hls-manifests '[{"ManifestName": "index", "ManifestWindowSeconds": 60}]')
    play=$(json_field "$endpoint" HlsManifests.0.Url)
    name="livestream-local v2 TS HLS"
  else
    manifests='[{"ManifestName": "hls", "ManifestWindowSeconds": 60}]'
    endpoint=$(aws mediapackagev2 create-origin-endpoint --output json --channel-group-name bench --channel-name main \
      --origin-endpoint-name cmaf --container-type CMAF --segment '{"SegmentDurationSeconds": 2}' \
      --hls-manifests "$manifests" --low-latency-hls-manifests "${manifests/hls/llhls}" --dash-manifests "${manifests/hls/dash}")
    WAIT_URL=$(json_field "$endpoint" HlsManifests.0.Url)
    case $kind in
      ll | ll-shaka) play=$(json_field "$endpoint" LowLatencyHlsManifests.0.Url) ll=1 name="v2 LL-HLS (CMAF)" ;;
      hls-shaka) play=$WAIT_URL name="v2 HLS (CMAF)" ;;
      dash-*) play=$(json_field "$endpoint" DashManifests.0.Url) name="v2 DASH (CMAF)" ;;
    esac
    case $kind in
      *-shaka) PLAYER=shaka ;;
      *-dashjs) PLAYER=dashjs ;;
    esac
    name="livestream-local $name $PLAYER"
  fi
  ingest=$(medialive_channel '{"ChannelGroup": "bench", "ChannelName": "main"}')
  publish "$ingest"
  measure "$name" 2 "$play" "$ll" "$ll_pid"
  stop_started
  PLAYER=hlsjs WAIT_URL=
}

# --- peers ---
case_nginx() {
  local seconds=$1 dir=$work/nginx-$1 rtmp http
  rtmp=$(free_port)
  http=$(free_port)
  mkdir -p "$dir/hls" "$dir/logs"
  cat >"$dir/nginx.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
daemon off;
user root;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 256; }
rtmp {
  server {
    listen 127.0.0.1:$rtmp;
    application live {
      live on;
      hls on;
      hls_path $dir/hls;
      hls_fragment ${seconds}s;
      hls_playlist_length $((seconds * 6))s;
    }
  }
}
http {
  access_log off;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  server {
    listen 127.0.0.1:$http;
    location /hls/ { alias $dir/hls/; add_header Cache-Control no-cache; }
  }
}
CONF
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" >"$dir/logs/stdout" 2>&1 &
  local nginx_pid=$!
  started "$nginx_pid"
  sleep 0.5
  kill -0 "$nginx_pid" 2>/dev/null || { cat "$dir/logs/error.log" >&2; die "nginx did not start"; }
  publish "rtmp://127.0.0.1:$rtmp/live/bench"
  measure "nginx-rtmp HLS" "$seconds" "http://127.0.0.1:$http/hls/bench.m3u8" 0 "$nginx_pid"
  stop_started
}

case_ffmpeg() {
  local seconds=$1 dir=$work/ffmpeg-$1 rtmp http
  rtmp=$(free_port)
  http=$(free_port)
  mkdir -p "$dir"
  ffmpeg -hide_banner -loglevel error -nostdin -listen 1 -i "rtmp://127.0.0.1:$rtmp/live/bench" -c copy \
    -f hls -hls_time "$seconds" -hls_list_size 10 -hls_flags delete_segments "$dir/index.m3u8" >"$work/packager.log" 2>&1 &
  local packager=$!
  started "$packager"
  python3 -m http.server --bind 127.0.0.1 --directory "$dir" "$http" >/dev/null 2>&1 &
  local server=$!
  started "$server"
  sleep 0.5
  publish "rtmp://127.0.0.1:$rtmp/live/bench"
  measure "ffmpeg HLS (+ http.server)" "$seconds" "http://127.0.0.1:$http/index.m3u8" 0 "$packager" "$server"
  stop_started
}

started_at=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
: >"$work/table"
for c in $CASES; do
  case $c in
    v1-5) case_v1 5 ;;
    v1-2) case_v1 2 ;;
    v2-ts) case_v2 ts ;;
    v2-ll) case_v2 ll ;;
    v2-hls-shaka | v2-ll-shaka | v2-dash-shaka | v2-dash-dashjs) case_v2 "${c#v2-}" ;;
    nginx-2) case_nginx 2 ;;
    nginx-5) case_nginx 5 ;;
    ffmpeg-2) case_ffmpeg 2 ;;
    *) die "unknown case $c (v1-5 v1-2 v2-ts v2-ll v2-hls-shaka v2-ll-shaka v2-dash-shaka v2-dash-dashjs nginx-2 nginx-5 ffmpeg-2)" ;;
  esac
done

echo
echo "# BENCH_CASES=\"$CASES\" BENCH_JOINS=$JOINS BENCH_SAMPLES=$SAMPLES BENCH_WARMUP_S=$WARMUP_S hack/bench-latency.sh  ($started_at, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-40s%7s%10s%7s%7s%10s%10s%7s\n' case segment median_s min_s max_s player_s first_s cpu_%
cat "$work/table"
