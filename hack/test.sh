#!/usr/bin/env bash
# The whole test suite, as CI runs it: lint, unit tests, and integration tests against a real
# kube-apiserver + etcd that this script starts on free ports and stops (by process id) on exit.
# Extra arguments go to `cargo test` (e.g. `hack/test.sh admission` runs the admission tests only).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
hack/setup.sh
# shellcheck source=hack/lib.sh
. hack/lib.sh

step() { printf '\n== %s\n' "$*"; }
started=$SECONDS

step "format and lint"
cargo fmt --all -- --check
cargo clippy --locked --workspace --all-targets -- -D warnings
hadolint Dockerfile
# The member table overrides are checked against is botocore's model, as the pinned AWS CLI has it.
hack/medialive-members.py --check
# Modules import one way: no cycle in either crate (cargo-cycles).
hack/cycles.sh >/dev/null || { hack/cycles.sh; exit 1; }

step "build the player page; the committed website/dist must be what the sources build"
website/build.sh
git diff --exit-code --stat -- website/dist || { echo "website/dist is stale: run website/build.sh and commit" >&2; exit 1; }

step "build the docs site; a broken internal link or anchor fails it"
docs/build.sh

step "the image: the Dockerfile built with buildah on local bases (its build stage is the release build), then its binary checked as the Deployment runs it"
hack/image.sh build

step "build the control plane and node binaries and the Go-built checkers (cached after the first run)"
hack/node.sh build
hack/control-plane.sh build-helm
hack/control-plane.sh build-kstatus

step "alerting rules (promtool check and test rules) and the Grafana dashboard"
hack/check-monitoring.sh

step "start a control plane for this run"
CONTROL_PLANE=$(mktemp -d "${TMPDIR:-/tmp}/livestream-test.XXXXXX")
trap 'hack/control-plane.sh down --dir "$CONTROL_PLANE"' EXIT
hack/control-plane.sh up --dir "$CONTROL_PLANE"
eval "$(hack/control-plane.sh env --dir "$CONTROL_PLANE")"

step "cargo test"
# The integration tests start the livestream-local binary: build every binary first.
cargo build --locked --workspace --bins
cargo test --locked --workspace "$@"

step "MediaPackage v2 through the AWS CLI against a running livestream-local"
LIVESTREAM_LOCAL_BIN="$CARGO_TARGET_DIR/debug/livestream-local" hack/check-mediapackagev2.sh

step "CloudFront (API and edge) through the AWS CLI against a running livestream-local"
LIVESTREAM_LOCAL_BIN="$CARGO_TARGET_DIR/debug/livestream-local" hack/check-cloudfront.sh

step "MediaPackage v2 harvest jobs (live-to-VOD into S3) through the AWS CLI"
LIVESTREAM_LOCAL_BIN="$CARGO_TARGET_DIR/debug/livestream-local" hack/check-harvest.sh

step "the corpus of requests real AWS accepted, through botocore: each accepted and described back"
LIVESTREAM_LOCAL_BIN="$CARGO_TARGET_DIR/debug/livestream-local" hack/check-corpus.sh

step "done in $((SECONDS - started)) s"
