#!/usr/bin/env bash
# One real node for the control plane of hack/cluster.sh (called by it: cluster.sh up --node | node-up |
# node-image JAR | node-down | down), on 127.0.0.1 only. Needs root on Linux.
#
#   containerd  Debian's (1.6), with its CRI plugin, on its own socket, root and state under DIR/node (never
#               the lab's /run/containerd), runc (Debian's) with the cgroupfs driver, the sandbox image
#               execguard.local/pause:3.10, restrict_oom_score_adj (this machine's bounding set lacks
#               CAP_SYS_RESOURCE: runc cannot lower oom_score_adj), a CNI config for host-network pods
#               only (no plugin binaries: a pod without hostNetwork fails at its sandbox)
#   kubelet     the release's (hack/kube), client certificate system:node:NAME in system:nodes from the
#               cluster's CA (the Node authorizer and NodeRestriction apply), serving on 127.0.0.1:PORT+3
#               with a self-signed certificate, x509 + webhook authentication/authorization (the API
#               server's kubelet client is in system:masters), failCgroupV1: false, cgroupDriver
#               cgroupfs, pods' cgroups under /execguard-PORT in every hierarchy, pod logs under DIR/node
#   images      no registry: tarballs in `docker save` format (hack/image-archive.sh) imported with
#               `ctr -n k8s.io images import`: a static pause built from the release's pause.c, the lab's
#               busybox (lab/busybox:1) and, by `image JAR`, the execguard image of hack/lab-image.sh
#
# The kubelet refuses a loopback --node-ip ("nodeIP can't be loopback address") and would otherwise
# publish this host's other address, so up writes status.addresses = InternalIP 127.0.0.1 itself once the
# Node registered (the kubelet's address setter fails before it touches them, so they stay) and the API
# server is started with --kubelet-preferred-address-types InternalIP. The node lifecycle controller is
# off in this cluster, so up removes the kubelet's node.kubernetes.io/not-ready taint once the Node is
# Ready, as that controller would. No scheduler runs: pods need spec.nodeName or a binding
# (the node e2e binds them itself, src/test/java/io/execguard/node/Binder.java).
#
# down removes what up created: the Node, its pods (force-deleted), every task, container, sandbox and
# shim of this containerd, the mounts under DIR/node, the cgroups /execguard-PORT, the kubelet's
# /var/lib/kubelet and /var/log/containers when up created them (else only its links there), DIR/node.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${EXECGUARD_CLUSTER_DIR:-/tmp/execguard-cluster}
port=${EXECGUARD_CLUSTER_PORT:-16443}
name=${EXECGUARD_NODE_NAME:-execguard-node}
nd=$dir/node
sock=$nd/containerd.sock
kubelet_port=$((port + 3)); healthz_port=$((port + 4))
cgroot=execguard-$port
pause_image=execguard.local/pause:3.10
busybox_image=lab/busybox:1
log() { echo "hack/node.sh: $*" >&2; }
die() { log "$*"; exit 1; }

ctr_() { ctr --address "$sock" -n k8s.io "$@"; }
kubectl_() { "$(cat "$dir/bin")/kubectl" --kubeconfig "$dir/admin.kubeconfig" --request-timeout 20s "$@"; }

ours() { # a process we started: its PID file exists and /proc/PID/cmdline still names our folder
  local f=$nd/$1.pid pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  # not `tr | grep -q`: with pipefail, grep -q quitting early can fail the pipeline (SIGPIPE in tr)
  [ -r "/proc/$pid/cmdline" ] && [[ $(tr '\0' ' ' < "/proc/$pid/cmdline") == *"$nd/"* ]] && echo "$pid"
}
start() { # name args...
  local n=$1; shift
  setsid "$@" > "$nd/logs/$n.log" 2>&1 < /dev/null &
  echo $! > "$nd/$n.pid"
}
stop() { # name seconds
  local pid i
  pid=$(ours "$1") || { rm -f "$nd/$1.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 $(($2 * 10))); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  if [ -d "/proc/$pid" ]; then log "$1 (pid $pid) ignored SIGTERM for $2 s; SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; fi
  rm -f "$nd/$1.pid"
}
wait_for() { # what seconds command...
  local what=$1 secs=$2 i; shift 2
  for i in $(seq 1 $((secs * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  die "$what not ready after ${secs}s; logs in $nd/logs"
}
hierarchies() { # the cgroup v1 hierarchies (and the v2 one of a hybrid layout)
  awk '$9 == "cgroup" || $9 == "cgroup2" {print $5}' /proc/self/mountinfo
}

sign_kubelet() {
  local pki=$dir/pki
  openssl req -newkey rsa:2048 -nodes -subj "/O=system:nodes/CN=system:node:$name" \
    -keyout "$pki/kubelet.key" -out "$pki/kubelet.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' > "$pki/kubelet.ext"
  openssl x509 -req -in "$pki/kubelet.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 30 \
    -extfile "$pki/kubelet.ext" -out "$pki/kubelet.crt" 2>/dev/null
  cat > "$nd/kubelet.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: execguard-test
  cluster: {server: "https://127.0.0.1:$port", certificate-authority: "$pki/ca.crt"}
users:
- name: system:node:$name
  user: {client-certificate: "$pki/kubelet.crt", client-key: "$pki/kubelet.key"}
contexts:
- name: execguard-test
  context: {cluster: execguard-test, user: "system:node:$name"}
current-context: execguard-test
EOF
}

write_containerd_config() {
  mkdir -p "$nd/cni/net.d" "$nd/cni/bin"
  # host-network pods only: CRI needs a loadable network config to call the network ready; no pod ever
  # reaches the plugin (a pod without hostNetwork would fail: there is no loopback binary in bin/)
  echo '{"cniVersion": "0.4.0", "name": "execguard-host-network-only", "plugins": [{"type": "loopback"}]}' \
    > "$nd/cni/net.d/10-host-network-only.conflist"
  cat > "$nd/containerd.toml" <<EOF
version = 2
root = "$nd/containerd/root"
state = "$nd/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$nd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$nd/cni/bin"
    conf_dir = "$nd/cni/net.d"
[plugins."io.containerd.internal.v1.opt"]
  path = "$nd/containerd/opt"
EOF
}

write_kubelet_config() {
  cat > "$nd/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $kubelet_port
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $healthz_port
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$dir/pki/ca.crt"}
authorization: {mode: Webhook}
containerRuntimeEndpoint: "unix://$sock"
# this machine: cgroup v1 hybrid (the release refuses v1 unless told), no systemd, swap irrelevant
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /$cgroot
failSwapOn: false
podLogsDir: "$nd/pod-logs"
resolvConf: ""
# a test node: nothing is evicted or garbage-collected under it
evictionHard: {}
enforceNodeAllocatable: []
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
localStorageCapacityIsolation: false
serializeImagePulls: false
nodeStatusUpdateFrequency: 4s
syncFrequency: 10s
EOF
}

cgroups_create() {
  local h
  for h in $(hierarchies); do
    mkdir -p "$h/$cgroot"
    # cpuset: a new cgroup starts with no cpus and mems; take the parent's
    if [ -f "$h/cpuset.cpus" ] && [ -f "$h/$cgroot/cpuset.cpus" ]; then
      [ -n "$(cat "$h/$cgroot/cpuset.cpus")" ] || cat "$h/cpuset.cpus" > "$h/$cgroot/cpuset.cpus"
      [ -n "$(cat "$h/$cgroot/cpuset.mems")" ] || cat "$h/cpuset.mems" > "$h/$cgroot/cpuset.mems"
    fi
  done
}

cgroup_tasks() { # the processes in the node's cgroups, of every hierarchy
  local h
  for h in $(hierarchies); do
    [ -d "$h/$cgroot" ] && find "$h/$cgroot" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -un
}

kill_cgroup_tasks() {
  local pids i
  pids=$(cgroup_tasks | tr '\n' ' ')
  [ -n "${pids// }" ] || return 0
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  for i in $(seq 1 50); do [ -z "$(cgroup_tasks)" ] && return 0; sleep 0.1; done
  log "warning: processes left in the node's cgroups after SIGKILL (stuck in the kernel?): $(cgroup_tasks | tr '\n' ' ')"
}

cgroups_remove() {
  local h d left=0
  for h in $(hierarchies); do
    [ -d "$h/$cgroot" ] || continue
    # deepest first; a cgroup with tasks left refuses (reported below)
    while IFS= read -r d; do rmdir "$d" 2>/dev/null || true; done < <(find "$h/$cgroot" -depth -type d)
    [ -d "$h/$cgroot" ] && { left=1; log "warning: $h/$cgroot still has tasks: $(cat "$h/$cgroot"/cgroup.procs 2>/dev/null | head -5 | tr '\n' ' ')"; }
  done
  return $left
}

build_images() {
  local img=$nd/images rel
  mkdir -p "$img/pause/rootfs" "$img/busybox/rootfs"
  rel=$(go env GOMODCACHE 2>/dev/null)/k8s.io/kubernetes@$(basename "$(cat "$dir/bin")" | sed 's/^kube-\(v[^-]*\)-.*/\1/')
  [ -f "$rel/build/pause/linux/pause.c" ] || die "no pause.c in $rel (the release's module; hack/kube/build.sh downloads it)"
  gcc -Os -static -DVERSION=3.10-execguard -o "$img/pause/rootfs/pause" "$rel/build/pause/linux/pause.c" \
    || die "gcc -static failed (needs gcc and libc6-dev)"
  strip "$img/pause/rootfs/pause"
  bash "$here/image-archive.sh" "$img/pause/rootfs" "$pause_image" "$img/pause.tar" --entrypoint '["/pause"]'
  local bb=/bin/busybox t=$img/busybox/rootfs a
  [ -x "$bb" ] || bb=$(command -v busybox) || die "busybox not found (busybox-static)"
  mkdir -p "$t"/{bin,proc,sys,dev,etc,tmp,data}
  cp "$bb" "$t/bin/busybox"
  for a in sh ls sleep cat echo mkdir true stat ps; do ln -sf busybox "$t/bin/$a"; done
  bash "$here/image-archive.sh" "$t" "$busybox_image" "$img/busybox.tar" --env PATH=/bin
  ctr_ images import "$img/pause.tar" >/dev/null
  ctr_ images import "$img/busybox.tar" >/dev/null
}

# Debian packages the node needs (as hack/lab.sh does: package scripts may not start services)
install_missing() {
  local need=()
  command -v containerd >/dev/null 2>&1 || need+=(containerd)
  command -v runc >/dev/null 2>&1 || need+=(runc)
  [ -x /bin/busybox ] || command -v busybox >/dev/null 2>&1 || need+=(busybox-static)
  command -v gcc >/dev/null 2>&1 || need+=(gcc)
  [ -f /usr/lib/x86_64-linux-gnu/libc.a ] || [ -f /usr/lib/aarch64-linux-gnu/libc.a ] || need+=(libc6-dev)
  command -v jq >/dev/null 2>&1 || need+=(jq)
  [ ${#need[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing: ${need[*]} (no apt-get to install them)"
  log "installing ${need[*]}"
  local policy=/usr/sbin/policy-rc.d made=0 rc=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; made=1; fi
  { DEBIAN_FRONTEND=noninteractive apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; } || rc=$?
  [ $made = 1 ] && rm -f "$policy"
  [ $rc = 0 ] || die "apt-get install ${need[*]} failed ($rc)"
}

node_ready() {
  [ "$(kubectl_ get node "$name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
}

up() {
  [ "$(id -u)" = 0 ] || die "needs root"
  if ours kubelet >/dev/null && ours containerd >/dev/null && node_ready; then log "node $name already up"; return 0; fi
  install_missing
  local c
  for c in containerd ctr runc gcc strip jq openssl go unshare; do command -v $c >/dev/null || die "$c not found"; done
  [ -d "$nd" ] && down
  local t0=$SECONDS
  mkdir -p "$nd/logs" "$nd/pod-logs"
  echo "$name" > "$nd/name"   # for the node e2e (src/test/java/io/execguard/node)
  # what the kubelet creates outside DIR: remove at down only what was not there before
  for c in /var/lib/kubelet /var/log/containers; do [ -e "$c" ] || echo "$c" >> "$nd/created"; done
  # the shims' sockets: /run/containerd/s/<sha256 of socket/namespace/id> (removed by down only if empty)
  for c in /run/containerd /run/containerd/s; do [ -e "$c" ] || echo "$c" >> "$nd/created-dirs"; done
  trap 'log "node start failed; removing it"; down' EXIT
  sign_kubelet
  write_containerd_config
  write_kubelet_config
  cgroups_create
  start containerd containerd --config "$nd/containerd.toml"
  wait_for containerd 30 ctr --address "$sock" version
  build_images
  start kubelet "$(cat "$dir/bin")/kubelet" --config "$nd/kubelet.yaml" --kubeconfig "$nd/kubelet.kubeconfig" \
    --root-dir "$nd/kubelet" --cert-dir "$nd/kubelet/pki" --hostname-override "$name" --node-ip 127.0.0.1 --v=1
  wait_for "the Node $name" 60 kubectl_ get node "$name"
  kubectl_ patch node "$name" --subresource=status --type=merge \
    -p '{"status":{"addresses":[{"type":"InternalIP","address":"127.0.0.1"}]}}' >/dev/null
  wait_for "the Node $name Ready" 60 node_ready
  kubectl_ taint node "$name" node.kubernetes.io/not-ready- >/dev/null 2>&1 || true
  trap - EXIT
  log "node $name up in $((SECONDS - t0)) s: kubelet $("$(cat "$dir/bin")/kubelet" --version | awk '{print $2}') on 127.0.0.1:$kubelet_port," \
    "$(containerd --version | awk '{print "containerd", $3}'), $(runc --version | head -1), images: $(ctr_ images ls -q | grep -v '^sha256:' | tr '\n' ' ')"
}

image() { # JAR: the execguard image of hack/lab-image.sh, as an archive, imported
  local jar=$1 tag=lab/execguard:dev
  ours containerd >/dev/null || die "the node is not up: bash hack/cluster.sh node-up"
  # cached beside the kube binaries: rebuilt only when the jar's content, the JDK or lab-image.sh change
  local cache=${XDG_CACHE_HOME:-$HOME/.cache}/execguard/node-images
  mkdir -p "$cache"
  bash "$here/lab-image.sh" "$jar" "$tag" --archive "$cache/execguard-dev.tar"
  ctr_ images import "$cache/execguard-dev.tar" >/dev/null
  log "imported $tag into the node's containerd"
}

down() {
  [ -d "$nd" ] || return 0
  local api=0 t0=$SECONDS
  [ -f "$dir/admin.kubeconfig" ] && kubectl_ get --raw /readyz >/dev/null 2>&1 && api=1
  if [ $api = 1 ]; then
    kubectl_ delete pods -A --field-selector "spec.nodeName=$name" --force --grace-period=0 --wait=false >/dev/null 2>&1 || true
    kubectl_ delete node "$name" --wait=false >/dev/null 2>&1 || true
  fi
  stop kubelet 20
  if ours containerd >/dev/null; then
    local id
    for id in $(ctr_ tasks ls -q 2>/dev/null); do
      timeout 10 ctr_ tasks kill -s KILL "$id" >/dev/null 2>&1 || true
    done
  fi
  # every process left in the node's cgroups (exec'd processes, leaked shells), then the tasks
  kill_cgroup_tasks
  if ours containerd >/dev/null; then
    for id in $(ctr_ tasks ls -q 2>/dev/null); do
      timeout 10 ctr_ tasks rm -f "$id" >/dev/null 2>&1 || log "warning: task $id does not go (stuck in the kernel?)"
    done
    for id in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers rm "$id" >/dev/null 2>&1 || true; done
  fi
  stop containerd 20
  # shims of this containerd (their command line names its socket) outlive it by design
  local pid
  local cmd id
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $sock" || true); do
    cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || continue
    case $cmd in *"-address $sock "*|*"-address $sock") ;; *) continue ;; esac
    kill -KILL "$pid" 2>/dev/null && log "killed shim $pid"
    id=$(sed -n 's/.* -id \([^ ]*\).*/\1/p' <<<"$cmd")
    [ -n "$id" ] && rm -f "/run/containerd/s/$(printf '%s' "$sock/k8s.io/$id" | sha256sum | cut -c1-64)"
  done
  # mounts under DIR/node (sandbox /dev/shm, rootfs overlays, kubelet volumes), deepest first
  local m
  for m in $(awk -v p="$nd/" 'index($5, p) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "warning: cannot unmount $m"
  done
  cgroups_remove || true
  for m in /var/log/containers/*.log; do
    [ -L "$m" ] && case $(readlink "$m") in "$nd"/*) rm -f "$m" ;; esac
  done
  if [ -f "$nd/created" ]; then
    while IFS= read -r m; do rm -rf "$m"; done < "$nd/created"
  fi
  if [ -f "$nd/created-dirs" ]; then
    while IFS= read -r m; do rmdir "$m" 2>/dev/null || true; done < <(sort -r "$nd/created-dirs")
  fi
  rm -rf "$nd"
  rm -f "$dir/pki/kubelet."*
  log "node $name removed in $((SECONDS - t0)) s"
}

status() {
  local n pid rc=0
  for n in containerd kubelet; do
    if pid=$(ours $n); then echo "node $n: running (pid $pid)"; else echo "node $n: not running"; rc=1; fi
  done
  if node_ready 2>/dev/null; then echo "node $name: Ready"; else echo "node $name: not Ready"; rc=1; fi
  return $rc
}

case "${1:-}" in
  up) up ;;
  image) image "${2:?JAR}" ;;
  down) down ;;
  status) status ;;
  *) echo "usage: bash hack/node.sh up|image JAR|down|status (normally through hack/cluster.sh)" >&2; exit 2 ;;
esac
