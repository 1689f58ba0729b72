#!/usr/bin/env bash
# The operator image, built with buildah from the repository's own Dockerfile, on base images made
# here from Debian packages, so that no registry is needed.
#
#   hack/image.sh build [--tag T]               bases (once), the Dockerfile, the archive, checks, sizes
#   hack/image.sh bases                         only the two base images (once per content key)
#   hack/image.sh check [--tag T]               smoke checks, run as the Deployment runs the image
#   hack/image.sh archive [--tag T]             print the path of the image's docker archive
#   hack/image.sh import --address SOCKET [--tag T]   import it into a containerd (namespace k8s.io)
#   hack/image.sh containerd-check [--tag T]    import into a throwaway containerd and run it there
#   hack/image.sh name [--tag T]                print the image's name
#
# The default tag is the crate version and the short commit (…-dirty with uncommitted changes to
# the Dockerfile or the build context).
# Bases, both tagged by a content key, so a new key builds new ones and the old stay usable:
#   localhost/livestream-runtime-base:bookworm-KEY  distroless cc-debian12:nonroot's equivalent
#     (glibc, libgcc, the CA bundle, netbase, tzdata, os-release, nonroot 65532, no shell), from the
#     .debs apt would install now; KEY covers their versions.
#   localhost/livestream-rust:1.95-KEY  rust:1.95-bookworm's layout (debootstrap minbase + gcc, the
#     host's toolchain in /usr/local/rustup, cargo on PATH from /usr/local/cargo/bin); KEY covers
#     the toolchain and the bookworm release the host's apt lists hold.
# Dockerfile layers are cached in buildah's storage (--layers), keyed on the copied files' content
# and mode (not their mtime: a touch rebuilds nothing): a source change recompiles only the operator
# crate. The archive is $LIVESTREAM_CACHE/image/livestream-operator-TAG.tar.
set -euo pipefail

HACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HACK/.." && pwd)
LOG_NAME=image
# shellcheck source=hack/lib.sh
. "$HACK/lib.sh"

IMAGE_CACHE=$LIVESTREAM_CACHE/image
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
TRIPLE=x86_64-unknown-linux-gnu
RUNTIME_REPO=localhost/livestream-runtime-base
RUST_REPO=localhost/livestream-rust
IMAGE_REPO=localhost/livestream-operator
# Bump when a recipe below changes (the keys already cover package versions and the toolchain).
RUNTIME_RECIPE=1
RUST_RECIPE=1
# distroless cc's packages, less libstdc++ and libssl (the operator is Rust with rustls): the CA
# bundle, /etc/services and /etc/protocols, zoneinfo, /etc/os-release, glibc, the unwinder.
RUNTIME_PACKAGES=(base-files netbase tzdata ca-certificates libc6 libgcc-s1)
# What `cargo build --release` needs beyond minbase: a C compiler and linker driver (ring's C, the
# link step) and the CA bundle (cargo fetches from crates.io).
RUST_PACKAGES=gcc,libc6-dev,ca-certificates
BIN_PATH=/usr/local/bin/livestream-operator
PATH_ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

CONTAINERS=()
TMPDIRS=()
cleanup() {
  local c d
  for c in "${CONTAINERS[@]}"; do buildah rm "$c" >/dev/null 2>&1 || true; done
  for d in "${TMPDIRS[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

# working_container IMAGE: a buildah working container of IMAGE (removed on exit), in CTR.
working_container() {
  CTR=$(buildah from --pull=never "$1")
  CONTAINERS+=("$CTR")
}

tmpdir() { TMP=$(mktemp -d "${TMPDIR:-/tmp}/livestream-image.XXXXXX"); TMPDIRS+=("$TMP"); }

image_exists() { buildah inspect --type image "$1" >/dev/null 2>&1; }

# preflight: everything a build needs, or an error that names the missing piece.
preflight() {
  command -v buildah >/dev/null || die "buildah is missing (apt-get install buildah): it builds the image, no Docker daemon needed"
  command -v runc >/dev/null || command -v crun >/dev/null \
    || die "no OCI runtime (apt-get install runc): buildah runs the Dockerfile's RUN steps with it"
  command -v jq >/dev/null || die "jq is missing (apt-get install jq): the checks write an OCI runtime spec with it"
  if [ "$(id -u)" != 0 ]; then
    unshare --user --map-root-user true 2>/dev/null \
      || die "user namespaces are unavailable (rootless buildah needs them: sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone=1), or run as root"
    grep -q "^$(id -un):" /etc/subuid 2>/dev/null \
      || die "no /etc/subuid range for $(id -un) (rootless buildah needs one: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $(id -un))"
  fi
  local out c
  out=$(buildah info --format '{{.store.GraphDriverName}}' 2>&1) || die "buildah cannot open its storage: $out"
  c=$(buildah from scratch 2>&1) || die "buildah cannot create a container ($out storage driver): $c"
  CONTAINERS+=("$c")
  out=$(buildah mount "$c" 2>&1) \
    || die "buildah cannot mount a container with the '$(buildah info --format '{{.store.GraphDriverName}}')' storage driver (overlay needs kernel support; STORAGE_DRIVER=vfs is the slow fallback): $out"
  buildah rm "$c" >/dev/null
}

# apt_candidates PKG...: PKG=VERSION lines, the versions apt would install now.
apt_candidates() {
  local out p
  out=$(apt-cache policy "$@" 2>/dev/null | awk '/^[^ ].*:$/ {p = substr($0, 1, length($0) - 1)}
    /^  Candidate:/ && $2 != "(none)" {print p "=" $2}')
  for p in "$@"; do
    grep -q "^$p=" <<<"$out" || die "apt knows no candidate for $p (run apt-get update)"
  done
  echo "$out"
}

need_bookworm() {
  # shellcheck disable=SC1091
  [ "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" = "$SUITE" ] \
    || die "the runtime base is made from this machine's apt, which must be Debian $SUITE (distroless cc-debian12's)"
}

runtime_base() {
  need_bookworm
  local versions key work r deb pkg c mnt
  versions=$(apt_candidates "${RUNTIME_PACKAGES[@]}")
  key=$(printf 'recipe=%s\n%s\n' "$RUNTIME_RECIPE" "$versions" | sha256sum | cut -c1-12)
  RUNTIME_IMAGE=$RUNTIME_REPO:$SUITE-$key
  image_exists "$RUNTIME_IMAGE" && return 0
  log "building the runtime base $RUNTIME_IMAGE from $(echo "$versions" | tr '\n' ' ')"
  work=$IMAGE_CACHE/runtime-$key
  r=$work/rootfs
  rm -rf "$work"
  mkdir -p "$work/debs" "$r"
  # shellcheck disable=SC2086 # one PKG=VERSION a word
  (cd "$work/debs" && apt-get download -q -o APT::Sandbox::User=root $versions >/dev/null) || die "apt-get download failed (stale lists? apt-get update)"
  mkdir -p "$r/var/lib/dpkg/status.d"
  for deb in "$work"/debs/*.deb; do
    dpkg-deb -x "$deb" "$r"
    # What distroless records too, so that image scanners see the package versions.
    pkg=$(dpkg-deb -f "$deb" Package)
    { dpkg-deb -f "$deb"; echo "Status: install ok installed"; } >"$r/var/lib/dpkg/status.d/$pkg"
  done
  # The bundle update-ca-certificates would write at install: every Mozilla certificate.
  mkdir -p "$r/etc/ssl/certs"
  for c in "$r"/usr/share/ca-certificates/mozilla/*.crt; do
    cat "$c"
    [ -z "$(tail -c1 "$c")" ] || echo
  done >"$r/etc/ssl/certs/ca-certificates.crt"
  # Scripts, maintainer tooling and docs a runtime never uses (no shell would run the scripts).
  rm -rf "$r/usr/sbin/update-ca-certificates" "$r/etc/update-motd.d" "$r/usr/share/doc" "$r/usr/share/man" "$r/usr/share/info" \
    "$r/usr/share/lintian" "$r/usr/share/base-files/"*.md5sums
  # distroless's users, groups and directories.
  cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
  cat >"$r/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
EOF
  echo 'hosts: files dns' >"$r/etc/nsswitch.conf"
  install -d -m 1777 "$r/tmp"
  install -d -m 0700 "$r/root"
  install -d -m 0700 -o 65532 -g 65532 "$r/home/nonroot"
  # No shell, nor any other program: a runtime base carries libraries and data only.
  local progs
  progs=$(cd "$r" && find . -type f -perm /111 ! -name '*.so*' ! -path './usr/lib/*/gconv/*' -print)
  [ -z "$progs" ] || die "the runtime base would hold programs: $progs"
  for sh in bin/sh bin/bash bin/dash usr/bin/sh usr/bin/bash usr/bin/dash; do
    [ ! -e "$r/$sh" ] || die "the runtime base would hold /$sh"
  done
  c=$(buildah from scratch)
  CONTAINERS+=("$c")
  mnt=$(buildah mount "$c")
  cp -a "$r/." "$mnt/"
  buildah umount "$c" >/dev/null
  buildah config --user 65532:65532 --workingdir /home/nonroot --env "$PATH_ENV" \
    --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt --label "livestream.packages=$(echo "$versions" | tr '\n' ' ')" "$c"
  buildah commit -q --rm "$c" "$RUNTIME_IMAGE" >/dev/null
  buildah tag "$RUNTIME_IMAGE" "$RUNTIME_REPO:$SUITE"
  rm -rf "$work"
}

# rust_sysroot: the host toolchain of the Dockerfile's Rust minor version, in SYSROOT / RUST_VERSION.
rust_sysroot() {
  local want
  want=$(sed -n 's/^ARG RUST_IMAGE=rust:\([0-9.]*\)-.*/\1/p' "$ROOT/Dockerfile")
  [ -n "$want" ] || die "the Dockerfile names no RUST_IMAGE=rust:X.Y-… default"
  RUST_MINOR=$want
  SYSROOT=${RUST_SYSROOT:-$(rustc --print sysroot 2>/dev/null)} \
    || die "no host Rust toolchain (rustc) to copy into the build base; set RUST_SYSROOT"
  RUST_VERSION=$("$SYSROOT/bin/rustc" -V | awk '{print $2}')
  case "$RUST_VERSION" in "$want".*) ;; *)
    die "the Dockerfile builds with Rust $want, the toolchain at $SYSROOT is $RUST_VERSION (set RUST_SYSROOT)" ;;
  esac
  [ -f "$SYSROOT/lib/rustlib/manifest-rust-std-$TRIPLE" ] || die "$SYSROOT has no rust-std for $TRIPLE"
}

# local_cas: the CA certificates this machine trusts beyond Debian's bundle (update-ca-certificates').
local_cas() { find /usr/local/share/ca-certificates -name '*.crt' -type f 2>/dev/null | sort; }

rust_base() {
  rust_sysroot
  local release key work r tc c mnt p
  # The bookworm release debootstrap installs from: the host's apt lists' date of that suite.
  release=$(sed -n 's/^Date: //p' /var/lib/apt/lists/*_dists_"${SUITE}"_InRelease 2>/dev/null | head -1)
  key=$(printf 'recipe=%s\n%s\n%s\n%s\n%s\n' "$RUST_RECIPE" "$RUST_PACKAGES" "$release" \
    "$("$SYSROOT/bin/rustc" -vV)" "$(local_cas | xargs -r sha256sum)" | sha256sum | cut -c1-12)
  RUST_IMAGE=$RUST_REPO:$RUST_MINOR-$key
  image_exists "$RUST_IMAGE" && return 0
  if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    apt-get install -y -qq debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)"
  fi
  log "building the Rust build base $RUST_IMAGE: debootstrap $SUITE (+ $RUST_PACKAGES) and Rust $RUST_VERSION"
  work=$IMAGE_CACHE/rust-$key
  r=$work/rootfs
  rm -rf "$work"
  mkdir -p "$work"
  debootstrap --variant=minbase --include="$RUST_PACKAGES" "$SUITE" "$r" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log: $work/debootstrap.log)"; }
  # The CAs this machine adds to Debian's (a TLS-inspecting proxy's, say), so that cargo reaches
  # crates.io from the build as it does from the host; the runtime base keeps Mozilla's alone.
  if [ -n "$(local_cas)" ]; then
    log "the build base trusts this machine's local CAs too: $(local_cas | xargs -n1 basename | tr '\n' ' ')"
    local_cas | xargs -I{} cp {} "$r/usr/local/share/ca-certificates/"
    chroot "$r" update-ca-certificates >/dev/null 2>&1 || die "update-ca-certificates failed in the build base"
  fi
  # As the official image: no apt lists nor downloaded .debs; the runtime supplies /dev.
  rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/* "${r:?}"/dev/*
  # The toolchain: rustup's own records of what rustc, cargo and rust-std installed, less docs,
  # man pages, shell completions and the debugger wrappers.
  tc=$r/usr/local/rustup/toolchains/$RUST_VERSION-$TRIPLE
  mkdir -p "$tc" "$r/usr/local/cargo/bin"
  for p in rustc cargo rust-std; do sed -n 's/^file://p' "$SYSROOT/lib/rustlib/manifest-$p-$TRIPLE"; done \
    | grep -Ev '^(share|etc|libexec)/|^lib/rustlib/etc/|^bin/rust-(gdb|gdbgui|lldb)$' >"$work/toolchain.files"
  tar -C "$SYSROOT" -cf - -T "$work/toolchain.files" | tar -C "$tc" -xf -
  for p in cargo rustc rustdoc; do
    ln -s "../../rustup/toolchains/$RUST_VERSION-$TRIPLE/bin/$p" "$r/usr/local/cargo/bin/$p"
  done
  chmod -R a+w "$r/usr/local/rustup" "$r/usr/local/cargo"
  c=$(buildah from scratch)
  CONTAINERS+=("$c")
  mnt=$(buildah mount "$c")
  cp -a "$r/." "$mnt/"
  buildah umount "$c" >/dev/null
  buildah config --env RUSTUP_HOME=/usr/local/rustup --env CARGO_HOME=/usr/local/cargo \
    --env PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env "RUST_VERSION=$RUST_VERSION" --cmd bash --label "livestream.debian-release=$release" "$c"
  buildah commit -q --rm "$c" "$RUST_IMAGE" >/dev/null
  buildah tag "$RUST_IMAGE" "$RUST_REPO:$RUST_MINOR"
  working_container "$RUST_IMAGE"
  buildah run --network none "$CTR" -- sh -c 'cargo -V && rustc -V && cc --version | head -1' >&2
  rm -rf "$work"
}

bases() {
  local t=$SECONDS
  runtime_base
  log "runtime base: $RUNTIME_IMAGE ($((SECONDS - t)) s)"
  t=$SECONDS
  rust_base
  log "Rust build base: $RUST_IMAGE ($((SECONDS - t)) s)"
}

default_tag() {
  local version commit dirty=
  version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -1)
  commit=$(git -C "$ROOT" rev-parse --short HEAD)
  # Dirty only when what the image is built from changed: the Dockerfile and the build context
  # (the paths .dockerignore lets through).
  local context
  mapfile -t context < <(sed -n 's/^!//p' "$ROOT/.dockerignore")
  git -C "$ROOT" diff --quiet HEAD -- Dockerfile "${context[@]}" || dirty=-dirty
  echo "$version-$commit$dirty"
}

ARCHIVE_DIR=$IMAGE_CACHE
archive_path() { echo "$ARCHIVE_DIR/livestream-operator-$TAG.tar"; }

build() {
  preflight
  bases
  local t=$SECONDS
  log "building $IMAGE from $ROOT/Dockerfile"
  buildah build --layers --force-rm --pull=never --network host \
    --build-arg "RUST_IMAGE=$RUST_IMAGE" --build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE" \
    -f "$ROOT/Dockerfile" -t "$IMAGE" "$ROOT" >&2
  log "built $IMAGE in $((SECONDS - t)) s"
  write_archive
  check
  sizes
}

# write_archive: a docker archive of IMAGE (docker load, kind load image-archive, ctr import all
# take it), rewritten only when the image changed.
write_archive() {
  local id out
  id=$(buildah inspect --type image --format '{{.FromImageID}}' "$IMAGE")
  out=$(archive_path)
  [ -f "$out" ] && [ "$(cat "$out.id" 2>/dev/null)" = "$id" ] && return 0
  mkdir -p "$ARCHIVE_DIR"
  rm -f "$out" "$out.id"
  buildah push -q "$IMAGE" "docker-archive:$out.tmp:$IMAGE" >/dev/null
  mv "$out.tmp" "$out"
  echo "$id" >"$out.id"
  log "archive: $out"
}

need_image() { image_exists "$IMAGE" || die "no image $IMAGE (hack/image.sh build --tag $TAG)"; }

# run_as_pod MOUNT ARGS...: runs ARGS in MOUNT (a mounted image) with runc as the Deployment's
# securityContext does: uid/gid 65532, read-only root, no capabilities, no new privileges, the
# image's environment; the host's network (for the TLS probe). POD_DIR, when set, is bind-mounted
# read-only at the same path and POD_ENV added to the environment.
run_as_pod() {
  local mnt=$1 bundle env
  shift
  bundle=$(mktemp -d "$POD_TMP/run.XXXXXX")
  (cd "$bundle" && runc spec)
  env=$(buildah inspect --type image "$IMAGE" | jq -c '.OCIv1.config.Env' | jq -c --arg e "${POD_ENV:-}" '. + ([$e] - [""])')
  jq --arg root "$mnt" --argjson args "$(printf '%s\n' "$@" | jq -R . | jq -sc .)" --argjson env "$env" \
    --arg dir "${POD_DIR:-}" '
      .root = {path: $root, readonly: true}
      | .process.terminal = false | .process.args = $args | .process.env = $env
      | .process.user = {uid: 65532, gid: 65532} | .process.cwd = "/" | .process.noNewPrivileges = true
      | .process.capabilities = {bounding: [], effective: [], permitted: [], ambient: []}
      | .linux.namespaces |= map(select(.type != "network"))
      | .mounts += [{destination: "/etc/resolv.conf", type: "bind", source: "/etc/resolv.conf", options: ["rbind", "ro"]}]
      | if $dir == "" then . else .mounts += [{destination: $dir, type: "bind", source: $dir, options: ["rbind", "ro"]}] end
    ' "$bundle/config.json" >"$bundle/config.json.new"
  mv "$bundle/config.json.new" "$bundle/config.json"
  runc --root "$bundle/state" run --bundle "$bundle" "livestream-check-$$-$RANDOM" </dev/null
}

check() {
  need_image
  local mnt out
  tmpdir
  POD_TMP=$TMP
  working_container "$IMAGE"
  mnt=$(buildah mount "$CTR")
  for sh in bin/sh bin/bash usr/bin/sh usr/bin/bash bin/busybox; do
    [ ! -e "$mnt/$sh" ] || die "$IMAGE holds /$sh: the runtime base is not distroless"
  done
  [ -s "$mnt/etc/ssl/certs/ca-certificates.crt" ] || die "$IMAGE has no CA bundle at /etc/ssl/certs/ca-certificates.crt"
  [ "$(buildah inspect --type image --format '{{.OCIv1.Config.User}}' "$IMAGE")" = 65532:65532 ] \
    || die "$IMAGE does not run as 65532:65532"
  out=$(run_as_pod "$mnt" "$BIN_PATH" --version) || die "$BIN_PATH --version failed in $IMAGE"
  log "as uid 65532 on a read-only root: $out"
  run_as_pod "$mnt" "$BIN_PATH" crd | diff -q - "$ROOT/crds/livestream.yaml" >/dev/null \
    || die "\`livestream-operator crd\` in $IMAGE differs from crds/livestream.yaml"
  run_as_pod "$mnt" "$BIN_PATH" run --help >/dev/null || die "livestream-operator run --help failed in $IMAGE"
  ! run_as_pod "$mnt" /bin/sh -c true >/dev/null 2>&1 || die "$IMAGE runs /bin/sh"
  # The CA bundle, as the AWS SDK and kube's rustls load it: against a server with a certificate
  # no root signs, a client that found the roots refuses the issuer; one that found none says so.
  tls_probe "$mnt" "$(mktemp -d "$POD_TMP/tls.XXXXXX")"
  log "checks passed: --version, crd = crds/livestream.yaml, run --help, no /bin/sh, CA bundle found; uid 65532, read-only root"
}

# tls_probe MOUNT DIR: `livestream-operator run` against an HTTPS server with a self-signed
# certificate and a kubeconfig naming no CA, so that kube's client verifies with the system roots:
# having loaded them it refuses the certificate; finding none it fails saying so.
tls_probe() {
  local mnt=$1 dir=$2 port pid out
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout "$dir/key.pem" \
    -out "$dir/cert.pem" 2>/dev/null
  port=$(free_port)
  openssl s_server -quiet -accept "127.0.0.1:$port" -cert "$dir/cert.pem" -key "$dir/key.pem" -www \
    >/dev/null 2>&1 </dev/null &
  pid=$!
  cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: probe, cluster: {server: "https://127.0.0.1:$port"}}]
users: [{name: probe, user: {token: probe}}]
contexts: [{name: probe, context: {cluster: probe, user: probe}}]
current-context: probe
EOF
  chmod 755 "$dir"
  chmod 644 "$dir/kubeconfig"
  sleep 0.3
  out=$(POD_DIR=$dir POD_ENV=KUBECONFIG=$dir/kubeconfig run_as_pod "$mnt" "$BIN_PATH" run 2>&1) || true
  stop_pid "$pid" 2
  case "$out" in
    *"No CA certificates"* | *"Error loading CA root"* | *"read-only file system"*) ;;
    *"failed to verify TLS certificate"*) return 0 ;;
  esac
  printf '%s\n' "$out" | grep -v '^ ' | tail -5 >&2
  die "the binary did not load the CA bundle as uid 65532 on a read-only root"
}

sizes() {
  need_image
  local mnt bin
  working_container "$IMAGE"
  mnt=$(buildah mount "$CTR")
  bin=$(stat -c %s "$mnt$BIN_PATH")
  log "sizes: image $IMAGE $(buildah images --format '{{.Size}}' "$IMAGE" | head -1)," \
    "runtime base $(buildah images --format '{{.Size}}' "${RUNTIME_IMAGE:-$RUNTIME_REPO:$SUITE}" | head -1)," \
    "binary $((bin / 1024 / 1024)) MiB ($bin bytes), archive $(du -h "$(archive_path)" 2>/dev/null | cut -f1)"
}

import() {
  local address=$1
  [ -n "$address" ] || die "import needs --address SOCKET (containerd's gRPC socket)"
  [ -S "$address" ] || die "$address is not a socket"
  command -v ctr >/dev/null || die "ctr (containerd's client) is missing"
  need_image
  write_archive
  ctr -a "$address" -n k8s.io images import "$(archive_path)" >&2
  ctr -a "$address" -n k8s.io images ls -q | grep -qx "$IMAGE" || die "$IMAGE is not in containerd at $address"
  log "imported $IMAGE into containerd at $address (namespace k8s.io)"
  echo "$IMAGE"
}

# containerd_check: a throwaway containerd (root, state and socket in a temporary directory,
# stopped by its process id), the image imported and run there with a read-only root.
containerd_check() {
  command -v containerd >/dev/null || die "containerd is missing"
  need_image
  tmpdir
  local d=$TMP pid out
  cat >"$d/config.toml" <<EOF
version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri"]
root = "$d/root"
state = "$d/state"
[grpc]
  address = "$d/containerd.sock"
EOF
  containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do [ -S "$d/containerd.sock" ] && break; sleep 0.1; done
  [ -S "$d/containerd.sock" ] || { stop_pid "$pid"; cat "$d/containerd.log" >&2; die "containerd did not start"; }
  import "$d/containerd.sock" || { stop_pid "$pid"; exit 1; }
  out=$(ctr -a "$d/containerd.sock" -n k8s.io run --rm --read-only "$IMAGE" "livestream-check-$$" \
    "$BIN_PATH" --version 2>&1) || { stop_pid "$pid"; die "ctr run failed: $out"; }
  stop_pid "$pid"
  log "containerd ran $IMAGE (read-only root, the image's user): $out"
}

command=${1:-}
[ $# -gt 0 ] && shift
TAG=""
ADDRESS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) TAG=${2:?--tag needs a value}; shift 2 ;;
    --address) ADDRESS=${2:?--address needs a value}; shift 2 ;;
    *) die "unknown argument $1" ;;
  esac
done
TAG=${TAG:-$(default_tag)}
IMAGE=$IMAGE_REPO:$TAG

case "$command" in
  build) build ;;
  bases) preflight && bases ;;
  check) check ;;
  archive) need_image && write_archive && archive_path ;;
  import) import "$ADDRESS" ;;
  containerd-check) containerd_check ;;
  name) echo "$IMAGE" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
