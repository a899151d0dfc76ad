#!/usr/bin/env python3
"""Renders and lints the operator's Helm chart with the real Helm engine
(helm-python-sdk, offline), validates every manifest and the CRD against the
Kubernetes schemas (kubernetes-validate --strict), the example Shop against
the CRD's own schema, and parses kind-config.yaml as a kind Cluster.

Usage: validate.py [DIR]  — DIR holds the operator's child objects as YAML
files to validate too. Exit status 0 when everything is valid; prints what it
checked."""

import json
import pathlib
import sys

import helm_python as helm
import jsonschema
import kubernetes_validate
import yaml
from checks import K8S, ROOT, check, finish

CHART = ROOT / "charts" / "atelier-operator"


def validate_manifest(doc):
    kubernetes_validate.validate(doc, K8S, strict=True)


lint = helm.lint(str(CHART))
check("helm lint", lambda: (_ for _ in ()).throw(Exception(lint)) if lint.get("errors") else None)

def refused(values, says):
    try:
        chart.render(values, name="atelier", namespace="atelier-system", is_install=True)
    except Exception as e:  # noqa: BLE001 - the render must fail, and say why
        if says not in str(e):
            raise Exception(f"refused without saying {says!r}: {e}") from e
        return
    raise Exception("rendered")


chart = helm.Chart.load(str(CHART))
check("two replicas without leader election are refused with a clear message",
      lambda: refused({"replicaCount": 2, "leaderElection": False}, "needs leaderElection: true"))
check("an image tag that is not a string is refused by values.schema.json",
      lambda: refused({"image": {"tag": 12}}, "tag"))
check("an unknown value is refused by values.schema.json", lambda: refused({"replicas": 2}, "replicas"))
CLUSTER_WIDE = ["ClusterRole", "ClusterRoleBinding", "Deployment", "Role", "RoleBinding", "ServiceAccount"]
ONE_NAMESPACE = ["Deployment", "Role", "Role", "RoleBinding", "RoleBinding", "ServiceAccount"]
for label, values, expected in [
    ("default values", {}, CLUSTER_WIDE),
    ("two replicas with leader election", {"replicaCount": 2, "logLevel": "debug"}, CLUSTER_WIDE),
    ("one watched namespace", {"watchNamespace": "shops"}, ONE_NAMESPACE),
]:
    rendered = chart.render(values, name="atelier", namespace="atelier-system", is_install=True)
    docs = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            check(f"{label}: NOTES.txt mentions kind: Shop", lambda t=text: None if "kind: Shop" in t else (_ for _ in ()).throw(Exception("no example")))
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                docs.append((path, doc))
    kinds = sorted(d["kind"] for _, d in docs)
    check(f"{label}: renders the operator's objects {kinds}", lambda k=kinds, e=expected: None if k == e else (_ for _ in ()).throw(Exception(k)))
    for path, doc in docs:
        check(f"{label}: {path} {doc['kind']} is valid for Kubernetes {K8S} (strict)", lambda d=doc: validate_manifest(d))
    deployment = next(d for _, d in docs if d["kind"] == "Deployment")
    sc = deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    check(f"{label}: operator container is hardened", lambda s=sc: None if s["readOnlyRootFilesystem"] and s["capabilities"]["drop"] == ["ALL"] and s["runAsNonRoot"] else (_ for _ in ()).throw(Exception(s)))

def scoped_to_one_namespace():
    rendered = chart.render({"watchNamespace": "shops"}, name="atelier", namespace="atelier-system", is_install=True)
    docs = [d for path, text in rendered.items() if not path.endswith("NOTES.txt") for d in yaml.safe_load_all(text) if d]
    shop_rules = [d for d in docs if d["kind"] == "Role" and any("shops" in r["resources"] for r in d["rules"])]
    if [d["metadata"]["namespace"] for d in shop_rules] != ["shops"]:
        raise Exception(f"the Shop permissions are not confined to namespace shops: {shop_rules}")
    binding = next(d for d in docs if d["kind"] == "RoleBinding" and d["roleRef"]["name"] == shop_rules[0]["metadata"]["name"])
    if binding["metadata"]["namespace"] != "shops":
        raise Exception(binding)
    env = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]
    if {"name": "ATELIER_OPERATOR_WATCH_NAMESPACE", "value": "shops"} not in env:
        raise Exception(env)


check("watchNamespace: the operator's permissions are a Role in that namespace and it watches only there", scoped_to_one_namespace)

crd = yaml.safe_load((CHART / "crds" / "shops.atelier.dev.yaml").read_text())
check("CRD is a valid CustomResourceDefinition (strict)", lambda: validate_manifest(crd))

schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
example = yaml.safe_load((CHART / "examples" / "shop.yaml").read_text())
check("example Shop matches the CRD schema", lambda: jsonschema.validate(example, schema))
bad = json.loads(json.dumps(example))
bad["spec"]["database"]["kind"] = "sqlite"
check("a Shop with an unknown database kind is refused by the schema", lambda: (_ for _ in ()).throw(Exception("accepted")) if jsonschema.Draft7Validator(schema).is_valid(bad) else None)

# Objects the operator builds for a Shop, written by the Rust test.
if len(sys.argv) > 1:
    children = sorted(pathlib.Path(sys.argv[1]).glob("*.yaml"))
    check(f"the operator built {len(children)} child objects", lambda: None if len(children) >= 20 else (_ for _ in ()).throw(Exception("too few")))
    for f in children:
        doc = yaml.safe_load(f.read_text())
        check(f"operator child {f.name} is valid for Kubernetes {K8S} (strict)", lambda d=doc: validate_manifest(d))

kind = yaml.safe_load((ROOT / "kind-config.yaml").read_text())
ports = sorted(m["containerPort"] for n in kind["nodes"] for m in n.get("extraPortMappings", []))
check("kind-config.yaml is a kind Cluster mapping ports 80 and 443",
      lambda: None if kind["kind"] == "Cluster" and kind["apiVersion"] == "kind.x-k8s.io/v1alpha4" and ports == [80, 443] else (_ for _ in ()).throw(Exception(kind)))

finish("chart, CRD, example Shop and kind config are valid")
