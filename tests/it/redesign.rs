//! Extraction through a site redesign: pages rebuilt by the test generator (and by hand, in
//! other styles) must give the same exchanges through the content fallback, or fail, never a
//! different record.

mod generator;

use std::path::Path;

use briefwatch::charset::decode_html;
use briefwatch::model::{Briefing, FoundBy};
use briefwatch::site::{Profile, is_listing_url, is_soft_404};

use crate::support::{
    SiteServer, TestEnv, fixture_page, fixture_pages, fixture_site, fixtures_dir, test_config,
};
pub use generator::{Redesign, redesign_site};

/// Seeds of the redesigns the tests use: together they cover every layout, paragraph style
/// (`<p>`, `<div>`, `<br>` lines, mixed, grouped), title and time placement.
pub const SEEDS: [u64; 6] = [1, 2, 3, 4, 5, 6];

fn extract(html: &str, url: &str) -> Result<Briefing, String> {
    Profile::detect(url, html)
        .and_then(|profile| profile.parse_article(html, url))
        .map_err(|error| error.to_string())
}

/// How a redesigned page compares with its original.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// The same exchanges (askers, questions, answers), title, kind and spokesperson.
    Same,
    /// No record: an error naming why.
    Failed(String),
    /// A record that differs: the one outcome never allowed.
    Different(String),
}

fn compare(original: &Briefing, redesigned: Result<Briefing, String>) -> Verdict {
    let redesigned = match redesigned {
        Ok(briefing) => briefing,
        Err(error) => return Verdict::Failed(error),
    };
    let mut differences = Vec::new();
    if redesigned.title != original.title {
        differences.push(format!("title {:?}", redesigned.title));
    }
    if redesigned.kind != original.kind || redesigned.spokesperson != original.spokesperson {
        differences.push(format!(
            "kind {:?} spokesperson {:?}",
            redesigned.kind, redesigned.spokesperson
        ));
    }
    if redesigned.exchanges != original.exchanges {
        let at = redesigned
            .exchanges
            .iter()
            .zip(&original.exchanges)
            .position(|(a, b)| a != b)
            .unwrap_or(original.exchanges.len().min(redesigned.exchanges.len()));
        differences.push(format!(
            "{} exchanges instead of {}, first difference at {at}: {:?}",
            redesigned.exchanges.len(),
            original.exchanges.len(),
            redesigned.exchanges.get(at)
        ));
    }
    if redesigned.found_by != Some(FoundBy::Fallback) {
        differences.push(format!("found by {:?}", redesigned.found_by));
    }
    if differences.is_empty() {
        Verdict::Same
    } else {
        Verdict::Different(differences.join("; "))
    }
}

/// Every article page of a site directory (mirroring URL paths of `origin`).
fn site_articles(root: &Path, origin: &str) -> Vec<(String, String)> {
    let mut pages = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.to_string_lossy().to_string();
            if !(name.ends_with(".shtml") || name.ends_with(".html")) {
                continue;
            }
            let url = format!(
                "{origin}/{}",
                path.strip_prefix(root).unwrap().to_string_lossy()
            );
            if is_listing_url(&url) {
                continue;
            }
            let html = decode_html(&std::fs::read(&path).unwrap(), Some("text/html"));
            if !is_soft_404(&html) {
                pages.push((url, html));
            }
        }
    }
    pages.sort();
    pages
}

/// The article fixtures: the golden pages and the loopback site's pages, each page once.
fn fixture_articles() -> Vec<(String, String)> {
    let mut pages: Vec<(String, String)> = fixture_pages()
        .into_iter()
        .filter(|page| !page.listing)
        .map(|page| (page.url.clone(), page.html()))
        .collect();
    for (url, html) in site_articles(&fixture_site(), "https://www.fmprc.gov.cn") {
        if !pages.iter().any(|(known, _)| *known == url) {
            pages.push((url, html));
        }
    }
    pages
}

/// Redesigns every page with every seed; the verdicts, with the URL and seed.
fn judge(pages: &[(String, String)]) -> Vec<(String, u64, Verdict)> {
    let mut verdicts = Vec::new();
    for seed in SEEDS {
        let redesign = Redesign::new(seed);
        for (url, html) in pages {
            let Ok(original) = extract(html, url) else {
                continue;
            };
            let new = redesign
                .article(html, url)
                .unwrap_or_else(|| panic!("{url}: the generator could not redesign it"));
            verdicts.push((url.clone(), seed, compare(&original, extract(&new, url))));
        }
    }
    verdicts
}

fn summary(verdicts: &[(String, u64, Verdict)]) -> (f64, Vec<String>, Vec<String>) {
    let same = verdicts
        .iter()
        .filter(|(_, _, verdict)| *verdict == Verdict::Same)
        .count();
    let failed = verdicts
        .iter()
        .filter_map(|(url, seed, verdict)| match verdict {
            Verdict::Failed(error) => Some(format!("seed {seed} {url}: {error}")),
            _ => None,
        })
        .collect();
    let different = verdicts
        .iter()
        .filter_map(|(url, seed, verdict)| match verdict {
            Verdict::Different(what) => Some(format!("seed {seed} {url}: {what}")),
            _ => None,
        })
        .collect();
    (same as f64 / verdicts.len() as f64, failed, different)
}

#[test]
fn redesigned_fixture_pages_give_the_same_exchanges_through_the_fallback() {
    let pages = fixture_articles();
    assert!(pages.len() >= 14, "{} fixture articles", pages.len());
    let verdicts = judge(&pages);
    let (share, failed, different) = summary(&verdicts);
    assert!(
        different.is_empty(),
        "different records:\n{}",
        different.join("\n")
    );
    assert!(failed.is_empty(), "failed:\n{}", failed.join("\n"));
    assert_eq!(share, 1.0);
}

#[test]
fn redesigned_listings_give_the_same_items() {
    let listings = [
        "en-2020/default.shtml",
        "zh-2020/default.shtml",
        "en-current/index.html",
    ];
    for name in listings {
        let page = fixture_page(name);
        let url = page.url.as_str();
        let html = page.html();
        let profile = Profile::detect(url, &html).unwrap();
        let original = profile.parse_listing(&html, url).unwrap();
        for seed in SEEDS {
            let new = Redesign::new(seed).listing(&html, url).unwrap();
            assert!(
                !new.contains("newsLst_mod") && !new.contains("rebox_news"),
                "classes renamed"
            );
            let listing = profile
                .parse_listing(&new, url)
                .unwrap_or_else(|error| panic!("seed {seed} {name}: {error}"));
            assert_eq!(listing.items, original.items, "seed {seed} {name}");
            assert_eq!(
                listing.page_count, original.page_count,
                "seed {seed} {name}"
            );
        }
    }
}

/// Pages redesigned by hand in styles the generator does not produce: the current English page
/// as cards with the speaker in its own element; a 2018 page with its paragraphs loose in `<main>`
/// beside the heading and link lines, the title only in `og:title`, and a footer that itself reads
/// like a question and answer; a Chinese page in an old table layout with `<br>` lines and `<font>`.
#[test]
fn hand_written_redesigns_give_the_same_exchanges() {
    let cases = [
        (
            "en-current/t20240129_11234850.html",
            "https://www.fmprc.gov.cn/eng/xw/fyrbt/lxjzh/202401/t20240129_11234850.html",
            "redesign/en-cards.html",
        ),
        (
            "en-2018/t1611898.shtml",
            "https://www.fmprc.gov.cn/mfa_eng/xwfw_665399/s2510_665401/2511_665403/t1611898.shtml",
            "redesign/en-flat.html",
        ),
        (
            "zh-2020/t1794584.shtml",
            "https://www.fmprc.gov.cn/web/wjdt_674879/fyrbt_674889/t1794584.shtml",
            "redesign/zh-table.html",
        ),
    ];
    for (original, url, redesigned) in cases {
        let original_page = fixture_page(original).html();
        let before = extract(&original_page, url).unwrap();
        let redesigned_page = std::fs::read(fixtures_dir().join(redesigned)).unwrap();
        let after = extract(&decode_html(&redesigned_page, Some("text/html")), url);
        assert_eq!(
            compare(&before, after.clone()),
            Verdict::Same,
            "{redesigned}: {after:?}"
        );
        let after = after.unwrap();
        assert_eq!(after.published_at, before.published_at, "{redesigned}");
        assert_eq!(after.date, before.date, "{redesigned}");
    }
}

/// Every article of the corpus, redesigned with every seed: at least 95 % give exactly the
/// exchanges of their original page, and none gives a different record without an error.
#[test]
#[ignore = "needs BRIEFWATCH_CORPUS"]
fn whole_corpus_redesigned() {
    let root = crate::support::corpus_site();
    let pages = site_articles(&root, "https://www.fmprc.gov.cn");
    assert!(pages.len() >= 865, "{} corpus articles", pages.len());
    let verdicts = judge(&pages);
    let (share, failed, different) = summary(&verdicts);
    eprintln!(
        "redesigned corpus: {} pages x {} seeds, {:.2}% the same, {} failed, {} different\n{}",
        pages.len(),
        SEEDS.len(),
        share * 100.0,
        failed.len(),
        different.len(),
        failed
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        different.is_empty(),
        "different records:\n{}",
        different.join("\n")
    );
    assert!(share >= 0.95, "only {:.2}% the same", share * 100.0);
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// The share of `originals` (URL, original page) archived with the exchanges of the original.
fn archived_right(env: &TestEnv, originals: &[(String, String)], found_by: &str) -> f64 {
    let mut right = 0;
    for (url, html) in originals {
        let original = extract(html, url).unwrap();
        let output = env.briefwatch_output(&["show", url, "--json"]);
        if !output.status.success() {
            continue;
        }
        let shown: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        if shown["briefing"]["exchanges"] == serde_json::to_value(&original.exchanges).unwrap()
            && shown["briefing"]["found_by"] == found_by
        {
            right += 1;
        }
    }
    right as f64 / originals.len() as f64
}

fn drift_alarms(env: &TestEnv) -> Vec<serde_json::Value> {
    json_lines(&env.briefwatch(&["status", "--json"]))
        .into_iter()
        .flat_map(|source| source["alarms"].as_array().cloned().unwrap_or_default())
        .filter(|alarm| alarm["kind"] == "layout_drift")
        .collect()
}

/// A whole redesigned copy of `root` served on loopback, backfilled: the articles archived
/// through the fallback with the right exchanges, and the drift alarm raised for both sources.
fn backfill_redesigned(root: &Path, seed: u64) -> (tempfile::TempDir, SiteServer, TestEnv) {
    let copy = tempfile::tempdir().unwrap();
    let redesigned = redesign_site(root, copy.path(), "https://www.fmprc.gov.cn", seed);
    assert!(redesigned > 0);
    let site = SiteServer::start(copy.path().to_path_buf());
    let env = TestEnv::new(&site);
    env.briefwatch(&["backfill", "--json"]);
    (copy, site, env)
}

#[test]
fn a_redesigned_site_backfills_through_the_fallback_and_raises_layout_drift() {
    let (_copy, site, env) = backfill_redesigned(&fixture_site(), 2);
    let originals = site_articles(&fixture_site(), &site.url(""));
    let share = archived_right(&env, &originals, "fallback");
    assert!(share >= 0.95, "{:.1}% archived right", share * 100.0);

    let alarms = drift_alarms(&env);
    let sources: Vec<&str> = alarms.iter().filter_map(|a| a["source"].as_str()).collect();
    assert_eq!(sources, ["mfa-en", "mfa-zh"], "{alarms:?}");
    let message = alarms[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&site.url("/mfa_eng/")) && message.contains(".content_mod div.content")
            || message.contains("no selector found"),
        "{message}"
    );
    let text = env.briefwatch(&["status"]);
    assert!(text.contains("warning: layout_drift since"), "{text}");
}

/// `extract --explain` on a redesigned page prints a `[sites.<profile>]` block; with it in the
/// config, `check-config` passes and the daemon finds the pages by selector, which clears the
/// drift alarm.
#[test]
fn explained_selectors_pasted_into_the_config_find_the_pages_by_selector() {
    let (copy, site, env) = backfill_redesigned(&fixture_site(), 4);
    assert_eq!(drift_alarms(&env).len(), 2);
    let article = "/mfa_eng/xwfw_665399/s2510_665401/2511_665403/t1794629.shtml";
    let file = copy.path().join(article.trim_start_matches('/'));
    let url = site.url(article);
    let explained = env.briefwatch(&["extract", "--explain", &url, file.to_str().unwrap()]);
    let block = &explained[explained.find("[sites.mfa-en]").expect(&explained)..];
    assert!(block.contains("body = ["), "{block}");
    assert!(
        !block.contains("nth-child"),
        "classes exist, no positions: {block}"
    );

    let config = format!("{}\n{block}\n", test_config(&site, ""));
    std::fs::write(&env.config, &config).unwrap();
    env.briefwatch(&["check-config"]);

    // A fresh archive with that config: every English page by selector, same exchanges.
    let fresh = TestEnv::with_config(&config);
    fresh.briefwatch(&["backfill", "--json"]);
    let english: Vec<(String, String)> = site_articles(&fixture_site(), &site.url(""))
        .into_iter()
        .filter(|(url, _)| url.contains("/mfa_eng/"))
        .collect();
    assert_eq!(archived_right(&fresh, &english, "selector"), 1.0);
    let shown: serde_json::Value =
        serde_json::from_str(&fresh.briefwatch(&["show", &url, "--json"])).unwrap();
    assert_eq!(shown["briefing"]["found_by"], "selector");
    let body_selector = block
        .lines()
        .find(|line| line.starts_with("body"))
        .unwrap()
        .split('"')
        .nth(1)
        .unwrap();
    assert_eq!(shown["briefing"]["selector"], body_selector);

    // The archive that raised the alarm: a page fetched again is found by selector, and the
    // English alarm clears; the Chinese source, not configured, keeps its alarm.
    let page = site.page(article);
    site.set_page(article, [page, b"\n<!-- edited -->\n".to_vec()].concat());
    env.briefwatch(&["poll", "--once", "--all"]);
    let alarms = drift_alarms(&env);
    let sources: Vec<&str> = alarms.iter().filter_map(|a| a["source"].as_str()).collect();
    assert_eq!(sources, ["mfa-zh"], "{alarms:?}");
}

/// The whole corpus redesigned and served on loopback: at least 95 % of the articles archived
/// with the exchanges of their original page, and `status --json` shows the drift alarm.
#[test]
#[ignore = "needs BRIEFWATCH_CORPUS"]
fn whole_redesigned_corpus_backfills_with_the_right_exchanges() {
    let root = crate::support::corpus_site();
    let (_copy, site, env) = backfill_redesigned(&root, 5);
    let originals = site_articles(&root, &site.url(""));
    assert!(
        originals.len() >= 865,
        "{} corpus articles",
        originals.len()
    );
    let share = archived_right(&env, &originals, "fallback");
    eprintln!(
        "redesigned corpus backfill: {:.2}% archived right",
        share * 100.0
    );
    assert!(share >= 0.95, "{:.2}% archived right", share * 100.0);
    let alarms = drift_alarms(&env);
    let sources: Vec<&str> = alarms.iter().filter_map(|a| a["source"].as_str()).collect();
    assert_eq!(sources, ["mfa-en", "mfa-zh"], "{alarms:?}");
}
