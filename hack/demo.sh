#!/usr/bin/env bash
# The whole local stack in one command: a real control plane, the LiveStream CRD, the operator, and
# examples/livestream.yaml applied.
#
#   hack/demo.sh          bring everything up, show `kubectl get lvs`, follow the operator's log;
#                         Ctrl-C stops everything
#   hack/demo.sh up       bring everything up and return (leave it running)
#   hack/demo.sh down     stop everything `up` started
#
# State lives in $LIVESTREAM_DEMO_DIR (default ~/.cache/livestream-operator/demo). Set
# LIVESTREAM_OPERATOR_BIN to use an already built operator binary instead of `cargo build`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${LIVESTREAM_CACHE:-$HOME/.cache/livestream-operator}
DIR=${LIVESTREAM_DEMO_DIR:-$CACHE/demo}
CP=$DIR/control-plane

log() { printf 'demo: %s\n' "$*" >&2; }

operator_bin() {
  if [ -n "${LIVESTREAM_OPERATOR_BIN:-}" ]; then
    echo "$LIVESTREAM_OPERATOR_BIN"
    return
  fi
  "$ROOT/hack/setup.sh" >&2
  # shellcheck source=hack/env.sh
  . "$ROOT/hack/env.sh"
  log "building the operator"
  (cd "$ROOT" && cargo build --quiet --bin livestream-operator >&2)
  echo "$CARGO_TARGET_DIR/debug/livestream-operator"
}

up() {
  local bin
  bin=$(operator_bin)
  mkdir -p "$DIR"
  "$ROOT/hack/control-plane.sh" up --dir "$CP"
  eval "$("$ROOT/hack/control-plane.sh" env --dir "$CP")"
  kubectl apply --server-side -f "$ROOT/crds/livestream.yaml" >/dev/null
  kubectl wait --for condition=Established --timeout 60s crd/livestreams.media.livestream.io >/dev/null
  if ! { [ -f "$DIR/operator.pid" ] && kill -0 "$(cat "$DIR/operator.pid")" 2>/dev/null; }; then
    setsid "$bin" run >"$DIR/operator.log" 2>&1 </dev/null &
    echo $! >"$DIR/operator.pid"
  fi
  kubectl apply -f "$ROOT/examples/livestream.yaml"
  for _ in $(seq 1 100); do
    grep -q 'observed LiveStream' "$DIR/operator.log" && break
    kill -0 "$(cat "$DIR/operator.pid")" 2>/dev/null || { cat "$DIR/operator.log" >&2; log "the operator exited"; exit 1; }
    sleep 0.2
  done
  grep -q 'observed LiveStream' "$DIR/operator.log" || { cat "$DIR/operator.log" >&2; log "the operator did not see the LiveStream"; exit 1; }
  echo
  kubectl get livestreams -o wide
  cat <<EOF

The stack is up. In another shell:
  eval "\$(hack/control-plane.sh env --dir $CP)"
  kubectl get lvs
  kubectl patch lvs launch-event --type merge -p '{"spec":{"running":true}}'
Operator log: $DIR/operator.log
EOF
}

down() {
  if [ -f "$DIR/operator.pid" ]; then
    local pid
    pid=$(cat "$DIR/operator.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$DIR/operator.pid"
  fi
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
