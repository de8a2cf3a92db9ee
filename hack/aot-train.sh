#!/usr/bin/env bash
# Trains an AOT cache (JDK >= 25, JEP 514/515: classes loaded and linked, lambdas and method profiles of a real
# run, mapped at start instead of parsed) for one of the image's commands, with that command's JVM options from
# the chart, against fabric8's mock API server (HTTPS: the TLS, Kubernetes-access and JSON classes are in the
# cache too), and writes OUT when the run exits:
#   probe     `execguard probe` for SECONDS on a synthetic 2,000-task node
#   operator  `execguard operator` for SECONDS on 600 Nodes and reports, 30 % failing, under an acting policy
#   bash hack/aot-train.sh JAVA JAR OUT [SECONDS] [probe|operator]
# JAVA must be the runtime that will use the cache (the image's jlink'd one) and JAR the jar at the path it will
# have there (the cache records the class path; a different jar makes the JVM ignore the cache, with a warning).
# Needs the test classes and the test class path (mvn test-compile), like hack/measure-probe.sh.
# Measured (docs/RESOURCES.md, docs/SCALE.md): the probe -8 MiB RSS and half its start-up CPU; +25 MB of image.
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA=$1; JAR=$2; OUT=$3; SECONDS_TO_RUN=${4:-20}; WHAT=${5:-probe}
case "$WHAT" in probe|operator) ;; *) echo "aot-train: train probe or operator, not '$WHAT'" >&2; exit 2;; esac
"$JAVA" -XX:AOTMode=off -version >/dev/null 2>&1 || { echo "aot-train: $JAVA has no AOT cache support (JDK >= 25)" >&2; exit 2; }
FLAGS=$(awk -v s="$WHAT:" '$0 == s {p=1} p && /jvmOptions:/{sub(/^[^"]*"/,""); sub(/".*$/,""); print; exit}' helm/execguard/values.yaml \
  | sed 's/-XX:AOTCache=[^ ]*//')
[ -n "$FLAGS" ] || { echo "aot-train: no $WHAT.jvmOptions in helm/execguard/values.yaml" >&2; exit 2; }
FLAGS="$FLAGS ${AOT_TRAIN_FLAGS:-}"   # e.g. flags being measured before they go into the chart
WORK=$(mktemp -d "${TMPDIR:-/tmp}/execguard-aot.XXXXXX")
SERVER_PID=""
RUN_PID=""
trap '[ -n "$RUN_PID" ] && kill "$RUN_PID" 2>/dev/null; [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
JDK_JAVA=${JAVA_HOME:-$(dirname "$(dirname "$JAVA")")}/bin/java
CP_FILE=$WORK/cp
BUILD=${BUILD:-target}   # the Maven build directory (-DbuildDir), as in hack/measure-probe.sh
mvn -B -q -o -DbuildDir="$BUILD" dependency:build-classpath -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >/dev/null 2>&1 \
  || mvn -B -q -DbuildDir="$BUILD" dependency:build-classpath -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >/dev/null
CP="$BUILD/test-classes:$BUILD/classes:$(cat "$CP_FILE")"
# what each command trains on: its mock API server (ProbeSoak's mode) and the environment its pod would give it
case "$WHAT" in
  probe)
    "$JDK_JAVA" -cp "$CP" io.execguard.install.ProbeSoak tree "$WORK/host" 2000 >/dev/null
    server=(server train-node "$WORK/port")
    run_env=(NODE_NAME=train-node HOST_ROOT="$WORK/host" SCAN_INTERVAL=2s HEARTBEAT=2s METRICS_PORT=0)
    ;;
  operator)
    server=(fleet 600 "$WORK/port")
    run_env=(POD_NAMESPACE=execguard POD_NAME=train LEADER_ELECTION=false METRICS_PORT=0)
    ;;
esac
"$JDK_JAVA" -cp "$CP" io.execguard.install.ProbeSoak "${server[@]}" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do [ -s "$WORK/port" ] && break; kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
[ -s "$WORK/port" ] || { echo "aot-train: the mock API server did not start:" >&2; tail -20 "$WORK/server.log" >&2; exit 1; }
cat >"$WORK/kubeconfig" <<JSON
{"apiVersion": "v1", "kind": "Config", "current-context": "t",
 "clusters": [{"name": "t", "cluster": {"server": "https://127.0.0.1:$(cat "$WORK/port")", "insecure-skip-tls-verify": true}}],
 "users": [{"name": "t", "user": {"token": "t"}}], "contexts": [{"name": "t", "context": {"cluster": "t", "user": "t"}}]}
JSON
rm -f "$OUT"
# shellcheck disable=SC2086
env -i PATH="$PATH" KUBECONFIG="$WORK/kubeconfig" "${run_env[@]}" \
  "$JAVA" $FLAGS -XX:AOTCacheOutput="$OUT" -jar "$JAR" "$WHAT" >"$WORK/run.log" 2>&1 &
RUN_PID=$!
sleep "$SECONDS_TO_RUN"
kill "$RUN_PID" 2>/dev/null || true; wait "$RUN_PID" || true   # it may have died: say why below
RUN_PID=""
[ -s "$OUT" ] || { echo "aot-train: no cache written:" >&2; tail -20 "$WORK/run.log" >&2; exit 1; }
if [ "$WHAT" = operator ] && ! grep -q "operator started" "$WORK/run.log"; then
  echo "aot-train: the operator did not start in its training run:" >&2; tail -20 "$WORK/run.log" >&2; exit 1
fi
echo "aot-train: $OUT ($(du -h "$OUT" | cut -f1), $WHAT)"
