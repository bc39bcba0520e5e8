//! The service started in-process, as a library call: port 0, a clock the test moves, and a
//! control that stops it, against the loopback fixture site.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use briefwatch::daemon::Clock;
use briefwatch::service::{self, Control, Options, Running};
use chrono::{DateTime, Utc};

use crate::smtp_server::SmtpServer;
use crate::support::{
    EN_ARTICLE, EN_LISTING, FIXTURE_ZH_ARTICLES, SiteServer, TestEnv, alert_config, count,
    fixture_site, test_config,
};

/// A clock that stands still until the test moves it.
struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    fn at(text: &str) -> Arc<TestClock> {
        let at = DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc);
        Arc::new(TestClock(Mutex::new(at)))
    }

    fn advance(&self, by: chrono::Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// `GET path` on the service: (status line, body).
fn get(addr: SocketAddr, path: &str) -> std::io::Result<(String, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.lines().next().unwrap_or("").to_string();
    Ok((status, body.to_string()))
}

/// The links of the items of the briefings feed.
fn feed_links(addr: SocketAddr) -> Vec<String> {
    let (status, body) = get(addr, "/feeds/briefings.xml").expect("feed answers");
    assert!(status.contains(" 200 "), "{status}");
    let feed = feed_rs::parser::parse(body.as_bytes()).expect("the feed parses");
    feed.entries
        .iter()
        .flat_map(|entry| entry.links.iter().map(|link| link.href.clone()))
        .collect()
}

/// How often the site was asked for `path`.
fn requests_for(site: &SiteServer, path: &str) -> usize {
    site.seen().iter().filter(|seen| seen.path == path).count()
}

/// Waits up to `limit` for `done`, checking every 50 ms.
fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

/// Stops the service and waits for its end, at most 20 s.
fn stop(control: &Control, running: Running) {
    control.stop();
    let (done, ended) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(running.wait()));
    let result = ended
        .recv_timeout(Duration::from_secs(20))
        .expect("the service ends within 20 s of a stop");
    result.expect("the service ends without error");
}

/// The fixture site, its English listing without the briefing of 3 July (the first item).
fn site_before_july_3() -> SiteServer {
    let site = SiteServer::start(fixture_site());
    let listing = String::from_utf8(site.page(EN_LISTING)).unwrap();
    let item = "<li><a href=\"./t1794629.shtml\" target=\"_blank\">Foreign Ministry Spokesperson Zhao Lijian's Regular Press Conference on July 3, 2020</a></li>";
    assert!(listing.contains(item));
    site.set_page(EN_LISTING, listing.replace(item, ""));
    site
}

/// The archive of `env`, created as `briefwatch run` would.
fn open_archive(env: &TestEnv) -> briefwatch::store::Store {
    std::fs::create_dir_all(&env.state).unwrap();
    briefwatch::store::Store::open(&env.database()).unwrap()
}

/// Friday 3 July 2020, 10:00 in Beijing: an ordinary hour of a working day.
const FRIDAY_MORNING: &str = "2020-07-03T02:00:00Z";

/// Every connection to the archive is closed: the last one to close checkpoints the WAL and
/// removes it.
fn assert_archive_closed(env: &TestEnv) {
    let wal = env.state.join("briefwatch.sqlite3-wal");
    assert!(!wal.exists(), "{} left behind", wal.display());
}

#[test]
fn the_service_in_process_polls_on_its_clock_publishes_reloads_and_stops_cleanly() {
    let site = site_before_july_3();

    // The configured address is taken: the service must listen where the override says.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_port = taken.local_addr().unwrap().port();
    let config = test_config(&site, "\n[schedule]\ntick = \"100ms\"\n").replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{taken_port}\""),
    );
    let env = TestEnv::with_config(&config);
    let config = env.load_config();
    let store = open_archive(&env);
    let clock = TestClock::at(FRIDAY_MORNING);
    let control = Control::default();
    let (config_file, state) = (env.config.clone(), env.state.clone());
    let running = service::start(Options {
        clock: clock.clone(),
        listen: Some("127.0.0.1:0".parse().unwrap()),
        control: control.clone(),
        reload: Box::new(move || {
            let mut config = briefwatch::setup::load(&config_file)?;
            config.archive.state_dir = state.clone();
            Ok(config)
        }),
        ..Options::new(config, store)
    })
    .expect("the service starts");
    let addr = running.addr();
    assert!(addr.ip().is_loopback());
    assert_ne!(addr.port(), 0);
    assert_ne!(addr.port(), taken_port);

    // The listener is bound when `start` returns: the very first request is answered.
    let (status, body) = get(addr, "/healthz").expect("healthz answers right after start");
    assert!(status.contains(" 200 "), "{status} {body}");

    // The first cycle: everything is due, both listings and their articles are archived.
    let archived = wait_until(Duration::from_secs(30), || {
        feed_links(addr).len() == 2 + FIXTURE_ZH_ARTICLES.len()
    });
    assert!(archived, "first cycle in the feed: {:?}", feed_links(addr));
    assert!(!feed_links(addr).contains(&site.url(EN_ARTICLE)));

    // The briefing of 3 July appears on the site; while the clock stands still nothing is due,
    // so ten ticks go by without a request.
    site.restore_page(EN_LISTING);
    std::thread::sleep(Duration::from_millis(300));
    let listing_polls = requests_for(&site, EN_LISTING);
    let requests = site.seen().len();
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        site.seen().len(),
        requests,
        "requests while nothing was due: {:?}",
        &site.seen()[requests..]
    );
    assert_eq!(requests_for(&site, EN_ARTICLE), 0);

    // An hour later by the service's clock the listing is due: it is polled, and the new
    // briefing reaches the feed.
    clock.advance(chrono::Duration::hours(1));
    let published = wait_until(Duration::from_secs(30), || {
        feed_links(addr).contains(&site.url(EN_ARTICLE))
    });
    assert!(
        published,
        "new briefing in the feed: {:?}",
        feed_links(addr)
    );
    assert!(requests_for(&site, EN_LISTING) > listing_polls);
    assert_eq!(requests_for(&site, EN_ARTICLE), 1);
    let (status, _) = get(addr, "/").expect("the web view answers");
    assert!(status.contains(" 200 "), "{status}");

    // A reload reads the configuration again: the feeds are rendered with the new item count.
    let text = std::fs::read_to_string(&env.config).unwrap();
    std::fs::write(&env.config, format!("{text}\n[feeds]\nitems = 2\n")).unwrap();
    control.reload();
    let shortened = wait_until(Duration::from_secs(10), || feed_links(addr).len() == 2);
    assert!(shortened, "feed after the reload: {:?}", feed_links(addr));
    assert_eq!(feed_links(addr)[0], site.url(EN_ARTICLE), "newest first");
    let (status, _) = get(addr, "/healthz").expect("healthz answers after the reload");
    assert!(status.contains(" 200 "), "{status}");

    stop(&control, running);
    // Every task has ended: nothing listens any more.
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "still listening on {addr}"
    );
    assert_archive_closed(&env);
    // The archive reopens with all that was stored.
    let store = env.store();
    assert_eq!(
        count(&store, "documents"),
        3 + FIXTURE_ZH_ARTICLES.len() as i64
    );
    drop(taken);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_in_process_mails_a_new_briefing_and_its_sender_stops_with_it() {
    let smtp = SmtpServer::start().await;
    let site = site_before_july_3();
    let alert = alert_config("takeuchi", r#"["Takeuchi"]"#, smtp.port());
    let env = TestEnv::with_config(&test_config(
        &site,
        &format!("\n[schedule]\ntick = \"100ms\"\n{alert}"),
    ));
    let clock = TestClock::at(FRIDAY_MORNING);
    let control = Control::default();
    // Started from async code, as a test on a runtime of its own does.
    let running = service::start(Options {
        clock: clock.clone(),
        control: control.clone(),
        ..Options::new(env.load_config(), open_archive(&env))
    })
    .expect("the service starts");
    let addr = running.addr();
    tokio::task::spawn_blocking(move || {
        // The first cycle fills the empty archive without alerts.
        let filled = wait_until(Duration::from_secs(30), || {
            feed_links(addr).len() == 2 + FIXTURE_ZH_ARTICLES.len()
        });
        assert!(filled, "first cycle in the feed: {:?}", feed_links(addr));
        assert!(smtp.received().is_empty(), "the first fill mails nothing");

        // The briefing of 3 July names Takeuchi: once it is due and fetched, it is mailed.
        site.restore_page(EN_LISTING);
        clock.advance(chrono::Duration::hours(1));
        let mailed = wait_until(Duration::from_secs(30), || !smtp.received().is_empty());
        assert!(mailed, "no alert mail");
        let received = smtp.received();
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].rcpt_to, ["desk@example.org"]);
        assert!(String::from_utf8_lossy(&received[0].data).contains("Takeuchi"));

        stop(&control, running);
        assert_archive_closed(&env);
        let store = env.store();
        assert_eq!(count(&store, "outbox WHERE state = 'sent'"), 1);
        assert_eq!(count(&store, "outbox WHERE state != 'sent'"), 0);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_taken_port_fails_the_start_naming_the_address() {
    let site = SiteServer::start(fixture_site());
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let env = TestEnv::with_config(&test_config(&site, "").replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"{address}\""),
    ));
    let error = service::start(Options::new(env.load_config(), open_archive(&env)))
        .err()
        .expect("a taken port fails the start");
    let message = format!("{error:#}");
    assert!(
        message.contains(&format!("cannot listen on {address}")),
        "{message}"
    );
    assert!(
        site.seen().is_empty(),
        "nothing fetched before the start failed"
    );
}
