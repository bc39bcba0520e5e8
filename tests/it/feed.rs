//! Feeds end to end: rendered from plain entries, read back with feed-rs (and Python feedparser when
//! installed), and checked in the raw XML for what feed validators insist on.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use briefwatch::feed::{
    BriefingEntry, ChangeBlock, EventEntry, EventKind, FeedInputs, FeedSet, FeedSettings,
    KeywordEntry, Mark, Part, Place, Segment, SharedFeeds,
};
use briefwatch::model::{Briefing, Exchange, Kind, Lang};
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use regex::Regex;

const PUBLIC_URL: &str = "https://briefwatch.example.org/bw";
const EN_URL: &str =
    "https://www.fmprc.gov.cn/mfa_eng/xwfw_665399/s2510_665401/2511_665403/t1794629.shtml";
const ZH_URL: &str = "https://www.fmprc.gov.cn/web/wjdt_674879/fyrbt_674889/t1794584.shtml";

/// Text that breaks naive XML and HTML writers, in one string.
const HOSTILE: &str =
    "A < B && C > D; \"quoted\" 'single' ]]> end of CDATA ]]]]><![CDATA[> 中文 😀";

fn settings(items: usize) -> FeedSettings {
    FeedSettings::new(PUBLIC_URL, items, Duration::from_secs(15 * 60)).unwrap()
}

fn beijing(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
}

fn exchange(ordinal: u32, asker: &str, question: &[&str], answer: &[&str]) -> Exchange {
    Exchange {
        ordinal,
        asker: asker.to_string(),
        question: question.iter().map(|text| text.to_string()).collect(),
        answer: answer.iter().map(|text| text.to_string()).collect(),
        after_conference: false,
    }
}

fn english_briefing() -> Briefing {
    Briefing {
        url: EN_URL.to_string(),
        lang: Lang::En,
        kind: Kind::PressConference,
        title:
            "Foreign Ministry Spokesperson Zhao Lijian's Regular Press Conference on July 3, 2020"
                .to_string(),
        date: NaiveDate::from_ymd_opt(2020, 7, 3),
        published_at: Some(beijing(2020, 7, 3, 21, 19)),
        spokesperson: Some("Zhao Lijian".to_string()),
        opening: vec![],
        exchanges: vec![
            exchange(
                1,
                "CCTV",
                &[
                    "The foreign ministry of Laos issued a statement expressing congratulations and firm support for China's passage of the Law on Safeguarding National Security in the Hong Kong SAR.",
                ],
                &[
                    "China highly applauds Laos and Vietnam for their staunch support.",
                    "I'd like to add that after Cuba made a statement on June 30 on behalf of 53 countries, representatives of over 20 countries delivered remarks.",
                ],
            ),
            exchange(
                2,
                "Beijing Youth Daily",
                &[HOSTILE],
                &["Indeed, the documentary has been\u{a0}warmly received."],
            ),
        ],
        content_hash: "en-1".to_string(),
        found_by: None,
        selector: None,
        date_from: None,
    }
}

fn chinese_briefing() -> Briefing {
    Briefing {
        url: ZH_URL.to_string(),
        lang: Lang::Zh,
        kind: Kind::PressConference,
        title: "2020年7月3日外交部发言人赵立坚主持例行记者会".to_string(),
        date: NaiveDate::from_ymd_opt(2020, 7, 3),
        published_at: Some(beijing(2020, 7, 3, 22, 57)),
        spokesperson: Some("赵立坚".to_string()),
        opening: vec![],
        exchanges: vec![exchange(
            1,
            "中央电视台记者",
            &[
                "日前，老挝外交部发表声明，表示老方祝贺并坚定支持中方通过香港维护国家安全法。中方对此有何评论？",
            ],
            &[
                "中方高度赞赏老方和越方坚定支持中方通过和实施《中华人民共和国香港特别行政区维护国家安全法》。",
            ],
        )],
        content_hash: "zh-1".to_string(),
        found_by: None,
        selector: None,
        date_from: None,
    }
}

fn inputs() -> FeedInputs {
    let removed = exchange(
        4,
        "Reuters",
        &["Is the ministry aware of the report <about Ai Weiwei>?"],
        &["I'm not aware of what you said & have nothing to add."],
    );
    let event = |event_id, kind, from_seq, to_seq, blocks| EventEntry {
        event_id,
        kind,
        occurred_at: Utc
            .with_ymd_and_hms(2020, 7, 4, 2, event_id as u32, 0)
            .unwrap(),
        document_id: 17,
        url: EN_URL.to_string(),
        lang: Lang::En,
        title: english_briefing().title,
        date: NaiveDate::from_ymd_opt(2020, 7, 3),
        spokesperson: Some("Zhao Lijian".to_string()),
        from_seq,
        to_seq,
        blocks,
        seen: None,
        pairing: vec![],
    };
    let events = vec![
        event(
            1,
            EventKind::Revised,
            Some(1),
            Some(2),
            vec![ChangeBlock::Reworded {
                place: Place::Answer {
                    ordinal: 1,
                    asker: "CCTV".to_string(),
                },
                paragraphs: vec![vec![
                    Segment::Same("China ".to_string()),
                    Segment::Deleted("highly applauds".to_string()),
                    Segment::Inserted("appreciates".to_string()),
                    Segment::Same(" Laos & Vietnam ]]> <b>".to_string()),
                ]],
            }],
        ),
        event(
            2,
            EventKind::ExchangeRemoved,
            Some(2),
            Some(3),
            vec![ChangeBlock::ExchangeRemoved(removed.clone())],
        ),
        EventEntry {
            seen: Some("the ministry's server answers 404 Not Found".to_string()),
            ..event(3, EventKind::Gone, Some(3), None, vec![])
        },
        event(4, EventKind::Restored, Some(3), Some(4), vec![]),
        event(
            5,
            EventKind::Unpaired,
            None,
            None,
            vec![ChangeBlock::Unpaired {
                exchange: removed,
                missing_in: Lang::Zh,
            }],
        ),
    ];
    let hit_question = "Taiwan & the \"1992 Consensus\" <again>?";
    let hit = KeywordEntry {
        rule: "taiwan".to_string(),
        exchange_key: format!("{EN_URL}#3"),
        date: beijing(2020, 7, 3, 21, 19),
        url: EN_URL.to_string(),
        lang: Lang::En,
        title: english_briefing().title,
        spokesperson: Some("Zhao Lijian".to_string()),
        exchange: exchange(
            3,
            "Bloomberg",
            &[hit_question],
            &["Taiwan is part of China."],
        ),
        terms: vec!["Taiwan".to_string()],
        marks: vec![
            Mark {
                part: Part::Question,
                paragraph: 0,
                range: 0..6,
            },
            Mark {
                part: Part::Answer,
                paragraph: 0,
                range: 0..6,
            },
        ],
    };
    FeedInputs {
        briefings: vec![
            BriefingEntry {
                briefing: english_briefing(),
                archive_date: None,
                fetched_at: None,
            },
            BriefingEntry {
                briefing: chinese_briefing(),
                archive_date: None,
                fetched_at: None,
            },
        ],
        events,
        keywords: BTreeMap::from([
            ("taiwan".to_string(), vec![hit]),
            ("nothing-yet".to_string(), vec![]),
        ]),
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2020, 7, 4, 3, 0, 0).unwrap()
}

fn build(inputs: &FeedInputs) -> FeedSet {
    FeedSet::build(&settings(50), inputs, &FeedSet::default(), now()).unwrap()
}

fn xml(set: &FeedSet, name: &str) -> String {
    String::from_utf8(set.get(name).expect(name).body.to_vec()).unwrap()
}

fn parse(xml: &str) -> feed_rs::model::Feed {
    feed_rs::parser::parse(xml.as_bytes()).expect("feed-rs parses the feed")
}

/// The text a reader shows for an HTML description.
fn visible_text(html: &str) -> String {
    scraper::Html::parse_fragment(html)
        .root_element()
        .text()
        .collect()
}

const ALL_FEEDS: &[&str] = &[
    "briefings",
    "briefings-en",
    "briefings-zh",
    "revisions",
    "keywords/taiwan",
    "keywords/nothing-yet",
];

#[test]
fn every_feed_is_built_and_parses() {
    let set = build(&inputs());
    let names: Vec<&str> = set.names().collect();
    let mut expected = ALL_FEEDS.to_vec();
    expected.sort();
    assert_eq!(names, expected);
    let counts = [
        ("briefings", 2),
        ("briefings-en", 1),
        ("briefings-zh", 1),
        ("revisions", 5),
        ("keywords/taiwan", 1),
        ("keywords/nothing-yet", 0),
    ];
    for (name, count) in counts {
        let feed = parse(&xml(&set, name));
        assert_eq!(feed.entries.len(), count, "{name}");
        assert_eq!(feed.ttl, Some(15), "{name}");
    }
}

#[test]
fn item_text_survives_the_round_trip_exactly() {
    let mut inputs = inputs();
    inputs.briefings[0].briefing.title = HOSTILE.to_string();
    let set = build(&inputs);
    let feed = parse(&xml(&set, "briefings-en"));
    let entry = &feed.entries[0];
    assert_eq!(entry.title.as_ref().unwrap().content, HOSTILE);
    let description = visible_text(&entry.summary.as_ref().unwrap().content);
    assert!(
        description.contains(&format!("Beijing Youth Daily: {HOSTILE}")),
        "{description}"
    );
    assert!(description.contains("CCTV: The foreign ministry of Laos"));
    assert!(
        description.contains("Zhao Lijian: Indeed, the documentary has been\u{a0}warmly received.")
    );

    let feed = parse(&xml(&set, "briefings-zh"));
    let entry = &feed.entries[0];
    assert_eq!(
        entry.title.as_ref().unwrap().content,
        "2020年7月3日外交部发言人赵立坚主持例行记者会"
    );
    let description = visible_text(&entry.summary.as_ref().unwrap().content);
    assert!(
        description.contains("中央电视台记者：日前，老挝外交部发表声明"),
        "{description}"
    );
    assert!(
        description.contains("赵立坚：中方高度赞赏"),
        "{description}"
    );
}

#[test]
fn briefing_items_carry_link_date_spokesperson_and_bold_questions() {
    let set = build(&inputs());
    let feed = parse(&xml(&set, "briefings"));
    // Newest first: the Chinese transcript was published later that evening.
    let zh = &feed.entries[0];
    let en = &feed.entries[1];
    assert_eq!(zh.links[0].href, ZH_URL);
    assert_eq!(en.links[0].href, EN_URL);
    assert_eq!(
        en.published.unwrap(),
        Utc.with_ymd_and_hms(2020, 7, 3, 13, 19, 0).unwrap()
    );
    assert!(
        en.categories
            .iter()
            .any(|category| category.term == "Zhao Lijian")
    );
    assert_eq!(en.authors[0].name, "Zhao Lijian");
    let html = &en.summary.as_ref().unwrap().content;
    assert!(
        html.contains("<p><strong>CCTV: The foreign ministry of Laos"),
        "{html}"
    );
    assert!(
        html.contains("</strong></p><p>Zhao Lijian: China highly applauds"),
        "{html}"
    );

    let raw = xml(&set, "briefings");
    assert!(
        raw.contains("<pubDate>Fri, 03 Jul 2020 21:19:00 +0800</pubDate>"),
        "{raw}"
    );
    assert!(raw.contains("<pubDate>Fri, 03 Jul 2020 22:57:00 +0800</pubDate>"));
    assert!(raw.contains("<lastBuildDate>Fri, 03 Jul 2020 22:57:00 +0800</lastBuildDate>"));
}

#[test]
fn an_edited_briefing_keeps_its_guid_but_changes_the_feed() {
    let before = build(&inputs());
    let mut edited = inputs();
    edited.briefings[0].briefing.exchanges.pop();
    edited.briefings[0].briefing.content_hash = "en-2".to_string();
    let after = FeedSet::build(&settings(50), &edited, &before, now()).unwrap();

    let guids = |set: &FeedSet| -> Vec<String> {
        parse(&xml(set, "briefings-en"))
            .entries
            .into_iter()
            .map(|entry| entry.id)
            .collect()
    };
    assert_eq!(guids(&before), guids(&after));
    assert_eq!(
        guids(&after),
        [format!("tag:briefwatch,2024:briefing:{EN_URL}")]
    );
    assert_ne!(
        before.get("briefings-en").unwrap().etag,
        after.get("briefings-en").unwrap().etag
    );
    // The Chinese feed did not change: same bytes, same validators.
    assert_eq!(before.get("briefings-zh"), after.get("briefings-zh"));
}

#[test]
fn rendering_is_deterministic_and_last_modified_moves_only_on_change() {
    let first = build(&inputs());
    let later = now() + chrono::TimeDelta::minutes(15);
    let again = FeedSet::build(&settings(50), &inputs(), &first, later).unwrap();
    for name in ALL_FEEDS {
        assert_eq!(first.get(name), again.get(name), "{name}");
    }
    let mut changed = inputs();
    changed.events.pop();
    let third = FeedSet::build(&settings(50), &changed, &again, later).unwrap();
    assert_eq!(third.get("revisions").unwrap().last_modified, later);
    assert_eq!(third.get("briefings").unwrap().last_modified, now());
}

#[test]
fn revisions_feed_shows_the_structured_diff_and_links_to_both_sites() {
    let set = build(&inputs());
    let feed = parse(&xml(&set, "revisions"));
    let by_guid = |id: i64| {
        feed.entries
            .iter()
            .find(|entry| entry.id == format!("tag:briefwatch,2024:event:{id}"))
            .unwrap_or_else(|| panic!("event {id} in the feed"))
    };
    let revised = by_guid(1);
    assert!(
        revised
            .title
            .as_ref()
            .unwrap()
            .content
            .starts_with("Revised: Foreign Ministry")
    );
    let html = &revised.summary.as_ref().unwrap().content;
    assert!(html.contains("China <del>highly applauds</del><ins>appreciates</ins> Laos &amp; Vietnam ]]&gt; &lt;b&gt;"), "{html}");
    assert!(
        html.contains("href=\"https://briefwatch.example.org/bw/b/17/diff?from=1&amp;to=2\""),
        "{html}"
    );
    assert!(html.contains(&format!("href=\"{EN_URL}\"")), "{html}");
    assert_eq!(revised.links[0].href, EN_URL);

    let removed = by_guid(2);
    let text = visible_text(&removed.summary.as_ref().unwrap().content);
    assert!(text.contains("An exchange was removed from the transcript (version 2 → 3)."));
    assert!(
        text.contains("Reuters: Is the ministry aware of the report <about Ai Weiwei>?"),
        "{text}"
    );
    assert!(text.contains("Zhao Lijian: I'm not aware of what you said & have nothing to add."));

    let gone = by_guid(3);
    assert!(
        gone.title
            .as_ref()
            .unwrap()
            .content
            .starts_with("Taken down: ")
    );
    let gone_html = &gone.summary.as_ref().unwrap().content;
    assert!(!gone_html.contains("/diff?"));
    assert!(
        visible_text(gone_html).contains(
            "The page was taken down: the ministry's server answers 404 Not Found. briefwatch keeps version 3"
        ),
        "{gone_html}"
    );
    assert!(
        gone_html.contains("href=\"https://briefwatch.example.org/bw/b/17?rev=3\"")
            && gone_html.contains(&format!("href=\"{EN_URL}\"")),
        "links to the archived copy and to the ministry: {gone_html}"
    );
    assert!(
        by_guid(4)
            .title
            .as_ref()
            .unwrap()
            .content
            .starts_with("Restored: ")
    );
    let unpaired = visible_text(&by_guid(5).summary.as_ref().unwrap().content);
    assert!(
        unpaired.contains("has no counterpart in the Chinese transcript"),
        "{unpaired}"
    );

    let raw = xml(&set, "revisions");
    assert!(
        raw.contains("<pubDate>Sat, 04 Jul 2020 02:01:00 +0000</pubDate>"),
        "{raw}"
    );
}

#[test]
fn keyword_feed_highlights_terms_and_quotes_the_exchange() {
    let set = build(&inputs());
    let feed = parse(&xml(&set, "keywords/taiwan"));
    let entry = &feed.entries[0];
    assert_eq!(
        entry.id,
        format!("tag:briefwatch,2024:keyword:taiwan:{EN_URL}#3")
    );
    assert_eq!(entry.links[0].href, EN_URL);
    let html = &entry.summary.as_ref().unwrap().content;
    assert!(
        html.contains("<strong>Bloomberg: <mark>Taiwan</mark> &amp; the \"1992 Consensus\" &lt;again&gt;?</strong>"),
        "{html}"
    );
    assert!(
        html.contains("Zhao Lijian: <mark>Taiwan</mark> is part of China."),
        "{html}"
    );
    let raw = xml(&set, "keywords/taiwan");
    assert!(raw.contains(
        "href=\"https://briefwatch.example.org/bw/feeds/keywords/taiwan.xml\" rel=\"self\""
    ));
}

#[test]
fn items_per_feed_keeps_the_newest() {
    let mut inputs = inputs();
    let template = inputs.briefings[0].clone();
    inputs.briefings = (1..=5)
        .map(|day| {
            let mut entry = template.clone();
            entry.briefing.url = format!("https://www.fmprc.gov.cn/mfa_eng/t{day}.shtml");
            entry.briefing.title = format!("Briefing of July {day}");
            entry.briefing.date = NaiveDate::from_ymd_opt(2020, 7, day);
            entry.briefing.published_at = Some(beijing(2020, 7, day, 21, 0));
            entry
        })
        .collect();
    let set = FeedSet::build(&settings(3), &inputs, &FeedSet::default(), now()).unwrap();
    let titles: Vec<String> = parse(&xml(&set, "briefings"))
        .entries
        .into_iter()
        .map(|entry| entry.title.unwrap().content)
        .collect();
    assert_eq!(
        titles,
        [
            "Briefing of July 5",
            "Briefing of July 4",
            "Briefing of July 3"
        ]
    );
}

#[test]
fn raw_xml_follows_the_validator_rules() {
    let mut inputs = inputs();
    // Control characters from a broken page must not reach the XML.
    inputs.briefings[0].briefing.title =
        "Bell\u{7} and escape\u{1b} and NUL\u{0} stripped".to_string();
    inputs.briefings[0].briefing.exchanges[0].answer[0].push('\u{c}');
    let set = build(&inputs);
    let rfc822 = Regex::new(
        r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$",
    )
    .unwrap();
    let dates = Regex::new(r"<(pubDate|lastBuildDate)>([^<]*)</").unwrap();
    let guids = Regex::new(r"<guid([^>]*)>([^<]*)</guid>").unwrap();
    let links = Regex::new(r"<link>([^<]*)</link>").unwrap();
    let hrefs = Regex::new(r#"href="([^"]*)""#).unwrap();
    for name in ALL_FEEDS {
        let raw = xml(&set, name);
        assert!(
            raw.starts_with(r#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0""#),
            "{name}: {}",
            &raw[..80]
        );
        assert!(
            raw.contains(r#"xmlns:atom="http://www.w3.org/2005/Atom""#),
            "{name}"
        );
        let self_link = format!(
            r#"<atom:link href="{PUBLIC_URL}/feeds/{name}.xml" rel="self" type="application/rss+xml"/>"#
        );
        assert!(raw.contains(&self_link), "{name}: no {self_link} in {raw}");
        assert!(raw.contains("<ttl>15</ttl>"), "{name}");
        assert_eq!(
            raw.matches("]]>").count(),
            raw.matches("]]></description>").count(),
            "{name}: a ]]> outside a CDATA end"
        );
        assert!(
            !raw.chars()
                .any(|ch| ch.is_control() && !matches!(ch, '\n' | '\r' | '\t')),
            "{name} contains a control character"
        );
        for date in dates.captures_iter(&raw) {
            assert!(
                rfc822.is_match(&date[2]),
                "{name}: {} is not RFC 822",
                &date[2]
            );
        }
        let items = raw.matches("<item>").count();
        let guid_count = guids
            .captures_iter(&raw)
            .inspect(|guid| {
                assert_eq!(&guid[1], r#" isPermaLink="false""#, "{name}");
                assert!(
                    guid[2].starts_with("tag:briefwatch,2024:"),
                    "{name}: {}",
                    &guid[2]
                );
            })
            .count();
        assert_eq!(guid_count, items, "{name}: one guid per item");
        assert_eq!(
            raw.matches("<pubDate>").count(),
            items + usize::from(items > 0),
            "{name}"
        );
        for link in links.captures_iter(&raw).map(|c| c[1].to_string()).chain(
            hrefs
                .captures_iter(&raw)
                .map(|c| c[1].replace("&amp;", "&")),
        ) {
            let url =
                url::Url::parse(&link).unwrap_or_else(|_| panic!("{name}: {link} is not absolute"));
            assert!(matches!(url.scheme(), "http" | "https"), "{name}: {link}");
        }
    }
    let title = &parse(&xml(&set, "briefings-en")).entries[0];
    assert_eq!(
        title.title.as_ref().unwrap().content,
        "Bell and escape and NUL stripped"
    );
}

#[test]
fn static_files_are_written_atomically_and_only_when_changed() {
    let dir = tempfile::tempdir().unwrap();
    let shared = SharedFeeds::default();
    let changed = shared.refresh(&settings(50), &inputs(), now()).unwrap();
    assert_eq!(changed.len(), ALL_FEEDS.len());
    let report = shared.load().write_dir(dir.path()).unwrap();
    assert_eq!(report.written.len(), ALL_FEEDS.len());
    assert!(report.unchanged.is_empty());
    let taiwan = dir.path().join("keywords/taiwan.xml");
    assert_eq!(
        std::fs::read(&taiwan).unwrap(),
        shared.load().get("keywords/taiwan").unwrap().body.as_ref()
    );

    let mut next = inputs();
    next.events.pop();
    let changed = shared.refresh(&settings(50), &next, now()).unwrap();
    assert_eq!(changed, ["revisions"]);
    let report = shared.load().write_dir(dir.path()).unwrap();
    assert_eq!(report.written, ["revisions"]);
    assert_eq!(report.unchanged.len(), ALL_FEEDS.len() - 1);
    let leftovers: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|path| !path.to_string_lossy().ends_with(".xml"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[test]
fn rule_names_that_are_not_path_safe_are_refused() {
    let mut inputs = inputs();
    inputs.keywords.insert("../escape".to_string(), vec![]);
    let error = FeedSet::build(&settings(50), &inputs, &FeedSet::default(), now()).unwrap_err();
    assert!(error.to_string().contains("\"../escape\""), "{error}");
}

/// Python feedparser is what many readers use; `bozo` flags any well-formedness problem.
#[test]
#[ignore = "needs python3 feedparser"]
fn feedparser_reads_every_feed_without_bozo() {
    crate::support::require_feedparser();
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = inputs();
    inputs.briefings[0].briefing.title = HOSTILE.to_string();
    build(&inputs).write_dir(dir.path()).unwrap();
    let script = r#"
import json, sys, feedparser
result = {}
for path in sys.argv[1:]:
    parsed = feedparser.parse(path)
    result[path] = {
        "bozo": parsed.bozo,
        "error": str(parsed.get("bozo_exception", "")),
        "version": parsed.version,
        "titles": [entry.title for entry in parsed.entries],
        "ids": [entry.id for entry in parsed.entries],
    }
print(json.dumps(result))
"#;
    let paths: Vec<String> = ALL_FEEDS
        .iter()
        .map(|name| dir.path().join(format!("{name}.xml")).display().to_string())
        .collect();
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(&paths)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for path in &paths {
        let feed = &result[path];
        assert_eq!(
            feed["bozo"],
            serde_json::json!(false),
            "{path}: {}",
            feed["error"]
        );
        assert_eq!(feed["version"], "rss20", "{path}");
    }
    let english = &result[&paths[1]];
    assert_eq!(english["titles"][0], HOSTILE);
    assert_eq!(
        english["ids"][0],
        format!("tag:briefwatch,2024:briefing:{EN_URL}")
    );
}

// ---------------------------------------------------------------------------------------------
// Real transcripts, extracted from saved pages.

use briefwatch::charset::decode_html;
use briefwatch::feed::clean_text;
use briefwatch::site::{Profile, is_listing_url, is_soft_404};

fn extract_page(path: &std::path::Path, url: &str) -> Option<Briefing> {
    let html = decode_html(&std::fs::read(path).unwrap(), Some("text/html"));
    if is_soft_404(&html) {
        return None;
    }
    Profile::detect(url, &html)
        .and_then(|profile| profile.parse_article(&html, url))
        .ok()
}

/// Renders `briefings` into a feed set large enough to hold all of them, and checks that every
/// transcript reads back from feed-rs with its title, link and full text intact.
fn check_real_briefings(briefings: Vec<Briefing>) -> FeedSet {
    let inputs = FeedInputs {
        briefings: briefings
            .iter()
            .map(|briefing| BriefingEntry {
                briefing: briefing.clone(),
                archive_date: None,
                fetched_at: None,
            })
            .collect(),
        ..FeedInputs::default()
    };
    let set = FeedSet::build(&settings(10_000), &inputs, &FeedSet::default(), now()).unwrap();
    let feed = parse(&xml(&set, "briefings"));
    // A page with no date at all cannot be placed in a date-ordered feed.
    let dated: Vec<&Briefing> = briefings
        .iter()
        .filter(|briefing| briefwatch::feed::document_date(briefing, None, None).is_some())
        .collect();
    assert_eq!(feed.entries.len(), dated.len());
    for briefing in dated {
        let guid = format!("tag:briefwatch,2024:briefing:{}", briefing.url);
        let entry = feed
            .entries
            .iter()
            .find(|entry| entry.id == guid)
            .unwrap_or_else(|| panic!("{guid} in the feed"));
        assert_eq!(
            entry.title.as_ref().unwrap().content,
            clean_text(&briefing.title),
            "{}",
            briefing.url
        );
        assert_eq!(entry.links[0].href, briefing.url);
        let text = visible_text(&entry.summary.as_ref().unwrap().content);
        for paragraph in briefing.opening.iter().chain(
            briefing
                .exchanges
                .iter()
                .flat_map(|e| e.question.iter().chain(&e.answer)),
        ) {
            // The rendering shows non-breaking spaces as such; everything else verbatim.
            assert!(
                text.contains(clean_text(paragraph).as_ref()),
                "{}: paragraph missing from the description: {paragraph:?}",
                briefing.url
            );
        }
    }
    set
}

#[test]
fn real_transcripts_render_and_read_back() {
    let briefings: Vec<Briefing> = crate::support::fixture_pages()
        .into_iter()
        .filter(|page| !page.listing)
        .filter_map(|page| extract_page(&page.file, &page.url))
        .collect();
    assert!(
        briefings.len() >= 7,
        "{} fixture transcripts",
        briefings.len()
    );
    let chinese = briefings.iter().filter(|b| b.lang == Lang::Zh).count();
    assert!(chinese > 0);
    let set = check_real_briefings(briefings);
    assert_eq!(parse(&xml(&set, "briefings-zh")).entries.len(), chinese);
}

#[test]
#[ignore = "needs BRIEFWATCH_CORPUS and python3 feedparser"]
fn whole_corpus_feeds() {
    let corpus = crate::support::corpus_dir();
    let root = corpus.join("mfa-2020");
    let manifest = std::fs::read_to_string(root.join("MANIFEST.tsv")).unwrap();
    let briefings: Vec<Briefing> = manifest
        .lines()
        .skip(1)
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .filter(|fields| fields[1] == "200" && !is_listing_url(fields[0]))
        .filter_map(|fields| extract_page(&root.join(fields[3]), fields[0]))
        .collect();
    assert!(
        briefings.len() > 800,
        "{} transcripts extracted",
        briefings.len()
    );
    let set = check_real_briefings(briefings);

    crate::support::require_feedparser();
    let dir = tempfile::tempdir().unwrap();
    set.write_dir(dir.path()).unwrap();
    for name in ["briefings-en", "briefings-zh"] {
        let path = dir.path().join(format!("{name}.xml"));
        let output = Command::new("python3")
            .arg("-c")
            .arg("import sys, feedparser; d = feedparser.parse(sys.argv[1]); print(d.bozo, len(d.entries), d.get('bozo_exception', ''))")
            .arg(&path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.starts_with("False "),
            "{name}: feedparser says {stdout}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// From the archive: `briefwatch feeds --out` after a backfill and a revision.

use crate::support::{
    EN_ARTICLE, FIXTURE_EN_ARTICLES, FIXTURE_ZH_ARTICLES, SiteServer, TestEnv, fixture_site,
    test_config,
};

/// The English article of 3 July with its second exchange (Beijing Youth Daily) cut out and one
/// answer reworded.
fn revised_article(site: &SiteServer) -> Vec<u8> {
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
    kept.join("\n")
        .replacen("highly applauds", "appreciates", 1)
        .into_bytes()
}

#[test]
fn feeds_command_writes_the_archive_as_feeds_and_reports_a_revision() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::with_config(&test_config(
        &site,
        r#"
[feeds]
items = 20

[[alert]]
name = "hong-kong"
terms = ['"Hong Kong"', "香港"]
recipients = ["desk@example.org"]

[smtp]
host = "127.0.0.1"
security = "none"
from = "briefwatch <alerts@example.org>"
"#,
    ));
    env.briefwatch(&["backfill"]);
    let out = env.dir.path().join("public");
    let printed = env.briefwatch(&["feeds", "--out", out.to_str().unwrap()]);
    assert_eq!(
        printed
            .lines()
            .filter(|line| line.starts_with("written "))
            .count(),
        5,
        "briefings, briefings-en, briefings-zh, revisions, keywords/hong-kong: {printed}"
    );

    let read = |name: &str| std::fs::read_to_string(out.join(format!("{name}.xml"))).unwrap();
    let english = parse(&read("briefings-en"));
    assert_eq!(english.entries.len(), FIXTURE_EN_ARTICLES.len());
    assert_eq!(
        parse(&read("briefings-zh")).entries.len(),
        FIXTURE_ZH_ARTICLES.len()
    );
    assert_eq!(
        parse(&read("briefings")).entries.len(),
        FIXTURE_EN_ARTICLES.len() + FIXTURE_ZH_ARTICLES.len()
    );
    let july3 = english
        .entries
        .iter()
        .find(|entry| entry.links[0].href == site.url(EN_ARTICLE))
        .expect("the 3 July briefing");
    assert_eq!(
        july3.title.as_ref().unwrap().content,
        "Foreign Ministry Spokesperson Zhao Lijian's Regular Press Conference on July 3, 2020"
    );
    let text = visible_text(&july3.summary.as_ref().unwrap().content);
    assert!(
        text.contains("Beijing Youth Daily: Ryo Takeuchi, a Japanese director"),
        "{text}"
    );
    assert!(parse(&read("revisions")).entries.is_empty());

    let keyword = parse(&read("keywords/hong-kong"));
    assert!(!keyword.entries.is_empty());
    for entry in &keyword.entries {
        assert!(
            entry
                .id
                .starts_with("tag:briefwatch,2024:keyword:hong-kong:"),
            "{}",
            entry.id
        );
        let html = &entry.summary.as_ref().unwrap().content;
        assert!(
            html.contains("<mark>Hong Kong</mark>") || html.contains("<mark>香港</mark>"),
            "{html}"
        );
    }
    assert!(
        keyword
            .entries
            .iter()
            .any(|entry| entry.links[0].href == site.url(EN_ARTICLE)),
        "the 3 July CCTV question on Hong Kong"
    );

    // Nothing changed: nothing is rewritten.
    let printed = env.briefwatch(&["feeds", "--out", out.to_str().unwrap()]);
    assert!(
        printed.lines().all(|line| line.starts_with("unchanged ")),
        "{printed}"
    );

    site.set_page(EN_ARTICLE, revised_article(&site));
    env.briefwatch(&["poll", "--once", "--all"]);
    let printed = env.briefwatch(&["feeds", "--out", out.to_str().unwrap()]);
    let written: Vec<&str> = printed
        .lines()
        .filter_map(|line| line.strip_prefix("written "))
        .map(str::trim)
        .collect();
    for name in ["briefings.xml", "briefings-en.xml", "revisions.xml"] {
        assert!(
            written
                .iter()
                .any(|path| path.ends_with(&format!("/{name}"))),
            "{name}: {printed}"
        );
    }
    assert!(
        !written
            .iter()
            .any(|path| path.ends_with("/briefings-zh.xml")),
        "{printed}"
    );

    let english = parse(&read("briefings-en"));
    let edited = english
        .entries
        .iter()
        .find(|entry| entry.links[0].href == site.url(EN_ARTICLE))
        .unwrap();
    assert_eq!(edited.id, july3.id, "an edit keeps the briefing's guid");

    // One item for the revision, quoting the exchange it removed once, with the Chinese exchange
    // it left unpaired as one line.
    let revisions = parse(&read("revisions"));
    let titles: Vec<&str> = revisions
        .entries
        .iter()
        .map(|entry| entry.title.as_ref().unwrap().content.as_str())
        .collect();
    let briefing =
        "Foreign Ministry Spokesperson Zhao Lijian's Regular Press Conference on July 3, 2020";
    assert_eq!(
        titles,
        [format!("Revised, 1 exchange removed: {briefing}")],
        "{titles:?}"
    );
    let revised = revisions
        .entries
        .iter()
        .find(|entry| entry.title.as_ref().unwrap().content.starts_with("Revised"))
        .unwrap();
    assert_eq!(revised.links[0].href, site.url(EN_ARTICLE));
    let html = &revised.summary.as_ref().unwrap().content;
    assert!(html.contains("<del>highly applauds</del>"), "{html}");
    assert!(html.contains("<ins>appreciates</ins>"), "{html}");
    assert!(
        html.contains("Exchange 2 removed (Beijing Youth Daily)"),
        "{html}"
    );
    assert_eq!(
        html.matches("<strong>Beijing Youth Daily: Ryo Takeuchi")
            .count(),
        1,
        "the removed exchange is quoted once: {html}"
    );
    assert!(
        html.contains("Zhao Lijian: Indeed, the documentary"),
        "{html}"
    );
    let text = visible_text(html);
    assert!(
        text.contains("Pairing with the Chinese transcript: Chinese exchange ")
            && text.contains("now has no English counterpart."),
        "{text}"
    );
    let document_id = env
        .store()
        .document(briefwatch::store::DocumentKey::Url(&site.url(EN_ARTICLE)))
        .unwrap()
        .unwrap()
        .id;
    assert!(
        html.contains(&format!(
            "href=\"http://127.0.0.1:0/b/{document_id}/diff?from=1&amp;to=2\""
        )),
        "{html}"
    );
}

#[test]
fn feeds_command_without_a_directory_says_how_to_give_one() {
    let site = SiteServer::start(fixture_site());
    let env = TestEnv::new(&site);
    let output = env.briefwatch_output(&["feeds"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("pass --out DIR or set [feeds] out_dir"),
        "{stderr}"
    );
}
