#!/usr/bin/env bash
# Packs a root file system as a one-layer image archive in `docker save` format, which
# `ctr images import` (and `docker load`) read, so images reach a node's containerd without a registry:
#
#   bash hack/image-archive.sh ROOTFS TAG OUT [--entrypoint JSON] [--cmd JSON] [--env K=V]... [--label K=V]...
#
#   ROOTFS  a folder: the image's / (owners are written as root, times as 1970, names sorted: the
#           same folder gives the same layer digest)
#   TAG     the image reference it carries, e.g. execguard.local/pause:3.10
#   OUT     the archive to write
#   JSON    a JSON array, e.g. '["/pause"]'
# Needs tar, sha256sum and jq.
set -euo pipefail
die() { echo "[image-archive] error: $*" >&2; exit 1; }
[ $# -ge 3 ] || { sed -n '2,13p' "$0" >&2; exit 2; }
rootfs=$1 tag=$2 out=$3; shift 3
[ -d "$rootfs" ] || die "no such folder: $rootfs"
command -v jq >/dev/null || die "jq is not installed"
entrypoint=null cmd=null envs=() labels=()
while [ $# -gt 0 ]; do
  case $1 in
    --entrypoint) entrypoint=$2; shift 2 ;;
    --cmd) cmd=$2; shift 2 ;;
    --env) envs+=("$2"); shift 2 ;;
    --label) labels+=("$2"); shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
work=$(mktemp -d "${TMPDIR:-/tmp}/execguard-image-archive.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -C "$rootfs" --sort=name --mtime=@0 --numeric-owner --owner=0 --group=0 -cf "$work/layer.tar" .
layer=$(sha256sum "$work/layer.tar" | cut -c1-64)
mv "$work/layer.tar" "$work/$layer.tar"
env_json=$(printf '%s\n' "${envs[@]+"${envs[@]}"}" | jq -R . | jq -sc 'map(select(length > 0))')
label_json=$(printf '%s\n' "${labels[@]+"${labels[@]}"}" | jq -R . \
  | jq -sc 'map(select(length > 0) | capture("^(?<k>[^=]+)=(?<v>.*)$")) | map({(.k): .v}) | add // {}')
jq -nc --argjson ep "$entrypoint" --argjson cmd "$cmd" --argjson env "$env_json" --argjson labels "$label_json" \
  --arg diff "sha256:$layer" \
  '{architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z",
    config: ({Env: $env, Labels: $labels} + (if $ep == null then {} else {Entrypoint: $ep} end)
             + (if $cmd == null then {} else {Cmd: $cmd} end)),
    rootfs: {type: "layers", diff_ids: [$diff]},
    history: [{created: "1970-01-01T00:00:00Z", created_by: "hack/image-archive.sh"}]}' > "$work/config.json"
config=$(sha256sum "$work/config.json" | cut -c1-64)
mv "$work/config.json" "$work/$config.json"
jq -nc --arg c "$config.json" --arg t "$tag" --arg l "$layer.tar" '[{Config: $c, RepoTags: [$t], Layers: [$l]}]' \
  > "$work/manifest.json"
tar -C "$work" --mtime=@0 --numeric-owner --owner=0 --group=0 -cf "$out.tmp" manifest.json "$config.json" "$layer.tar"
mv "$out.tmp" "$out"
echo "[image-archive] $tag -> $out ($(du -h "$out" | cut -f1), layer sha256:${layer:0:12})" >&2
