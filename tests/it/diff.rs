//! Diff stage on real transcripts: the ministry's kinds of edits applied to extracted pages, and the
//! English–Chinese pairing of the same day, on fixtures and over the whole corpus.

use std::collections::BTreeMap;
use std::path::Path;

use briefwatch::config::DiffConfig;
use briefwatch::diff::{
    self, Change, EventKind, ExchangeChange, ExchangeRemovedPayload, Op, PairRow, RevisedPayload,
    Significance,
};
use briefwatch::model::{Briefing, Kind, Lang};
use briefwatch::site::Profile;

use crate::support::fixture_page;

const EN_URL: &str =
    "https://www.fmprc.gov.cn/mfa_eng/xwfw_665399/s2510_665401/2511_665403/t1794629.shtml";

/// A fixture page of `tests/fixtures/pages/FIXTURES.tsv`, extracted by the named profile.
fn extract(profile: &str, name: &str) -> Briefing {
    let page = fixture_page(name);
    Profile::builtin(profile)
        .expect("built-in profile")
        .parse_article(&page.html(), &page.url)
        .unwrap_or_else(|error| panic!("{}: {error}", page.url))
}

fn english() -> Briefing {
    extract("mfa-en", "en-2020/t1794629.shtml")
}

fn chinese() -> Briefing {
    extract("mfa-zh", "zh-2020/t1794584.shtml")
}

/// What the ministry's edit produces: ordinals renumbered, a different content hash.
fn republish(mut briefing: Briefing) -> Briefing {
    for (index, exchange) in briefing.exchanges.iter_mut().enumerate() {
        exchange.ordinal = index as u32 + 1;
    }
    briefing.content_hash = format!("{}-edited", briefing.content_hash);
    briefing
}

fn changed_kinds(change: &Change) -> Vec<&'static str> {
    change
        .changed_exchanges()
        .map(ExchangeChange::kind)
        .collect()
}

fn cfg() -> DiffConfig {
    DiffConfig::default()
}

#[test]
fn fixtures_extract_as_transcripts() {
    let en = english();
    let zh = chinese();
    assert_eq!(en.kind, Kind::PressConference);
    assert_eq!(zh.kind, Kind::PressConference);
    assert!(en.exchanges.len() >= 8, "{} exchanges", en.exchanges.len());
    assert!(zh.exchanges.len() >= 8, "{} exchanges", zh.exchanges.len());
}

#[test]
fn removing_one_exchange_yields_one_removal_quoted_in_full() {
    let old = english();
    let mut new = old.clone();
    let removed = new.exchanges.remove(2);
    let new = republish(new);

    let change = diff::diff(&old, &new, &cfg());
    assert_eq!(changed_kinds(&change), vec!["removed"]);
    assert_eq!(change.significance, Significance::Substantive);
    assert_eq!(change.counts.unchanged as usize, old.exchanges.len() - 1);

    let events = diff::events_for_revision(&old, &new, &cfg());
    let kinds: Vec<EventKind> = events.iter().map(|event| event.kind).collect();
    assert_eq!(kinds, vec![EventKind::Revised, EventKind::ExchangeRemoved]);
    let payload: ExchangeRemovedPayload =
        serde_json::from_value(events[1].payload.clone()).expect("exchange_removed payload");
    assert_eq!(payload.exchange, removed);
    assert_eq!(payload.old_ordinal, 3);
    assert_eq!(payload.url, EN_URL);
    let revised: RevisedPayload =
        serde_json::from_value(events[0].payload.clone()).expect("revised payload");
    assert_eq!(revised.change, change);
}

#[test]
fn rewording_one_sentence_of_an_answer_is_substantive_and_shows_the_words() {
    let old = english();
    let mut new = old.clone();
    let answer = &mut new.exchanges[0].answer[0];
    let sentence_end = answer.find(". ").expect("answer has two sentences") + 1;
    let first_sentence = answer[..sentence_end].to_string();
    *answer = answer.replacen(
        &first_sentence,
        "China appreciates the support of the two countries for the legislation.",
        1,
    );
    let new = republish(new);

    let change = diff::diff(&old, &new, &cfg());
    assert_eq!(changed_kinds(&change), vec!["reworded"]);
    assert_eq!(change.significance, Significance::Substantive);
    let ExchangeChange::Reworded(edit) = &change.exchanges[0] else {
        panic!("first entry: {:?}", change.exchanges[0]);
    };
    assert!(edit.question.is_none());
    let text = edit.answer.as_ref().expect("answer diff").render_text();
    assert!(
        text.starts_with("China [-highly applauds Laos and Vietnam for their staunch support"),
        "{text}"
    );
    assert!(
        text.contains("{+appreciates the support +}of the"),
        "{text}"
    );
    assert!(text.ends_with('…'), "long unchanged end elided: {text}");
}

#[test]
fn one_changed_word_is_minor() {
    let old = english();
    let mut new = old.clone();
    let target = new
        .exchanges
        .iter_mut()
        .flat_map(|exchange| exchange.answer.iter_mut())
        .find(|paragraph| paragraph.contains(" the "))
        .expect("an answer with 'the'");
    *target = target.replacen(" the ", " this ", 1);
    let new = republish(new);
    let change = diff::diff(&old, &new, &cfg());
    assert_eq!(changed_kinds(&change), vec!["reworded"]);
    assert_eq!(change.significance, Significance::Minor);
}

#[test]
fn white_space_and_punctuation_width_only_is_cosmetic() {
    let old = english();
    let mut new = old.clone();
    for exchange in new.exchanges.iter_mut().take(3) {
        for paragraph in exchange.answer.iter_mut() {
            *paragraph = format!(
                "\u{3000}\u{3000}{}",
                paragraph
                    .replace(", ", "，")
                    .replace(": ", "：")
                    .replace('"', "\u{201C}")
            );
        }
    }
    let new = republish(new);
    let change = diff::diff(&old, &new, &cfg());
    assert_eq!(changed_kinds(&change), vec!["reworded"; 3]);
    assert_eq!(change.significance, Significance::Cosmetic);

    let old = chinese();
    let mut new = old.clone();
    for paragraph in new.exchanges[1].answer.iter_mut() {
        *paragraph = paragraph.replace('，', ", ").replace(['“', '”'], "\"");
    }
    let new = republish(new);
    let change = diff::diff(&old, &new, &cfg());
    assert_eq!(changed_kinds(&change), vec!["reworded"]);
    assert_eq!(change.significance, Significance::Cosmetic);
}

#[test]
fn moving_an_exchange_yields_one_move() {
    let old = english();
    let mut new = old.clone();
    let moved = new.exchanges.remove(1);
    new.exchanges.insert(5, moved);
    let new = republish(new);
    let change = diff::diff(&old, &new, &cfg());
    assert_eq!(changed_kinds(&change), vec!["moved"]);
    assert_eq!(change.significance, Significance::Minor);
    let Some(ExchangeChange::Moved(edit)) = change.changed_exchanges().next() else {
        unreachable!()
    };
    assert_eq!((edit.old, edit.new), (2, 6));
}

#[test]
fn reworded_chinese_answer_shows_the_changed_characters() {
    let old = chinese();
    let mut new = old.clone();
    let paragraph = &mut new.exchanges[0].answer[0];
    assert!(paragraph.contains("少数西方国家"), "{paragraph}");
    *paragraph = paragraph.replace("少数西方国家", "个别西方国家");
    let new = republish(new);

    let change = diff::diff(&old, &new, &cfg());
    assert_eq!(changed_kinds(&change), vec!["reworded"]);
    assert_eq!(change.significance, Significance::Minor);
    let ExchangeChange::Reworded(edit) = &change.exchanges[0] else {
        panic!("{:?}", change.exchanges[0]);
    };
    let answer = edit.answer.as_ref().expect("answer diff");
    let changed: Vec<(Op, &str)> = answer
        .segments
        .iter()
        .filter(|segment| segment.op != Op::Equal)
        .map(|segment| (segment.op, segment.text.as_str()))
        .collect();
    assert_eq!(changed, vec![(Op::Delete, "少数"), (Op::Insert, "个别")]);
    let shown: usize = answer.segments.iter().map(|s| s.text.chars().count()).sum();
    let paragraph_chars: usize = old.exchanges[0]
        .answer
        .iter()
        .map(|p| p.chars().count())
        .sum();
    assert!(
        shown * 2 < paragraph_chars,
        "shown {shown} of {paragraph_chars} characters"
    );
    assert!(
        answer
            .render_html()
            .contains("<del>少数</del><ins>个别</ins>")
    );
}

#[test]
fn same_day_english_and_chinese_pair_by_outlet_and_order() {
    let en = english();
    let zh = chinese();
    let pairing = diff::pair(&en, &zh);
    assert_eq!(covered(&pairing, Lang::En), en.exchanges.len());
    assert_eq!(covered(&pairing, Lang::Zh), zh.exchanges.len());
    assert!(pairing.is_complete(), "{:?}", pairing.rows);
    let Some(PairRow::Paired {
        en: 1,
        zh: 1,
        outlet,
        ..
    }) = pairing.rows.first()
    else {
        panic!("first row: {:?}", pairing.rows.first());
    };
    assert_eq!(outlet.as_deref(), Some("CCTV"));

    // Drop one Chinese exchange: its English counterpart is reported, the rest still pair.
    let mut shorter = zh.clone();
    let dropped = shorter.exchanges.remove(3);
    let pairing = diff::pair(&en, &shorter);
    let en_only: Vec<u32> = pairing
        .rows
        .iter()
        .filter_map(|row| match row {
            PairRow::EnOnly { en, .. } => Some(*en),
            _ => None,
        })
        .collect();
    assert!(
        en_only.contains(&4),
        "exchange 4 ({}) unpaired: {:?}",
        dropped.asker,
        pairing.rows
    );
    let events = diff::events_for_pairing(&pairing, &en, &shorter);
    assert!(events.iter().all(|event| event.kind == EventKind::Unpaired));
    assert_eq!(events.len(), (pairing.en_only + pairing.zh_only) as usize);
}

/// How many exchanges of one language the rows cover, each ordinal once.
fn covered(pairing: &diff::Pairing, lang: Lang) -> usize {
    let mut ordinals: Vec<u32> = pairing
        .rows
        .iter()
        .flat_map(|row| match (row, lang) {
            (PairRow::Paired { en, .. }, Lang::En) | (PairRow::EnOnly { en, .. }, Lang::En) => {
                vec![*en]
            }
            (PairRow::Paired { zh, .. }, Lang::Zh) | (PairRow::ZhOnly { zh, .. }, Lang::Zh) => {
                vec![*zh]
            }
            (PairRow::Joined { en, .. }, Lang::En) => en.clone(),
            (PairRow::Joined { zh, .. }, Lang::Zh) => zh.clone(),
            _ => vec![],
        })
        .collect();
    let count = ordinals.len();
    ordinals.sort_unstable();
    ordinals.dedup();
    assert_eq!(ordinals.len(), count, "an exchange appears in two rows");
    count
}

/// Transcripts of the corpus by language and briefing date.
fn corpus_transcripts(root: &Path) -> BTreeMap<(&'static str, chrono::NaiveDate), Vec<Briefing>> {
    let manifest = std::fs::read_to_string(root.join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    let mut by_day: BTreeMap<(&'static str, chrono::NaiveDate), Vec<Briefing>> = BTreeMap::new();
    for line in manifest.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let (url, status, file) = (fields[0], fields[1], fields[3]);
        let name = url.rsplit('/').next().unwrap_or_default();
        if status != "200" || !name.starts_with('t') {
            continue;
        }
        let profile = if url.contains("/mfa_eng/") {
            "mfa-en"
        } else {
            "mfa-zh"
        };
        let html = std::fs::read_to_string(root.join(file)).expect("corpus page");
        let Ok(briefing) = Profile::builtin(profile).unwrap().parse_article(&html, url) else {
            continue;
        };
        if briefing.kind != Kind::PressConference {
            continue;
        }
        if let Some(date) = briefing.date {
            by_day
                .entry((briefing.lang.as_str(), date))
                .or_default()
                .push(briefing);
        }
    }
    by_day
}

/// Pairs every day of the corpus that has both an English and a Chinese press conference and
/// reports how many pair completely and which exchanges are left over.
#[test]
#[ignore = "needs BRIEFWATCH_CORPUS"]
fn whole_corpus_pairing() {
    let root = crate::support::corpus_dir().join("mfa-2020");
    let by_day = corpus_transcripts(&root);
    let mut days = 0;
    let mut complete = 0;
    let mut unpaired_lines = Vec::new();
    let mut conflicting = Vec::new();
    let mut joined_lines = Vec::new();
    for ((lang, date), english) in &by_day {
        if *lang != Lang::En.as_str() {
            continue;
        }
        let Some(chinese) = by_day.get(&(Lang::Zh.as_str(), *date)) else {
            continue;
        };
        let (en, zh) = (&english[0], &chinese[0]);
        let pairing = diff::pair(en, zh);
        days += 1;
        assert_eq!(
            covered(&pairing, Lang::En),
            en.exchanges.len(),
            "{date}: every English exchange accounted for"
        );
        assert_eq!(
            covered(&pairing, Lang::Zh),
            zh.exchanges.len(),
            "{date}: every Chinese exchange accounted for"
        );
        for row in &pairing.rows {
            if let PairRow::Joined { en: e, zh: z, .. } = row {
                joined_lines.push(format!("{date} en {e:?} = zh {z:?}"));
            }
        }
        for row in &pairing.rows {
            if let PairRow::Paired {
                en: e,
                zh: z,
                en_asker,
                zh_asker,
                score,
                ..
            } = row
            {
                let (a, b) = (diff::outlet_of(en_asker), diff::outlet_of(zh_asker));
                if a.is_some() && b.is_some() && a != b {
                    conflicting.push(format!(
                        "{date} en #{e} {en_asker} / zh #{z} {zh_asker} ({score})"
                    ));
                }
            }
        }
        if std::env::var_os("PAIR_DEBUG").is_some_and(|d| d.to_string_lossy() == date.to_string()) {
            for row in &pairing.rows {
                eprintln!("{row:?}");
            }
        }
        if pairing.is_complete() {
            complete += 1;
            continue;
        }
        for row in &pairing.rows {
            let (label, exchange) = match row {
                PairRow::EnOnly { en: ordinal, .. } => ("en", &en.exchanges[*ordinal as usize - 1]),
                PairRow::ZhOnly { zh: ordinal, .. } => ("zh", &zh.exchanges[*ordinal as usize - 1]),
                PairRow::Paired { .. } | PairRow::Joined { .. } => continue,
            };
            let question: String = exchange.question.join(" ").chars().take(70).collect();
            unpaired_lines.push(format!(
                "{date} {label} #{} ({}): {question}",
                exchange.ordinal, exchange.asker
            ));
        }
    }
    eprintln!(
        "pairing: {complete} of {days} days pair completely; {} unpaired exchanges",
        unpaired_lines.len()
    );
    for line in &unpaired_lines {
        eprintln!("  {line}");
    }
    eprintln!(
        "{} joined rows (two exchanges of one language are one of the other):",
        joined_lines.len()
    );
    for line in &joined_lines {
        eprintln!("  {line}");
    }
    eprintln!(
        "{} pairs whose labels name different outlets of the table:",
        conflicting.len()
    );
    for line in &conflicting {
        eprintln!("  {line}");
    }
    assert!(days >= 300, "only {days} days with both languages");
    assert!(
        complete * 2 > days,
        "only {complete} of {days} days pair completely"
    );
}

mod pipeline {
    //! Through the whole pipeline: the loopback site serves an edited page, `poll` fetches,
    //! extracts and archives it, and the archive holds exactly the events the edit implies.

    use briefwatch::diff::{PageEventPayload, RevisedPayload, Significance};
    use briefwatch::store::{Event, EventQuery, Store};

    use crate::support::{
        EN_ARTICLE, EN_LISTING, FIXTURE_EN_ARTICLES, Fault, SiteServer, TestEnv, fixture_site,
        test_config,
    };

    const TITLE: &str =
        "Foreign Ministry Spokesperson Zhao Lijian's Regular Press Conference on July 3, 2020";

    /// Events after `after_id`, oldest first.
    fn events_after(store: &Store, after_id: i64) -> Vec<Event> {
        let mut events = store
            .events(&EventQuery {
                after_id: Some(after_id),
                limit: 1000,
                ..EventQuery::default()
            })
            .expect("events");
        events.reverse();
        events
    }

    fn last_event_id(env: &TestEnv) -> i64 {
        events_after(&env.store(), 0)
            .last()
            .map_or(0, |event| event.id)
    }

    /// Serves `edit` of the current page, runs one poll cycle and returns the events it wrote.
    fn poll_after(
        env: &TestEnv,
        site: &SiteServer,
        path: &str,
        edit: impl Fn(&str) -> String,
    ) -> Vec<Event> {
        let page = String::from_utf8(site.page(path)).expect("utf-8 page");
        let edited = edit(&page);
        assert_ne!(edited, page, "the edit changes the page");
        site.set_page(path, edited);
        poll(env)
    }

    fn poll(env: &TestEnv) -> Vec<Event> {
        let before = last_event_id(env);
        env.briefwatch(&["poll", "--once", "--all"]);
        events_after(&env.store(), before)
    }

    fn kinds(events: &[Event]) -> Vec<&str> {
        events.iter().map(|event| event.kind.as_str()).collect()
    }

    fn revised(event: &Event) -> RevisedPayload {
        assert_eq!(event.kind, briefwatch::model::EventKind::Revised);
        serde_json::from_value(event.payload.clone()).expect("revised payload")
    }

    /// The lines of the page from the one containing `from` up to (not including) the one
    /// containing `to`: one exchange of the 2020 layout, which writes a paragraph per line.
    fn block(page: &str, from: &str, to: &str) -> (usize, usize) {
        let lines: Vec<&str> = page.lines().collect();
        let start = lines
            .iter()
            .position(|line| line.contains(from))
            .expect("start marker");
        let end = start
            + lines[start..]
                .iter()
                .position(|line| line.contains(to))
                .expect("end marker");
        (start, end)
    }

    fn without_lines(page: &str, (start, end): (usize, usize)) -> String {
        let lines: Vec<&str> = page.lines().collect();
        let mut kept = lines[..start].to_vec();
        kept.extend(&lines[end..]);
        kept.join("\n")
    }

    #[test]
    fn each_edit_of_a_served_page_yields_exactly_its_events() {
        let site = SiteServer::start(fixture_site());
        let env = TestEnv::with_config(&test_config(&site, "\n[archive]\ngone_after = 1\n"));
        env.briefwatch(&["backfill"]);

        // An exchange removed: one substantive revision and the removal quoted in full.
        let events = poll_after(&env, &site, EN_ARTICLE, |page| {
            without_lines(
                page,
                block(page, "Beijing Youth Daily</SPAN>", "China News Service: "),
            )
        });
        // The Chinese transcript of the day keeps it: that exchange is now unpaired.
        assert_eq!(kinds(&events), ["revised", "exchange_removed", "unpaired"]);
        assert_eq!(events[2].payload["lang"], "zh");
        assert_eq!(events[2].payload["exchange"]["asker"], "《北京青年报》记者");
        assert_eq!(events[2].payload["other_url"], site.url(EN_ARTICLE));
        let payload = revised(&events[0]);
        assert_eq!(payload.change.significance, Significance::Substantive);
        assert_eq!(
            (payload.title.as_str(), payload.url.as_str()),
            (TITLE, site.url(EN_ARTICLE).as_str())
        );
        assert_eq!(
            payload
                .change
                .changed_exchanges()
                .map(|e| e.kind())
                .collect::<Vec<_>>(),
            ["removed"]
        );
        assert_eq!(events[1].payload["old_ordinal"], 2);
        assert_eq!(
            events[1].payload["exchange"]["asker"],
            "Beijing Youth Daily"
        );
        let question = events[1].payload["exchange"]["question"][0]
            .as_str()
            .unwrap();
        assert!(
            question.starts_with("Ryo Takeuchi, a Japanese director"),
            "{question}"
        );
        assert!(
            events[1].payload["exchange"]["answer"][0]
                .as_str()
                .unwrap()
                .contains("warmly received")
        );
        assert_eq!(payload.from_seq, Some(1));
        assert_eq!(payload.to_seq, Some(2));

        // One sentence of an answer reworded.
        let events = poll_after(&env, &site, EN_ARTICLE, |page| {
            page.replace(
                "Several Western countries' attempt to smear China will never succeed.",
                "The attempt by a handful of Western politicians to smear China is doomed to fail.",
            )
        });
        assert_eq!(kinds(&events), ["revised"]);
        let change = revised(&events[0]).change;
        assert_eq!(change.significance, Significance::Substantive);
        assert_eq!(
            change
                .changed_exchanges()
                .map(|e| e.kind())
                .collect::<Vec<_>>(),
            ["reworded"]
        );
        assert!(
            briefwatch::diff::render_text(&change)
                .contains("{+The attempt by a handful of Western politicians"),
            "{}",
            briefwatch::diff::render_text(&change)
        );

        // Only punctuation width and quotes: a cosmetic revision.
        let events = poll_after(&env, &site, EN_ARTICLE, |page| {
            page.replace(
                "It illustrates a simple truth: ",
                "It illustrates a simple truth：",
            )
            .replace(
                "ranked second in this year's",
                "ranked second in this year’s",
            )
        });
        assert_eq!(kinds(&events), ["revised"]);
        let change = revised(&events[0]).change;
        assert_eq!(change.significance, Significance::Cosmetic);
        assert_eq!(
            change
                .changed_exchanges()
                .map(|e| e.kind())
                .collect::<Vec<_>>(),
            ["reworded", "reworded"]
        );

        // The first exchange moved after the (now) second: a minor revision, nothing removed.
        let events = poll_after(&env, &site, EN_ARTICLE, |page| {
            let lines: Vec<&str> = page.lines().collect();
            let (start, end) = block(page, "CCTV: </SPAN>", "China News Service: ");
            let next_end = end
                + lines[end + 1..]
                    .iter()
                    .position(|line| line.contains("<B>"))
                    .expect("the exchange after")
                + 1;
            let mut reordered = lines[..start].to_vec();
            reordered.extend(&lines[end..next_end]);
            reordered.extend(&lines[start..end]);
            reordered.extend(&lines[next_end..]);
            reordered.join("\n")
        });
        assert_eq!(kinds(&events), ["revised"]);
        let change = revised(&events[0]).change;
        assert_eq!(change.significance, Significance::Minor);
        assert_eq!(
            change
                .changed_exchanges()
                .map(|e| e.kind())
                .collect::<Vec<_>>(),
            ["moved"]
        );

        // Taken down through the error page (soft 404), then put back.
        site.fault(EN_ARTICLE, Fault::RedirectToErrorPage, 1);
        let events = poll(&env);
        assert_eq!(kinds(&events), ["soft_gone"]);
        let gone: PageEventPayload = serde_json::from_value(events[0].payload.clone()).unwrap();
        assert_eq!(gone.last_title.as_deref(), Some(TITLE));
        let events = poll(&env);
        assert_eq!(kinds(&events), ["restored"]);
        assert_eq!(events[0].payload["last_title"], TITLE);
        assert_eq!(events[0].payload["detail"], "gone");

        // A real 404 is `gone`.
        let other = FIXTURE_EN_ARTICLES[2];
        site.remove_page(other);
        let events = poll(&env);
        assert_eq!(kinds(&events), ["gone"]);
        assert_eq!(events[0].payload["detail"], "HTTP 404");
        site.restore_page(other);
        assert_eq!(kinds(&poll(&env)), ["restored"]);

        // Removed from the listing while still reachable: `delisted`; listed again: `restored`.
        let delisted_path = FIXTURE_EN_ARTICLES[1];
        let events = poll_after(&env, &site, EN_LISTING, |page| {
            page.lines()
                .filter(|line| !line.contains("./t1794266.shtml"))
                .collect::<Vec<_>>()
                .join("\n")
        });
        assert_eq!(kinds(&events), ["delisted"]);
        assert_eq!(events[0].payload["url"], site.url(delisted_path));
        assert_eq!(
            events[0].payload["last_title"],
            "Foreign Ministry Spokesperson Zhao Lijian's Regular Press Conference on July 2, 2020"
        );
        assert_eq!(kinds(&poll(&env)), Vec::<&str>::new(), "no repeat");
        site.restore_page(EN_LISTING);
        let events = poll(&env);
        assert_eq!(kinds(&events), ["restored"]);
        assert_eq!(events[0].payload["detail"], "delisted");

        // Nothing changed: nothing happens.
        assert_eq!(kinds(&poll(&env)), Vec::<&str>::new());

        // The commands read it back.
        let url = site.url(EN_ARTICLE);
        let lines: Vec<serde_json::Value> = env
            .briefwatch(&["history", &url, "--json"])
            .lines()
            .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
            .collect();
        let revisions: Vec<&str> = lines
            .iter()
            .filter(|line| line["type"] == "revision")
            .map(|line| line["significance"].as_str().unwrap())
            .collect();
        assert_eq!(
            revisions,
            ["new", "substantive", "substantive", "cosmetic", "minor"]
        );
        let event_types: Vec<&str> = lines
            .iter()
            .filter(|line| line["type"] != "revision")
            .map(|line| line["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            event_types,
            [
                "new",
                "revised",
                "exchange_removed",
                "revised",
                "revised",
                "revised",
                "soft_gone",
                "restored"
            ]
        );
        let text = env.briefwatch(&["history", &url]);
        assert!(text.contains("substantive: 1 exchange removed"), "{text}");

        let text = env.briefwatch(&["diff", &url, "--from", "1", "--to", "2"]);
        assert!(
            text.contains("Exchange 2 removed (Beijing Youth Daily) [substantive]"),
            "{text}"
        );
        let html = env.briefwatch(&["diff", &url, "--to", "3", "--format", "html"]);
        assert!(
            html.contains("<del>Several Western countries&#39; attempt"),
            "{html}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&env.briefwatch(&["diff", &url, "--format", "json"])).unwrap();
        assert_eq!(json["significance"], "minor");
        assert_eq!(json["counts"]["moved"], 1);
        let refused = env.briefwatch_output(&["diff", &url, "--from", "9"]);
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("has no revision 9"));

        let pairing: serde_json::Value =
            serde_json::from_str(&env.briefwatch(&["pair", "2020-07-03", "--json"])).unwrap();
        // The served English page lost one exchange: its Chinese counterpart is unpaired; the
        // moved CCTV exchange still finds its counterpart, out of order.
        assert_eq!(pairing["zh_only"], 1, "{pairing}");
        assert_eq!(pairing["en_only"], 0, "{pairing}");
        let moved: Vec<&serde_json::Value> = pairing["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|row| row["out_of_order"] == true)
            .collect();
        assert_eq!(moved.len(), 1, "{pairing}");
        assert_eq!(moved[0]["outlet"], "CCTV");
        let side_by_side = env.briefwatch(&["pair", "2020-07-03"]);
        assert!(
            side_by_side.contains("UNPAIRED: no English counterpart"),
            "{side_by_side}"
        );
        assert!(
            side_by_side.contains("《北京青年报》记者"),
            "{side_by_side}"
        );
    }
}
