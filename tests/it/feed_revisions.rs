//! `revisions.xml` from the archive: one item per change a reader cares about. A revision is one
//! item (its removed exchanges quoted once, its effect on the pairing as one line); a page taken
//! down says what was seen and links to briefwatch's copy as well as to the ministry.

use briefwatch::store::DocumentKey;

use crate::support::{
    EN_ARTICLE, FIXTURE_ZH_ARTICLES, Fault, SiteServer, TestEnv, fixture_site, test_config,
};

/// `public_url` of the test config: the HTTP server listens on any port.
const PUBLIC: &str = "http://127.0.0.1:0";

struct Entry {
    title: String,
    link: String,
    html: String,
    text: String,
}

fn revisions(env: &TestEnv) -> Vec<Entry> {
    let out = env.dir.path().join("public");
    env.briefwatch(&["feeds", "--out", out.to_str().unwrap()]);
    let xml = std::fs::read(out.join("revisions.xml")).unwrap();
    feed_rs::parser::parse(xml.as_slice())
        .expect("feed-rs parses revisions.xml")
        .entries
        .into_iter()
        .map(|entry| {
            let html = entry.summary.map(|summary| summary.content).unwrap();
            Entry {
                title: entry.title.map(|title| title.content).unwrap(),
                link: entry.links[0].href.clone(),
                text: scraper::Html::parse_fragment(&html)
                    .root_element()
                    .text()
                    .collect(),
                html,
            }
        })
        .collect()
}

fn document_id(env: &TestEnv, url: &str) -> i64 {
    env.store()
        .document(DocumentKey::Url(url))
        .unwrap()
        .unwrap()
        .id
}

#[test]
fn removing_one_exchange_adds_exactly_one_item() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    env.briefwatch(&["backfill"]);
    assert!(revisions(&env).is_empty());

    let page = String::from_utf8(site.page(EN_ARTICLE)).unwrap();
    let kept: Vec<&str> = page
        .lines()
        .filter(|line| {
            !line.contains(">Beijing Youth Daily</SPAN>")
                && !line.contains("Indeed, the documentary")
        })
        .collect();
    assert_eq!(
        kept.len() + 2,
        page.lines().count(),
        "fixture layout changed"
    );
    site.set_page(EN_ARTICLE, kept.join("\n"));
    let summary = env.briefwatch(&["poll", "--once", "--all"]);
    assert!(
        summary.contains(", 1 new revision, ") && !summary.contains("1 new revisions"),
        "{summary}"
    );

    let items = revisions(&env);
    let titles: Vec<&str> = items.iter().map(|item| item.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Revised, 1 exchange removed: Foreign Ministry Spokesperson Zhao Lijian's Regular Press Conference on July 3, 2020"
        ]
    );
    let item = &items[0];
    assert!(
        item.text
            .contains("The transcript was revised (version 1 → 2): 1 exchange was removed."),
        "{}",
        item.text
    );
    assert_eq!(
        item.text
            .matches("Ryo Takeuchi, a Japanese director")
            .count(),
        1,
        "the removed exchange is quoted once: {}",
        item.text
    );
    let pairing: Vec<&str> = item
        .text
        .split_inclusive('.')
        .filter(|sentence| sentence.contains("Pairing with the Chinese transcript"))
        .collect();
    assert_eq!(pairing.len(), 1, "{}", item.text);
    assert!(
        pairing[0].contains("Chinese exchange ")
            && pairing[0].contains("now has no English counterpart"),
        "{}",
        pairing[0]
    );
    let id = document_id(&env, &site.url(EN_ARTICLE));
    assert!(
        item.html
            .contains(&format!("href=\"{PUBLIC}/b/{id}/diff?from=1&amp;to=2\"")),
        "{}",
        item.html
    );

    // Polling again changes nothing: still one item.
    env.briefwatch(&["poll", "--once", "--all"]);
    assert_eq!(revisions(&env).len(), 1);
}

#[test]
fn taken_down_pages_say_what_was_seen_and_link_to_the_archived_copy() {
    let site = SiteServer::start(fixture_site());
    let config = test_config(&site, "\n[archive]\ngone_after = 1\n");
    let env = TestEnv::with_config(&config);
    env.briefwatch(&["backfill"]);

    // One page answers 404, another leads to the ministry's error page.
    let soft = FIXTURE_ZH_ARTICLES[1];
    site.remove_page(EN_ARTICLE);
    site.fault(soft, Fault::RedirectToErrorPage, 1);
    env.briefwatch(&["poll", "--once", "--all"]);
    let items = revisions(&env);
    assert_eq!(
        items.len(),
        2,
        "{:?}",
        items.iter().map(|i| &i.title).collect::<Vec<_>>()
    );
    let en_id = document_id(&env, &site.url(EN_ARTICLE));
    let not_found = items
        .iter()
        .find(|item| item.title.contains("July 3, 2020"))
        .expect("the English page");
    assert!(
        not_found.title.starts_with("Taken down: "),
        "{}",
        not_found.title
    );
    assert!(
        not_found
            .text
            .contains("The page was taken down: the ministry's server answers 404 Not Found."),
        "{}",
        not_found.text
    );
    assert!(!not_found.text.contains("error page"), "{}", not_found.text);
    assert_eq!(
        not_found.link,
        format!("{PUBLIC}/b/{en_id}?rev=1"),
        "the item leads to the copy, the ministry's page being dead"
    );
    assert!(
        not_found
            .html
            .contains(&format!("href=\"{PUBLIC}/b/{en_id}?rev=1\"")),
        "links to briefwatch's copy: {}",
        not_found.html
    );
    assert!(
        not_found
            .html
            .contains(&format!("href=\"{}\"", site.url(EN_ARTICLE))),
        "links to the ministry: {}",
        not_found.html
    );
    let error_page = items
        .iter()
        .find(|item| !item.title.contains("July 3, 2020"))
        .unwrap();
    assert!(
        error_page
            .text
            .contains("The page was taken down: the page now leads to the ministry's error page."),
        "{}",
        error_page.text
    );
    let zh_id = document_id(&env, &site.url(soft));
    assert!(
        error_page
            .html
            .contains(&format!("href=\"{PUBLIC}/b/{zh_id}?rev=1\"")),
        "{}",
        error_page.html
    );

    // Back online: one more item, with both links too.
    site.restore_page(EN_ARTICLE);
    env.briefwatch(&["poll", "--once", "--all"]);
    let items = revisions(&env);
    let restored: Vec<&Entry> = items
        .iter()
        .filter(|item| item.title.starts_with("Restored: "))
        .collect();
    assert_eq!(restored.len(), 2, "both pages are back");
    let english = restored
        .iter()
        .find(|item| item.title.contains("July 3, 2020"))
        .unwrap();
    assert!(
        english
            .text
            .contains("The page is back online after being taken down: the page answers with its transcript again."),
        "{}",
        english.text
    );
    assert!(
        english
            .html
            .contains(&format!("href=\"{PUBLIC}/b/{en_id}\""))
            && english
                .html
                .contains(&format!("href=\"{}\"", site.url(EN_ARTICLE))),
        "{}",
        english.html
    );
}
