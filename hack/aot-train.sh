#!/usr/bin/env bash
# Trains the probe's AOT cache (JDK >= 25, JEP 514/515: classes loaded and linked, lambdas and method profiles
# of a real run, mapped at start instead of parsed): runs `execguard probe` with the probe's JVM options for
# SECONDS against fabric8's mock API server (HTTPS: the TLS, Kubernetes-access and JSON classes are in the cache
# too) on a synthetic 2,000-task node, and writes OUT when it exits.
#   bash hack/aot-train.sh JAVA JAR OUT [SECONDS]
# JAVA must be the runtime that will use the cache (the image's jlink'd one) and JAR the jar at the path it will
# have there (the cache records the class path; a different jar makes the JVM ignore the cache, with a warning).
# Needs the test classes and the test class path (mvn test-compile), like hack/measure-probe.sh.
# Measured (docs/RESOURCES.md): -8 MiB RSS and half the start-up CPU of the probe; +25 MB of image.
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA=$1; JAR=$2; OUT=$3; SECONDS_TO_RUN=${4:-20}
"$JAVA" -XX:AOTMode=off -version >/dev/null 2>&1 || { echo "aot-train: $JAVA has no AOT cache support (JDK >= 25)" >&2; exit 2; }
FLAGS=$(awk '/^probe:/{p=1} p && /jvmOptions:/{sub(/^[^"]*"/,""); sub(/".*$/,""); print; exit}' helm/execguard/values.yaml \
  | sed 's/-XX:AOTCache=[^ ]*//')
FLAGS="$FLAGS ${AOT_TRAIN_FLAGS:-}"   # e.g. flags being measured before they go into the chart
WORK=$(mktemp -d "${TMPDIR:-/tmp}/execguard-aot.XXXXXX")
SERVER_PID=""
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
JDK_JAVA=${JAVA_HOME:-$(dirname "$(dirname "$JAVA")")}/bin/java
CP_FILE=$WORK/cp
BUILD=${BUILD:-target}   # the Maven build directory (-DbuildDir), as in hack/measure-probe.sh
mvn -B -q -o -DbuildDir="$BUILD" dependency:build-classpath -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >/dev/null 2>&1 \
  || mvn -B -q -DbuildDir="$BUILD" dependency:build-classpath -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >/dev/null
CP="$BUILD/test-classes:$BUILD/classes:$(cat "$CP_FILE")"
"$JDK_JAVA" -cp "$CP" io.execguard.install.ProbeSoak tree "$WORK/host" 2000 >/dev/null
"$JDK_JAVA" -cp "$CP" io.execguard.install.ProbeSoak server train-node "$WORK/port" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 150); do [ -s "$WORK/port" ] && break; sleep 0.2; done
cat >"$WORK/kubeconfig" <<JSON
{"apiVersion": "v1", "kind": "Config", "current-context": "t",
 "clusters": [{"name": "t", "cluster": {"server": "https://127.0.0.1:$(cat "$WORK/port")", "insecure-skip-tls-verify": true}}],
 "users": [{"name": "t", "user": {"token": "t"}}], "contexts": [{"name": "t", "context": {"cluster": "t", "user": "t"}}]}
JSON
rm -f "$OUT"
# shellcheck disable=SC2086
env -i PATH="$PATH" KUBECONFIG="$WORK/kubeconfig" NODE_NAME=train-node HOST_ROOT="$WORK/host" SCAN_INTERVAL=2s \
  HEARTBEAT=2s METRICS_PORT=0 "$JAVA" $FLAGS -XX:AOTCacheOutput="$OUT" -jar "$JAR" probe >"$WORK/probe.log" 2>&1 &
PROBE=$!
sleep "$SECONDS_TO_RUN"
kill "$PROBE"; wait "$PROBE" || true
[ -s "$OUT" ] || { echo "aot-train: no cache written:" >&2; tail -20 "$WORK/probe.log" >&2; exit 1; }
echo "aot-train: $OUT ($(du -h "$OUT" | cut -f1))"
