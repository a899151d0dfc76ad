//! Lighthouse (npm `lighthouse@12.2.3`, mobile preset, Debian's Chromium)
//! on the pages shoppers and admins spend their time on: every category
//! (performance, accessibility, best practices, SEO) scores at least 98.
//! The scores are printed, page by page.

use atelier_e2e::RunningShop;
use serde_json::{Value, json};
use std::{path::PathBuf, process::Command};

/// Where `cargo xtask test` installs Lighthouse.
fn lighthouse() -> Option<PathBuf> {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/npm/node_modules/.bin/lighthouse");
    bin.exists().then_some(bin)
}

const LEAST: f64 = 0.98;

/// Logs in through the API: the session token, which is also the site's cookie.
async fn session(shop: &RunningShop, username: &str, password: &str) -> String {
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/session", shop.url))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["token"].as_str().expect("a session token").to_string()
}

async fn api(shop: &RunningShop, token: &str, method: reqwest::Method, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .request(method, format!("{}/api/v1{path}", shop.url))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{path}: {}", response.status());
    response.json().await.unwrap_or(Value::Null)
}

/// The four category scores of one page, as the signed-in `session` (if any) sees it.
fn scores(bin: &PathBuf, url: &str, session: Option<&str>, out: &std::path::Path) -> Vec<(String, f64)> {
    let mut cmd = Command::new(bin);
    cmd.arg(url)
        .args(["--quiet", "--output=json", "--only-categories=performance,accessibility,best-practices,seo"])
        .arg(format!("--output-path={}", out.display()))
        .arg("--chrome-flags=--headless=new --no-sandbox --disable-dev-shm-usage")
        .env("CHROME_PATH", "/usr/bin/chromium")
        // Chromium's own temporary files go with the test's directory.
        .env("TMPDIR", out.parent().unwrap());
    if let Some(token) = session {
        cmd.arg(format!("--extra-headers={}", json!({"Cookie": format!("atelier_session={token}")})));
    }
    let status = cmd.status().expect("lighthouse runs");
    assert!(status.success(), "lighthouse {url}: {status}");
    let report: Value = serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap();
    let final_url = report["finalDisplayedUrl"].as_str().unwrap_or_default();
    assert!(final_url.starts_with(url), "{url} was measured, not a redirect to {final_url}");
    report["categories"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, c)| (id.clone(), c["score"].as_f64().unwrap_or(0.0)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_pages_score_at_least_98_in_every_lighthouse_category() {
    let Some(bin) = lighthouse() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but Lighthouse is not installed (cargo xtask test installs it into target/npm)");
        }
        eprintln!("NOTICE: Lighthouse not installed; skipping the Lighthouse scores");
        return;
    };
    let shop = RunningShop::start().await.expect("shop starts");
    let client = session(&shop, "demo-client", "demo123").await;
    let admin = session(&shop, "admin", "admin123").await;
    // A bag with two lines, and the review of its checkout to the default address.
    for sku in ["JEANS-001", "TSHIRT-001"] {
        api(&shop, &client, reqwest::Method::POST, "/cart/items", json!({"sku": sku, "quantity": 1})).await;
    }
    let addresses = api(&shop, &client, reqwest::Method::GET, "/addresses", Value::Null).await;
    let address = addresses[0]["id"].as_str().expect("the demo account has an address").to_string();
    let review = format!("/checkout/review?address={address}&delivery=standard");
    let pages: [(&str, Option<&str>); 6] = [
        ("/", None),
        ("/products", None),
        ("/products/organic-crew-neck-tee", None),
        ("/cart", Some(&client)),
        (&review, Some(&client)),
        ("/admin", Some(&admin)),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut low = vec![];
    println!("{:<52} {:>11} {:>13} {:>14} {:>5}", "page", "performance", "accessibility", "best-practices", "seo");
    for (path, who) in pages {
        let url = format!("{}{path}", shop.url);
        let scores = scores(&bin, &url, who, &dir.path().join("report.json"));
        let of = |id: &str| scores.iter().find(|(k, _)| k == id).map_or(0.0, |(_, v)| *v * 100.0);
        println!(
            "{path:<52} {:>11.0} {:>13.0} {:>14.0} {:>5.0}",
            of("performance"),
            of("accessibility"),
            of("best-practices"),
            of("seo")
        );
        assert_eq!(scores.len(), 4, "{path}: four categories");
        low.extend(scores.iter().filter(|(_, s)| *s < LEAST).map(|(id, s)| format!("{path}: {id} {:.0}", s * 100.0)));
    }
    assert!(low.is_empty(), "below {:.0}: {low:?}", LEAST * 100.0);
}
