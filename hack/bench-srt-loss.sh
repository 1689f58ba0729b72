#!/usr/bin/env bash
# Contribution under packet loss: RTMP push beside an SRT listener input of livestream-local, each
# clean and with loss + delay injected on the contribution leg only (iptables → NFQUEUE, verdicts
# given late or DROP by the Python script: this kernel has no tc netem), in a network namespace this
# script creates and deletes. Needs root (ip netns, iptables, ethtool). Arguments go to
# hack/bench_srt_loss.py, e.g.
#   hack/bench-srt-loss.sh                        # 3 runs, 2 % loss, 20 ms delay each way
#   hack/bench-srt-loss.sh --runs 1 --loss 5 --delay 50
# LIVESTREAM_LOCAL_BIN=path skips the build and benchmarks that binary.
set -euo pipefail
LOG_NAME=bench-srt-loss

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

[ "$(id -u)" = 0 ] || { echo "$LOG_NAME: needs root (ip netns, iptables)" >&2; exit 1; }
if ! command -v ffmpeg >/dev/null || ! python3 -c 'import botocore' 2>/dev/null; then
  hack/setup.sh
fi
# shellcheck source=hack/lib.sh
. hack/lib.sh
for tool in ip; do command -v "$tool" >/dev/null || die "$tool is missing (Debian iproute2)"; done
ffmpeg -hide_banner -protocols 2>/dev/null | grep -qx '  srt' || die "this ffmpeg has no libsrt"
need_apt=()
command -v ethtool >/dev/null || need_apt+=(ethtool)
command -v iptables >/dev/null || need_apt+=(iptables)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
need_livestream_local

NS=lsbench-$$
bench_pid=
cleanup() {
  local pid
  trap - EXIT INT TERM
  [ -n "$bench_pid" ] && stop_pid "$bench_pid" 30
  # Anything still in the namespace was started by this benchmark: stop it by pid.
  for pid in $(ip netns pids "$NS" 2>/dev/null); do stop_pid "$pid" 5; done
  ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS"
# The namespace's loopback with an Internet path's MTU and no segmentation offload, so the queue sees
# (and drops) 1500-byte packets as a real path would, not 64 KiB TCP super-packets.
ip netns exec "$NS" ip link set lo mtu 1500 up
ip netns exec "$NS" ethtool -K lo tso off gso off gro off >/dev/null 2>&1 || log "warning: could not turn off offloads on lo"

ip netns exec "$NS" python3 hack/bench_srt_loss.py --binary "$LIVESTREAM_LOCAL_BIN" "$@" &
bench_pid=$!
set +e
wait "$bench_pid"
status=$?
set -e
bench_pid=
exit "$status"
