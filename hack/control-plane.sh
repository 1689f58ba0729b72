#!/usr/bin/env bash
# A real Kubernetes control plane (etcd + kube-apiserver) on 127.0.0.1, for tests and the local demo.
#
#   hack/control-plane.sh build                 build (or reuse) the pinned binaries in the cache
#   hack/control-plane.sh build-node            the same for kube-scheduler, kube-controller-manager, kubelet
#   hack/control-plane.sh build-helm            the same for the Helm CLI (the tests render deploy/helm)
#   hack/control-plane.sh build-kstatus         the same for hack/kstatus (kstatus of a live object, as JSON)
#   hack/control-plane.sh build-promtool        the same for promtool (checks deploy/monitoring's rules)
#   hack/control-plane.sh up   [--dir DIR]      start etcd + kube-apiserver; idempotent
#        [--node NAME]                           for a cluster with a kubelet NAME (hack/node.sh): also
#                                                ServiceAccount admission, Node authorization, a kubelet
#                                                client certificate, NAME's token, 10.96.0.1 in the cert
#   hack/control-plane.sh env  [--dir DIR]      print `export KUBECONFIG=...` lines for the shell
#   hack/control-plane.sh down [--dir DIR]      stop what `up` started (by process id) and remove DIR
#
# Binaries are built from the Go wrapper modules under hack/ through the Go module proxy into
# $LIVESTREAM_CACHE/bin (default ~/.cache/livestream-operator), once per version. Each DIR is one
# control plane with its own free ports, so several suites can run side by side.
# DIR holds: admin.kubeconfig (system:masters), operator.kubeconfig (the operator's ServiceAccount
# identity, subject to RBAC), unprivileged.kubeconfig (a user no RBAC rule names), logs, pids and
# certificates.
set -euo pipefail

HACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KUBE_VERSION=v1.33.13 # keep in step with hack/kubernetes/go.mod
ETCD_VERSION=v3.5.21  # the etcd Kubernetes 1.33 pins; keep in step with hack/etcd/go.mod
HELM_VERSION=v3.22.0  # keep in step with hack/helm/go.mod
KSTATUS_VERSION=v0.37.2 # sigs.k8s.io/cli-utils's version; keep in step with hack/kstatus/go.mod
PROMETHEUS_VERSION=v0.316.0 # Prometheus 3.16.0's module version; keep in step with hack/prometheus/go.mod
OPERATOR_SA=system:serviceaccount:livestream-system:livestream-operator

LOG_NAME=control-plane
# shellcheck source=hack/lib.sh
. "$HACK/lib.sh"
BIN=$LIVESTREAM_CACHE/bin

# go_build NAME VERSION MODULE_DIR PACKAGE [LDFLAGS] [TAGS]: builds once into $BIN/NAME-VERSION.
go_build() {
  local name=$1 version=$2 dir=$3 pkg=$4 ldflags=${5:-} tags=${6:-}
  local out=$BIN/$name-$version
  [ -x "$out" ] && return 0
  command -v go >/dev/null || die "go is required to build $name"
  mkdir -p "$BIN"
  log "building $name $version from Go modules (first time only; several minutes on 2 cores)"
  (cd "$dir" && CGO_ENABLED=0 go build -mod=readonly -trimpath -tags "$tags" -ldflags "-s -w $ldflags" -o "$out.tmp.$$" "$pkg")
  mv "$out.tmp.$$" "$out"
}

kube_ldflags() {
  local major=${KUBE_VERSION#v}
  local minor=${major#*.}
  printf -- '-X k8s.io/component-base/version.gitVersion=%s -X k8s.io/component-base/version.gitMajor=%s -X k8s.io/component-base/version.gitMinor=%s' \
    "$KUBE_VERSION" "${major%%.*}" "${minor%%.*}"
}

build() {
  go_build etcd "$ETCD_VERSION" "$HACK/etcd" .
  go_build kube-apiserver "$KUBE_VERSION" "$HACK/kubernetes" ./cmd/kube-apiserver "$(kube_ldflags)"
  # kubectl: the machine's own when it has one (it dispatches to a matching minor version).
  if ! command -v kubectl >/dev/null; then
    go_build kubectl "$KUBE_VERSION" "$HACK/kubernetes" ./cmd/kubectl "$(kube_ldflags)"
    ln -sf "kubectl-$KUBE_VERSION" "$BIN/kubectl"
  fi
}

# build_node: the node's components (hack/node.sh), from the same wrapper module as the API server,
# one after the other (each is a heavy build on 2 cores).
build_node() {
  local c
  for c in kube-scheduler kube-controller-manager kubelet; do
    go_build "$c" "$KUBE_VERSION" "$HACK/kubernetes" "./cmd/$c" "$(kube_ldflags)"
  done
}

build_helm() {
  go_build helm "$HELM_VERSION" "$HACK/helm" helm.sh/helm/v3/cmd/helm \
    "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
}

build_kstatus() {
  go_build kstatus "$KSTATUS_VERSION" "$HACK/kstatus" .
}

# promtool only checks and unit-tests rule files here: remove_all_sd (an upstream build tag) leaves
# out the cloud service-discovery plugins (AWS, Azure, GCE, …), a large share of the build, which
# only `promtool check config` of a scrape config using them would need.
build_promtool() {
  local v=${PROMETHEUS_VERSION#v0.}
  go_build promtool "$PROMETHEUS_VERSION" "$HACK/prometheus" github.com/prometheus/prometheus/cmd/promtool \
    "-X github.com/prometheus/common/version.Version=${v:0:1}.${v:1:2}.${v##*.}" remove_all_sd
}

# start NAME CMD...: runs CMD in its own session, logs to DIR/NAME.log, pid in DIR/NAME.pid.
start() {
  local name=$1; shift
  setsid "$@" >"$DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/$name.pid"
}

certs() {
  local d=$DIR/pki
  [ -f "$d/sa.pub" ] && return 0
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=livestream-test-ca \
    -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver -keyout "$d/apiserver.key" -out "$d/apiserver.csr" 2>/dev/null
  if [ -n "$NODE" ]; then # pods reach the API server as the `kubernetes` Service, 10.96.0.1:443
    printf 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n' >"$d/san.ext"
  else
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n' >"$d/san.ext"
  fi
  openssl x509 -req -in "$d/apiserver.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 3650 \
    -extfile "$d/san.ext" -out "$d/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$d/sa.key" 2048 2>/dev/null
  openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
  [ -n "$NODE" ] || return 0
  # The API server's client certificate towards kubelets (logs, exec, port-forward, proxy).
  openssl req -newkey rsa:2048 -nodes -subj /O=system:masters/CN=kube-apiserver-kubelet-client \
    -keyout "$d/apiserver-kubelet-client.key" -out "$d/apiserver-kubelet-client.csr" 2>/dev/null
  openssl x509 -req -in "$d/apiserver-kubelet-client.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
    -days 3650 -out "$d/apiserver-kubelet-client.crt" 2>/dev/null
}

# kubeconfig FILE USER TOKEN
kubeconfig() {
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: livestream-test
  cluster:
    server: https://127.0.0.1:$(cat "$DIR/apiserver.port")
    certificate-authority: $DIR/pki/ca.crt
users:
- name: $2
  user:
    token: $3
contexts:
- name: $2
  context: {cluster: livestream-test, user: $2, namespace: default}
current-context: $2
EOF
}

wait_ready() {
  local port token deadline=$((SECONDS + 120))
  port=$(cat "$DIR/apiserver.port"); token=$(cat "$DIR/admin.token")
  until curl -fsS --cacert "$DIR/pki/ca.crt" -H "Authorization: Bearer $token" \
    "https://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
    alive "$DIR/etcd.pid" || { tail -20 "$DIR/etcd.log" >&2; die "etcd exited"; }
    alive "$DIR/kube-apiserver.pid" || { tail -20 "$DIR/kube-apiserver.log" >&2; die "kube-apiserver exited"; }
    [ $SECONDS -lt $deadline ] || { tail -20 "$DIR/kube-apiserver.log" >&2; die "kube-apiserver not ready after 120 s"; }
    sleep 0.5
  done
}

up() {
  build
  mkdir -p "$DIR"
  if alive "$DIR/kube-apiserver.pid" && alive "$DIR/etcd.pid"; then
    wait_ready
    log "already running in $DIR"
    return 0
  fi
  stop_all
  certs
  local etcd_port peer_port api_port
  etcd_port=$(free_port); peer_port=$(free_port); api_port=$(free_port)
  echo "$api_port" >"$DIR/apiserver.port"
  [ -f "$DIR/admin.token" ] || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DIR/admin.token"
  local who node_token=
  for who in operator unprivileged ${NODE:+node}; do
    [ -f "$DIR/$who.token" ] || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DIR/$who.token"
  done
  cat >"$DIR/tokens.csv" <<EOF
$(cat "$DIR/admin.token"),admin,admin,"system:masters"
$(cat "$DIR/operator.token"),$OPERATOR_SA,livestream-operator,"system:serviceaccounts,system:serviceaccounts:livestream-system"
$(cat "$DIR/unprivileged.token"),unprivileged,unprivileged
EOF
  # Node mode: ServiceAccount admission (a controller manager runs), the Node authorizer for the
  # kubelet's identity, and the API server's way to the kubelet (its InternalIP, a CA-signed cert).
  local authz=(--authorization-mode RBAC) admission=(--disable-admission-plugins ServiceAccount)
  if [ -n "$NODE" ]; then
    node_token=$(cat "$DIR/node.token")
    echo "$node_token,system:node:$NODE,$NODE,\"system:nodes\"" >>"$DIR/tokens.csv"
    authz=(--authorization-mode "Node,RBAC")
    admission=(--enable-admission-plugins NodeRestriction --allow-privileged=true
      --kubelet-client-certificate "$DIR/pki/apiserver-kubelet-client.crt"
      --kubelet-client-key "$DIR/pki/apiserver-kubelet-client.key"
      --kubelet-certificate-authority "$DIR/pki/ca.crt" --kubelet-preferred-address-types InternalIP)
  fi
  start etcd "$BIN/etcd-$ETCD_VERSION" --name livestream-test --data-dir "$DIR/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "livestream-test=http://127.0.0.1:$peer_port" --unsafe-no-fsync --log-level warn
  start kube-apiserver "$BIN/kube-apiserver-$KUBE_VERSION" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --tls-cert-file "$DIR/pki/apiserver.crt" --tls-private-key-file "$DIR/pki/apiserver.key" \
    --client-ca-file "$DIR/pki/ca.crt" --token-auth-file "$DIR/tokens.csv" \
    "${authz[@]}" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$DIR/pki/sa.pub" --service-account-signing-key-file "$DIR/pki/sa.key" \
    --service-cluster-ip-range 10.96.0.0/24 \
    "${admission[@]}" \
    --enable-priority-and-fairness=false \
    --v 1
  kubeconfig "$DIR/admin.kubeconfig" admin "$(cat "$DIR/admin.token")"
  kubeconfig "$DIR/operator.kubeconfig" livestream-operator "$(cat "$DIR/operator.token")"
  kubeconfig "$DIR/unprivileged.kubeconfig" unprivileged "$(cat "$DIR/unprivileged.token")"
  [ -z "$NODE" ] || kubeconfig "$DIR/node.kubeconfig" "system:node:$NODE" "$node_token"
  wait_ready
  log "ready: https://127.0.0.1:$api_port (etcd 127.0.0.1:$etcd_port), state in $DIR"
}

# stop_all: TERM what this DIR started, then KILL what is left after 10 s.
stop_all() {
  local name
  for name in kube-apiserver etcd; do
    alive "$DIR/$name.pid" && stop_pidfile "$DIR/$name.pid"
  done
  rm -f "$DIR"/*.pid
}

down() {
  [ -d "$DIR" ] || return 0
  stop_all
  rm -rf "$DIR"
  log "stopped and removed $DIR"
}

env_lines() {
  [ -f "$DIR/admin.kubeconfig" ] || die "no control plane in $DIR: run \`$0 up\` first"
  echo "export KUBECONFIG=$DIR/admin.kubeconfig"
  echo "export LIVESTREAM_OPERATOR_KUBECONFIG=$DIR/operator.kubeconfig"
  echo "export LIVESTREAM_UNPRIVILEGED_KUBECONFIG=$DIR/unprivileged.kubeconfig"
  if ! command -v kubectl >/dev/null; then echo "export PATH=$BIN:\$PATH"; fi
  if [ -x "$BIN/helm-$HELM_VERSION" ]; then echo "export HELM=$BIN/helm-$HELM_VERSION"; fi
  if [ -x "$BIN/kstatus-$KSTATUS_VERSION" ]; then echo "export KSTATUS=$BIN/kstatus-$KSTATUS_VERSION"; fi
}

cmd=${1:-}; shift || true
DIR=${LIVESTREAM_CONTROL_PLANE_DIR:-$LIVESTREAM_CACHE/control-plane}
NODE=
while [ $# -gt 0 ]; do
  case $1 in
    --dir) DIR=$2; shift 2 ;;
    --node) NODE=$2; shift 2 ;;
    *) die "unknown argument $1" ;;
  esac
done
DIR=$(mkdir -p "$(dirname "$DIR")" && cd "$(dirname "$DIR")" && pwd)/$(basename "$DIR")

case $cmd in
  build) build ;;
  build-node) build_node ;;
  build-helm) build_helm ;;
  build-kstatus) build_kstatus ;;
  build-promtool) build_promtool ;;
  up) up ;;
  env) env_lines ;;
  down) down ;;
  *) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
