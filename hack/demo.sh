#!/usr/bin/env bash
# The whole local stack in one command: a real control plane, the LiveStream CRD, livestream-local
# (the local AWS media cloud), the operator pointed at it, examples/livestream.yaml applied and
# started, a moving test pattern with a clock pushed to it, and the player page's URL printed.
#
#   hack/demo.sh          all of that, then follow the operator's log; Ctrl-C stops everything
#   hack/demo.sh --obs    the same, but instead of the test pattern print the OBS settings and wait
#                         for you to "Start Streaming" from OBS
#   hack/demo.sh up [--obs]   bring everything up and return (leave it running)
#   hack/demo.sh down     stop everything `up` started
#
# State lives in $LIVESTREAM_DEMO_DIR (default ~/.cache/livestream-operator/demo). Set
# LIVESTREAM_OPERATOR_BIN and LIVESTREAM_LOCAL_BIN to use already built binaries instead of
# `cargo build`. livestream-local listens on $LIVESTREAM_LOCAL_LISTEN (default 127.0.0.1:4580) with
# RTMP from port $LIVESTREAM_LOCAL_RTMP_PORT (default 1935).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOG_NAME=demo
# shellcheck source=hack/lib.sh
. "$ROOT/hack/lib.sh"
DIR=${LIVESTREAM_DEMO_DIR:-$LIVESTREAM_CACHE/demo}
CP=$DIR/control-plane

# Prints the operator and livestream-local binaries, building them unless given.
binaries() {
  if [ -n "${LIVESTREAM_OPERATOR_BIN:-}" ] && [ -n "${LIVESTREAM_LOCAL_BIN:-}" ]; then
    echo "$LIVESTREAM_OPERATOR_BIN $LIVESTREAM_LOCAL_BIN"
    return
  fi
  "$ROOT/hack/setup.sh" >&2
  log "building the operator and livestream-local"
  (cd "$ROOT" && cargo build --quiet --workspace --bins >&2)
  echo "$CARGO_TARGET_DIR/debug/livestream-operator $CARGO_TARGET_DIR/debug/livestream-local"
}

up() {
  local operator local_cloud endpoint=""
  read -r operator local_cloud <<<"$(binaries)"
  mkdir -p "$DIR"
  "$ROOT/hack/control-plane.sh" up --dir "$CP"
  eval "$("$ROOT/hack/control-plane.sh" env --dir "$CP")"
  kubectl apply --server-side -f "$ROOT/crds/livestream.yaml" >/dev/null
  kubectl wait --for condition=Established --timeout 60s crd/livestreams.media.livestream.io >/dev/null
  if ! alive "$DIR/local.pid"; then
    setsid "$local_cloud" --data-dir "$DIR/local-data" >"$DIR/local.out" 2>"$DIR/local.log" </dev/null &
    echo $! >"$DIR/local.pid"
  fi
  endpoint=$(local_endpoint "$(cat "$DIR/local.pid")" "$DIR/local.out" "$DIR/local.log")
  # The player pages' bucket stays private (Block Public Access on, as on every new AWS bucket):
  # viewers reach the page and the stream through the stream's CloudFront distribution, which
  # livestream-local serves as a local edge. The operator signs with livestream-local's own key
  # (its administrator, as no --credentials file is given), whatever AWS credentials this shell
  # holds: it verifies every signature, as AWS does.
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
  unset AWS_SESSION_TOKEN AWS_PROFILE
  if ! alive "$DIR/operator.pid"; then
    AWS_ENDPOINT_URL=$endpoint LIVESTREAM_MEDIALIVE_ROLE_ARN=arn:aws:iam::123456789012:role/MediaLiveAccessRole \
      setsid "$operator" run --transition-requeue-seconds 1 --website-bucket livestream-player \
      >"$DIR/operator.log" 2>&1 </dev/null &
    echo $! >"$DIR/operator.pid"
  fi
  kubectl apply -f "$ROOT/examples/livestream.yaml"
  if ! kubectl wait --for condition=Ready --timeout 90s lvs/launch-event >/dev/null; then
    tail -20 "$DIR/operator.log" >&2
    log "the LiveStream did not become Ready"
    exit 1
  fi
  # Start the channel (billing starts on AWS; here it starts an encoder).
  kubectl patch lvs launch-event --type merge -p '{"spec":{"running":true}}' >/dev/null
  kubectl wait --for jsonpath='{.status.state}'=RUNNING --timeout 120s lvs/launch-event >/dev/null
  local ingest player
  ingest=$(kubectl get lvs launch-event -o jsonpath='{.status.ingestUrl}')
  player=$(kubectl get lvs launch-event -o jsonpath='{.status.websiteUrl}')
  if $OBS; then
    cat <<EOF

OBS → Settings → Stream: Service "Custom…", Server "${ingest%/*}", Stream Key "${ingest##*/}"
(only publishers from spec.input.allowedCidrs are accepted). Then press "Start Streaming".
EOF
  elif ! alive "$DIR/publisher.pid"; then
    # A moving test pattern with the wall clock burnt in, so the player's latency can be read off.
    local clock="drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
    clock+=":text='%{localtime\:%H\\\\\:%M\\\\\:%S}':fontsize=96:fontcolor=white:box=1:boxcolor=black@0.6"
    clock+=":x=(w-tw)/2:y=h-th-60"
    setsid ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=1280x720:rate=30 \
      -f lavfi -i sine=frequency=440:sample_rate=48000 -vf "$clock" -c:v libx264 -preset ultrafast \
      -g 30 -pix_fmt yuv420p -c:a aac -b:a 128k -f flv "$ingest" >"$DIR/publisher.log" 2>&1 </dev/null &
    echo $! >"$DIR/publisher.pid"
  fi
  # The kubectl plugin is the operator binary under another name.
  mkdir -p "$DIR/bin" && ln -sf "$operator" "$DIR/bin/kubectl-livestream"
  echo
  kubectl get livestreams -o wide
  cat <<EOF

The stack is up and live: livestream-local (AWS APIs) at $endpoint.
  Player:   $player   (open it in a browser; the first segments arrive after ~10 s)
  Ingest:   $ingest
In another shell:
  eval "\$(hack/control-plane.sh env --dir $CP)"
  kubectl get lvs -o wide
  export PATH=$DIR/bin:\$PATH AWS_ENDPOINT_URL=$endpoint AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
  kubectl livestream status launch-event
  kubectl livestream thumbnail launch-event -o frame.jpg
  kubectl livestream stop launch-event
Operator log: $DIR/operator.log
EOF
}

down() {
  stop_pidfile "$DIR/publisher.pid" 5
  stop_pidfile "$DIR/operator.pid" 5
  stop_pidfile "$DIR/local.pid" 5
  "$ROOT/hack/control-plane.sh" down --dir "$CP"
  rm -rf "$DIR"
  log "stopped"
}

OBS=false
case ${1:-} in
  up) [ "${2:-}" = --obs ] && OBS=true; up ;;
  down) down ;;
  "" | --obs)
    [ "${1:-}" = --obs ] && OBS=true
    trap down EXIT
    trap 'exit 0' INT TERM
    up
    echo "Following the operator log; Ctrl-C stops everything."
    tail -n +1 -f "$DIR/operator.log"
    ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
