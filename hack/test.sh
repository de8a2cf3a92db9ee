#!/usr/bin/env bash
# The test command. Unit and mock-server tests (*Test) run everywhere. When this is root on Linux, the
# lab tests (*IT) run too: the kernel ones (real /proc, cgroups, FUSE) and the container-runtime ones,
# for which this script brings up the lab (bash hack/lab.sh up: Debian dockerd/containerd/runc) and
# always tears it down again (bash hack/lab.sh down), whatever the result.
#   EXECGUARD_LAB=off          no lab tests at all
#   EXECGUARD_DOCKER_LAB=off   the kernel lab tests only (no dockerd)
# On Linux with Go, the real-control-plane tests (*KubeIT) run too: this script builds (first time only,
# cached) and starts etcd, kube-apiserver and kube-controller-manager on 127.0.0.1 (bash hack/cluster.sh up)
# and always stops them again (bash hack/cluster.sh down).
#   EXECGUARD_KUBE=off         no *KubeIT tests
# As root on Linux with Go, the node e2e (*NodeIT: the chart on a real kubelet + containerd, docs/TESTING.md)
# runs on a second cluster of its own with a node (bash hack/cluster.sh up --node in
# EXECGUARD_NODE_CLUSTER_DIR, default /tmp/execguard-node-e2e, port EXECGUARD_NODE_CLUSTER_PORT, default
# 16543), always removed again (down).
#   EXECGUARD_NODE=off         no node e2e
set -euo pipefail
cd "$(dirname "$0")/.."
. hack/jdk.sh
args=(-B -ntp verify)
cleanups=()
cleanup() { local c; for c in "${cleanups[@]}"; do eval "$c"; done; }
trap cleanup EXIT
if [ "${EXECGUARD_KUBE:-auto}" = off ]; then
  echo "execguard: real-control-plane tests (*KubeIT) skipped (EXECGUARD_KUBE=off)" >&2
elif [ "$(uname -s)" != Linux ]; then
  echo "execguard: real-control-plane tests (*KubeIT) skipped: they need Linux" >&2
elif ! command -v go >/dev/null 2>&1; then
  echo "execguard: real-control-plane tests (*KubeIT) skipped: no Go toolchain to build kube-apiserver with" >&2
else
  cleanups+=('bash hack/cluster.sh down || echo "execguard: cluster teardown failed; see bash hack/cluster.sh status" >&2')
  kubeconfig=$(bash hack/cluster.sh up)
  args+=(-Pkube "-Dexecguard.kubeconfig=$kubeconfig")
fi
if [ "${EXECGUARD_NODE:-auto}" = off ]; then
  echo "execguard: node e2e (*NodeIT) skipped (EXECGUARD_NODE=off)" >&2
elif [ "$(id -u)" != 0 ] || [ "$(uname -s)" != Linux ] || ! command -v go >/dev/null 2>&1; then
  echo "execguard: node e2e (*NodeIT) skipped: it needs root on Linux and Go (a kubelet and containerd run here)" >&2
else
  node_env=(EXECGUARD_CLUSTER_DIR="${EXECGUARD_NODE_CLUSTER_DIR:-/tmp/execguard-node-e2e}"
            EXECGUARD_CLUSTER_PORT="${EXECGUARD_NODE_CLUSTER_PORT:-16543}")
  cleanups+=("env ${node_env[*]} bash hack/cluster.sh down || echo \"execguard: node cluster teardown failed; see bash hack/cluster.sh status\" >&2")
  node_kubeconfig=$(env "${node_env[@]}" bash hack/cluster.sh up --node)
  args+=(-Pnode "-Dexecguard.node.kubeconfig=$node_kubeconfig")
fi
if [ "$(id -u)" = 0 ] && [ "$(uname -s)" = Linux ] && [ "${EXECGUARD_LAB:-auto}" != off ]; then
  bash hack/lab-deps.sh
  if [ "${EXECGUARD_DOCKER_LAB:-auto}" != off ]; then
    cleanups+=('bash hack/lab.sh down || echo "execguard: lab teardown failed; see bash hack/lab.sh status" >&2')
    bash hack/lab.sh up
    args+=(-Pfull-lab)
  else
    echo "execguard: container-runtime lab tests skipped (EXECGUARD_DOCKER_LAB=off)" >&2
    args+=(-Plab)
  fi
else
  echo "execguard: lab tests (*IT) skipped: they need root on Linux" >&2
fi
mvn "${args[@]}" "$@"
