//! The feed server on loopback: validators, 304s, a new briefing showing up, health, shutdown.

use std::time::{Duration, Instant};

use briefwatch::feed::{BriefingEntry, FeedInputs, FeedSettings, SharedFeeds};
use briefwatch::model::{Briefing, Exchange, Kind, Lang};
use briefwatch::serve::{self, ServeState};
use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE,
    IF_NONE_MATCH, LAST_MODIFIED, VARY,
};
use tokio::sync::oneshot;

fn briefing(day: u32) -> BriefingEntry {
    let published: DateTime<FixedOffset> = FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(2020, 7, day, 21, 19, 0)
        .unwrap();
    BriefingEntry {
        briefing: Briefing {
            url: format!("https://www.fmprc.gov.cn/mfa_eng/t179{day:04}.shtml"),
            lang: Lang::En,
            kind: Kind::PressConference,
            title: format!(
                "Foreign Ministry Spokesperson's Regular Press Conference on July {day}, 2020"
            ),
            date: published.date_naive().into(),
            published_at: Some(published),
            spokesperson: Some("Zhao Lijian".to_string()),
            opening: vec![],
            exchanges: vec![Exchange {
                ordinal: 1,
                asker: "CCTV".to_string(),
                question: vec![format!("Question of July {day}?")],
                answer: vec!["Answer.".to_string()],
                after_conference: false,
            }],
            content_hash: format!("hash-{day}"),
            found_by: None,
            selector: None,
            date_from: None,
        },
        archive_date: None,
        fetched_at: None,
    }
}

struct Server {
    base: String,
    feeds: SharedFeeds,
    settings: FeedSettings,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), serve::ServeError>>,
}

/// A GET of `url` with one request header.
async fn get_with(
    client: &reqwest::Client,
    url: &str,
    header: reqwest::header::HeaderName,
    value: &str,
) -> reqwest::Response {
    client.get(url).header(header, value).send().await.unwrap()
}

async fn start(inputs: &FeedInputs) -> Server {
    let listener = serve::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let settings = FeedSettings::new(&base, 50, Duration::from_secs(600)).unwrap();
    let feeds = SharedFeeds::default();
    feeds.refresh(&settings, inputs, Utc::now()).unwrap();
    let router = serve::router(ServeState {
        feeds: feeds.clone(),
        ..ServeState::default()
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve::serve(listener, router, async move {
        let _ = stopped.await;
    }));
    Server {
        base,
        feeds,
        settings,
        stop: Some(stop),
        task,
    }
}

impl Server {
    async fn shutdown(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("server stops after the shutdown signal")
            .unwrap()
            .unwrap();
    }
}

fn inputs(days: &[u32]) -> FeedInputs {
    FeedInputs {
        briefings: days.iter().map(|&day| briefing(day)).collect(),
        ..FeedInputs::default()
    }
}

#[tokio::test]
async fn conditional_get_answers_304_until_a_new_briefing_arrives() {
    let server = start(&inputs(&[1, 2])).await;
    let client = reqwest::Client::new();
    let url = format!("{}/feeds/briefings.xml", server.base);

    let first = client.get(&url).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let headers = first.headers().clone();
    assert_eq!(headers[CONTENT_TYPE], "application/rss+xml; charset=utf-8");
    assert_eq!(headers[CACHE_CONTROL], "public, max-age=600");
    let etag = headers[ETAG].to_str().unwrap().to_string();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 10,
        "{etag}"
    );
    let last_modified = headers[LAST_MODIFIED].to_str().unwrap().to_string();
    let body = first.text().await.unwrap();
    let feed = feed_rs::parser::parse(body.as_bytes()).unwrap();
    assert_eq!(feed.entries.len(), 2);

    let again = get_with(&client, &url, IF_NONE_MATCH, &etag).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()[ETAG], etag.as_str());
    assert!(again.bytes().await.unwrap().is_empty());

    let by_date = get_with(&client, &url, IF_MODIFIED_SINCE, &last_modified).await;
    assert_eq!(by_date.status(), StatusCode::NOT_MODIFIED);

    // The poller stored a new briefing and refreshed the feeds.
    let changed = server
        .feeds
        .refresh(
            &server.settings,
            &inputs(&[1, 2, 3]),
            Utc::now() + chrono::TimeDelta::seconds(5),
        )
        .unwrap();
    assert!(changed.contains(&"briefings".to_string()), "{changed:?}");

    let after = get_with(&client, &url, IF_NONE_MATCH, &etag).await;
    assert_eq!(after.status(), StatusCode::OK);
    let new_etag = after.headers()[ETAG].to_str().unwrap().to_string();
    assert_ne!(new_etag, etag);
    let stale_date = get_with(&client, &url, IF_MODIFIED_SINCE, &last_modified).await;
    assert_eq!(stale_date.status(), StatusCode::OK);
    let body = after.text().await.unwrap();
    let feed = feed_rs::parser::parse(body.as_bytes()).unwrap();
    assert_eq!(feed.entries.len(), 3);
    assert_eq!(
        feed.entries[0].title.as_ref().unwrap().content,
        "Foreign Ministry Spokesperson's Regular Press Conference on July 3, 2020"
    );

    server.shutdown().await;
}

#[tokio::test]
async fn gzip_is_served_precompressed_to_readers_that_ask() {
    let server = start(&inputs(&[1, 2])).await;
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let url = format!("{}/feeds/briefings.xml", server.base);
    let plain = raw.get(&url).send().await.unwrap();
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    assert_eq!(plain.headers()[VARY], "Accept-Encoding");
    let plain_etag = plain.headers()[ETAG].clone();
    let plain_body = plain.bytes().await.unwrap();

    let zipped = get_with(&raw, &url, ACCEPT_ENCODING, "gzip, br").await;
    assert_eq!(zipped.status(), StatusCode::OK);
    assert_eq!(zipped.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(zipped.headers()[VARY], "Accept-Encoding");
    let zipped_etag = zipped.headers()[ETAG].clone();
    assert_ne!(
        zipped_etag, plain_etag,
        "each representation has its own strong validator"
    );
    let compressed = zipped.bytes().await.unwrap();
    assert!(compressed.len() < plain_body.len());
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(compressed.as_ref()),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, plain_body.as_ref());

    let revalidated = raw
        .get(&url)
        .header(ACCEPT_ENCODING, "gzip")
        .header(IF_NONE_MATCH, zipped_etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);
    assert!(revalidated.headers().get(CONTENT_ENCODING).is_none());
    assert_eq!(revalidated.headers()[ETAG], zipped_etag);

    server.shutdown().await;
}

#[tokio::test]
async fn health_unknown_feeds_head_and_methods() {
    let server = start(&inputs(&[1])).await;
    let client = reqwest::Client::new();

    let health = client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(health.text().await.unwrap().starts_with("ok\n"));

    for missing in [
        "/feeds/nope.xml",
        "/feeds/briefings",
        "/feeds/keywords/none.xml",
        "/feeds/../etc/passwd",
    ] {
        let response = client
            .get(format!("{}{missing}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
    }

    let head = client
        .head(format!("{}/feeds/briefings-en.xml", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert!(head.headers().contains_key(ETAG));
    assert!(head.bytes().await.unwrap().is_empty());

    let post = client
        .post(format!("{}/feeds/briefings.xml", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);

    server.shutdown().await;
}

#[tokio::test]
async fn binding_a_taken_port_names_the_address() {
    let taken = serve::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = taken.local_addr().unwrap();
    let error = serve::bind(addr).await.unwrap_err();
    assert!(error.to_string().contains(&addr.to_string()), "{error}");
}

// ---------------------------------------------------------------------------------------------
// The daemon: `briefwatch run` serves the feeds it keeps up to date.

use crate::support::{
    FIXTURE_EN_ARTICLES, FIXTURE_ZH_ARTICLES, SiteServer, TestEnv, fixture_site, test_config,
};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills the daemon if the test fails before stopping it.
struct Daemon(Option<std::process::Child>);

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn signal(child: &std::process::Child, name: &str) {
    let sent = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_serves_feeds_it_refreshes_and_survives_a_reload() {
    let site = SiteServer::start(fixture_site());
    let port = free_port();
    let config = test_config(&site, "\n[schedule]\ntick = \"200ms\"\n").replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    let public = tempfile::tempdir().unwrap();
    let out_dir = public.path().join("feeds");
    let env = TestEnv::with_config(&format!(
        "{config}\n[feeds]\nout_dir = \"{}\"\n",
        out_dir.display()
    ));

    let mut daemon = Daemon(Some(env.command().arg("run").spawn().unwrap()));
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/feeds/briefings.xml");
    let expected = FIXTURE_EN_ARTICLES.len() + FIXTURE_ZH_ARTICLES.len();
    let started = std::time::Instant::now();
    let mut latest = None;
    while started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let Ok(response) = client.get(&url).send().await else {
            continue;
        };
        assert_eq!(response.status(), StatusCode::OK);
        let etag = response.headers()[ETAG].to_str().unwrap().to_string();
        let body = response.text().await.unwrap();
        let count = feed_rs::parser::parse(body.as_bytes())
            .unwrap()
            .entries
            .len();
        latest = Some((etag, count));
        // Polling reads first listing pages only: all but the second English page's items.
        if count >= expected - 2 {
            break;
        }
    }
    let (etag, count) = latest.expect("the daemon answered");
    assert_eq!(count, expected - 2, "items served");
    let again = get_with(&client, &url, IF_NONE_MATCH, &etag).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    // The static copy is written after the served one is swapped in: give it a moment.
    let on_disk_count = || {
        std::fs::read_to_string(out_dir.join("briefings.xml"))
            .ok()
            .and_then(|text| feed_rs::parser::parse(text.as_bytes()).ok())
            .map(|feed| feed.entries.len())
    };
    let written = Instant::now();
    while on_disk_count() != Some(expected - 2) && written.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        on_disk_count(),
        Some(expected - 2),
        "static copy in [feeds] out_dir"
    );

    // A reload keeps the daemon and its listener alive.
    signal(daemon.0.as_ref().unwrap(), "HUP");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        daemon.0.as_mut().unwrap().try_wait().unwrap().is_none(),
        "still running after SIGHUP"
    );
    let health = client
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    signal(daemon.0.as_ref().unwrap(), "TERM");
    let mut child = daemon.0.take().unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status}");
}
