//! The web view over HTTP on loopback: real pages archived by the real binary, then an edited
//! revision and a take-down, served by the web routes; status codes, escaping, search, trends.

use std::net::SocketAddr;

use briefwatch::store::DocumentKey;
use briefwatch::web::{Readers, WebState, routes};

use crate::support::{EN_ARTICLE, SiteServer, TestEnv, fixture_site};

/// The Chinese transcript of the same day as [`EN_ARTICLE`] (3 July 2020).
pub const ZH_SAME_DAY: &str = "/web/wjdt_674879/fyrbt_674889/t1794584.shtml";
/// A Chinese transcript that the test takes down.
pub const ZH_TAKEN_DOWN: &str = "/web/wjdt_674879/fyrbt_674889/t1793459.shtml";
/// Stored text that must never become markup.
pub const SCRIPT_TEXT: &str = "<script>alert(1)</script>";

/// The archive every web test reads: the fixture site backfilled, the 3 July English transcript
/// edited (exchange 4 removed, exchange 2 reworded, curly quotes in exchange 5, a `<script>` in
/// exchange 1's question) and one
/// Chinese transcript taken down, each through the real binary's poll.
pub struct WebFixture {
    pub env: TestEnv,
    pub base: String,
    pub en_id: i64,
    pub zh_id: i64,
    pub gone_id: i64,
    _site: SiteServer,
    _runtime: tokio::runtime::Runtime,
}

fn edit_transcript(page: &str) -> String {
    let mut lines: Vec<String> = page.lines().map(str::to_string).collect();
    let removed = lines
        .iter()
        .position(|l| l.contains("RIA Novosti: According to the State Security Service"))
        .expect("the RIA Novosti question is in the page");
    // The question paragraph and its one answer paragraph.
    lines.drain(removed..removed + 2);
    let mut text = lines.join("\n");
    assert!(text.contains("Indeed, the documentary you are following has been"));
    text = text.replace(
        "Indeed, the documentary you are following has been",
        "Indeed, the documentary you mentioned has been",
    );
    // Typography only: a cosmetic change the diff page folds away.
    assert!(text.contains("creating \"fake news\""));
    text = text.replace(
        "creating \"fake news\"",
        "creating \u{201c}fake news\u{201d}",
    );
    text.replacen(
        "The foreign ministry of Laos",
        "&lt;script&gt;alert(1)&lt;/script&gt; The foreign ministry of Laos",
        1,
    )
}

impl WebFixture {
    pub fn start() -> WebFixture {
        let site = SiteServer::start(fixture_site());
        let env = TestEnv::new(&site);
        env.briefwatch(&["backfill", "--json"]);
        let page = String::from_utf8_lossy(&site.page(EN_ARTICLE)).into_owned();
        site.set_page(EN_ARTICLE, edit_transcript(&page));
        site.remove_page(ZH_TAKEN_DOWN);
        env.briefwatch(&["poll", "--once", "--all", "--json"]);
        env.briefwatch(&["poll", "--once", "--all", "--json"]);
        let store = env.store();
        let id = |path: &str| {
            store
                .document(DocumentKey::Url(&site.url(path)))
                .unwrap()
                .unwrap_or_else(|| panic!("{path} archived"))
                .id
        };
        let (en_id, zh_id, gone_id) = (id(EN_ARTICLE), id(ZH_SAME_DAY), id(ZH_TAKEN_DOWN));
        drop(store);

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let readers = Readers::open(&env.database(), 2).unwrap();
        let app = routes(WebState::new(readers));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        runtime.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        WebFixture {
            env,
            base: format!("http://{addr}"),
            en_id,
            zh_id,
            gone_id,
            _site: site,
            _runtime: runtime,
        }
    }

    /// GET `path`: (status, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        reqwest_blocking_get(&format!("{}{path}", self.base))
    }
}

fn reqwest_blocking_get(url: &str) -> (u16, String) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let response = reqwest::get(url).await.expect("request");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = response.text().await.expect("body");
        if url.contains("/assets/") {
            assert!(content_type.starts_with("text/css"), "{content_type}");
        } else {
            assert_eq!(content_type, "text/html; charset=utf-8", "{url}");
        }
        (status, body)
    })
}

pub fn fixture() -> &'static WebFixture {
    static FIXTURE: std::sync::OnceLock<WebFixture> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(WebFixture::start)
}

/// The text of every `<mark>` in `html`.
fn marks(html: &str) -> Vec<String> {
    html.split("<mark>")
        .skip(1)
        .filter_map(|part| part.split("</mark>").next())
        .map(str::to_string)
        .collect()
}

fn count(html: &str, needle: &str) -> usize {
    html.matches(needle).count()
}

#[test]
fn index_lists_briefings_with_revision_counts_and_marks() {
    let web = fixture();
    let (status, body) = web.get("/");
    assert_eq!(status, 200);
    assert_eq!(
        count(&body, "<li class=\"briefing\""),
        8,
        "every archived transcript"
    );
    let en_row = body
        .split("<li class=\"briefing\"")
        .find(|row| row.contains(&format!("data-id=\"{}\"", web.en_id)))
        .expect("the edited transcript is listed");
    assert!(
        en_row.contains("2 revisions") && en_row.contains(">edited<"),
        "{en_row}"
    );
    let gone_row = body
        .split("<li class=\"briefing\"")
        .find(|row| row.contains(&format!("data-id=\"{}\"", web.gone_id)))
        .expect("the taken-down transcript is still listed");
    assert!(gone_row.contains(">taken down<"), "{gone_row}");

    let (_, zh_only) = web.get("/?lang=zh&month=2020-07");
    assert!(zh_only.contains(&format!("data-id=\"{}\"", web.zh_id)));
    assert!(!zh_only.contains(&format!("data-id=\"{}\"", web.en_id)));
    let (_, by_spokesperson) = web.get("/?spokesperson=Zhao+Lijian&kind=press_conference");
    assert!(
        by_spokesperson.contains(&format!("data-id=\"{}\"", web.zh_id)),
        "赵立坚 counts as Zhao Lijian"
    );
    let (_, nobody) = web.get("/?spokesperson=Hua+Chunying");
    assert!(nobody.contains("No briefing matches"));
}

#[test]
fn briefing_page_sets_questions_apart_with_anchors_links_and_revisions() {
    let web = fixture();
    let (status, body) = web.get(&format!("/b/{}", web.en_id));
    assert_eq!(status, 200);
    assert!(body.contains("id=\"q1\"") && body.contains("href=\"#q1\""));
    assert!(body.contains("<div class=\"question\">") && body.contains("<div class=\"answer\">"));
    assert!(body.contains("<span class=\"asker\">CCTV</span>"));
    assert!(body.contains("Ministry page"));
    assert!(body.contains("/mfa_eng/xwfw_665399/s2510_665401/2511_665403/t1794629.shtml"));
    assert!(
        body.contains(&format!("href=\"/b/{}\"", web.zh_id)),
        "same day in Chinese"
    );
    assert!(body.contains(&format!("/b/{}/diff?from=1&amp;to=2", web.en_id)));
    assert!(body.contains(&format!("/b/{}?rev=1", web.en_id)));
    assert!(
        !body.contains("Chinese students in Belgium"),
        "the latest revision lacks it"
    );
    let (status, first) = web.get(&format!("/b/{}?rev=1", web.en_id));
    assert_eq!(status, 200);
    assert!(first.contains("Chinese students in Belgium"));
    assert!(first.contains("You are reading revision 1 of 2"));

    let (_, zh) = web.get(&format!("/b/{}", web.zh_id));
    assert!(zh.contains("lang=\"zh\""));
    assert!(zh.contains("竹内亮"));
    assert!(
        zh.contains(&format!("href=\"/b/{}\"", web.en_id)),
        "same day in English"
    );
}

#[test]
fn stored_markup_is_shown_as_text() {
    let web = fixture();
    for path in [
        format!("/b/{}", web.en_id),
        "/search?q=alert".to_string(),
        "/search?q=%3Cscript%3E".to_string(),
    ] {
        let (status, body) = web.get(&path);
        assert_eq!(status, 200, "{path}");
        assert!(
            !body.contains(SCRIPT_TEXT),
            "{path} emits the stored <script> as markup"
        );
        assert!(!body.contains("<script"), "{path}");
    }
    let (_, page) = web.get(&format!("/b/{}", web.en_id));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; The foreign ministry of Laos"));
    let (_, found) = web.get("/search?q=alert");
    assert!(
        found.contains("&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;"),
        "{found}"
    );
    let (status, echoed) = web.get("/?lang=%3Cb%3Ebold");
    assert_eq!(status, 400);
    assert!(
        echoed.contains("&lt;b&gt;bold") && !echoed.contains("<b>bold"),
        "{echoed}"
    );
}

#[test]
fn unknown_ids_are_404_pages() {
    let web = fixture();
    for path in [
        "/b/999999".to_string(),
        "/b/abc".to_string(),
        "/b/0".to_string(),
        format!("/b/{}?rev=9", web.en_id),
        "/no/such/page".to_string(),
    ] {
        let (status, body) = web.get(&path);
        assert_eq!(status, 404, "{path}");
        assert!(body.contains("404 Not found"), "{path}: {body}");
    }
    let (_, body) = web.get(&format!("/b/{}?rev=9", web.en_id));
    assert!(body.contains("has no revision 9"));
}

#[test]
fn bad_parameters_are_400_pages_that_say_what_is_wrong() {
    let web = fixture();
    for (path, says) in [
        ("/?lang=fr", "parameter lang: must be en or zh"),
        (
            "/?month=July",
            "parameter month: must be a month like 2020-07",
        ),
        ("/?page=0", "parameter page: must be a whole number"),
        ("/?colour=red", "parameter colour: unknown parameter"),
        (
            "/search?q=x&from=2020-13-01",
            "parameter from: must be a date like 2020-07-03",
        ),
        (
            "/search?q=x&from=2020-07-02&to=2020-07-01",
            "from (2020-07-02) is after to (2020-07-01)",
        ),
        ("/trends?q=x+OR", "OR at character 3 needs a term after it"),
        ("/trends?q=v,w,x,y,z", "at most 4 terms"),
        ("/events?before=soon", "parameter before"),
    ] {
        let (status, body) = web.get(path);
        assert_eq!(status, 400, "{path}");
        assert!(body.contains("400 Bad request"), "{path}");
        assert!(body.contains(says), "{path} should say {says:?}: {body}");
    }
    let (status, body) = web.get(&format!("/b/{}?rev=two", web.en_id));
    assert_eq!(status, 400);
    assert!(body.contains("parameter rev"));
}

#[test]
fn search_finds_phrases_in_both_languages_across_revisions() {
    let web = fixture();
    let (status, body) = web.get("/search?q=%22Chinese+students+in+Belgium%22");
    assert_eq!(status, 200);
    assert!(body.contains("1 passage match"), "{body}");
    assert_eq!(marks(&body), ["Chinese students in Belgium"]);
    assert!(body.contains("changed or removed in a later revision"));
    assert!(
        body.contains(&format!("/b/{}?rev=1#q4", web.en_id)),
        "links to the removed exchange's anchor"
    );

    let (_, zh) = web.get("/search?q=%E7%AB%B9%E5%86%85%E4%BA%AE");
    assert!(zh.contains("1 passage match"), "{zh}");
    assert!(marks(&zh).iter().all(|m| m == "竹内亮") && !marks(&zh).is_empty());
    assert!(zh.contains(&format!("/b/{}#q2", web.zh_id)));

    let (_, two_chars) = web.get("/search?q=%E8%80%81%E6%8C%9D&lang=zh");
    assert!(two_chars.contains("exchange"), "{two_chars}");
    assert!(
        marks(&two_chars).contains(&"老挝".to_string()),
        "a two-character word is found"
    );

    // Chinese, English as now, and English as first published (its answer was reworded since).
    let (_, en) = web.get("/search?q=%22Ryo+Takeuchi%22+OR+%E7%AB%B9%E5%86%85%E4%BA%AE");
    assert!(en.contains("3 passages match"), "{en}");
    assert_eq!(count(&en, "changed or removed in a later revision"), 1);
    let (_, only_zh) =
        web.get("/search?q=%22Ryo+Takeuchi%22+OR+%E7%AB%B9%E5%86%85%E4%BA%AE&lang=zh");
    assert!(only_zh.contains("1 passage match"));
    let (_, later) = web.get("/search?q=Takeuchi&from=2020-07-04");
    assert!(later.contains("0 passages match"));
    let (_, excluded) = web.get("/search?q=documentary+NOT+Takeuchi");
    assert!(!excluded.contains("Ryo Takeuchi, a Japanese director"));
    let (_, someone_else) = web.get("/search?q=Takeuchi&spokesperson=Hua+Chunying");
    assert!(someone_else.contains("0 passages match"));
}

#[test]
fn trends_draw_one_chart_per_term() {
    let web = fixture();
    let (status, body) = web.get("/trends?q=Hong+Kong,%E9%A6%99%E6%B8%AF");
    assert_eq!(status, 200);
    assert_eq!(count(&body, "<svg class=\"chart\""), 2);
    assert_eq!(count(&body, "class=\"questions\" points="), 2);
    assert!(body.contains("<strong>香港</strong>"));
    let (status, empty) = web.get("/trends");
    assert_eq!(status, 200);
    assert!(empty.contains("Taiwan, 台湾"));
}

#[test]
fn events_and_status_show_the_edit_and_the_take_down() {
    let web = fixture();
    let (status, body) = web.get("/events");
    assert_eq!(status, 200);
    assert!(body.contains("data-type=\"revised\""));
    assert!(body.contains(&format!("/b/{}/diff?from=1&amp;to=2", web.en_id)));
    assert!(body.contains("data-type=\"gone\""));
    assert!(
        !body.contains("data-type=\"new\""),
        "first archiving is not an event here"
    );
    let (status, page) = web.get("/status");
    assert_eq!(status, 200);
    assert!(page.contains("mfa-en") && page.contains("mfa-zh"));
    assert!(
        page.contains(&format!("/b/{}", web.gone_id)),
        "taken-down list"
    );
    let (status, css) = web.get("/assets/briefwatch.css");
    assert_eq!(status, 200);
    assert!(css.contains("@media (max-width: 700px)"));
}

#[test]
fn search_command_prints_text_and_json() {
    let web = fixture();
    let text = web.env.briefwatch(&["search", "\"Ryo Takeuchi\""]);
    assert!(text.starts_with("2 matching passages"), "{text}");
    assert!(
        text.contains(&format!("/b/{}?rev=1#q2", web.en_id)),
        "{text}"
    );
    assert!(text.contains("*Ryo Takeuchi*"));
    let json: serde_json::Value =
        serde_json::from_str(
            &web.env
                .briefwatch(&["search", "竹内亮", "--json", "--lang", "zh"]),
        )
        .unwrap();
    assert_eq!(json["total"], 1);
    assert_eq!(json["hits"][0]["ordinal"], 2);
    assert_eq!(json["hits"][0]["lang"], "zh");
    let bad = web.env.briefwatch_output(&["search", "\"unclosed"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("never closed"));
}

#[test]
fn reindex_rebuilds_a_lost_search_index_from_the_archive() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    env.briefwatch(&["backfill"]);
    let search = |query: &str| -> serde_json::Value {
        serde_json::from_str(&env.briefwatch(&["search", query, "--json", "--limit", "1000"]))
            .unwrap()
    };
    let before = (search("Taiwan"), search("香港"));
    assert!(before.0["total"].as_u64().unwrap() > 0 && before.1["total"].as_u64().unwrap() > 0);

    // The index lost, as a damaged file or a careless restore would leave it.
    env.store()
        .connection()
        .execute_batch(
            "INSERT INTO exchange_search(exchange_search) VALUES ('delete-all');
             INSERT INTO text_search(text_search) VALUES ('delete-all');",
        )
        .unwrap();
    assert_eq!(search("Taiwan")["total"], 0);

    let out = env.briefwatch(&["search", "--reindex"]);
    let revisions = crate::support::count(&env.store(), "revisions");
    assert_eq!(
        out.trim(),
        format!("search index rebuilt: {revisions} revisions indexed")
    );
    assert_eq!((search("Taiwan"), search("香港")), before);

    let both = env.briefwatch_output(&["search", "Taiwan", "--reindex"]);
    assert!(!both.status.success(), "a query and --reindex together");
}

#[test]
fn diff_page_shows_removed_added_and_reworded_exchanges() {
    let web = fixture();
    let (status, body) = web.get(&format!("/b/{}/diff?from=1&to=2", web.en_id));
    assert_eq!(status, 200);
    let removed = body
        .split("<div class=\"diff-row removed\"")
        .nth(1)
        .expect("a removed exchange");
    let removed = removed.split("<div class=\"diff-row").next().unwrap();
    assert!(removed.contains("RIA Novosti") && removed.contains("Chinese students in Belgium"));
    assert!(
        removed.contains("The Chinese embassy in Belgium has responded to this"),
        "the removed answer is quoted in full"
    );
    assert!(body.contains("<del>are following</del>"), "{body}");
    assert!(body.contains("<ins>mentioned</ins>"));
    assert!(
        body.contains("&lt;script&gt;"),
        "stored markup in a diff is text"
    );
    assert!(!body.contains(SCRIPT_TEXT));
    assert!(body.contains("Show 1 cosmetic change"), "{body}");
    assert!(
        !body.contains("\u{201c}fake news"),
        "cosmetic edits are folded away"
    );
    let (_, shown) = web.get(&format!("/b/{}/diff?from=1&to=2&cosmetic=1", web.en_id));
    assert!(shown.contains("Hide 1 cosmetic change"));
    assert!(shown.contains("\u{201c}"), "{shown}");
    let (status, backwards) = web.get(&format!("/b/{}/diff?from=2&to=1", web.en_id));
    assert_eq!(status, 200);
    assert!(
        backwards.contains("diff-row added"),
        "going back, the exchange is added"
    );

    for (path, code, says) in [
        (
            format!("/b/{}/diff?from=1&to=1", web.en_id),
            400,
            "two different revisions",
        ),
        (
            format!("/b/{}/diff?from=a&to=2", web.en_id),
            400,
            "parameter from",
        ),
        (
            format!("/b/{}/diff?from=1&to=9", web.en_id),
            404,
            "has no revision 9",
        ),
        (
            "/b/999999/diff?from=1&to=2".to_string(),
            404,
            "there is no briefing 999999",
        ),
    ] {
        let (status, body) = web.get(&path);
        assert_eq!(status, code, "{path}");
        assert!(body.contains(says), "{path} should say {says:?}");
    }
}

/// Whole corpus: the index finds exactly the passages (each exchange, and each briefing's own text:
/// title and opening or statement) a plain scan of the stored records finds,
/// for Chinese words of two to four characters and English names, and stays small beside the
/// archive.
#[test]
#[ignore = "needs BRIEFWATCH_CORPUS"]
fn whole_corpus_search_matches_a_scan_and_the_index_stays_small() {
    let (env, _) = TestEnv::corpus_imported();

    let store = env.store();
    let conn = store.connection();
    let mut texts: Vec<String> = Vec::new();
    let mut stmt = conn.prepare("SELECT id FROM revisions").unwrap();
    let rows = stmt.query_map([], |row| row.get::<_, i64>(0)).unwrap();
    for row in rows {
        let id = row.unwrap();
        let briefing = store.revision_by_id(id).unwrap().unwrap().briefing;
        for exchange in briefing.passages() {
            texts.push(format!(
                "{}\n{}",
                exchange.question.join("\n"),
                exchange.answer.join("\n")
            ));
        }
    }
    drop(stmt);
    assert!(texts.len() > 7000, "{} passages", texts.len());
    let total = |q: &str| {
        let query = briefwatch::search::Query::parse(q).unwrap();
        briefwatch::search::search(conn, &query, &Default::default(), 0, 0)
            .unwrap()
            .total
    };
    for word in ["台湾", "香港", "一带一路", "新冠肺炎", "蓬佩奥"] {
        let scanned = texts.iter().filter(|t| t.contains(word)).count();
        assert!(scanned > 0, "{word}");
        assert_eq!(total(word), scanned, "{word}");
    }
    for name in ["Pompeo", "Huawei", "Xinjiang"] {
        let pattern = regex::Regex::new(&format!(r"(?i)\b{name}\b")).unwrap();
        let scanned = texts.iter().filter(|t| pattern.is_match(t)).count();
        assert!(scanned > 0, "{name}");
        assert_eq!(total(name), scanned, "{name}");
    }
    let phrase = regex::Regex::new(r"(?i)\bSouth\s+China\s+Sea\b").unwrap();
    assert_eq!(
        total("\"South China Sea\""),
        texts.iter().filter(|t| phrase.is_match(t)).count()
    );
    drop(store);

    // Size: the database with the index against a vacuumed copy without it.
    let path = env.database();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")
        .unwrap();
    drop(conn);
    let with_index = std::fs::metadata(&path).unwrap().len();
    let copy = env.dir.path().join("without-index.sqlite3");
    std::fs::copy(&path, &copy).unwrap();
    let conn = rusqlite::Connection::open(&copy).unwrap();
    briefwatch::store::register_search_tokenizer(&conn).unwrap();
    conn.execute_batch(
        "DROP TABLE exchange_search; DROP TABLE text_search; DROP INDEX exchanges_search_rowid; VACUUM;",
    )
    .unwrap();
    drop(conn);
    let without = std::fs::metadata(&copy).unwrap().len();
    let share = (with_index - without) as f64 / without as f64;
    eprintln!(
        "search index: {with_index} bytes with, {without} without: +{:.1} %",
        share * 100.0
    );
    // The index is about 7 MB (+39 %): every exchange and each briefing's own text (title,
    // opening remarks, statements), a second token for each word written in capitals, and the
    // exchanges' row ids; it stores no text of its own. What a reader feels is the whole file,
    // held under 36 MB (about four times urlwatch's text-only cache of the same pages).
    assert!(
        share <= 0.8,
        "the index adds {:.1} % to the database",
        share * 100.0
    );
    assert!(with_index < 36 << 20, "the database is {with_index} bytes");
}

/// `briefwatch run` serves the pages beside the feeds, from the archive it keeps filling.
#[test]
fn the_daemon_serves_the_pages_beside_the_feeds() {
    let site = SiteServer::start(fixture_site());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = crate::support::test_config(&site, "\n[schedule]\ntick = \"200ms\"\n").replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    let public = tempfile::tempdir().unwrap();
    let env = TestEnv::with_config(&format!(
        "{config}\n[feeds]\nout_dir = \"{}\"\n",
        public.path().join("feeds").display()
    ));
    let child = env
        .command()
        .arg("run")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    let mut found = false;
    while started.elapsed() < std::time::Duration::from_secs(30) && !found {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        found = runtime.block_on(async {
            let Ok(response) =
                reqwest::get(format!("{base}/search?q=%E7%AB%B9%E5%86%85%E4%BA%AE")).await
            else {
                return false;
            };
            response.status() == 200
                && response
                    .text()
                    .await
                    .unwrap_or_default()
                    .contains("1 passage match")
        });
    }
    let (status, index) = reqwest_blocking_get(&format!("{base}/"));
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let output = child.wait_with_output().unwrap();
    let exit = output.status;
    assert!(
        found,
        "the daemon's search found the Chinese phrase once it was archived: {}\n{index}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(status, 200);
    assert!(index.contains("<li class=\"briefing\""));
    assert!(exit.success(), "{exit:?}");
}
