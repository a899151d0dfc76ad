//! `atelier-operator render`: the objects reconcile would apply, printed by
//! the real binary from a file or standard input.

use std::{
    io::Write,
    process::{Command, Stdio},
};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../charts/atelier-operator/examples/shop.yaml");

fn render(args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_atelier-operator"))
        .arg("render")
        .args(args)
        .env("ATELIER_DEFAULT_IMAGE", "registry.example/atelier:1.2.3")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn documents(yaml: &str) -> Vec<serde_json::Value> {
    yaml.split("---\n").filter(|d| !d.trim().is_empty()).map(|d| serde_yaml::from_str(d).unwrap()).collect()
}

#[test]
fn render_prints_every_object_of_the_example_shop() {
    let (ok, out, err) = render(&["-f", EXAMPLE], None);
    assert!(ok, "{err}");
    let docs = documents(&out);
    let count = |kind: &str| docs.iter().filter(|d| d["kind"] == kind).count();
    assert_eq!(
        [
            count("Secret"),
            count("ConfigMap"),
            count("StatefulSet"),
            count("Service"),
            count("Deployment"),
            count("Job"),
            count("Ingress")
        ],
        [2, 1, 1, 6, 5, 1, 1]
    );
    // Generated Secrets are shown with placeholders, and say so.
    for secret in docs.iter().filter(|d| d["kind"] == "Secret") {
        assert!(secret["metadata"]["annotations"]["atelier.dev/rendered"].as_str().unwrap().contains("placeholder"));
        assert!(
            secret["stringData"].as_object().unwrap().values().all(|v| v.as_str().unwrap().starts_with("<generated"))
        );
        assert!(secret.get("data").is_none_or(|d| d.is_null()), "no real secret material is printed");
    }
    // No spec.image: the operator's own image.
    let gateway =
        docs.iter().find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "atelier-gateway").unwrap();
    assert_eq!(gateway["spec"]["template"]["spec"]["containers"][0]["image"], "registry.example/atelier:1.2.3");
    assert_eq!(gateway["spec"]["replicas"], 2);
}

#[test]
fn render_reads_standard_input_and_refuses_what_is_not_a_valid_shop() {
    let example = std::fs::read_to_string(EXAMPLE).unwrap();
    let (ok, from_stdin, err) = render(&["-f", "-"], Some(&example));
    assert!(ok, "{err}");
    let (_, from_file, _) = render(&["-f", EXAMPLE], None);
    let kinds =
        |y: &str| documents(y).iter().map(|d| format!("{}/{}", d["kind"], d["metadata"]["name"])).collect::<Vec<_>>();
    assert_eq!(kinds(&from_stdin), kinds(&from_file));

    let (ok, _, err) = render(
        &["-f", "-"],
        Some(
            "apiVersion: atelier.dev/v1alpha1\nkind: Shop\nmetadata: {name: s}\nspec:\n  database: {kind: external}\n",
        ),
    );
    assert!(!ok);
    assert!(err.contains("secretName is required"), "{err}");
    let (ok, _, err) = render(&["-f", "/nonexistent/shop.yaml"], None);
    assert!(!ok && err.contains("/nonexistent/shop.yaml"), "{err}");
}
