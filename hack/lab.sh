#!/usr/bin/env bash
# The container-runtime lab (docs/LAB.md): a real containerd + dockerd + runc from Debian packages,
# fusectl mounted, and the image lab/busybox:1 made with `docker import` from busybox-static.
#
#   bash hack/lab.sh up       install what is missing, start the daemons, build the image (idempotent)
#   bash hack/lab.sh down     remove the lab's containers (label execguard-lab=1) and images, stop the
#                             daemons this script started (by recorded PID), unmount what it mounted
#   bash hack/lab.sh status   what is running
#
# Needs root on Linux. State (PIDs, what was mounted) lives in $EXECGUARD_LAB_STATE (default
# /run/execguard-lab), daemon logs in $EXECGUARD_LAB_LOGS (default /var/log/execguard-lab).
# Daemons that were already running when `up` ran are used as they are and never stopped by `down`.
set -euo pipefail

STATE=${EXECGUARD_LAB_STATE:-/run/execguard-lab}
LOGS=${EXECGUARD_LAB_LOGS:-/var/log/execguard-lab}
IMAGE=lab/busybox:1
LABEL=execguard-lab=1
CONTAINERD_SOCK=/run/containerd/containerd.sock
DOCKER_SOCK=/var/run/docker.sock
FUSECTL=/sys/fs/fuse/connections

log() { echo "[lab.sh] $*" >&2; }
die() { log "error: $*"; exit 1; }

# The Debian client (/usr/bin/docker) matches the Debian dockerd; fall back to whatever is on PATH.
docker_cli() {
  if [ -x /usr/bin/docker ]; then echo /usr/bin/docker; else command -v docker || true; fi
}
dk() { local d; d=$(docker_cli); [ -n "$d" ] || return 127; DOCKER_HOST=unix://$DOCKER_SOCK "$d" "$@"; }

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
recorded() { [ -f "$STATE/$1.pid" ] && cat "$STATE/$1.pid" || true; }
# true when the recorded PID is still the program we started (PIDs can be reused)
ours_alive() {
  local pid; pid=$(recorded "$1")
  alive "$pid" && [ "$(readlink "/proc/$pid/exe" 2>/dev/null | xargs -r basename)" = "$1" ]
}

containerd_up() { [ -S "$CONTAINERD_SOCK" ] && command -v ctr >/dev/null && timeout 5 ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1; }
dockerd_up() { [ -S "$DOCKER_SOCK" ] && timeout 5 "$(docker_cli)" -H "unix://$DOCKER_SOCK" version >/dev/null 2>&1; }

wait_for() { # seconds, description, command...
  local secs=$1 what=$2; shift 2
  local end=$((SECONDS + secs))
  until "$@"; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.2
  done
  log "$what is up"
}

install_missing() {
  local need=()
  command -v dockerd >/dev/null 2>&1 && [ -x /usr/bin/docker ] || need+=(docker.io)
  command -v containerd >/dev/null 2>&1 || need+=(containerd)
  command -v runc >/dev/null 2>&1 || need+=(runc)
  [ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || need+=(busybox-static)
  command -v bindfs >/dev/null 2>&1 || need+=(bindfs)
  command -v fusermount3 >/dev/null 2>&1 || need+=(fuse3)
  command -v script >/dev/null 2>&1 || need+=(bsdutils)
  [ ${#need[@]} -eq 0 ] && return 0
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # keep package scripts from starting services: this script starts the daemons itself
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; made_policy=1
  fi
  local rc=0
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; } || rc=$?
  [ $made_policy = 1 ] && rm -f "$policy"
  [ $rc = 0 ] || die "apt-get install ${need[*]} failed ($rc)"
}

start_daemon() { # name, log file, argv...
  local name=$1 logf=$2; shift 2
  setsid "$@" </dev/null >>"$logf" 2>&1 &
  echo $! >"$STATE/$name.pid"
  log "started $name (pid $!, log $logf)"
}

build_image() {
  dk image inspect "$IMAGE" >/dev/null 2>&1 && return 0
  local bb tmp
  bb=$(command -v busybox || true)
  [ -x /bin/busybox ] && bb=/bin/busybox
  [ -n "$bb" ] || die "busybox not found"
  tmp=$(mktemp -d)
  mkdir -p "$tmp"/{bin,proc,sys,dev,etc,tmp,data}
  cp "$bb" "$tmp/bin/busybox"
  for a in sh ls sleep cat echo mkdir true stat ps; do ln -s busybox "$tmp/bin/$a"; done
  tar -C "$tmp" -c . | dk import --change 'ENV PATH=/bin' - "$IMAGE" >/dev/null
  rm -rf "$tmp"
  log "built $IMAGE"
}

up() {
  [ "$(id -u)" = 0 ] || die "needs root"
  local t0=$SECONDS
  mkdir -p "$STATE" "$LOGS"
  install_missing
  if ! mountpoint -q "$FUSECTL" 2>/dev/null; then
    mount -t fusectl none "$FUSECTL" && touch "$STATE/fusectl.mounted" && log "mounted fusectl"
  fi
  if containerd_up; then
    log "containerd already running"
  else
    start_daemon containerd "$LOGS/containerd.log" containerd
    wait_for 30 containerd containerd_up || die "containerd did not come up: $(tail -5 "$LOGS/containerd.log")"
  fi
  if dockerd_up; then
    log "dockerd already running"
  else
    start_daemon dockerd "$LOGS/dockerd.log" dockerd --containerd="$CONTAINERD_SOCK" \
      --iptables=false --ip6tables=false --bridge=none --host "unix://$DOCKER_SOCK" \
      --exec-opt native.cgroupdriver=cgroupfs
    wait_for 60 dockerd dockerd_up || die "dockerd did not come up: $(tail -5 "$LOGS/dockerd.log")"
  fi
  build_image
  log "up in $((SECONDS - t0)) s: $(dk version --format 'dockerd {{.Server.Version}}') , $(containerd --version | awk '{print "containerd", $3}'), $(runc --version | head -1)"
}

stop_ours() { # name, seconds
  local name=$1 secs=$2 pid
  pid=$(recorded "$name")
  if ours_alive "$name"; then
    kill -TERM "$pid"
    local end=$((SECONDS + secs))
    while alive "$pid" && [ $SECONDS -lt $end ]; do sleep 0.2; done
    if alive "$pid"; then
      log "$name (pid $pid) ignored SIGTERM for ${secs}s, SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
    fi
    log "stopped $name (pid $pid)"
  elif [ -n "$pid" ]; then
    log "$name (pid $pid) no longer running"
  fi
  rm -f "$STATE/$name.pid"
}

down() {
  [ "$(id -u)" = 0 ] || die "needs root"
  if dockerd_up; then
    local ids
    ids=$(dk ps -aq --filter "label=$LABEL" || true)
    if [ -n "$ids" ]; then
      # a container stuck on a frozen FUSE mount makes `docker rm -f` hang: bound it
      # shellcheck disable=SC2086
      timeout 60 "$(docker_cli)" -H "unix://$DOCKER_SOCK" rm -f $ids >/dev/null || log "warning: docker rm -f of lab containers failed"
    fi
    if [ -f "$STATE/dockerd.pid" ]; then
      # lab/execguard:dev: the probe image hack/lab-image.sh builds (ProbeInContainerDockerIT)
      dk image rm -f "$IMAGE" lab/execguard:dev >/dev/null 2>&1 || true
    fi
  fi
  local ours_dockerd=0
  [ -f "$STATE/dockerd.pid" ] && ours_dockerd=1
  stop_ours dockerd 30
  # dockerd (cgroupfs driver) leaves its empty parent cgroups behind, and the bind mount of its default
  # network namespace (/run/docker/netns/default): remove them if it was ours
  if [ $ours_dockerd = 1 ]; then
    for d in /sys/fs/cgroup/*/docker; do [ -d "$d" ] && rmdir "$d" 2>/dev/null || true; done
    local ns
    for ns in $(awk '$5 ~ /^\/run\/docker\/netns\// {print $5}' /proc/self/mountinfo); do
      umount "$ns" 2>/dev/null && rm -f "$ns" && log "unmounted $ns" || log "warning: cannot unmount $ns"
    done
    # and the bind of /var/lib/docker onto itself it makes at start (mountinfo root /var/lib/docker; a disk of
    # its own mounted there has root / and is left alone)
    if awk '$5 == "/var/lib/docker" && $4 == "/var/lib/docker" {f=1} END {exit !f}' /proc/self/mountinfo; then
      umount /var/lib/docker 2>/dev/null && log "unmounted the self-bind of /var/lib/docker" \
        || log "warning: cannot unmount /var/lib/docker"
    fi
  fi
  stop_ours containerd 30
  # shims of removed containers exit on their own; give them a moment
  if [ -f "$STATE/fusectl.mounted" ]; then
    umount "$FUSECTL" 2>/dev/null && log "unmounted fusectl" || log "fusectl still in use, left mounted"
    rm -f "$STATE/fusectl.mounted"
  fi
  rmdir "$STATE" 2>/dev/null || true
  local left
  left=$(awk '$5 ~ /^\/(var\/lib\/docker|run\/docker|run\/containerd|var\/lib\/containerd)/ {print $5}' /proc/self/mountinfo || true)
  [ -z "$left" ] || log "warning: mounts left behind: $left"
  log "down"
}

status() {
  for d in containerd dockerd; do
    local pid; pid=$(recorded $d)
    if ours_alive $d; then echo "$d: running (pid $pid, started by lab.sh)";
    elif { [ $d = containerd ] && containerd_up; } || { [ $d = dockerd ] && dockerd_up; }; then echo "$d: running (not started by lab.sh)";
    else echo "$d: not running"; fi
  done
  mountpoint -q "$FUSECTL" 2>/dev/null && echo "fusectl: mounted" || echo "fusectl: not mounted"
  if dockerd_up; then
    dk image inspect "$IMAGE" >/dev/null 2>&1 && echo "image $IMAGE: present" || echo "image $IMAGE: absent"
    echo "lab containers: $(dk ps -aq --filter "label=$LABEL" | wc -l)"
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
