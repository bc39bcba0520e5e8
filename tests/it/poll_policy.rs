//! What polling asks of the web and what it believes: only the site's hosts and ports, bounded
//! waits whatever a server asks, validators of the body they came with, re-checks by the
//! document's age, failures named by their cause, and exit status 3 when pages failed.

use std::net::TcpListener;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use briefwatch::store::{DocumentKey, parse_time};

use crate::support::{
    EN_ARTICLE, EN_LISTING, FIXTURE_EN_ARTICLES, FIXTURE_ZH_ARTICLES, Fault, SiteServer, TestEnv,
    corpus_site, count, fixture_site, test_config,
};

const FIXTURE_ARTICLES: i64 = 8;

fn json(text: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines().map(json).collect()
}

/// The test config with more `[fetch]` keys.
fn config_with_fetch(site: &SiteServer, keys: &str) -> String {
    test_config(site, "").replace(
        "redirect_hosts = []",
        &format!("redirect_hosts = []\n{keys}"),
    )
}

fn backfill(env: &TestEnv) {
    let out = json(&env.briefwatch(&["backfill", "--json"]));
    assert_eq!(out["new_revisions"], FIXTURE_ARTICLES, "{out}");
}

fn next_check(env: &TestEnv, url: &str) -> (String, DateTime<Utc>) {
    let document = env
        .store()
        .document(DocumentKey::Url(url))
        .unwrap()
        .expect("document");
    let parsed = parse_time(&document.next_check).expect("a stored time");
    (document.next_check, parsed)
}

#[test]
fn a_retry_after_of_any_size_neither_panics_nor_parks_the_page() {
    for value in [
        "18446744073709551615",
        "10000000000000",
        "Fri, 31 Dec 9999 23:59:59 GMT",
    ] {
        let site = SiteServer::start(fixture_site());
        let env = TestEnv::with_config(&config_with_fetch(&site, "blocked_backoff = \"1h\""));
        backfill(&env);
        let busy = Fault::Custom {
            status: 503,
            headers: vec![("Retry-After", value.to_string())],
            body: b"<html><body>busy</body></html>".to_vec(),
        };
        site.fault(EN_ARTICLE, busy.clone(), 1);
        site.fault(EN_LISTING, busy, 1);
        site.clear_seen();
        let before = Utc::now();
        let output = env.briefwatch_output(&["poll", "--once", "--all", "--json"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{value}: {stderr}");
        assert!(!stderr.contains("panicked"), "{value}: {stderr}");
        assert!(stderr.contains("2 page(s) failed"), "{value}: {stderr}");
        assert!(
            stderr.contains("Retry-After longer than fetch.blocked_backoff"),
            "the clamp is logged: {stderr}"
        );
        // Asked once: a wait longer than the in-cycle backoff is not waited out in the cycle.
        let asked = site.seen().iter().filter(|s| s.path == EN_ARTICLE).count();
        assert_eq!(asked, 1, "{value}");
        let (stored, at) = next_check(&env, &site.url(EN_ARTICLE));
        assert!(at > before, "{value}: {stored}");
        // The ceiling (1 h) plus the schedule's jitter (10 %) and a margin for the run.
        assert!(
            at <= before + chrono::Duration::minutes(66) + chrono::Duration::seconds(30),
            "{value}: next check {stored}"
        );
        // Stored times keep sorting as times: nothing before `now` when it is in the future.
        assert!(stored > briefwatch::store::format_time(before), "{stored}");
        // The listing waits as long as it was asked, up to the ceiling.
        let listing = env
            .store()
            .listing_state(&site.url(EN_LISTING))
            .unwrap()
            .expect("listing state");
        assert!(
            listing.next_check >= before + chrono::Duration::minutes(59)
                && listing.next_check <= before + chrono::Duration::minutes(61),
            "{value}: listing next check {}",
            listing.next_check
        );
        // And the next run does not panic either.
        let again = env.briefwatch_output(&["poll", "--once"]);
        assert!(again.status.code().is_some_and(|code| code != 101));
    }
}

/// A listing page of the fixture with these links added before its second item.
fn listing_with_links(site: &SiteServer, links: &[String]) -> String {
    let listing = String::from_utf8(site.page(EN_LISTING)).unwrap();
    let anchor = "<li><a href=\"./t1794266.shtml\"";
    assert!(listing.contains(anchor));
    let added: String = links
        .iter()
        .enumerate()
        .map(|(i, href)| {
            format!(
                "<li><a href=\"{href}\" target=\"_blank\">Planted item {i}</a>(2020-07-03)</li>"
            )
        })
        .collect();
    listing.replacen(anchor, &format!("{added}{anchor}"), 1)
}

#[test]
fn links_off_the_site_are_ignored_counted_and_never_requested() {
    let site = SiteServer::start(fixture_site());
    // Stand-ins for elsewhere: the same fixture on another port, and another loopback address.
    let other_port = SiteServer::start(fixture_site());
    let other_address = TcpListener::bind("127.0.0.2:0").expect("bind 127.0.0.2");
    other_address.set_nonblocking(true).unwrap();
    let links = vec![
        other_port.url(FIXTURE_EN_ARTICLES[0]),
        format!(
            "http://{}{}",
            other_address.local_addr().unwrap(),
            FIXTURE_EN_ARTICLES[1]
        ),
        "http://briefwatch-elsewhere.invalid/t1.shtml".to_string(),
        "file:///etc/passwd".to_string(),
        "data:text/html,<p>planted</p>".to_string(),
        "ftp://briefwatch-elsewhere.invalid/t2.shtml".to_string(),
    ];
    site.set_page(EN_LISTING, listing_with_links(&site, &links));
    let env = TestEnv::new(&site);
    let output = env.briefwatch_output(&["poll", "--once", "--json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let cycle = json(&String::from_utf8_lossy(&output.stdout));
    assert_eq!(cycle["off_site"], links.len(), "{cycle}");
    assert_eq!(cycle["new_revisions"], 6, "{cycle}");
    // Reported once for the listing page, with the count.
    assert_eq!(
        stderr.matches("listing links off the site ignored").count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("ignored={}", links.len())),
        "{stderr}"
    );
    // Nothing went elsewhere, and nothing of elsewhere became a document.
    assert!(other_port.seen().is_empty(), "{:?}", other_port.seen());
    assert!(other_address.accept().is_err(), "127.0.0.2 was contacted");
    let store = env.store();
    let origin = site.url("/");
    assert_eq!(
        count(&store, &format!("documents WHERE url NOT LIKE '{origin}%'")),
        0
    );
    assert_eq!(count(&store, "documents"), 6);
}

#[test]
fn a_redirect_to_another_port_is_refused_not_stored_as_a_revision() {
    let site = SiteServer::start(fixture_site());
    let elsewhere = SiteServer::start(fixture_site());
    let edited = String::from_utf8(elsewhere.page(EN_ARTICLE))
        .unwrap()
        .replacen("Zhao Lijian", "Somebody Else", 1);
    elsewhere.set_page(EN_ARTICLE, edited);
    let env = TestEnv::new(&site);
    backfill(&env);
    site.fault(
        EN_ARTICLE,
        Fault::Custom {
            status: 302,
            headers: vec![("Location", elsewhere.url(EN_ARTICLE))],
            body: Vec::new(),
        },
        1,
    );
    let cycle = json(&env.briefwatch_with_failures(&["poll", "--once", "--all", "--json"], 1));
    assert_eq!(cycle["new_revisions"], 0, "{cycle}");
    assert!(elsewhere.seen().is_empty(), "{:?}", elsewhere.seen());
    let store = env.store();
    assert_eq!(count(&store, "revisions"), FIXTURE_ARTICLES);
    let document = store
        .document(DocumentKey::Url(&site.url(EN_ARTICLE)))
        .unwrap()
        .unwrap();
    assert_eq!((document.state.as_str(), document.gone_count), ("live", 0));
    drop(store);
    let status = json_lines(&env.briefwatch(&["status", "--json"]));
    let en = &status[0];
    assert_eq!(en["last_error"]["cause"], "off_site", "{en}");
    assert!(
        en["last_error"]["error"]
            .as_str()
            .unwrap()
            .contains(&elsewhere.url(EN_ARTICLE)),
        "{en}"
    );
}

#[test]
fn new_items_beyond_the_limits_wait_for_the_next_cycle() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::with_config(&config_with_fetch(
        &site,
        "max_new_per_page = 2\nmax_new_per_cycle = 3",
    ));
    // The English listing shows 3 items (2 admitted), the Chinese 3 (1 left in the cycle).
    let output = env.briefwatch_output(&["poll", "--once", "--json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let first = json(&String::from_utf8_lossy(&output.stdout));
    assert_eq!(first["new_documents"], 3, "{first}");
    assert_eq!(first["deferred"], 3, "{first}");
    assert_eq!(first["articles"], 3, "{first}");
    assert_eq!(
        stderr.matches("the rest wait for the next cycle").count(),
        2,
        "{stderr}"
    );
    // The next cycle asks both listings again in full (no 304 can hide the rest) and takes them.
    let second = json(&env.briefwatch(&["poll", "--once", "--json"]));
    assert_eq!(second["new_documents"], 3, "{second}");
    assert_eq!(second["deferred"], 0, "{second}");
    assert_eq!(count(&env.store(), "documents"), 6);
}

#[test]
fn an_edit_without_validators_then_the_original_ends_with_the_original() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    backfill(&env);
    let original = site.page(EN_ARTICLE);
    let edit = String::from_utf8(original.clone()).unwrap().replacen(
        "China highly applauds Laos and Vietnam",
        "China warmly applauds Laos and Vietnam",
        1,
    );
    site.fault(
        EN_ARTICLE,
        Fault::Custom {
            status: 200,
            headers: Vec::new(),
            body: edit.into_bytes(),
        },
        1,
    );
    let edited = json(&env.briefwatch(&["poll", "--once", "--all", "--json"]));
    assert_eq!(edited["new_revisions"], 1, "{edited}");
    // The original again, with its old ETag: the edit's empty validators must not have kept it.
    site.clear_seen();
    let reverted = json(&env.briefwatch(&["poll", "--once", "--all", "--json"]));
    assert_eq!(reverted["new_revisions"], 1, "{reverted}");
    let asked = site
        .seen()
        .into_iter()
        .find(|s| s.path == EN_ARTICLE)
        .unwrap();
    assert!(
        !asked.conditional,
        "sent the edit's (absent) validators only"
    );
    let store = env.store();
    let document = store
        .document(DocumentKey::Url(&site.url(EN_ARTICLE)))
        .unwrap()
        .unwrap();
    let revisions = store.revisions(document.id).unwrap();
    assert_eq!(revisions.len(), 3);
    assert_eq!(revisions[2].content_hash, revisions[0].content_hash);
    assert_ne!(revisions[1].content_hash, revisions[0].content_hash);
}

#[test]
fn a_304_to_a_request_without_validators_is_an_error_not_unchanged() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    site.fault(
        EN_ARTICLE,
        Fault::Custom {
            status: 304,
            headers: Vec::new(),
            body: Vec::new(),
        },
        1,
    );
    let cycle = json(&env.briefwatch_with_failures(&["poll", "--once", "--json"], 1));
    assert_eq!(cycle["new_revisions"], 5, "{cycle}");
    assert_eq!(cycle["outcomes"]["not_modified"], Value::Null, "{cycle}");
    let store = env.store();
    let document = store
        .document(DocumentKey::Url(&site.url(EN_ARTICLE)))
        .unwrap()
        .unwrap();
    assert_eq!(document.revisions, 0);
    drop(store);
    let status = json_lines(&env.briefwatch(&["status", "--json"]));
    assert_eq!(
        status[0]["last_error"]["cause"], "bad_answer",
        "{}",
        status[0]
    );
    // It is asked again soon, not left as "unchanged" for the re-check interval.
    let again = json(&env.briefwatch(&["poll", "--once", "--all", "--json"]));
    assert_eq!(again["new_revisions"], 1, "{again}");
}

#[test]
fn a_poll_right_after_a_backfill_fetches_no_old_article() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    backfill(&env);
    site.clear_seen();
    let cycle = json(&env.briefwatch(&["poll", "--once", "--json"]));
    assert_eq!(cycle["articles"], 0, "{cycle}");
    let articles: Vec<&str> = FIXTURE_EN_ARTICLES
        .iter()
        .chain(FIXTURE_ZH_ARTICLES.iter())
        .copied()
        .collect();
    let asked: Vec<String> = site
        .seen()
        .into_iter()
        .map(|s| s.path)
        .filter(|path| articles.contains(&path.as_str()))
        .collect();
    assert!(asked.is_empty(), "{asked:?}");
    // The 2020 transcripts are in the slow sweep: at least half a sweep (a year) away, each at
    // its own time.
    let now = Utc::now();
    let mut times = Vec::new();
    for path in &articles {
        let (stored, at) = next_check(&env, &site.url(path));
        assert!(at >= now + chrono::Duration::days(182), "{path}: {stored}");
        assert!(at < now + chrono::Duration::days(548), "{path}: {stored}");
        times.push(at);
    }
    times.sort();
    times.dedup();
    assert_eq!(
        times.len(),
        articles.len(),
        "spread, not bunched: {times:?}"
    );
}

#[test]
#[ignore = "needs BRIEFWATCH_CORPUS"]
fn a_poll_right_after_a_corpus_backfill_fetches_no_article_and_the_load_is_small() {
    let root = corpus_site();
    let site = SiteServer::start(root);
    let env = TestEnv::new(&site);
    let output = env.briefwatch_output(&["backfill", "--json"]);
    assert!(
        output
            .status
            .code()
            .is_some_and(|code| code == 0 || code == 3),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    site.clear_seen();
    let cycle = json(&env.briefwatch(&["poll", "--once", "--json"]));
    assert_eq!(cycle["articles"], 0, "{cycle}");
    let asked: Vec<String> = site
        .seen()
        .into_iter()
        .map(|s| s.path)
        .filter(|path| !path.contains("default") && path != "/robots.txt")
        .collect();
    assert!(asked.is_empty(), "{asked:?}");
    // The steady re-check load of this archive, from the documents' own dates.
    let config = env.load_config();
    let store = env.store();
    let dates: Vec<DateTime<Utc>> = store
        .list_documents(None)
        .unwrap()
        .into_iter()
        .filter_map(|d| {
            briefwatch::daemon::schedule::published_instant(
                d.briefing_date,
                None,
                config.schedule.utc_offset,
            )
        })
        .collect();
    assert!(dates.len() > 800, "{}", dates.len());
    let load =
        briefwatch::daemon::schedule::recheck_requests_per_day(dates, Utc::now(), &config.schedule);
    eprintln!(
        "corpus: {} documents, {} in the sweep: {:.2} requests/day ({:.3}/hour)",
        load.documents,
        load.sweep_documents,
        load.recent_per_day + load.sweep_per_day,
        (load.recent_per_day + load.sweep_per_day) / 24.0
    );
    assert!(load.recent_per_day + load.sweep_per_day < 24.0, "{load:?}");
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

/// The test config with every source pointed at `base` instead of the site.
fn config_at(site: &SiteServer, base: &str, extra: &str) -> String {
    test_config(site, extra).replace(&site.url(""), base)
}

#[test]
fn with_the_sources_unreachable_status_names_the_cause_and_the_log_says_it_once() {
    let site = SiteServer::start(fixture_site());
    let base = format!("http://127.0.0.1:{}", closed_port());
    let env = TestEnv::with_config(&config_at(&site, &base, ""));
    let output = env.briefwatch_output(&["poll", "--once", "--json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("2 page(s) failed"), "{stderr}");
    assert!(stderr.contains("host cannot be reached"), "{stderr}");
    // One host, one outage, one warning; never the robots.txt wording.
    assert_eq!(
        stderr
            .matches("127.0.0.1: the host cannot be reached: connection refused; backing off")
            .count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("connection refused"), "{stderr}");
    assert!(!stderr.contains("robots.txt disallows"), "{stderr}");
    let cycle = json(&String::from_utf8_lossy(&output.stdout));
    assert_eq!(cycle["unreachable"], 2, "{cycle}");

    let status = json_lines(&env.briefwatch(&["status", "--json"]));
    assert_eq!(status.len(), 2);
    for source in &status {
        assert_eq!(
            source["last_error"]["cause"], "connection_refused",
            "{source}"
        );
        assert_eq!(source["failing"]["cause"], "connection_refused", "{source}");
        assert!(source["failing"]["since"].is_string(), "{source}");
        assert!(source["failing"]["lasting_seconds"].is_i64(), "{source}");
    }
    let text = env.briefwatch(&["status"]);
    assert!(
        text.contains("failing: the host cannot be reached: connection refused since"),
        "{text}"
    );
    assert!(!text.contains("last error: none"), "{text}");
}

#[test]
fn with_a_name_that_does_not_resolve_status_says_dns() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::with_config(&config_at(&site, "http://briefwatch-nowhere.invalid", ""));
    env.briefwatch_with_failures(&["poll", "--once"], 2);
    let status = json_lines(&env.briefwatch(&["status", "--json"]));
    for source in &status {
        assert_eq!(source["failing"]["cause"], "dns", "{source}");
    }
}

#[test]
fn healthz_says_unhealthy_while_every_source_fails_and_the_log_warns_once() {
    let site = SiteServer::start(fixture_site());
    let base = format!("http://127.0.0.1:{}", closed_port());
    let port = closed_port();
    let config = config_at(
        &site,
        &base,
        "\n[schedule]\ntick = \"200ms\"\n\n[service]\nunhealthy_after = \"0s\"\n",
    )
    .replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    let env = TestEnv::with_config(&config);
    let log = env.dir.path().join("daemon.log");
    let mut child = env
        .command()
        .arg("run")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let mut answer = String::new();
    while started.elapsed() < Duration::from_secs(20) {
        answer = http_get(port, "/healthz").unwrap_or_default();
        if answer.starts_with("HTTP/1.1 503") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Several ticks of a dead network.
    std::thread::sleep(Duration::from_secs(2));
    // The web view's status page names the cause for each source.
    let status_page = http_get(port, "/status").unwrap_or_default();
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}\n{stderr}");
    assert!(answer.contains("every source is failing"), "{answer}");
    assert!(answer.contains("connection refused"), "{answer}");
    assert_eq!(
        stderr
            .matches("127.0.0.1: the host cannot be reached")
            .count(),
        1,
        "warned once per outage: {stderr}"
    );
    assert!(!stderr.contains("robots.txt disallows"), "{stderr}");
    assert!(
        !status_page.contains("No source has been polled yet"),
        "{status_page}"
    );
    assert_eq!(
        status_page
            .matches("class=\"failing\">the host cannot be reached: connection refused")
            .count(),
        2,
        "{status_page}"
    );
}

fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

#[test]
fn a_robots_txt_outage_is_warned_once_and_ends_when_it_answers() {
    let site = SiteServer::start(fixture_site());
    site.fault("/robots.txt", Fault::Status(503), 5);
    let port = closed_port();
    let config = test_config(&site, "\n[schedule]\ntick = \"200ms\"\n").replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    let env = TestEnv::with_config(&config);
    let log = env.dir.path().join("daemon.log");
    let mut child = env
        .command()
        .arg("run")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let mut archived = 0;
    while started.elapsed() < Duration::from_secs(30) && archived < 6 {
        std::thread::sleep(Duration::from_millis(200));
        if env.database().exists() {
            archived = briefwatch::store::Store::open(&env.database())
                .map(|store| count(&store, "revisions"))
                .unwrap_or(0);
        }
    }
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let stderr = std::fs::read_to_string(&log).unwrap();
    let robots_asked = site
        .seen()
        .iter()
        .filter(|s| s.path == "/robots.txt")
        .count();
    assert!(
        robots_asked >= 6,
        "asked again until it answered: {robots_asked}"
    );
    assert_eq!(archived, 6, "fetched once robots.txt answered: {stderr}");
    assert_eq!(
        stderr.matches("robots.txt unavailable").count(),
        1,
        "warned once for the whole outage: {stderr}"
    );
    assert!(!stderr.contains("robots.txt disallows"), "{stderr}");
}

#[test]
fn an_import_of_old_pages_schedules_them_into_the_sweep() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    let pages = env.dir.path().join("pages");
    std::fs::create_dir_all(&pages).unwrap();
    let mut rows =
        vec!["url\tstatus\tlocation\tfile\tbytes\tsha256\tcontent_type\tfetched_date".to_string()];
    let articles: Vec<&str> = FIXTURE_EN_ARTICLES
        .iter()
        .chain(FIXTURE_ZH_ARTICLES.iter())
        .copied()
        .collect();
    for (i, path) in articles.iter().enumerate() {
        let file = format!("pages/{i}.html");
        std::fs::write(env.dir.path().join(&file), site.page(path)).unwrap();
        rows.push(format!(
            "{}\t200\t\t{file}\t-\t-\ttext/html\tSat, 04 Jul 2020 03:55:38 GMT",
            site.url(path)
        ));
    }
    let manifest = env.dir.path().join("MANIFEST.tsv");
    std::fs::write(&manifest, rows.join("\n") + "\n").unwrap();
    let out = json(&env.briefwatch(&["import", manifest.to_str().unwrap(), "--json"]));
    assert_eq!(out["new_revisions"], FIXTURE_ARTICLES, "{out}");
    let now = Utc::now();
    for path in &articles {
        let (stored, at) = next_check(&env, &site.url(path));
        assert!(at >= now + chrono::Duration::days(182), "{path}: {stored}");
    }
    site.clear_seen();
    let cycle = json(&env.briefwatch(&["poll", "--once", "--json"]));
    assert_eq!(cycle["articles"], 0, "{cycle}");
    assert!(
        site.seen()
            .iter()
            .all(|s| !articles.contains(&s.path.as_str())),
        "{:?}",
        site.seen()
    );
}

#[test]
fn a_listing_of_ten_thousand_links_costs_one_pages_worth_per_cycle() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    backfill(&env);
    let flood: Vec<String> = (0..10_000).map(|i| format!("./t9{i:06}.shtml")).collect();
    site.set_page(EN_LISTING, listing_with_links(&site, &flood));
    site.clear_seen();
    let output = env.briefwatch_output(&["poll", "--once", "--all", "--json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let cycle = json(&String::from_utf8_lossy(&output.stdout));
    // The default limit of 50 new items per listing page: the rest wait, with one warning.
    assert_eq!(cycle["new_documents"], 50, "{cycle}");
    assert_eq!(cycle["deferred"], 10_000 - 50, "{cycle}");
    assert!(stderr.contains("deferred=9950"), "{stderr}");
    let requests = site.seen().len();
    assert!(requests <= 2 + 8 + 50, "{requests} requests");
    assert_eq!(count(&env.store(), "documents"), FIXTURE_ARTICLES + 50);
    // The listing back to normal: at most the 50 admitted items drop out of it.
    site.restore_page(EN_LISTING);
    env.briefwatch(&["poll", "--once"]);
    let store = env.store();
    assert!(count(&store, "documents WHERE listed = 0") <= 50);
    assert_eq!(count(&store, "documents"), FIXTURE_ARTICLES + 50);
}
