//! What changed between two revisions of a briefing, exchange by exchange; the events a revision
//! raises; and the pairing of one day's English and Chinese transcripts.

mod align;
mod events;
mod pair;
pub mod present;
mod render;
mod text;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::config::DiffConfig;
use crate::model::{Briefing, Exchange, Lang};

pub use events::{
    BlockedPayload, EventDraft, EventKind, EventPayload, ExchangeRemovedPayload,
    ExtractorFailedPayload, GoneReason, NewPayload, PageEventPayload, RevisedPayload,
    UnpairedPayload, events_for_change, events_for_pairing, events_for_revision,
};
pub use pair::{PairRow, Pairing, outlet_of, pair};
pub use render::{render_exchange_html, render_exchange_text, render_html, render_text};
pub use text::{Op, Segment, TextDiff, canonical, diff_text, escape_html};

/// Why `[diff]` values cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("must be between 0 and 1, not {value}")]
    OutOfRange { field: &'static str, value: f64 },
}

impl DiffConfig {
    pub fn validate(&self) -> Result<(), DiffError> {
        for (field, value) in [
            ("match_threshold", self.match_threshold),
            ("containment_threshold", self.containment_threshold),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(DiffError::OutOfRange { field, value });
            }
        }
        Ok(())
    }
}

/// How much a change matters to a reader, from nothing to a changed statement.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Significance {
    /// Identical.
    #[default]
    None,
    /// White space, punctuation width, quotes, typography.
    Cosmetic,
    /// A few words, a moved exchange, a re-segmentation.
    Minor,
    /// An exchange added or removed, a sentence changed, the date or spokesperson changed.
    Substantive,
}

impl Significance {
    pub fn as_str(self) -> &'static str {
        match self {
            Significance::None => "none",
            Significance::Cosmetic => "cosmetic",
            Significance::Minor => "minor",
            Significance::Substantive => "substantive",
        }
    }

    pub fn parse(text: &str) -> Option<Significance> {
        [
            Significance::None,
            Significance::Cosmetic,
            Significance::Minor,
            Significance::Substantive,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A field that changed from one value to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueChange<T> {
    pub old: T,
    pub new: T,
}

/// One exchange kept in place or moved, with what changed in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeEdit {
    /// 1-based ordinal in the old revision.
    pub old: u32,
    /// 1-based ordinal in the new revision.
    pub new: u32,
    /// The asker in the new revision.
    pub asker: String,
    pub significance: Significance,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asker_change: Option<ValueChange<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<TextDiff>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<TextDiff>,
}

/// What became of one exchange. Entries follow the new revision's order; a removed exchange sits
/// where it used to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExchangeChange {
    Unchanged {
        old: u32,
        new: u32,
        asker: String,
    },
    /// Same place in the order, text changed (possibly only cosmetically).
    Reworded(ExchangeEdit),
    /// Taken out of the order and put elsewhere; text may also have changed.
    Moved(ExchangeEdit),
    Added {
        new: u32,
        exchange: Exchange,
    },
    /// Quoted in full: the text is gone from the page.
    Removed {
        old: u32,
        exchange: Exchange,
    },
    /// One old exchange is now several consecutive ones.
    Split {
        old: u32,
        new: Vec<u32>,
        significance: Significance,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<TextDiff>,
    },
    /// Several consecutive old exchanges are now one.
    Merged {
        old: Vec<u32>,
        new: u32,
        significance: Significance,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<TextDiff>,
    },
}

impl ExchangeChange {
    pub fn kind(&self) -> &'static str {
        match self {
            ExchangeChange::Unchanged { .. } => "unchanged",
            ExchangeChange::Reworded(_) => "reworded",
            ExchangeChange::Moved(_) => "moved",
            ExchangeChange::Added { .. } => "added",
            ExchangeChange::Removed { .. } => "removed",
            ExchangeChange::Split { .. } => "split",
            ExchangeChange::Merged { .. } => "merged",
        }
    }

    /// Ordinals this entry covers in the old revision (empty when added).
    pub fn old_ordinals(&self) -> Vec<u32> {
        match self {
            ExchangeChange::Unchanged { old, .. } | ExchangeChange::Removed { old, .. } => {
                vec![*old]
            }
            ExchangeChange::Reworded(edit) | ExchangeChange::Moved(edit) => vec![edit.old],
            ExchangeChange::Added { .. } => vec![],
            ExchangeChange::Split { old, .. } => vec![*old],
            ExchangeChange::Merged { old, .. } => old.clone(),
        }
    }

    /// Ordinals this entry covers in the new revision (empty when removed).
    pub fn new_ordinals(&self) -> Vec<u32> {
        match self {
            ExchangeChange::Unchanged { new, .. } | ExchangeChange::Added { new, .. } => vec![*new],
            ExchangeChange::Reworded(edit) | ExchangeChange::Moved(edit) => vec![edit.new],
            ExchangeChange::Removed { .. } => vec![],
            ExchangeChange::Split { new, .. } => new.clone(),
            ExchangeChange::Merged { new, .. } => vec![*new],
        }
    }

    pub fn significance(&self) -> Significance {
        match self {
            ExchangeChange::Unchanged { .. } => Significance::None,
            ExchangeChange::Reworded(edit) | ExchangeChange::Moved(edit) => edit.significance,
            ExchangeChange::Added { .. } | ExchangeChange::Removed { .. } => {
                Significance::Substantive
            }
            ExchangeChange::Split { significance, .. }
            | ExchangeChange::Merged { significance, .. } => *significance,
        }
    }
}

/// How many exchanges fell in each kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub unchanged: u32,
    pub reworded: u32,
    pub moved: u32,
    pub added: u32,
    pub removed: u32,
    pub split: u32,
    pub merged: u32,
}

/// Everything that changed from one revision of a briefing to the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The highest significance of any part.
    pub significance: Significance,
    /// One line for a feed title or a mail subject.
    pub summary: String,
    pub lang: Lang,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<TextDiff>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<ValueChange<Option<NaiveDate>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spokesperson: Option<ValueChange<Option<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening: Option<TextDiff>,
    pub counts: Counts,
    pub exchanges: Vec<ExchangeChange>,
}

impl Change {
    /// Exchanges that are not unchanged.
    pub fn changed_exchanges(&self) -> impl Iterator<Item = &ExchangeChange> {
        self.exchanges
            .iter()
            .filter(|entry| !matches!(entry, ExchangeChange::Unchanged { .. }))
    }
}

fn paragraphs(list: &[String]) -> String {
    list.join("\n")
}

/// Compares two revisions of one document.
pub fn diff(old: &Briefing, new: &Briefing, cfg: &DiffConfig) -> Change {
    let lang = new.lang;
    let title = diff_text(&old.title, &new.title, lang, cfg);
    let date = (old.date != new.date).then_some(ValueChange {
        old: old.date,
        new: new.date,
    });
    let spokesperson = (old.spokesperson != new.spokesperson).then(|| ValueChange {
        old: old.spokesperson.clone(),
        new: new.spokesperson.clone(),
    });
    let opening = diff_text(
        &paragraphs(&old.opening),
        &paragraphs(&new.opening),
        lang,
        cfg,
    );

    let alignment = align::align(
        &old.exchanges,
        &new.exchanges,
        cfg.match_threshold,
        cfg.containment_threshold,
    );
    let ordinal = |list: &[Exchange], index: usize| {
        list.get(index)
            .map_or(index as u32 + 1, |exchange| exchange.ordinal)
    };

    // Each entry is placed by its position in the new revision; a removed one right after the new
    // position of the exchange that preceded it in the old revision, or first if none did.
    let mut placed: Vec<((usize, usize, usize), ExchangeChange)> = Vec::new();
    let mut new_position_of_old: Vec<Option<usize>> = vec![None; old.exchanges.len()];
    for &(o, n, moved) in &alignment.pairs {
        new_position_of_old[o] = Some(n);
        let entry = edit_entry(&old.exchanges[o], &new.exchanges[n], moved, lang, cfg);
        placed.push(((n, 1, o), entry));
    }
    for (o, parts) in &alignment.splits {
        for &n in parts {
            new_position_of_old[*o] = new_position_of_old[*o].max(Some(n));
        }
        let old_text = exchange_display(&old.exchanges[*o]);
        let new_text = parts
            .iter()
            .map(|&n| exchange_display(&new.exchanges[n]))
            .collect::<Vec<_>>()
            .join("\n");
        let text = diff_text(&old_text, &new_text, lang, cfg);
        let significance = text.as_ref().map_or(Significance::Minor, |t| {
            t.significance.max(Significance::Minor)
        });
        placed.push((
            (parts[0], 1, *o),
            ExchangeChange::Split {
                old: ordinal(&old.exchanges, *o),
                new: parts.iter().map(|&n| ordinal(&new.exchanges, n)).collect(),
                significance,
                text,
            },
        ));
    }
    for (parts, n) in &alignment.merges {
        for &o in parts {
            new_position_of_old[o] = Some(*n);
        }
        let old_text = parts
            .iter()
            .map(|&o| exchange_display(&old.exchanges[o]))
            .collect::<Vec<_>>()
            .join("\n");
        let new_text = exchange_display(&new.exchanges[*n]);
        let text = diff_text(&old_text, &new_text, lang, cfg);
        let significance = text.as_ref().map_or(Significance::Minor, |t| {
            t.significance.max(Significance::Minor)
        });
        placed.push((
            (*n, 1, parts[0]),
            ExchangeChange::Merged {
                old: parts.iter().map(|&o| ordinal(&old.exchanges, o)).collect(),
                new: ordinal(&new.exchanges, *n),
                significance,
                text,
            },
        ));
    }
    for &n in &alignment.added {
        placed.push((
            (n, 1, 0),
            ExchangeChange::Added {
                new: ordinal(&new.exchanges, n),
                exchange: new.exchanges[n].clone(),
            },
        ));
    }
    for &o in &alignment.removed {
        let anchor = (0..o).rev().find_map(|before| new_position_of_old[before]);
        let key = match anchor {
            Some(n) => (n, 2, o),
            None => (0, 0, o),
        };
        placed.push((
            key,
            ExchangeChange::Removed {
                old: ordinal(&old.exchanges, o),
                exchange: old.exchanges[o].clone(),
            },
        ));
    }
    placed.sort_by_key(|entry| entry.0);
    let exchanges: Vec<ExchangeChange> = placed.into_iter().map(|(_, entry)| entry).collect();

    let mut counts = Counts::default();
    for entry in &exchanges {
        let slot = match entry {
            ExchangeChange::Unchanged { .. } => &mut counts.unchanged,
            ExchangeChange::Reworded(_) => &mut counts.reworded,
            ExchangeChange::Moved(_) => &mut counts.moved,
            ExchangeChange::Added { .. } => &mut counts.added,
            ExchangeChange::Removed { .. } => &mut counts.removed,
            ExchangeChange::Split { .. } => &mut counts.split,
            ExchangeChange::Merged { .. } => &mut counts.merged,
        };
        *slot += 1;
    }

    let mut significance = exchanges
        .iter()
        .map(ExchangeChange::significance)
        .max()
        .unwrap_or_default();
    for part in [&title, &opening].into_iter().flatten() {
        significance = significance.max(part.significance);
    }
    if date.is_some() {
        significance = Significance::Substantive;
    }
    if let Some(change) = &spokesperson {
        let same = change.old.as_deref().map(canonical) == change.new.as_deref().map(canonical);
        significance = significance.max(if same {
            Significance::Cosmetic
        } else {
            Significance::Substantive
        });
    }

    let mut change = Change {
        significance,
        summary: String::new(),
        lang,
        title,
        date,
        spokesperson,
        opening,
        counts,
        exchanges,
    };
    change.summary = present::summary_line(&change);
    change
}

/// An exchange as one text: question paragraphs then answer paragraphs.
fn exchange_display(exchange: &Exchange) -> String {
    let mut lines = Vec::with_capacity(exchange.question.len() + exchange.answer.len());
    lines.extend(exchange.question.iter().cloned());
    lines.extend(exchange.answer.iter().cloned());
    lines.join("\n")
}

fn edit_entry(
    old: &Exchange,
    new: &Exchange,
    moved: bool,
    lang: Lang,
    cfg: &DiffConfig,
) -> ExchangeChange {
    let question = diff_text(
        &paragraphs(&old.question),
        &paragraphs(&new.question),
        lang,
        cfg,
    );
    let answer = diff_text(
        &paragraphs(&old.answer),
        &paragraphs(&new.answer),
        lang,
        cfg,
    );
    let asker_change = (old.asker != new.asker).then(|| ValueChange {
        old: old.asker.clone(),
        new: new.asker.clone(),
    });
    let asker_significance = match &asker_change {
        None => Significance::None,
        Some(change) if canonical(&change.old) == canonical(&change.new) => Significance::Cosmetic,
        Some(_) => Significance::Minor,
    };
    let mut significance = [&question, &answer]
        .into_iter()
        .flatten()
        .map(|diff| diff.significance)
        .max()
        .unwrap_or_default()
        .max(asker_significance);
    if old.after_conference != new.after_conference {
        significance = significance.max(Significance::Minor);
    }
    if moved {
        significance = significance.max(Significance::Minor);
    }
    if !moved && significance == Significance::None {
        return ExchangeChange::Unchanged {
            old: old.ordinal,
            new: new.ordinal,
            asker: new.asker.clone(),
        };
    }
    let edit = ExchangeEdit {
        old: old.ordinal,
        new: new.ordinal,
        asker: new.asker.clone(),
        significance,
        asker_change,
        question,
        answer,
    };
    if moved {
        ExchangeChange::Moved(edit)
    } else {
        ExchangeChange::Reworded(edit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    fn exchange(ordinal: u32, asker: &str, question: &str, answer: &[&str]) -> Exchange {
        Exchange {
            ordinal,
            asker: asker.into(),
            question: vec![question.into()],
            answer: answer.iter().map(|p| p.to_string()).collect(),
            after_conference: false,
        }
    }

    /// Four exchanges of the 3 July 2020 English transcript.
    fn july_third() -> Briefing {
        let exchanges = vec![
            exchange(
                1,
                "CCTV",
                "The foreign ministry of Laos issued a statement expressing congratulations and firm support for China's passage of the Law on Safeguarding National Security in the Hong Kong SAR. What's China's comment?",
                &[
                    "China highly applauds Laos and Vietnam for their staunch support in China's passage and implementation of the Law on Safeguarding National Security in the Hong Kong SAR. It illustrates a simple truth: fair-minded people can tell right from wrong. Several Western countries' attempt to smear China will never succeed.",
                    "I'd like to add that after Cuba made a statement on June 30 on behalf of 53 countries at the Human Rights Council to welcome the passage of the Law, representatives of over 20 countries delivered remarks at the UNHRC to endorse the legislation.",
                ],
            ),
            exchange(
                2,
                "Beijing Youth Daily",
                "Ryo Takeuchi, a Japanese director living in Nanjing, filmed a documentary Long Time No See, Wuhan that received an amazing array of responses in China and Japan. Do you have any comment on this film?",
                &[
                    "Indeed, the documentary you are following has been warmly received in China and Japan. We hope there will be more documentaries like this one, which will enhance mutual understanding and friendship between China and Japan.",
                ],
            ),
            exchange(
                3,
                "China News Service",
                "The American Chamber of Commerce said in a recent statement that it remains \"committed to Hong Kong as a home base for international business\". I wonder if you have any comment?",
                &[
                    "Since its return to the motherland, Hong Kong has given full play to its unique advantage as a global hub backed by the mainland. It ranked second in this year's Index of Economic Freedom released by an American institution.",
                ],
            ),
            exchange(
                4,
                "RT",
                "On July 2, the Belgian State Security Service said that Chinese students in Belgium may engage in espionage for China. What's your comment?",
                &[
                    "The Chinese Embassy in Belgium has responded to this. The report you mentioned is groundless and purely malicious smear against China.",
                ],
            ),
        ];
        Briefing {
            url: "https://www.fmprc.gov.cn/mfa_eng/xwfw_665399/s2510_665401/2511_665403/t1794629.shtml".into(),
            lang: Lang::En,
            kind: Kind::PressConference,
            title: "Foreign Ministry Spokesperson Zhao Lijian's Regular Press Conference on July 3, 2020".into(),
            date: NaiveDate::from_ymd_opt(2020, 7, 3),
            published_at: None,
            spokesperson: Some("Zhao Lijian".into()),
            opening: vec![],
            exchanges,
            content_hash: "old".into(),
            found_by: None,
            selector: None,
            date_from: None,
        }
    }

    fn renumber(briefing: &mut Briefing) {
        for (index, exchange) in briefing.exchanges.iter_mut().enumerate() {
            exchange.ordinal = index as u32 + 1;
        }
        briefing.content_hash = "new".into();
    }

    fn kinds(change: &Change) -> Vec<&'static str> {
        change
            .changed_exchanges()
            .map(ExchangeChange::kind)
            .collect()
    }

    #[test]
    fn identical_revisions_have_no_change() {
        let change = diff(&july_third(), &july_third(), &DiffConfig::default());
        assert_eq!(change.significance, Significance::None);
        assert_eq!(change.counts.unchanged, 4);
        assert!(kinds(&change).is_empty());
    }

    #[test]
    fn removed_exchange_is_substantive_and_quoted_in_full() {
        let old = july_third();
        let mut new = old.clone();
        let gone = new.exchanges.remove(1);
        renumber(&mut new);
        let change = diff(&old, &new, &DiffConfig::default());
        assert_eq!(kinds(&change), vec!["removed"]);
        assert_eq!(change.significance, Significance::Substantive);
        assert_eq!(change.counts.unchanged, 3);
        // Placed where it used to be: after the first exchange.
        assert!(
            matches!(&change.exchanges[1], ExchangeChange::Removed { old: 2, exchange } if *exchange == gone)
        );
        assert_eq!(change.summary, "substantive: 1 exchange removed");

        let events = events_for_revision(&old, &new, &DiffConfig::default());
        let types: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(types, vec!["revised", "exchange_removed"]);
        let removed: ExchangeRemovedPayload =
            serde_json::from_value(events[1].payload.clone()).unwrap();
        assert_eq!(removed.exchange, gone);
        assert_eq!(removed.old_ordinal, 2);
    }

    #[test]
    fn reworded_sentence_is_substantive_and_one_word_is_minor() {
        let old = july_third();
        let mut new = old.clone();
        new.exchanges[0].answer[0] = new.exchanges[0].answer[0].replace(
            "Several Western countries' attempt to smear China will never succeed.",
            "The attempt by a handful of Western politicians to smear China is doomed to fail.",
        );
        renumber(&mut new);
        let change = diff(&old, &new, &DiffConfig::default());
        assert_eq!(kinds(&change), vec!["reworded"]);
        assert_eq!(change.significance, Significance::Substantive);
        let ExchangeChange::Reworded(edit) = &change.exchanges[0] else {
            panic!("{change:?}")
        };
        assert!(edit.question.is_none());
        let answer = edit.answer.as_ref().unwrap().render_text();
        assert!(
            answer.contains("{+The attempt by a handful of Western politicians"),
            "{answer}"
        );
        assert!(
            answer.starts_with("… "),
            "long unchanged start elided: {answer}"
        );

        let mut new = old.clone();
        new.exchanges[2].answer[0] =
            new.exchanges[2].answer[0].replace("ranked second", "ranked third");
        renumber(&mut new);
        let change = diff(&old, &new, &DiffConfig::default());
        assert_eq!(kinds(&change), vec!["reworded"]);
        assert_eq!(change.significance, Significance::Minor);
        let ExchangeChange::Reworded(edit) = &change.exchanges[2] else {
            panic!("{change:?}")
        };
        assert!(
            edit.answer
                .as_ref()
                .unwrap()
                .render_text()
                .contains("ranked [-second-]{+third+} in")
        );
    }

    #[test]
    fn white_space_and_punctuation_width_are_cosmetic() {
        let old = july_third();
        let mut new = old.clone();
        new.exchanges[0].answer[0] = new.exchanges[0].answer[0]
            .replace("truth: fair", "truth：fair")
            .replace(", ", "，")
            .replace("  ", " ");
        new.exchanges[2].question[0] = new.exchanges[2].question[0].replace('"', "“");
        new.exchanges[3].answer[0] = format!("\u{3000}\u{3000}{} ", new.exchanges[3].answer[0]);
        renumber(&mut new);
        let change = diff(&old, &new, &DiffConfig::default());
        assert_eq!(kinds(&change), vec!["reworded", "reworded", "reworded"]);
        assert_eq!(change.significance, Significance::Cosmetic);
        assert!(
            change
                .changed_exchanges()
                .all(|e| e.significance() == Significance::Cosmetic)
        );
    }

    #[test]
    fn moved_exchange_is_minor_and_only_it_moves() {
        let old = july_third();
        let mut new = old.clone();
        let moved = new.exchanges.remove(0);
        new.exchanges.insert(2, moved);
        renumber(&mut new);
        let change = diff(&old, &new, &DiffConfig::default());
        assert_eq!(kinds(&change), vec!["moved"]);
        assert_eq!(change.significance, Significance::Minor);
        let Some(ExchangeChange::Moved(edit)) = change.changed_exchanges().next() else {
            panic!()
        };
        assert_eq!((edit.old, edit.new), (1, 3));
        assert!(edit.question.is_none() && edit.answer.is_none());
    }

    #[test]
    fn added_exchange_and_changed_header_fields() {
        let old = july_third();
        let mut new = old.clone();
        new.exchanges.push(exchange(
            5,
            "AFP",
            "Can you confirm that the foreign minister will travel to Europe next month?",
            &["I have no information to release at the moment."],
        ));
        new.date = NaiveDate::from_ymd_opt(2020, 7, 2);
        new.title = new.title.replace("July 3", "July 2");
        new.spokesperson = Some("Hua Chunying".into());
        new.opening =
            vec!["At the invitation of the government, the minister will visit Europe.".into()];
        renumber(&mut new);
        let change = diff(&old, &new, &DiffConfig::default());
        assert_eq!(kinds(&change), vec!["added"]);
        assert_eq!(change.significance, Significance::Substantive);
        assert!(
            change.date.is_some()
                && change.spokesperson.is_some()
                && change.title.is_some()
                && change.opening.is_some()
        );
        assert_eq!(
            change.title.as_ref().unwrap().render_text(),
            "Foreign Ministry Spokesperson Zhao Lijian's Regular Press Conference on July [-3-]{+2+}, 2020"
        );
        assert_eq!(
            change.summary,
            "substantive: 1 exchange added; title changed; date changed; spokesperson changed; opening remarks changed"
        );
    }

    #[test]
    fn split_exchange_is_one_entry() {
        let old = july_third();
        let mut new = old.clone();
        let mut second_half = new.exchanges[0].clone();
        second_half.asker = "Follow-up".into();
        second_half.question =
            vec!["Cuba spoke on behalf of 53 countries. Can you elaborate?".into()];
        second_half.answer.remove(0);
        new.exchanges[0].answer.truncate(1);
        new.exchanges.insert(1, second_half);
        renumber(&mut new);
        let change = diff(&old, &new, &DiffConfig::default());
        assert_eq!(kinds(&change), vec!["split"], "{change:#?}");
        let Some(ExchangeChange::Split {
            old: 1, new: parts, ..
        }) = change.changed_exchanges().next()
        else {
            panic!()
        };
        assert_eq!(parts, &vec![1, 2]);
    }

    #[test]
    fn change_round_trips_through_json_with_kind_tags() {
        let old = july_third();
        let mut new = old.clone();
        new.exchanges.remove(3);
        new.exchanges[0].answer[1] = new.exchanges[0].answer[1].replace("over 20", "more than 20");
        renumber(&mut new);
        let change = diff(&old, &new, &DiffConfig::default());
        let json = serde_json::to_value(&change).unwrap();
        assert_eq!(json["significance"], "substantive");
        assert_eq!(json["exchanges"][0]["kind"], "reworded");
        assert_eq!(
            json["exchanges"][0]["answer"]["segments"][1]["op"],
            "delete"
        );
        assert_eq!(json["exchanges"][3]["kind"], "removed");
        let back: Change = serde_json::from_value(json).unwrap();
        assert_eq!(back, change);
        let html = render_html(&change);
        assert!(
            html.contains("<section class=\"exchange removed substantive\">"),
            "{html}"
        );
        assert!(
            html.contains("<del>over</del><ins>more than</ins>"),
            "{html}"
        );
        let text = render_text(&change);
        assert!(text.contains("[-over-]{+more than+}"), "{text}");
        assert!(
            text.contains("Exchange 4 removed (RT) [substantive]"),
            "{text}"
        );
    }

    #[test]
    fn config_rejects_unknown_keys_and_fills_defaults() {
        let cfg: DiffConfig = toml::from_str("minor_max_changed_words = 5").unwrap();
        assert_eq!(cfg.minor_max_changed_words, 5);
        assert_eq!(cfg.context_chars, DiffConfig::default().context_chars);
        let error = toml::from_str::<DiffConfig>("minor_words = 5").unwrap_err();
        assert!(
            error.to_string().contains("unknown field `minor_words`"),
            "{error}"
        );
        let bad = DiffConfig {
            match_threshold: 1.5,
            ..DiffConfig::default()
        };
        assert!(bad.validate().is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::model::Kind;
    use proptest::prelude::*;

    fn briefing(exchanges: Vec<Exchange>, lang: Lang) -> Briefing {
        Briefing {
            url: "https://example.invalid/t1.shtml".into(),
            lang,
            kind: Kind::PressConference,
            title: "t".into(),
            date: None,
            published_at: None,
            spokesperson: None,
            opening: vec![],
            exchanges,
            content_hash: String::new(),
            found_by: None,
            selector: None,
            date_from: None,
        }
    }

    fn exchange_strategy() -> impl Strategy<Value = Exchange> {
        let words = prop::sample::select(vec![
            "China",
            "the",
            "United",
            "States",
            "中方",
            "坚决",
            "反对",
            "，",
            "。",
            "sanctions",
            "Hong",
            "Kong",
            "we",
            "oppose",
            "support",
            "“",
            "”",
            " ",
            "\u{3000}",
            "law",
            "2020",
        ]);
        (
            prop::collection::vec(words.clone(), 0..30),
            prop::collection::vec(words, 0..60),
            prop::sample::select(vec!["CCTV", "AFP", "Q", "路透社"]),
        )
            .prop_map(|(question, answer, asker)| Exchange {
                ordinal: 0,
                asker: asker.into(),
                question: vec![question.join(" ")],
                answer: vec![answer.join(" ")],
                after_conference: false,
            })
    }

    proptest! {
        /// Every old and every new exchange is accounted for exactly once, whatever the edit.
        #[test]
        fn every_exchange_is_accounted_for(
            old in prop::collection::vec(exchange_strategy(), 0..8),
            new in prop::collection::vec(exchange_strategy(), 0..8),
            lang in prop::sample::select(vec![Lang::En, Lang::Zh]),
        ) {
            let number = |list: Vec<Exchange>| -> Vec<Exchange> {
                list.into_iter().enumerate().map(|(i, mut e)| { e.ordinal = i as u32 + 1; e }).collect()
            };
            let (old, new) = (number(old), number(new));
            let mut mixed = old.clone();
            mixed.extend(new.iter().cloned());
            let mixed = number(mixed);
            for (a, b) in [(&old, &new), (&old, &mixed), (&mixed, &old)] {
                let change = diff(&briefing(a.clone(), lang), &briefing(b.clone(), lang), &DiffConfig::default());
                let mut olds: Vec<u32> = change.exchanges.iter().flat_map(ExchangeChange::old_ordinals).collect();
                let mut news: Vec<u32> = change.exchanges.iter().flat_map(ExchangeChange::new_ordinals).collect();
                olds.sort_unstable();
                news.sort_unstable();
                prop_assert_eq!(olds, (1..=a.len() as u32).collect::<Vec<_>>());
                prop_assert_eq!(news, (1..=b.len() as u32).collect::<Vec<_>>());
                let _ = render_html(&change);
                let _ = render_text(&change);
            }
            let same = diff(&briefing(old.clone(), lang), &briefing(old.clone(), lang), &DiffConfig::default());
            prop_assert_eq!(same.significance, Significance::None);
        }
    }
}
