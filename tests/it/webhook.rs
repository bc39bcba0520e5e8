//! Alerts posted to webhooks: the real binary and daemon, the loopback ministry site, and a real
//! HTTP receiver on loopback that records every POST and answers as each test scripts it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::support::{SiteServer, TestEnv, count, fixture_site, test_config};

/// How the receiver answers one request.
#[derive(Clone)]
struct Reply {
    status: u16,
    body: String,
    /// Held before answering (the request is recorded at once).
    delay: Duration,
    retry_after: Option<String>,
}

impl Reply {
    fn status(status: u16, body: &str) -> Reply {
        Reply {
            status,
            body: body.to_string(),
            delay: Duration::ZERO,
            retry_after: None,
        }
    }
}

/// One POST as the receiver read it, with the status it answered.
#[derive(Clone, Debug)]
struct Posted {
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
    answered: u16,
}

impl Posted {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    fn delivery(&self) -> String {
        self.header("x-briefwatch-delivery").to_string()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }
}

#[derive(Default)]
struct Shared {
    posted: Vec<Posted>,
    /// Answers for the next requests, in order; then 200.
    script: VecDeque<Reply>,
}

/// A webhook receiver on loopback.
struct Receiver {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    fn start() -> Receiver {
        Receiver::start_on("127.0.0.1:0".parse().unwrap()).unwrap()
    }

    fn start_on(addr: SocketAddr) -> std::io::Result<Receiver> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Mutex::new(Shared::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let shared = shared.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let shared = shared.clone();
                            std::thread::spawn(move || serve(stream, &shared));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        Ok(Receiver {
            addr,
            shared,
            stop,
            thread: Some(thread),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.lock().unwrap().script.extend(replies);
    }

    fn posted(&self) -> Vec<Posted> {
        self.shared.lock().unwrap().posted.clone()
    }

    /// Closes the port: further connections are refused. Returns the address for a restart.
    fn stop(mut self) -> SocketAddr {
        self.halt();
        self.addr
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.halt();
    }
}

fn serve(stream: TcpStream, shared: &Mutex<Shared>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
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
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let reply = {
        let mut shared = shared.lock().unwrap();
        let reply = shared
            .script
            .pop_front()
            .unwrap_or_else(|| Reply::status(200, "ok"));
        shared.posted.push(Posted {
            path,
            headers,
            body,
            answered: reply.status,
        });
        reply
    };
    std::thread::sleep(reply.delay);
    let reason = match reply.status {
        200 => "OK",
        400 => "Bad Request",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Whatever",
    };
    let retry_after = reply
        .retry_after
        .map(|value| format!("Retry-After: {value}\r\n"))
        .unwrap_or_default();
    let response = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: text/plain\r\n{retry_after}Content-Length: {}\r\nConnection: close\r\n\r\n{}",
        reply.status,
        reply.body.len(),
        reply.body
    );
    let mut stream = stream;
    let _ = stream.write_all(response.as_bytes());
}

const SECRET: &str = "s3cret-for-the-desk";

/// A rule on India/印度 posting to the webhooks named, with these `[[webhook]]` sections; no
/// `[smtp]` at all.
fn webhook_env(site: &SiteServer, webhooks: &str, sections: &str, extra: &str) -> TestEnv {
    let config = test_config(
        site,
        &format!(
            r#"
[[alert]]
name = "india"
terms = ["India", "印度"]
webhooks = {webhooks}
{sections}
{extra}"#
        ),
    )
    .replace(
        "listen = \"127.0.0.1:0\"",
        "listen = \"127.0.0.1:0\"\npublic_url = \"https://briefwatch.example.org/\"",
    );
    TestEnv::with_config(&config)
}

fn webhook_section(name: &str, url: &str, format: &str, more: &str) -> String {
    format!(
        r#"
[[webhook]]
name = "{name}"
url = "{url}"
format = "{format}"
retry_base = "10ms"
retry_max = "50ms"
{more}
"#
    )
}

fn outbox_rows(env: &TestEnv) -> Vec<serde_json::Value> {
    let json = env.briefwatch(&["alerts", "outbox", "--json"]);
    serde_json::from_str(&json).expect("outbox JSON")
}

fn expected_signature(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn delivery_ids(rows: &[serde_json::Value], webhook: &str) -> HashSet<String> {
    rows.iter()
        .filter(|row| row["recipient"] == webhook)
        .map(|row| row["message_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn json_and_slack_webhooks_get_one_signed_post_per_alert_without_smtp() {
    let receiver = Receiver::start();
    let site = SiteServer::start(fixture_site());
    let sections = format!(
        "{}{}",
        webhook_section(
            "desk",
            &receiver.url("/hooks/desk"),
            "json",
            &format!("secret = \"{SECRET}\"")
        ),
        webhook_section("chat", &receiver.url("/hooks/chat"), "slack", "")
    );
    let env = webhook_env(&site, r#"["desk", "chat"]"#, &sections, "");

    let checked = env.briefwatch(&["check-config"]);
    assert!(!checked.contains(SECRET), "the secret is never printed");

    let backfill = env.briefwatch(&["backfill", "--alerts"]);
    let rows = outbox_rows(&env);
    assert!(
        rows.iter().all(|row| row["channel"] == "webhook"),
        "{rows:?}"
    );
    assert!(rows.iter().all(|row| row["state"] == "sent"), "{rows:?}");
    let desk = delivery_ids(&rows, "desk");
    let chat = delivery_ids(&rows, "chat");
    assert!(
        desk.len() >= 2,
        "both languages' briefings name India: {rows:?}"
    );
    assert_eq!(desk.len(), chat.len());
    assert!(
        backfill.contains(&format!("alerts: {} sent, 0 to retry, 0 dead", rows.len())),
        "{backfill}"
    );

    let posted = receiver.posted();
    assert_eq!(posted.len(), rows.len(), "one POST per alert and webhook");
    let json_posts: Vec<&Posted> = posted.iter().filter(|p| p.path == "/hooks/desk").collect();
    let slack_posts: Vec<&Posted> = posted.iter().filter(|p| p.path == "/hooks/chat").collect();
    let seen: HashSet<String> = json_posts.iter().map(|p| p.delivery()).collect();
    assert_eq!(
        seen, desk,
        "each alert once, with the delivery id it was queued with"
    );
    let mut titles = Vec::new();
    for post in &json_posts {
        assert_eq!(post.header("content-type"), "application/json");
        assert_eq!(
            post.header("x-briefwatch-signature"),
            expected_signature(&post.body),
            "the signature verifies over the exact body"
        );
        let alert = post.json();
        assert_eq!(alert["delivery"].as_str().unwrap(), post.delivery());
        assert_eq!(alert["type"], "alert");
        assert_eq!(alert["rules"], serde_json::json!(["india"]));
        let briefing = &alert["briefings"][0];
        assert_eq!(briefing["event"], "new");
        let meta = &briefing["briefing"];
        assert!(
            meta["url"]
                .as_str()
                .unwrap()
                .starts_with("http://127.0.0.1:")
        );
        assert!(meta["date"].as_str().unwrap().starts_with("2020-"));
        assert!(
            meta["view_url"]
                .as_str()
                .unwrap()
                .starts_with("https://briefwatch.example.org/b/"),
            "{meta}"
        );
        let passages = briefing["passages"].as_array().unwrap();
        assert!(!passages.is_empty());
        for passage in passages {
            let highlights = passage["highlights"].as_array().unwrap();
            assert!(!highlights.is_empty(), "{passage}");
            for highlight in highlights {
                let text = highlight["text"].as_str().unwrap();
                assert!(text == "India" || text == "印度", "{highlight}");
                let part = highlight["part"].as_str().unwrap();
                let paragraph = &passage[part][highlight["paragraph"].as_u64().unwrap() as usize];
                let (start, end) = (
                    highlight["start"].as_u64().unwrap() as usize,
                    highlight["end"].as_u64().unwrap() as usize,
                );
                assert_eq!(&paragraph.as_str().unwrap()[start..end], text);
            }
            let marked = passage["marked"].to_string();
            assert!(marked.contains("**India**") || marked.contains("**印度**"));
        }
        titles.push((
            meta["title"].as_str().unwrap().to_string(),
            meta["url"].as_str().unwrap().to_string(),
        ));
    }

    for post in &slack_posts {
        assert_eq!(post.header("content-type"), "application/json");
        assert_eq!(
            post.header("x-briefwatch-signature"),
            "",
            "no secret, no signature"
        );
        assert!(chat.contains(&post.delivery()));
        let text = post.json()["text"].as_str().unwrap().to_string();
        let linked = titles
            .iter()
            .filter(|(title, url)| text.contains(&format!("*<{url}|{title}>*")))
            .count();
        assert_eq!(
            linked, 1,
            "the briefing's title, linked to its page: {text}"
        );
        assert!(
            text.contains("*India*") || text.contains("*印度*"),
            "{text}"
        );
        assert!(text.contains("|View in briefwatch>"), "{text}");
    }

    let again = env.briefwatch(&["poll", "--once", "--all"]);
    assert!(again.contains("alerts: 0 sent"), "{again}");
    assert_eq!(
        receiver.posted().len(),
        posted.len(),
        "nothing is posted twice"
    );
    assert_eq!(count(&env.store(), "outbox WHERE channel = 'mail'"), 0);
}

#[test]
fn a_receiver_down_then_failing_gets_each_alert_once_when_it_is_back() {
    let addr = Receiver::start().stop();
    let site = SiteServer::start(fixture_site());
    let sections = webhook_section(
        "desk",
        &format!("http://{addr}/hook"),
        "json",
        &format!("secret = \"{SECRET}\""),
    );
    let env = webhook_env(&site, r#"["desk"]"#, &sections, "");
    let backfill = env.briefwatch(&["backfill", "--alerts"]);
    assert!(
        backfill.contains("alerts: 0 sent, 1 to retry, 0 dead"),
        "one attempt while the receiver is down, the others wait: {backfill}"
    );
    let queued = outbox_rows(&env);
    assert!(queued.len() >= 2, "{queued:?}");
    assert!(queued.iter().all(|r| r["state"] == "queued"), "{queued:?}");
    let refused: Vec<&serde_json::Value> = queued.iter().filter(|r| r["attempts"] == 1).collect();
    assert_eq!(refused.len(), 1);
    let error = refused[0]["last_error"].as_str().unwrap();
    assert!(error.starts_with("cannot connect"), "{error}");
    assert!(
        !error.contains("/hook"),
        "a webhook URL can be a secret: errors leave it out: {error}"
    );

    // Back, but failing once with a 503.
    let receiver = Receiver::start_on(addr).expect("the port is free again");
    receiver.script([Reply::status(503, "maintenance")]);
    std::thread::sleep(Duration::from_millis(100));
    let poll = env.briefwatch(&["poll", "--once"]);
    assert!(poll.contains("alerts: 0 sent, 1 to retry"), "{poll}");
    let failed = outbox_rows(&env);
    assert!(
        failed.iter().any(|r| r["last_error"]
            .as_str()
            .is_some_and(|e| e == "HTTP 503 Service Unavailable: maintenance")),
        "{failed:?}"
    );

    std::thread::sleep(Duration::from_millis(100));
    let poll = env.briefwatch(&["poll", "--once"]);
    assert!(
        poll.contains(&format!("alerts: {} sent", queued.len())),
        "{poll}"
    );
    let rows = outbox_rows(&env);
    assert!(rows.iter().all(|r| r["state"] == "sent"), "{rows:?}");
    let accepted: Vec<String> = receiver
        .posted()
        .iter()
        .filter(|p| p.answered == 200)
        .map(|p| {
            assert_eq!(
                p.header("x-briefwatch-signature"),
                expected_signature(&p.body)
            );
            p.delivery()
        })
        .collect();
    let unique: HashSet<String> = accepted.iter().cloned().collect();
    assert_eq!(accepted.len(), unique.len(), "each alert accepted once");
    assert_eq!(unique, delivery_ids(&rows, "desk"));

    env.briefwatch(&["poll", "--once"]);
    assert_eq!(
        receiver
            .posted()
            .iter()
            .filter(|p| p.answered == 200)
            .count(),
        accepted.len()
    );
}

#[test]
fn a_400_is_dead_with_the_receivers_reason() {
    let receiver = Receiver::start();
    receiver.script([Reply::status(400, "unknown channel")]);
    let site = SiteServer::start(fixture_site());
    let sections = webhook_section("desk", &receiver.url("/hook"), "json", "");
    let env = webhook_env(&site, r#"["desk"]"#, &sections, "");
    let backfill = env.briefwatch(&["backfill", "--alerts"]);
    let rows = outbox_rows(&env);
    let dead: Vec<&serde_json::Value> = rows.iter().filter(|r| r["state"] == "dead").collect();
    assert_eq!(dead.len(), 1, "{rows:?}");
    assert_eq!(dead[0]["attempts"], 1, "a 400 is not retried");
    assert_eq!(
        dead[0]["last_error"],
        "HTTP 400 Bad Request: unknown channel"
    );
    let sent = rows.iter().filter(|r| r["state"] == "sent").count();
    assert_eq!(sent + 1, rows.len());
    assert!(
        backfill.contains(&format!("alerts: {sent} sent, 0 to retry, 1 dead")),
        "{backfill}"
    );
    assert_eq!(receiver.posted().len(), rows.len());

    let listing = env.briefwatch(&["alerts", "outbox"]);
    assert!(listing.contains("dead 1"), "{listing}");
    assert!(listing.contains("webhook desk"), "{listing}");
    assert!(
        listing.contains("error: HTTP 400 Bad Request: unknown channel"),
        "{listing}"
    );
    assert!(
        listing.contains(&format!(
            "delivery: {}",
            dead[0]["message_id"].as_str().unwrap()
        )),
        "{listing}"
    );
}

#[test]
fn a_429_is_retried_after_the_receivers_retry_after_up_to_retry_max() {
    let receiver = Receiver::start();
    receiver.script([Reply {
        retry_after: Some("3600".into()),
        ..Reply::status(429, "slow down")
    }]);
    let site = SiteServer::start(fixture_site());
    let sections = format!(
        r#"
[[webhook]]
name = "desk"
url = "{}"
retry_base = "10ms"
retry_max = "10m"
"#,
        receiver.url("/hook")
    );
    let env = webhook_env(&site, r#"["desk"]"#, &sections, "");
    let before = chrono::Utc::now();
    let backfill = env.briefwatch(&["backfill", "--alerts"]);
    assert!(
        backfill.contains("alerts: 0 sent, 1 to retry, 0 dead"),
        "the webhook's other alerts wait too: {backfill}"
    );
    let rows = outbox_rows(&env);
    let retried: Vec<&serde_json::Value> = rows.iter().filter(|r| r["attempts"] == 1).collect();
    assert_eq!(retried.len(), 1, "{rows:?}");
    assert_eq!(
        retried[0]["last_error"],
        "HTTP 429 Too Many Requests: slow down"
    );
    let due: chrono::DateTime<chrono::Utc> =
        retried[0]["due_at"].as_str().unwrap().parse().unwrap();
    let wait = (due - before).num_seconds();
    assert!(
        (590..=605).contains(&wait),
        "an hour asked for, retry_max (10 minutes) granted; not the 10ms backoff: {wait}s"
    );
    assert_eq!(receiver.posted().len(), 1);
}

/// Waits up to 30 s for `done`.
fn wait_for(done: impl Fn() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn a_daemon_killed_between_post_and_mark_posts_again_with_the_same_delivery_id() {
    let receiver = Receiver::start();
    // The first POST is held long after the daemon is killed.
    receiver.script([Reply {
        delay: Duration::from_secs(20),
        ..Reply::status(200, "ok")
    }]);
    let site = SiteServer::start(fixture_site());
    // The secret comes from the systemd credential `webhook-desk`.
    let credentials = tempfile::tempdir().unwrap();
    std::fs::write(
        credentials.path().join("webhook-desk"),
        format!("{SECRET}\n"),
    )
    .unwrap();
    let sections = webhook_section("desk", &receiver.url("/hook"), "json", "timeout = \"60s\"");
    let env = webhook_env(
        &site,
        r#"["desk"]"#,
        &sections,
        "\n[schedule]\ntick = \"200ms\"\n",
    );
    let daemon = |args: &[&str]| {
        env.command()
            .arg("run")
            .args(args)
            .env("CREDENTIALS_DIRECTORY", credentials.path())
            .spawn()
            .unwrap()
    };

    let archived = || {
        briefwatch::store::Store::open(&env.database())
            .is_ok_and(|store| count(&store, "revisions") >= 6 && count(&store, "outbox") >= 2)
    };
    let mut first = daemon(&["--alerts"]);
    assert!(
        wait_for(|| !receiver.posted().is_empty() && archived()),
        "the daemon archives the site and posts"
    );
    first.kill().unwrap();
    first.wait().unwrap();
    let held = receiver.posted()[0].clone();
    let rows = outbox_rows(&env);
    let sending: Vec<&serde_json::Value> =
        rows.iter().filter(|r| r["state"] == "sending").collect();
    assert_eq!(sending.len(), 1, "{rows:?}");
    assert_eq!(sending[0]["message_id"].as_str().unwrap(), held.delivery());

    let mut second = daemon(&[]);
    let all_sent = || {
        briefwatch::store::Store::open(&env.database())
            .is_ok_and(|store| count(&store, "outbox WHERE state <> 'sent'") == 0)
    };
    let settled = wait_for(all_sent);
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &second.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    assert!(second.wait().unwrap().success());
    assert!(settled, "{:?}", outbox_rows(&env));

    let posted = receiver.posted();
    let mut per_delivery: HashMap<String, usize> = HashMap::new();
    for post in &posted {
        assert_eq!(
            post.header("x-briefwatch-signature"),
            expected_signature(&post.body),
            "signed with the credential's secret"
        );
        *per_delivery.entry(post.delivery()).or_default() += 1;
    }
    assert_eq!(
        per_delivery.get(&held.delivery()),
        Some(&2),
        "the interrupted alert is posted again, with the same delivery id"
    );
    let resent = posted
        .iter()
        .skip(1)
        .find(|p| p.delivery() == held.delivery())
        .unwrap();
    assert_eq!(
        resent.body, held.body,
        "the same body, so the same signature"
    );
    assert!(
        per_delivery
            .iter()
            .all(|(id, n)| *n == 1 || *id == held.delivery()),
        "{per_delivery:?}"
    );
    // A receiver that drops repeats by delivery id sees each alert once.
    let rows = outbox_rows(&env);
    assert!(rows.len() >= 2, "{rows:?}");
    assert_eq!(
        per_delivery.keys().cloned().collect::<HashSet<_>>(),
        delivery_ids(&rows, "desk")
    );
}

#[test]
fn check_config_names_unknown_and_duplicate_webhooks_and_bad_urls() {
    let site = SiteServer::start(fixture_site());
    let good = webhook_section("desk", "https://hooks.example.org/desk", "json", "");
    let cases = [
        (
            r#"["desk", "matrix"]"#.to_string(),
            good.clone(),
            "`alert[0].webhooks`: alert rule \"india\": no [[webhook]] named \"matrix\"",
        ),
        (
            r#"["desk"]"#.to_string(),
            format!("{good}{good}"),
            "`webhook[1].name`: duplicate webhook name \"desk\"",
        ),
        (
            r#"["desk"]"#.to_string(),
            webhook_section("desk", "hooks.example.org/desk", "json", ""),
            "`webhook[0].url`: webhook \"desk\": \"hooks.example.org/desk\" is not a URL",
        ),
    ];
    for (webhooks, sections, expected) in cases {
        let env = webhook_env(&site, &webhooks, &sections, "");
        let output = env.briefwatch_output(&["check-config"]);
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{stderr}");
    }
}
