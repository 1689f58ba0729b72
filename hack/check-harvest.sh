#!/usr/bin/env bash
# End-to-end check of livestream-local's MediaPackage v2 harvest jobs (live-to-VOD) with the AWS
# CLI: a MediaLive channel fed by an ffmpeg test pattern streams into a v2 channel with a TS HLS
# endpoint (startover window 300 s); a harvest job cuts a 20 s range that ended a few seconds ago
# into S3 (the bucket policy grants the mediapackagev2.amazonaws.com service principal
# s3:PutObject); the job is polled to COMPLETED, the VOD is downloaded with `aws s3 cp`, played
# with ffprobe (20 s ± one segment) and its program date-times checked against the range; then
# the refusals (outside the startover window, end before start, an unknown manifest, a bucket
# without the grant), a job FAILED because the grant went away before it ran, cancellation, and
# a duplicate name; then the same range from a CMAF endpoint's HLS and low-latency HLS manifests
# (fragmented MP4 with EXT-X-MAP), played with ffprobe. Bounded (< 3 minutes); stops what it
# starts by pid.
#
#   hack/check-harvest.sh            # builds livestream-local (debug) first
#   LIVESTREAM_LOCAL_BIN=path hack/check-harvest.sh
#   KEEP_LOG=file hack/check-harvest.sh       # keeps livestream-local's log (harvest_ms per job)
#
# Needs the AWS CLI, ffmpeg/ffprobe and python3. Prints "N passed, M failed".
set -euo pipefail
LOG_NAME=check-harvest
cd "$(dirname "$0")/.."
. hack/lib.sh

command -v aws >/dev/null || die "the AWS CLI is missing (hack/setup.sh installs it)"
need_livestream_local

work=$(mktemp -d)
pid=
publisher=
cleanup() {
  stop_pid "$publisher" 5
  stop_pid "$pid"
  if [ -n "${KEEP_LOG:-}" ]; then cp "$work/stderr" "$KEEP_LOG"; fi
  rm -rf "$work"
}
trap cleanup EXIT
began=$(date +%s)

. hack/cli-checks.sh

# iso SECONDS-FROM-NOW: an ISO 8601 UTC time (negative: in the past).
iso() { python3 -c 'import datetime,sys; print((datetime.datetime.now(datetime.timezone.utc)+datetime.timedelta(seconds=float(sys.argv[1]))).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))' "$1"; }
# field JSON EXPR: a value of the parsed JSON `r`.
field() { python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
# harvest NAME BUCKET START END [MANIFEST]: CreateHarvestJob's answer.
harvest() {
  local name=$1 bucket=$2 start=$3 end=$4 manifest=${5:-index}
  mp create-harvest-job --channel-group-name live --channel-name main --origin-endpoint-name ts \
    --harvest-job-name "$name" --harvested-manifests "{\"HlsManifests\": [{\"ManifestName\": \"$manifest\"}]}" \
    --schedule-configuration "StartTime=$start,EndTime=$end" \
    --destination "{\"S3Destination\": {\"BucketName\": \"$bucket\", \"DestinationPath\": \"clips/$name\"}}"
}
# status NAME: the job's Status (and ErrorMessage).
status() {
  mp get-harvest-job --channel-group-name live --channel-name main --origin-endpoint-name ts --harvest-job-name "$1" \
    --query '[Status, ErrorMessage]' --output text
}
# wait_status NAME SECONDS STATUS...: polls until the job is in one of STATUS; prints the last.
wait_status() {
  local name=$1 tenths=$(($2 * 10)) s
  shift 2
  for _ in $(seq 1 "$tenths"); do
    s=$(status "$name")
    for want in "$@"; do case $s in "$want"*) echo "$s"; return 0;; esac; done
    sleep 0.2
  done
  echo "$s"
}

# --- the channel: group, channel, a TS endpoint with a startover window ---
mp create-channel-group --channel-group-name live >/dev/null
mp create-channel --channel-group-name live --channel-name main >/dev/null
ts=$(mp create-origin-endpoint --channel-group-name live --channel-name main --origin-endpoint-name ts \
  --container-type TS --segment '{"SegmentDurationSeconds": 2}' --startover-window-seconds 300 \
  --hls-manifests '[{"ManifestName": "index", "ManifestWindowSeconds": 60}]')
expect "a TS endpoint with a 300 s startover window" 'r["StartoverWindowSeconds"] == 300' "$ts"
endpoint_arn=$(field "$ts" 'r["Arn"]')
cmaf=$(mp create-origin-endpoint --channel-group-name live --channel-name main --origin-endpoint-name cmaf \
  --container-type CMAF --segment '{"SegmentDurationSeconds": 2}' --startover-window-seconds 300 \
  --hls-manifests '[{"ManifestName": "index", "ManifestWindowSeconds": 60}]' \
  --low-latency-hls-manifests '[{"ManifestName": "ll", "ManifestWindowSeconds": 60}]')
cmaf_arn=$(field "$cmaf" 'r["Arn"]')

# --- buckets: one granting MediaPackage v2, one without a policy ---
grant() {
  python3 -c 'import json,sys; print(json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "AllowMediaPackageV2Harvest",
    "Effect": "Allow", "Principal": {"Service": "mediapackagev2.amazonaws.com"}, "Action": "s3:PutObject",
    "Resource": "arn:aws:s3:::%s/*" % sys.argv[1], "Condition": {"StringEquals": {"AWS:SourceAccount": "123456789012"},
    "ArnLike": {"AWS:SourceArn": sys.argv[2] + "/harvestJob/*"}}}]}))' "$1" "${2:-$endpoint_arn}"
}
for b in vod vodcmaf nogrant revoked; do aws s3api create-bucket --bucket "$b" >/dev/null; done
aws s3api put-bucket-policy --bucket vod --policy "$(grant vod)"
aws s3api put-bucket-policy --bucket vodcmaf --policy "$(grant vodcmaf "$cmaf_arn")"
aws s3api put-bucket-policy --bucket revoked --policy "$(grant revoked)"

# --- MediaLive into the v2 channel, an ffmpeg test pattern ---
group_id=$(ml create-input-security-group --whitelist-rules Cidr=127.0.0.1/32 --query SecurityGroup.Id --output text)
input=$(ml create-input --name harvest-check --type RTMP_PUSH --destinations StreamName=live/v2 --input-security-groups "$group_id")
input_id=$(field "$input" 'r["Input"]["Id"]')
ingest=$(field "$input" 'r["Input"]["Destinations"][0]["Url"]')
v2_channel_json harvest-check 480 854 480 1500000 "$input_id" >"$work/channel.json"
ml_channel=$(start_ml_channel "$work/channel.json")
push_test_pattern "$ingest" 854x480 150
publisher=$!
master_url="http://$authority/out/v1/live/main/ts/index.m3u8"
streaming=
for _ in $(seq 1 40); do
  if ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$master_url" >/dev/null 2>&1; then streaming=1; break; fi
  sleep 1
done
[ -n "$streaming" ] && ok "the TS endpoint streams" || fail "the TS endpoint streams: $(cat "$work/ffmpeg.log")"
first_media=$(date +%s.%N)

# --- the refusals, while media accumulates ---
refused "outside the startover window: ValidationException" 400 ValidationException ValidationExceptionType MEMBER_INVALID \
  create-harvest-job --channel-group-name live --channel-name main --origin-endpoint-name ts --harvest-job-name old \
  --harvested-manifests '{"HlsManifests": [{"ManifestName": "index"}]}' \
  --schedule-configuration "StartTime=$(iso -400),EndTime=$(iso -380)" \
  --destination '{"S3Destination": {"BucketName": "vod", "DestinationPath": "clips/old"}}'
refused "end before start: END_TIME_EARLIER_THAN_START_TIME" 400 ValidationException ValidationExceptionType END_TIME_EARLIER_THAN_START_TIME \
  create-harvest-job --channel-group-name live --channel-name main --origin-endpoint-name ts --harvest-job-name backwards \
  --harvested-manifests '{"HlsManifests": [{"ManifestName": "index"}]}' \
  --schedule-configuration "StartTime=$(iso -5),EndTime=$(iso -10)" \
  --destination '{"S3Destination": {"BucketName": "vod", "DestinationPath": "clips/backwards"}}'
refused "an unknown manifest: HARVESTED_MANIFEST_NOT_FOUND_ON_ENDPOINT" 400 ValidationException ValidationExceptionType HARVESTED_MANIFEST_NOT_FOUND_ON_ENDPOINT \
  create-harvest-job --channel-group-name live --channel-name main --origin-endpoint-name ts --harvest-job-name unknown \
  --harvested-manifests '{"HlsManifests": [{"ManifestName": "nope"}]}' \
  --schedule-configuration "StartTime=$(iso -20),EndTime=$(iso -10)" \
  --destination '{"S3Destination": {"BucketName": "vod", "DestinationPath": "clips/unknown"}}'
refused "a bucket without the grant: HARVEST_JOB_UNABLE_TO_WRITE_TO_S3_DESTINATION" 400 ValidationException ValidationExceptionType HARVEST_JOB_UNABLE_TO_WRITE_TO_S3_DESTINATION \
  create-harvest-job --channel-group-name live --channel-name main --origin-endpoint-name ts --harvest-job-name nogrant \
  --harvested-manifests '{"HlsManifests": [{"ManifestName": "index"}]}' \
  --schedule-configuration "StartTime=$(iso -20),EndTime=$(iso -10)" \
  --destination '{"S3Destination": {"BucketName": "nogrant", "DestinationPath": "clips/nogrant"}}'
refused "an unknown endpoint: ResourceNotFoundException" 404 ResourceNotFoundException ResourceTypeNotFound ORIGIN_ENDPOINT \
  create-harvest-job --channel-group-name live --channel-name main --origin-endpoint-name nope --harvest-job-name x \
  --harvested-manifests '{"HlsManifests": [{"ManifestName": "index"}]}' \
  --schedule-configuration "StartTime=$(iso -20),EndTime=$(iso -10)" \
  --destination '{"S3Destination": {"BucketName": "vod", "DestinationPath": "clips/x"}}'

# The grant goes away while the job waits for its range to end: the job FAILS saying why.
revoked=$(harvest revoked revoked "$(iso -2)" "$(iso 3)")
expect "a job whose range has not ended yet is QUEUED" 'r["Status"] == "QUEUED" and r["Arn"].endswith("/originEndpoint/ts/harvestJob/revoked")' "$revoked"
aws s3api delete-bucket-policy --bucket revoked
# A job cancelled while queued.
queued=$(harvest later vod "$(iso -2)" "$(iso 60)")
mp cancel-harvest-job --channel-group-name live --channel-name main --origin-endpoint-name ts --harvest-job-name later >/dev/null
expect "CancelHarvestJob of a QUEUED job: CANCELLED" 'r["Status"] == "CANCELLED"' \
  "$(mp get-harvest-job --channel-group-name live --channel-name main --origin-endpoint-name ts --harvest-job-name later)"
s=$(wait_status revoked 20 FAILED COMPLETED)
case $s in FAILED*AccessDenied*) ok "the grant removed before the job ran: FAILED ($s)";; *) fail "revoked grant: $s";; esac

# --- the harvest: 20 s that ended 4 s ago, after ~30 s of media ---
now=$(date +%s.%N)
sleep "$(python3 -c "print(max(0, 30 - ($now - $first_media)))")"
# Whole seconds: the AWS CLI sends the schedule's times as whole epoch seconds, so the range the
# service cuts is exactly the one the date-times are checked against.
range=$(python3 -c 'import time; e=int(time.time()-4); print(e-20, e)')
start_s=${range% *}; end_s=${range#* }
to_iso() { python3 -c 'import datetime,sys; print(datetime.datetime.fromtimestamp(float(sys.argv[1]), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))' "$1"; }
t0=$(date +%s.%N)
job=$(harvest game vod "$(to_iso "$start_s")" "$(to_iso "$end_s")")
expect "CreateHarvestJob: QUEUED, its ARN under the endpoint, the schedule as sent" \
  'r["Status"] in ("QUEUED", "IN_PROGRESS") and r["Arn"] == arn + ":channelGroup/live/channel/main/originEndpoint/ts/harvestJob/game" and r["Destination"]["S3Destination"]["BucketName"] == "vod" and r["ETag"]' "$job"
s=$(wait_status game 60 COMPLETED FAILED)
t1=$(date +%s.%N)
took=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
case $s in COMPLETED*) ok "the job COMPLETED in ${took} s";; *) fail "the job: $s";; esac
refused "a duplicate job name: ConflictException" 409 ConflictException ConflictExceptionType RESOURCE_ALREADY_EXISTS \
  create-harvest-job --channel-group-name live --channel-name main --origin-endpoint-name ts --harvest-job-name game \
  --harvested-manifests '{"HlsManifests": [{"ManifestName": "index"}]}' \
  --schedule-configuration "StartTime=$(iso -20),EndTime=$(iso -10)" \
  --destination '{"S3Destination": {"BucketName": "vod", "DestinationPath": "clips/again"}}'
refused "cancelling a COMPLETED job: HARVEST_JOB_INELIGIBLE_FOR_CANCELLATION" 400 ValidationException ValidationExceptionType HARVEST_JOB_INELIGIBLE_FOR_CANCELLATION \
  cancel-harvest-job --channel-group-name live --channel-name main --origin-endpoint-name ts --harvest-job-name game
refused "GetHarvestJob of no job: ResourceNotFoundException HARVEST_JOB" 404 ResourceNotFoundException ResourceTypeNotFound HARVEST_JOB \
  get-harvest-job --channel-group-name live --channel-name main --origin-endpoint-name ts --harvest-job-name nope
expect "ListHarvestJobs: every job of the group" 'sorted(j["HarvestJobName"] for j in r["Items"]) == ["game", "later", "revoked"]' \
  "$(mp list-harvest-jobs --channel-group-name live)"
expect "ListHarvestJobs --status COMPLETED, one per page" '[j["HarvestJobName"] for j in r["Items"]] == ["game"]' \
  "$(mp list-harvest-jobs --channel-group-name live --status COMPLETED --page-size 1)"

# --- the VOD in S3 ---
aws s3 cp --recursive --only-show-errors s3://vod/clips/game "$work/vod"
listing=$(cd "$work/vod" && find . -type f | sort | tr '\n' ' ')
case $listing in *"./index.m3u8"*"./index_v480.m3u8"*"./v480/segment_"*.ts*) ok "aws s3 cp: a master, a media playlist and segments ($(echo "$listing" | wc -w) files)";;
  *) fail "the objects: $listing";; esac
duration=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$work/vod/index.m3u8" 2>&1 || true)
if python3 -c 'import sys; d=float(sys.argv[1]); sys.exit(0 if abs(d - 20) <= 2.1 else 1)' "$duration" 2>/dev/null; then
  ok "ffprobe plays the VOD: ${duration} s (20 s ± one 2 s segment)"
else fail "the VOD's duration: $duration"; fi
streams=$(ffprobe -v error -show_entries stream=codec_name,width -of csv=p=0 "$work/vod/index.m3u8" 2>&1 | sort | tr '\n' ' ')
case $streams in *aac*"h264,854"*) ok "its streams: $streams";; *) fail "its streams: $streams";; esac
if python3 - "$work/vod/index_v480.m3u8" "$start_s" "$end_s" <<'PY'; then ok "VOD tags (PLAYLIST-TYPE VOD, ENDLIST) and every PROGRAM-DATE-TIME within the range"; else fail "the media playlist's tags and date-times"; fi
import datetime, sys
text = open(sys.argv[1]).read()
start, end = float(sys.argv[2]), float(sys.argv[3])
times = [datetime.datetime.fromisoformat(l.split(":", 1)[1].replace("Z", "+00:00")).timestamp()
         for l in text.splitlines() if l.startswith("#EXT-X-PROGRAM-DATE-TIME:")]
segments = [l for l in text.splitlines() if l and not l.startswith("#")]
problems = []
if "#EXT-X-PLAYLIST-TYPE:VOD" not in text: problems.append("no PLAYLIST-TYPE VOD")
if not text.rstrip().endswith("#EXT-X-ENDLIST"): problems.append("no ENDLIST")
if len(times) != len(segments) or not times: problems.append(f"{len(times)} date-times for {len(segments)} segments")
if any(not (start <= t < end) for t in times): problems.append(f"date-times {times} outside [{start}, {end})")
if problems:
    print("; ".join(problems), text, file=sys.stderr)
    sys.exit(1)
PY
master=$(cat "$work/vod/index.m3u8")
case $master in *"#EXT-X-STREAM-INF:"*"index_v480.m3u8"*) ok "the master lists the VOD media playlist";; *) fail "the master: $master";; esac
public=$(python3 -c 'import sys,urllib.request,urllib.error
try: print(urllib.request.urlopen(sys.argv[1]).status)
except urllib.error.HTTPError as e: print(e.code)' "http://$authority/vod/clips/game/index.m3u8")
[ "$public" = 403 ] && ok "the VOD is not public (anonymous GET: 403)" || fail "anonymous GET: $public"

# --- the same range from the CMAF endpoint: HLS and low-latency HLS, fragmented MP4 ---
mp create-harvest-job --channel-group-name live --channel-name main --origin-endpoint-name cmaf \
  --harvest-job-name game-cmaf --schedule-configuration "StartTime=$(to_iso "$start_s"),EndTime=$(to_iso "$end_s")" \
  --harvested-manifests '{"HlsManifests": [{"ManifestName": "index"}], "LowLatencyHlsManifests": [{"ManifestName": "ll"}]}' \
  --destination '{"S3Destination": {"BucketName": "vodcmaf", "DestinationPath": "clips/game"}}' >/dev/null
s=
for _ in $(seq 1 300); do
  s=$(mp get-harvest-job --channel-group-name live --channel-name main --origin-endpoint-name cmaf \
    --harvest-job-name game-cmaf --query '[Status, ErrorMessage]' --output text)
  case $s in COMPLETED* | FAILED*) break;; esac
  sleep 0.2
done
case $s in COMPLETED*) ok "a CMAF endpoint's HLS and low-latency HLS harvest COMPLETED";; *) fail "the CMAF harvest: $s";; esac
aws s3 cp --recursive --only-show-errors s3://vodcmaf/clips/game "$work/vodcmaf"
listing=$(cd "$work/vodcmaf" && find . -type f | sort | tr '\n' ' ')
if [[ $listing == *'./index.m3u8 ./index_v480.m3u8 ./ll.m3u8 ./ll_v480.m3u8 '* && $listing == *./v480/segment_init_*.mp4* &&
  $listing =~ \./v480/segment_[0-9]+\.mp4 ]]; then
  ok "the CMAF VOD: both masters, their media playlists, init and media segments ($(echo "$listing" | wc -w) files)"
else fail "the CMAF objects: $listing"; fi
for m in index ll; do
  duration=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$work/vodcmaf/$m.m3u8" 2>&1 || true)
  streams=$(ffprobe -v error -show_entries stream=codec_name,width -of csv=p=0 "$work/vodcmaf/$m.m3u8" 2>&1 | sort | tr '\n' ' ')
  if python3 -c 'import sys; d=float(sys.argv[1]); sys.exit(0 if abs(d - 20) <= 2.1 else 1)' "$duration" 2>/dev/null &&
    case $streams in *aac*"h264,854"*) true;; *) false;; esac; then
    ok "ffprobe plays the CMAF VOD $m.m3u8: ${duration} s, $streams"
  else fail "the CMAF VOD $m.m3u8: $duration s, $streams"; fi
done
media=$(cat "$work/vodcmaf/index_v480.m3u8")
case $media in *"#EXT-X-VERSION:6"*'#EXT-X-MAP:URI="v480/segment_init_'*"#EXT-X-ENDLIST"*) ok "the CMAF media playlist names its init segment (EXT-X-MAP, version 6)";;
  *) fail "the CMAF media playlist: $media";; esac

ml stop-channel --channel-id "$ml_channel" >/dev/null
stop_pid "$publisher" 5
publisher=
log "harvest of 20 s: ${took} s from CreateHarvestJob to COMPLETED; whole check $(( $(date +%s) - began )) s"
# A client's mistake is a 4xx: a 500 that no injected fault asked for is a failure.
if grep -q "without an injected fault" "$work/stderr"; then
  fail "livestream-local answered 500 without an injected fault: $(grep "without an injected fault" "$work/stderr" | head -3)"
else
  ok "livestream-local answered no 500 that was not injected"
fi
log "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
