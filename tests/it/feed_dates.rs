//! Feeds dated and ordered by the briefings themselves: after a backfill of the fixture site (and of
//! the whole corpus), every item carries its briefing's or publication's date, newest first, both
//! languages in `briefings.xml`, never the time briefwatch fetched the page.

use std::path::Path;
use std::process::Command;

use briefwatch::model::Kind;
use briefwatch::store::{DocumentKey, Store};
use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::support::{
    SiteServer, TestEnv, corpus_site, fixture_site, require_feedparser, test_config,
};

const KEYWORD_RULE: &str = r#"
[[alert]]
name = "hong-kong"
terms = ['"Hong Kong"', "香港"]
recipients = ["desk@example.org"]

[smtp]
host = "127.0.0.1"
security = "none"
from = "briefwatch <alerts@example.org>"
"#;

fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

/// The day a reader expects for the page at `url`: a press conference's briefing date, otherwise
/// the day the page says it was published, otherwise the date in its title or the archive's.
fn own_day(store: &Store, url: &str) -> NaiveDate {
    let document = store
        .document(DocumentKey::Url(url))
        .unwrap()
        .unwrap_or_else(|| panic!("{url} is archived"));
    let briefing = store
        .latest_revision(document.id)
        .unwrap()
        .unwrap()
        .briefing;
    let day = match (briefing.kind, briefing.date) {
        (Kind::PressConference, Some(date)) => Some(date),
        _ => briefing
            .published_at
            .map(|at| at.with_timezone(&beijing()).date_naive())
            .or(briefing.date)
            .or(document.briefing_date),
    };
    day.unwrap_or_else(|| panic!("{url} has no date, yet it is in a feed"))
}

/// One feed item as a reader sees it.
#[derive(Debug)]
struct Item {
    title: String,
    link: String,
    date: DateTime<FixedOffset>,
}

fn items_of(xml: &str) -> Vec<Item> {
    let feed = feed_rs::parser::parse(xml.as_bytes()).expect("feed-rs parses the feed");
    feed.entries
        .into_iter()
        .map(|entry| Item {
            title: entry.title.map(|title| title.content).unwrap_or_default(),
            link: entry.links[0].href.clone(),
            date: entry
                .published
                .expect("every item has a date")
                .with_timezone(&beijing()),
        })
        .collect()
}

fn read_feed(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{name}.xml"))).unwrap()
}

/// Every item is dated by its own page's day, newest first.
fn assert_dated_by_the_briefing(store: &Store, feed: &str, items: &[Item]) {
    for item in items {
        assert_eq!(
            item.date.date_naive(),
            own_day(store, &item.link),
            "{feed}: {} ({})",
            item.title,
            item.link
        );
    }
    for pair in items.windows(2) {
        assert!(
            pair[0].date >= pair[1].date,
            "{feed}: {} ({}) before {} ({})",
            pair[0].title,
            pair[0].date,
            pair[1].title,
            pair[1].date
        );
    }
}

#[test]
fn fixture_feeds_are_dated_and_ordered_by_the_briefings() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::with_config(&test_config(&site, KEYWORD_RULE));
    env.briefwatch(&["backfill"]);
    let out = env.dir.path().join("public");
    env.briefwatch(&["feeds", "--out", out.to_str().unwrap()]);
    let store = env.store();

    let both = items_of(&read_feed(&out, "briefings"));
    assert_eq!(both.len(), 8, "{both:#?}");
    assert_dated_by_the_briefing(&store, "briefings", &both);
    let july3 = NaiveDate::from_ymd_opt(2020, 7, 3).unwrap();
    let first_two: Vec<&str> = both[..2].iter().map(|item| item.title.as_str()).collect();
    assert!(
        both[..2].iter().all(|item| item.date.date_naive() == july3),
        "{first_two:?}"
    );
    assert!(
        first_two.contains(
            &"Foreign Ministry Spokesperson Zhao Lijian's Regular Press Conference on July 3, 2020"
        ) && first_two.contains(&"2020年7月3日外交部发言人赵立坚主持例行记者会"),
        "the 3 July press conference in both languages comes first: {first_two:?}"
    );
    // The English page shows no time: the briefing's day at 15:00 Beijing time.
    let english = both
        .iter()
        .find(|item| item.title.contains("July 3, 2020"))
        .unwrap();
    assert_eq!(english.date.to_rfc3339(), "2020-07-03T15:00:00+08:00");

    for name in ["briefings-en", "briefings-zh", "keywords/hong-kong"] {
        let items = items_of(&read_feed(&out, name));
        assert!(!items.is_empty(), "{name}");
        assert_dated_by_the_briefing(&store, name, &items);
    }
}

/// The whole 2018–2020 corpus backfilled from loopback, its feeds read by Python's feedparser.
#[test]
#[ignore = "needs BRIEFWATCH_CORPUS and feedparser"]
fn corpus_feeds_after_a_backfill_start_with_the_last_briefing_in_both_languages() {
    let root = corpus_site();
    require_feedparser();
    let site = SiteServer::start(root);
    let env = TestEnv::with_config(&test_config(&site, KEYWORD_RULE));
    env.briefwatch(&["backfill"]);
    check_corpus_feeds(&env);
}

/// The same corpus imported from its saved pages, with their original fetch times.
#[test]
#[ignore = "needs BRIEFWATCH_CORPUS and feedparser"]
fn corpus_feeds_after_an_import_start_with_the_last_briefing_in_both_languages() {
    let manifest = std::env::var_os("BRIEFWATCH_CORPUS")
        .map(|dir| Path::new(&dir).join("mfa-2020/MANIFEST.tsv"))
        .filter(|manifest| manifest.is_file())
        .expect("BRIEFWATCH_CORPUS must name the corpus directory");
    require_feedparser();
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::with_config(&test_config(&site, KEYWORD_RULE));
    env.briefwatch(&["import", manifest.to_str().unwrap()]);
    check_corpus_feeds(&env);
}

fn check_corpus_feeds(env: &TestEnv) {
    let out = env.dir.path().join("public");
    env.briefwatch(&["feeds", "--out", out.to_str().unwrap()]);
    let store = env.store();

    let script = r#"
import json, sys, feedparser
parsed = feedparser.parse(sys.argv[1])
print(json.dumps({
    "bozo": bool(parsed.bozo),
    "error": str(parsed.get("bozo_exception", "")),
    "items": [{"title": e.title, "link": e.link, "published": e.published} for e in parsed.entries],
}))
"#;
    let read = |name: &str| -> Vec<Item> {
        let path = out.join(format!("{name}.xml"));
        let output = Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let parsed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(parsed["bozo"], false, "{name}: {}", parsed["error"]);
        parsed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| Item {
                title: item["title"].as_str().unwrap().to_string(),
                link: item["link"].as_str().unwrap().to_string(),
                date: DateTime::parse_from_rfc2822(item["published"].as_str().unwrap())
                    .unwrap()
                    .with_timezone(&beijing()),
            })
            .collect()
    };

    let last_day = NaiveDate::from_ymd_opt(2020, 7, 3).unwrap();
    let both = read("briefings");
    assert_eq!(both.len(), 50);
    assert_dated_by_the_briefing(&store, "briefings", &both);
    let first_two: Vec<&str> = both[..2].iter().map(|item| item.title.as_str()).collect();
    assert!(
        first_two
            .iter()
            .any(|title| title.contains("Regular Press Conference on July 3, 2020"))
            && first_two.contains(&"2020年7月3日外交部发言人赵立坚主持例行记者会"),
        "{first_two:?}"
    );
    assert!(
        both.iter().all(|item| item.date.date_naive() <= last_day),
        "no item dated after 3 July 2020"
    );

    let chinese = read("briefings-zh");
    assert_dated_by_the_briefing(&store, "briefings-zh", &chinese);
    let conferences = chinese
        .iter()
        .filter(|item| item.title.ends_with("主持例行记者会"))
        .count();
    assert!(
        conferences >= 40,
        "{conferences} of {} Chinese items are press conferences",
        chinese.len()
    );
    assert!(chinese[0].title.starts_with("2020年7月3日"), "{chinese:?}");

    for name in ["briefings-en", "keywords/hong-kong"] {
        let items = read(name);
        assert_eq!(items.len(), 50, "{name}");
        assert_dated_by_the_briefing(&store, name, &items);
        assert!(
            items.iter().all(|item| item.date.date_naive() <= last_day),
            "{name}: no item dated after 3 July 2020"
        );
    }
}
