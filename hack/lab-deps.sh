#!/usr/bin/env bash
# Installs what the lab tests need (bindfs and fuse3 for FUSE scenarios) when missing. Needs root.
set -euo pipefail
missing=()
command -v bindfs >/dev/null 2>&1 || missing+=(bindfs)
command -v fusermount3 >/dev/null 2>&1 || command -v fusermount >/dev/null 2>&1 || missing+=(fuse3)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
mountpoint -q /sys/fs/fuse/connections 2>/dev/null || mount -t fusectl none /sys/fs/fuse/connections 2>/dev/null || true
