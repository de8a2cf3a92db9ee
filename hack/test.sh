#!/usr/bin/env bash
# The test command. Unit and mock-server tests (*Test) run everywhere; lab tests (*IT), which drive the
# real kernel, run too when this is root on Linux (set EXECGUARD_LAB=off to skip them).
set -euo pipefail
cd "$(dirname "$0")/.."
. hack/jdk.sh
args=(-B -ntp verify)
if [ "$(id -u)" = 0 ] && [ "$(uname -s)" = Linux ] && [ "${EXECGUARD_LAB:-auto}" != off ]; then
  bash hack/lab-deps.sh
  args+=(-Plab)
else
  echo "execguard: lab tests (*IT) skipped: they need root on Linux" >&2
fi
exec mvn "${args[@]}" "$@"
