#!/usr/bin/env bash
# The whole local stack in one command: a real control plane, the LiveStream CRD, livestream-local
# (the local AWS media cloud), the operator pointed at it, and examples/livestream.yaml applied.
#
#   hack/demo.sh          bring everything up, show `kubectl get lvs`, follow the operator's log;
#                         Ctrl-C stops everything
#   hack/demo.sh up       bring everything up and return (leave it running)
#   hack/demo.sh down     stop everything `up` started
#
# State lives in $LIVESTREAM_DEMO_DIR (default ~/.cache/livestream-operator/demo). Set
# LIVESTREAM_OPERATOR_BIN and LIVESTREAM_LOCAL_BIN to use already built binaries instead of
# `cargo build`. livestream-local listens on $LIVESTREAM_LOCAL_LISTEN (default 127.0.0.1:4580) with
# RTMP from port $LIVESTREAM_LOCAL_RTMP_PORT (default 1935).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${LIVESTREAM_CACHE:-$HOME/.cache/livestream-operator}
DIR=${LIVESTREAM_DEMO_DIR:-$CACHE/demo}
CP=$DIR/control-plane

log() { printf 'demo: %s\n' "$*" >&2; }

# Prints the operator and livestream-local binaries, building them unless given.
binaries() {
  if [ -n "${LIVESTREAM_OPERATOR_BIN:-}" ] && [ -n "${LIVESTREAM_LOCAL_BIN:-}" ]; then
    echo "$LIVESTREAM_OPERATOR_BIN $LIVESTREAM_LOCAL_BIN"
    return
  fi
  "$ROOT/hack/setup.sh" >&2
  # shellcheck source=hack/env.sh
  . "$ROOT/hack/env.sh"
  log "building the operator and livestream-local"
  (cd "$ROOT" && cargo build --quiet --workspace --bins >&2)
  echo "$CARGO_TARGET_DIR/debug/livestream-operator $CARGO_TARGET_DIR/debug/livestream-local"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

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
  for _ in $(seq 1 100); do
    endpoint=$(sed -n 's/^livestream-local listening on //p' "$DIR/local.out")
    [ -n "$endpoint" ] && break
    alive "$DIR/local.pid" || { cat "$DIR/local.log" >&2; log "livestream-local exited"; exit 1; }
    sleep 0.1
  done
  [ -n "$endpoint" ] || { log "livestream-local did not start"; exit 1; }
  if ! alive "$DIR/operator.pid"; then
    AWS_ENDPOINT_URL=$endpoint LIVESTREAM_MEDIALIVE_ROLE_ARN=arn:aws:iam::123456789012:role/MediaLiveAccessRole \
      setsid "$operator" run --transition-requeue-seconds 1 >"$DIR/operator.log" 2>&1 </dev/null &
    echo $! >"$DIR/operator.pid"
  fi
  kubectl apply -f "$ROOT/examples/livestream.yaml"
  if ! kubectl wait --for condition=Ready --timeout 90s lvs/launch-event >/dev/null; then
    tail -20 "$DIR/operator.log" >&2
    log "the LiveStream did not become Ready"
    exit 1
  fi
  echo
  kubectl get livestreams -o wide
  cat <<EOF

The stack is up: livestream-local (AWS APIs) at $endpoint. In another shell:
  eval "\$(hack/control-plane.sh env --dir $CP)"
  kubectl get lvs
  kubectl patch lvs launch-event --type merge -p '{"spec":{"running":true}}'
Operator log: $DIR/operator.log
EOF
}

# stop PIDFILE: TERM, then KILL after 5 s.
stop() {
  [ -f "$1" ] || return 0
  local pid
  pid=$(cat "$1")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$1"
}

down() {
  stop "$DIR/operator.pid"
  stop "$DIR/local.pid"
  "$ROOT/hack/control-plane.sh" down --dir "$CP"
  rm -rf "$DIR"
  log "stopped"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  "")
    trap down EXIT
    trap 'exit 0' INT TERM
    up
    echo "Following the operator log; Ctrl-C stops everything."
    tail -n +1 -f "$DIR/operator.log"
    ;;
  *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
