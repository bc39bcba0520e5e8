//! The archive end to end: the real binary against the loopback site, with faults.

use std::time::{Duration, Instant};

use briefwatch::store::{DocumentKey, EventQuery, Store};
use serde_json::Value;

use crate::support::{
    EN_ARTICLE, EN_LISTING, FIXTURE_EN_ARTICLES, FIXTURE_ZH_ARTICLES, Fault, SiteServer, TestEnv,
    corpus_site, count, fixture_site, test_config,
};

const FIXTURE_ARTICLES: usize = FIXTURE_EN_ARTICLES.len() + FIXTURE_ZH_ARTICLES.len();

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

fn report(text: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Everything that makes up the archive's content, to compare before and after a fault.
fn snapshot(store: &Store) -> Vec<String> {
    let mut rows: Vec<String> = store
        .connection()
        .prepare(
            "SELECT d.url || ' #' || r.seq || ' ' || r.content_hash FROM revisions r
             JOIN documents d ON d.id = r.document_id ORDER BY d.url, r.seq",
        )
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.push(format!("documents {}", count(store, "documents")));
    rows.push(format!("raw_blobs {}", count(store, "raw_blobs")));
    rows
}

fn events(store: &Store) -> Vec<String> {
    let mut events: Vec<String> = store
        .events(&EventQuery {
            limit: 1000,
            ..EventQuery::default()
        })
        .unwrap()
        .into_iter()
        .map(|event| event.kind.to_string())
        .collect();
    events.reverse();
    events
}

fn backfilled(site: &SiteServer) -> TestEnv {
    let env = TestEnv::new(site);
    let out = report(&env.briefwatch(&["backfill", "--json"]));
    assert_eq!(out["new_revisions"], FIXTURE_ARTICLES, "{out}");
    assert_eq!(out["new_documents"], FIXTURE_ARTICLES, "{out}");
    env
}

#[test]
fn backfill_archives_every_item_and_a_second_cycle_changes_nothing() {
    let site = SiteServer::start(fixture_site());
    let env = backfilled(&site);
    // The English pager claims 3 pages; page 2 is missing and ends the walk, as does ZH page 1.
    let seen = site.seen();
    let listing_404s: Vec<&str> = seen
        .iter()
        .filter(|s| s.status == 404)
        .map(|s| s.path.as_str())
        .collect();
    assert_eq!(
        listing_404s,
        [
            "/mfa_eng/xwfw_665399/s2510_665401/2511_665403/default_2.shtml",
            "/web/wjdt_674879/fyrbt_674889/default_1.shtml"
        ]
    );

    let listed = json_lines(&env.briefwatch(&["list", "--json"]));
    assert_eq!(listed.len(), FIXTURE_ARTICLES);
    for document in &listed {
        assert_eq!(document["revisions"], 1, "{document}");
        assert_eq!(document["state"], "live", "{document}");
        for key in ["url", "lang", "kind", "date"] {
            assert!(document.get(key).is_some(), "{key} missing: {document}");
        }
        if document["kind"] == "press_conference" {
            assert!(document["date"].is_string(), "{document}");
        }
    }
    let english = listed.iter().filter(|d| d["lang"] == "en").count();
    assert_eq!(english, FIXTURE_EN_ARTICLES.len());
    let store = env.store();
    let before = snapshot(&store);
    let events_before = events(&store);
    assert_eq!(events_before, vec!["new"; FIXTURE_ARTICLES]);
    drop(store);

    site.clear_seen();
    let again = report(&env.briefwatch(&["poll", "--once", "--all", "--json"]));
    assert_eq!(again["unchanged"], FIXTURE_ARTICLES, "{again}");
    assert_eq!(again["new_revisions"], 0, "{again}");
    assert_eq!(again["new_documents"], 0, "{again}");
    assert_eq!(
        again["outcomes"]["not_modified"],
        FIXTURE_ARTICLES + 2,
        "{again}"
    );
    assert!(
        site.seen()
            .iter()
            .filter(|s| s.path != "/robots.txt")
            .all(|s| s.conditional && s.status == 304)
    );
    let store = env.store();
    assert_eq!(snapshot(&store), before);
    assert_eq!(events(&store), events_before);

    // A second backfill finds nothing to fetch but the listing pages.
    site.clear_seen();
    let resumed = report(&env.briefwatch(&["backfill", "--json"]));
    assert_eq!(resumed["articles"], 0, "{resumed}");
}

#[test]
fn faults_add_nothing_and_lose_nothing_and_the_cycle_goes_on() {
    let site = SiteServer::start(fixture_site());
    let env = backfilled(&site);
    let store = env.store();
    let before = snapshot(&store);
    drop(store);
    let [a, b, c, d, e] = FIXTURE_EN_ARTICLES;
    let [f, g, h] = FIXTURE_ZH_ARTICLES;
    // Every fault at once; each persists past the retries where that matters.
    site.fault(a, Fault::Status(500), 3);
    site.fault(b, Fault::RetryAfter(3600), 1);
    site.fault(c, Fault::Hang(Duration::from_secs(3)), 3);
    site.fault(d, Fault::Reset, 3);
    site.fault(e, Fault::Truncate, 3);
    site.fault(f, Fault::RedirectToErrorPage, 1);
    // A layout neither the selectors nor the content fallback can read: no transcript in sight.
    let changed_layout = "<html><head><title>2020年7月2日外交部发言人赵立坚主持例行记者会</title></head>\
        <body><div class=\"renamed_nav\"><a href=\"/\">首页</a> <a href=\"/web/\">外交部</a></div></body></html>";
    site.set_page(g, changed_layout);
    // The listing loses an item from its middle.
    let listing = String::from_utf8(site.page(EN_LISTING)).unwrap();
    let without_second = listing.replace(
        "<li><a href=\"./t1794266.shtml\" target=\"_blank\">Foreign Ministry Spokesperson Zhao Lijian's Regular Press Conference on July 2, 2020</a></li>",
        "",
    );
    assert_ne!(listing, without_second);
    site.set_page(EN_LISTING, without_second);

    // Five transient failures and one page not understood: exit status 3, counted.
    let cycle = report(&env.briefwatch_with_failures(&["poll", "--once", "--all", "--json"], 6));
    assert_eq!(cycle["new_revisions"], 0, "{cycle}");
    assert_eq!(cycle["articles"], FIXTURE_ARTICLES, "{cycle}");
    assert_eq!(cycle["outcomes"]["transient"], 5, "{cycle}");
    assert_eq!(cycle["outcomes"]["soft_gone"], 1, "{cycle}");
    assert_eq!(cycle["outcomes"]["unparseable"], 1, "{cycle}");
    // One page that was still fine shows the loop went on after all the failures.
    assert_eq!(cycle["unchanged"], 1, "{cycle}");
    let store = env.store();
    assert_eq!(snapshot(&store), before);
    assert_eq!(
        events(&store).last().map(String::as_str),
        Some("extractor_failed")
    );
    let delisted = store
        .document(DocumentKey::Url(&site.url(b)))
        .unwrap()
        .unwrap();
    assert!(!delisted.listed);
    assert_eq!(delisted.state, "live");
    let soft = store
        .document(DocumentKey::Url(&site.url(f)))
        .unwrap()
        .unwrap();
    assert_eq!((soft.state.as_str(), soft.gone_count), ("live", 1));
    drop(store);

    // Faults over, and one real edit: exactly one new revision.
    site.restore_page(g);
    let edited = String::from_utf8(site.page(h))
        .unwrap()
        .replacen("。", "。补充。", 1);
    site.set_page(h, edited);
    let cycle = report(&env.briefwatch(&["poll", "--once", "--all", "--json"]));
    assert_eq!(cycle["new_revisions"], 1, "{cycle}");
    assert_eq!(cycle["unchanged"], FIXTURE_ARTICLES - 1, "{cycle}");
    let store = env.store();
    let document = store
        .document(DocumentKey::Url(&site.url(h)))
        .unwrap()
        .unwrap();
    assert_eq!(document.revisions, 2);
    assert_eq!(count(&store, "revisions"), FIXTURE_ARTICLES as i64 + 1);
    assert_eq!(events(&store).last().map(String::as_str), Some("revised"));
    let soft = store
        .document(DocumentKey::Url(&site.url(f)))
        .unwrap()
        .unwrap();
    assert_eq!(soft.gone_count, 0, "seen again, the count starts over");
}

#[test]
fn taken_down_twice_in_a_row_is_gone_and_coming_back_is_restored() {
    let site = SiteServer::start(fixture_site());
    let env = backfilled(&site);
    site.fault(EN_ARTICLE, Fault::RedirectToErrorPage, 1);
    env.briefwatch(&["poll", "--once", "--all"]);
    site.fault(EN_ARTICLE, Fault::ErrorPage, 1);
    env.briefwatch(&["poll", "--once", "--all"]);
    let store = env.store();
    let document = store
        .document(DocumentKey::Url(&site.url(EN_ARTICLE)))
        .unwrap()
        .unwrap();
    assert_eq!(document.state, "gone");
    // Taken down through the error page: the diff stage names it `soft_gone`.
    assert_eq!(events(&store).last().map(String::as_str), Some("soft_gone"));
    drop(store);
    let listed = json_lines(&env.briefwatch(&["list", "--json"]));
    let gone: Vec<&Value> = listed.iter().filter(|d| d["state"] == "gone").collect();
    assert_eq!(gone.len(), 1);

    env.briefwatch(&["poll", "--once", "--all"]);
    let store = env.store();
    let document = store
        .document(DocumentKey::Url(&site.url(EN_ARTICLE)))
        .unwrap()
        .unwrap();
    assert_eq!((document.state.as_str(), document.revisions), ("live", 1));
    let kinds = events(&store);
    assert_eq!(kinds[kinds.len() - 2..], ["soft_gone", "restored"]);
}

#[test]
fn a_challenge_blocks_the_host_once_and_status_says_so() {
    let site = SiteServer::start(fixture_site());
    let env = backfilled(&site);
    site.fault(EN_LISTING, Fault::Challenge, 1);
    site.clear_seen();
    let cycle = report(&env.briefwatch_with_failures(&["poll", "--once", "--all", "--json"], 1));
    assert_eq!(cycle["outcomes"]["blocked"], 1, "{cycle}");
    // Nothing else was asked of the host after the challenge.
    assert_eq!(
        site.seen()
            .iter()
            .filter(|s| s.path != "/robots.txt")
            .count(),
        1
    );
    let second = report(&env.briefwatch(&["poll", "--once", "--all", "--json"]));
    assert_eq!(second["listings"], 0, "{second}");
    assert_eq!(second["articles"], 0, "{second}");
    let store = env.store();
    assert_eq!(events(&store).iter().filter(|k| *k == "blocked").count(), 1);
    assert_eq!(count(&store, "revisions"), FIXTURE_ARTICLES as i64);
    drop(store);
    let status = json_lines(&env.briefwatch(&["status", "--json"]));
    assert!(
        status.iter().all(|s| s["blocked_until"].is_string()),
        "{status:?}"
    );
    assert_eq!(status[0]["last_error"]["outcome"], "blocked");
    let text = env.briefwatch(&["status"]);
    assert!(text.contains("blocked: until"), "{text}");
}

#[test]
fn show_prints_the_latest_or_a_given_revision() {
    let site = SiteServer::start(fixture_site());
    let env = backfilled(&site);
    let url = site.url(EN_ARTICLE);
    let shown = report(&env.briefwatch(&["show", &url, "--json"]));
    assert_eq!(shown["seq"], 1);
    assert_eq!(shown["briefing"]["date"], "2020-07-03");
    assert!(
        shown["briefing"]["exchanges"].as_array().unwrap().len() > 3,
        "{shown}"
    );
    let text = env.briefwatch(&["show", &url]);
    assert!(
        text.starts_with(
            "Foreign Ministry Spokesperson Zhao Lijian's Regular Press Conference on July 3, 2020"
        ),
        "{text}"
    );
    let id = shown["document_id"].to_string();
    let by_id = report(&env.briefwatch(&["show", &id, "--revision", "1", "--json"]));
    assert_eq!(by_id, shown);
    let missing = env.briefwatch_output(&["show", &id, "--revision", "2"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("has no revision 2"));
    let listed = env.briefwatch(&["list"]);
    assert_eq!(listed.lines().count(), FIXTURE_ARTICLES);
}

#[test]
fn import_keeps_original_fetch_times_and_is_idempotent() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    let root = fixture_site();
    // Files are read only from inside the manifest's folder: copy the pages there.
    let manifest = env.dir.path().join("MANIFEST.tsv");
    let mut rows =
        vec!["url\tstatus\tlocation\tfile\tbytes\tsha256\tcontent_type\tfetched_date".to_string()];
    for path in FIXTURE_EN_ARTICLES
        .iter()
        .chain(&FIXTURE_ZH_ARTICLES)
        .chain(&[EN_LISTING])
    {
        let relative = format!("site{path}");
        let copy = env.dir.path().join(&relative);
        std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
        std::fs::copy(root.join(path.trim_start_matches('/')), &copy).unwrap();
        let size = std::fs::metadata(&copy).unwrap().len();
        rows.push(format!(
            "https://www.fmprc.gov.cn{path}\t200\t\t{relative}\t{size}\t-\ttext/html\tSat, 04 Jul 2020 03:55:38 GMT"
        ));
    }
    rows.push("https://www.fmprc.gov.cn/robots.txt\t302\thttps://www.fmprc.gov.cn/error.htm\trobots.txt\t218\t-\ttext/html\tSat, 04 Jul 2020 03:17:52 GMT".into());
    std::fs::write(&manifest, rows.join("\n") + "\n").unwrap();
    let out = report(&env.briefwatch(&["import", manifest.to_str().unwrap(), "--json"]));
    assert_eq!(out["new_revisions"], FIXTURE_ARTICLES, "{out}");
    assert_eq!(out["listings"], 1, "{out}");
    let store = env.store();
    let url = format!("https://www.fmprc.gov.cn{EN_ARTICLE}");
    let document = store.document(DocumentKey::Url(&url)).unwrap().unwrap();
    let revision = store.latest_revision(document.id).unwrap().unwrap();
    assert_eq!(revision.meta.fetched_at, "2020-07-04T03:55:38Z");
    assert!(document.listed, "the imported listing names it");
    drop(store);
    let again = report(&env.briefwatch(&["import", manifest.to_str().unwrap(), "--json"]));
    assert_eq!(again["new_revisions"], 0, "{again}");
    assert_eq!(count(&env.store(), "revisions"), FIXTURE_ARTICLES as i64);
}

#[test]
fn check_config_names_bad_keys_and_prints_the_effective_config() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    let printed = env.briefwatch(&["check-config"]);
    assert!(
        printed.contains("min_request_interval = \"0s\""),
        "{printed}"
    );
    assert!(printed.contains("gone_after = 2"), "{printed}");
    let bad = TestEnv::with_config(&test_config(
        &site,
        "\n[schedule]\nwindow_strat = \"15:00\"\n",
    ));
    let output = bad.briefwatch_output(&["check-config"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(":24:1:") && stderr.contains("window_strat"),
        "{stderr}"
    );
}

#[test]
fn killed_backfill_resumes_without_damage_or_duplicates() {
    let site = SiteServer::start(fixture_site());
    // Pacing makes the backfill slow enough to kill in the middle.
    let slow = test_config(&site, "").replace(
        "min_request_interval = \"0s\"",
        "min_request_interval = \"250ms\"",
    );
    let env = TestEnv::with_config(&slow);
    let mut child = env.command().arg("backfill").spawn().unwrap();
    let started = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let archived = env
            .database()
            .exists()
            .then(|| Store::open(&env.database()).ok())
            .flatten()
            .map_or(0, |store| count(&store, "revisions"));
        if archived >= 2 || started.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = count(&env.store(), "revisions");
    assert!(
        (1..FIXTURE_ARTICLES as i64).contains(&partial),
        "killed too late: {partial}"
    );

    let out = report(&env.briefwatch(&["backfill", "--json"]));
    assert_eq!(
        out["new_revisions"].as_i64().unwrap(),
        FIXTURE_ARTICLES as i64 - partial,
        "{out}"
    );
    let store = env.store();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert_eq!(count(&store, "revisions"), FIXTURE_ARTICLES as i64);
    assert_eq!(count(&store, "documents"), FIXTURE_ARTICLES as i64);
    assert_eq!(
        count(&store, "events WHERE type = 'new'"),
        FIXTURE_ARTICLES as i64
    );
}

#[test]
fn the_daemon_polls_due_work_and_stops_on_interrupt() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::with_config(&test_config(&site, "\n[schedule]\ntick = \"200ms\"\n"));
    // The first article fails hard in the first cycle; the daemon goes on and gets it later.
    site.fault(EN_ARTICLE, Fault::Status(500), 3);
    // robots.txt fails first: the daemon holds off, then reads it again (after `backoff_max`).
    site.fault("/robots.txt", Fault::Status(503), 1);
    let mut child = env.command().arg("run").spawn().unwrap();
    let started = Instant::now();
    let mut archived = 0;
    while started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
        archived = Store::open(&env.database()).map_or(0, |store| count(&store, "revisions"));
        if archived >= 5 {
            break;
        }
    }
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    // Polling reads the first listing pages only (3 + 3 items); one of them failed.
    assert_eq!(archived, 5);
    let store = env.store();
    let failed = store
        .document(DocumentKey::Url(&site.url(EN_ARTICLE)))
        .unwrap()
        .unwrap();
    assert_eq!(failed.revisions, 0, "retried later, not in this short run");
    assert!(failed.last_checked.is_some());
}

#[test]
#[ignore = "needs BRIEFWATCH_CORPUS"]
fn whole_corpus_backfill_then_an_unchanged_cycle() {
    let root = corpus_site();
    let site = SiteServer::start(root);
    let env = TestEnv::new(&site);
    let out = report(&env.briefwatch(&["backfill", "--json"]));
    // 10 English and 31 Chinese listing pages, then the first missing page of each ends its walk.
    assert_eq!(out["listings"], 41 + 2, "{out}");
    assert_eq!(out["outcomes"]["gone"], 2, "{out}");
    assert_eq!(out["new_revisions"], 865, "{out}");
    let store = env.store();
    assert_eq!(
        count(
            &store,
            "documents d WHERE EXISTS (SELECT 1 FROM revisions r WHERE r.document_id = d.id)"
        ),
        865
    );
    let before = snapshot(&store);
    let events_before = events(&store);
    drop(store);
    let again = report(&env.briefwatch(&["poll", "--once", "--all", "--json"]));
    assert_eq!(again["unchanged"], 865, "{again}");
    assert_eq!(again["new_revisions"], 0, "{again}");
    assert_eq!(again["outcomes"]["not_modified"], 865 + 2, "{again}");
    let store = env.store();
    assert_eq!(snapshot(&store), before);
    assert_eq!(events(&store), events_before);
}

#[test]
fn backfill_since_skips_older_listed_items() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    let out = report(&env.briefwatch(&[
        "backfill",
        "--source",
        "mfa-zh",
        "--since",
        "2020-07-02",
        "--json",
    ]));
    // The Chinese fixture lists 3 July, 2 July and 30 June.
    assert_eq!(out["new_revisions"], 2, "{out}");
    let listed = json_lines(&env.briefwatch(&["list", "--json", "--source", "mfa-zh"]));
    assert_eq!(listed.iter().filter(|d| d["revisions"] == 1).count(), 2);
    assert!(
        !env.briefwatch_output(&["backfill", "--source", "nope"])
            .status
            .success()
    );
}

#[test]
fn unreachable_robots_txt_holds_every_request_to_the_host() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    site.fault("/robots.txt", Fault::Status(503), 1);
    // Neither listing could be asked for: two failed pages.
    let held = report(&env.briefwatch_with_failures(&["poll", "--once", "--json"], 2));
    assert_eq!(
        (held["listings"].as_u64(), held["articles"].as_u64()),
        (Some(0), Some(0)),
        "{held}"
    );
    assert!(site.seen().iter().all(|s| s.path == "/robots.txt"));
    // The failed answer is kept only `backoff_max` (100 ms here); then robots.txt is read again.
    std::thread::sleep(Duration::from_millis(200));
    let cycle = report(&env.briefwatch(&["poll", "--once", "--json"]));
    assert_eq!(cycle["listings"], 2, "{cycle}");
    assert_eq!(cycle["new_revisions"], 6, "{cycle}");
    // A good answer is trusted for a day: the next cycle does not ask again.
    site.clear_seen();
    env.briefwatch(&["poll", "--once", "--all"]);
    assert!(site.seen().iter().all(|s| s.path != "/robots.txt"));
}
