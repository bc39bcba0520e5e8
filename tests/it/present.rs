//! One change, the same words everywhere: the revision and the take-down of the web fixture read
//! alike in the revisions feed, the web view and the command line.

use crate::web::fixture;

/// The visible text of an HTML page or fragment, entities decoded.
fn visible(html: &str) -> String {
    scraper::Html::parse_document(html)
        .root_element()
        .text()
        .collect()
}

/// The visible text of every item of `revisions.xml`, written by `briefwatch feeds`.
fn revisions_feed(out: &std::path::Path) -> Vec<(String, String)> {
    let xml = std::fs::read(out.join("revisions.xml")).unwrap();
    feed_rs::parser::parse(xml.as_slice())
        .expect("feed-rs parses revisions.xml")
        .entries
        .into_iter()
        .map(|entry| {
            let title = entry.title.map(|title| title.content).unwrap();
            let html = entry.summary.map(|summary| summary.content).unwrap();
            (title, visible(&html))
        })
        .collect()
}

#[test]
fn a_removed_exchange_has_one_heading_in_feed_web_history_and_diff() {
    let web = fixture();
    let out = web.env.dir.path().join("present-feeds");
    web.env
        .briefwatch(&["feeds", "--out", out.to_str().unwrap()]);
    let feed = revisions_feed(&out);
    let (_, revised) = feed
        .iter()
        .find(|(title, _)| title.starts_with("Revised, 1 exchange removed: "))
        .expect("the revision is in the feed");
    // The fixture's edit removes the fourth exchange, RIA Novosti's.
    let heading = "Exchange 4 removed (RIA Novosti)";
    assert!(
        revised.contains(heading),
        "{heading} in the feed: {revised}"
    );

    let cli = web
        .env
        .briefwatch(&["diff", &web.en_id.to_string(), "--format", "text"]);
    assert!(
        cli.contains(&format!("{heading} [substantive]")),
        "{heading} in the command line: {cli}"
    );

    let history = web.env.briefwatch(&["history", &web.en_id.to_string()]);
    assert!(
        history
            .lines()
            .any(|line| line.contains(" exchange_removed ") && line.ends_with(heading)),
        "{heading} in the history: {history}"
    );

    let (status, page) = web.get(&format!("/b/{}/diff", web.en_id));
    assert_eq!(status, 200);
    assert!(
        visible(&page).contains(heading),
        "{heading} on the diff page: {page}"
    );
}

#[test]
fn a_take_down_says_what_the_server_answered_in_feed_web_and_history() {
    let web = fixture();
    let cause = "the ministry's server answers 404 Not Found";
    let out = web.env.dir.path().join("present-gone-feeds");
    web.env
        .briefwatch(&["feeds", "--out", out.to_str().unwrap()]);
    let feed = revisions_feed(&out);
    let (_, gone) = feed
        .iter()
        .find(|(title, _)| title.starts_with("Taken down: "))
        .expect("the take-down is in the feed");
    assert!(
        gone.contains(&format!("The page was taken down: {cause}.")),
        "{gone}"
    );

    let (status, events) = web.get("/events");
    assert_eq!(status, 200);
    assert!(
        visible(&events).contains(&format!("The page is taken down: {cause}, twice in a row.")),
        "{events}"
    );

    let history = web.env.briefwatch(&["history", &web.gone_id.to_string()]);
    let line = history
        .lines()
        .find(|line| line.contains(" gone "))
        .unwrap_or_else(|| panic!("a gone event in the history: {history}"));
    assert!(line.ends_with(cause), "{line}");
}
