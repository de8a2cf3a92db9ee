#!/usr/bin/env bash
# The test command. Unit and mock-server tests (*Test) run everywhere. When this is root on Linux, the
# lab tests (*IT) run too: the kernel ones (real /proc, cgroups, FUSE) and the container-runtime ones,
# for which this script brings up the lab (bash hack/lab.sh up: Debian dockerd/containerd/runc) and
# always tears it down again (bash hack/lab.sh down), whatever the result.
#   EXECGUARD_LAB=off          no lab tests at all
#   EXECGUARD_DOCKER_LAB=off   the kernel lab tests only (no dockerd)
set -euo pipefail
cd "$(dirname "$0")/.."
. hack/jdk.sh
args=(-B -ntp verify)
if [ "$(id -u)" = 0 ] && [ "$(uname -s)" = Linux ] && [ "${EXECGUARD_LAB:-auto}" != off ]; then
  bash hack/lab-deps.sh
  if [ "${EXECGUARD_DOCKER_LAB:-auto}" != off ]; then
    trap 'bash hack/lab.sh down || echo "execguard: lab teardown failed; see bash hack/lab.sh status" >&2' EXIT
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
