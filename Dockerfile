# syntax=docker/dockerfile:1
# One image for both commands:
#   probe    (DaemonSet; runs as root through the pod's securityContext, with explicit capabilities)
#   operator (Deployment; runs as the image's non-root user 65532)
# Build:  docker build -t execguard:dev .        (hack/e2e-kind.sh does this and loads it into kind)
#
# Stage 1 builds the shaded jar, stage 2 links a Java runtime holding only the modules jdeps finds in
# that jar, stage 3 is distroless (glibc, CA certificates, no shell, no package manager).

# JDK >= 22: the jar then carries the foreign-function version of repair.Signals (pidfd signals; the
# image has no kill(1), so with a JDK 21 build the leaked-session repair could not send SIGHUP)
ARG JDK_VERSION=25
FROM maven:3.9-eclipse-temurin-${JDK_VERSION} AS build
WORKDIR /src
COPY pom.xml .
RUN --mount=type=cache,target=/root/.m2 mvn -B -ntp -q dependency:go-offline -Dmaven.test.skip=true || true
COPY src/main ./src/main
RUN --mount=type=cache,target=/root/.m2 mvn -B -ntp -q -Dmaven.test.skip=true package \
 && test -f target/execguard.jar

# The exec canary's command (docs/DETECTION.md): a static binary, so the canary needs no shell or libc in the image
FROM gcc:13 AS canary
COPY src/main/c/canary.c /canary.c
RUN gcc -static -Os -s -o /canary /canary.c && test "$(/canary)" = ok

FROM build AS jre
# jdeps reports java.base, java.compiler, java.desktop (java.beans, for jackson and snakeyaml),
# java.net.http (the Kubernetes client's HTTP), java.sql (jackson's java.sql types) and
# jdk.httpserver (/metrics, /healthz). jdk.crypto.ec adds elliptic-curve TLS (ECDHE, ECDSA API-server
# certificates) on JDK 21, where it is a separate module; on JDK 22+ it is empty and costs nothing.
RUN MODULES="$(jdeps --ignore-missing-deps --multi-release 21 --print-module-deps target/execguard.jar)" \
 && echo "jdeps: ${MODULES}" \
 && jlink --add-modules "${MODULES},jdk.crypto.ec" \
          --strip-debug --no-man-pages --no-header-files --compress=zip-6 \
          --output /jre \
 && /jre/bin/java --list-modules
# The AOT caches (JDK >= 25), trained with the linked runtime and the jar at its final path against fabric8's mock
# API server (test classes), each with its command's jvmOptions from the chart: the probe's on a 20 s probe run
# (docs/RESOURCES.md: -8 MiB RSS and half the start-up CPU of the probe, +25 MB of image), the operator's on a 20 s
# operator run over 600 Nodes (docs/SCALE.md: its controller starts 2.0 s after the JVM instead of 4.7 s at 5,000
# nodes; +49 MB of image, 15 MB compressed). Skipped on a JDK without AOT caches: the JVM then logs that the
# cache cannot be mapped and runs without it.
COPY src/test ./src/test
COPY helm/execguard/values.yaml ./helm/execguard/values.yaml
COPY hack/aot-train.sh ./hack/aot-train.sh
RUN --mount=type=cache,target=/root/.m2 mkdir -p /app && cp target/execguard.jar /app/execguard.jar \
 && mvn -B -ntp -q test-compile \
 && (bash hack/aot-train.sh /jre/bin/java /app/execguard.jar /app/probe.aot 20 probe || touch /app/probe.aot) \
 && (bash hack/aot-train.sh /jre/bin/java /app/execguard.jar /app/operator.aot 20 operator || touch /app/operator.aot)

FROM gcr.io/distroless/base-debian12:nonroot
LABEL org.opencontainers.image.title="execguard" \
      org.opencontainers.image.description="Finds the nodes where exec and kill get stuck and names the kernel-level cause." \
      org.opencontainers.image.source="https://github.com/execguard/execguard"
COPY --from=jre /jre /opt/java
COPY --from=jre /app/execguard.jar /app/probe.aot /app/operator.aot /app/
COPY --from=canary /canary /app/canary
ENV JAVA_HOME=/opt/java MALLOC_ARENA_MAX=1
USER 65532:65532
# Small-footprint JVM, chosen by measurement (docs/RESOURCES.md). In JDK_JAVA_OPTIONS rather than in
# the ENTRYPOINT because options on the command line would win over JDK_JAVA_OPTIONS, and the chart
# sets JDK_JAVA_OPTIONS from operator.jvmOptions (this string) and probe.jvmOptions (its own, measured:
# 256k stacks, one C1 thread, 16m code cache, native heap trimming, -XX:AOTCache=/app/probe.aot):
#   UseSerialGC        one GC thread, the smallest GC data structures; live set ~15 MB, pauses ~1 ms
#   Xss512k            half the default thread stack (~30 threads)
#   Min/MaxRAMPercentage=25  heap <= 25 % of the container memory limit (64 MiB at 256 Mi). Both:
#                      below ~512 MiB of RAM the JVM sizes the heap by MinRAMPercentage (default
#                      50), not MaxRAMPercentage. Measured: a larger heap only lets the old
#                      generation fill with promoted scan garbage before the first full GC,
#                      raising RSS for nothing (live set ~15 MB)
#   TieredStopAtLevel=1  C1 only: ~30 MiB less RSS than with C2, for ~12 % more scan CPU
#   -UsePerfData       no /tmp/hsperfdata mmap
#   ExitOnOutOfMemoryError  let the kubelet restart a broken JVM instead of limping on
ENV JDK_JAVA_OPTIONS="-XX:+UseSerialGC -Xss512k -XX:MinRAMPercentage=25 -XX:MaxRAMPercentage=25 -XX:TieredStopAtLevel=1 -XX:-UsePerfData -XX:+ExitOnOutOfMemoryError"
ENTRYPOINT ["/opt/java/bin/java", "-jar", "/app/execguard.jar"]
CMD ["--help"]
