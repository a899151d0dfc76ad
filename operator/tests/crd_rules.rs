//! The CRD's CEL rules (`x-kubernetes-validations`), evaluated as the API
//! server evaluates them (kube-cel, Kubernetes' CEL libraries): good Shops
//! pass, bad ones are refused with the rule's message before they reach the
//! operator, and transition rules hold on updates.

use atelier_operator::crd::Shop;
use kube::CustomResourceExt;
use serde_json::{Value, json};

fn schema() -> Value {
    serde_json::to_value(Shop::crd()).unwrap()["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

/// The messages of every rule `shop` breaks (`old`: the object it updates).
fn broken(shop: &Value, old: Option<&Value>) -> Vec<String> {
    match kube_cel::Validator::new().validate(&schema(), shop, old) {
        Ok(()) => vec![],
        Err(errors) => errors.into_vec().into_iter().map(|e| format!("{}: {}", e.field_path, e.message)).collect(),
    }
}

fn shop(spec: Value) -> Value {
    json!({"apiVersion": "atelier.dev/v1alpha1", "kind": "Shop", "metadata": {"name": "s"}, "spec": spec})
}

fn example(file: &str) -> Value {
    let text =
        std::fs::read_to_string(format!("{}/../charts/atelier-operator/examples/{file}", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| <Value as serde::Deserialize>::deserialize(d).unwrap())
        .find(|d| d["kind"] == "Shop")
        .unwrap()
}

#[test]
fn the_examples_pass_every_rule() {
    for file in ["shop.yaml", "cloudnative-pg.yaml"] {
        assert_eq!(broken(&example(file), None), Vec::<String>::new(), "{file}");
    }
    let sized = json!({"database": {"kind": "managed", "storage": "10Gi"}, "gateway": {"resources": {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"memory": "1Gi"}}}});
    assert_eq!(broken(&shop(sized), None), Vec::<String>::new());
}

#[test]
fn bad_specs_are_refused_with_the_rules_message() {
    let cases = [
        (json!({"gateway": {"resources": {"requests": {"cpu": "abc"}}}}), "each request must be a quantity"),
        (json!({"order": {"resources": {"limits": {"memory": "lots"}}}}), "each limit must be a quantity"),
        (json!({"cart": {"resources": {"requests": {"gpu": "1"}}}}), "resources are cpu, memory or ephemeral-storage"),
        (json!({"database": {"kind": "managed", "storage": "big"}}), "storage must be a quantity"),
        (json!({"image": ""}), "image must not be empty"),
        (json!({"database": {"kind": "external"}}), "an external database needs secretName"),
        (
            json!({"product": {"autoscaling": {"minReplicas": 5, "maxReplicas": 2}}}),
            "minReplicas must not exceed maxReplicas",
        ),
    ];
    for (spec, message) in cases {
        let errors = broken(&shop(spec.clone()), None);
        assert!(errors.iter().any(|e| e.contains(message)), "{spec} should break \"{message}\": {errors:?}");
    }
}

#[test]
fn the_database_volume_is_fixed_once_set() {
    let with = |storage: Option<&str>, class: Option<&str>| {
        let mut database = json!({"kind": "managed"});
        if let Some(s) = storage {
            database["storage"] = json!(s);
        }
        if let Some(c) = class {
            database["storageClassName"] = json!(c);
        }
        shop(json!({"database": database}))
    };
    let set = with(Some("1Gi"), Some("fast"));
    assert!(broken(&with(Some("2Gi"), Some("fast")), Some(&set)).iter().any(|e| e.contains("cannot change once set")));
    assert!(broken(&with(None, Some("fast")), Some(&set)).iter().any(|e| e.contains("cannot change once set")));
    assert!(broken(&with(Some("1Gi"), Some("slow")), Some(&set)).iter().any(|e| e.contains("storageClassName")));
    assert_eq!(broken(&with(Some("1Gi"), Some("fast")), Some(&set)), Vec::<String>::new(), "unchanged is fine");
    assert_eq!(broken(&with(Some("5Gi"), None), Some(&with(None, None))), Vec::<String>::new(), "set once is fine");
}
