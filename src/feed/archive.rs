//! The store queries behind the feeds: latest revisions of the newest briefings, and the archive
//! events the revisions feed reports, with their structured diffs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rusqlite::params;
use sha2::{Digest, Sha256};

use super::{
    BriefingEntry, ChangeBlock, EventEntry, EventKind, FeedError, FeedInputs, FeedSettings,
    KeywordEntry, Mark, Part, Place, Segment, SharedFeeds, WriteReport, check_rule_name,
};
use crate::alert::RuleSet;
use crate::config::Config;
use crate::diff::{self, Change, DiffConfig, ExchangeChange, Op, Significance, TextDiff};
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

/// What the feeds are computed with besides the archive: the diff settings and the alert rules
/// (one keyword feed per rule).
#[derive(Clone)]
pub struct FeedRules {
    pub diff: DiffConfig,
    pub alerts: Arc<RuleSet>,
}

impl FeedRules {
    pub fn from_config(config: &Config) -> Result<FeedRules, FeedError> {
        let alerts = RuleSet::compile(&config.alerts)
            .map_err(|error| FeedError::Config(format!("alert rules: {error}")))?;
        Ok(FeedRules {
            diff: config.diff.clone(),
            alerts: Arc::new(alerts),
        })
    }
}

/// Keeps the served feeds (and the static copies, when configured) in step with the archive.
#[derive(Clone)]
pub struct Publisher {
    settings: FeedSettings,
    rules: FeedRules,
    out_dir: Option<PathBuf>,
    feeds: SharedFeeds,
}

impl Publisher {
    pub fn new(config: &Config) -> Result<Publisher, FeedError> {
        Ok(Publisher {
            settings: FeedSettings::from_config(config)?,
            rules: FeedRules::from_config(config)?,
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
        self.rules = FeedRules::from_config(config)?;
        self.out_dir = config.feeds.out_dir.clone();
        Ok(())
    }

    /// Re-renders every feed from the archive and swaps them in; writes the static files whose
    /// bytes changed. Returns the names of the feeds that changed.
    pub fn publish(&self, store: &Store, now: DateTime<Utc>) -> Result<Vec<String>, FeedError> {
        let inputs = inputs_from_store(store, self.settings.items, &self.rules)?;
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
/// (by briefing date, then first sight) with their latest revision, the `items` newest events of
/// the kinds the revisions feed reports, and per alert rule the `items` newest matching exchanges.
pub fn inputs_from_store(
    store: &Store,
    items: usize,
    rules: &FeedRules,
) -> Result<FeedInputs, FeedError> {
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
        match event_entry(store, &event, &rules.diff) {
            Ok(Some(entry)) => entries.push(entry),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(event = event.id, %error, "feed: event unreadable, left out")
            }
        }
    }
    let keywords = keyword_hits(store, items, &rules.alerts)?;
    Ok(FeedInputs {
        briefings,
        events: entries,
        keywords,
    })
}

/// The newest matching exchanges of every alert rule whose name can be a feed path, from the
/// latest revisions, newest documents first, until every rule has `items` of them.
fn keyword_hits(
    store: &Store,
    items: usize,
    rules: &RuleSet,
) -> Result<BTreeMap<String, Vec<KeywordEntry>>, FeedError> {
    let mut hits: BTreeMap<String, Vec<KeywordEntry>> = BTreeMap::new();
    for rule in rules.rules() {
        match check_rule_name(&rule.name) {
            Ok(()) => {
                hits.insert(rule.name.clone(), Vec::new());
            }
            Err(error) => tracing::warn!(%error, "no keyword feed for this rule"),
        }
    }
    if hits.is_empty() {
        return Ok(hits);
    }
    let documents: Vec<(i64, String)> = {
        let sql_error = |source| {
            store_error(StoreError::Sql {
                context: "listing documents for keyword feeds",
                source,
            })
        };
        let mut statement = store
            .connection()
            .prepare_cached(
                "SELECT id, first_seen FROM documents
                 WHERE EXISTS (SELECT 1 FROM revisions WHERE document_id = documents.id)
                 ORDER BY COALESCE(briefing_date, substr(first_seen, 1, 10)) DESC, first_seen DESC, id DESC",
            )
            .map_err(sql_error)?;
        statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .and_then(Iterator::collect)
            .map_err(sql_error)?
    };
    for (document_id, first_seen) in documents {
        if hits.values().all(|found| found.len() >= items) {
            break;
        }
        let briefing = match store.latest_revision(document_id) {
            Ok(Some(revision)) => revision.briefing,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(document_id, %error, "feed: latest revision unreadable, left out");
                continue;
            }
        };
        for exchange in &briefing.exchanges {
            for (_, found) in rules.matches_all(exchange, briefing.lang) {
                let Some(list) = hits.get_mut(&found.rule) else {
                    continue;
                };
                if list.len() >= items {
                    continue;
                }
                list.push(KeywordEntry {
                    rule: found.rule.clone(),
                    exchange_key: exchange_key(&briefing.url, exchange),
                    found_at: time_of(&first_seen),
                    url: briefing.url.clone(),
                    lang: briefing.lang,
                    title: briefing.title.clone(),
                    published_at: briefing.published_at,
                    spokesperson: briefing.spokesperson.clone(),
                    exchange: exchange.clone(),
                    terms: found.terms.clone(),
                    marks: found
                        .spans
                        .iter()
                        .map(|span| Mark {
                            part: match span.part {
                                crate::alert::Part::Question => Part::Question,
                                crate::alert::Part::Answer => Part::Answer,
                            },
                            paragraph: span.paragraph,
                            range: span.start..span.end,
                        })
                        .collect(),
                });
            }
        }
    }
    Ok(hits)
}

/// Identifies an exchange by its page, asker and question, so renumbering (an exchange removed
/// above it) does not make it a new feed item.
fn exchange_key(url: &str, exchange: &Exchange) -> String {
    let mut hasher = Sha256::new();
    hasher.update(exchange.asker.as_bytes());
    for paragraph in &exchange.question {
        hasher.update(b"\n");
        hasher.update(paragraph.as_bytes());
    }
    format!("{url}#{}", hex::encode(&hasher.finalize()[..8]))
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
    diff_config: &DiffConfig,
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
            let significance = payload.get("significance").and_then(|v| v.as_str());
            if kind == EventKind::Revised && matches!(significance, Some("none" | "cosmetic")) {
                // Whitespace and punctuation edits are archived, not announced.
                return Ok(None);
            }
            if (from_seq, to_seq) == (None, None)
                && let Some(revision_id) = event.revision_id
                && let Some(revision) = store.revision_by_id(revision_id).map_err(store_error)?
            {
                to_seq = u32::try_from(revision.meta.seq).ok();
                from_seq = to_seq
                    .and_then(|seq| seq.checked_sub(1))
                    .filter(|&seq| seq > 0);
            }
            if kind == EventKind::ExchangeRemoved {
                blocks.extend(payload_exchange(payload).map(ChangeBlock::ExchangeRemoved));
            } else if let Some(change) = payload
                .get("change")
                .and_then(|change| serde_json::from_value::<Change>(change.clone()).ok())
            {
                blocks = blocks_from_change(&change);
            } else if let (Some(from), Some(to)) = (from_seq, to_seq) {
                let old = store
                    .revision(document_id, i64::from(from))
                    .map_err(store_error)?;
                let new = store
                    .revision(document_id, i64::from(to))
                    .map_err(store_error)?;
                if let (Some(old), Some(new)) = (old, new) {
                    blocks = revision_blocks(&old.briefing, &new.briefing, diff_config);
                }
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

/// The structured diff of two revisions (see [`crate::diff`]) as feed blocks.
pub fn revision_blocks(old: &Briefing, new: &Briefing, config: &DiffConfig) -> Vec<ChangeBlock> {
    blocks_from_change(&diff::diff(old, new, config))
}

/// Feed blocks of a computed change: removed and added exchanges whole, rewordings as inline
/// deletions and insertions; unchanged exchanges and edits of no significance are left out.
pub fn blocks_from_change(change: &Change) -> Vec<ChangeBlock> {
    let mut blocks = Vec::new();
    if let Some(title) = &change.title {
        push_reworded(&mut blocks, Place::Title, title);
    }
    if let Some(opening) = &change.opening {
        push_reworded(&mut blocks, Place::Opening, opening);
    }
    for entry in &change.exchanges {
        match entry {
            ExchangeChange::Unchanged { .. } => {}
            ExchangeChange::Reworded(edit) | ExchangeChange::Moved(edit) => {
                if edit.significance == Significance::None {
                    continue;
                }
                if let Some(question) = &edit.question {
                    let place = Place::Question {
                        ordinal: edit.new,
                        asker: edit.asker.clone(),
                    };
                    push_reworded(&mut blocks, place, question);
                }
                if let Some(answer) = &edit.answer {
                    let place = Place::Answer {
                        ordinal: edit.new,
                        asker: edit.asker.clone(),
                    };
                    push_reworded(&mut blocks, place, answer);
                }
            }
            ExchangeChange::Added { exchange, .. } => {
                blocks.push(ChangeBlock::ExchangeAdded(exchange.clone()))
            }
            ExchangeChange::Removed { exchange, .. } => {
                blocks.push(ChangeBlock::ExchangeRemoved(exchange.clone()))
            }
            ExchangeChange::Split { old, new, text, .. } => {
                if let Some(text) = text {
                    let place = Place::Split {
                        old: *old,
                        new: new.clone(),
                    };
                    push_reworded(&mut blocks, place, text);
                }
            }
            ExchangeChange::Merged { old, new, text, .. } => {
                if let Some(text) = text {
                    let place = Place::Merged {
                        old: old.clone(),
                        new: *new,
                    };
                    push_reworded(&mut blocks, place, text);
                }
            }
        }
    }
    blocks
}

fn push_reworded(blocks: &mut Vec<ChangeBlock>, place: Place, text: &TextDiff) {
    let paragraphs: Vec<Vec<Segment>> = text
        .paragraphs()
        .into_iter()
        .map(|paragraph| {
            paragraph
                .into_iter()
                .map(|segment| match segment.op {
                    Op::Equal => Segment::Same(segment.text),
                    Op::Delete => Segment::Deleted(segment.text),
                    Op::Insert => Segment::Inserted(segment.text),
                })
                .collect()
        })
        .filter(|paragraph: &Vec<Segment>| !paragraph.is_empty())
        .collect();
    if !paragraphs.is_empty() {
        blocks.push(ChangeBlock::Reworded { place, paragraphs });
    }
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
            found_by: None,
            selector: None,
            date_from: None,
        }
    }

    #[test]
    fn a_removed_exchange_is_quoted_and_a_reworded_answer_shows_deletions_and_insertions() {
        let old = briefing(vec![
            exchange(
                1,
                "CCTV",
                "What is the position on the new law passed this week?",
                "We firmly oppose any interference in the internal affairs of other countries.",
            ),
            exchange(
                2,
                "Reuters",
                "Can you comment on reports about Ai Weiwei?",
                "I am not aware of the situation you mentioned.",
            ),
            exchange(
                3,
                "AFP",
                "Will the minister travel to Europe next month?",
                "We will release information in due course.",
            ),
        ]);
        let new = briefing(vec![
            exchange(
                1,
                "CCTV",
                "What is the position on the new law passed this week?",
                "We firmly reject any interference in the internal affairs of other countries.",
            ),
            exchange(
                2,
                "AFP",
                "Will the minister travel to Europe next month?",
                "We will release information in due course.",
            ),
        ]);
        let blocks = revision_blocks(&old, &new, &DiffConfig::default());
        assert!(
            blocks.contains(&ChangeBlock::ExchangeRemoved(old.exchanges[1].clone())),
            "{blocks:?}"
        );
        let reworded = blocks
            .iter()
            .find_map(|block| match block {
                ChangeBlock::Reworded {
                    place: Place::Answer { ordinal: 1, .. },
                    paragraphs,
                } => Some(paragraphs),
                _ => None,
            })
            .expect("the CCTV answer is reworded");
        let segments = &reworded[0];
        assert!(
            segments.contains(&Segment::Deleted("oppose".to_string())),
            "{segments:?}"
        );
        assert!(
            segments.contains(&Segment::Inserted("reject".to_string())),
            "{segments:?}"
        );
        assert_eq!(blocks.len(), 2, "{blocks:?}");
    }

    #[test]
    fn identical_briefings_have_no_blocks() {
        let old = briefing(vec![exchange(1, "CCTV", "Q?", "A.")]);
        assert!(revision_blocks(&old, &old.clone(), &DiffConfig::default()).is_empty());
    }
}
