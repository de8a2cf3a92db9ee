#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kubelet and kubectl from the Go modules pinned in
# hack/kube/go.mod into a bin folder keyed by that release and by go.sum, and prints the folder.
# A second run finds the folder complete and returns at once; Go's own caches make a rebuild after a
# go.mod change incremental. Needs Go >= the go directive of go.mod and the Go module proxy.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
release=$(awk '$1=="k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "$here/go.mod")
[ -n "$release" ] || { echo "hack/kube/build.sh: no k8s.io/kubernetes version in go.mod" >&2; exit 2; }
key=$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" | sha256sum | cut -c1-12)
out=${EXECGUARD_KUBE_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/execguard/kube-$release-$key}
cmds=(etcd kube-apiserver kube-controller-manager kubelet kubectl)
complete=1
for c in "${cmds[@]}"; do [ -x "$out/$c" ] || complete=0; done
if [ $complete = 1 ]; then echo "$out"; exit 0; fi
command -v go >/dev/null || { echo "hack/kube/build.sh: go not found" >&2; exit 3; }
mkdir -p "$out.tmp"
minor=${release#v1.}; minor=${minor%%.*}
ver="-X k8s.io/component-base/version.gitVersion=$release -X k8s.io/component-base/version.gitMajor=1"
ver+=" -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
ver+=" -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
ver+=" -X k8s.io/client-go/pkg/version.gitVersion=$release -X k8s.io/client-go/pkg/version.gitMajor=1"
ver+=" -X k8s.io/client-go/pkg/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitTreeState=clean"
start=$(date +%s)
cd "$here"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
declare -A pkg=([etcd]=go.etcd.io/etcd/server/v3 [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
  [kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager [kubelet]=k8s.io/kubernetes/cmd/kubelet
  [kubectl]=k8s.io/kubernetes/cmd/kubectl)
for c in "${cmds[@]}"; do
  [ -x "$out/$c" ] && continue
  echo "hack/kube/build.sh: building $c $release ..." >&2
  t0=$(date +%s)
  go build -trimpath -ldflags "-s -w $ver" -o "$out.tmp/$c" "${pkg[$c]}"
  mkdir -p "$out"; mv "$out.tmp/$c" "$out/$c"
  echo "hack/kube/build.sh: $c built in $(( $(date +%s) - t0 )) s" >&2
done
rmdir "$out.tmp" 2>/dev/null || true
echo "hack/kube/build.sh: control plane $release built in $(( $(date +%s) - start )) s into $out" >&2
echo "$out"
