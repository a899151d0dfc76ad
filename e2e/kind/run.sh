#!/usr/bin/env bash
# The whole Kubernetes path on a real (kind) cluster: cluster → image →
# ingress controller → operator chart → Shop → Ready → browser journeys
# through the ingress → tear down.
#
# Needs: Docker (a running engine), kind, kubectl, helm, cargo, and Chromium
# with chromedriver (apt install chromium chromium-driver) for the journeys.
# The image is built for this machine's architecture.
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in docker kind kubectl helm cargo chromedriver; do
  command -v "$tool" >/dev/null || { echo "e2e/kind/run.sh needs $tool on PATH" >&2; exit 1; }
done
docker info >/dev/null 2>&1 || { echo "e2e/kind/run.sh needs a running Docker engine" >&2; exit 1; }

CLUSTER=atelier
HOST=shop.localtest.me   # resolves to 127.0.0.1; kind maps host ports 80/443 to the node
keep=${KEEP_CLUSTER:-}
cleanup() { [ -n "$keep" ] || kind delete cluster --name "$CLUSTER"; }
trap cleanup EXIT

kind create cluster --name "$CLUSTER" --config kind-config.yaml
docker build -t atelier:dev .
kind load docker-image atelier:dev --name "$CLUSTER"

kubectl apply -f https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v1.12.1/deploy/static/provider/kind/deploy.yaml
kubectl wait -n ingress-nginx --for=condition=Ready pod -l app.kubernetes.io/component=controller --timeout=5m

helm upgrade --install atelier-operator charts/atelier-operator \
  --namespace atelier-system --create-namespace \
  --set image.repository=atelier --set image.tag=dev --set image.pullPolicy=Never --wait
kubectl rollout status -n atelier-system deployment/atelier-operator --timeout=5m

kubectl create namespace shop --dry-run=client -o yaml | kubectl apply -f -
kubectl apply -n shop -f - <<YAML
apiVersion: atelier.dev/v1alpha1
kind: Shop
metadata:
  name: atelier
spec:
  # No spec.image: the operator's own image (atelier:dev), passed by the chart.
  imagePullPolicy: Never
  ingress:
    host: $HOST
    className: nginx
YAML

kubectl wait -n shop --for=condition=Ready shop/atelier --timeout=10m
kubectl get shop -n shop

ATELIER_E2E_URL="http://$HOST" cargo test -p atelier-e2e -- --test-threads=1
