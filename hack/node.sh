#!/usr/bin/env bash
# A one-node Kubernetes cluster on this machine, for tests that need Pods to run: the control plane
# of hack/control-plane.sh (in its node mode) plus kube-controller-manager, kube-scheduler,
# containerd (runc, CNI) and a kubelet. Every server binds to 127.0.0.1; needs root.
#
#   hack/node.sh build                    build (or reuse) the binaries and the pause image in the cache
#   hack/node.sh up     [--dir DIR]       start the cluster; returns once the Node is Ready; idempotent
#   hack/node.sh env    [--dir DIR]       print `export ...` lines (KUBECONFIG, gateway, containerd socket)
#   hack/node.sh expose [--dir DIR] PORT  let Pods reach a 127.0.0.1:PORT server at http://GATEWAY:PORT
#   hack/node.sh down   [--dir DIR]       stop everything `up` started (by process id), undo its mounts,
#                                         bridge and iptables rules, and remove DIR
#
# Pods sit on a bridge of their own (lsn<hash of DIR>, a private /24 in 10.244/16) behind the
# bridge plugin; there is no kube-proxy. iptables DNAT rules, each tagged with the comment
# livestream-node:DIR, give Pods the `kubernetes` Service (10.96.0.1:443 → the API server),
# give the API server the kubelet (the Node's InternalIP, the gateway, → 127.0.0.1), and `expose`
# gives Pods host servers. The pause image (localhost/livestream-pause) is compiled from the pinned
# Kubernetes module's build/pause and imported into containerd's k8s.io namespace; import test
# images the same way: `ctr -a "$LIVESTREAM_NODE_CONTAINERD" -n k8s.io images import IMAGE.tar`.
# containerd's root (content store, snapshots, metadata) lives in DIR, not in the cache: one
# containerd per DIR (its database is locked) and `rm -rf DIR` leaves nothing; the import costs
# well under a second for the pause image and seconds for a test image. DIR defaults to
# $LIVESTREAM_NODE_DIR or $LIVESTREAM_CACHE/node; it must not contain spaces.
set -euo pipefail

HACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KUBE_VERSION=v1.33.13 # keep in step with hack/control-plane.sh
PAUSE_VERSION=3.10.1  # build/pause/Makefile's TAG in that Kubernetes version
PAUSE_IMAGE=localhost/livestream-pause:$PAUSE_VERSION
NODE_NAME=livestream-node
SERVICE_IP=10.96.0.1 # the `kubernetes` Service in control-plane.sh's 10.96.0.0/24

LOG_NAME=node
# shellcheck source=hack/lib.sh
. "$HACK/lib.sh"
BIN=$LIVESTREAM_CACHE/bin
KUBECTL=$(command -v kubectl || echo "$BIN/kubectl")
PAUSE_TAR=$LIVESTREAM_CACHE/images/livestream-pause-$PAUSE_VERSION.tar

# --- build -------------------------------------------------------------------------------------

# pause_image: compiles pause.c from the module cache, packs it with buildah into a docker-archive
# in the cache (once).
pause_image() {
  [ -f "$PAUSE_TAR" ] && return 0
  local src work ctr
  command -v gcc >/dev/null || die "gcc is required to build the pause image"
  command -v buildah >/dev/null || die "buildah is required to build the pause image"
  src=$(cd "$HACK/kubernetes" && go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | jq -r .Dir)/build/pause/linux/pause.c
  [ -f "$src" ] || die "no $src in the Go module cache"
  log "building the pause image $PAUSE_IMAGE from $src"
  work=$(mktemp -d)
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-livestream" -o "$work/pause" "$src"
  strip "$work/pause"
  ctr=$(buildah from scratch)
  buildah copy -q "$ctr" "$work/pause" /pause >/dev/null
  buildah config --entrypoint '["/pause"]' --user 65535:65535 "$ctr"
  mkdir -p "$(dirname "$PAUSE_TAR")"
  buildah commit -q "$ctr" "docker-archive:$PAUSE_TAR.tmp:$PAUSE_IMAGE" >/dev/null
  buildah rm "$ctr" >/dev/null
  rm -rf "$work"
  mv "$PAUSE_TAR.tmp" "$PAUSE_TAR"
}

build() {
  "$HACK/control-plane.sh" build
  "$HACK/control-plane.sh" build-node
  pause_image
}

# --- preflight ---------------------------------------------------------------------------------

cannot() { die "cannot run containers here: $*"; }

# preflight: names the first missing piece before anything starts.
preflight() {
  [ "$(id -u)" = 0 ] || cannot "not root (containerd, the kubelet, the bridge and iptables need root)"
  local b c
  for b in containerd runc ctr ip iptables iptables-save sysctl nsenter mount umount jq; do
    command -v "$b" >/dev/null || cannot "no $b on PATH"
  done
  for b in bridge host-local loopback; do
    [ -x "/usr/lib/cni/$b" ] || cannot "no CNI plugin /usr/lib/cni/$b (Debian: containernetworking-plugins)"
  done
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || cannot "no overlayfs in the kernel"
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    for c in cpu cpuset memory pids; do
      grep -qw "$c" /sys/fs/cgroup/cgroup.controllers || cannot "cgroup v2 controller $c is not enabled"
    done
  else
    for c in cpu cpuacct cpuset memory pids; do
      awk -v c="$c" '$9 == "cgroup" && ("," $NF ",") ~ ("," c ",")' /proc/self/mountinfo | grep -q . ||
        cannot "cgroup v1 controller $c is not mounted"
    done
  fi
  iptables -w -t nat -S PREROUTING >/dev/null 2>&1 || cannot "no iptables nat table (iptables -t nat -S fails)"
  [ -f /proc/sys/net/ipv4/conf/all/route_localnet ] ||
    cannot "no net.ipv4.conf.*.route_localnet sysctl"
  ip link add lsnprobe$$ type bridge 2>/dev/null || cannot "cannot create a bridge (ip link add type bridge)"
  ip link del lsnprobe$$
}

# --- state -------------------------------------------------------------------------------------

# oom_scores: whether this root may lower oom_score_adj (CAP_SYS_RESOURCE, bit 24 of CapEff).
oom_scores() {
  local eff
  eff=$(awk '/^CapEff/ { print $2 }' /proc/self/status)
  if (((16#$eff >> 24) & 1)); then
    RESTRICT_OOM=false OOM_SCORE_ADJ=-999
  else
    log "no CAP_SYS_RESOURCE: containers keep oom_score_adj >= $(cat /proc/self/oom_score_adj)"
    RESTRICT_OOM=true OOM_SCORE_ADJ=$(cat /proc/self/oom_score_adj)
  fi
}

# names: the bridge, subnet and rule comment of DIR (stable across runs; the subnet is chosen once).
names() {
  local h
  h=$(printf '%s' "$DIR" | sha256sum | cut -c1-6)
  BRIDGE=lsn$h
  CGROUP=livestream-node-$h
  COMMENT=livestream-node:$DIR
  SOCK=$DIR/containerd.sock
  if [ -f "$DIR/node/subnet" ]; then
    SUBNET=$(cat "$DIR/node/subnet")
  else
    local n=$((16#${h:0:2})) i
    for i in $(seq 0 255); do
      SUBNET=10.244.$(((n + i) % 256))
      ip -4 route show | grep -q "^$SUBNET\.0/" || break
    done
  fi
  GATEWAY=$SUBNET.1
}

# rule CHAIN ARGS...: adds a nat rule tagged with DIR's comment, unless it is there already.
rule() {
  local chain=$1; shift
  iptables -w -t nat -C "$chain" "$@" -m comment --comment "$COMMENT" 2>/dev/null ||
    iptables -w -t nat -A "$chain" "$@" -m comment --comment "$COMMENT"
}

# remove_rules: deletes every nat rule carrying DIR's comment (and only those).
remove_rules() {
  local line
  iptables-save -t nat | { grep -F -e "--comment $COMMENT " -e "--comment \"$COMMENT\" " || true; } |
    sed 's/^-A /-D /' | while IFS= read -r line; do
      echo "$line" | xargs iptables -w -t nat # xargs takes the comment's quotes off
    done
}

# --- up ----------------------------------------------------------------------------------------

network() {
  mkdir -p "$DIR/node"
  echo "$SUBNET" >"$DIR/node/subnet"
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$GATEWAY/24" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
  # Pods' packets DNATed to 127.0.0.1 must not be dropped as martians.
  sysctl -qw "net.ipv4.conf.$BRIDGE.route_localnet=1"
  mkdir -p "$DIR/node/cni"
  cat >"$DIR/node/cni/10-livestream.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$BRIDGE",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$SUBNET.0/24", "gateway": "$GATEWAY"}]],
              "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$DIR/node/ipam"}},
    {"type": "loopback"}
  ]
}
EOF
}

containerd_up() {
  local c=$DIR/node/containerd
  mkdir -p "$c"
  cat >"$c/config.toml" <<EOF
version = 2
root = "$c/root"
state = "$c/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$SOCK"
[debug]
  level = "warn"
[plugins."io.containerd.internal.v1.opt"]
  path = "$c/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # The kubelet asks for negative oom_score_adj (-998 for sandboxes), which needs CAP_SYS_RESOURCE;
  # where root lacks it (some VM sandboxes), runc fails ("can't get final child's PID from pipe").
  # This clamps the scores to containerd's own, as for rootless containerd.
  restrict_oom_score_adj = $RESTRICT_OOM
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$c/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DIR/node/cni"
    max_conf_num = 1
EOF
  start containerd containerd --config "$c/config.toml"
  local deadline=$((SECONDS + 30))
  until ctr -a "$SOCK" version >/dev/null 2>&1; do
    alive "$DIR/containerd.pid" || { tail -20 "$DIR/containerd.log" >&2; die "containerd exited"; }
    [ $SECONDS -lt $deadline ] || { tail -20 "$DIR/containerd.log" >&2; die "containerd not up after 30 s"; }
    sleep 0.2
  done
  ctr -a "$SOCK" -n k8s.io images import "$PAUSE_TAR" >/dev/null
}

# kubelet_cert: the kubelet's serving certificate, signed by the test CA, for the addresses the
# API server dials (the Node's InternalIP, the gateway).
kubelet_cert() {
  local d=$DIR/pki
  [ -f "$d/kubelet.crt" ] && return 0
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$NODE_NAME" -keyout "$d/kubelet.key" -out "$d/kubelet.csr" 2>/dev/null
  printf 'subjectAltName=IP:%s,IP:127.0.0.1,DNS:%s\n' "$GATEWAY" "$NODE_NAME" >"$d/kubelet.ext"
  openssl x509 -req -in "$d/kubelet.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 3650 \
    -extfile "$d/kubelet.ext" -out "$d/kubelet.crt" 2>/dev/null
}

# cgroups: the kubelet's cgroup root, its own per DIR in every hierarchy (kubelet checks it exists).
cgroups() {
  local h
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    mkdir -p "/sys/fs/cgroup/$CGROUP"
  else
    for h in /sys/fs/cgroup/*/; do
      [ -L "${h%/}" ] || mkdir -p "$h$CGROUP"
    done
  fi
}

kubelet_up() {
  local k=$DIR/node/kubelet port healthz
  port=$(free_port); healthz=$(free_port)
  echo "$port" >"$DIR/kubelet.port"
  mkdir -p "$k"
  cat >"$k/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $port
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $healthz
tlsCertFile: $DIR/pki/kubelet.crt
tlsPrivateKeyFile: $DIR/pki/kubelet.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $DIR/pki/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$SOCK
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP
failSwapOn: false
oomScoreAdj: $OOM_SCORE_ADJ
failCgroupV1: false
podLogsDir: $k/pod-logs
staticPodPath: ""
registerNode: true
# A busy disk or a full page cache must not evict test Pods; nor may image GC drop the pause image.
evictionHard: {memory.available: 50Mi, nodefs.available: 1%, nodefs.inodesFree: 1%, imagefs.available: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
EOF
  start kubelet "$BIN/kubelet-$KUBE_VERSION" --config "$k/config.yaml" --kubeconfig "$DIR/node.kubeconfig" \
    --root-dir "$k/root" --cert-dir "$k/pki" --volume-plugin-dir "$k/volume-plugins" \
    --hostname-override "$NODE_NAME" --node-ip "$GATEWAY" --v 1
}

components_up() {
  local kc=$DIR/admin.kubeconfig
  start kube-controller-manager "$BIN/kube-controller-manager-$KUBE_VERSION" --kubeconfig "$kc" \
    --authentication-kubeconfig "$kc" --authorization-kubeconfig "$kc" \
    --bind-address 127.0.0.1 --secure-port "$(free_port)" --leader-elect=false \
    --service-account-private-key-file "$DIR/pki/sa.key" --root-ca-file "$DIR/pki/ca.crt" \
    --use-service-account-credentials=false --service-cluster-ip-range 10.96.0.0/24 \
    --cluster-signing-cert-file "$DIR/pki/ca.crt" --cluster-signing-key-file "$DIR/pki/ca.key" \
    --flex-volume-plugin-dir "$DIR/node/flex-volume-plugins" --v 1
  start kube-scheduler "$BIN/kube-scheduler-$KUBE_VERSION" --kubeconfig "$kc" \
    --authentication-kubeconfig "$kc" --authorization-kubeconfig "$kc" \
    --bind-address 127.0.0.1 --secure-port "$(free_port)" --leader-elect=false --v 1
}

# wait_node: until the Node is Ready without taints (the controller manager lifts not-ready's) and
# Pods can be admitted (the default ServiceAccount exists).
wait_node() {
  local deadline=$((SECONDS + 180)) name
  until [ "$("$KUBECTL" --kubeconfig "$DIR/admin.kubeconfig" get node "$NODE_NAME" \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}/{.spec.taints}' 2>/dev/null)" = True/ ] &&
    "$KUBECTL" --kubeconfig "$DIR/admin.kubeconfig" -n default get serviceaccount default >/dev/null 2>&1; do
    for name in containerd kube-controller-manager kube-scheduler kubelet; do
      alive "$DIR/$name.pid" || { tail -20 "$DIR/$name.log" >&2; die "$name exited"; }
    done
    [ $SECONDS -lt $deadline ] || { tail -20 "$DIR/kubelet.log" >&2; die "node not Ready after 180 s"; }
    sleep 0.5
  done
}

running() {
  local name
  for name in containerd kube-controller-manager kube-scheduler kubelet; do alive "$DIR/$name.pid" || return 1; done
}

up() {
  case $DIR in *[!A-Za-z0-9/._-]*) die "DIR must be made of letters, digits and / . _ - only: $DIR" ;; esac
  [ ${#DIR} -le 80 ] || die "DIR is too long for containerd's socket path (80 characters at most): $DIR"
  preflight
  build
  names
  if running; then
    wait_node
    log "already running in $DIR"
    return 0
  fi
  [ ! -f "$DIR/node/subnet" ] || stop_node
  names
  oom_scores
  "$HACK/control-plane.sh" up --dir "$DIR" --node "$NODE_NAME"
  network
  kubelet_cert
  cgroups
  # The `kubernetes` Service for Pods, and the API server's way to the kubelet at the Node's IP.
  rule PREROUTING -i "$BRIDGE" -d "$SERVICE_IP/32" -p tcp --dport 443 -j DNAT \
    --to-destination "127.0.0.1:$(cat "$DIR/apiserver.port")"
  components_up
  containerd_up
  kubelet_up
  rule OUTPUT -d "$GATEWAY/32" -p tcp --dport "$(cat "$DIR/kubelet.port")" -j DNAT \
    --to-destination "127.0.0.1:$(cat "$DIR/kubelet.port")"
  wait_node
  log "ready: node $NODE_NAME, pods on $BRIDGE $SUBNET.0/24 (gateway $GATEWAY), state in $DIR"
}

expose() {
  local port=${1:-}
  [[ $port =~ ^[0-9]+$ ]] || die "usage: $0 expose --dir DIR PORT"
  names
  [ -f "$DIR/node/subnet" ] || die "no node in $DIR: run \`$0 up\` first"
  rule PREROUTING -i "$BRIDGE" -d "$GATEWAY/32" -p tcp --dport "$port" -j DNAT --to-destination "127.0.0.1:$port"
  echo "http://$GATEWAY:$port"
}

# --- down --------------------------------------------------------------------------------------

# pod_pids: the processes in DIR's cgroup tree (the Pods' containers, whoever started them).
pod_pids() {
  find /sys/fs/cgroup/"$CGROUP" /sys/fs/cgroup/*/"$CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u
}

# pod_netns: the network namespaces containerd mounted for DIR's Pods (under /run/netns), found by
# the namespace their processes are in, so that a containerd that died first leaves none behind.
pod_netns() {
  local pid ns inodes=" "
  for pid in $(pod_pids); do inodes+="$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null) "; done
  for ns in /run/netns/cni-*; do
    [ -e "$ns" ] || continue
    case $inodes in *" $(stat -c %i "$ns") "*) echo "$ns" ;; esac
  done
}

# stop_node: what `up` added to the control plane, in reverse; leaves DIR.
stop_node() {
  names
  alive "$DIR/kubelet.pid" && stop_pidfile "$DIR/kubelet.pid"
  local netns ns ids id pid name c=(ctr -a "$SOCK" -n k8s.io)
  # The scheduler and controller manager take ~2 s each to stop: in the background meanwhile.
  for name in kube-scheduler kube-controller-manager; do
    if alive "$DIR/$name.pid"; then stop_pidfile "$DIR/$name.pid" & fi
  done
  netns=$(pod_netns)
  if alive "$DIR/containerd.pid"; then
    # Sandboxes whose processes are gone keep their network namespace until containerd is asked to
    # stop them: their paths from the sandbox containers' specs.
    for id in $("${c[@]}" containers ls -q 'labels."io.cri-containerd.kind"==sandbox' 2>/dev/null); do
      netns+=" $("${c[@]}" containers info "$id" 2>/dev/null |
        jq -r '.Spec.linux.namespaces[]? | select(.type == "network") | .path // empty' || true)"
    done
    # SIGKILL every task; containerd's CRI deletes a task once it has exited (or we do).
    for id in $("${c[@]}" tasks ls -q 2>/dev/null); do "${c[@]}" tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
    for _ in $(seq 1 50); do
      ids=$("${c[@]}" tasks ls -q 2>/dev/null) || break
      [ -n "$ids" ] || break
      for id in $ids; do "${c[@]}" tasks delete "$id" >/dev/null 2>&1 || true; done
      sleep 0.1
    done
    stop_pidfile "$DIR/containerd.pid"
  fi
  # What a containerd that died first left: containers (by cgroup) and shims (by the socket).
  for pid in $(pod_pids); do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in $(pgrep -f -- "containerd-shim.* -address ${SOCK//./\\.}( |\$)" || true); do
    stop_pid "$pid" 2
  done
  for ns in $(echo "$netns" | tr ' ' '\n' | sort -u); do
    case $ns in /run/netns/cni-* | /var/run/netns/cni-*) ;; *) continue ;; esac
    [ ! -e "$ns" ] || { umount "$ns" 2>/dev/null || umount -l "$ns"; rm -f "$ns"; }
  done
  wait
  # Mounts under DIR (Pods' volumes, sandboxes' /dev/shm, overlay roots, the kubelet's rshared
  # bind of its root), deepest first.
  local m
  awk -v d="$DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
  remove_rules
  ip link del "$BRIDGE" 2>/dev/null || true
  local h
  for h in /sys/fs/cgroup/ /sys/fs/cgroup/*/; do
    if [ -d "$h$CGROUP" ]; then find "$h$CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
  done
  find /var/log/containers -maxdepth 1 -lname "$DIR/*" -delete 2>/dev/null || true
  # libcni's result cache (always /var/lib/cni): this network's entries, and the loopback ones of
  # the same sandboxes; without a CNI DEL nobody else removes them.
  local f
  for f in /var/lib/cni/results/"$BRIDGE"-*-eth0; do
    [ -e "$f" ] || continue
    id=${f#/var/lib/cni/results/"$BRIDGE"-}
    rm -f "$f" "/var/lib/cni/results/cni-loopback-${id%-eth0}-lo"
  done
  rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null || true
  # Two paths every kubelet 1.33 uses whatever its root dir: its device-plugin socket (and dir) and
  # /var/log/containers. Removed once no kubelet listens on that socket (no other node runs).
  local dp=/var/lib/kubelet/device-plugins
  if ! ss -xlH 2>/dev/null | grep -qF " $dp/kubelet.sock "; then
    rm -f "$dp/kubelet.sock"
    rmdir "$dp" /var/lib/kubelet /var/log/containers 2>/dev/null || true
  fi
  rm -f "$DIR"/{containerd,kubelet,kube-scheduler,kube-controller-manager}.pid
}

# down: also with DIR gone (removed by hand), the bridge, rules and cgroups named after it go.
down() {
  stop_node
  "$HACK/control-plane.sh" down --dir "$DIR"
}

env_lines() {
  [ -f "$DIR/node/subnet" ] || die "no node in $DIR: run \`$0 up\` first"
  names
  "$HACK/control-plane.sh" env --dir "$DIR"
  echo "export LIVESTREAM_NODE_NAME=$NODE_NAME"
  echo "export LIVESTREAM_NODE_GATEWAY=$GATEWAY"
  echo "export LIVESTREAM_NODE_CONTAINERD=$SOCK"
  echo "export LIVESTREAM_NODE_PAUSE_IMAGE=$PAUSE_IMAGE"
}

# start NAME CMD...: runs CMD in its own session, logs to DIR/NAME.log, pid in DIR/NAME.pid.
start() {
  local name=$1; shift
  setsid "$@" >"$DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/$name.pid"
}

cmd=${1:-}; shift || true
DIR=${LIVESTREAM_NODE_DIR:-$LIVESTREAM_CACHE/node}
ARGS=()
while [ $# -gt 0 ]; do
  case $1 in
    --dir) DIR=$2; shift 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
DIR=$(mkdir -p "$(dirname "$DIR")" && cd "$(dirname "$DIR")" && pwd)/$(basename "$DIR")

case $cmd in
  build) build ;;
  up) up ;;
  env) env_lines ;;
  expose) expose "${ARGS[@]}" ;;
  down) down ;;
  *) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
