//! Whole-system test support: the shop started on a free port with fresh
//! data, and a headless Chromium driven through chromedriver.

use fantoccini::{Client, ClientBuilder, Locator};
use std::{net::SocketAddr, path::PathBuf, process::Stdio, time::Duration};
use tokio::process::{Child, Command};

/// The whole shop (embedded mode) on a free loopback port — or, when
/// `ATELIER_E2E_URL` is set, a shop that already runs there (the Kubernetes
/// path: `e2e/kind/run.sh`).
pub struct RunningShop {
    pub url: String,
    shutdown: atelier::Shutdown,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for RunningShop {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

impl RunningShop {
    pub async fn start() -> anyhow::Result<RunningShop> {
        if let Ok(url) = std::env::var("ATELIER_E2E_URL") {
            return Ok(RunningShop { url, shutdown: atelier::Shutdown::default(), _dir: None });
        }
        let dir = tempfile::tempdir()?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shutdown = atelier::Shutdown::default();
        let data = dir.path().to_path_buf();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            if let Err(e) = atelier::embedded::run(listener, &data, stop).await {
                eprintln!("shop stopped: {e:#}");
            }
        });
        let url = format!("http://{addr}");
        wait_until_ready(&url).await?;
        Ok(RunningShop { url, shutdown, _dir: Some(dir) })
    }
}

/// Polls /readyz/dependencies (all four services answer) for up to 30 s.
async fn wait_until_ready(url: &str) -> anyhow::Result<()> {
    let addr: SocketAddr = url.trim_start_matches("http://").parse()?;
    for _ in 0..300 {
        if let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            stream.write_all(b"GET /readyz/dependencies HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await?;
            let mut response = String::new();
            stream.read_to_string(&mut response).await?;
            if response.starts_with("HTTP/1.1 200") {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the shop did not become ready at {url}")
}

/// A headless Chromium session; `None` (with a notice) when Chromium is not
/// installed, a panic under `CI=true`.
pub struct Browser {
    pub client: Client,
    _driver: Child,
    /// chromedriver and every Chromium process it starts share this process
    /// group; dropping the browser ends the whole group.
    group: Option<u32>,
    _profile: tempfile::TempDir,
    /// TMPDIR of chromedriver and Chromium: the singleton socket directories
    /// Chromium leaves in it when killed go with it.
    _scratch: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(group) = self.group {
            // `kill -KILL -<pgid>`: the group, not just chromedriver.
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{group}")])
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn find(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

impl Browser {
    pub async fn start() -> Option<Browser> {
        let chromium = find(&["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]);
        let driver = find(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true but Chromium or chromedriver is not installed (apt install chromium chromium-driver)");
            }
            eprintln!("NOTICE: Chromium/chromedriver not installed; skipping the browser journeys");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let scratch = tempfile::tempdir().expect("scratch dir");
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .env("TMPDIR", scratch.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let group = child.id();
        let profile = tempfile::tempdir().expect("profile dir");
        let caps = serde_json::json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", "--window-size=1280,1000",
                         format!("--user-data-dir={}", profile.path().display())]
            },
            // The page's console errors, for `console_errors`.
            "goog:loggingPrefs": { "browser": "SEVERE" }
        });
        let caps = caps.as_object().cloned().unwrap_or_default();
        // chromedriver takes a moment to listen: retry the session for up to 20 s.
        let mut last = None;
        for _ in 0..200 {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => {
                    return Some(Browser { client, _driver: child, group, _profile: profile, _scratch: scratch });
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not start a Chromium session: {last:?}");
    }

    /// The browser's profile directory: every Chromium process it starts
    /// names it on its command line.
    pub fn profile_dir(&self) -> PathBuf {
        self._profile.path().to_path_buf()
    }

    /// Saves a PNG of the page under target/e2e-screenshots/.
    pub async fn screenshot(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let Ok(field) = self.client.find(Locator::Css(css)).await else {
            let url = self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
            let source = self.client.source().await.unwrap_or_default();
            panic!("no field {css} on {url}:\n{}", source.chars().take(1500).collect::<String>());
        };
        field.clear().await.expect("clear");
        field.send_keys(value).await.expect("type");
    }

    /// Clicks what `locator` finds and waits for the next page to load.
    async fn click_and_wait(&self, locator: Locator<'_>, what: &str) {
        let old_page = self.client.find(Locator::Css("html")).await.expect("page");
        self.client.find(locator).await.unwrap_or_else(|e| panic!("{what}: {e}")).click().await.expect("click");
        // The old document's root goes stale once the browser has navigated.
        for _ in 0..200 {
            if old_page.tag_name().await.is_err() {
                self.client.wait().for_element(Locator::Css("body")).await.expect("new page");
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("clicking {what} did not load a page");
    }

    /// Clicks a button or link (by CSS) that loads a new page.
    pub async fn click(&self, css: &str) {
        self.click_and_wait(Locator::Css(css), css).await;
    }

    /// Clicks something that changes the page in place (a swatch, a size
    /// button), without waiting for a new page.
    pub async fn tap(&self, css: &str) {
        let target = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        target.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks the button or link whose text contains `text`.
    pub async fn click_text(&self, text: &str) {
        let xpath = format!("//*[self::button or self::a][contains(normalize-space(.), '{text}')]");
        self.click_and_wait(Locator::XPath(&xpath), text).await;
    }

    pub async fn text(&self) -> String {
        self.client.find(Locator::Css("body")).await.expect("body").text().await.expect("text")
    }

    /// Errors the pages logged to the console (CSP refusals, failed loads,
    /// script errors) since the last call.
    pub async fn console_errors(&self) -> Vec<String> {
        let entries = self.client.issue_cmd(BrowserLog).await.expect("the browser's log");
        entries
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// The browser window's size in CSS pixels (390 × 844: a phone).
    pub async fn resize(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.expect("resize");
    }

    /// How far the page reaches past the window's width (0: no sideways scrolling).
    pub async fn overflow_x(&self) -> i64 {
        let script = "return document.documentElement.scrollWidth - document.documentElement.clientWidth;";
        self.client.execute(script, vec![]).await.expect("measure").as_i64().unwrap_or(i64::MAX)
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.expect("url").path().to_string()
    }
}

/// chromedriver's log endpoint (not in the W3C protocol, so not in fantoccini).
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }
    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}
