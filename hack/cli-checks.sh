# shellcheck shell=bash
# Sourced by the AWS CLI check scripts (check-mediapackagev2.sh, check-harvest.sh) once they have
# set `work` (a temporary directory) and `pid` (empty) and trapped their cleanup: starts
# livestream-local (LIVESTREAM_LOCAL_BIN) on free ports, points the AWS CLI at it with its own key,
# and defines the checks: ok / fail (counted in `passed` / `failed`), mp (the mediapackagev2 CLI),
# expect (a Python expression over a JSON answer), refused (a call failing with AWS's status,
# error type and typed member), v2_channel_json (a MediaLive channel into MediaPackage v2), ml (the
# medialive CLI), start_ml_channel and push_test_pattern.
"$LIVESTREAM_LOCAL_BIN" --listen 127.0.0.1:0 --rtmp-port 0 --data-dir "$work/data" >"$work/stdout" 2>"$work/stderr" &
pid=$!
url=$(local_endpoint "$pid" "$work/stdout" "$work/stderr")
authority=${url#http://}
log "livestream-local at $url"

export AWS_ENDPOINT_URL=$url AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN
# The CLI's own checks of the model's ranges are off: what is refused must be refused by the server;
# S3 path-style, as livestream-local's bucket names are no host names.
printf '[default]\nparameter_validation = false\ns3 =\n  addressing_style = path\n' >"$work/config"
export AWS_CONFIG_FILE=$work/config AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=
arn=arn:aws:mediapackagev2:us-east-1:123456789012

passed=0
failed=0
ok() { passed=$((passed + 1)); log "ok: $1"; }
fail() { failed=$((failed + 1)); log "FAILED: $1"; }

# mp ARGS...: the CLI's JSON answer on stdout (fails the check when the call fails).
mp() { aws mediapackagev2 --output json "$@"; }

# expect NAME PYTHON-EXPRESSION JSON: the expression holds for `r`, the parsed JSON.
expect() {
  local name=$1 expression=$2 json=$3
  if python3 -c '
import json, sys
r = json.loads(sys.argv[2] or "null")
authority, arn = sys.argv[3], sys.argv[4]
if not eval(sys.argv[1]):
    print(json.dumps(r, indent=1), file=sys.stderr)
    sys.exit(1)
' "$expression" "$json" "$authority" "$arn"; then ok "$name"; else fail "$name: $expression"; fi
}

# refused NAME STATUS ERROR-TYPE TYPE-MEMBER TYPE-VALUE ARGS...: the call fails with the HTTP
# status, the error type as the CLI reports it, and the typed member (ValidationExceptionType ...)
# in the body botocore parsed (from --debug's "Response body").
refused() {
  local name=$1 status=$2 error=$3 member=$4 value=$5
  shift 5
  if aws mediapackagev2 --output json --debug "$@" >"$work/out" 2>"$work/err"; then
    fail "$name: the call succeeded"
    return
  fi
  if python3 -c '
import ast, json, re, sys
status, error, member, value = sys.argv[1:5]
log = open(sys.argv[5]).read()
reported = re.search(r"An error occurred \((\w+)\)", log)
codes = re.findall(r"Response headers: .*?\n.*?Response body:\n(b.*)\n", log)
statuses = re.findall(r"\"(?:GET|POST|PUT|DELETE) [^\"]*\" (\d{3})", log)
body = json.loads(ast.literal_eval(codes[-1]).decode()) if codes else {}
problems = []
if not reported or reported.group(1) != error:
    problems.append(f"error type {reported and reported.group(1)} (want {error})")
if not statuses or statuses[-1] != status:
    problems.append(f"status {statuses[-1:] } (want {status})")
if member and body.get(member) != value:
    problems.append(f"{member}={body.get(member)} (want {value})")
if "Message" not in body:
    problems.append("no Message in the body")
if problems:
    print("; ".join(problems), body, file=sys.stderr)
    sys.exit(1)
' "$status" "$error" "$member" "$value" "$work/err"; then ok "$name"; else fail "$name"; fi
}

# v2_channel_json NAME HEIGHT WIDTH HEIGHT BITRATE INPUT_ID: a one-rendition MediaLive channel
# (video description v<HEIGHT>, output <HEIGHT>p)
# (H.264 + AAC, GOP 2 s) from the RTMP input into the v2 channel live/main, as CreateChannel's
# --cli-input-json.
v2_channel_json() {
  python3 - "$@" <<'PY'
import json, sys
name, rendition, width, height, bitrate, input_id = sys.argv[1:7]  # rendition: the height
video = {"Name": "v" + rendition, "Width": int(width), "Height": int(height), "CodecSettings": {"H264Settings": {
    "Bitrate": int(bitrate), "RateControlMode": "CBR", "FramerateControl": "SPECIFIED", "FramerateNumerator": 30,
    "FramerateDenominator": 1, "ParControl": "SPECIFIED", "ParNumerator": 1, "ParDenominator": 1,
    "GopSize": 2, "GopSizeUnits": "SECONDS"}}}
audio = {"Name": "aac", "AudioSelectorName": "default", "CodecSettings": {"AacSettings": {"Bitrate": 128000, "SampleRate": 48000}}}
print(json.dumps({
    "Name": name, "ChannelClass": "SINGLE_PIPELINE",
    "RoleArn": "arn:aws:iam::123456789012:role/MediaLiveAccessRole",
    "InputSpecification": {"Codec": "AVC", "Resolution": "HD", "MaximumBitrate": "MAX_20_MBPS"},
    "InputAttachments": [{"InputId": input_id, "InputAttachmentName": "rtmp",
                          "InputSettings": {"AudioSelectors": [{"Name": "default"}]}}],
    "Destinations": [{"Id": "mp", "MediaPackageSettings": [{"ChannelGroup": "live", "ChannelName": "main"}]}],
    "EncoderSettings": {
        "TimecodeConfig": {"Source": "EMBEDDED"}, "VideoDescriptions": [video], "AudioDescriptions": [audio],
        "OutputGroups": [{"Name": "mediapackage", "OutputGroupSettings": {"MediaPackageGroupSettings": {"Destination": {"DestinationRefId": "mp"}}},
                          "Outputs": [{"OutputName": rendition + "p", "VideoDescriptionName": "v" + rendition, "AudioDescriptionNames": ["aac"],
                                       "OutputSettings": {"MediaPackageOutputSettings": {}}}]}]}}))
PY
}

# ml ARGS...: the MediaLive CLI's JSON answer on stdout.
ml() { aws medialive --output json "$@"; }

# start_ml_channel JSON-FILE: creates the MediaLive channel JSON-FILE describes, waits for IDLE,
# starts it and waits for RUNNING (10 s each at most); prints its id.
start_ml_channel() {
  local id
  id=$(ml create-channel --cli-input-json "file://$1" --query Channel.Id --output text)
  for _ in $(seq 1 100); do
    [ "$(ml describe-channel --channel-id "$id" --query State --output text)" = IDLE ] && break; sleep 0.1
  done
  ml start-channel --channel-id "$id" >/dev/null
  for _ in $(seq 1 100); do
    [ "$(ml describe-channel --channel-id "$id" --query State --output text)" = RUNNING ] && break; sleep 0.1
  done
  echo "$id"
}

# push_test_pattern URL SIZE SECONDS: ffmpeg pushes a moving test pattern of SIZE with a tone to URL
# for SECONDS, in the background (its log in $work/ffmpeg.log); $! is its pid.
push_test_pattern() {
  ffmpeg -hide_banner -loglevel error -re -f lavfi -i "testsrc2=size=$2:rate=30" \
    -f lavfi -i sine=frequency=440:sample_rate=48000 -t "$3" -c:v libx264 -preset ultrafast -g 30 -pix_fmt yuv420p \
    -c:a aac -b:a 128k -f flv "$1" >"$work/ffmpeg.log" 2>&1 &
}
