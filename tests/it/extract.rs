//! The extraction stage on real pages: golden records, the whole 2020 corpus, the `extract`
//! command line, and no panic on damaged input.

use std::collections::BTreeMap;
use std::process::Command;

use briefwatch::charset::decode_html;
use briefwatch::model::{Briefing, DateFrom, FoundBy, Kind, Lang, Listing};
use briefwatch::site::{Profile, SiteError, is_listing_url, is_soft_404};
use proptest::prelude::*;

use crate::support::{FixturePage, fixture_page, fixture_pages};

/// A listing fixture as the named built-in profile reads it.
fn listing_fixture(profile: &str, name: &str) -> Listing {
    let fixture = fixture_page(name);
    Profile::builtin(profile)
        .unwrap()
        .parse_listing(&fixture.html(), &fixture.url)
        .unwrap()
}

fn article(name: &str) -> Briefing {
    let fixture = fixture_page(name);
    let html = fixture.html();
    Profile::detect(&fixture.url, &html)
        .and_then(|profile| profile.parse_article(&html, &fixture.url))
        .unwrap_or_else(|error| panic!("{name}: {error}"))
}

/// What the extractor makes of a fixture, as the JSON the golden file holds.
fn extract_fixture(fixture: &FixturePage) -> serde_json::Value {
    let html = fixture.html();
    let result = Profile::detect(&fixture.url, &html).and_then(|profile| {
        if fixture.listing {
            profile
                .parse_listing(&html, &fixture.url)
                .map(|listing| serde_json::to_value(listing).unwrap())
        } else {
            profile
                .parse_article(&html, &fixture.url)
                .map(|briefing| serde_json::to_value(briefing).unwrap())
        }
    });
    result.unwrap_or_else(|error| serde_json::json!({ "error": error.to_string() }))
}

/// Each fixture page against the `*.expected.json` beside it. `BRIEFWATCH_BLESS=1` rewrites the
/// expected files from the current extractor (read them before committing).
#[test]
fn golden_pages() {
    let bless = std::env::var("BRIEFWATCH_BLESS").is_ok_and(|value| value == "1");
    let mut failures = Vec::new();
    for fixture in fixture_pages() {
        let actual = extract_fixture(&fixture);
        let rendered = serde_json::to_string_pretty(&actual).unwrap() + "\n";
        let expected_file = fixture.expected_file();
        if bless {
            std::fs::write(&expected_file, &rendered).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_file)
            .unwrap_or_else(|_| panic!("missing {}", expected_file.display()));
        if expected != rendered {
            let line = expected
                .lines()
                .zip(rendered.lines())
                .position(|(want, got)| want != got)
                .unwrap_or(expected.lines().count().min(rendered.lines().count()));
            failures.push(format!(
                "{}: differs from {} at line {}:\n  expected: {}\n  actual:   {}",
                fixture.file.display(),
                expected_file.display(),
                line + 1,
                expected.lines().nth(line).unwrap_or("<end>"),
                rendered.lines().nth(line).unwrap_or("<end>"),
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n(rerun with BRIEFWATCH_BLESS=1 to accept)",
        failures.join("\n")
    );
}

#[test]
fn english_2020_transcript_with_outlets() {
    let briefing = article("en-2020/t1794629.shtml");
    assert_eq!(briefing.lang, Lang::En);
    assert_eq!(briefing.kind, Kind::PressConference);
    assert_eq!(briefing.date.unwrap().to_string(), "2020-07-03");
    assert_eq!(briefing.spokesperson.as_deref(), Some("Zhao Lijian"));
    assert_eq!(
        briefing.published_at, None,
        "#News_Body_Time is empty in 2020"
    );
    assert!(briefing.opening.is_empty());
    let askers: Vec<&str> = briefing
        .exchanges
        .iter()
        .map(|e| e.asker.as_str())
        .collect();
    assert_eq!(
        askers,
        [
            "CCTV",
            "Beijing Youth Daily",
            "China News Service",
            "RIA Novosti",
            "CNR",
            "Phoenix TV",
            "China Daily",
            "PTI",
            "Kyodo News",
            "AFP",
            "Q"
        ]
    );
    let last = briefing.exchanges.last().unwrap();
    assert!(last.after_conference);
    assert!(last.question[0].starts_with("In response to Chinese Coast Guard vessels"));
    assert!(last.answer[0].starts_with("Diaoyu Dao and its affiliated islands"));
    assert!(briefing.exchanges[..10].iter().all(|e| !e.after_conference));
    // Labels are stripped; words split across <SPAN>s and &nbsp; are joined.
    let second = &briefing.exchanges[1];
    assert!(second.question[0].starts_with("Ryo Takeuchi, a Japanese director"));
    assert!(second.answer[0].starts_with(
        "Indeed, the documentary you are following has been warmly received in China and Japan."
    ));
    // The separator paragraph is not content of any exchange.
    let all_text: Vec<&String> = briefing
        .exchanges
        .iter()
        .flat_map(|e| e.question.iter().chain(&e.answer))
        .collect();
    assert!(
        !all_text
            .iter()
            .any(|p| p.contains("is raised after the press conference"))
    );
}

#[test]
fn chinese_2020_transcript_matches_english_exchange_for_exchange() {
    let chinese = article("zh-2020/t1794584.shtml");
    let english = article("en-2020/t1794629.shtml");
    assert_eq!(chinese.lang, Lang::Zh);
    assert_eq!(chinese.spokesperson.as_deref(), Some("赵立坚"));
    assert_eq!(chinese.date, english.date);
    assert_eq!(
        chinese.published_at.unwrap().to_rfc3339(),
        "2020-07-03T00:00:00+08:00"
    );
    assert_eq!(chinese.exchanges.len(), english.exchanges.len());
    assert_eq!(chinese.exchanges[0].asker, "中央电视台记者");
    assert_eq!(chinese.exchanges[1].asker, "《北京青年报》记者");
    let last = chinese.exchanges.last().unwrap();
    assert_eq!(last.asker, "问");
    assert!(last.after_conference);
    assert!(last.question[0].starts_with("据报道，日本内阁官房长官菅义伟2日"));
    // U+3000 indents are gone, text is NFC and single-spaced.
    for exchange in &chinese.exchanges {
        for paragraph in exchange.question.iter().chain(&exchange.answer) {
            assert!(!paragraph.contains('\u{3000}') && !paragraph.starts_with(' '));
        }
    }
}

#[test]
fn english_2018_anonymous_transcript_keeps_follow_ups_and_interjections_inside() {
    let follow_up = article("en-2018/t1611898.shtml");
    assert_eq!(follow_up.exchanges.len(), 5);
    assert!(follow_up.exchanges.iter().all(|e| e.asker == "Q"));
    let dialogue = &follow_up.exchanges[3];
    assert_eq!(dialogue.question.len(), 1);
    assert!(dialogue.answer[1].starts_with("Follow-up: Do you have any more details"));
    assert!(dialogue.answer[2].starts_with("A: After the dialogue"));

    let interjection = article("en-2018/t1618892.shtml");
    let with_journalist = interjection
        .exchanges
        .iter()
        .find(|e| e.answer.iter().any(|p| p.starts_with("Journalist:")))
        .expect("an exchange with a Journalist: interjection");
    assert_eq!(with_journalist.asker, "Q");
}

#[test]
fn remarks_and_qa_pages_are_classified() {
    let remarks = article("en-2019/t1689478.shtml");
    assert_eq!(remarks.kind, Kind::Remarks);
    assert_eq!(remarks.date.unwrap().to_string(), "2019-08-16");
    assert_eq!(remarks.spokesperson.as_deref(), Some("Hua Chunying"));
    assert_eq!(remarks.exchanges.len(), 5);

    let qa = article("zh-2020/t1731219.shtml");
    assert_eq!(qa.kind, Kind::Qa);
    // The title names no date: the page's publication date stands in.
    assert_eq!(qa.date.unwrap().to_string(), "2020-01-12");
    assert_eq!(qa.date_from, Some(DateFrom::PublishedAt));
    assert_eq!(qa.spokesperson.as_deref(), Some("耿爽"));
    assert!(!qa.exchanges.is_empty());
    assert!(
        qa.exchanges
            .iter()
            .all(|e| e.asker == "问" && !e.answer.is_empty())
    );
}

#[test]
fn transcript_labelling_only_journalists_gets_its_answers() {
    let briefing = article("zh-2020/t1788865.shtml");
    assert_eq!(briefing.exchanges.len(), 9);
    assert_eq!(briefing.exchanges[0].asker, "总台央视记者");
    assert_eq!(briefing.opening.len(), 1);
    for exchange in &briefing.exchanges {
        assert_eq!(exchange.question.len(), 1, "{exchange:?}");
        assert!(!exchange.answer.is_empty(), "{exchange:?}");
    }
}

#[test]
fn current_layout_page_and_listing() {
    let briefing = article("en-current/t20240129_11234850.html");
    assert_eq!(
        briefing.title,
        "Foreign Ministry Spokesperson Wang Wenbin’s Regular Press Conference on January 29, 2024"
    );
    assert_eq!(briefing.spokesperson.as_deref(), Some("Wang Wenbin"));
    assert_eq!(
        briefing.published_at.unwrap().to_rfc3339(),
        "2024-01-29T21:19:00+08:00"
    );
    assert_eq!(briefing.exchanges.len(), 10);
    assert!(briefing.exchanges[9].answer[0].starts_with("I'm not aware of the specifics"));
    let text = serde_json::to_string(&briefing).unwrap();
    for chrome in ["Suggest to a friend", "Print", "Español", "Related"] {
        assert!(!text.contains(chrome), "{chrome} leaked into the record");
    }

    let listing = listing_fixture("mfa-en", "en-current/index.html");
    assert_eq!(listing.page_count, Some(1));
    assert_eq!(listing.items.len(), 1);
    assert_eq!(
        listing.items[0].url,
        "https://www.fmprc.gov.cn/eng/xw/fyrbt/lxjzh/202401/t20240129_11234850.html"
    );
    assert_eq!(listing.items[0].date.unwrap().to_string(), "2024-01-29");
}

/// The 2021–23 and current Chinese layouts are only reported (no saved page): markup built from
/// the selectors public scrapers use.
#[test]
fn reported_chinese_layouts() {
    let profile = Profile::builtin("mfa-zh").unwrap();
    let era_2022 = r#"<html><head><title>2022年2月16日外交部发言人汪文斌主持例行记者会_中华人民共和国外交部</title></head><body>
        <div class="news-title"><h1>2022年2月16日外交部发言人汪文斌主持例行记者会</h1><p class="time">2022-02-16 20:05</p></div>
        <div class="news-main"><p>　　总台央视记者：有何评论？</p><p>　　汪文斌：中方欢迎。</p><p>　　法新社记者：他说：“会谈很好。”你是否同意？</p><p>　　汪文斌：我同意。</p></div>
        <div class="related"><a href="x">相关新闻</a></div></body></html>"#;
    let url =
        "https://www.fmprc.gov.cn/web/fyrbt_673021/jzhsl_673025/202405/t20240530_11347225.shtml";
    let briefing = profile.parse_article(era_2022, url).unwrap();
    assert_eq!(
        briefing.title,
        "2022年2月16日外交部发言人汪文斌主持例行记者会"
    );
    assert_eq!(
        briefing.date.unwrap().to_string(),
        "2022-02-16",
        "from the title, not the 2024 path"
    );
    assert_eq!(
        briefing.published_at.unwrap().to_rfc3339(),
        "2022-02-16T20:05:00+08:00"
    );
    assert_eq!(briefing.spokesperson.as_deref(), Some("汪文斌"));
    assert_eq!(briefing.exchanges.len(), 2);
    assert_eq!(briefing.exchanges[1].asker, "法新社记者");
    assert_eq!(
        briefing.exchanges[1].question,
        ["他说：“会谈很好。”你是否同意？"]
    );

    let current = r#"<html><body><h1 id="News_Body_Title">2024年1月29日外交部发言人汪文斌主持例行记者会</h1>
        <div class="time"><span>来源：外交部</span><span>2024-01-29 21:19</span></div>
        <div id="News_Body_Txt_A"><p>彭博社记者：有何回应？</p><p>汪文斌：我们不评论。</p></div></body></html>"#;
    let briefing = profile.parse_article(current, url).unwrap();
    assert_eq!(
        briefing.published_at.unwrap().to_rfc3339(),
        "2024-01-29T21:19:00+08:00"
    );
    assert_eq!(briefing.exchanges[0].answer, ["我们不评论。"]);

    let listing_2022 = r#"<div class="newsBd"><ul><li><a href="./202202/t20220216_10642608.shtml">2022年2月16日外交部发言人汪文斌主持例行记者会</a><span>2022-02-16</span></li></ul></div>
        <script>createPageHTML(143, 0, "index", "shtml");</script>"#;
    let listing = profile
        .parse_listing(
            listing_2022,
            "https://www.mfa.gov.cn/web/wjdt_674879/fyrbt_674889/",
        )
        .unwrap();
    assert_eq!(listing.page_count, Some(143));
    assert_eq!(
        listing.items[0].url,
        "https://www.mfa.gov.cn/web/wjdt_674879/fyrbt_674889/202202/t20220216_10642608.shtml"
    );
    assert_eq!(listing.items[0].date.unwrap().to_string(), "2022-02-16");

    let listing_current = r#"<ul class="list1"><li><a href="./202401/t20240129_11234765.shtml">2024年1月29日外交部发言人汪文斌主持例行记者会</a> (2024-01-29)</li></ul>"#;
    let listing = profile
        .parse_listing(
            listing_current,
            "https://www.mfa.gov.cn/web/wjdt_674879/fyrbt_674889/index_1.shtml",
        )
        .unwrap();
    assert_eq!(
        listing.items[0].url,
        "https://www.mfa.gov.cn/web/wjdt_674879/fyrbt_674889/202401/t20240129_11234765.shtml"
    );
    assert_eq!(listing.page_count, None);
}

#[test]
fn listings_of_2020() {
    let listing = listing_fixture("mfa-en", "en-2020/default.shtml");
    assert_eq!(listing.page_count, Some(13));
    assert_eq!(listing.items.len(), 40);
    assert_eq!(
        listing.items[0].url,
        "https://www.fmprc.gov.cn/mfa_eng/xwfw_665399/s2510_665401/2511_665403/t1794629.shtml"
    );
    assert!(listing.items.iter().all(|item| item.date.is_none()));

    let listing = listing_fixture("mfa-zh", "zh-2020/default.shtml");
    assert_eq!(listing.page_count, Some(67));
    assert_eq!(listing.items.len(), 15);
    assert_eq!(
        listing.items[3].title,
        "外交部发言人就全国人大常委会审议通过香港国安法发表谈话"
    );
    assert_eq!(listing.items[3].date.unwrap().to_string(), "2020-06-30");
}

#[test]
fn error_page_is_not_a_transcript() {
    let fixture = fixture_page("error/error.htm");
    let html = fixture.html();
    assert!(is_soft_404(&html));
    let error = Profile::builtin("mfa-zh")
        .unwrap()
        .parse_article(&html, &fixture.url)
        .unwrap_err();
    assert!(matches!(error, SiteError::NotATranscript { .. }), "{error}");
    for page in [
        "en-2020/t1794629.shtml",
        "zh-2020/t1794584.shtml",
        "zh-2020/default.shtml",
    ] {
        assert!(!is_soft_404(&fixture_page(page).html()), "{page}");
    }
}

#[test]
fn unrecognized_layout_names_the_selectors_tried() {
    let html = "<html><head><title>Regular Press Conference</title></head><body><div class=\"story\"><p>Q: Why?</p></div></body></html>";
    let error = Profile::builtin("mfa-en")
        .unwrap()
        .parse_article(html, "https://example.test/a.html")
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("layout not recognized: https://example.test/a.html: tried body ["),
        "{error}"
    );
    assert!(error.contains(".content_mod div.content") && error.contains("#News_Body_Txt_A"));

    let empty_body = "<div class=\"content_mod\"><h2 class=\"title\">T</h2><div class=\"content\"><p><img src=a.jpg></p></div></div>";
    assert!(matches!(
        Profile::builtin("mfa-en")
            .unwrap()
            .parse_article(empty_body, "https://example.test/b.html"),
        Err(SiteError::LayoutNotRecognized { .. })
    ));

    let listing_error = Profile::builtin("mfa-zh")
        .unwrap()
        .parse_listing("<ul><li>nothing</li></ul>", "https://example.test/")
        .unwrap_err()
        .to_string();
    assert!(
        listing_error
            .starts_with("listing has no items: https://example.test/: tried listing_items [")
    );
}

#[test]
fn config_overrides_rescue_a_new_layout() {
    let html = "<html><body><h1 class=\"headline\">Foreign Ministry Spokesperson Lin Jian's Regular Press Conference on May 6, 2025</h1><section class=\"article-body\"><p>AFP: Any comment?</p><p>Lin Jian: No.</p></section></body></html>";
    let profile = Profile::builtin("mfa-en").unwrap();
    // The built-in chains do not know the layout: the content fallback finds the transcript.
    let found = profile
        .parse_article(html, "https://example.test/n.html")
        .unwrap();
    assert_eq!(found.found_by, Some(FoundBy::Fallback));
    assert_eq!(found.selector, None);
    let overrides: briefwatch::config::SelectorOverrides =
        toml::from_str("body = [\"section.article-body\"]\ntitle = [\"h1.headline\"]").unwrap();
    let briefing = profile
        .with_overrides(&overrides)
        .unwrap()
        .parse_article(html, "https://example.test/n.html")
        .unwrap();
    assert_eq!(briefing.spokesperson.as_deref(), Some("Lin Jian"));
    assert_eq!(briefing.exchanges.len(), 1);
    assert_eq!(briefing.exchanges[0].asker, "AFP");
    assert_eq!(briefing.exchanges[0].answer, ["No."]);
    assert_eq!(briefing.found_by, Some(FoundBy::Selector));
    assert_eq!(briefing.selector.as_deref(), Some("section.article-body"));
    assert_eq!(briefing.exchanges, found.exchanges);
}

#[test]
fn content_hash_ignores_markup_but_not_words() {
    let fixture = fixture_page("en-2020/t1794629.shtml");
    let html = fixture.html();
    let profile = Profile::detect(&fixture.url, &html).unwrap();
    let original = profile.parse_article(&html, &fixture.url).unwrap();
    assert_eq!(
        original.content_hash,
        profile
            .parse_article(&html, &fixture.url)
            .unwrap()
            .content_hash,
        "stable across runs"
    );

    // Markup-only changes: different SPAN splitting, NBSP for spaces, extra attributes.
    let remarked = html
        .replace(
            "</SPAN><SPAN style=\"FONT-SIZE: 14px; FONT-FAMILY: arial\">",
            "",
        )
        .replace("Zhao Lijian: ", "Zhao Lijian:&nbsp;")
        .replace("align=justify", "align=left class=x");
    assert_ne!(remarked, html);
    let moved_url =
        "https://www.mfa.gov.cn/mfa_eng/xwfw_665399/s2510_665401/2511_665403/t1794629.shtml";
    assert_eq!(
        profile
            .parse_article(&remarked, moved_url)
            .unwrap()
            .content_hash,
        original.content_hash
    );

    // A word removed from one answer changes it.
    let edited = html.replacen(
        "Diaoyu Dao and its affiliated islands are",
        "Diaoyu Dao is",
        1,
    );
    assert_ne!(
        profile
            .parse_article(&edited, &fixture.url)
            .unwrap()
            .content_hash,
        original.content_hash
    );
}

// ---------------------------------------------------------------------------------------------
// The command line.

fn briefwatch() -> Command {
    Command::new(env!("CARGO_BIN_EXE_briefwatch"))
}

#[test]
fn cli_prints_one_record() {
    let fixture = fixture_page("zh-2020/t1794584.shtml");
    let output = briefwatch()
        .args(["extract", "--url", &fixture.url])
        .arg(&fixture.file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let record: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in [
        "url",
        "lang",
        "kind",
        "title",
        "date",
        "published_at",
        "spokesperson",
        "opening",
        "exchanges",
        "content_hash",
    ] {
        assert!(record.get(key).is_some(), "missing {key}");
    }
    assert_eq!(record["lang"], "zh");
    assert_eq!(record["kind"], "press_conference");
    assert_eq!(record["date"], "2020-07-03");
    let exchange = &record["exchanges"][0];
    for key in ["ordinal", "asker", "question", "answer", "after_conference"] {
        assert!(exchange.get(key).is_some(), "missing exchange.{key}");
    }
    assert_eq!(exchange["ordinal"], 1);
}

#[test]
fn cli_listing_and_forced_profile() {
    let fixture = fixture_page("zh-2020/default.shtml");
    let output = briefwatch()
        .args([
            "extract",
            "--listing",
            "--profile",
            "mfa-zh",
            "--url",
            &fixture.url,
        ])
        .arg(&fixture.file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let listing: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(listing["page_count"], 67);
    assert_eq!(listing["items"].as_array().unwrap().len(), 15);
    assert_eq!(listing["items"][0]["date"], "2020-07-03");
}

#[test]
fn cli_error_page_fails_with_reason() {
    let fixture = fixture_page("error/error.htm");
    let output = briefwatch()
        .args(["extract", "--url", &fixture.url])
        .arg(&fixture.file)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("not a transcript: https://www.fmprc.gov.cn/error.htm"),
        "{stderr}"
    );
}

#[test]
fn cli_manifest_extracts_articles_and_reports_failures() {
    let dir = tempfile::tempdir().unwrap();
    let mut manifest =
        String::from("url\tstatus\tlocation\tfile\tbytes\tsha256\tcontent_type\tfetched_date\n");
    for (name, file) in [
        ("en-2020/t1794629.shtml", "a.shtml"),
        ("zh-2020/t1794584.shtml", "b.shtml"),
        ("en-2020/default.shtml", "default.shtml"),
        ("error/error.htm", "error.htm"),
    ] {
        let fixture = fixture_page(name);
        std::fs::copy(&fixture.file, dir.path().join(file)).unwrap();
        manifest.push_str(&format!(
            "{}\t200\t\t{file}\t0\t-\ttext/html\t-\n",
            fixture.url
        ));
    }
    manifest.push_str("https://www.fmprc.gov.cn/robots.txt\t302\thttps://www.fmprc.gov.cn/error.htm\trobots.txt\t0\t-\ttext/html\t-\n");
    let manifest_path = dir.path().join("MANIFEST.tsv");
    std::fs::write(&manifest_path, &manifest).unwrap();

    let output = briefwatch()
        .args(["extract", "--manifest"])
        .arg(&manifest_path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(records.len(), 2, "only the two articles");
    assert_eq!(records[0]["lang"], "en");
    assert_eq!(records[1]["lang"], "zh");

    // A page that is not a transcript layout makes the run fail and says which one.
    std::fs::write(
        dir.path().join("broken.shtml"),
        "<html><body><p>moved</p></body></html>",
    )
    .unwrap();
    manifest.push_str("https://www.fmprc.gov.cn/web/wjdt_674879/fyrbt_674889/t1.shtml\t200\t\tbroken.shtml\t0\t-\ttext/html\t-\n");
    std::fs::write(&manifest_path, &manifest).unwrap();
    let output = briefwatch()
        .args(["extract", "--manifest"])
        .arg(&manifest_path)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(
        last["url"],
        "https://www.fmprc.gov.cn/web/wjdt_674879/fyrbt_674889/t1.shtml"
    );
    assert!(
        last["error"]
            .as_str()
            .unwrap()
            .starts_with("layout not recognized")
    );
}

// ---------------------------------------------------------------------------------------------
// The whole 2020 corpus.

/// Exchange count and URL of the English and the Chinese press conference of one day.
type DayCounts = (Option<(usize, String)>, Option<(usize, String)>);

#[test]
#[ignore = "needs BRIEFWATCH_CORPUS"]
fn whole_corpus() {
    let corpus = crate::support::corpus_dir();
    let root = corpus.join("mfa-2020");
    let manifest = std::fs::read_to_string(root.join("MANIFEST.tsv")).unwrap();
    let mut failures = Vec::new();
    let mut problems = Vec::new();
    let mut extracted = 0;
    // Exchange counts of press conferences by day and language.
    let mut by_day: BTreeMap<chrono::NaiveDate, DayCounts> = BTreeMap::new();
    for line in manifest.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let (url, status, file, content_type) = (fields[0], fields[1], fields[3], fields[6]);
        if status != "200" || is_listing_url(url) {
            continue;
        }
        let html = decode_html(&std::fs::read(root.join(file)).unwrap(), Some(content_type));
        if is_soft_404(&html) {
            continue;
        }
        let profile = Profile::detect(url, &html).unwrap();
        let briefing = match profile.parse_article(&html, url) {
            Ok(briefing) => briefing,
            Err(error) => {
                failures.push(error.to_string());
                continue;
            }
        };
        // Parsing only the part of the page the selectors can reach changes nothing.
        let whole = profile.without_window().parse_article(&html, url).unwrap();
        if whole != briefing {
            problems.push(format!(
                "{url}: the record differs when the page is parsed whole"
            ));
        }
        extracted += 1;
        if briefing.kind != Kind::PressConference {
            continue;
        }
        if briefing.exchanges.is_empty()
            || briefing.date.is_none()
            || briefing.spokesperson.is_none()
        {
            problems.push(format!(
                "{url}: press conference with {} exchanges, date {:?}, spokesperson {:?}",
                briefing.exchanges.len(),
                briefing.date,
                briefing.spokesperson
            ));
        }
        if let Some(date) = briefing.date {
            let entry = by_day.entry(date).or_default();
            let count = Some((briefing.exchanges.len(), url.to_string()));
            match briefing.lang {
                Lang::En => entry.0 = count,
                Lang::Zh => entry.1 = count,
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} pages failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(extracted, 865, "article pages in the 2020 corpus");

    let days: Vec<_> = by_day
        .iter()
        .filter_map(|(date, (en, zh))| Some((date, en.as_ref()?, zh.as_ref()?)))
        .collect();
    let differing: Vec<String> = days
        .iter()
        .filter(|(_, en, zh)| en.0 != zh.0)
        .map(|(date, en, zh)| format!("{date}: en {} ({}) zh {} ({})", en.0, en.1, zh.0, zh.1))
        .collect();
    let agreement = 1.0 - differing.len() as f64 / days.len() as f64;
    eprintln!(
        "whole corpus: {extracted} articles, {} days with both languages, exchange counts agree on {:.1}%; differing days:\n{}",
        days.len(),
        agreement * 100.0,
        differing.join("\n")
    );
    assert!(
        days.len() >= 360,
        "only {} days with both languages",
        days.len()
    );
    assert!(
        agreement >= 0.95,
        "exchange counts agree on only {:.1}% of days:\n{}",
        agreement * 100.0,
        differing.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// No panic on any input.

/// Decode, detect and parse, as the fetcher and the daemon do with whatever the network returns.
fn run_pipeline(bytes: &[u8], url: &str) {
    let html = decode_html(bytes, Some("text/html"));
    let _ = is_soft_404(&html);
    if let Ok(profile) = Profile::detect(url, &html) {
        let _ = profile.parse_article(&html, url);
        let _ = profile.parse_listing(&html, url);
    }
    for name in ["mfa-en", "mfa-zh"] {
        let profile = Profile::builtin(name).unwrap();
        let _ = profile.parse_article(&html, url);
    }
}

fn fixture_bytes() -> Vec<(Vec<u8>, String)> {
    fixture_pages()
        .into_iter()
        .map(|fixture| (std::fs::read(&fixture.file).unwrap(), fixture.url))
        .collect()
}

/// A damaged copy of a page: bytes flipped, a piece cut out, closing tags deleted, truncated.
#[derive(Debug, Clone)]
enum Damage {
    Flip { at: usize, byte: u8 },
    Cut { at: usize, len: usize },
    DropClosingTags { every: usize },
    Truncate { at: usize },
}

fn damage_strategy() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Damage::Flip { at, byte }),
        (any::<usize>(), 1usize..4096).prop_map(|(at, len)| Damage::Cut { at, len }),
        (1usize..8).prop_map(|every| Damage::DropClosingTags { every }),
        any::<usize>().prop_map(|at| Damage::Truncate { at }),
    ]
}

fn apply(mut bytes: Vec<u8>, damage: &Damage) -> Vec<u8> {
    if bytes.is_empty() {
        return bytes;
    }
    match *damage {
        Damage::Flip { at, byte } => {
            let at = at % bytes.len();
            bytes[at] = byte;
        }
        Damage::Cut { at, len } => {
            let at = at % bytes.len();
            let end = (at + len).min(bytes.len());
            bytes.drain(at..end);
        }
        Damage::DropClosingTags { every } => {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let mut kept = String::with_capacity(text.len());
            for (index, piece) in text.split("</").enumerate() {
                if index > 0 && index % every != 0 {
                    kept.push_str("</");
                }
                kept.push_str(piece);
            }
            bytes = kept.into_bytes();
        }
        Damage::Truncate { at } => bytes.truncate(at % bytes.len()),
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        run_pipeline(&bytes, "https://www.fmprc.gov.cn/mfa_eng/t1.shtml");
        run_pipeline(&bytes, "not a url");
    }

    #[test]
    fn tag_soup_never_panics(
        pieces in proptest::collection::vec(
            prop_oneof![
                Just("<p>".to_string()), Just("</p>".to_string()), Just("<div id=News_Body_Txt_A>".to_string()),
                Just("<div class=content_text>".to_string()), Just("<SPAN>".to_string()), Just("<br>".to_string()),
                Just("<script>".to_string()), Just("</div>".to_string()), Just("问：".to_string()), Just("答：".to_string()),
                Just("Q: ".to_string()), Just("A: ".to_string()), Just("Zhao Lijian: ".to_string()), Just("：".to_string()),
                Just("var countPage = 99999999999".to_string()), Just("<title>".to_string()), Just("\u{3000}".to_string()),
                "[a-zA-Z0-9 .?:]{0,20}", "\\PC{0,8}",
            ],
            0..200,
        )
    ) {
        let html = pieces.concat();
        run_pipeline(html.as_bytes(), "https://www.fmprc.gov.cn/web/t1.shtml");
    }

    #[test]
    fn damaged_fixture_pages_never_panic(page in any::<prop::sample::Index>(), damages in proptest::collection::vec(damage_strategy(), 1..4)) {
        let pages = fixture_bytes();
        let (bytes, url) = &pages[page.index(pages.len())];
        let damaged = damages.iter().fold(bytes.clone(), apply);
        run_pipeline(&damaged, url);
    }
}

#[test]
fn deeply_nested_markup_does_not_overflow_the_stack() {
    let depth = 5_000;
    let html = format!(
        "<div class=\"content_mod\"><h2 class=\"title\">T</h2><div class=\"content\">{}<p>Q: deep?</p>{}</div></div>",
        "<span>".repeat(depth),
        "</span>".repeat(depth)
    );
    let _ = Profile::builtin("mfa-en")
        .unwrap()
        .parse_article(&html, "https://example.test/deep");
}
