#!/usr/bin/env python3
"""Validates the CloudNativePG example (charts/atelier-operator/examples/
cloudnative-pg.yaml) offline: the Cluster and Database objects against
CloudNativePG's published CRD schemas (operator/tests/schemas/cloudnative-pg),
the Shop against Atelier's CRD, the Secrets against Kubernetes' schemas.
Unknown fields are errors, as with `kubectl apply --validate=strict`.
Exit status 0 when everything is valid; prints what it checked."""

import copy

import jsonschema
import kubernetes_validate
import yaml
from checks import K8S, ROOT, check, finish

EXAMPLE = ROOT / "charts" / "atelier-operator" / "examples" / "cloudnative-pg.yaml"
CNPG = ROOT / "operator" / "tests" / "schemas" / "cloudnative-pg"


def strict(schema):
    """The schema with unknown properties refused wherever it lists them and
    does not say to keep unknown fields (the API server's strict validation)."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node and not node.get("x-kubernetes-preserve-unknown-fields"):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    # At the root: apiVersion, kind and metadata are checked by the API
    # server itself (kube-derive's schemas list only spec and status).
    schema.pop("additionalProperties", None)
    return schema


def crd_schema(path):
    crd = yaml.safe_load(path.read_text())
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1" or v["name"] == "v1")
    return crd["spec"]["names"]["kind"], strict(version["schema"]["openAPIV3Schema"])


schemas = dict(crd_schema(p) for p in sorted(CNPG.glob("*.yaml")))
schemas.update([crd_schema(ROOT / "charts" / "atelier-operator" / "crds" / "shops.atelier.dev.yaml")])


def validate(doc):
    kind = doc["kind"]
    if kind in schemas:
        jsonschema.Draft7Validator(schemas[kind]).validate(doc)
    else:
        kubernetes_validate.validate(doc, K8S, strict=True)


def refused(doc):
    try:
        validate(doc)
    except Exception:  # noqa: BLE001
        return
    raise Exception("accepted")


docs = [d for d in yaml.safe_load_all(EXAMPLE.read_text()) if d]
kinds = sorted({d["kind"] for d in docs})
check(f"the example holds {kinds}", lambda: None if kinds == ["Cluster", "Database", "Secret", "Shop"] else (_ for _ in ()).throw(Exception(kinds)))
for doc in docs:
    check(f"{doc['kind']} {doc['metadata']['name']} is valid (strict)", lambda d=doc: validate(d))

cluster = next(d for d in docs if d["kind"] == "Cluster")
typo = copy.deepcopy(cluster)
typo["spec"]["instance"] = typo["spec"].pop("instances")
check("a Cluster with a misspelt field is refused", lambda: refused(typo))
database = copy.deepcopy(next(d for d in docs if d["kind"] == "Database"))
del database["spec"]["owner"]
check("a Database without an owner is refused", lambda: refused(database))

finish("the CloudNativePG example is valid")
