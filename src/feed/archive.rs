//! The store queries behind the feeds: latest revisions of the newest briefings, and the archive
//! events the revisions feed reports, with their structured diffs.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{
    BriefingEntry, ChangeBlock, EventEntry, EventKind, FeedError, FeedInputs, FeedSettings, Place,
    Segment, SharedFeeds, WriteReport,
};
use crate::config::Config;
use crate::model::{Briefing, Exchange, Lang};
use crate::store::{DocumentKey, EventQuery, Store, StoreError, parse_time};

/// Event types of the revisions feed, as the store names them.
const REVISION_EVENT_TYPES: &[&str] = &[
    "revised",
    "exchange_removed",
    "gone",
    "restored",
    "unpaired",
];

impl FeedSettings {
    /// Settings of a configuration: the public URL of `[http]`, `[feeds] items`, and the shortest
    /// listing poll interval (feeds cannot change more often than the listings are polled).
    pub fn from_config(config: &Config) -> Result<FeedSettings, FeedError> {
        let public_url = config
            .http
            .public_url()
            .map_err(|error| FeedError::Config(error.to_string()))?;
        let poll_interval = config
            .sources
            .iter()
            .map(|source| source.poll_interval)
            .chain([config.schedule.window_interval])
            .min()
            .unwrap_or(config.schedule.window_interval);
        FeedSettings::new(&public_url, config.feeds.items, poll_interval)
    }
}

/// Keeps the served feeds (and the static copies, when configured) in step with the archive.
#[derive(Debug, Clone)]
pub struct Publisher {
    settings: FeedSettings,
    out_dir: Option<PathBuf>,
    feeds: SharedFeeds,
}

impl Publisher {
    pub fn new(config: &Config) -> Result<Publisher, FeedError> {
        Ok(Publisher {
            settings: FeedSettings::from_config(config)?,
            out_dir: config.feeds.out_dir.clone(),
            feeds: SharedFeeds::default(),
        })
    }

    /// The feeds the HTTP server hands out.
    pub fn feeds(&self) -> SharedFeeds {
        self.feeds.clone()
    }

    pub fn settings(&self) -> &FeedSettings {
        &self.settings
    }

    /// Adopts a reloaded configuration; the next [`Publisher::publish`] renders with it.
    pub fn reconfigure(&mut self, config: &Config) -> Result<(), FeedError> {
        self.settings = FeedSettings::from_config(config)?;
        self.out_dir = config.feeds.out_dir.clone();
        Ok(())
    }

    /// Re-renders every feed from the archive and swaps them in; writes the static files whose
    /// bytes changed. Returns the names of the feeds that changed.
    pub fn publish(&self, store: &Store, now: DateTime<Utc>) -> Result<Vec<String>, FeedError> {
        let inputs = inputs_from_store(store, self.settings.items)?;
        let changed = self.feeds.refresh(&self.settings, &inputs, now)?;
        if let Some(dir) = &self.out_dir {
            let WriteReport { written, .. } = self.feeds.load().write_dir(dir)?;
            if !written.is_empty() {
                tracing::info!(dir = %dir.display(), files = written.len(), "feed files written");
            }
        }
        Ok(changed)
    }
}

fn store_error(source: StoreError) -> FeedError {
    FeedError::Store { source }
}

fn time_of(text: &str) -> DateTime<Utc> {
    parse_time(text).unwrap_or(DateTime::UNIX_EPOCH)
}

/// Everything the feeds show, read from the archive: per language the `items` newest documents
/// (by briefing date, then first sight) with their latest revision, and the `items` newest events
/// of the kinds the revisions feed reports.
pub fn inputs_from_store(store: &Store, items: usize) -> Result<FeedInputs, FeedError> {
    let limit = i64::try_from(items).unwrap_or(i64::MAX);
    let mut briefings = Vec::new();
    for lang in [Lang::En, Lang::Zh] {
        let documents: Vec<(i64, String)> = {
            let mut statement = store
                .connection()
                .prepare_cached(
                    "SELECT id, first_seen FROM documents
                     WHERE lang = ?1 AND EXISTS (SELECT 1 FROM revisions WHERE document_id = documents.id)
                     ORDER BY COALESCE(briefing_date, substr(first_seen, 1, 10)) DESC, first_seen DESC, id DESC
                     LIMIT ?2",
                )
                .map_err(|source| store_error(StoreError::Sql { context: "listing documents for feeds", source }))?;
            statement
                .query_map(params![lang.as_str(), limit], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .and_then(Iterator::collect)
                .map_err(|source| {
                    store_error(StoreError::Sql {
                        context: "listing documents for feeds",
                        source,
                    })
                })?
        };
        for (document_id, first_seen) in documents {
            match store.latest_revision(document_id) {
                Ok(Some(revision)) => briefings.push(BriefingEntry {
                    briefing: revision.briefing,
                    first_seen: time_of(&first_seen),
                }),
                Ok(None) => {}
                // One unreadable record must not take every feed down with it.
                Err(error) => {
                    tracing::warn!(document_id, %error, "feed: latest revision unreadable, left out")
                }
            }
        }
    }

    let events = store
        .events(&EventQuery {
            types: REVISION_EVENT_TYPES,
            limit: u32::try_from(items).unwrap_or(u32::MAX),
            ..EventQuery::default()
        })
        .map_err(store_error)?;
    let mut entries = Vec::new();
    for event in events {
        match event_entry(store, &event) {
            Ok(Some(entry)) => entries.push(entry),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(event = event.id, %error, "feed: event unreadable, left out")
            }
        }
    }
    Ok(FeedInputs {
        briefings,
        events: entries,
        keywords: Default::default(),
    })
}

fn payload_seq(payload: &serde_json::Value, key: &str) -> Option<u32> {
    payload
        .get(key)
        .and_then(serde_json::Value::as_u64)
        .and_then(|seq| u32::try_from(seq).ok())
}

fn payload_exchange(payload: &serde_json::Value) -> Option<Exchange> {
    serde_json::from_value(payload.get("exchange")?.clone()).ok()
}

/// One stored event as the revisions feed shows it; `None` for events it cannot place (no document).
fn event_entry(
    store: &Store,
    event: &crate::store::Event,
) -> Result<Option<EventEntry>, FeedError> {
    let Some(kind) = EventKind::parse(&event.kind) else {
        return Ok(None);
    };
    let Some(document_id) = event.document_id else {
        return Ok(None);
    };
    let Some(document) = store
        .document(DocumentKey::Id(document_id))
        .map_err(store_error)?
    else {
        return Ok(None);
    };
    let latest = store.latest_revision(document_id).map_err(store_error)?;
    let payload = &event.payload;
    let mut from_seq = payload_seq(payload, "from_seq");
    let mut to_seq = payload_seq(payload, "to_seq");
    let mut blocks = Vec::new();
    match kind {
        EventKind::Revised | EventKind::ExchangeRemoved => {
            if let (Some(from), Some(to)) = (from_seq, to_seq) {
                let old = store
                    .revision(document_id, i64::from(from))
                    .map_err(store_error)?;
                let new = store
                    .revision(document_id, i64::from(to))
                    .map_err(store_error)?;
                if let (Some(old), Some(new)) = (old, new) {
                    blocks = revision_blocks(&old.briefing, &new.briefing);
                }
            } else if let Some(exchange) = payload_exchange(payload) {
                blocks.push(ChangeBlock::ExchangeRemoved(exchange));
            }
        }
        EventKind::Gone => {
            // The last archived version is the one the page showed before it went.
            from_seq = latest
                .as_ref()
                .and_then(|revision| u32::try_from(revision.meta.seq).ok());
            to_seq = None;
        }
        EventKind::Restored => {}
        EventKind::Unpaired => {
            if let Some(exchange) = payload_exchange(payload) {
                let missing_in = match document.lang {
                    Lang::En => Lang::Zh,
                    Lang::Zh => Lang::En,
                };
                blocks.push(ChangeBlock::Unpaired {
                    exchange,
                    missing_in,
                });
            }
        }
    }
    let briefing = latest.map(|revision| revision.briefing);
    let title = document
        .title
        .clone()
        .or_else(|| briefing.as_ref().map(|b| b.title.clone()))
        .unwrap_or_else(|| document.url.clone());
    Ok(Some(EventEntry {
        event_id: event.id,
        kind,
        occurred_at: time_of(&event.created_at),
        document_id,
        url: document.url.clone(),
        lang: document.lang,
        title,
        date: document.briefing_date,
        spokesperson: briefing.and_then(|b| b.spokesperson),
        from_seq,
        to_seq,
        blocks,
    }))
}

/// What changed between two revisions, exchange by exchange: exchanges aligned on asker and
/// question, removed ones quoted whole, reworded paragraphs diffed word by word (character by
/// character for Chinese).
pub fn revision_blocks(old: &Briefing, new: &Briefing) -> Vec<ChangeBlock> {
    let mut blocks = Vec::new();
    if old.title != new.title {
        blocks.push(ChangeBlock::Reworded {
            place: Place::Title,
            paragraphs: vec![inline_diff(&old.title, &new.title)],
        });
    }
    if old.opening != new.opening {
        blocks.push(ChangeBlock::Reworded {
            place: Place::Opening,
            paragraphs: paragraphs_diff(&old.opening, &new.opening),
        });
    }
    let key = |exchange: &Exchange| (exchange.asker.clone(), exchange.question.first().cloned());
    let old_keys: Vec<_> = old.exchanges.iter().map(key).collect();
    let new_keys: Vec<_> = new.exchanges.iter().map(key).collect();
    for op in similar::capture_diff_slices(similar::Algorithm::Patience, &old_keys, &new_keys) {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        let olds = &old.exchanges[old_range];
        let news = &new.exchanges[new_range];
        match tag {
            similar::DiffTag::Equal | similar::DiffTag::Replace if olds.len() == news.len() => {
                for (before, after) in olds.iter().zip(news) {
                    exchange_edits(before, after, &mut blocks);
                }
            }
            _ => {
                blocks.extend(olds.iter().cloned().map(ChangeBlock::ExchangeRemoved));
                blocks.extend(news.iter().cloned().map(ChangeBlock::ExchangeAdded));
            }
        }
    }
    blocks
}

fn exchange_edits(before: &Exchange, after: &Exchange, blocks: &mut Vec<ChangeBlock>) {
    if before.question != after.question {
        blocks.push(ChangeBlock::Reworded {
            place: Place::Question {
                ordinal: after.ordinal,
                asker: after.asker.clone(),
            },
            paragraphs: paragraphs_diff(&before.question, &after.question),
        });
    }
    if before.answer != after.answer {
        blocks.push(ChangeBlock::Reworded {
            place: Place::Answer {
                ordinal: after.ordinal,
                asker: after.asker.clone(),
            },
            paragraphs: paragraphs_diff(&before.answer, &after.answer),
        });
    }
}

/// Changed paragraphs only; unchanged ones add nothing a reader needs.
fn paragraphs_diff(old: &[String], new: &[String]) -> Vec<Vec<Segment>> {
    let count = old.len().max(new.len());
    (0..count)
        .filter_map(|index| {
            let before = old.get(index).map(String::as_str).unwrap_or("");
            let after = new.get(index).map(String::as_str).unwrap_or("");
            (before != after).then(|| inline_diff(before, after))
        })
        .collect()
}

fn inline_diff(old: &str, new: &str) -> Vec<Segment> {
    let diff = similar::TextDiff::configure().diff_unicode_words(old, new);
    let mut segments: Vec<Segment> = Vec::new();
    for change in diff.iter_all_changes() {
        let text = change.value().to_string();
        let segment = match change.tag() {
            similar::ChangeTag::Equal => Segment::Same(text),
            similar::ChangeTag::Delete => Segment::Deleted(text),
            similar::ChangeTag::Insert => Segment::Inserted(text),
        };
        // Runs of one kind read better as one <del>/<ins>.
        match (segments.last_mut(), segment) {
            (Some(Segment::Same(last)), Segment::Same(more))
            | (Some(Segment::Deleted(last)), Segment::Deleted(more))
            | (Some(Segment::Inserted(last)), Segment::Inserted(more)) => last.push_str(&more),
            (_, segment) => segments.push(segment),
        }
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    fn exchange(ordinal: u32, asker: &str, question: &str, answer: &str) -> Exchange {
        Exchange {
            ordinal,
            asker: asker.to_string(),
            question: vec![question.to_string()],
            answer: vec![answer.to_string()],
            after_conference: false,
        }
    }

    fn briefing(exchanges: Vec<Exchange>) -> Briefing {
        Briefing {
            url: "https://www.fmprc.gov.cn/mfa_eng/t1.shtml".to_string(),
            lang: Lang::En,
            kind: Kind::PressConference,
            title: "Regular Press Conference".to_string(),
            date: None,
            published_at: None,
            spokesperson: None,
            opening: vec![],
            exchanges,
            content_hash: String::new(),
        }
    }

    #[test]
    fn a_removed_exchange_is_quoted_and_a_reworded_answer_diffed() {
        let old = briefing(vec![
            exchange(1, "CCTV", "First?", "We firmly oppose it."),
            exchange(2, "Reuters", "About Ai Weiwei?", "No comment."),
            exchange(3, "AFP", "Third?", "Yes."),
        ]);
        let new = briefing(vec![
            exchange(1, "CCTV", "First?", "We note it."),
            exchange(2, "AFP", "Third?", "Yes."),
        ]);
        let blocks = revision_blocks(&old, &new);
        assert_eq!(
            blocks,
            vec![
                ChangeBlock::Reworded {
                    place: Place::Answer {
                        ordinal: 1,
                        asker: "CCTV".to_string()
                    },
                    paragraphs: vec![vec![
                        Segment::Same("We ".to_string()),
                        Segment::Deleted("firmly oppose".to_string()),
                        Segment::Inserted("note".to_string()),
                        Segment::Same(" it.".to_string()),
                    ]],
                },
                ChangeBlock::ExchangeRemoved(old.exchanges[1].clone()),
            ]
        );
    }

    #[test]
    fn identical_briefings_have_no_blocks() {
        let old = briefing(vec![exchange(1, "CCTV", "Q?", "A.")]);
        assert!(revision_blocks(&old, &old.clone()).is_empty());
    }
}
