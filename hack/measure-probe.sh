#!/usr/bin/env bash
# Measures what docs/RESOURCES.md records: the probe's RSS and CPU while scanning a busy node.
#   bash hack/measure-probe.sh [JAVA] [SECONDS]
# JAVA: the java binary to run the jar with (default $JAVA_HOME/bin/java; pass a jlink'd runtime's
# bin/java to measure the image's runtime). Needs target/execguard.jar and the test classes
# (mvn -DskipTests package test-compile). It
#   1. writes a 50,000-task synthetic busy node (io.execguard.bench.BusyNode) under /dev/shm,
#   2. times `execguard scan` and `execguard bench` on it under /usr/bin/time (peak RSS, CPU),
#   3. starts fabric8's mock API server (HTTPS, CRUD) and runs `execguard probe` against the tree
#      for SECONDS (default 90), sampling VmRSS and utime+stime from /proc/PID every 5 s.
# JVM_FLAGS overrides the flags (default: the Dockerfile's, with -XX:MaxRAM standing in for the
# container memory limit the JVM would see in a pod).
set -euo pipefail
cd "$(dirname "$0")/.."
. hack/jdk.sh
BUILD=${BUILD:-target}
JAVA=${1:-$JAVA_HOME/bin/java}
SECONDS_TO_RUN=${2:-90}
TASKS=${TASKS:-50000}
MAXRAM=${MAXRAM:-256m}
JVM_FLAGS=${JVM_FLAGS:-"-XX:+UseSerialGC -Xss512k -XX:MinRAMPercentage=25 -XX:MaxRAMPercentage=25 -XX:TieredStopAtLevel=1 -XX:-UsePerfData -XX:+ExitOnOutOfMemoryError -XX:MaxRAM=$MAXRAM"}
JAR=$BUILD/execguard.jar
TREE=/dev/shm/execguard-measure-$$
[ -d /dev/shm ] || TREE=/tmp/execguard-measure-$$
CP_FILE=$(mktemp)
cleanup() {
  [ -n "${PROBE_PID:-}" ] && kill "$PROBE_PID" 2>/dev/null || true
  [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$TREE" "$CP_FILE" "${PORT_FILE:-}"
}
trap cleanup EXIT
mvn -B -q -DbuildDir="$BUILD" dependency:build-classpath -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >/dev/null
CP="$BUILD/test-classes:$BUILD/classes:$(cat "$CP_FILE")"

echo "== runtime: $JAVA ($("$JAVA" -version 2>&1 | head -1)); flags: $JVM_FLAGS"
"$JAVA_HOME/bin/java" -cp "$CP" io.execguard.install.ProbeSoak tree "$TREE" "$TASKS"
echo "== host: $(nproc) CPUs, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

measure() { # label, command...
  local label=$1; shift
  local out; out=$(mktemp)
  /usr/bin/time -f "%e s wall, %U s user, %S s sys, peak RSS %M KiB" -o "$out" "$@" >/dev/null 2>&1 || true
  echo "$label: $(cat "$out" | tail -1)"
  rm -f "$out"
}
# shellcheck disable=SC2086
measure "scan (one-shot, --confirm-seconds 0)" "$JAVA" $JVM_FLAGS -jar "$JAR" scan --host-root "$TREE" --confirm-seconds 0 --output json
# shellcheck disable=SC2086
measure "scan, default JVM flags           " "$JAVA" -jar "$JAR" scan --host-root "$TREE" --confirm-seconds 0 --output json
# shellcheck disable=SC2086
measure "bench --tasks $TASKS (5+7 scans)" "$JAVA" $JVM_FLAGS -jar "$JAR" bench --tasks "$TASKS" --host-root none
# shellcheck disable=SC2086
"$JAVA" $JVM_FLAGS -jar "$JAR" bench --tasks "$TASKS" --host-root none | tail -3

PORT_FILE=$(mktemp)
rm -f "$PORT_FILE"
"$JAVA_HOME/bin/java" -cp "$CP" io.execguard.install.ProbeSoak server soak-node "$PORT_FILE" >/dev/null 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do [ -s "$PORT_FILE" ] && break; sleep 0.2; done
PORT=$(cat "$PORT_FILE")
# shellcheck disable=SC2086
env -i PATH="$PATH" KUBERNETES_MASTER="https://127.0.0.1:$PORT" KUBERNETES_TRUST_CERTIFICATES=true \
  KUBERNETES_AUTH_TRYKUBECONFIG=false KUBERNETES_AUTH_TRYSERVICEACCOUNT=false KUBERNETES_NAMESPACE=default \
  NODE_NAME=soak-node HOST_ROOT="$TREE" SCAN_INTERVAL=10s METRICS_PORT=0 \
  "$JAVA" $JVM_FLAGS -jar "$JAR" probe >/tmp/execguard-measure-probe.log 2>&1 &
PROBE_PID=$!
HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PROBE_PID/stat"; }
echo "== probe against the mock API server (SCAN_INTERVAL=10s), sampling every 5 s for ${SECONDS_TO_RUN} s"
printf "%6s %10s %10s %12s\n" "t(s)" "VmRSS MiB" "VmHWM MiB" "CPU s total"
start_ticks=""
peak=0
for t in $(seq 0 5 "$SECONDS_TO_RUN"); do
  [ "$t" -gt 0 ] && sleep 5
  kill -0 "$PROBE_PID" 2>/dev/null || { echo "probe exited:"; tail -20 /tmp/execguard-measure-probe.log; exit 1; }
  rss=$(awk '/VmRSS/{print $2}' "/proc/$PROBE_PID/status")
  hwm=$(awk '/VmHWM/{print $2}' "/proc/$PROBE_PID/status")
  ticks=$(cpu_ticks)
  if [ "$t" -eq 30 ]; then start_ticks=$ticks; fi
  [ "$rss" -gt "$peak" ] && peak=$rss
  printf "%6d %10.1f %10.1f %12.2f\n" "$t" "$(echo "$rss/1024" | bc -l)" "$(echo "$hwm/1024" | bc -l)" "$(echo "$ticks/$HZ" | bc -l)"
done
end_ticks=$(cpu_ticks)
window=$((SECONDS_TO_RUN - 30))
echo "steady state (t=30..$SECONDS_TO_RUN s): $(echo "($end_ticks-$start_ticks)/$HZ" | bc -l | xargs printf '%.2f') CPU s in $window s = $(echo "1000*($end_ticks-$start_ticks)/$HZ/$window" | bc -l | xargs printf '%.0f') millicores average"
NEH=$(curl -sk "https://127.0.0.1:$PORT/apis/execguard.io/v1alpha1/nodeexechealths/soak-node" | tr -d '\n' | grep -o '"tasksScanned" *: *[0-9]*' || true)
echo "NodeExecHealth/soak-node written: ${NEH:-no}; last probe log lines:"
tail -3 /tmp/execguard-measure-probe.log
