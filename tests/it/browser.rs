//! The web view in a real headless Chromium driven over WebDriver (chromedriver on loopback):
//! pages load, the DOM says what a reader would check, and screenshots land in
//! `target/screenshots/`. Marked ignored (they need chromium and chromedriver); run with
//! `--include-ignored`, they fail with a message when either is missing.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use super::web::{SCRIPT_TEXT, WebFixture};

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// chromedriver on a free loopback port, stopped when dropped.
pub(super) struct Driver {
    child: Child,
    base: String,
    chromium: PathBuf,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    /// Starts chromedriver; panics, naming what is missing, when the browser or its driver is not
    /// installed.
    fn start() -> Driver {
        let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"])
            .expect("chromium is not installed: this test needs it (apt-get install chromium)");
        let chromedriver = find_program(&["chromedriver"]).expect(
            "chromedriver is not installed: this test needs it (apt-get install chromium-driver)",
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            chromium,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            client: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = driver
                .call(reqwest::Method::GET, "/status", None)
                .ok()
                .and_then(|v| v["ready"].as_bool())
                .unwrap_or(false);
            if ready {
                return driver;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        self.runtime.block_on(async {
            let mut request = self.client.request(method, format!("{}{path}", self.base));
            if let Some(body) = body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.to_string());
            }
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            let text = response.text().await.map_err(|e| e.to_string())?;
            let value: Value = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
            if !status.is_success() {
                return Err(format!("{path}: {status} {value}"));
            }
            Ok(value["value"].clone())
        })
    }

    pub(super) fn session(&self, profile: &Path) -> Session<'_> {
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": self.chromium.to_string_lossy(),
                    "args": [
                        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        "--disable-dev-shm-usage", "--hide-scrollbars",
                        format!("--user-data-dir={}", profile.display()),
                        "--window-size=1280,1400",
                    ]
                }
            }}
        });
        let value = self
            .call(reqwest::Method::POST, "/session", Some(capabilities))
            .expect("new browser session");
        Session {
            driver: self,
            id: value["sessionId"].as_str().expect("session id").to_string(),
        }
    }
}

pub(super) struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = self.driver.call(
            reqwest::Method::DELETE,
            &format!("/session/{}", self.id),
            None,
        );
    }
}

impl Session<'_> {
    fn post(&self, path: &str, body: Value) -> Value {
        self.driver
            .call(
                reqwest::Method::POST,
                &format!("/session/{}{path}", self.id),
                Some(body),
            )
            .unwrap_or_else(|error| panic!("{error}"))
    }

    pub(super) fn open(&self, url: &str) {
        self.post("/url", json!({ "url": url }));
    }

    /// Runs `script` (a function body) in the page and returns its value.
    pub(super) fn eval(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": [] }))
    }

    pub(super) fn text(&self, selector: &str) -> String {
        let script = format!(
            "const e = document.querySelector({}); return e ? e.innerText : null;",
            json!(selector)
        );
        self.eval(&script)
            .as_str()
            .unwrap_or_else(|| panic!("no element {selector}"))
            .to_string()
    }

    fn count(&self, selector: &str) -> u64 {
        self.eval(&format!(
            "return document.querySelectorAll({}).length;",
            json!(selector)
        ))
        .as_u64()
        .unwrap_or(0)
    }

    fn resize(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({ "width": width, "height": height }));
    }

    /// Saves a PNG of the viewport under `target/screenshots/`.
    fn screenshot(&self, name: &str) -> PathBuf {
        let value = self
            .driver
            .call(
                reqwest::Method::GET,
                &format!("/session/{}/screenshot", self.id),
                None,
            )
            .expect("screenshot");
        let png = base64::engine::general_purpose::STANDARD
            .decode(value.as_str().expect("base64 screenshot"))
            .expect("valid base64");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }
}

pub(super) fn driver() -> &'static Driver {
    static DRIVER: std::sync::OnceLock<Driver> = std::sync::OnceLock::new();
    DRIVER.get_or_init(Driver::start)
}

fn web() -> &'static WebFixture {
    super::web::fixture()
}

#[test]
#[ignore = "needs chromium and chromedriver"]
fn briefings_and_a_briefing_render_in_the_browser() {
    let driver = driver();
    let profile = tempfile::tempdir().unwrap();
    let session = driver.session(profile.path());
    let web = web();

    session.open(&format!("{}/", web.base));
    assert_eq!(session.count("li.briefing"), 8);
    let edited = session.text(&format!("li.briefing[data-id=\"{}\"] .meta", web.en_id));
    assert!(
        edited.contains("2 revisions") && edited.contains("edited"),
        "{edited}"
    );
    let gone = session.text(&format!("li.briefing[data-id=\"{}\"] .meta", web.gone_id));
    assert!(gone.contains("taken down"), "{gone}");
    session.screenshot("index");

    session.open(&format!("{}/b/{}#q2", web.base, web.en_id));
    assert_eq!(session.text("#q2 .asker"), "Beijing Youth Daily");
    assert!(session.text("#q2 .question").starts_with("Ryo Takeuchi"));
    assert!(
        session
            .text("#q2 .answer")
            .starts_with("Indeed, the documentary you mentioned")
    );
    // The stored <script> is text on the page, and no script element exists.
    assert!(session.text("#q1 .question").starts_with(SCRIPT_TEXT));
    assert_eq!(session.count("script"), 0);
    assert_eq!(session.count("section.revisions tbody tr"), 2);
    assert_eq!(
        session.text("a.counterpart"),
        "同日中文版",
        "link to the same day in Chinese"
    );
    session.screenshot("briefing-en");

    session.open(&format!("{}/b/{}", web.base, web.zh_id));
    assert!(session.text("#q2 .question").contains("竹内亮"));
    assert_eq!(session.text("#q1 .asker"), "中央电视台记者");
    session.screenshot("briefing-zh");

    // A phone: one column, nothing wider than the screen.
    session.resize(390, 844);
    session.open(&format!("{}/b/{}#q3", web.base, web.en_id));
    let overflow = session.eval(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
    );
    assert_eq!(
        overflow.as_i64(),
        Some(0),
        "no horizontal scrolling on a phone"
    );
    session.screenshot("briefing-phone");
}

#[test]
#[ignore = "needs chromium and chromedriver"]
fn search_finds_a_known_phrase_in_both_languages_in_the_browser() {
    let driver = driver();
    let profile = tempfile::tempdir().unwrap();
    let session = driver.session(profile.path());
    let web = web();

    session.open(&format!(
        "{}/search?q=%22Chinese+students+in+Belgium%22",
        web.base
    ));
    assert_eq!(session.count("article.hit"), 1);
    assert_eq!(
        session.text("article.hit mark"),
        "Chinese students in Belgium"
    );
    assert!(
        session
            .text("article.hit .badge")
            .contains("changed or removed in a later revision")
    );
    // Its link goes to the anchor of the revision that still has it.
    session.eval("document.querySelector('article.hit a.anchor').click(); return null;");
    let target = session.eval("return location.pathname + location.search + location.hash;");
    assert_eq!(
        target.as_str(),
        Some(format!("/b/{}?rev=1#q4", web.en_id).as_str())
    );
    assert!(
        session
            .text("#q4 .question")
            .contains("Chinese students in Belgium")
    );

    session.open(&format!(
        "{}/search?q=%E7%AB%B9%E5%86%85%E4%BA%AE",
        web.base
    ));
    assert_eq!(session.count("article.hit"), 1);
    assert_eq!(session.text("article.hit mark"), "竹内亮");
    session.screenshot("search-zh");

    session.open(&format!(
        "{}/search?q=documentary+OR+%E7%BA%AA%E5%BD%95%E7%89%87",
        web.base
    ));
    assert!(
        session.count("article.hit[lang=en]") >= 1 && session.count("article.hit[lang=zh]") >= 1
    );
    session.screenshot("search-both");
}

#[test]
#[ignore = "needs chromium and chromedriver"]
fn diff_page_marks_the_removed_exchange_in_the_browser() {
    let driver = driver();
    let profile = tempfile::tempdir().unwrap();
    let session = driver.session(profile.path());
    let web = web();

    session.open(&format!("{}/b/{}/diff?from=1&to=2", web.base, web.en_id));
    assert_eq!(session.count(".diff-row.removed"), 1);
    let removed = session.text(".diff-row.removed");
    assert!(
        removed.contains("removed") && removed.contains("Chinese students in Belgium"),
        "{removed}"
    );
    let background = session.eval(
        "return getComputedStyle(document.querySelector('.diff-row.removed')).backgroundColor;",
    );
    assert_eq!(
        background.as_str(),
        Some("rgb(253, 228, 228)"),
        "removed is on a red ground"
    );
    let reworded = session.eval(
        "const r = [...document.querySelectorAll('.diff-row.reworded')] \
            .find(r => r.innerText.includes('Beijing Youth Daily')); \
         return [r.querySelector('del').innerText, r.querySelector('ins').innerText];",
    );
    assert_eq!(reworded, json!(["are following", "mentioned"]));
    let script = session.eval(
        "return [...document.querySelectorAll('.diff-row.reworded ins')].map(e => e.innerText);",
    );
    assert!(
        script
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t.as_str().unwrap_or("").contains(SCRIPT_TEXT)),
        "the inserted <script> shows as inserted text: {script}"
    );
    // Side by side on a wide screen: the new side starts to the right of the old one.
    let columns = session.eval(
        "const r = document.querySelector('.diff-row.reworded'); \
         return [r.querySelector('.side.old').getBoundingClientRect().left, \
                 r.querySelector('.side.new').getBoundingClientRect().left];",
    );
    assert!(columns[1].as_f64() > columns[0].as_f64(), "{columns}");
    session.eval("document.querySelector('.diff-row.removed').scrollIntoView(); return null;");
    session.screenshot("diff");
    // Following the toggle link shows the cosmetic change.
    session.eval("document.querySelector('a.cosmetic-toggle').click(); return null;");
    assert!(session.text("a.cosmetic-toggle").starts_with("Hide"));

    session.resize(390, 844);
    session.open(&format!("{}/b/{}/diff?from=1&to=2", web.base, web.en_id));
    let stacked = session.eval(
        "const r = document.querySelector('.diff-row.reworded'); \
         return [r.querySelector('.side.old').getBoundingClientRect().top, \
                 r.querySelector('.side.new').getBoundingClientRect().top];",
    );
    assert!(
        stacked[1].as_f64() > stacked[0].as_f64(),
        "stacked on a phone: {stacked}"
    );
    session.eval("document.querySelector('.diff-row.reworded').scrollIntoView(); return null;");
    session.screenshot("diff-phone");
}

#[test]
#[ignore = "needs chromium and chromedriver"]
fn trends_events_and_status_render_in_the_browser() {
    let driver = driver();
    let profile = tempfile::tempdir().unwrap();
    let session = driver.session(profile.path());
    let web = web();

    session.open(&format!(
        "{}/trends?q=Hong+Kong,%E9%A6%99%E6%B8%AF",
        web.base
    ));
    assert_eq!(session.count("svg.chart"), 2);
    assert_eq!(session.count("svg.chart polyline"), 4);
    let width =
        session.eval("return document.querySelector('svg.chart').getBoundingClientRect().width;");
    assert!(
        width.as_f64().unwrap_or(0.0) > 200.0,
        "the chart is drawn: {width}"
    );
    session.screenshot("trends");

    session.open(&format!("{}/events", web.base));
    assert!(session.count(".event[data-type=revised]") >= 1);
    assert!(session.count(".event[data-type=gone]") >= 1);
    session.screenshot("events");

    session.open(&format!("{}/status", web.base));
    assert!(session.text("table.sources").contains("mfa-zh"));
    session.screenshot("status");

    session.open(&format!("{}/b/424242", web.base));
    assert_eq!(session.text("h1"), "404 Not found");
}
