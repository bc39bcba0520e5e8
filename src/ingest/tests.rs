//! The pipeline on an archive in memory: when a page makes a revision, which events follow, how
//! gone answers count and what a listing page does.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use sha2::Digest;

use super::*;
use crate::model::{Exchange, ListingItem};
use crate::store::{DocumentKey, EventQuery, PageKind};

fn at(hour: u32) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("2020-07-04T{hour:02}:00:00Z"))
        .unwrap()
        .with_timezone(&Utc)
}

fn briefing(url: &str, answer: &str) -> Briefing {
    let exchange = Exchange {
        ordinal: 1,
        asker: "CCTV".into(),
        question: vec!["A question?".into()],
        answer: vec![answer.into()],
        after_conference: false,
    };
    Briefing {
        url: url.into(),
        lang: Lang::En,
        kind: Kind::PressConference,
        title:
            "Foreign Ministry Spokesperson Zhao Lijian's Regular Press Conference on July 3, 2020"
                .into(),
        date: NaiveDate::from_ymd_opt(2020, 7, 3),
        published_at: None,
        spokesperson: Some("Zhao Lijian".into()),
        opening: vec![],
        content_hash: format!("{:x}", sha2::Sha256::digest(answer.as_bytes())),
        found_by: None,
        selector: None,
        date_from: None,
        exchanges: vec![exchange],
    }
}

fn log(url: &str, outcome: Outcome, status: u16, now: DateTime<Utc>) -> FetchRecord {
    FetchRecord {
        at: now,
        source: Some("en".into()),
        url: url.into(),
        page: PageKind::Article,
        status: Some(status),
        outcome,
        bytes: 10,
        duration: Duration::from_millis(5),
        attempts: 1,
        error: None,
    }
}

fn ingest(
    store: &mut Store,
    url: &str,
    outcome: Outcome,
    status: u16,
    content: Option<(&Briefing, &[u8])>,
    now: DateTime<Utc>,
) -> IngestOutcome {
    article(
        store,
        &ArticleFetch {
            source: "en",
            lang: Lang::En,
            log: log(url, outcome, status, now),
            raw: content.map(|(_, raw)| raw),
            validators: Validators {
                etag: Some("\"e1\"".into()),
                last_modified: None,
            },
            briefing: content.map(|(briefing, _)| briefing),
            next_check: now + chrono::Duration::hours(1),
        },
        &Settings::default(),
    )
    .unwrap()
}

const URL: &str = "https://www.fmprc.gov.cn/mfa_eng/t1.shtml";

fn kinds(store: &Store) -> Vec<String> {
    let mut events = store
        .events(&EventQuery {
            limit: 100,
            ..EventQuery::default()
        })
        .unwrap();
    events.reverse();
    events.into_iter().map(|e| e.kind.to_string()).collect()
}

#[test]
fn revision_only_when_content_changes() {
    let mut store = Store::open_in_memory().unwrap();
    let first = briefing(URL, "Answer one.");
    let raw = b"<html>one</html>".as_slice();
    let outcome = ingest(
        &mut store,
        URL,
        Outcome::Ok,
        200,
        Some((&first, raw)),
        at(1),
    );
    assert_eq!(outcome.new_revision.map(|(_, seq)| seq), Some(1));
    let again = ingest(
        &mut store,
        URL,
        Outcome::Ok,
        200,
        Some((&first, b"<html>one, new ad</html>")),
        at(2),
    );
    assert_eq!(again.new_revision, None);
    ingest(&mut store, URL, Outcome::NotModified, 304, None, at(3));
    let second = briefing(URL, "Answer one, edited.");
    let edited = ingest(
        &mut store,
        URL,
        Outcome::Ok,
        200,
        Some((&second, b"<html>two</html>")),
        at(4),
    );
    assert_eq!(edited.new_revision.map(|(_, seq)| seq), Some(2));
    assert_eq!(edited.previous_revision.map(|(_, seq)| seq), Some(1));

    let document = store.document(DocumentKey::Url(URL)).unwrap().unwrap();
    assert_eq!(document.revisions, 2);
    assert_eq!(document.briefing_date, NaiveDate::from_ymd_opt(2020, 7, 3));
    let latest = store.latest_revision(document.id).unwrap().unwrap();
    assert_eq!(latest.briefing, second);
    assert_eq!(
        store.revision(document.id, 1).unwrap().unwrap().briefing,
        first
    );
    assert_eq!(
        store.raw_bytes(&latest.meta.raw_hash).unwrap().unwrap(),
        b"<html>two</html>"
    );
    assert_eq!(kinds(&store), ["new", "revised"]);
    let revised = &store
        .events(&EventQuery {
            limit: 1,
            ..EventQuery::default()
        })
        .unwrap()[0];
    // The diff stage adds the structured change beside the archive's seqs.
    assert_eq!(revised.payload["from_seq"], 1);
    assert_eq!(revised.payload["to_seq"], 2);
    assert_eq!(revised.payload["significance"], "minor");
    assert_eq!(
        revised.payload["change"]["exchanges"][0]["kind"],
        "reworded"
    );
    let logged: i64 = store
        .connection()
        .query_row("SELECT COUNT(*) FROM fetch_log", [], |row| row.get(0))
        .unwrap();
    assert_eq!(logged, 4);
}

/// Records are compressed against their raw page; a record that repeats the page's text
/// costs a small part of what it would alone, and records stored the earlier way (with a
/// per-source record dictionary) still read back.
#[test]
fn failures_never_make_revisions_and_gone_needs_two_in_a_row() {
    let mut store = Store::open_in_memory().unwrap();
    let first = briefing(URL, "Answer one.");
    ingest(
        &mut store,
        URL,
        Outcome::Ok,
        200,
        Some((&first, b"<p>1</p>")),
        at(1),
    );
    for (outcome, status) in [
        (Outcome::Transient, 500),
        (Outcome::Blocked, 412),
        (Outcome::Unparseable, 200),
        (Outcome::Unparseable, 200),
        (Outcome::SoftGone, 302),
        (Outcome::Transient, 503),
    ] {
        ingest(&mut store, URL, outcome, status, None, at(2));
    }
    let document = store.document(DocumentKey::Url(URL)).unwrap().unwrap();
    assert_eq!((document.revisions, document.state.as_str()), (1, "live"));
    assert_eq!(kinds(&store), ["new", "extractor_failed"]);

    ingest(&mut store, URL, Outcome::Gone, 404, None, at(3));
    let document = store.document(DocumentKey::Url(URL)).unwrap().unwrap();
    assert_eq!(document.state, "gone");
    ingest(&mut store, URL, Outcome::Gone, 404, None, at(4));
    ingest(
        &mut store,
        URL,
        Outcome::Ok,
        200,
        Some((&first, b"<p>1</p>")),
        at(5),
    );
    let document = store.document(DocumentKey::Url(URL)).unwrap().unwrap();
    assert_eq!((document.revisions, document.state.as_str()), (1, "live"));
    assert_eq!(
        kinds(&store),
        ["new", "extractor_failed", "gone", "restored"]
    );
}

#[test]
fn listing_creates_due_documents_and_notices_removed_items() {
    let mut store = Store::open_in_memory().unwrap();
    let listing = |urls: &[&str]| Listing {
        items: urls
            .iter()
            .map(|url| ListingItem {
                url: url.to_string(),
                title: format!("title of {url}"),
                date: None,
            })
            .collect(),
        page_count: Some(3),
    };
    let mut ingest_listing = |page: &Listing, now| {
        super::listing(
            &mut store,
            &ListingFetch {
                source: "en",
                lang: Lang::En,
                page: 0,
                log: FetchRecord {
                    page: PageKind::Listing,
                    ..log("https://x/default.shtml", Outcome::Ok, 200, now)
                },
                validators: Validators::default(),
                listing: Some(page),
                next_check: now,
            },
        )
        .unwrap()
    };
    let first = ingest_listing(&listing(&["u/c", "u/b", "u/a"]), at(1));
    assert_eq!(first.new_documents, ["u/c", "u/b", "u/a"]);
    // A new item pushes "u/a" off the page: not a removal.
    let second = ingest_listing(&listing(&["u/d", "u/c", "u/b"]), at(2));
    assert_eq!(
        (second.new_documents, second.delisted),
        (vec!["u/d".to_string()], vec![])
    );
    // "u/c" vanishes while "u/b" below it stays: removed.
    let third = ingest_listing(&listing(&["u/d", "u/b"]), at(3));
    assert_eq!(third.delisted, ["u/c"]);
    let due = store.due_documents(at(3), 10).unwrap();
    assert_eq!(due.len(), 4);
    assert!(due.iter().all(|d| !d.has_revision));
    let state = store
        .listing_state("https://x/default.shtml")
        .unwrap()
        .unwrap();
    assert_eq!(state.item_urls, ["u/d", "u/b"]);
    assert_eq!(state.page_count, Some(3));
}

#[test]
fn the_error_page_is_soft_gone_and_an_unknown_layout_unparseable_however_they_arrive() {
    let profile = crate::site::Profile::builtin("mfa-en").unwrap();
    let error_page = include_str!("../../tests/fixtures/pages/error/error.htm");
    let read = extract_article(&profile, URL, Outcome::Ok, error_page);
    assert_eq!(
        (read.outcome, read.value, read.error.as_deref()),
        (Outcome::SoftGone, None, Some("error page"))
    );
    let unknown = extract_article(&profile, URL, Outcome::Ok, "<html><p>Hello</p></html>");
    assert_eq!(unknown.outcome, Outcome::Unparseable);
    assert!(unknown.error.is_some());
    // Answers that carry no page pass unchanged.
    let gone = extract_article(&profile, URL, Outcome::Gone, "");
    assert_eq!((gone.outcome, gone.error), (Outcome::Gone, None));
}

#[test]
fn an_item_is_removed_only_when_an_item_below_it_stays() {
    let urls = |list: &[&str]| list.iter().map(|u| u.to_string()).collect::<Vec<_>>();
    let before = urls(&["d", "c", "b", "a"]);
    assert!(listing::removed_items(&before, &urls(&["e", "d", "c", "b"])).is_empty());
    assert_eq!(
        listing::removed_items(&before, &urls(&["d", "b", "a"])),
        [&"c".to_string()]
    );
    assert!(listing::removed_items(&before, &urls(&["x", "y"])).is_empty());
}
