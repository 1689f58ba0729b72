#!/usr/bin/env bash
# End-to-end check of livestream-local's MediaPackage v2 API with the AWS CLI (an independent
# client, botocore's own model and parsers): a running livestream-local is driven through the whole
# lifecycle — channel group, channel, a TS endpoint with an HLS manifest and a CMAF endpoint with
# HLS, LL-HLS and DASH manifests, get/list (paginated), updates with and without the ETag, tags,
# the conflicts and refusals in AWS's error types, the manifest URLs on livestream-local's port, a
# MediaLive channel into the v2 channel playing at the TS endpoint (ffprobe) and at the CMAF
# endpoint (ffprobe reads its HLS and DASH; curl-like timing of LL-HLS's blocking reload and
# hinted part; m3u8-parser and mpd-parser parse every manifest), deletion in order — and every
# answer is asserted on.
#
#   hack/check-mediapackagev2.sh            # builds livestream-local (debug) first
#   LIVESTREAM_LOCAL_BIN=path hack/check-mediapackagev2.sh
#
# Needs the AWS CLI (hack/setup.sh installs it), ffmpeg/ffprobe, python3 and node with website/'s
# packages (npm ci in website/). Prints "N passed, M failed".
set -euo pipefail
LOG_NAME=check-mediapackagev2
cd "$(dirname "$0")/.."
. hack/lib.sh

command -v aws >/dev/null || die "the AWS CLI is missing (hack/setup.sh installs it)"
need_livestream_local

work=$(mktemp -d)
pid=
cleanup() {
  stop_pid "$pid"
  rm -rf "$work"
}
trap cleanup EXIT

. hack/cli-checks.sh

# --- create ---
group=$(mp create-channel-group --channel-group-name live --description "Live events" --tags team=video)
expect "CreateChannelGroup: ARN, egress domain on livestream-local's port, tags" \
  'r["Arn"] == arn + ":channelGroup/live" and r["EgressDomain"] == authority and r["Tags"] == {"team": "video"} and r["ETag"] and r["CreatedAt"] == r["ModifiedAt"]' "$group"

channel=$(mp create-channel --channel-group-name live --channel-name main)
expect "CreateChannel: InputType HLS by default, ingest endpoints 1 and 2" \
  'r["InputType"] == "HLS" and [(e["Id"], e["Url"]) for e in r["IngestEndpoints"]] == [(i, f"http://{authority}/in/v1/live/{i}/main/index") for i in ("1", "2")]' "$channel"

ts=$(mp create-origin-endpoint --channel-group-name live --channel-name main --origin-endpoint-name ts \
  --container-type TS --hls-manifests '[{"ManifestName": "index", "ManifestWindowSeconds": 120}]')
expect "CreateOriginEndpoint TS: segment defaults, HLS manifest URL" \
  'r["ContainerType"] == "TS" and r["Segment"]["SegmentDurationSeconds"] == 6 and r["Segment"]["SegmentName"] == "segment" and r["HlsManifests"] == [{"ManifestName": "index", "ManifestWindowSeconds": 120, "Url": f"http://{authority}/out/v1/live/main/ts/index.m3u8"}]' "$ts"

cmaf=$(mp create-origin-endpoint --channel-group-name live --channel-name main --origin-endpoint-name cmaf \
  --container-type CMAF --segment '{"SegmentDurationSeconds": 4, "SegmentName": "seg"}' --startover-window-seconds 600 \
  --hls-manifests '[{"ManifestName": "hls", "ProgramDateTimeIntervalSeconds": 60, "FilterConfiguration": {"ManifestFilter": "video_height:240-1080"}}]' \
  --low-latency-hls-manifests '[{"ManifestName": "llhls", "ManifestWindowSeconds": 30}]' \
  --dash-manifests '[{"ManifestName": "dash"}]' --tags owner=ops)
expect "CreateOriginEndpoint CMAF: HLS, LL-HLS and DASH URLs (.m3u8, .m3u8, .mpd)" \
  '[m["Url"] for k in ("HlsManifests", "LowLatencyHlsManifests", "DashManifests") for m in r[k]] == [f"http://{authority}/out/v1/live/main/cmaf/{n}" for n in ("hls.m3u8", "llhls.m3u8", "dash.mpd")] and r["Segment"]["SegmentDurationSeconds"] == 4 and r["StartoverWindowSeconds"] == 600 and r["HlsManifests"][0]["FilterConfiguration"]["ManifestFilter"] == "video_height:240-1080" and r["Tags"] == {"owner": "ops"}' "$cmaf"

# --- get / list ---
expect "GetChannelGroup" 'r["ChannelGroupName"] == "live" and r["Description"] == "Live events" and r["Tags"] == {"team": "video"}' \
  "$(mp get-channel-group --channel-group-name live)"
expect "GetChannel" 'r["ChannelName"] == "main" and r["ETag"]' "$(mp get-channel --channel-group-name live --channel-name main)"
expect "GetOriginEndpoint" 'r["DashManifests"][0]["ManifestWindowSeconds"] == 60 and r["LowLatencyHlsManifests"][0]["ManifestWindowSeconds"] == 30' \
  "$(mp get-origin-endpoint --channel-group-name live --channel-name main --origin-endpoint-name cmaf)"
mp create-channel-group --channel-group-name backup >/dev/null
expect "ListChannelGroups, one per page: the CLI follows NextToken" 'sorted(g["ChannelGroupName"] for g in r["Items"]) == ["backup", "live"]' \
  "$(mp list-channel-groups --page-size 1)"
expect "ListChannels" '[c["ChannelName"] for c in r["Items"]] == ["main"]' "$(mp list-channels --channel-group-name live)"
expect "ListOriginEndpoints" '[(e["OriginEndpointName"], e["ContainerType"]) for e in r["Items"]] == [("cmaf", "CMAF"), ("ts", "TS")] and r["Items"][0]["DashManifests"][0]["Url"].endswith("/cmaf/dash.mpd")' \
  "$(mp list-origin-endpoints --channel-group-name live --channel-name main)"

# --- updates with the ETag ---
etag=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["ETag"])' "$ts")
updated=$(mp update-origin-endpoint --channel-group-name live --channel-name main --origin-endpoint-name ts --container-type TS \
  --hls-manifests '[{"ManifestName": "index", "ManifestWindowSeconds": 300}]' --e-tag "$etag")
expect "UpdateOriginEndpoint with the current ETag: a new ETag" \
  "r['ETag'] != '$etag' and r['HlsManifests'][0]['ManifestWindowSeconds'] == 300" "$updated"
refused "UpdateOriginEndpoint with a stale ETag" 409 ConflictException ConflictExceptionType CONFLICTING_OPERATION \
  update-origin-endpoint --channel-group-name live --channel-name main --origin-endpoint-name ts --container-type TS \
  --hls-manifests '[{"ManifestName": "index"}]' --e-tag "$etag"
refused "UpdateOriginEndpoint cannot change the container type" 400 ValidationException ValidationExceptionType CONTAINER_TYPE_IMMUTABLE \
  update-origin-endpoint --channel-group-name live --channel-name main --origin-endpoint-name ts --container-type CMAF
group_etag=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["ETag"])' "$group")
expect "UpdateChannelGroup with the current ETag" 'r["Description"] == "Evening events"' \
  "$(mp update-channel-group --channel-group-name live --description "Evening events" --e-tag "$group_etag")"
refused "UpdateChannelGroup with a stale ETag" 409 ConflictException ConflictExceptionType CONFLICTING_OPERATION \
  update-channel-group --channel-group-name live --description late --e-tag "$group_etag"
expect "UpdateChannel without an ETag" 'r["Description"] == "Main feed"' \
  "$(mp update-channel --channel-group-name live --channel-name main --description "Main feed")"

# --- tags ---
endpoint_arn=$arn:channelGroup/live/channel/main/originEndpoint/cmaf
aws mediapackagev2 tag-resource --resource-arn "$endpoint_arn" --tags tier=gold,owner=media
expect "TagResource + ListTagsForResource" 'r["Tags"] == {"owner": "media", "tier": "gold"}' \
  "$(mp list-tags-for-resource --resource-arn "$endpoint_arn")"
aws mediapackagev2 untag-resource --resource-arn "$endpoint_arn" --tag-keys owner
expect "UntagResource" 'r["Tags"] == {"tier": "gold"}' "$(mp list-tags-for-resource --resource-arn "$endpoint_arn")"
expect "tags of a channel group" 'r["Tags"] == {"team": "video"}' "$(mp list-tags-for-resource --resource-arn "$arn:channelGroup/live")"

# --- conflicts and refusals ---
refused "CreateChannelGroup of an existing name" 409 ConflictException ConflictExceptionType RESOURCE_ALREADY_EXISTS \
  create-channel-group --channel-group-name live
refused "CreateChannel of an existing name" 409 ConflictException ConflictExceptionType RESOURCE_ALREADY_EXISTS \
  create-channel --channel-group-name live --channel-name main
refused "DeleteChannelGroup with channels" 409 ConflictException ConflictExceptionType RESOURCE_IN_USE \
  delete-channel-group --channel-group-name live
refused "DeleteChannel with origin endpoints" 409 ConflictException ConflictExceptionType RESOURCE_IN_USE \
  delete-channel --channel-group-name live --channel-name main
refused "a DASH manifest on a TS endpoint" 400 ValidationException ValidationExceptionType TS_CONTAINER_TYPE_WITH_DASH_MANIFEST \
  create-origin-endpoint --channel-group-name live --channel-name main --origin-endpoint-name bad --container-type TS \
  --dash-manifests '[{"ManifestName": "dash"}]'
refused "duplicate manifest names (HLS and LL-HLS)" 400 ValidationException ValidationExceptionType MANIFEST_NAME_COLLISION \
  create-origin-endpoint --channel-group-name live --channel-name main --origin-endpoint-name bad --container-type CMAF \
  --hls-manifests '[{"ManifestName": "index"}]' --low-latency-hls-manifests '[{"ManifestName": "index"}]'
refused "a manifest window shorter than 30 s (so than a segment)" 400 ValidationException ValidationExceptionType MEMBER_MIN_VALUE \
  create-origin-endpoint --channel-group-name live --channel-name main --origin-endpoint-name bad --container-type TS \
  --hls-manifests '[{"ManifestName": "index", "ManifestWindowSeconds": 10}]'
refused "a name with a space (the model's pattern)" 400 ValidationException ValidationExceptionType MEMBER_DOES_NOT_MATCH_PATTERN \
  create-channel-group --channel-group-name "my group"
refused "GetChannel of a missing channel" 404 ResourceNotFoundException ResourceTypeNotFound CHANNEL \
  get-channel --channel-group-name live --channel-name nope
refused "CreateChannel in a missing channel group" 404 ResourceNotFoundException ResourceTypeNotFound CHANNEL_GROUP \
  create-channel --channel-group-name nope --channel-name main

# --- media: a MediaLive channel whose MediaPackage output group names the v2 channel plays at the
# TS endpoint's HLS URL and at the CMAF endpoint's HLS, LL-HLS and DASH URLs ---
status=$(python3 -c 'import sys,urllib.request,urllib.error
try: print(urllib.request.urlopen(sys.argv[1]).status)
except urllib.error.HTTPError as e: print(e.code, e.read().decode())' "http://$authority/out/v1/live/main/cmaf/dash.mpd")
case $status in "404 the channel has not produced"*) ok "GET of a DASH manifest URL before any media: 404 saying so";;
  *) fail "GET of a DASH manifest URL before any media: $status";; esac
group_id=$(ml create-input-security-group --whitelist-rules Cidr=127.0.0.1/32 --query SecurityGroup.Id --output text)
input=$(ml create-input --name v2-check --type RTMP_PUSH --destinations StreamName=live/v2 --input-security-groups "$group_id")
input_id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["Input"]["Id"])' "$input")
ingest=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["Input"]["Destinations"][0]["Url"])' "$input")
v2_channel_json v2-check 720 1280 720 3000000 "$input_id" >"$work/channel.json"
refused_channel=$(ml create-channel --cli-input-json "$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["Destinations"][0]["MediaPackageSettings"][0]["ChannelName"]="nope"; print(json.dumps(c))' "$work/channel.json")" 2>&1 || true)
case $refused_channel in *"MediaPackage v2 channel nope does not exist in channel group live"*) ok "MediaLive refuses a v2 destination that does not exist";;
  *) fail "MediaLive refuses a v2 destination that does not exist: $refused_channel";; esac
ml_channel=$(start_ml_channel "$work/channel.json")
push_test_pattern "$ingest" 1280x720 180
publisher=$!
master_url="http://$authority/out/v1/live/main/ts/index.m3u8"
played=
for _ in $(seq 1 60); do
  if probe=$(ffprobe -v error -show_entries stream=codec_name,width,height -of csv=p=0 "$master_url" 2>/dev/null) \
    && [ -n "$probe" ]; then played=$probe; break; fi
  sleep 1
done
case $played in *"h264,1280,720"*aac*|*aac*"h264,1280,720"*) ok "the TS endpoint's HLS plays (ffprobe: H.264 1280x720 + AAC)";;
  *) fail "the TS endpoint's HLS plays: '$played' $(cat "$work/ffmpeg.log")";; esac
child=$(python3 -c 'import sys,urllib.request; m=urllib.request.urlopen(sys.argv[1]).read().decode(); print([l for l in m.splitlines() if l and not l.startswith("#")][0])' "$master_url")
case $child in index/v720/index.m3u8) ok "the master lists its variants under the manifest: $child";; *) fail "variant URI: $child";; esac
window=$(python3 -c 'import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' "http://$authority/out/v1/live/main/ts/$child")
case $window in *"#EXT-X-TARGETDURATION:6"*) ok "6 s segments, the endpoint's SegmentDurationSeconds";; *) fail "media playlist: $window";; esac

# --- the CMAF endpoint: 4 s segments (2 GOPs) named "seg", parts of 10 frames ---
cmaf_url="http://$authority/out/v1/live/main/cmaf"
for _ in $(seq 1 60); do
  curl -sf -o /dev/null "$cmaf_url/dash.mpd" && curl -sf -o /dev/null "$cmaf_url/llhls.m3u8" && break
  sleep 1
done
# probe NAME URL: ffprobe finds H.264 1280x720 and AAC and reads 4 s of video packets.
probe() {
  local out
  out=$(ffprobe -v error -read_intervals %+4 -show_entries stream=index,codec_name,width,height:packet=stream_index,pts_time \
    -of json "$2" 2>"$work/ffprobe.err") || out='{"streams": [], "packets": []}'
  expect "$1" 'any(s.get("codec_name") == "h264" and (s.get("width"), s.get("height")) == (1280, 720) for s in r["streams"]) and any(s.get("codec_name") == "aac" for s in r["streams"]) and (lambda video: len(video) > 60 and max(video) - min(video) >= 3)([float(p["pts_time"]) for p in r["packets"] if "pts_time" in p and p["stream_index"] in [s["index"] for s in r["streams"] if s.get("codec_name") == "h264"]])' "$out"
}
probe "ffprobe plays the CMAF endpoint's HLS (H.264 1280x720 + AAC, 4 s of video)" "$cmaf_url/hls.m3u8"
probe "ffprobe plays the CMAF endpoint's DASH MPD (H.264 1280x720 + AAC, 4 s of video)" "$cmaf_url/dash.mpd"
mpd_type=$(curl -s -o /dev/null -w '%{content_type}' "$cmaf_url/dash.mpd")
segment_type=$(curl -s -o /dev/null -w '%{content_type}' "$cmaf_url/hls/v720/seg_init_0.mp4")
case "$mpd_type $segment_type" in "application/dash+xml video/mp4") ok "content types: $mpd_type, $segment_type";;
  *) fail "content types: $mpd_type $segment_type";; esac
ll=$(curl -sf "$cmaf_url/llhls/v720/index.m3u8" || true)
case $ll in *"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK="*"#EXT-X-PART-INF:PART-TARGET="*"#EXT-X-PART:DURATION="*"#EXT-X-PRELOAD-HINT:TYPE=PART,URI="*)
  ok "the LL-HLS playlist has SERVER-CONTROL, PART-INF, parts and a preload hint";;
  *) fail "the LL-HLS playlist: $ll";; esac
# Blocking reload of the next segment, then of the hinted part, then the hinted part itself:
# each answer comes only once what it asked for exists.
blocking=$(python3 - "$cmaf_url/llhls/v720" <<'PY'
import json, re, sys, time, urllib.error, urllib.request
base = sys.argv[1]
get = lambda path: urllib.request.urlopen(f"{base}/{path}", timeout=30).read()
def timed(path):
    start = time.monotonic()
    body = get(path)
    return body, round(time.monotonic() - start, 3)
text = get("index.m3u8").decode()
last = int(re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text).group(1)) + text.count("#EXTINF:") - 1
# Held until segment last+1 completes; then segment last+2 has just begun: a full segment's hold.
_, first_held = timed(f"index.m3u8?_HLS_msn={last + 1}")
segment, segment_held = timed(f"index.m3u8?_HLS_msn={last + 2}")
segment = segment.decode()
last += 1
hint = re.search(r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg_(\d+)_(\d+)\.mp4"', segment).groups()
part, part_held = timed(f"index.m3u8?_HLS_msn={hint[0]}&_HLS_part={hint[1]}")
part = part.decode()
next_hint = re.search(r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"', part).group(1)
media, media_held = timed(next_hint)
try:
    get(f"index.m3u8?_HLS_msn={last + 10}")
    too_far = 200
except urllib.error.HTTPError as e:
    too_far = e.code
print(json.dumps({
    "before": f"seg_{last + 1}.mp4" in text, "segment": f"\nseg_{last + 1}.mp4\n" in segment, "first_held": first_held, "segment_held": segment_held,
    "part": f'URI="seg_{hint[0]}_{hint[1]}.mp4"' in part, "part_held": part_held,
    "media": media[4:8].decode("latin-1"), "media_bytes": len(media), "media_held": media_held, "too_far": too_far,
    "part_target": float(re.search(r"PART-TARGET=([\d.]+)", part).group(1)),
    "hold_back": float(re.search(r"PART-HOLD-BACK=([\d.]+)", part).group(1)),
}))
PY
) || blocking='{}'
log "blocking reload: $blocking"
expect "_HLS_msn of the segment after the one just completed is held until it is complete (a whole 4 s segment)" \
  'not r["before"] and r["segment"] and r["first_held"] < 5 and 3.3 < r["segment_held"] < 5' "$blocking"
expect "_HLS_msn+_HLS_part of the hinted part is held until it exists (at most a part)" \
  'r["part"] and r["part_held"] < 1' "$blocking"
expect "the hinted part is held until written, then served (moof)" \
  'r["media"] in ("moof", "styp") and r["media_bytes"] > 1000 and r["media_held"] < 1' "$blocking"
expect "_HLS_msn far ahead of the live edge: 400" 'r["too_far"] == 400' "$blocking"
expect "PART-HOLD-BACK is at least 3 PART-TARGETs" 'r["hold_back"] >= 3 * r["part_target"] > 0' "$blocking"
if parsed=$(node website/test/parse-manifests.mjs "$cmaf_url" hls llhls dash 2>&1); then
  ok "m3u8-parser and mpd-parser parse every manifest: $(echo "$parsed" | tr '\n' ' ')"
else
  fail "m3u8-parser and mpd-parser: $parsed"
fi
stop_pid "$publisher" 5
ml stop-channel --channel-id "$ml_channel" >/dev/null
for _ in $(seq 1 100); do
  [ "$(ml describe-channel --channel-id "$ml_channel" --query State --output text)" = IDLE ] && break; sleep 0.1
done
ml delete-channel --channel-id "$ml_channel" >/dev/null

# --- IAM: a key whose policy allows only CreateChannelGroup and GetChannelGroup ---
local_admin PUT "$url/_local/credentials" --data-binary @- >/dev/null <<'JSON'
{"keys": [
  {"accessKeyId": "local", "secretAccessKey": "local", "user": "admin", "administrator": true},
  {"accessKeyId": "limited", "secretAccessKey": "limited", "user": "limited", "policy": {"Version": "2012-10-17",
   "Statement": [{"Effect": "Allow", "Action": ["mediapackagev2:CreateChannelGroup", "mediapackagev2:GetChannelGroup"],
                  "Resource": "arn:aws:mediapackagev2:*:*:channelGroup/*"}]}}
]}
JSON
expect "a limited key may create an untagged channel group" 'r["ChannelGroupName"] == "limited"' \
  "$(AWS_ACCESS_KEY_ID=limited AWS_SECRET_ACCESS_KEY=limited mp create-channel-group --channel-group-name limited)"
AWS_ACCESS_KEY_ID=limited AWS_SECRET_ACCESS_KEY=limited refused "tags at creation need mediapackagev2:TagResource" \
  403 AccessDeniedException "" "" create-channel-group --channel-group-name tagged --tags a=b
if grep -q "not authorized to perform: mediapackagev2:TagResource on resource: $arn:channelGroup/tagged" "$work/err"; then
  ok "the refusal names the dependent action and the new group's ARN"
else
  fail "the refusal names the dependent action and the new group's ARN"
fi
AWS_ACCESS_KEY_ID=limited AWS_SECRET_ACCESS_KEY=limited refused "an action the policy does not allow" \
  403 AccessDeniedException "" "" list-channels --channel-group-name live
mp delete-channel-group --channel-group-name limited >/dev/null

# --- delete in order ---
for e in ts cmaf; do
  mp delete-origin-endpoint --channel-group-name live --channel-name main --origin-endpoint-name "$e" >/dev/null
done
expect "ListOriginEndpoints after deleting them" 'r["Items"] == []' "$(mp list-origin-endpoints --channel-group-name live --channel-name main)"
mp delete-channel --channel-group-name live --channel-name main >/dev/null
mp delete-channel-group --channel-group-name live >/dev/null
mp delete-channel-group --channel-group-name backup >/dev/null
refused "GetChannelGroup after DeleteChannelGroup" 404 ResourceNotFoundException ResourceTypeNotFound CHANNEL_GROUP \
  get-channel-group --channel-group-name live
expect "ListChannelGroups after deleting everything" 'r["Items"] == []' "$(mp list-channel-groups)"

# A client's mistake is a 4xx: a 500 that no injected fault asked for is a failure.
if grep -q "without an injected fault" "$work/stderr"; then
  fail "livestream-local answered 500 without an injected fault: $(grep "without an injected fault" "$work/stderr" | head -3)"
else
  ok "livestream-local answered no 500 that was not injected"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
