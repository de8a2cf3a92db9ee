# shellcheck shell=bash
# Sourced by the hack/ scripts: exports JAVA_HOME pointing at a JDK >= 21.
# Order: $JAVA_HOME if new enough, the default java if new enough, then any JDK under /usr/lib/jvm.
execguard_java_major() { "$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }
execguard_pick_jdk() {
  local c
  for c in "${JAVA_HOME:-}" "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")" \
           /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
    [ -n "$c" ] && [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    local v; v=$(execguard_java_major "$c")
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then echo "$c"; return 0; fi
  done
  return 1
}
if ! JAVA_HOME=$(execguard_pick_jdk); then
  echo "execguard: no JDK >= 21 found (set JAVA_HOME, or install one, e.g. Temurin 21+)" >&2
  exit 2
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
