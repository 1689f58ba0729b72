#!/usr/bin/env bash
# End-to-end check of livestream-local's CloudFront API and edge with the AWS CLI (an independent
# client: botocore's own model, REST-XML serializer and parsers): an origin access control, a
# private bucket whose policy grants s3:GetObject to cloudfront.amazonaws.com scoped by
# AWS:SourceArn, a distribution with tags whose S3 origin uses the OAC and whose custom origins are
# livestream-local itself and a slow HTTP server of this script, the documented refusals
# (DistributionAlreadyExists, InvalidOriginAccessControl, InvalidArgument for an IP origin,
# NoSuchCachePolicy, MalformedXML, PreconditionFailed, InvalidIfMatchVersion,
# DistributionNotDisabled, OriginAccessControlInUse, NoSuchDistribution …), the edge (Miss then
# Hit, Age, Via, X-Amz-Cf-Id, the query strings of the cache key, concurrent misses collapsed
# into one origin request, anonymous direct S3 reads refused, 403 once disabled, the port closed
# once deleted) and its /metrics counters — every answer asserted on.
#
#   hack/check-cloudfront.sh            # builds livestream-local (debug) first
#   LIVESTREAM_LOCAL_BIN=path hack/check-cloudfront.sh
#
# Needs the AWS CLI (hack/setup.sh installs it), curl and python3. Prints "N passed, M failed".
set -euo pipefail
LOG_NAME=check-cloudfront
cd "$(dirname "$0")/.."
. hack/lib.sh

command -v aws >/dev/null || die "the AWS CLI is missing (hack/setup.sh installs it)"
need_livestream_local

started=$(date +%s)
work=$(mktemp -d)
pid=
slow=
cleanup() {
  stop_pid "$pid"
  stop_pid "$slow"
  rm -rf "$work"
}
trap cleanup EXIT

LIVESTREAM_LOCAL_CLOUDFRONT_DEPLOY_SECONDS=5 "$LIVESTREAM_LOCAL_BIN" --listen 127.0.0.1:0 --rtmp-port 0 \
  --data-dir "$work/data" >"$work/stdout" 2>"$work/stderr" &
pid=$!
url=$(local_endpoint "$pid" "$work/stdout" "$work/stderr")
port=${url##*:}
log "livestream-local at $url"

# A slow origin: answers after 1 s, counts its requests (GET /count tells).
slow_port=$(free_port)
python3 - "$slow_port" <<'EOF' &
import http.server, sys, threading, time
count = {"n": 0}
lock = threading.Lock()
class Slow(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/count":
            body = str(count["n"]).encode()
        else:
            with lock:
                count["n"] += 1
            time.sleep(1)
            body = f"slow {self.path}".encode()
        self.send_response(200)
        self.send_header("Cache-Control", "max-age=30")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Slow).serve_forever()
EOF
slow=$!

export AWS_ENDPOINT_URL=$url AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN
# The CLI's own checks of the model are off: what is refused must be refused by the server.
printf '[default]\nparameter_validation = false\n' >"$work/config"
export AWS_CONFIG_FILE=$work/config AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=
account=123456789012

passed=0
failed=0
ok() { passed=$((passed + 1)); log "ok: $1"; }
fail() { failed=$((failed + 1)); log "FAILED: $1"; }

cf() { aws cloudfront --output json "$@"; }

# expect NAME PYTHON-EXPRESSION JSON: the expression holds for `r`, the parsed JSON.
expect() {
  local name=$1 expression=$2 json=$3
  if python3 -c '
import json, sys
r = json.loads(sys.argv[2] or "null")
if not eval(sys.argv[1]):
    print(json.dumps(r, indent=1)[:3000], file=sys.stderr)
    sys.exit(1)
' "$expression" "$json"; then ok "$name"; else fail "$name: $expression"; fi
}

# field JSON PYTHON-EXPRESSION: one value of the parsed JSON `r`.
field() { python3 -c 'import json, sys; r = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

# refused NAME STATUS CODE ARGS...: the call fails with the HTTP status and CloudFront's error code.
refused() {
  local name=$1 status=$2 code=$3
  shift 3
  if aws cloudfront --output json --debug "$@" >"$work/out" 2>"$work/err"; then
    fail "$name: the call succeeded"
    return
  fi
  if python3 -c '
import re, sys
status, code = sys.argv[1:3]
log = open(sys.argv[3]).read()
reported = re.search(r"An error occurred \((\w+)\)", log)
statuses = re.findall(r"\"(?:GET|POST|PUT|DELETE) [^\"]*\" (\d{3})", log)
problems = []
if not reported or reported.group(1) != code:
    problems.append(f"error code {reported and reported.group(1)} (want {code})")
if not statuses or statuses[-1] != status:
    problems.append(f"status {statuses[-1:]} (want {status})")
if problems:
    print("; ".join(problems), file=sys.stderr)
    print("\n".join(l for l in log.splitlines() if "An error occurred" in l), file=sys.stderr)
    sys.exit(1)
' "$status" "$code" "$work/err"; then ok "$name"; else fail "$name"; fi
}

# edge PATH: GET through the edge; headers in $work/h, body in $work/b, prints the status.
edge() { curl -s -D "$work/h" -o "$work/b" -w '%{http_code}' "http://$domain$1"; }
header() { sed -n "s/^$1: //Ip" "$work/h" | tr -d '\r'; }

# --- origin access control ---
oac=$(cf create-origin-access-control --origin-access-control-config \
  Name=player,Description="livestream player bucket",SigningProtocol=sigv4,SigningBehavior=always,OriginAccessControlOriginType=s3)
expect "CreateOriginAccessControl: an E-id, an ETag and the Location" \
  'len(r["OriginAccessControl"]["Id"]) == 14 and r["OriginAccessControl"]["Id"].startswith("E") and r["ETag"] and r["Location"].endswith("/origin-access-control/" + r["OriginAccessControl"]["Id"]) and r["OriginAccessControl"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"' "$oac"
oac_id=$(field "$oac" 'r["OriginAccessControl"]["Id"]')
refused "CreateOriginAccessControl with a name in use" 409 OriginAccessControlAlreadyExists \
  create-origin-access-control --origin-access-control-config Name=player,SigningProtocol=sigv4,SigningBehavior=always,OriginAccessControlOriginType=s3
refused "CreateOriginAccessControl with an unknown signing behaviour" 400 MalformedXML \
  create-origin-access-control --origin-access-control-config Name=x,SigningProtocol=sigv4,SigningBehavior=sometimes,OriginAccessControlOriginType=s3
expect "GetOriginAccessControlConfig" "r['OriginAccessControlConfig']['Name'] == 'player' and r['ETag'] == '$(field "$oac" 'r["ETag"]')'" \
  "$(cf get-origin-access-control-config --id "$oac_id")"

# --- a private bucket, readable only by the distribution ---
aws s3api create-bucket --bucket player >/dev/null
printf '<h1>player</h1>' >"$work/index.html"
aws s3api put-object --bucket player --key index.html --body "$work/index.html" --content-type text/html \
  --cache-control max-age=60 >/dev/null
status=$(curl -s -o /dev/null -w '%{http_code}' "$url/player/index.html")
[ "$status" = 403 ] && ok "an anonymous direct read of the private bucket: 403" || fail "anonymous direct read: $status"

# --- the distribution ---
cat >"$work/dist.json" <<EOF
{"DistributionConfig": {"CallerReference": "check-1", "Comment": "livestream default/show", "Enabled": true,
  "DefaultRootObject": "index.html",
  "Origins": {"Quantity": 3, "Items": [
    {"Id": "player", "DomainName": "player.s3.us-east-1.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""},
     "OriginAccessControlId": "$oac_id"},
    {"Id": "local", "DomainName": "127.0.0.1",
     "CustomOriginConfig": {"HTTPPort": $port, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}},
    {"Id": "slow", "DomainName": "127.0.0.1", "OriginPath": "/media",
     "CustomOriginConfig": {"HTTPPort": $slow_port, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}]},
  "DefaultCacheBehavior": {"TargetOriginId": "player", "ViewerProtocolPolicy": "redirect-to-https",
    "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
  "CacheBehaviors": {"Quantity": 2, "Items": [
    {"PathPattern": "/healthz", "TargetOriginId": "local", "ViewerProtocolPolicy": "allow-all",
     "ForwardedValues": {"QueryString": true, "Cookies": {"Forward": "none"},
       "QueryStringCacheKeys": {"Quantity": 2, "Items": ["_HLS_msn", "_HLS_part"]}},
     "MinTTL": 0, "DefaultTTL": 30, "MaxTTL": 60},
    {"PathPattern": "*.ts", "TargetOriginId": "slow", "ViewerProtocolPolicy": "allow-all",
     "CachePolicyId": "08627262-05a9-4f76-9ded-b50ca2e3a84f"}]}},
 "Tags": {"Items": [{"Key": "livestream", "Value": "default/show"}]}}
EOF
created=$(cf create-distribution-with-tags --distribution-config-with-tags "file://$work/dist.json")
expect "CreateDistributionWithTags: InProgress, an E-id, its ARN, an edge on 127.0.0.1, ETag and Location" \
  "len(r['Distribution']['Id']) == 14 and r['Distribution']['Status'] == 'InProgress' and r['Distribution']['ARN'] == 'arn:aws:cloudfront::$account:distribution/' + r['Distribution']['Id'] and r['Distribution']['DomainName'].startswith('127.0.0.1:') and r['ETag'] and r['Location'].endswith(r['Distribution']['Id']) and r['Distribution']['InProgressInvalidationBatches'] == 0" "$created"
expect "the config comes back with CloudFront's defaults filled in" \
  'c["PriceClass"] == "PriceClass_All" and c["DefaultCacheBehavior"]["AllowedMethods"]["Quantity"] == 2 and c["Origins"]["Items"][0]["OriginAccessControlId"] and c["CacheBehaviors"]["Items"][0]["ForwardedValues"]["QueryStringCacheKeys"]["Items"] == ["_HLS_msn", "_HLS_part"] if (c := r["Distribution"]["DistributionConfig"]) else False' "$created"
id=$(field "$created" 'r["Distribution"]["Id"]')
domain=$(field "$created" 'r["Distribution"]["DomainName"]')
arn=arn:aws:cloudfront::$account:distribution/$id
expect "the same CallerReference with the same config: the same distribution" "r['Distribution']['Id'] == '$id'" \
  "$(cf create-distribution-with-tags --distribution-config-with-tags "file://$work/dist.json")"
variant() { # variant PYTHON-STATEMENT: dist.json changed by the statement on `d` (its DistributionConfig)
  python3 -c '
import json, sys
doc = json.load(open(sys.argv[1])); d = doc["DistributionConfig"]
exec(sys.argv[2])
json.dump(doc, open(sys.argv[3], "w"))' "$work/dist.json" "$1" "$work/variant.json"
}
variant 'd["Comment"] = "another"'
refused "the same CallerReference with another config" 409 DistributionAlreadyExists \
  create-distribution-with-tags --distribution-config-with-tags "file://$work/variant.json"
variant 'd["CallerReference"] = "v"; d["Origins"]["Items"][0]["OriginAccessControlId"] = "E0000000000000"'
refused "an origin access control that does not exist" 400 InvalidOriginAccessControl \
  create-distribution-with-tags --distribution-config-with-tags "file://$work/variant.json"
variant 'd["CallerReference"] = "v"; d["Origins"]["Items"][1]["DomainName"] = "10.0.0.1"'
refused "an IP address as origin (only 127.0.0.1 is accepted locally)" 400 InvalidArgument \
  create-distribution-with-tags --distribution-config-with-tags "file://$work/variant.json"
variant 'd["CallerReference"] = "v"; d["DefaultCacheBehavior"]["CachePolicyId"] = "00000000-1111-2222-3333-444444444444"'
refused "a cache policy that does not exist" 404 NoSuchCachePolicy \
  create-distribution-with-tags --distribution-config-with-tags "file://$work/variant.json"
variant 'd["CallerReference"] = "v"; del d["Enabled"]'
refused "a config without the required Enabled" 400 MalformedXML \
  create-distribution-with-tags --distribution-config-with-tags "file://$work/variant.json"
variant 'd["CallerReference"] = "v"; d["Origins"]["Quantity"] = 2'
refused "a Quantity that is not the number of Items" 400 InconsistentQuantities \
  create-distribution-with-tags --distribution-config-with-tags "file://$work/variant.json"
variant 'd["CallerReference"] = "v"; d["Aliases"] = {"Quantity": 1, "Items": ["live.example.com"]}'
refused "an alias without a certificate that covers it" 400 InvalidViewerCertificate \
  create-distribution-with-tags --distribution-config-with-tags "file://$work/variant.json"
variant 'd["CallerReference"] = "v"; d["DefaultCacheBehavior"]["LambdaFunctionAssociations"] = {"Quantity": 1, "Items": [{"LambdaFunctionARN": "arn:aws:lambda:us-east-1:123456789012:function:edge", "EventType": "viewer-request"}]}'
refused "a Lambda@Edge function without its version" 400 InvalidLambdaFunctionAssociation \
  create-distribution-with-tags --distribution-config-with-tags "file://$work/variant.json"
variant 'd["CallerReference"] = "v"; d["Origins"]["Items"][1]["CustomOriginConfig"]["OriginReadTimeout"] = 61'
refused "an origin read timeout past the default quota of 60 s" 400 InvalidOriginReadTimeout \
  create-distribution-with-tags --distribution-config-with-tags "file://$work/variant.json"
variant 'd["CallerReference"] = "v"; d["DefaultRootObject"] = "x" * 256'
refused "a default root object of 256 characters" 400 InvalidDefaultRootObject \
  create-distribution-with-tags --distribution-config-with-tags "file://$work/variant.json"
variant 'd["CallerReference"] = "v"; d["Origins"]["Items"][0]["DomainName"] = "player.s3-website-us-east-1.amazonaws.com"'
refused "an S3 origin whose domain is a website endpoint" 400 InvalidArgument \
  create-distribution-with-tags --distribution-config-with-tags "file://$work/variant.json"
variant 'd["CallerReference"] = "v"; d["OriginGroups"] = {"Quantity": 1, "Items": [{"Id": "group", "FailoverCriteria": {"StatusCodes": {"Quantity": 1, "Items": [502]}}, "Members": {"Quantity": 2, "Items": [{"OriginId": "player"}, {"OriginId": "nowhere"}]}}]}; d["DefaultCacheBehavior"]["TargetOriginId"] = "group"'
refused "an origin group with a member that is no origin" 404 NoSuchOrigin \
  create-distribution-with-tags --distribution-config-with-tags "file://$work/variant.json"

# The bucket policy AWS's console proposes for an OAC.
cat >"$work/policy.json" <<EOF
{"Version": "2012-10-17", "Statement": [{"Sid": "AllowCloudFrontServicePrincipal", "Effect": "Allow",
  "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::player/*",
  "Condition": {"StringEquals": {"AWS:SourceArn": "$arn"}}}]}
EOF
aws s3api put-bucket-policy --bucket player --policy "file://$work/policy.json"
status=$(curl -s -o /dev/null -w '%{http_code}' "$url/player/index.html")
[ "$status" = 403 ] && ok "with the OAC policy, anonymous direct reads stay refused: 403" || fail "anonymous direct read: $status"

# --- deployed ---
deployed=
for _ in $(seq 1 100); do
  [ "$(cf get-distribution --id "$id" --query Distribution.Status --output text)" = Deployed ] && { deployed=1; break; }
  sleep 0.2
done
[ -n "$deployed" ] && ok "Status becomes Deployed (LIVESTREAM_LOCAL_CLOUDFRONT_DEPLOY_SECONDS=5)" || fail "never Deployed"
aws cloudfront wait distribution-deployed --id "$id" && ok "aws cloudfront wait distribution-deployed" || fail "the waiter"

# --- the edge ---
s1=$(edge /index.html); x1=$(header x-cache); s2=$(edge /index.html); x2=$(header x-cache)
[ "$s1 $s2" = "200 200" ] && grep -q player "$work/b" && ok "the object through the edge (OAC-signed origin request): 200" || fail "edge statuses $s1 $s2"
[ "$x1|$x2" = "Miss from cloudfront|Hit from cloudfront" ] && ok "X-Cache: Miss, then Hit" || fail "X-Cache: $x1 | $x2"
[ -n "$(header age)" ] && header via | grep -q 'cloudfront.net (CloudFront)' && [ -n "$(header x-amz-cf-id)" ] &&
  ok "a hit carries Age, Via and X-Amz-Cf-Id" || fail "headers: $(tr -d '\r' <"$work/h" | tr '\n' ' ')"
[ "$(edge /)" = 200 ] && grep -q player "$work/b" && ok "/ is the DefaultRootObject" || fail "the default root object"
missing=$(edge /nothing.html)
case $missing in 403 | 404) [ "$(header x-cache)" = "Error from cloudfront" ] && ok "a missing object: S3's error, Error from cloudfront" || fail "X-Cache of a missing object" ;;
  *) fail "a missing object: $missing" ;; esac

edge '/healthz?_HLS_msn=1&token=a' >/dev/null; a=$(header x-cache)
edge '/healthz?token=b&_HLS_msn=1' >/dev/null; b=$(header x-cache)
edge '/healthz?_HLS_msn=2' >/dev/null; c=$(header x-cache)
[ "$a|$b|$c" = "Miss from cloudfront|Hit from cloudfront|Miss from cloudfront" ] &&
  ok "the cache key holds only QueryStringCacheKeys (_HLS_msn), other query strings do not split it" || fail "query keys: $a | $b | $c"
grep -qx ok "$work/b" && ok "the custom origin 127.0.0.1:<port> (livestream-local itself) answers through the edge" || fail "custom origin body"

curls=()
for i in $(seq 1 10); do curl -s -o "$work/c$i" "http://$domain/live/1.ts" & curls+=($!); done
for j in "${curls[@]}"; do wait "$j" || true; done
count=$(curl -s "http://127.0.0.1:$slow_port/count")
[ "$count" = 1 ] && grep -q "slow /media/live/1.ts" "$work/c7" &&
  ok "10 concurrent misses for one key: one origin request (OriginPath prefixed)" || fail "collapsing: $count origin requests"
[ "$(edge /live/1.ts)" = 200 ] && [ "$(header x-cache)" = "Hit from cloudfront" ] && ok "then a hit" || fail "after collapsing"

metrics=$(curl -s "$url/metrics")
if grep -q "livestream_local_cloudfront_origin_requests_by_path_total{distribution=\"$id\",path=\"/live/1.ts\"} 1" <<<"$metrics" &&
  grep -q "livestream_local_cloudfront_hits_total{distribution=\"$id\"} [1-9]" <<<"$metrics"; then
  ok "/metrics counts requests, hits, misses and origin requests by path"
else fail "metrics: $(grep cloudfront <<<"$metrics" | head -20)"; fi

# --- listing and tags ---
expect "ListDistributions: the orphan search by Comment finds it" \
  "[d['Id'] for d in r['DistributionList']['Items'] if d['Comment'] == 'livestream default/show'] == ['$id']" "$(cf list-distributions)"
expect "ListDistributions MaxItems 1: one item, not truncated with one distribution" \
  'r["DistributionList"]["Quantity"] == 1 and r["DistributionList"]["IsTruncated"] is False' "$(cf list-distributions --no-paginate --max-items 1)"
expect "ListTagsForResource" 'r["Tags"]["Items"] == [{"Key": "livestream", "Value": "default/show"}]' \
  "$(cf list-tags-for-resource --resource "$arn")"
cf tag-resource --resource "$arn" --tags 'Items=[{Key=team,Value=video}]'
cf untag-resource --resource "$arn" --tag-keys 'Items=[livestream]'
expect "TagResource then UntagResource" 'r["Tags"]["Items"] == [{"Key": "team", "Value": "video"}]' \
  "$(cf list-tags-for-resource --resource "$arn")"
refused "ListTagsForResource of a distribution that does not exist" 404 NoSuchResource \
  list-tags-for-resource --resource "arn:aws:cloudfront::$account:distribution/E0000000000000"

# --- update with the ETag ---
config=$(cf get-distribution-config --id "$id")
etag=$(field "$config" 'r["ETag"]')
python3 -c 'import json, sys; c = json.loads(sys.argv[1])["DistributionConfig"]; c["Comment"] = "livestream default/show (updated)"; json.dump(c, open(sys.argv[2], "w"))' "$config" "$work/update.json"
updated=$(cf update-distribution --id "$id" --if-match "$etag" --distribution-config "file://$work/update.json")
expect "UpdateDistribution with the ETag: a new ETag, InProgress again" \
  "r['ETag'] != '$etag' and r['Distribution']['Status'] == 'InProgress' and r['Distribution']['DistributionConfig']['Comment'].endswith('(updated)')" "$updated"
refused "UpdateDistribution with a stale ETag" 412 PreconditionFailed \
  update-distribution --id "$id" --if-match "$etag" --distribution-config "file://$work/update.json"
refused "UpdateDistribution without If-Match" 400 InvalidIfMatchVersion \
  update-distribution --id "$id" --distribution-config "file://$work/update.json"
etag=$(field "$updated" 'r["ETag"]')
refused "DeleteDistribution while enabled" 409 DistributionNotDisabled delete-distribution --id "$id" --if-match "$etag"
refused "DeleteOriginAccessControl while a distribution uses it" 409 OriginAccessControlInUse \
  delete-origin-access-control --id "$oac_id" --if-match "$(cf get-origin-access-control --id "$oac_id" --query ETag --output text)"

# --- disable, wait, delete ---
python3 -c 'import json, sys; c = json.load(open(sys.argv[1])); c["Enabled"] = False; json.dump(c, open(sys.argv[1], "w"))' "$work/update.json"
disabled=$(cf update-distribution --id "$id" --if-match "$etag" --distribution-config "file://$work/update.json")
etag=$(field "$disabled" 'r["ETag"]')
refused "DeleteDistribution of a disabled distribution not yet Deployed" 409 DistributionNotDisabled \
  delete-distribution --id "$id" --if-match "$etag"
[ "$(edge /index.html)" = 403 ] && ok "a disabled distribution's edge answers 403" || fail "disabled edge"
# (5 s of deployment: long enough that the refusal above holds on a loaded machine, where each AWS
# CLI call takes a second or more.)
for _ in $(seq 1 100); do
  [ "$(cf get-distribution --id "$id" --query Distribution.Status --output text)" = Deployed ] && break
  sleep 0.2
done
cf delete-distribution --id "$id" --if-match "$etag" && ok "DeleteDistribution once disabled and Deployed" || fail "DeleteDistribution"
refused "GetDistribution after DeleteDistribution" 404 NoSuchDistribution get-distribution --id "$id"
curl -s -m 2 -o /dev/null "http://$domain/index.html" && fail "the edge still listens" || ok "the edge's port is closed"
refused "DeleteOriginAccessControl without If-Match" 400 InvalidIfMatchVersion delete-origin-access-control --id "$oac_id"
cf delete-origin-access-control --id "$oac_id" --if-match "$(cf get-origin-access-control --id "$oac_id" --query ETag --output text)" &&
  ok "DeleteOriginAccessControl once unused" || fail "DeleteOriginAccessControl"
refused "GetOriginAccessControl after its delete" 404 NoSuchOriginAccessControl get-origin-access-control --id "$oac_id"
expect "ListDistributions after deleting it" 'r["DistributionList"]["Quantity"] == 0' "$(cf list-distributions --no-paginate)"

# A client's mistake is a 4xx: a 500 that no injected fault asked for is a failure.
if grep -q "without an injected fault" "$work/stderr"; then
  fail "livestream-local answered 500 without an injected fault: $(grep "without an injected fault" "$work/stderr" | head -3)"
else
  ok "livestream-local answered no 500 that was not injected"
fi
echo "$passed passed, $failed failed in $(($(date +%s) - started)) s"
[ "$failed" -eq 0 ]
