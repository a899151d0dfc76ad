//! The JSON API fuzzed from its own OpenAPI document with schemathesis
//! (PyPI), as an admin and as a client: a bounded number of generated
//! requests per operation; no 5xx, and every response has a documented
//! status code, schema and content type.

use atelier_e2e::RunningShop;
use std::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_survives_schemathesis() {
    // Through the interpreter, so that no console-script shim on PATH is needed.
    let installed = Command::new("python3")
        .args(["-m", "schemathesis.cli", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but schemathesis is not installed (pip install schemathesis)");
        }
        eprintln!("NOTICE: schemathesis not installed; skipping the API fuzzing");
        return;
    }
    let shop = RunningShop::start().await.expect("shop starts");
    // Both sessions first: the fuzzer's own failed logins count against this
    // address and may hold further logins back for a while.
    let mut sessions = vec![];
    for (username, password) in [("admin", "admin123"), ("demo-client", "demo123")] {
        let login = reqwest::Client::new()
            .post(format!("{}/api/v1/session", shop.url))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        let token = login.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_string();
        sessions.push((username, token));
    }
    for (username, token) in sessions {
        let url = shop.url.clone();
        let out = tokio::task::spawn_blocking(move || {
            Command::new("python3")
                .args(["-m", "schemathesis.cli", "run", &format!("{url}/api/v1/openapi.json")])
                .args(["--header", &format!("Authorization: Bearer {token}")])
                .args([
                    "--checks",
                    "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance",
                ])
                // Keep the fuzzer's own session alive: do not let it log out or change the password.
                .args(["--exclude-operation-id", "logout", "--exclude-operation-id", "change_password"])
                .args(["--max-examples", "20", "--seed", "20261125", "--no-color"])
                .output()
                .expect("run schemathesis")
        })
        .await
        .unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        let summary: String = report.lines().skip_while(|l| !l.contains("SUMMARY")).collect::<Vec<_>>().join("\n");
        println!("as {username}:\n{summary}");
        assert!(
            out.status.success(),
            "schemathesis found problems as {username}:\n{report}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
