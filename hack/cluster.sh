#!/usr/bin/env bash
# A real Kubernetes control plane for the *KubeIT tests, on 127.0.0.1 only: etcd, kube-apiserver (TLS,
# service-account issuer and signing key, Node,RBAC authorization, the default admission chain, which
# includes ValidatingAdmissionPolicy and NodeRestriction) and kube-controller-manager (garbage collector,
# service-account and token controllers, ...), all built from the Go modules pinned in hack/kube/go.mod
# (hack/kube/build.sh; first build ~10 min on 2 cores, then cached).
#
#   bash hack/cluster.sh up          build if needed, start, wait until ready, print the kubeconfig path
#   bash hack/cluster.sh kubeconfig  print the admin kubeconfig path
#   bash hack/cluster.sh status      what runs, and whether the API server answers
#   bash hack/cluster.sh down        stop exactly what up started (by recorded PID) and remove its state;
#                                    also after a crash or a reboot
#   bash hack/cluster.sh restart-apiserver  stop the recorded kube-apiserver only, start it again with the
#                                    same flags, wait for /readyz (fault tests; etcd keeps the data)
#   bash hack/cluster.sh build       only build the binaries (prints their folder)
#   bash hack/cluster.sh up --node   up, then node-up
#   bash hack/cluster.sh node-up     add one real node to a running cluster (root): Debian's containerd
#                                    (CRI) on its own socket and state under DIR/node, runc, the kubelet of
#                                    the same release, images imported without a registry (hack/node.sh)
#   bash hack/cluster.sh node-image JAR   import the execguard image built from JAR into the node
#   bash hack/cluster.sh node-down   remove the node and everything it created (down does this too)
#
#   EXECGUARD_CLUSTER_DIR   state (certificates, etcd data, logs, PIDs); default /tmp/execguard-cluster
#   EXECGUARD_CLUSTER_PORT  the API server's port on 127.0.0.1; default 16443. etcd uses PORT+1 (client)
#                           and PORT+2 (peer); the controller manager serves nothing.
#   EXECGUARD_APISERVER_PROFILING  true: the API server serves /debug/pprof (OperatorScaleKubeIT
#                           -Dexecguard.scale.pprof=DIR); default false
#   EXECGUARD_KUBE_BIN      use binaries from this folder instead of building them
#   EXECGUARD_NODE_NAME     the node's name (default execguard-node); the kubelet serves on PORT+3
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${EXECGUARD_CLUSTER_DIR:-/tmp/execguard-cluster}
port=${EXECGUARD_CLUSTER_PORT:-16443}
etcd_port=$((port + 1)); peer_port=$((port + 2))
server=https://127.0.0.1:$port
kubeconfig=$dir/admin.kubeconfig
log() { echo "hack/cluster.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# A process we started: its PID file exists and /proc/PID/cmdline still names our state folder.
ours() {
  local f=$dir/$1.pid pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  # not `tr | grep -q`: with pipefail, grep -q quitting early can fail the pipeline (SIGPIPE in tr)
  [ -r "/proc/$pid/cmdline" ] && [[ $(tr '\0' ' ' < "/proc/$pid/cmdline") == *"$dir/"* ]] && echo "$pid"
}

stop() { # name [seconds of grace after SIGTERM, default 10]
  local name=$1 grace=${2:-10} pid i
  pid=$(ours "$name") || { rm -f "$dir/$name.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 $((grace * 10))); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  if [ -d "/proc/$pid" ]; then log "$name (pid $pid) still running ${grace} s after SIGTERM; SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  for i in $(seq 1 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  rm -f "$dir/$name.pid"
}

down() {
  [ -d "$dir" ] || { log "nothing to stop ($dir does not exist)"; return 0; }
  [ -d "$dir/node" ] && node_sh down
  stop kube-controller-manager
  stop kube-apiserver
  stop etcd
  rm -rf "$dir"
  log "stopped; removed $dir"
}

certs() {
  local pki=$dir/pki
  mkdir -p "$pki"; chmod 700 "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=execguard-test-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  # name, subject, extensions
  sign() {
    openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$pki/$1.key" -out "$pki/$1.csr" 2>/dev/null
    printf '%s\n' "$3" > "$pki/$1.ext"
    openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 30 \
      -extfile "$pki/$1.ext" -out "$pki/$1.crt" 2>/dev/null
  }
  sign apiserver "/CN=kube-apiserver" \
    "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage=serverAuth"
  sign admin "/O=system:masters/CN=execguard-test-admin" "extendedKeyUsage=clientAuth"
  sign controller-manager "/CN=system:kube-controller-manager" "extendedKeyUsage=clientAuth"
  # the API server's client certificate towards kubelets (exec, attach, logs, port-forward)
  sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "extendedKeyUsage=clientAuth"
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
}

write_kubeconfig() { # file user
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: execguard-test
  cluster:
    server: $server
    certificate-authority: $dir/pki/ca.crt
users:
- name: $2
  user:
    client-certificate: $dir/pki/$2.crt
    client-key: $dir/pki/$2.key
contexts:
- name: execguard-test
  context: {cluster: execguard-test, user: $2}
current-context: execguard-test
EOF
}

start() { # name binary args...
  local name=$1; shift
  setsid "$@" > "$dir/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$dir/$name.pid"
}

wait_for() { # what seconds command...
  local what=$1 secs=$2 i; shift 2
  for i in $(seq 1 $((secs * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  die "$what not ready after ${secs}s; its log: $(ls "$dir"/logs/*.log | tr '\n' ' ')"
}

ready() {
  curl -fsS --max-time 2 --cacert "$dir/pki/ca.crt" --cert "$dir/pki/admin.crt" --key "$dir/pki/admin.key" \
    "$server/readyz" >/dev/null
}

start_apiserver() { # bin
  local bin=$1
  start kube-apiserver "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$port" \
    --tls-cert-file "$dir/pki/apiserver.crt" --tls-private-key-file "$dir/pki/apiserver.key" \
    --client-ca-file "$dir/pki/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$dir/pki/sa.pub" --service-account-signing-key-file "$dir/pki/sa.key" \
    --service-cluster-ip-range 10.0.0.0/24 --endpoint-reconciler-type none \
    --authorization-mode Node,RBAC \
    --kubelet-client-certificate "$dir/pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$dir/pki/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP \
    --enable-admission-plugins NodeRestriction \
    --allow-privileged=true --profiling="${EXECGUARD_APISERVER_PROFILING:-false}" --v=1
}

# Only the API server: SIGTERM to its recorded PID, SIGKILL 2 s later (it stops listening at once but then
# lingers for 10 s and more over its open connections), the same binary and flags again, then /readyz: about
# 6 s without an API server. etcd and the controller manager keep running (the latter reconnects by itself).
restart_apiserver() {
  ours kube-apiserver >/dev/null || die "no API server of ours is running in $dir; run: bash hack/cluster.sh up"
  local bin t0; bin=$(cat "$dir/bin"); t0=$(date +%s%N)
  stop kube-apiserver 2
  mv -f "$dir/logs/kube-apiserver.log" "$dir/logs/kube-apiserver.previous.log"
  start_apiserver "$bin"
  wait_for kube-apiserver 120 ready
  log "API server restarted in $(( ($(date +%s%N) - t0) / 1000000 )) ms (pid $(cat "$dir/kube-apiserver.pid"))"
}

up() {
  if ours kube-apiserver >/dev/null && ready; then
    log "already up"; echo "$kubeconfig"; return 0
  fi
  [ "$(uname -s)" = Linux ] || die "needs Linux"
  bin=$("$here/kube/build.sh")
  [ -d "$dir" ] && down
  mkdir -p "$dir/logs" "$dir/etcd"
  local t0; t0=$(date +%s)
  certs
  write_kubeconfig "$kubeconfig" admin
  write_kubeconfig "$dir/controller-manager.kubeconfig" controller-manager
  echo "$bin" > "$dir/bin"
  trap 'log "start failed; stopping what started"; down' EXIT
  start etcd "$bin/etcd" --name execguard-test --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "execguard-test=http://127.0.0.1:$peer_port" --listen-metrics-urls "" \
    --unsafe-no-fsync --quota-backend-bytes 4294967296 --log-level warn
  wait_for etcd 30 curl -fsS --max-time 1 "http://127.0.0.1:$etcd_port/health"
  start_apiserver "$bin"
  wait_for kube-apiserver 120 ready
  start kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig "$dir/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$dir/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$dir/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false \
    --use-service-account-credentials=true \
    --service-account-private-key-file "$dir/pki/sa.key" --root-ca-file "$dir/pki/ca.crt" \
    --controllers '*,-node-lifecycle-controller,-node-ipam-controller,-taint-eviction-controller,-ttl-controller' \
    --concurrent-gc-syncs 5 --v=1
  # the controller manager works: the service-account controller has made the default namespace's account
  wait_for kube-controller-manager 60 "$bin/kubectl" --kubeconfig "$kubeconfig" get serviceaccount default -n default
  trap - EXIT
  log "up in $(( $(date +%s) - t0 )) s: $server (etcd 127.0.0.1:$etcd_port), state in $dir"
  echo "$kubeconfig"
}

status() {
  local name pid rc=0
  for name in etcd kube-apiserver kube-controller-manager; do
    if pid=$(ours $name); then echo "$name: running (pid $pid)"; else echo "$name: not running"; rc=1; fi
  done
  if [ -f "$kubeconfig" ] && ready; then echo "api server: ready at $server"; else echo "api server: not answering"; rc=1; fi
  [ -f "$kubeconfig" ] && echo "kubeconfig: $kubeconfig"
  [ -d "$dir/node" ] && { node_sh status || rc=1; }
  return $rc
}

# the node (a kubelet on containerd) lives in hack/node.sh; it reads the same environment
node_sh() { EXECGUARD_CLUSTER_DIR=$dir EXECGUARD_CLUSTER_PORT=$port bash "$here/node.sh" "$@"; }

case "${1:-}" in
  up) if [ "${2:-}" = --node ]; then up >/dev/null; node_sh up; echo "$kubeconfig"; else up; fi ;;
  node-up) ours kube-apiserver >/dev/null && ready || die "the cluster is not up: bash hack/cluster.sh up"; node_sh up ;;
  node-image) node_sh image "${2:?usage: bash hack/cluster.sh node-image JAR}" ;;
  node-down) node_sh down ;;
  down) down ;;
  status) status ;;
  restart-apiserver) restart_apiserver ;;
  kubeconfig) [ -f "$kubeconfig" ] || die "not up (no $kubeconfig); run: bash hack/cluster.sh up"; echo "$kubeconfig" ;;
  build) "$here/kube/build.sh" ;;
  *) echo "usage: bash hack/cluster.sh up [--node]|down|status|kubeconfig|restart-apiserver|build|node-up|node-image JAR|node-down" >&2; exit 2 ;;
esac
