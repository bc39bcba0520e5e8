//! A running daemon serves what another process archived: `poll --once` beside `run` stores a
//! revision, and the daemon's feed shows it within two ticks, without a restart.

use std::time::{Duration, Instant};

use crate::support::{EN_ARTICLE, SiteServer, TestEnv, fixture_site, test_config};

/// Long enough that rendering the small fixture archive on a loaded machine fits well inside it.
const TICK: Duration = Duration::from_secs(2);

/// Kills the daemon if the test fails before stopping it.
struct Daemon(std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn revision_titles(body: &str) -> Vec<String> {
    feed_rs::parser::parse(body.as_bytes())
        .expect("feed-rs parses the feed")
        .entries
        .into_iter()
        .map(|entry| entry.title.map(|title| title.content).unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_serves_a_revision_archived_by_another_process_within_two_ticks() {
    let site = SiteServer::start(fixture_site());
    let port = free_port();
    let config = test_config(
        &site,
        &format!("\n[schedule]\ntick = \"{}s\"\n", TICK.as_secs()),
    )
    .replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    let env = TestEnv::with_config(&config);
    env.briefwatch(&["backfill"]);

    let daemon = Daemon(env.command().arg("run").spawn().unwrap());
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/feeds/revisions.xml");
    let fetch = || async {
        let response = client.get(&url).send().await.ok()?;
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        response.text().await.ok()
    };
    let started = Instant::now();
    let before = loop {
        if let Some(body) = fetch().await {
            break body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the daemon never answered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(revision_titles(&before).is_empty(), "{before}");

    // The 3 July transcript loses a sentence; another process archives the new version.
    let page = String::from_utf8(site.page(EN_ARTICLE)).unwrap();
    let edited = page.replacen("highly applauds", "appreciates", 1);
    assert_ne!(edited, page, "fixture layout changed");
    site.set_page(EN_ARTICLE, edited);
    site.clear_seen();
    env.briefwatch(&["poll", "--once", "--all"]);
    let archived = Instant::now();

    let mut titles = Vec::new();
    while archived.elapsed() < TICK * 2 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        titles = revision_titles(&fetch().await.expect("the daemon answers"));
        if !titles.is_empty() {
            break;
        }
    }
    let waited = archived.elapsed();
    eprintln!("revision served {waited:?} after poll --once finished (tick {TICK:?})");
    assert_eq!(
        titles,
        [
            "Revised: Foreign Ministry Spokesperson Zhao Lijian's Regular Press Conference on July 3, 2020"
        ],
        "served {waited:?} after poll --once"
    );
    // The daemon did not fetch the page itself: the revision it serves is the other process's.
    let fetched = site
        .seen()
        .iter()
        .filter(|seen| seen.path == EN_ARTICLE)
        .count();
    assert_eq!(fetched, 1, "only poll --once fetched the transcript");
    drop(daemon);
}
