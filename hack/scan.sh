#!/usr/bin/env bash
# Builds execguard if needed and scans this host once: bash hack/scan.sh [scan options]
# Run as root to see other users' kernel stacks and signal state.
set -euo pipefail
cd "$(dirname "$0")/.."
. hack/jdk.sh
jar=target/execguard.jar
if [ ! -f "$jar" ] || [ -n "$(find src pom.xml -newer "$jar" -print -quit)" ]; then
  mvn -B -q -ntp package -DskipTests >&2
fi
exec java -jar "$jar" scan "$@"
