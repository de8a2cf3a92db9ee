#!/usr/bin/env bash
# End-to-end check on a throwaway kind cluster, for machines with Docker, kind, kubectl and helm:
#   build the image, load it into kind, helm install the chart, wait until every node has a
#   NodeExecHealth whose probe reported, and print `kubectl get nodeexechealth`.
#
#   bash hack/e2e-kind.sh            # creates cluster "execguard-e2e" (3 nodes), deletes it afterwards
#   KEEP=1 bash hack/e2e-kind.sh     # keep the cluster for a look around
#   CLUSTER=mine bash hack/e2e-kind.sh   # use an existing kind cluster (never deleted)
#
# It needs Docker Hub (maven, kindest/node) and gcr.io (distroless) to build and boot, so it does not
# run on our CI machines, which have no image registry access and no Docker engine; the helm-java
# tests (io.execguard.install) cover the chart there.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in docker kind kubectl helm; do
  command -v "$tool" >/dev/null || { echo "e2e-kind: $tool is required" >&2; exit 2; }
done
docker info >/dev/null 2>&1 || { echo "e2e-kind: no Docker engine" >&2; exit 2; }

IMAGE=${IMAGE:-execguard:e2e}
NS=${NS:-execguard}
TIMEOUT=${TIMEOUT:-300}
CREATED=""
if [ -z "${CLUSTER:-}" ]; then
  CLUSTER=execguard-e2e
  if ! kind get clusters | grep -qx "$CLUSTER"; then
    cat <<KIND | kind create cluster --name "$CLUSTER" --wait 120s --config=-
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
  - role: worker
  - role: worker
KIND
    CREATED=1
  fi
fi
cleanup() {
  local rc=$?
  if [ $rc -ne 0 ]; then
    echo "--- e2e-kind failed; state:" >&2
    kubectl -n "$NS" get pods -o wide >&2 || true
    kubectl -n "$NS" logs -l app.kubernetes.io/component=probe --tail=30 >&2 || true
    kubectl -n "$NS" logs -l app.kubernetes.io/component=operator --tail=30 >&2 || true
  fi
  if [ -n "$CREATED" ] && [ -z "${KEEP:-}" ]; then kind delete cluster --name "$CLUSTER"; fi
}
trap cleanup EXIT
kubectl config use-context "kind-$CLUSTER" >/dev/null

echo "--- build $IMAGE"
docker build -t "$IMAGE" .
kind load docker-image "$IMAGE" --name "$CLUSTER"

echo "--- helm install"
kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f -
kubectl label namespace "$NS" pod-security.kubernetes.io/enforce=privileged --overwrite
helm upgrade --install execguard helm/execguard -n "$NS" \
  --set image.repository="${IMAGE%:*}" --set image.tag="${IMAGE##*:}" --set image.pullPolicy=Never \
  --set policy.dryRun=true --wait --timeout "${TIMEOUT}s"

echo "--- wait for a NodeExecHealth per node"
nodes=$(kubectl get nodes -o jsonpath='{.items[*].metadata.name}')
deadline=$((SECONDS + TIMEOUT))
for node in $nodes; do
  until kubectl get nodeexechealth "$node" -o jsonpath='{.status.lastProbeTime}' 2>/dev/null | grep -q .; do
    if [ $SECONDS -ge $deadline ]; then echo "e2e-kind: no NodeExecHealth for $node after ${TIMEOUT}s" >&2; exit 1; fi
    sleep 3
  done
  echo "node $node: reported"
done
kubectl get nodeexechealth
kubectl -n "$NS" get pods -o wide
echo "e2e-kind: OK, every node has a NodeExecHealth"
