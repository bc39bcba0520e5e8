//! Dates a title leaves out: completed from the page's publication time or from its neighbours on
//! the listing, with where each came from, through a real backfill.

use serde_json::Value;

use crate::support::{SiteServer, TestEnv, corpus_site, fixture_site};

const JULY_FIRST: &str = "/mfa_eng/xwfw_665399/s2510_665401/2511_665403/t1793861.shtml";
const JULY_SECOND: &str = "/mfa_eng/xwfw_665399/s2510_665401/2511_665403/t1794266.shtml";

fn show(env: &TestEnv, url: &str) -> Value {
    serde_json::from_str(&env.briefwatch(&["show", url, "--json"])).unwrap()
}

fn listed(env: &TestEnv) -> Vec<Value> {
    env.briefwatch(&["list", "--json"])
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The English 2020 pages show no publication time: a title without its year, or without any
/// date, is dated from the items next to it on the listing.
#[test]
fn titles_without_a_year_or_a_date_are_dated_from_the_listing_neighbours() {
    let site = SiteServer::start(fixture_site());
    let page = String::from_utf8(site.page(JULY_FIRST)).unwrap();
    let no_year = page.replace(
        "Press Conference on July 1, 2020",
        "Press Conference on July 1",
    );
    assert_ne!(no_year, page);
    site.set_page(JULY_FIRST, no_year);
    let remarks = String::from_utf8(site.page(JULY_SECOND)).unwrap().replace(
        "Regular Press Conference on July 2, 2020",
        "Remarks on the Situation",
    );
    site.set_page(JULY_SECOND, remarks);
    let env = TestEnv::new(&site);
    env.briefwatch(&["backfill", "--json"]);

    let first = show(&env, &site.url(JULY_FIRST));
    assert_eq!(first["briefing"]["kind"], "press_conference");
    assert_eq!(first["briefing"]["date"], "2020-07-01");
    assert_eq!(first["briefing"]["date_from"], "neighbours");
    // Listed between 3 July (above) and 1 July (below): published no earlier than the latter.
    let second = show(&env, &site.url(JULY_SECOND));
    assert_eq!(second["briefing"]["kind"], "remarks");
    assert_eq!(second["briefing"]["date_from"], "neighbours");
    let date = second["briefing"]["date"].as_str().unwrap();
    assert!(("2020-07-01"..="2020-07-03").contains(&date), "{date}");

    let documents = listed(&env);
    let undated: Vec<&Value> = documents
        .iter()
        .filter(|document| document["revisions"] != 0 && document["date"].is_null())
        .collect();
    assert!(undated.is_empty(), "{undated:?}");
    // A title's own date is still the title's.
    let third = show(&env, &site.url(crate::support::EN_ARTICLE));
    assert_eq!(third["briefing"]["date"], "2020-07-03");
    assert_eq!(third["briefing"]["date_from"], "title");
}

/// Every document of the corpus gets a date: press conferences their briefing's (unchanged),
/// other items their publication date, or their neighbours' when the page shows none.
#[test]
#[ignore = "needs BRIEFWATCH_CORPUS"]
fn every_corpus_document_has_a_date() {
    let root = corpus_site();
    let site = SiteServer::start(root);
    let env = TestEnv::new(&site);
    env.briefwatch(&["backfill", "--json"]);
    let documents: Vec<Value> = listed(&env)
        .into_iter()
        .filter(|document| document["revisions"] != 0)
        .collect();
    assert_eq!(documents.len(), 865);
    let undated: Vec<&Value> = documents
        .iter()
        .filter(|document| document["date"].is_null())
        .collect();
    assert!(undated.is_empty(), "{} undated: {undated:?}", undated.len());
    let mut from: std::collections::BTreeMap<String, usize> = Default::default();
    for document in &documents {
        let shown = show(&env, document["url"].as_str().unwrap());
        let source = shown["briefing"]["date_from"].as_str().unwrap().to_string();
        if document["kind"] == "press_conference" {
            assert_eq!(source, "title", "{}", document["url"]);
        }
        *from.entry(source).or_default() += 1;
    }
    eprintln!("dates by evidence: {from:?}");
    assert!(
        from.get("neighbours").is_some_and(|count| *count >= 2),
        "{from:?}"
    );
}
