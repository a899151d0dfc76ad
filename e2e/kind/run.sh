#!/usr/bin/env bash
# The whole Kubernetes path on a machine with Docker, kind, kubectl and helm:
# cluster → image → ingress controller → operator chart → Shop → Ready →
# browser journeys through the ingress → tear down.
set -euo pipefail
cd "$(dirname "$0")/../.."

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

kubectl create namespace shop --dry-run=client -o yaml | kubectl apply -f -
kubectl apply -n shop -f - <<YAML
apiVersion: atelier.dev/v1alpha1
kind: Shop
metadata:
  name: atelier
spec:
  image: atelier:dev
  imagePullPolicy: Never
  ingress:
    host: $HOST
    className: nginx
YAML

kubectl wait -n shop --for=condition=Ready shop/atelier --timeout=10m
kubectl get shop -n shop

ATELIER_E2E_URL="http://$HOST" cargo test -p atelier-e2e -- --test-threads=1
