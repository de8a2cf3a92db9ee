#!/usr/bin/env bash
# Cross-CPU "blocked for" check (DETECTION.md, "Blocked for"): a SIGKILLed `stat` stuck on a frozen two-layer
# bindfs stack, pinned to CPU VICTIM_CPU; each JAR given scans the host pinned to SCAN_CPUS (e.g. 0-1: unpinned on
# two CPUs) and prints what it says the task "has not run for", next to the time since the kill. On a VM whose
# CPUs' task clocks drift apart, a scanner that compares with the wrong CPU's clock is off by the drift.
#   bash hack/measure/clock-skew.sh VICTIM_CPU SCAN_CPUS JAR...      (root, bindfs, fusectl mounted)
# Cleans up what it made: aborts only its own two FUSE connections, signals only the PIDs it started.
set -u; . "$(dirname "$0")/../jdk.sh" >/dev/null
vcpu=$1; scpu=$2; shift 2
base=$(mktemp -d /tmp/skew-XXXX); mkdir $base/src $base/mntA $base/mntB
bindfs -f $base/src $base/mntA & A=$!
sleep 0.5; bindfs -f $base/mntA $base/mntB & B=$!
sleep 0.5; mkdir $base/src/newdir
mA=$(mountpoint -d $base/mntA | cut -d: -f2); mB=$(mountpoint -d $base/mntB | cut -d: -f2); echo conns $mA $mB
kill -STOP $A
taskset -c $vcpu stat $base/mntB/newdir >/dev/null 2>&1 & V=$!
sleep 0.5; kill -9 $V; t0=$(date +%s.%N)
sleep 2.5
for jar in "$@"; do
  t=$(date +%s.%N)
  taskset -c $scpu java -jar $jar scan --confirm-seconds 0 --threshold UnkillableTask=0 --output json 2>/dev/null \
    | python3 -c "import json,sys; d=json.load(sys.stdin); [print('$jar', f['pid'], f['message'][f['message'].find('has not run'):][:40]) for f in d['findings'] if f['type']=='UnkillableTask']"
  echo "  actual since SIGKILL: $(echo "$t - $t0" | bc) s .. $(echo "$(date +%s.%N) - $t0" | bc) s"
done
for c in $mB $mA; do echo 1 > /sys/fs/fuse/connections/$c/abort; done
kill -CONT $A; sleep 0.5
fusermount3 -u $base/mntB 2>/dev/null || umount -l $base/mntB; fusermount3 -u $base/mntA 2>/dev/null || umount -l $base/mntA
wait $V 2>/dev/null; kill $A $B 2>/dev/null; wait 2>/dev/null; rm -rf $base
