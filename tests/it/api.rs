//! The feed of any search, the OPML list and the JSON API, served by the real daemon (`briefwatch
//! run`) on loopback over the fixture site backfilled, with the 3 July English transcript revised
//! (one exchange removed, so the later ones are renumbered).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Child;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    LAST_MODIFIED,
};
use serde_json::Value;

use crate::support::{
    EN_ARTICLE, SiteServer, TestEnv, fixture_site, require_feedparser, test_config,
};
use crate::web::ZH_SAME_DAY;

/// The day of [`EN_ARTICLE`] and [`ZH_SAME_DAY`].
const DAY: &str = "2020-07-03";

/// The daemon over a revised archive; killed when dropped.
struct Daemon {
    child: Child,
    base: String,
    en_id: i64,
    env: TestEnv,
    _site: SiteServer,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The 3 July transcript without its RIA Novosti exchange (number 4).
fn without_one_exchange(page: &str) -> String {
    let mut lines: Vec<&str> = page.lines().collect();
    let removed = lines
        .iter()
        .position(|l| l.contains("RIA Novosti: According to the State Security Service"))
        .expect("the RIA Novosti question is in the page");
    lines.drain(removed..removed + 2);
    lines.join("\n")
}

impl Daemon {
    async fn start() -> Daemon {
        let site = SiteServer::start(fixture_site());
        let port = free_port();
        let rule = "\n[[alert]]\nname = \"hk\"\nterms = [\"Hong Kong\"]\nrecipients = [\"desk@example.org\"]\n";
        let config = test_config(&site, rule).replace(
            "listen = \"127.0.0.1:0\"",
            &format!("listen = \"127.0.0.1:{port}\""),
        );
        let env = TestEnv::with_config(&config);
        env.briefwatch(&["backfill"]);
        let page = String::from_utf8_lossy(&site.page(EN_ARTICLE)).into_owned();
        site.set_page(EN_ARTICLE, without_one_exchange(&page));
        env.briefwatch(&["poll", "--once", "--all"]);
        let en_id = env
            .store()
            .document(briefwatch::store::DocumentKey::Url(&site.url(EN_ARTICLE)))
            .unwrap()
            .expect("the 3 July transcript is archived")
            .id;
        let child = env.command().arg("run").spawn().expect("start the daemon");
        let daemon = Daemon {
            child,
            base: format!("http://127.0.0.1:{port}"),
            en_id,
            env,
            _site: site,
        };
        let started = Instant::now();
        let client = reqwest::Client::new();
        loop {
            // The feeds are rendered before the server answers; the OPML lists them.
            if let Ok(response) = client.get(daemon.url("/healthz")).send().await
                && response.status() == StatusCode::OK
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the daemon never answered"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        daemon
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::get(self.url(path)).await.expect("request")
    }

    async fn json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        json_of(response).await
    }
}

/// A response's body as JSON.
async fn json_of(response: reqwest::Response) -> Value {
    let text = response.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}: {text}"))
}

fn feed_of(body: &str) -> feed_rs::model::Feed {
    feed_rs::parser::parse(body.as_bytes()).unwrap_or_else(|error| panic!("{error}: {body}"))
}

fn description(entry: &feed_rs::model::Entry) -> String {
    entry
        .summary
        .as_ref()
        .map(|text| text.content.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_feed_quotes_every_match_once_and_answers_304() {
    let daemon = Daemon::start().await;
    let path = "/feeds/search.xml?q=%22Hong+Kong%22";
    let response = daemon.get(path).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[CONTENT_TYPE],
        "application/rss+xml; charset=utf-8"
    );
    let etag = response.headers()[ETAG].to_str().unwrap().to_string();
    let modified = response.headers()[LAST_MODIFIED]
        .to_str()
        .unwrap()
        .to_string();
    let body = response.text().await.unwrap();
    let feed = feed_of(&body);
    assert!(
        feed.title.as_ref().unwrap().content.contains("Hong Kong"),
        "{body}"
    );
    // Every passage the API search finds for the same query is one item, quoted in full.
    let hits = daemon
        .json("/api/v1/search?q=%22Hong+Kong%22&limit=100")
        .await;
    let total = hits["total"].as_u64().unwrap() as usize;
    assert!(total > 1, "{hits}");
    assert_eq!(feed.entries.len(), total.min(50), "{body}");
    let guids: BTreeSet<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(guids.len(), feed.entries.len(), "guids are unique");
    for entry in &feed.entries {
        assert!(
            entry
                .id
                .starts_with("tag:briefwatch,2024:exchange:http://127.0.0.1:"),
            "{}",
            entry.id
        );
        let html = description(entry);
        assert!(html.contains("<mark>Hong Kong</mark>"), "{html}");
        let link = &entry.links[0].href;
        let hit = hits["hits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|hit| hit["url"] == link.as_str())
            .unwrap_or_else(|| panic!("{link} is a search hit"));
        // Dated by the briefing's own date, like the other feeds: never the fetch time.
        let published = entry.published.expect("pubDate");
        let beijing = published.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
        assert_eq!(
            beijing.date_naive().to_string(),
            hit["date"].as_str().unwrap(),
            "{link}"
        );
    }
    let dates: Vec<_> = feed.entries.iter().map(|e| e.published.unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // Conditional GET, both ways.
    let client = reqwest::Client::new();
    let again = client
        .get(daemon.url(path))
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()[ETAG], etag.as_str());
    let since = client
        .get(daemon.url(path))
        .header(IF_MODIFIED_SINCE, &modified)
        .send()
        .await
        .unwrap();
    assert_eq!(since.status(), StatusCode::NOT_MODIFIED);
    let other = client
        .get(daemon.url(path))
        .header(IF_NONE_MATCH, "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    assert_eq!(
        other.text().await.unwrap(),
        body,
        "the same query renders the same feed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_feed_filters_keeps_guids_across_renumbering_and_rejects_bad_queries() {
    let daemon = Daemon::start().await;
    // Exchange 5 of the first revision is exchange 4 of the second: one item, the same guid the
    // first revision's text would give, dated 3 July.
    let renumbered = daemon
        .get("/feeds/search.xml?q=%22fake+news%22&lang=en")
        .await
        .text()
        .await
        .unwrap();
    let feed = feed_of(&renumbered);
    let from_day: Vec<_> = feed
        .entries
        .iter()
        .filter(|e| e.links[0].href.ends_with(EN_ARTICLE))
        .collect();
    assert_eq!(from_day.len(), 1, "{renumbered}");
    let revisions = daemon
        .json(&format!("/api/v1/briefings/{}/revisions", daemon.en_id))
        .await;
    assert_eq!(revisions["revisions"].as_array().unwrap().len(), 2);

    // `asker` keeps only that outlet's exchanges; `kind` only that kind of page; `lang` one language.
    let all = feed_of(
        &daemon
            .get("/feeds/search.xml?q=China")
            .await
            .text()
            .await
            .unwrap(),
    );
    let reuters = feed_of(
        &daemon
            .get("/feeds/search.xml?q=China&asker=reuters")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(!reuters.entries.is_empty() && reuters.entries.len() < all.entries.len());
    for entry in &reuters.entries {
        let title = &entry.title.as_ref().unwrap().content;
        assert!(title.starts_with("Reuters"), "{title}");
    }
    let statements = feed_of(
        &daemon
            .get("/feeds/search.xml?q=China&kind=statement")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(statements.entries.len() < all.entries.len());
    let chinese = feed_of(
        &daemon
            .get("/feeds/search.xml?q=%E4%B8%AD%E5%9B%BD&lang=zh")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(!chinese.entries.is_empty());
    assert!(
        chinese
            .entries
            .iter()
            .all(|e| description(e).contains("<mark>中国</mark>"))
    );

    for (query, expected) in [
        ("q=%22unclosed", "parameter q"),
        ("", "parameter q: is required"),
        ("q=China&colour=red", "parameter colour: unknown parameter"),
        ("q=China&lang=fr", "parameter lang"),
    ] {
        let response = daemon.get(&format!("/feeds/search.xml?{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let text = response.text().await.unwrap();
        assert!(text.contains(expected), "{query}: {text}");
    }
}

/// The `xmlUrl` of every outline of an OPML document, checking its shape on the way.
fn opml_feeds(opml: &str) -> Vec<String> {
    assert!(opml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">"));
    assert!(opml.trim_end().ends_with("</body>\n</opml>"), "{opml}");
    let outline = regex::Regex::new(r#"<outline type="rss" text="[^"<&]*" title="[^"<&]*" xmlUrl="([^"<&]*)" htmlUrl="[^"<&]*"/>"#).unwrap();
    let urls: Vec<String> = outline
        .captures_iter(opml)
        .map(|c| c[1].to_string())
        .collect();
    assert_eq!(urls.len(), opml.matches("<outline").count(), "{opml}");
    urls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opml_lists_every_feed_and_every_page_announces_its_feeds() {
    let daemon = Daemon::start().await;
    let response = daemon.get("/feeds.opml").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[CONTENT_TYPE],
        "text/x-opml; charset=utf-8"
    );
    let opml = response.text().await.unwrap();
    let urls = opml_feeds(&opml);
    let names: BTreeSet<String> = urls
        .iter()
        .map(|url| {
            url.strip_prefix(&format!("{}/feeds/", daemon.base))
                .and_then(|rest| rest.strip_suffix(".xml"))
                .unwrap_or_else(|| panic!("{url}"))
                .to_string()
        })
        .collect();
    let expected: BTreeSet<String> = [
        "briefings",
        "briefings-en",
        "briefings-zh",
        "revisions",
        "keywords/hk",
    ]
    .map(String::from)
    .into();
    assert_eq!(names, expected);
    for url in &urls {
        let feed = reqwest::get(url).await.unwrap();
        assert_eq!(feed.status(), StatusCode::OK, "{url}");
        feed_of(&feed.text().await.unwrap());
    }

    // Every page announces the fixed feeds; the search page its own feed first.
    let alternate = regex::Regex::new(
        r#"<link rel="alternate" type="application/rss\+xml" title="[^"]*" href="([^"]*)">"#,
    )
    .unwrap();
    for page in [
        "/",
        "/events",
        "/trends",
        "/status",
        &format!("/b/{}", daemon.en_id),
    ] {
        let html = daemon.get(page).await.text().await.unwrap();
        let hrefs: Vec<&str> = alternate
            .captures_iter(&html)
            .map(|c| c.get(1).unwrap().as_str())
            .collect();
        assert_eq!(
            hrefs,
            [
                "/feeds/briefings.xml",
                "/feeds/briefings-en.xml",
                "/feeds/briefings-zh.xml",
                "/feeds/revisions.xml"
            ],
            "{page}"
        );
    }
    let search = daemon
        .get("/search?q=Hong+Kong&lang=en")
        .await
        .text()
        .await
        .unwrap();
    let first = alternate.captures(&search).expect("a feed link")[1].to_string();
    assert_eq!(first, "/feeds/search.xml?q=Hong+Kong&amp;lang=en");
    assert!(search.contains("Subscribe to this search"), "{search}");
    let feed = daemon.get(&first.replace("&amp;", "&")).await;
    assert_eq!(feed.status(), StatusCode::OK);
    let feed = feed_of(&feed.text().await.unwrap());
    assert!(!feed.entries.is_empty());
}

#[test]
#[ignore = "needs python3 feedparser"]
fn the_search_feed_and_the_opml_parse_in_python() {
    require_feedparser();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let daemon = runtime.block_on(Daemon::start());
    let script = r#"
import sys, feedparser, urllib.request, xml.etree.ElementTree as ET
base = sys.argv[1]
# The sanitizer drops <mark> (not in its allowlist); the raw description keeps it.
feed = feedparser.parse(base + "/feeds/search.xml?q=%22Hong+Kong%22", sanitize_html=False)
assert not feed.bozo, feed.bozo_exception
assert feed.version == "rss20", feed.version
assert len(feed.entries) > 1, len(feed.entries)
for entry in feed.entries:
    assert "<mark>Hong Kong</mark>" in entry.summary, entry.summary
    assert entry.id.startswith("tag:briefwatch,2024:exchange:"), entry.id
    assert entry.published_parsed is not None
root = ET.fromstring(urllib.request.urlopen(base + "/feeds.opml").read())
assert root.tag == "opml" and root.get("version") == "2.0"
urls = [o.get("xmlUrl") for o in root.iter("outline")]
assert len(urls) == 5, urls
for url in urls:
    parsed = feedparser.parse(url)
    assert not parsed.bozo, (url, parsed.bozo_exception)
print(len(feed.entries), len(urls))
"#;
    let output = std::process::Command::new("python3")
        .args(["-c", script, &daemon.base])
        .output()
        .expect("run python3");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    drop(daemon);
}

/// The OpenAPI document with `schema` at its root, so that its `#/components/...` references
/// resolve.
fn schema_with_components(openapi: &Value, schema: &Value) -> Value {
    let mut document = schema.clone();
    if let Value::Object(map) = &mut document {
        map.insert("components".into(), openapi["components"].clone());
    } else {
        panic!("a schema object: {schema}");
    }
    document
}

fn assert_valid(openapi: &Value, schema: &Value, body: &Value, what: &str) {
    let document = schema_with_components(openapi, schema);
    let validator = jsonschema::validator_for(&document)
        .unwrap_or_else(|error| panic!("{what}: the declared schema does not compile: {error}"));
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}\n{body}");
}

fn response_schema(openapi: &Value, path: &str, status: &str) -> Value {
    openapi["paths"][path]["get"]["responses"][status]["content"]["application/json"]["schema"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_endpoint_answers_what_its_openapi_file_declares() {
    let daemon = Daemon::start().await;
    let served = daemon.json("/api/v1/openapi.json").await;
    let openapi: Value = serde_json::from_str(briefwatch::api::OPENAPI).unwrap();
    assert_eq!(
        served, openapi,
        "the served document is the checked-in file"
    );
    assert!(openapi["openapi"].as_str().unwrap().starts_with("3."));
    let declared: BTreeSet<&str> = openapi["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let routed: BTreeSet<&str> = briefwatch::api::PATHS.iter().copied().collect();
    assert_eq!(
        declared, routed,
        "every route is in the file, and nothing else"
    );

    let zh_id = daemon
        .env
        .store()
        .list_documents(None)
        .unwrap()
        .into_iter()
        .find(|d| d.url.ends_with(ZH_SAME_DAY))
        .unwrap()
        .id;
    let concrete = |path: &str| {
        path.replace("{id}", &daemon.en_id.to_string())
            .replace("{date}", DAY)
    };
    // Calls that reach each path, the typical and the less travelled.
    let calls: BTreeMap<&str, Vec<String>> = [
        (
            "/briefings",
            vec![
                String::new(),
                "?lang=zh&kind=press_conference&limit=2".into(),
                format!("?since={DAY}&until={DAY}&spokesperson=%E8%B5%B5%E7%AB%8B%E5%9D%9A"),
            ],
        ),
        ("/briefings/{id}", vec![String::new(), "?revision=1".into()]),
        ("/briefings/{id}/revisions", vec![String::new()]),
        (
            "/briefings/{id}/diff",
            vec![String::new(), "?from=2&to=1".into()],
        ),
        (
            "/events",
            vec![
                String::new(),
                "?type=revised,exchange_removed&since=2020-01-01".into(),
                "?limit=1".into(),
            ],
        ),
        (
            "/search",
            vec![
                "?q=Hong+Kong".into(),
                "?q=%E5%8F%B0%E6%B9%BE&lang=zh&limit=3&offset=1".into(),
            ],
        ),
        ("/pairs/{date}", vec![String::new()]),
        ("/openapi.json", vec![String::new()]),
    ]
    .into_iter()
    .collect();
    assert_eq!(calls.keys().copied().collect::<BTreeSet<_>>(), declared);
    let client = reqwest::Client::new();
    for (path, queries) in &calls {
        let schema = response_schema(&openapi, path, "200");
        assert!(schema.is_object(), "{path} declares its 200 body");
        for query in queries {
            let url = daemon.url(&format!("/api/v1{}{query}", concrete(path)));
            let response = client.get(&url).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{url}");
            let headers = response.headers().clone();
            assert_eq!(headers[ACCESS_CONTROL_ALLOW_ORIGIN], "*", "{url}");
            assert!(
                headers[CONTENT_TYPE]
                    .to_str()
                    .unwrap()
                    .starts_with("application/json")
            );
            let body: Value = json_of(response).await;
            assert_valid(&openapi, &schema, &body, &url);
            let again = client
                .get(&url)
                .header(IF_NONE_MATCH, headers[ETAG].to_str().unwrap())
                .send()
                .await
                .unwrap();
            assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{url}");
            assert_eq!(again.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        }
        // An unknown parameter is refused, as the declared error.
        let url = daemon.url(&format!("/api/v1{}?colour=red", concrete(path)));
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{url}");
        let body: Value = json_of(response).await;
        assert!(body["error"].as_str().unwrap().contains("colour"), "{body}");
        if path != &"/openapi.json" {
            assert_valid(
                &openapi,
                &response_schema(&openapi, path, "400"),
                &body,
                &url,
            );
        }
    }

    // What the answers say, not only their shape.
    let record = daemon
        .json(&format!("/api/v1/briefings/{}", daemon.en_id))
        .await;
    assert_eq!(record["revision"], 2);
    let first = daemon
        .json(&format!("/api/v1/briefings/{}?revision=1", daemon.en_id))
        .await;
    assert_eq!(
        first["exchanges"].as_array().unwrap().len(),
        record["exchanges"].as_array().unwrap().len() + 1
    );
    let diff = daemon
        .json(&format!("/api/v1/briefings/{}/diff", daemon.en_id))
        .await;
    assert_eq!(
        (diff["from"].as_i64(), diff["to"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(diff["change"]["counts"]["removed"], 1, "{diff}");
    let pairs = daemon.json(&format!("/api/v1/pairs/{DAY}")).await;
    assert_eq!(pairs["zh"]["id"], zh_id);
    assert_eq!(pairs["en"]["id"], daemon.en_id);
    assert!(pairs["pairing"]["paired"].as_u64().unwrap() > 5, "{pairs}");
    let search = daemon.json("/api/v1/search?q=Hong+Kong&limit=2").await;
    let marked = search["hits"][0]["answer"]
        .as_array()
        .unwrap()
        .iter()
        .chain(search["hits"][0]["question"].as_array().unwrap())
        .flat_map(|paragraph| paragraph.as_array().unwrap())
        .any(|segment| segment["marked"] == true);
    assert!(marked, "{search}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_pages_with_cursors_and_errors_are_json_with_the_right_status() {
    let daemon = Daemon::start().await;
    // Walking the pages two at a time gives every archived briefing once, newest first.
    let everything = daemon.json("/api/v1/briefings?limit=500").await;
    let all: Vec<i64> = everything["briefings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_i64().unwrap())
        .collect();
    assert_eq!(everything["next"], Value::Null);
    let archived = crate::support::count(
        &daemon.env.store(),
        "documents d WHERE EXISTS (SELECT 1 FROM revisions r WHERE r.document_id = d.id)",
    );
    assert_eq!(all.len() as i64, archived);
    let mut walked = Vec::new();
    let mut path = "/api/v1/briefings?limit=2".to_string();
    loop {
        let page = daemon.json(&path).await;
        let briefings = page["briefings"].as_array().unwrap();
        assert!(briefings.len() <= 2);
        walked.extend(briefings.iter().map(|b| b["id"].as_i64().unwrap()));
        match page["next"].as_str() {
            Some(next) => path = format!("/api/v1/briefings?limit=2&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(walked, all);
    let dates: Vec<&str> = everything["briefings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["date"].as_str())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");

    // Events: the type filter holds and the cursor walks back.
    let revised = daemon.json("/api/v1/events?type=revised").await;
    let events = revised["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{revised}");
    assert_eq!(events[0]["document"]["id"], daemon.en_id);
    let one = daemon.json("/api/v1/events?limit=1").await;
    let next = one["next"].as_str().expect("more than one event");
    let older = daemon
        .json(&format!("/api/v1/events?limit=1&cursor={next}"))
        .await;
    assert!(older["events"][0]["id"].as_i64() < one["events"][0]["id"].as_i64());

    for (path, status, expected) in [
        (
            "/api/v1/briefings/999999",
            404,
            "there is no briefing 999999",
        ),
        (
            "/api/v1/briefings/abc/revisions",
            404,
            "there is no briefing",
        ),
        ("/api/v1/briefings?lang=fr", 400, "parameter lang"),
        ("/api/v1/briefings?cursor=zz", 400, "parameter cursor"),
        (
            "/api/v1/briefings?since=2020-07-04&until=2020-07-03",
            400,
            "since",
        ),
        ("/api/v1/events?type=revisd", 400, "not an event type"),
        ("/api/v1/search", 400, "parameter q: is required"),
        ("/api/v1/search?q=%22open", 400, "parameter q"),
        ("/api/v1/pairs/July", 400, "2020-07-03"),
        (
            "/api/v1/pairs/1999-01-01",
            404,
            "no English press conference",
        ),
        ("/api/v1/nothing", 404, "no such API endpoint"),
    ] {
        let response = daemon.get(path).await;
        assert_eq!(response.status().as_u16(), status, "{path}");
        assert_eq!(response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        let body: Value = json_of(response).await;
        let object = body.as_object().unwrap();
        assert_eq!(object.len(), 1, "{body}");
        assert!(
            body["error"].as_str().unwrap().contains(expected),
            "{path}: {body}"
        );
    }
    let first_revision = daemon
        .get(&format!("/api/v1/briefings/{}?revision=3", daemon.en_id))
        .await;
    assert_eq!(first_revision.status(), StatusCode::NOT_FOUND);
}

#[test]
#[ignore = "needs chromium and chromedriver"]
fn subscribe_to_this_search_leads_to_the_search_feed_in_the_browser() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let daemon = runtime.block_on(Daemon::start());
    let driver = crate::browser::driver();
    let profile = tempfile::tempdir().unwrap();
    let session = driver.session(profile.path());
    session.open(&daemon.url("/search?q=%22Hong+Kong%22&lang=en"));
    assert_eq!(session.text("a.feed"), "Subscribe to this search");
    session.eval("document.querySelector('a.feed').click(); return null;");
    let deadline = Instant::now() + Duration::from_secs(10);
    let location = loop {
        let location = session
            .eval("return location.href;")
            .as_str()
            .unwrap_or("")
            .to_string();
        if location.contains("/feeds/search.xml") || Instant::now() > deadline {
            break location;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        location,
        daemon.url("/feeds/search.xml?q=%22Hong+Kong%22&lang=en")
    );
    // Chromium shows the document's source: the channel of this search, with its marked terms.
    let shown = session
        .eval("return document.documentElement.textContent;")
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(shown.contains("<title>briefwatch: search “"), "{shown}");
    assert!(shown.contains("<mark>Hong Kong</mark>"), "{shown}");
    drop(session);
    drop(daemon);
}
