#!/usr/bin/env bash
# Prints every figure of docs/RESOURCES.md (issue #13's table), side by side with its anchor:
#   bash hack/measure-probe.sh [JAVA] [SECONDS]
# JAVA: the java binary (default $JAVA_HOME/bin/java; pass a jlink'd runtime's bin/java, as the image has,
# to measure the image: it has no CDS archive, the full JDK does). SECONDS: how long the probe loop runs per
# size (default 300). Needs target/execguard.jar and the test classes (mvn -DskipTests package test-compile),
# gcc (the C reader, the thread helper), strace (the C reader's file list).
# Environment:
#   TASKS="10000 50000"   tree sizes          INTERVAL=15s   the probe's SCAN_INTERVAL
#   LIMIT=96m             stands in for the pod's memory limit (-XX:MaxRAM; in a pod the JVM reads the cgroup)
#   JVM_FLAGS             default: the chart's probe.jvmOptions (helm/execguard/values.yaml) + -XX:MaxRAM=$LIMIT
#   MALLOC_ARENA_MAX      default 1, as the chart sets it for the probe
#   AOT=1                 (default) train the AOT cache the flags name (hack/aot-train.sh) and use it; 0: without;
#                         a file: that cache, trained before for this runtime and jar
#   NMT=1                 also print the JVM's native memory summary at the end of each loop (costs ~2 MiB)
#   SMAPS=1               also print where the probe's RSS is at the end of each loop (/proc/PID/smaps, by mapping)
#   LOOP_ONLY=1           only the probe loop (step 4), e.g. to compare JVM flags; SECONDS=3600 is the one-hour run
#   LOOP_ROOT=real        the probe loop scans the real /proc made busy with N real tasks (processes of
#                         THREADS_PER=10 threads: a node's shape) instead of the synthetic tree, which is not a
#                         procfs (the reader then looks at every file before opening it: the FIFO guard of test trees)
# For each size it
#   1. writes a synthetic busy node (io.execguard.bench.BusyNode, cgroup v2) under /dev/shm,
#   2. in-process scan: `execguard bench --host-root TREE` (CPU per scan of the process) against
#      hack/measure/readfiles.c reading the same files (the list is what strace saw the scan open),
#   2b. the same on the real /proc made busy by hack/measure/threads.c (N real tasks in processes of THREADS_PER=10
#      threads), against readfiles.c of the same stat files and hack/measure/walkproc.c (lists and reads, in C),
#   3. cold: `execguard scan --host-root /` once (JVM start to exit) against `ps -eLo pid,tid,stat,wchan`, both on
#      the real /proc made busy by hack/measure/threads.c (N real tasks; ps cannot read a synthetic tree),
#      CPU (user + sys) of each,
#   4. runs `execguard probe` against fabric8's mock API server (HTTPS, CRUD) for SECONDS, sampling VmRSS,
#      threads and CPU every 5 s: RSS after the first report, at the end, its slope after t = 60 s, and the
#      average CPU after t = 30 s.
# The machine is shared: the load average is printed with each figure; CPU times are of the process, not wall.
set -euo pipefail
cd "$(dirname "$0")/.."
. hack/jdk.sh
BUILD=${BUILD:-target}
JAVA=${1:-$JAVA_HOME/bin/java}
SECONDS_TO_RUN=${2:-300}
TASKS=${TASKS:-"10000 50000"}
INTERVAL=${INTERVAL:-15s}
LIMIT=${LIMIT:-96m}
CHART_FLAGS=$(awk '/^probe:/{p=1} p && /jvmOptions:/{sub(/^[^"]*"/,""); sub(/".*$/,""); print; exit}' helm/execguard/values.yaml)
JVM_FLAGS=${JVM_FLAGS:-"$CHART_FLAGS -XX:MaxRAM=$LIMIT"}
AOT=${AOT:-1}
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-1}
JAR=$BUILD/execguard.jar
BASE=/dev/shm; [ -d /dev/shm ] && [ -w /dev/shm ] || BASE=${TMPDIR:-/tmp}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/execguard-measure-work.XXXXXX")
TREE=""
cleanup() {
  [ -n "${PROBE_PID:-}" ] && kill "$PROBE_PID" 2>/dev/null || true
  [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null || true
  [ -n "$TREE" ] && rm -rf "$TREE"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# trees left by runs that were killed (SIGKILL skips the trap above): their pid is gone
for d in "$BASE"/execguard-measure-*; do
  [ -d "$d" ] || continue
  pid=$(basename "$d" | sed -n 's/^execguard-measure-\([0-9]*\).*/\1/p')
  [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && { echo "deleting $d (left by process $pid)"; rm -rf "$d"; }
done
mvn -B -q -o -DbuildDir="$BUILD" dependency:build-classpath -Dmdep.outputFile="$WORK/cp" -Dmdep.includeScope=test >/dev/null 2>&1 \
  || mvn -B -q -DbuildDir="$BUILD" dependency:build-classpath -Dmdep.outputFile="$WORK/cp" -Dmdep.includeScope=test >/dev/null
CP="$BUILD/test-classes:$BUILD/classes:$(cat "$WORK/cp")"
if [[ $JVM_FLAGS == *-XX:AOTCache=* ]]; then
  if [ "$AOT" = 1 ]; then   # the image's cache, trained here for this runtime and jar (hack/aot-train.sh)
    bash hack/aot-train.sh "$JAVA" "$JAR" "$WORK/probe.aot" >&2
    JVM_FLAGS=$(echo "$JVM_FLAGS" | sed "s|-XX:AOTCache=[^ ]*|-XX:AOTCache=$WORK/probe.aot|")
  elif [ "$AOT" = 0 ]; then
    JVM_FLAGS=$(echo "$JVM_FLAGS" | sed 's|-XX:AOTCache=[^ ]*||')
  else                      # a cache trained before (hack/aot-train.sh) for this runtime and jar
    JVM_FLAGS=$(echo "$JVM_FLAGS" | sed "s|-XX:AOTCache=[^ ]*|-XX:AOTCache=$AOT|")
  fi
fi
gcc -O2 -o "$WORK/readfiles" hack/measure/readfiles.c
gcc -O2 -o "$WORK/walkproc" hack/measure/walkproc.c
gcc -O2 -pthread -o "$WORK/threads" hack/measure/threads.c

load() { cut -d' ' -f1-3 /proc/loadavg; }
mib() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", (b > 0 ? a/b : 0)}'; }
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # utime + stime, ticks
HZ=$(getconf CLK_TCK)

echo "== $(date -u +%FT%TZ) host: $(nproc) CPUs, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== runtime: $JAVA ($("$JAVA" -version 2>&1 | head -1)), CDS archive: $([ -f "$(dirname "$(dirname "$JAVA")")/lib/server/classes.jsa" ] && echo yes || echo none)"
echo "== flags: $JVM_FLAGS; MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX; SCAN_INTERVAL=$INTERVAL; loop $SECONDS_TO_RUN s"

PORT_FILE=$WORK/port
"$JAVA_HOME/bin/java" -cp "$CP" io.execguard.install.ProbeSoak server soak-node "$PORT_FILE" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 600); do [ -s "$PORT_FILE" ] && break; sleep 0.2; done   # 2 min: a loaded machine starts it slowly
PORT=$(cat "$PORT_FILE")
# JSON, not YAML: like the in-cluster configuration, it does not load the YAML library
cat >"$WORK/kubeconfig" <<EOF
{"apiVersion": "v1", "kind": "Config", "current-context": "mock",
 "clusters": [{"name": "mock", "cluster": {"server": "https://127.0.0.1:$PORT", "insecure-skip-tls-verify": true}}],
 "users": [{"name": "mock", "user": {"token": "mock"}}],
 "contexts": [{"name": "mock", "context": {"cluster": "mock", "user": "mock"}}]}
EOF
neh() { curl -sk "https://127.0.0.1:$PORT/apis/execguard.io/v1alpha1/nodeexechealths/soak-node" | tr -d '\n' \
  | grep -o '"tasksScanned" *: *[0-9]*' | grep -o '[0-9]*$' || true; }

declare -A SUMMARY
for N in $TASKS; do
  TREE=$BASE/execguard-measure-$$-$N
  "$JAVA_HOME/bin/java" -cp "$CP" io.execguard.install.ProbeSoak tree "$TREE" "$N" >/dev/null
  echo
  echo "=== $N tasks ($(find "$TREE/proc" -maxdepth 1 -name '[0-9]*' | wc -l) processes), tree $TREE"

  if [ "${LOOP_ONLY:-0}" != 1 ]; then
  # 2. in-process scan against the C reader of the same files
  # shellcheck disable=SC2086
  # -y: a file opened relative to an open directory (openat(5</…/proc>, "1234/stat")) is named by both
  strace -f -qq -y -e trace=openat -o "$WORK/trace" "$JAVA" $JVM_FLAGS -jar "$JAR" scan --host-root "$TREE" \
    --confirm-seconds 0 --output json >/dev/null 2>&1 || true
  grep -v ENOENT "$WORK/trace" | sed -n 's/.*openat([0-9]*<\([^>]*\)>, "\([^"]*\)".*/\1\/\2/p; s/.*openat(AT_FDCWD[^,]*, "\([^"]*\)".*/\1/p' \
    | grep "^$TREE/" | sort -u | while read -r f; do if [ -f "$f" ]; then echo "$f"; fi; done >"$WORK/files"
  C=$("$WORK/readfiles" "$WORK/files" 21)
  c_cpu=$(echo "$C" | sed 's/.*median_cpu_ms \([0-9.]*\).*/\1/')
  # shellcheck disable=SC2086
  B=$("$JAVA" $JVM_FLAGS -Xmx$(( (16 << 20) + N * 1024 ))  -jar "$JAR" bench --only-host-root --host-root "$TREE" \
    --warmup 10 --runs 21 | awk '$1 == "host" {print}')
  j_cpu=$(echo "$B" | awk '{print $7}'); j_wall=$(echo "$B" | awk '{print $5}')
  echo "in-process scan: $j_cpu ms CPU/scan ($j_wall ms wall median)  |  C reader of the same $(wc -l <"$WORK/files") files: $c_cpu ms CPU  =>  $(ratio "$j_cpu" "$c_cpu")x   [goal <= 1.1x; was 1.3-1.45x] (load $(load))"
  SUMMARY[$N,scan]="$(ratio "$j_cpu" "$c_cpu")x"

  # 2b. in-process scan against both C baselines on the real /proc, made busy with N real tasks in processes of
  #     THREADS_PER threads (a node's shape): there the scan reads procfs as on a node (on Java 22+ through the
  #     foreign-function walk, which the synthetic tree above does not use: it is not a procfs)
  pid_max=$(cat /proc/sys/kernel/pid_max); used=$( (ls -d /proc/[0-9]*/task/[0-9]* 2>/dev/null || true) | wc -l)
  want=$N; cap=$(( (pid_max - used) / 2 )); [ "$want" -gt "$cap" ] && want=$cap
  coproc REALTASKS { "$WORK/threads" "$want" "${THREADS_PER:-10}"; }
  read -r _ready made <&"${REALTASKS[0]}"
  for p in /proc/[0-9]*; do
    echo "$p/stat"
    for t in "$p"/task/[0-9]*; do [ "${t##*/}" = "${p##*/}" ] || echo "$t/stat"; done
  done >"$WORK/realfiles" 2>/dev/null
  C=$("$WORK/readfiles" "$WORK/realfiles" 21); c_cpu=$(echo "$C" | sed 's/.*median_cpu_ms \([0-9.]*\).*/\1/')
  W=$("$WORK/walkproc" /proc 21); w_cpu=$(echo "$W" | sed 's/.*median_cpu_ms \([0-9.]*\).*/\1/')
  # shellcheck disable=SC2086
  B=$("$JAVA" $JVM_FLAGS -Xmx$(( (16 << 20) + N * 1024 )) -jar "$JAR" bench --only-host-root --host-root / \
    --warmup 10 --runs 21 | awk '$1 == "host" {print}')
  j_cpu=$(echo "$B" | awk '{print $7}'); j_wall=$(echo "$B" | awk '{print $5}')
  eval "exec ${REALTASKS[1]}>&-"; wait "$REALTASKS_PID" 2>/dev/null || true
  echo "in-process scan of the real /proc ($(wc -l <"$WORK/realfiles") stat files, $made tasks the helper's): $j_cpu ms CPU/scan ($j_wall ms wall median)  |  C reader of the same files: $c_cpu ms  =>  $(ratio "$j_cpu" "$c_cpu")x  |  C walk of /proc (lists and reads): $w_cpu ms  =>  $(ratio "$j_cpu" "$w_cpu")x   [goal <= 1.1x] (load $(load))"
  SUMMARY[$N,realscan]="$(ratio "$j_cpu" "$c_cpu")x ($(ratio "$j_cpu" "$w_cpu")x the C walk)"

  # 3. cold scan against ps, both on the real /proc with N real tasks (one helper process of N-1 sleeping
  #    threads, for the few seconds this takes: ps cannot read a synthetic tree)
  # never more than half the free PIDs (pid_max is often 32768 and the machine is shared): a larger N is capped
  pid_max=$(cat /proc/sys/kernel/pid_max); used=$( (ls -d /proc/[0-9]*/task/[0-9]* 2>/dev/null || true) | wc -l)
  want=$N; cap=$(( (pid_max - used) / 2 )); [ "$want" -gt "$cap" ] && want=$cap
  coproc HELPER { "$WORK/threads" "$want"; }
  read -r _ready made <&"${HELPER[0]}"
  real=$( (ls -d /proc/[0-9]*/task/[0-9]* 2>/dev/null || true) | wc -l)
  # shellcheck disable=SC2086
  /usr/bin/time -f "%U %S %e %M" -o "$WORK/time-scan" "$JAVA" $JVM_FLAGS -jar "$JAR" scan --host-root / \
    --confirm-seconds 0 --output json >/dev/null 2>&1 || true
  /usr/bin/time -f "%U %S %e %M" -o "$WORK/time-ps" ps -eLo pid,tid,stat,wchan >/dev/null 2>&1 || true
  cold=$(tail -1 "$WORK/time-scan"); psr=$(tail -1 "$WORK/time-ps")
  eval "exec ${HELPER[1]}>&-"; wait "$HELPER_PID" 2>/dev/null || true
  cold_cpu=$(echo "$cold" | awk '{print $1 + $2}'); ps_cpu=$(echo "$psr" | awk '{print $1 + $2}')
  echo "cold scan of the real /proc ($real tasks, $made of them the helper's$([ "$want" -lt "$N" ] && echo "; capped at half the free PIDs of pid_max $pid_max")): $cold_cpu s CPU, $(echo "$cold" | awk '{print $3}') s wall, peak RSS $(mib "$(echo "$cold" | awk '{print $4}')") MiB  |  ps -eLo pid,tid,stat,wchan: $ps_cpu s CPU, $(echo "$psr" | awk '{print $3}') s wall  =>  $(ratio "$cold_cpu" "$ps_cpu")x   [goal <= 0.6x; was 1.18x] (load $(load))"
  SUMMARY[$N,cold]="$(ratio "$cold_cpu" "$ps_cpu")x"
  fi

  # 4. the probe loop
  ROOT=$TREE
  if [ "${LOOP_ROOT:-tree}" = real ]; then
    pid_max=$(cat /proc/sys/kernel/pid_max); used=$( (ls -d /proc/[0-9]*/task/[0-9]* 2>/dev/null || true) | wc -l)
    want=$N; cap=$(( (pid_max - used) / 2 )); [ "$want" -gt "$cap" ] && want=$cap
    coproc LOOPTASKS { "$WORK/threads" "$want" "${THREADS_PER:-10}"; }
    read -r _ready made <&"${LOOPTASKS[0]}"
    ROOT=/
    echo "probe loop on the real /proc: $( (ls -d /proc/[0-9]*/task/[0-9]* 2>/dev/null || true) | wc -l) tasks, $made of them the helper's (processes of ${THREADS_PER:-10} threads)"
  fi
  # shellcheck disable=SC2086
  env -i PATH="$PATH" MALLOC_ARENA_MAX="$MALLOC_ARENA_MAX" KUBECONFIG="$WORK/kubeconfig" NODE_NAME=soak-node \
    HOST_ROOT="$ROOT" SCAN_INTERVAL="$INTERVAL" METRICS_PORT=0 \
    "$JAVA" $JVM_FLAGS ${NMT:+-XX:NativeMemoryTracking=summary} -jar "$JAR" probe >"$WORK/probe-$N.log" 2>&1 &
  PROBE_PID=$!
  echo "probe loop (load $(load) at start):"
  printf "%6s %10s %8s %12s\n" "t(s)" "VmRSS MiB" "threads" "CPU s total"
  first="" start_ticks="" samples=""
  for t in $(seq 0 5 "$SECONDS_TO_RUN"); do
    if [ "$t" -gt 0 ]; then sleep 5; fi
    kill -0 "$PROBE_PID" 2>/dev/null || { echo "probe exited:"; tail -20 "$WORK/probe-$N.log"; exit 1; }
    rss=$(awk '/VmRSS/{print $2}' "/proc/$PROBE_PID/status"); thr=$(awk '/Threads/{print $2}' "/proc/$PROBE_PID/status")
    ticks=$(cpu_of "$PROBE_PID")
    if [ "$t" -eq 30 ]; then start_ticks=$ticks; fi
    if [ -z "$first" ] && [ "$(neh)" -ge "$N" ] 2>/dev/null; then first=$rss; fi
    if [ "$t" -ge 60 ]; then samples="$samples $t:$rss"; fi
    if [ $((t % 30)) -eq 0 ]; then printf "%6d %10s %8d %12.2f\n" "$t" "$(mib "$rss")" "$thr" "$(awk -v x="$ticks" -v h="$HZ" 'BEGIN{print x/h}')"; fi
  done
  end_ticks=$(cpu_of "$PROBE_PID")
  mcpu=$(awk -v a="$start_ticks" -v b="$end_ticks" -v h="$HZ" -v w="$((SECONDS_TO_RUN - 30))" 'BEGIN{printf "%.1f", 1000*(b-a)/h/w}')
  slope=$(echo "$samples" | tr ' ' '\n' | awk -F: 'NF==2 {n++; x=$1/60; y=$2/1024; sx+=x; sy+=y; sxx+=x*x; sxy+=x*y}
    END {d = n*sxx - sx*sx; printf "%+.2f", (n > 2 && d != 0) ? (n*sxy - sx*sy)/d : 0}')
  if [ -n "${NMT:-}" ]; then jcmd "$PROBE_PID" VM.native_memory summary | grep -E '^(Total|-)' \
    | grep -v 'committed=0KB' | sed 's/reserved=[0-9]*KB, //'; fi
  if [ -n "${SMAPS:-}" ]; then awk '/^[0-9a-f]+-[0-9a-f]+ /{n = NF >= 6 ? $6 : "[anon]"; sub(/.*\//, "", n)} /^Rss:/{r[n] += $2}
    END {for (k in r) if (r[k] >= 512) printf "  RSS %-28s %7.1f MiB\n", k, r[k]/1024}' "/proc/$PROBE_PID/smaps" | sort -k3 -rn; fi
  goal=64; if [ "$N" -gt 10000 ]; then goal=80; fi
  echo "RSS after the first report: $(mib "${first:-0}") MiB   [NPD requests = limits 80Mi; goal <= $goal MiB; was 108 MiB at 10k]"
  echo "RSS at $SECONDS_TO_RUN s: $(mib "$rss") MiB, slope after t = 60 s: $slope MiB/min   [EKS agent 30Mi; goal flat; was 128 MiB, +4 MiB/min]"
  echo "CPU after t = 30 s: $mcpu millicores at $INTERVAL   [NPD 10m; goal <= 10m; was 10.1m at 10k]"
  echo "threads: $thr   [was 21]; NodeExecHealth tasksScanned: $(neh); load at end $(load)"
  SUMMARY[$N,loop]="first $(mib "${first:-0}") MiB, end $(mib "$rss") MiB ($slope MiB/min), $mcpu mCPU, $thr threads"
  kill "$PROBE_PID"; wait "$PROBE_PID" 2>/dev/null || true; PROBE_PID=""
  if [ -n "${LOOPTASKS_PID:-}" ]; then eval "exec ${LOOPTASKS[1]}>&-"; wait "$LOOPTASKS_PID" 2>/dev/null || true; fi
  rm -rf "$TREE"; TREE=""
done
echo
echo "=== summary ($JVM_FLAGS)"
for N in $TASKS; do
  echo "$N tasks: ${SUMMARY[$N,loop]}; in-process scan ${SUMMARY[$N,scan]:-not run} C (synthetic tree), ${SUMMARY[$N,realscan]:-not run} C (real /proc); cold scan ${SUMMARY[$N,cold]:-not run} ps"
done
