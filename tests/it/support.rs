//! Shared test helpers: a loopback copy of the ministry site with fault injection, a temporary
//! state directory with a config pointing at it, and the real `briefwatch` binary.
//!
//! ```ignore
//! let site = SiteServer::start(support::fixture_site());      // or corpus_site() for the whole corpus
//! site.fault(EN_ARTICLE, Fault::Status(500), 1);               // the next request of that path fails
//! let env = TestEnv::new(&site);                                // temp state dir + config
//! let out = env.briefwatch(&["poll", "--once"]);                // runs the real binary
//! let store = env.store();                                      // opens the archive it wrote
//! ```
//!
//! The server speaks HTTP/1.1 over a raw `TcpListener` (one thread per connection, keep-alive) so
//! that it can misbehave in ways a framework would not allow: hang, drop the connection, send less
//! body than `Content-Length` promises. Like the real site it sends `Content-Type: text/html` with
//! no charset, answers `robots.txt` with a 302 to `/error.htm`, and supports `ETag` /
//! `Last-Modified` with 304 answers.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

/// English listing of 2020, relative to the site root.
pub const EN_LISTING: &str = "/mfa_eng/xwfw_665399/s2510_665401/2511_665403/default.shtml";
/// Chinese 发言人表态 listing of 2020.
pub const ZH_LISTING: &str = "/web/wjdt_674879/fyrbt_674889/default.shtml";
/// The English article of 3 July 2020 (first item of the English listing).
pub const EN_ARTICLE: &str = "/mfa_eng/xwfw_665399/s2510_665401/2511_665403/t1794629.shtml";
/// The fixture site's articles, English then Chinese.
pub const FIXTURE_EN_ARTICLES: [&str; 5] = [
    "/mfa_eng/xwfw_665399/s2510_665401/2511_665403/t1794629.shtml",
    "/mfa_eng/xwfw_665399/s2510_665401/2511_665403/t1794266.shtml",
    "/mfa_eng/xwfw_665399/s2510_665401/2511_665403/t1793861.shtml",
    "/mfa_eng/xwfw_665399/s2510_665401/2511_665403/t1775332.shtml",
    "/mfa_eng/xwfw_665399/s2510_665401/2511_665403/t1774812.shtml",
];
pub const FIXTURE_ZH_ARTICLES: [&str; 3] = [
    "/web/wjdt_674879/fyrbt_674889/t1794584.shtml",
    "/web/wjdt_674879/fyrbt_674889/t1794237.shtml",
    "/web/wjdt_674879/fyrbt_674889/t1793459.shtml",
];

/// `tests/fixtures`: every fixture file is read from here, and each page is kept there once.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// One row of `tests/fixtures/pages/FIXTURES.tsv`: a real page copied from the corpus.
#[derive(Debug, Clone)]
pub struct FixturePage {
    /// What tests call it (`en-2020/t1794629.shtml`); its golden record is
    /// `pages/<name without extension>.expected.json`.
    pub name: String,
    /// The one copy of the page: under `pages/`, or in the loopback site's tree (`site/`) when the
    /// site serves it too.
    pub file: PathBuf,
    /// The URL it was served at.
    pub url: String,
    pub listing: bool,
}

impl FixturePage {
    /// The page's bytes decoded as the fetcher decodes a page served as `text/html`.
    pub fn html(&self) -> String {
        let bytes = std::fs::read(&self.file)
            .unwrap_or_else(|error| panic!("{}: {error}", self.file.display()));
        briefwatch::charset::decode_html(&bytes, Some("text/html"))
    }

    /// The record the extractor must make of the page, as JSON.
    pub fn expected_file(&self) -> PathBuf {
        let stem = self
            .name
            .rsplit_once('.')
            .map_or(self.name.as_str(), |(stem, _)| stem);
        fixtures_dir().join(format!("pages/{stem}.expected.json"))
    }
}

/// Every page of `tests/fixtures/pages/FIXTURES.tsv`, in its order.
pub fn fixture_pages() -> Vec<FixturePage> {
    let index = fixtures_dir().join("pages/FIXTURES.tsv");
    let text = std::fs::read_to_string(&index).expect("read tests/fixtures/pages/FIXTURES.tsv");
    text.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(
                fields.len(),
                4,
                "FIXTURES.tsv: name, url, page, file: {line:?}"
            );
            FixturePage {
                name: fields[0].to_string(),
                url: fields[1].to_string(),
                listing: fields[2] == "listing",
                file: fixtures_dir().join(fields[3]),
            }
        })
        .collect()
}

/// The page of `FIXTURES.tsv` of that name (`zh-2020/t1794584.shtml`).
pub fn fixture_page(name: &str) -> FixturePage {
    fixture_pages()
        .into_iter()
        .find(|page| page.name == name)
        .unwrap_or_else(|| panic!("no fixture page {name} in tests/fixtures/pages/FIXTURES.tsv"))
}

/// `tests/fixtures/site`: two English listing pages (3 + 2 items, the pager claims 3 pages), one
/// Chinese listing page (3 items, the pager claims 67), their articles, `error.htm`, `robots.txt`.
pub fn fixture_site() -> PathBuf {
    fixtures_dir().join("site")
}

/// The corpus folder named by `BRIEFWATCH_CORPUS` (it holds `mfa-2020/`). Tests that call this
/// are marked `#[ignore = "needs BRIEFWATCH_CORPUS"]`, so a plain `cargo test` reports them as
/// ignored; run with `--include-ignored`, they fail here when the corpus is missing.
pub fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("BRIEFWATCH_CORPUS").map(PathBuf::from);
    match dir {
        Some(dir) if dir.join("mfa-2020/MANIFEST.tsv").is_file() => dir,
        Some(dir) => panic!(
            "BRIEFWATCH_CORPUS={} has no mfa-2020/MANIFEST.tsv: this test needs the corpus",
            dir.display()
        ),
        None => {
            panic!("BRIEFWATCH_CORPUS is not set: this test needs the corpus (../shared/corpus)")
        }
    }
}

/// The corpus site root (`mfa-2020/site/www.fmprc.gov.cn`); see [`corpus_dir`].
pub fn corpus_site() -> PathBuf {
    corpus_dir().join("mfa-2020/site/www.fmprc.gov.cn")
}

/// Fails the test unless Python's feedparser can be imported. Tests that call this are marked
/// `#[ignore = "needs python3 feedparser"]`.
pub fn require_feedparser() {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import feedparser"])
        .output();
    assert!(
        probe.is_ok_and(|output| output.status.success()),
        "python3 cannot import feedparser: this test needs it (pip install feedparser)"
    );
}

/// A way to misbehave for one request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status and a short body.
    Status(u16),
    /// Answer 503 with `Retry-After: <seconds>`.
    RetryAfter(u64),
    /// Wait this long before answering normally (past the client's timeout).
    Hang(Duration),
    /// Read the request, then close the connection without a byte of answer.
    Reset,
    /// Promise the whole body in `Content-Length`, send half of it, close.
    Truncate,
    /// HTTP 412 with a tiny script-only body: a JavaScript cookie challenge.
    Challenge,
    /// 302 to `/error.htm`, as the ministry does for missing pages.
    RedirectToErrorPage,
    /// Serve `error.htm` with 200 at this URL.
    ErrorPage,
    /// Answer exactly this: status, headers (no `ETag` or `Last-Modified` unless given) and body.
    Custom {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    },
}

/// One request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub status: u16,
    pub conditional: bool,
    pub user_agent: Option<String>,
}

#[derive(Default)]
struct State {
    /// One-shot faults per path, used in order.
    faults: HashMap<String, VecDeque<Fault>>,
    /// Replaced page contents (a changed layout, an edited transcript, a listing that lost an item).
    pages: HashMap<String, Vec<u8>>,
    /// Paths that answer 404.
    removed: HashSet<String>,
    /// `Content-Type` of replaced pages that are not sent as plain `text/html`.
    content_types: HashMap<String, String>,
    seen: Vec<Seen>,
}

/// The loopback site. Stops when dropped.
pub struct SiteServer {
    addr: SocketAddr,
    root: PathBuf,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

/// Fixed `Last-Modified` of every page: the capture date.
const LAST_MODIFIED: &str = "Sat, 04 Jul 2020 03:55:38 GMT";

impl SiteServer {
    /// Serves `root` (a directory mirroring URL paths) on 127.0.0.1 at a free port.
    pub fn start(root: PathBuf) -> SiteServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_state, thread_stop, thread_root) = (state.clone(), stop.clone(), root.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if thread_stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                // Head and body go out as two writes; without this, Nagle's algorithm and the
                // client's delayed ACK hold every response back by ~40 ms, as no real server does.
                let _ = stream.set_nodelay(true);
                let (state, root) = (thread_state.clone(), thread_root.clone());
                std::thread::spawn(move || serve_connection(stream, &root, &state));
            }
        });
        SiteServer {
            addr,
            root,
            state,
            stop,
        }
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The next `times` requests of `path` misbehave this way.
    pub fn fault(&self, path: &str, fault: Fault, times: usize) {
        let mut state = self.state.lock().unwrap();
        let queue = state.faults.entry(path.to_string()).or_default();
        queue.extend(std::iter::repeat_n(fault, times));
    }

    /// Serve these bytes at `path` from now on.
    pub fn set_page(&self, path: &str, body: impl Into<Vec<u8>>) {
        let mut state = self.state.lock().unwrap();
        state.removed.remove(path);
        state.content_types.remove(path);
        state.pages.insert(path.to_string(), body.into());
    }

    /// Serve these bytes at `path` from now on, with this `Content-Type` (a charset that may lie).
    pub fn set_page_typed(&self, path: &str, body: impl Into<Vec<u8>>, content_type: &str) {
        self.set_page(path, body);
        let mut state = self.state.lock().unwrap();
        state
            .content_types
            .insert(path.to_string(), content_type.to_string());
    }

    /// The page as currently served (a replacement or the file).
    pub fn page(&self, path: &str) -> Vec<u8> {
        if let Some(body) = self.state.lock().unwrap().pages.get(path) {
            return body.clone();
        }
        std::fs::read(self.root.join(path.trim_start_matches('/'))).expect("page exists")
    }

    /// Serve the original file again at `path`.
    pub fn restore_page(&self, path: &str) {
        let mut state = self.state.lock().unwrap();
        state.pages.remove(path);
        state.removed.remove(path);
        state.content_types.remove(path);
    }

    /// `path` answers 404 from now on.
    pub fn remove_page(&self, path: &str) {
        self.state.lock().unwrap().removed.insert(path.to_string());
    }

    /// Every request so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// Forget the requests seen so far.
    pub fn clear_seen(&self) {
        self.state.lock().unwrap().seen.clear();
    }
}

impl Drop for SiteServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// The entity tag of a body: a strong tag from its SHA-256.
pub fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", &hex::encode(Sha256::digest(body))[..16])
}

fn serve_connection(stream: TcpStream, root: &Path, state: &Mutex<State>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(clone) => clone,
        Err(_) => return,
    });
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
            }
        }
        let target = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_string();
        let path = target.split(['?', '#']).next().unwrap_or("/").to_string();
        let keep_alive = headers
            .get("connection")
            .is_none_or(|value| !value.eq_ignore_ascii_case("close"));
        let host = headers.get("host").cloned().unwrap_or_default();
        let (fault, replaced, removed, content_type) = {
            let mut state = state.lock().unwrap();
            let fault = state.faults.get_mut(&path).and_then(VecDeque::pop_front);
            (
                fault,
                state.pages.get(&path).cloned(),
                state.removed.contains(&path),
                state.content_types.get(&path).cloned(),
            )
        };
        let conditional =
            headers.contains_key("if-none-match") || headers.contains_key("if-modified-since");
        let record = |status: u16| {
            state.lock().unwrap().seen.push(Seen {
                path: path.clone(),
                status,
                conditional,
                user_agent: headers.get("user-agent").cloned(),
            });
        };
        let error_location = format!("http://{host}/error.htm");
        let answer = match fault {
            Some(Fault::Reset) => {
                record(0);
                let _ = writer.shutdown(std::net::Shutdown::Both);
                return;
            }
            Some(Fault::Hang(duration)) => {
                std::thread::sleep(duration);
                None
            }
            Some(Fault::Status(status)) => Some(Reply::new(
                status,
                format!("<html><body>error {status}</body></html>"),
            )),
            Some(Fault::RetryAfter(seconds)) => Some(
                Reply::new(503, "<html><body>busy</body></html>")
                    .header("Retry-After", seconds.to_string()),
            ),
            Some(Fault::Challenge) => Some(Reply::new(
                412,
                "<html><script>var _0x=['cookie'];document[_0x[0]]='__jsl_clearance=1';location.reload()</script></html>",
            )),
            Some(Fault::RedirectToErrorPage) => {
                Some(Reply::new(302, "").header("Location", error_location.clone()))
            }
            Some(Fault::ErrorPage) => Some(Reply::new(
                200,
                std::fs::read(root.join("error.htm")).unwrap_or_default(),
            )),
            Some(Fault::Custom {
                status,
                headers,
                body,
            }) => Some(
                headers
                    .into_iter()
                    .fold(Reply::new(status, body), |reply, (name, value)| {
                        reply.header(name, value)
                    }),
            ),
            Some(Fault::Truncate) => {
                let body = replaced
                    .clone()
                    .or_else(|| read_page(root, &path))
                    .unwrap_or_default();
                record(200);
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = writer.write_all(head.as_bytes());
                let _ = writer.write_all(&body[..body.len() / 2]);
                let _ = writer.flush();
                let _ = writer.shutdown(std::net::Shutdown::Both);
                return;
            }
            None => None,
        };
        let reply = answer.unwrap_or_else(|| {
            if path == "/robots.txt" {
                return Reply::new(
                    302,
                    std::fs::read(root.join("robots.txt")).unwrap_or_default(),
                )
                .header("Location", error_location.clone());
            }
            let body = if removed {
                None
            } else {
                replaced.or_else(|| read_page(root, &path))
            };
            match body {
                None => Reply::new(404, "<html><body>404 Not Found</body></html>"),
                Some(body) => {
                    let etag = etag_of(&body);
                    let fresh = headers.get("if-none-match").is_some_and(|tag| *tag == etag)
                        || (!headers.contains_key("if-none-match")
                            && headers
                                .get("if-modified-since")
                                .is_some_and(|since| since == LAST_MODIFIED));
                    let mut reply = if fresh {
                        Reply::new(304, "")
                    } else {
                        Reply::new(200, body)
                    };
                    if let Some(content_type) = &content_type {
                        reply.headers[0].1 = content_type.clone();
                    }
                    reply
                        .header("ETag", etag)
                        .header("Last-Modified", LAST_MODIFIED.to_string())
                }
            }
        });
        record(reply.status);
        if reply.write(&mut writer, keep_alive).is_err() || !keep_alive {
            return;
        }
    }
}

fn read_page(root: &Path, path: &str) -> Option<Vec<u8>> {
    let relative = path.trim_start_matches('/');
    if relative.split('/').any(|part| part == "..") {
        return None;
    }
    let file = root.join(relative);
    if file.is_file() {
        std::fs::read(file).ok()
    } else {
        None
    }
}

struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn new(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type", "text/html".to_string())],
            body: body.into(),
        }
    }

    fn header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }

    fn write(&self, writer: &mut TcpStream, keep_alive: bool) -> std::io::Result<()> {
        let reason = match self.status {
            200 => "OK",
            302 => "Found",
            304 => "Not Modified",
            404 => "Not Found",
            412 => "Precondition Failed",
            503 => "Service Unavailable",
            _ => "Status",
        };
        let mut head = format!("HTTP/1.1 {} {reason}\r\n", self.status);
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let body: &[u8] = if self.status == 304 { b"" } else { &self.body };
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        if !keep_alive {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        writer.write_all(head.as_bytes())?;
        writer.write_all(body)?;
        writer.flush()
    }
}

/// A temporary state directory with a config whose sources point at a [`SiteServer`].
pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub state: PathBuf,
}

impl TestEnv {
    /// Both 2020 listings of `site`, pacing off, short timeouts and backoff so faults resolve fast.
    pub fn new(site: &SiteServer) -> TestEnv {
        TestEnv::with_config(&test_config(site, ""))
    }

    /// The whole corpus imported with the shipped config; also returns the corpus manifest.
    pub fn corpus_imported() -> (TestEnv, PathBuf) {
        let manifest = corpus_dir().join("mfa-2020/MANIFEST.tsv");
        let shipped = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("config/briefwatch.toml"),
        )
        .expect("read the shipped config");
        let env = TestEnv::with_config(&shipped);
        env.briefwatch(&["import", manifest.to_str().unwrap()]);
        (env, manifest)
    }

    /// A state directory and this config text.
    pub fn with_config(config_text: &str) -> TestEnv {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("briefwatch.toml");
        let state = dir.path().join("state");
        std::fs::write(&config, config_text).expect("write config");
        TestEnv { dir, config, state }
    }

    pub fn database(&self) -> PathBuf {
        self.state.join("briefwatch.sqlite3")
    }

    /// The real binary with `--config` and `--state` of this environment.
    pub fn command(&self) -> Command {
        // `option_env!`: this file is also built into `examples/corpus_server.rs`, which has no
        // binary path and never runs commands.
        let binary = option_env!("CARGO_BIN_EXE_briefwatch").unwrap_or("briefwatch");
        let mut command = Command::new(binary);
        command
            .arg("--config")
            .arg(&self.config)
            .arg("--state")
            .arg(&self.state)
            .env("RUST_LOG", "warn,html5ever=error")
            .env_remove("BRIEFWATCH_CONFIG")
            .env_remove("BRIEFWATCH_STATE");
        command
    }

    /// Runs the binary to completion; panics with its output if it fails.
    pub fn briefwatch(&self, args: &[&str]) -> String {
        let output = self.command().args(args).output().expect("run briefwatch");
        assert_success(&output, args);
        String::from_utf8(output.stdout).expect("utf-8 stdout")
    }

    /// Runs a `poll`, `backfill` or `import` that must finish with `failed` pages failed: exit
    /// status 3 and the count on stderr. Returns its stdout.
    pub fn briefwatch_with_failures(&self, args: &[&str], failed: u64) -> String {
        let output = self.command().args(args).output().expect("run briefwatch");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(3),
            "briefwatch {args:?}: expected exit status 3\nstdout:\n{}\nstderr:\n{stderr}",
            String::from_utf8_lossy(&output.stdout)
        );
        assert!(
            stderr.contains(&format!("{failed} page(s) failed")),
            "briefwatch {args:?}: expected {failed} failed pages\nstderr:\n{stderr}"
        );
        String::from_utf8(output.stdout).expect("utf-8 stdout")
    }

    /// Runs the binary and returns its output whatever the exit status.
    pub fn briefwatch_output(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run briefwatch")
    }

    /// Opens the archive the binary wrote.
    pub fn store(&self) -> briefwatch::store::Store {
        briefwatch::store::Store::open(&self.database()).expect("open archive")
    }

    /// The parsed configuration, for library-level tests.
    pub fn load_config(&self) -> briefwatch::config::Config {
        let mut config = briefwatch::setup::load(&self.config).expect("valid config");
        config.archive.state_dir = self.state.clone();
        config
    }
}

pub fn assert_success(output: &Output, args: &[&str]) {
    assert!(
        output.status.success(),
        "briefwatch {args:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A config for `site`: both 2020 listings, no pacing, 2 s timeout, millisecond backoff, the HTTP
/// server on any free port.
/// `extra` is appended (more sections, or overrides of sections not written here).
/// Config lines for one keyword alert to `desk@example.org`, mailed through the loopback SMTP
/// server on `smtp_port` with short retries.
pub fn alert_config(name: &str, terms: &str, smtp_port: u16) -> String {
    format!(
        r#"
[[alert]]
name = "{name}"
terms = {terms}
recipients = ["desk@example.org"]

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from = "briefwatch <alerts@example.org>"
timeout = "5s"
retry_base = "10ms"
retry_max = "50ms"
"#
    )
}

pub fn test_config(site: &SiteServer, extra: &str) -> String {
    format!(
        r#"[fetch]
contact = "mailto:tests@example.org"
min_request_interval = "0s"
connect_timeout = "2s"
timeout = "2s"
max_attempts = 3
backoff_base = "10ms"
backoff_max = "100ms"
redirect_hosts = []

[[source]]
name = "mfa-en"
profile = "mfa-en"
listing_url = "{en}"
lang = "en"

[[source]]
name = "mfa-zh"
profile = "mfa-zh"
listing_url = "{zh}"
lang = "zh"
{extra}
[http]
# Any free port: tests run in parallel, and a fixed port may be taken.
listen = "127.0.0.1:0"
"#,
        en = site.url(EN_LISTING),
        zh = site.url(ZH_LISTING),
    )
}

/// Counts rows of a table (or any `SELECT COUNT(*) ...` tail) in the archive.
pub fn count(store: &briefwatch::store::Store, from_where: &str) -> i64 {
    store
        .connection()
        .query_row(&format!("SELECT COUNT(*) FROM {from_where}"), [], |row| {
            row.get(0)
        })
        .unwrap_or_else(|error| panic!("count {from_where}: {error}"))
}

/// Reads `n` bytes or fewer; for tests that look at raw responses.
pub fn read_some(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buffer = vec![0; n];
    let read = stream.read(&mut buffer).unwrap_or(0);
    buffer.truncate(read);
    buffer
}
