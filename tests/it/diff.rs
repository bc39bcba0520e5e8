//! Diff stage on real transcripts: the ministry's kinds of edits applied to extracted pages, and the
//! English–Chinese pairing of the same day, on fixtures and over the whole corpus.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use briefwatch::diff::{
    self, Change, DiffConfig, EventKind, ExchangeChange, ExchangeRemovedPayload, Op, PairRow,
    RevisedPayload, Significance,
};
use briefwatch::model::{Briefing, Kind, Lang};
use briefwatch::site::Profile;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/diff");
const EN_URL: &str =
    "https://www.fmprc.gov.cn/mfa_eng/xwfw_665399/s2510_665401/2511_665403/t1794629.shtml";
const ZH_URL: &str = "https://www.fmprc.gov.cn/web/wjdt_674879/fyrbt_674889/t1794584.shtml";

fn extract(profile: &str, path: &Path, url: &str) -> Briefing {
    let html = std::fs::read_to_string(path).expect("fixture readable");
    Profile::builtin(profile)
        .expect("built-in profile")
        .parse_article(&html, url)
        .unwrap_or_else(|error| panic!("{url}: {error}"))
}

fn english() -> Briefing {
    extract(
        "mfa-en",
        &Path::new(FIXTURES).join("t1794629.shtml"),
        EN_URL,
    )
}

fn chinese() -> Briefing {
    extract(
        "mfa-zh",
        &Path::new(FIXTURES).join("t1794584.shtml"),
        ZH_URL,
    )
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

fn corpus_root() -> Option<PathBuf> {
    let root = PathBuf::from(std::env::var_os("BRIEFWATCH_CORPUS")?).join("mfa-2020");
    root.join("MANIFEST.tsv").exists().then_some(root)
}

/// Pairs every day of the corpus that has both an English and a Chinese press conference and
/// reports how many pair completely and which exchanges are left over.
#[test]
fn whole_corpus_pairing() {
    let Some(root) = corpus_root() else {
        eprintln!("BRIEFWATCH_CORPUS not set: whole-corpus test skipped");
        return;
    };
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
