//! Drift between the operator and its Helm chart, and the chart checked by
//! the real Helm engine and the Kubernetes schemas (e2e/chart/validate.py).

use atelier_operator::{crd::Shop, rbac};
use kube::CustomResourceExt;
use std::{collections::BTreeSet, path::PathBuf, process::Command};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn the_chart_crd_is_the_generated_crd() {
    let in_chart: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(root().join("charts/atelier-operator/crds/shops.atelier.dev.yaml")).unwrap(),
    )
    .unwrap();
    let generated: serde_yaml::Value = serde_yaml::from_str(&serde_yaml::to_string(&Shop::crd()).unwrap()).unwrap();
    assert!(
        in_chart == generated,
        "regenerate it: cargo run -p atelier-operator -- crd > charts/atelier-operator/crds/shops.atelier.dev.yaml"
    );
}

type Rules = BTreeSet<(String, String, BTreeSet<String>)>;

/// The rules of an RBAC template (template lines skipped).
fn template_rules(file: &str) -> Rules {
    let text = std::fs::read_to_string(root().join("charts/atelier-operator/templates").join(file)).unwrap();
    let yaml: String = text.lines().filter(|l| !l.contains("{{")).collect::<Vec<_>>().join("\n");
    let doc: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap();
    doc["rules"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|r| {
            let verbs: BTreeSet<String> =
                r["verbs"].as_sequence().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
            let groups: Vec<String> =
                r["apiGroups"].as_sequence().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
            let resources: Vec<String> =
                r["resources"].as_sequence().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
            groups.into_iter().flat_map(move |g| {
                resources.clone().into_iter().map({
                    let verbs = verbs.clone();
                    move |res| (g.clone(), res, verbs.clone())
                })
            })
        })
        .collect()
}

fn table(rules: &[(&str, &str, &[&str])]) -> Rules {
    rules.iter().map(|(g, r, v)| (g.to_string(), r.to_string(), v.iter().map(|s| s.to_string()).collect())).collect()
}

#[test]
fn the_chart_rbac_is_exactly_what_the_operator_uses() {
    assert_eq!(template_rules("clusterrole.yaml"), table(rbac::CLUSTER_RULES));
    assert_eq!(template_rules("role.yaml"), table(rbac::NAMESPACE_RULES));
    // Every kind the operator applies can be created, patched (server-side
    // apply), listed (orphan clean-up) and deleted.
    let applied = [
        ("", "configmaps"),
        ("", "services"),
        ("apps", "deployments"),
        ("apps", "statefulsets"),
        ("batch", "jobs"),
        ("policy", "poddisruptionbudgets"),
        ("autoscaling", "horizontalpodautoscalers"),
        ("networking.k8s.io", "ingresses"),
        ("networking.k8s.io", "networkpolicies"),
    ];
    for (group, resource) in applied {
        let verbs = &rbac::CLUSTER_RULES
            .iter()
            .find(|(g, r, _)| *g == group && *r == resource)
            .unwrap_or_else(|| panic!("{resource}"))
            .2;
        for verb in ["create", "patch", "list", "delete"] {
            assert!(verbs.contains(&verb), "{resource} needs {verb}");
        }
    }
    // Nothing cluster-wide beyond reading and writing what a Shop owns.
    for (_, resource, verbs) in rbac::CLUSTER_RULES {
        assert!(!verbs.contains(&"*") && !resource.contains('*'));
        assert!(!(resource == &"secrets" && verbs.contains(&"update")), "secrets are never rewritten");
    }
}

/// A Shop using every feature, for schema validation of what it builds.
fn full_shop() -> Shop {
    let mut shop: Shop = serde_yaml::from_str(
        &std::fs::read_to_string(root().join("charts/atelier-operator/examples/shop.yaml")).unwrap(),
    )
    .unwrap();
    shop.metadata.namespace = Some("shop".into());
    shop.metadata.uid = Some("0000-1111".into());
    shop.spec.ingress.as_mut().unwrap().tls_secret_name = Some("shop-tls".into());
    shop.spec.telemetry = Some(atelier_operator::crd::TelemetrySpec {
        otlp_endpoint: "http://otel:4317".into(),
        sampling_ratio: Some(0.5),
    });
    shop
}

#[test]
fn helm_renders_the_chart_and_every_manifest_validates() {
    let have = Command::new("python3")
        .args(["-c", "import helm_python, kubernetes_validate, jsonschema, yaml"])
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "CI=true but helm-python-sdk / kubernetes-validate are not installed (pip install helm-python-sdk kubernetes-validate)"
            );
        }
        eprintln!("NOTICE: helm-python-sdk / kubernetes-validate not installed; skipping the chart validation");
        return;
    }
    let shop = full_shop();
    let dir = std::env::temp_dir().join(format!("atelier-children-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, value: serde_json::Value| {
        std::fs::write(dir.join(format!("{name}.yaml")), serde_yaml::to_string(&value).unwrap()).unwrap();
    };
    // Exactly what reconcile applies, through `render` (one source).
    let rendered = atelier_operator::render::render(shop).unwrap();
    for (i, doc) in rendered.split("---\n").filter(|d| !d.trim().is_empty()).enumerate() {
        let value: serde_json::Value = serde_yaml::from_str(doc).unwrap();
        write(&format!("{i:02}-{}", value["kind"].as_str().unwrap().to_lowercase()), value);
    }
    let out = Command::new("python3").arg(root().join("e2e/chart/validate.py")).arg(&dir).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}");
    assert!(out.status.success(), "{report}\n{}", String::from_utf8_lossy(&out.stderr));
}
