# shellcheck shell=bash
# Sourced by every hack/ script: where builds and caches live (outside the clone, so a fresh clone
# on the same machine starts warm; a cold machine simply fills them), logging, and the process and
# port helpers. Set LOG_NAME before sourcing to prefix log lines.
export LIVESTREAM_CACHE=${LIVESTREAM_CACHE:-$HOME/.cache/livestream-operator}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$LIVESTREAM_CACHE/target}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# Tools hack/setup.sh installs from crates.io (mdbook) live in the cache too.
case ":$PATH:" in *":$LIVESTREAM_CACHE/tools/bin:"*) ;; *) export PATH="$LIVESTREAM_CACHE/tools/bin:$PATH" ;; esac

log() { printf '%s: %s\n' "${LOG_NAME:-hack}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# need_livestream_local: the livestream-local binary in LIVESTREAM_LOCAL_BIN; unset, the debug
# build in the cache, brought up to date first (a no-op when it is).
need_livestream_local() {
  if [ -z "${LIVESTREAM_LOCAL_BIN:-}" ]; then
    log "building livestream-local"
    cargo build -q -p livestream-local
    LIVESTREAM_LOCAL_BIN=$CARGO_TARGET_DIR/debug/livestream-local
  fi
  [ -x "$LIVESTREAM_LOCAL_BIN" ] || die "LIVESTREAM_LOCAL_BIN=$LIVESTREAM_LOCAL_BIN is not an executable"
}

# local_admin METHOD URL [curl args...]: a call to livestream-local's admin API (`/_local/*`),
# signed for the `livestream-local` service with LOCAL_ADMIN_KEY (default `local:local`, the key of
# a server started without --credentials, which is its administrator).
local_admin() {
  local method=$1 url=$2
  shift 2
  curl -fsS -X "$method" --aws-sigv4 "aws:amz:${LOCAL_ADMIN_REGION:-us-east-1}:livestream-local" \
    --user "${LOCAL_ADMIN_KEY:-local:local}" "$@" "$url"
}

# alive PIDFILE: the process named in PIDFILE runs.
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pid PID [SECONDS]: TERM, then KILL after SECONDS (default 10); nothing for an empty PID.
stop_pid() {
  local pid=$1 tenths=$((${2:-10} * 10))
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 "$tenths"); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# stop_pidfile PIDFILE [SECONDS]: stop_pid of the process in PIDFILE, then remove PIDFILE.
stop_pidfile() {
  [ -f "$1" ] || return 0
  stop_pid "$(cat "$1")" "${2:-10}"
  rm -f "$1"
}

# free_port: a TCP port on 127.0.0.1 that is free right now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# local_endpoint PID STDOUT LOG: waits up to 20 s for the livestream-local running as PID to print
# where it listens (on STDOUT) and prints that URL; if it exits first, shows LOG and fails.
local_endpoint() {
  local pid=$1 out=$2 err=$3 url=
  for _ in $(seq 1 200); do
    url=$(sed -n 's/^livestream-local listening on //p' "$out")
    [ -n "$url" ] && { echo "$url"; return 0; }
    kill -0 "$pid" 2>/dev/null || { cat "$err" >&2; log "error: livestream-local exited"; return 1; }
    sleep 0.1
  done
  log "error: livestream-local did not say where it listens within 20 s"
  return 1
}
