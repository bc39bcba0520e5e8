//! Search and alerts over every text of a briefing (titles, opening remarks, statements as well as
//! exchanges), rules without `[smtp]`, acronyms, and the index's upgrade: the real binary against
//! the loopback fixture site (and SMTP server), plus whole-corpus checks.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::smtp_server::SmtpServer;
use crate::support::{SiteServer, TestEnv, alert_config, count, fixture_site, test_config};

/// The Chinese statement of 30 June 2020 on the Hong Kong national security law (no exchanges).
const STATEMENT: &str = "/web/wjdt_674879/fyrbt_674889/t1793459.shtml";
/// The Chinese press conference of 2 July 2020, whose opening announces the China-Arab forum.
const ZH_2_JULY: &str = "/web/wjdt_674879/fyrbt_674889/t1794237.shtml";
/// Only in the opening remarks of 2 July 2020.
const OPENING_PHRASE: &str = "中国—阿拉伯国家合作论坛第九届部长级会议";
/// The second paragraph of the statement, and words of its first and last ones.
const STATEMENT_TERM: &str = "由乱及治";
const STATEMENT_FIRST: &str = "国务院港澳办";
const STATEMENT_LAST: &str = "任何妄想利用香港";

/// A rule to `desk@example.org` and no `[smtp]` section.
fn rule_without_smtp(name: &str, terms: &str) -> String {
    format!(
        "\n[[alert]]\nname = \"{name}\"\nterms = {terms}\nrecipients = [\"desk@example.org\"]\n"
    )
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("{error}: {text}"))
}

/// The marked runs of a search hit's paragraphs.
fn marked(paragraphs: &serde_json::Value) -> Vec<String> {
    paragraphs
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p.as_array().unwrap().iter())
        .filter(|s| s["marked"] == true)
        .map(|s| s["text"].as_str().unwrap().to_string())
        .collect()
}

fn document_id(env: &TestEnv, url: &str) -> i64 {
    env.store()
        .connection()
        .query_row("SELECT id FROM documents WHERE url = ?1", [url], |row| {
            row.get(0)
        })
        .unwrap_or_else(|error| panic!("{url} is archived: {error}"))
}

#[test]
fn an_opening_only_phrase_is_found_by_search_and_by_an_alert_rule() {
    let site = SiteServer::start(fixture_site());
    let rule = rule_without_smtp("forum", &format!("['\"{OPENING_PHRASE}\"']"));
    let env = TestEnv::with_config(&test_config(&site, &rule));
    env.briefwatch(&["backfill"]);
    let id = document_id(&env, &site.url(ZH_2_JULY));

    let found = json(&env.briefwatch(&["search", &format!("\"{OPENING_PHRASE}\""), "--json"]));
    assert_eq!(found["total"], 1, "{found}");
    let hit = &found["hits"][0];
    assert_eq!(hit["passage"], "text", "{hit}");
    assert_eq!(hit["ordinal"], 0);
    assert_eq!(
        hit["url"],
        site.url(ZH_2_JULY),
        "hits carry the ministry's URL"
    );
    assert_eq!(
        hit["view"],
        format!("/b/{id}#opening"),
        "and briefwatch's view"
    );
    assert_eq!(
        hit["answer"].as_array().unwrap().len(),
        1,
        "quoted by its one matching paragraph, without the title: {hit}"
    );
    assert_eq!(marked(&hit["answer"]), [OPENING_PHRASE]);
    let text = env.briefwatch(&["search", &format!("\"{OPENING_PHRASE}\"")]);
    assert!(text.starts_with("1 matching passage"), "{text}");
    assert!(
        text.contains(&format!("/b/{id}#opening 开场发布")),
        "{text}"
    );

    let tested = json(&env.briefwatch(&["alerts", "test", "forum", "--json"]));
    let hits = tested.as_array().unwrap();
    assert_eq!(hits.len(), 1, "{tested}");
    assert_eq!(hits[0]["passage"], "text");
    assert_eq!(hits[0]["asker"], "开场发布");
    assert_eq!(hits[0]["url"], site.url(ZH_2_JULY));
    let paragraphs = hits[0]["paragraphs"].as_array().unwrap();
    assert_eq!(paragraphs.len(), 1, "{tested}");
    assert!(
        paragraphs[0]
            .as_str()
            .unwrap()
            .contains(&format!("**{OPENING_PHRASE}**")),
        "{tested}"
    );
    let shown = env.briefwatch(&["alerts", "test", "forum"]);
    assert!(shown.contains("开场发布 — terms:"), "{shown}");
    assert!(
        shown.contains("rule \"forum\": 1 passage in 1 of"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_matched_by_an_alert_is_quoted_by_its_paragraph_in_the_mail_and_the_feed() {
    let smtp = SmtpServer::start().await;
    let site = SiteServer::start(fixture_site());
    let alert = alert_config("order", &format!("[\"{STATEMENT_TERM}\"]"), smtp.port());
    let env = TestEnv::with_config(&test_config(&site, &alert));
    let backfill = env.briefwatch(&["backfill", "--alerts"]);
    assert!(backfill.contains("alerts: 1 sent"), "{backfill}");

    let received = smtp.received();
    assert_eq!(received.len(), 1);
    let mail = mail_parser::MessageParser::default()
        .parse(&received[0].data)
        .expect("a mail");
    let subject = mail.subject().unwrap();
    assert!(subject.ends_with(": order (statement)"), "{subject}");
    let text = mail.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(
        text.contains("Statement matched your rules order."),
        "{text}"
    );
    assert!(
        text.contains("-- Statement (new) · rules: order · terms: 由乱及治\n"),
        "{text}"
    );
    assert!(
        text.contains("> 全国人大常委会制定香港国安法") && text.contains("**由乱及治**"),
        "the matching paragraph, quoted: {text}"
    );
    assert!(
        !text.contains(STATEMENT_FIRST) && !text.contains(STATEMENT_LAST),
        "only the matching paragraph: {text}"
    );
    assert!(text.contains(&site.url(STATEMENT)), "{text}");
    let html = mail.body_html(0).unwrap();
    assert!(html.contains("<h3>Statement (new)</h3>"), "{html}");
    assert!(html.contains("<mark>由乱及治</mark>"), "{html}");
    assert!(!html.contains(STATEMENT_FIRST) && !html.contains(STATEMENT_LAST));

    let out = env.dir.path().join("feeds");
    env.briefwatch(&["feeds", "--out", out.to_str().unwrap()]);
    let feed = std::fs::read_to_string(out.join("keywords/order.xml")).unwrap();
    assert_eq!(feed.matches("<item>").count(), 1, "{feed}");
    assert!(feed.contains("<title>由乱及治: 谈话 ("), "{feed}");
    assert!(
        feed.contains("&lt;mark&gt;由乱及治&lt;/mark&gt;")
            || feed.contains("<mark>由乱及治</mark>"),
        "{feed}"
    );
    assert!(feed.contains("全国人大常委会制定香港国安法"), "{feed}");
    assert!(
        !feed.contains(STATEMENT_FIRST) && !feed.contains(STATEMENT_LAST),
        "only the matching paragraph: {feed}"
    );
}

#[test]
fn rules_work_without_smtp_and_only_delivery_asks_for_it() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::with_config(&test_config(
        &site,
        &format!(
            "{}\n[schedule]\ntick = \"200ms\"\n",
            rule_without_smtp("hk", "[\"香港\"]")
        ),
    ));
    let checked = env.briefwatch_output(&["check-config"]);
    assert!(checked.status.success(), "rules without [smtp] are valid");
    assert!(
        String::from_utf8_lossy(&checked.stderr)
            .contains("no [smtp] section: the alert rules serve"),
        "{checked:?}"
    );

    // The daemon archives and queues nothing: there is nothing to deliver with.
    let mut child = env.command().arg("run").spawn().unwrap();
    let started = std::time::Instant::now();
    let revisions =
        || briefwatch::store::Store::open(&env.database()).map_or(0, |s| count(&s, "revisions"));
    while revisions() < 6 && started.elapsed() < std::time::Duration::from_secs(30) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let archived = revisions();
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    assert!(child.wait().unwrap().success());
    assert!(archived >= 6, "the daemon archived the fixture site");
    env.briefwatch(&["poll", "--once", "--all"]);
    assert_eq!(
        count(&env.store(), "outbox"),
        0,
        "nothing is queued without [smtp]"
    );

    let shown = env.briefwatch(&["alerts", "test", "hk"]);
    assert!(shown.contains(&site.url(STATEMENT)), "{shown}");
    assert!(shown.contains("谈话 — terms: 香港"), "{shown}");

    let out = env.dir.path().join("feeds");
    env.briefwatch(&["feeds", "--out", out.to_str().unwrap()]);
    let feed = std::fs::read_to_string(out.join("keywords/hk.xml")).unwrap();
    assert!(feed.contains("香港: 谈话 ("), "{feed}");

    for args in [
        &["backfill", "--alerts"][..],
        &["poll", "--once", "--alerts"],
        &["run", "--alerts"],
    ] {
        let refused = env.briefwatch_output(args);
        assert!(!refused.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            stderr.contains("--alerts asks for alert mail, but the config has no [smtp] section"),
            "{args:?}: {stderr}"
        );
    }
    let send = env.briefwatch_output(&["alerts", "send-test", "me@example.org"]);
    assert!(!send.status.success());
    assert!(String::from_utf8_lossy(&send.stderr).contains("no [smtp] section"));
}

#[test]
fn an_acronym_matches_the_same_passages_in_search_and_in_alerts() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::with_config(&test_config(&site, &rule_without_smtp("who", "[\"WHO\"]")));
    env.briefwatch(&["backfill"]);
    let searched = json(&env.briefwatch(&["search", "WHO", "--json", "--limit", "1000"]));
    let by_search: BTreeSet<(String, u64)> = searched["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["url"].as_str().unwrap().into(),
                h["ordinal"].as_u64().unwrap(),
            )
        })
        .collect();
    let tested = json(&env.briefwatch(&["alerts", "test", "who", "--json"]));
    let by_alert: BTreeSet<(String, u64)> = tested
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["url"].as_str().unwrap().into(),
                h["ordinal"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(!by_search.is_empty(), "the fixture mentions the WHO");
    assert_eq!(by_search, by_alert);
    let marks: BTreeSet<String> = searched["hits"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| {
            marked(&h["question"])
                .into_iter()
                .chain(marked(&h["answer"]))
        })
        .collect();
    assert_eq!(marks, BTreeSet::from(["WHO".to_string()]));
    let lower = json(&env.briefwatch(&["search", "who", "--json"]));
    assert!(
        lower["total"].as_u64().unwrap() > by_search.len() as u64,
        "a word in lower case matches any case: {}",
        lower["total"]
    );
}

#[test]
fn the_search_page_keeps_a_bad_query_in_its_form_and_says_what_is_wrong() {
    let web = crate::web::fixture();
    for (q, says) in [
        (
            "%22South+China",
            "the quote opened at character 1 is never closed",
        ),
        ("NOT+Japan", "a query cannot only exclude"),
        (
            "(Hong+Kong",
            "the parenthesis opened at character 1 is never closed",
        ),
    ] {
        let (status, body) = web.get(&format!("/search?q={q}&lang=en"));
        assert_eq!(status, 400, "{q}");
        assert!(body.contains(says), "{q} should say {says:?}: {body}");
        let typed = q.replace('+', " ").replace("%22", "&quot;");
        assert!(
            body.contains(&format!("name=\"q\" value=\"{typed}\"")),
            "the form holds the query as typed: {body}"
        );
        assert!(
            body.contains("<option value=\"en\" selected>"),
            "and the other fields: {body}"
        );
        assert!(!body.contains("400 Bad request"), "{body}");
    }

    // A hit in an opening links to the opening of the briefing's page.
    let phrase: String = url::form_urlencoded::byte_serialize(OPENING_PHRASE.as_bytes()).collect();
    let (status, body) = web.get(&format!("/search?q={phrase}"));
    assert_eq!(status, 200);
    assert!(body.contains("1 passage match"), "{body}");
    assert!(body.contains("开场发布"), "{body}");
    let link = body
        .split("class=\"anchor\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link to the hit");
    assert!(link.ends_with("#opening"), "{link}");
    let (status, page) = web.get(link.split('#').next().unwrap());
    assert_eq!(status, 200);
    assert!(
        page.contains("id=\"opening\"") && page.contains(OPENING_PHRASE),
        "{page}"
    );
}

/// The number of schema migrations of the previous release.
const PREVIOUS_RELEASE_SCHEMA: i64 = 6;

/// Makes `path`'s schema what the previous release wrote (its search tables with one column, no
/// text passages, no hash of them, an empty index; none of the tables added since), as if the
/// archive had been written before. The outbox's delivery channel
/// column stays: its migration finds it in place and leaves it.
fn downgrade_search_index(path: &Path) {
    // The plain-text rows came after the index of every text: undo them first.
    crate::sql_archive::make_old(path);
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "BEGIN;
         DROP TABLE suspects;
         ALTER TABLE fetch_log DROP COLUMN found_by;
         ALTER TABLE fetch_log DROP COLUMN selector;
         DROP TABLE exchange_search;
         CREATE VIRTUAL TABLE exchange_search USING fts5(
             body, content='', columnsize=0,
             tokenize='porter unicode61 remove_diacritics 2');
         INSERT INTO exchange_search(exchange_search, rank) VALUES ('automerge', 8);
         DROP TABLE search_spans;
         CREATE TABLE search_spans (
             first_rowid INTEGER PRIMARY KEY,
             revision_id INTEGER NOT NULL UNIQUE REFERENCES revisions(id),
             span INTEGER NOT NULL);
         PRAGMA user_version = {PREVIOUS_RELEASE_SCHEMA};
         COMMIT;"
    ))
    .unwrap();
}

#[test]
fn an_archive_of_the_previous_release_is_reindexed_with_every_text_on_upgrade() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    env.briefwatch(&["backfill"]);
    downgrade_search_index(&env.database());
    let found = json(&env.briefwatch(&["search", &format!("\"{OPENING_PHRASE}\""), "--json"]));
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["hits"][0]["passage"], "text");
    let statement = json(&env.briefwatch(&["search", STATEMENT_TERM, "--json"]));
    assert_eq!(statement["total"], 1, "{statement}");
    assert_eq!(statement["hits"][0]["url"], site.url(STATEMENT));
    let exchanges = json(&env.briefwatch(&["search", "\"Ryo Takeuchi\"", "--json"]));
    assert_eq!(exchanges["total"], 1, "exchanges are indexed again too");
}

// Whole corpus: `BRIEFWATCH_CORPUS=/path/to/corpus cargo test --test it every_text -- --include-ignored`.

/// The corpus imported once into an archive with a rule on 香港 and no `[smtp]`.
fn corpus_archive() -> &'static TestEnv {
    static ARCHIVE: OnceLock<TestEnv> = OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let corpus = std::env::var_os("BRIEFWATCH_CORPUS")
            .map(PathBuf::from)
            .expect("BRIEFWATCH_CORPUS must name the corpus directory for this test");
        let manifest = corpus.join("mfa-2020/MANIFEST.tsv");
        assert!(
            manifest.is_file(),
            "no corpus manifest at {}",
            manifest.display()
        );
        let site = SiteServer::start(fixture_site());
        let env = TestEnv::with_config(&test_config(&site, &rule_without_smtp("hk", "[\"香港\"]")));
        env.briefwatch(&["import", manifest.to_str().unwrap()]);
        env
    })
}

#[test]
#[ignore = "needs BRIEFWATCH_CORPUS"]
fn corpus_an_alert_on_hong_kong_lists_the_30_june_statement() {
    let env = corpus_archive();
    let hits = json(&env.briefwatch(&["alerts", "test", "hk", "--json"]));
    let statement = hits
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["url"] == format!("https://www.fmprc.gov.cn{STATEMENT}"))
        .unwrap_or_else(|| panic!("the 30 June statement is listed"));
    assert_eq!(statement["passage"], "text");
    assert_eq!(
        statement["title"],
        "外交部发言人就全国人大常委会审议通过香港国安法发表谈话"
    );
    let paragraphs = statement["paragraphs"].as_array().unwrap();
    assert!(
        paragraphs
            .iter()
            .all(|p| p.as_str().unwrap().contains("**香港**"))
    );
    assert!(
        paragraphs
            .iter()
            .any(|p| p.as_str().unwrap().contains("**香港**国安法充分考虑")),
        "{paragraphs:?}"
    );
    let shown = env.briefwatch(&["alerts", "test", "hk"]);
    assert!(shown.contains("谈话 — terms: 香港"), "{shown}");
}

#[test]
#[ignore = "needs BRIEFWATCH_CORPUS"]
fn corpus_a_phrase_only_in_the_2_july_opening_is_found() {
    let env = corpus_archive();
    let found = json(&env.briefwatch(&["search", &format!("\"{OPENING_PHRASE}\""), "--json"]));
    assert_eq!(found["total"], 1, "{found}");
    let hit = &found["hits"][0];
    assert_eq!(hit["passage"], "text");
    assert_eq!(hit["date"], "2020-07-02");
    assert_eq!(hit["url"], format!("https://www.fmprc.gov.cn{ZH_2_JULY}"));
    assert_eq!(marked(&hit["answer"]), [OPENING_PHRASE]);
    let id = document_id(env, &format!("https://www.fmprc.gov.cn{ZH_2_JULY}"));
    assert_eq!(hit["view"], format!("/b/{id}#opening"));
}
