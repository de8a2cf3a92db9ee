#!/usr/bin/env bash
# The probe image for the container-runtime lab (docs/LAB.md), built without any registry:
#
#   bash hack/lab-image.sh JAR [TAG]       # TAG defaults to lab/execguard:dev
#   bash hack/lab-image.sh JAR TAG --archive FILE
#                                          # the same image as a `docker save` archive (hack/image-archive.sh)
#                                          # for `ctr images import` (the node of hack/node.sh); no dockerd
#
# The Dockerfile needs Docker Hub (maven) and gcr.io (distroless); this makes the same runtime layout
# from what is on this machine and loads it with `docker import`:
#   /opt/java            a jlink'd runtime of the JDK in use (hack/jdk.sh), with the modules
#                        `jdeps --print-module-deps` reports for JAR plus jdk.crypto.ec if the JDK has
#                        it, linked with the Dockerfile's jlink options
#   /app/execguard.jar   JAR
#   /app/canary          the exec canary's command (src/main/c/canary.c), gcc -static, as the Dockerfile builds it
#   the shared libraries the runtime needs, each at the absolute path ldd resolves it to (glibc and the
#   dynamic loader from this host, in place of distroless' glibc), found with ldd over bin/java and
#   every .so of the runtime
#   /tmp                 empty, mode 1777
# with the Dockerfile's ENTRYPOINT, JAVA_HOME and JDK_JAVA_OPTIONS (read from the Dockerfile, so they
# cannot drift). No shell, no package manager, like distroless. Runs as root (the probe pod does too;
# the operator's non-root user is not needed in the lab).
#
# Idempotent: the image is labelled with a digest of JAR's content (entry names, sizes and CRCs, so a
# rebuilt but unchanged jar matches), the JDK version and this script's own SHA-256; when TAG already
# carries the same label nothing is rebuilt.
#
# Needs the lab's dockerd (bash hack/lab.sh up), a JDK >= 21 with jlink and jdeps (JAVA_HOME, else
# hack/jdk.sh picks one), ldd; unzip for the content digest (else the jar's bytes are hashed).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DOCKER_SOCK=/var/run/docker.sock
KEY_LABEL=io.execguard.lab.build

log() { echo "[lab-image] $*" >&2; }
die() { log "error: $*"; exit 1; }

ARCHIVE=
if [ $# = 4 ] && [ "$3" = --archive ]; then ARCHIVE=$4; set -- "$1" "$2"; fi
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 JAR [TAG] | JAR TAG --archive FILE" >&2; exit 2; }
JAR=$1
TAG=${2:-lab/execguard:dev}
[ -f "$JAR" ] || die "no such jar: $JAR (build it: mvn -DskipTests package)"
JAR=$(cd "$(dirname "$JAR")" && pwd)/$(basename "$JAR")

# shellcheck source=hack/jdk.sh
. "$ROOT/hack/jdk.sh"
for tool in jlink jdeps; do
  [ -x "$JAVA_HOME/bin/$tool" ] || die "$JAVA_HOME has no bin/$tool (need a full JDK, not a JRE)"
done
command -v ldd >/dev/null || die "ldd is not installed (libc-bin)"
command -v gcc >/dev/null || die "gcc is not installed (the exec canary's command is built with gcc -static)"
CANARY_SRC=$ROOT/src/main/c/canary.c

if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=$(command -v docker || true); fi
dk() { DOCKER_HOST=unix://$DOCKER_SOCK "$DOCKER" "$@"; }
if [ -z "$ARCHIVE" ]; then
  [ -n "$DOCKER" ] || die "no docker client; run: bash hack/lab.sh up"
  timeout 10 "$DOCKER" -H "unix://$DOCKER_SOCK" version >/dev/null 2>&1 \
    || die "no dockerd answering on $DOCKER_SOCK; run: bash hack/lab.sh up"
fi

JAVA_OPTS=$(sed -n 's/^ENV JDK_JAVA_OPTIONS=//p' "$ROOT/Dockerfile")
[ -n "$JAVA_OPTS" ] || die "cannot read ENV JDK_JAVA_OPTIONS from $ROOT/Dockerfile"

size() { dk image inspect --format '{{.Size}}' "$TAG" | awk '{printf "%.1f MiB", $1 / 1048576}'; }

JDK_VERSION=$("$JAVA_HOME/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.runtime.version = //p')
# the jar's content (entry names, sizes, CRCs; not its timestamps, which change with every mvn package)
if command -v unzip >/dev/null; then
  # (no {8} interval: Debian's mawk does not know it, and an empty listing hashed to one constant key)
  ENTRIES=$(unzip -lv "$JAR" | awk 'NF >= 8 && length($7) == 8 && $7 ~ /^[0-9a-f]+$/ {print $1, $7, $8}')
  [ -n "$ENTRIES" ] || die "cannot list the entries of $JAR (unzip -lv)"
  JAR_SUM=$(printf '%s\n' "$ENTRIES" | sha256sum | cut -c1-64)
else
  JAR_SUM=$(sha256sum "$JAR" | cut -c1-64)
fi
KEY="jar=$JAR_SUM,jdk=$JDK_VERSION,script=$(sha256sum "$0" | cut -c1-16),canary=$(sha256sum "$CANARY_SRC" | cut -c1-16)"
if [ -n "$ARCHIVE" ] && [ -f "$ARCHIVE" ] && [ "$(cat "$ARCHIVE.key" 2>/dev/null)" = "$KEY" ]; then
  log "$ARCHIVE is up to date ($(du -h "$ARCHIVE" | cut -f1)); nothing to do"
  exit 0
fi
# (an up-to-date image in the lab's dockerd is no archive: with --archive, only the archive and its key count)
if [ -z "$ARCHIVE" ] && [ "$(dk image inspect --format "{{index .Config.Labels \"$KEY_LABEL\"}}" "$TAG" 2>/dev/null || true)" = "$KEY" ]; then
  log "$TAG is up to date ($(size)); nothing to do"
  exit 0
fi

T0=$SECONDS
TMP=$(mktemp -d "${TMPDIR:-/tmp}/execguard-lab-image.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
RFS=$TMP/rootfs
mkdir -p "$RFS/opt" "$RFS/app"

# the runtime: as in the Dockerfile's jre stage
MODULES=$("$JAVA_HOME/bin/jdeps" --ignore-missing-deps --multi-release 21 --print-module-deps "$JAR") \
  || die "jdeps failed on $JAR"
[ -n "$MODULES" ] || die "jdeps reported no modules for $JAR"
if "$JAVA_HOME/bin/java" --list-modules | grep -q '^jdk\.crypto\.ec@'; then MODULES="$MODULES,jdk.crypto.ec"; fi
log "jdeps: $MODULES (JDK $JDK_VERSION)"
"$JAVA_HOME/bin/jlink" --add-modules "$MODULES" --strip-debug --no-man-pages --no-header-files \
  --compress=zip-6 --output "$RFS/opt/java" >/dev/null || die "jlink failed"
cp "$JAR" "$RFS/app/execguard.jar"
gcc -static -Os -s -o "$RFS/app/canary" "$CANARY_SRC" || die "gcc -static $CANARY_SRC failed (libc6-dev has libc.a)"
[ "$("$RFS/app/canary")" = ok ] || die "the canary built from $CANARY_SRC does not print ok"

# shared libraries: everything ldd resolves outside the runtime, at the same absolute path.
# "not found" is fine only for libraries the runtime itself holds (libjvm.so is in lib/server and found
# through the JVM, not through the RUNPATH of the lib/*.so that need it).
declare -A LIBS=()
MISSING=()
while IFS= read -r -d '' obj; do
  out=$(ldd "$obj" 2>&1) || { [[ $out == *"not a dynamic executable"* ]] && continue; die "ldd $obj: $out"; }
  while read -r line; do
    case $line in
      *"=> not found"*)
        lib=${line%% *}
        [ -n "$(find "$RFS/opt/java" -name "$lib" -print -quit)" ] || MISSING+=("$lib (needed by ${obj#"$RFS"})") ;;
      *"=> /"*) p=${line#*=> }; LIBS[${p%% (*}]=1 ;;
      /*) LIBS[${line%% (*}]=1 ;;                      # the dynamic loader
    esac
  done <<<"$out"
done < <(find "$RFS/opt/java/bin/java" "$RFS/opt/java/lib" -type f \( -name java -o -name '*.so' -o -name '*.so.*' \) -print0)
[ ${#MISSING[@]} -eq 0 ] || die "libraries not found on this host: ${MISSING[*]}"
n=0
for lib in "${!LIBS[@]}"; do
  case $lib in "$RFS"/*) continue ;; esac                # the runtime's own
  mkdir -p "$RFS$(dirname "$lib")"
  cp -L "$lib" "$RFS$lib"; n=$((n + 1))
done
log "copied $n shared libraries from this host"
mkdir -p "$RFS/tmp" && chmod 1777 "$RFS/tmp"

if [ -n "$ARCHIVE" ]; then
  # smoke test without a runtime: the image's java, its libraries and the jar, chrooted (with a /proc of its
  # own in a private mount namespace: the loader resolves java's $ORIGIN RUNPATH through /proc/self/exe)
  mkdir "$RFS/proc"
  v=$(unshare --mount --pid --fork --mount-proc="$RFS/proc" chroot "$RFS" /opt/java/bin/java -jar /app/execguard.jar \
        --version 2>&1) || die "the image does not run: $v"
  rmdir "$RFS/proc"
  bash "$ROOT/hack/image-archive.sh" "$RFS" "$TAG" "$ARCHIVE" \
    --entrypoint '["/opt/java/bin/java","-jar","/app/execguard.jar"]' --cmd '["--help"]' \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env JAVA_HOME=/opt/java --env "JDK_JAVA_OPTIONS=$JAVA_OPTS" --label "$KEY_LABEL=$KEY"
  echo "$KEY" > "$ARCHIVE.key"
  log "built $TAG as $ARCHIVE in $((SECONDS - T0)) s ($(du -h "$ARCHIVE" | cut -f1)), execguard --version: $(echo "$v" | tail -1)"
  exit 0
fi

OLD_ID=$(dk image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)
tar -C "$RFS" --numeric-owner --owner=0 --group=0 -c . | dk import \
  --change 'ENTRYPOINT ["/opt/java/bin/java","-jar","/app/execguard.jar"]' \
  --change 'CMD ["--help"]' \
  --change 'ENV JAVA_HOME=/opt/java' \
  --change "ENV JDK_JAVA_OPTIONS=$JAVA_OPTS" \
  --change "LABEL $KEY_LABEL=\"$KEY\"" \
  - "$TAG" >/dev/null || die "docker import failed"

# smoke test: the runtime starts and runs the jar inside the image
SMOKE=eglab-image-smoke-$$
if ! v=$(timeout 60 "$DOCKER" -H "unix://$DOCKER_SOCK" run --rm --name "$SMOKE" --label execguard-lab=1 \
           --network none "$TAG" --version 2>&1); then
  dk rm -f "$SMOKE" >/dev/null 2>&1 || true
  die "the image does not run: $v"
fi
# the image this replaced, now untagged: remove it unless something still uses it (then docker refuses)
if [ -n "$OLD_ID" ] && [ "$OLD_ID" != "$(dk image inspect --format '{{.Id}}' "$TAG")" ] \
   && [ "$(dk image inspect --format '{{len .RepoTags}}' "$OLD_ID" 2>/dev/null || echo 1)" = 0 ]; then
  dk image rm "$OLD_ID" >/dev/null 2>&1 && log "removed the previous $TAG (${OLD_ID:7:12})" \
    || log "kept the previous $TAG (${OLD_ID:7:12}): still in use"
fi
log "built $TAG in $((SECONDS - T0)) s: $(size), execguard --version: $(echo "$v" | grep -v '^NOTE: Picked up' | tail -1)"
