//! The store queries behind the feeds: latest revisions of the briefings newest by their own dates,
//! and the archive events the revisions feed reports, grouped into one item per change, with their
//! structured diffs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use sha2::{Digest, Sha256};

use super::items::PageDates;
use super::{
    BriefingEntry, ChangeBlock, EventEntry, FeedError, FeedInputs, FeedSettings, KeywordEntry,
    Mark, Part, SharedFeeds, UnpairedNote, WriteReport, check_rule_name,
};
use crate::alert::RuleSet;
use crate::config::Config;
use crate::config::DiffConfig;
pub use crate::diff::present::blocks_from_change;
use crate::diff::present::{other_language, quote_removed_once, restored_cause, taken_down_cause};
use crate::diff::{self, EventKind, EventPayload, Significance};
use crate::model::{Briefing, Exchange, Lang};
use crate::store::{DocumentKey, Event, EventQuery, Store, StoreError, parse_time};

/// The kinds of event the revisions feed reports.
const REVISION_EVENT_TYPES: &[EventKind] = &[
    EventKind::Revised,
    EventKind::ExchangeRemoved,
    EventKind::Gone,
    EventKind::SoftGone,
    EventKind::Restored,
    EventKind::Unpaired,
];

/// How many stored events are read to find the revisions feed's items: a revision comes with one
/// event per exchange it removed or left unpaired, so items need more events than there are items.
const EVENTS_PER_ITEM: usize = 8;

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
    /// The archive's data version at the last render: another process wrote when it moved.
    rendered_version: Arc<AtomicI64>,
}

impl Publisher {
    pub fn new(config: &Config) -> Result<Publisher, FeedError> {
        Ok(Publisher {
            settings: FeedSettings::from_config(config)?,
            rules: FeedRules::from_config(config)?,
            out_dir: config.feeds.out_dir.clone(),
            feeds: SharedFeeds::default(),
            rendered_version: Arc::new(AtomicI64::new(i64::MIN)),
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

    /// [`Publisher::publish`] when the archive changed since the last render: `wrote` says this
    /// process stored something, and the data version tells whether another one did (`poll
    /// --once`, `import`, `backfill` beside the daemon). `None` when nothing changed.
    pub fn publish_if_changed(
        &self,
        store: &Store,
        wrote: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<String>>, FeedError> {
        let version = store.data_version().map_err(store_error)?;
        if !wrote && version == self.rendered_version.load(Ordering::Acquire) {
            return Ok(None);
        }
        self.publish(store, now).map(Some)
    }

    /// Re-renders every feed from the archive and swaps them in; writes the static files whose
    /// bytes changed. Returns the names of the feeds that changed.
    pub fn publish(&self, store: &Store, now: DateTime<Utc>) -> Result<Vec<String>, FeedError> {
        let started = std::time::Instant::now();
        // Read before rendering: a write landing during the render moves it again.
        let version = store.data_version().map_err(store_error)?;
        let inputs = inputs_from_store(store, self.settings.items, &self.rules)?;
        let read = started.elapsed();
        let changed = self.feeds.refresh(&self.settings, &inputs, now)?;
        self.rendered_version.store(version, Ordering::Release);
        tracing::info!(
            feeds = self.feeds.load().len(),
            changed = changed.len(),
            read_ms = read.as_millis() as u64,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "feeds rendered"
        );
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

/// An archived document's latest revision and where the document falls in time, as the feeds
/// date it (see [`super::items::document_date`]).
#[derive(Debug, Clone, PartialEq, Eq)]
struct DatedDocument {
    document_id: i64,
    revision_id: i64,
    fetched_at: Option<DateTime<Utc>>,
    lang: Lang,
    archive_date: Option<NaiveDate>,
    date: DateTime<FixedOffset>,
}

/// The dated documents, newest first (same date: the later archived first); undated ones are
/// left out. The dates come from the plain text rows, so no record is decoded.
fn dated_documents(store: &Store) -> Result<Vec<DatedDocument>, FeedError> {
    let mut dated: Vec<DatedDocument> = store
        .latest_dates()
        .map_err(store_error)?
        .into_iter()
        .filter_map(|latest| {
            let page = PageDates {
                kind: latest.kind,
                date: latest.date,
                published_at: latest.published_at,
            };
            Some(DatedDocument {
                document_id: latest.document_id,
                revision_id: latest.revision_id,
                fetched_at: latest.fetched_at,
                lang: latest.lang,
                archive_date: latest.archive_date,
                date: page.document_date(latest.archive_date, latest.fetched_at)?,
            })
        })
        .collect();
    dated.sort_by(|a, b| b.date.cmp(&a.date).then(b.document_id.cmp(&a.document_id)));
    Ok(dated)
}

/// Everything the feeds show, read from the archive: per language the `items` newest documents
/// by their own date (see [`super::items::document_date`]; undated documents are left out) with
/// their latest revision, the revisions feed's `items` newest changes, and per alert rule the
/// `items` newest matching exchanges.
pub fn inputs_from_store(
    store: &Store,
    items: usize,
    rules: &FeedRules,
) -> Result<FeedInputs, FeedError> {
    let newest = dated_documents(store)?;
    let mut briefings = Vec::new();
    for lang in [Lang::En, Lang::Zh] {
        for dated in newest.iter().filter(|dated| dated.lang == lang).take(items) {
            match store.revision_by_id(dated.revision_id) {
                Ok(Some(revision)) => briefings.push(BriefingEntry {
                    briefing: revision.briefing,
                    archive_date: dated.archive_date,
                    fetched_at: dated.fetched_at,
                }),
                Ok(None) => {}
                Err(error) => {
                    let document_id = dated.document_id;
                    tracing::warn!(document_id, %error, "feed: latest revision unreadable, left out")
                }
            }
        }
    }
    let events = store
        .events(&EventQuery {
            types: REVISION_EVENT_TYPES,
            limit: u32::try_from(items.saturating_mul(EVENTS_PER_ITEM)).unwrap_or(u32::MAX),
            ..EventQuery::default()
        })
        .map_err(store_error)?;
    let events: Vec<Decoded<'_>> = events.iter().map(Decoded::of).collect();
    let mut entries = Vec::new();
    for group in group_events(&events) {
        if entries.len() >= items {
            break;
        }
        match event_entry(store, &group, &rules.diff) {
            Ok(Some(entry)) => entries.push(entry),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(event = group.lead.event.id, %error, "feed: event unreadable, left out")
            }
        }
    }
    let keywords = keyword_hits(store, items, &rules.alerts, &newest)?;
    Ok(FeedInputs {
        briefings,
        events: entries,
        keywords,
    })
}

/// The newest matching exchanges of every alert rule whose name can be a feed path, from the
/// latest revisions of the dated documents, newest first, until every rule has `items` of them.
fn keyword_hits(
    store: &Store,
    items: usize,
    rules: &RuleSet,
    newest: &[DatedDocument],
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
    for dated in newest {
        if hits.values().all(|found| found.len() >= items) {
            break;
        }
        let date = dated.date;
        let briefing = match store.revision_by_id(dated.revision_id) {
            Ok(Some(revision)) => revision.briefing,
            Ok(None) => continue,
            Err(error) => {
                let document_id = dated.document_id;
                tracing::warn!(document_id, %error, "feed: latest revision unreadable, left out");
                continue;
            }
        };
        for passage in briefing.passages() {
            for (_, found) in rules.matches_all(&passage, briefing.lang) {
                let Some(list) = hits.get_mut(&found.rule) else {
                    continue;
                };
                if list.len() >= items {
                    continue;
                }
                // The briefing's own text is quoted by its matching paragraphs, under its name.
                let (exchange, spans) = if passage.ordinal == crate::model::TEXT_PASSAGE {
                    let (mut quoted, spans) =
                        crate::alert::plan::matching_paragraphs(&passage, &found.spans);
                    quoted.asker = briefing.kind.text_label(briefing.lang).to_string();
                    (quoted, spans)
                } else {
                    (passage.clone().into_owned(), found.spans.clone())
                };
                list.push(KeywordEntry {
                    rule: found.rule.clone(),
                    exchange_key: exchange_key(&briefing.url, &exchange),
                    date,
                    url: briefing.url.clone(),
                    lang: briefing.lang,
                    title: briefing.title.clone(),
                    spokesperson: briefing.spokesperson.clone(),
                    exchange,
                    terms: found.terms.clone(),
                    marks: spans
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
pub fn exchange_key(url: &str, exchange: &Exchange) -> String {
    let mut hasher = Sha256::new();
    hasher.update(exchange.asker.as_bytes());
    for paragraph in &exchange.question {
        hasher.update(b"\n");
        hasher.update(paragraph.as_bytes());
    }
    format!("{url}#{}", hex::encode(&hasher.finalize()[..8]))
}

/// A stored event with its payload decoded once.
struct Decoded<'a> {
    event: &'a Event,
    /// `None` when the stored JSON lacks what the event's kind carries: the event is then told
    /// from the archive alone.
    payload: Option<EventPayload>,
}

impl<'a> Decoded<'a> {
    fn of(event: &'a Event) -> Decoded<'a> {
        let payload = match EventPayload::decode(event.kind, &event.payload) {
            Ok(payload) => Some(payload),
            Err(error) => {
                tracing::debug!(event = event.id, %error, "feed: event payload not understood");
                None
            }
        };
        Decoded { event, payload }
    }

    fn kind(&self) -> EventKind {
        self.event.kind
    }

    fn exchange(&self) -> Option<&Exchange> {
        self.payload.as_ref().and_then(EventPayload::exchange)
    }
}

/// The events one ingestion stored about one change, which make one feed item: a revision with
/// the exchanges it removed and the exchanges its new text left without a counterpart in the other
/// language, or the exchanges of one briefing found unpaired together.
struct EventGroup<'a> {
    lead: &'a Decoded<'a>,
    members: Vec<&'a Decoded<'a>>,
}

/// Whether `event` (an `exchange_removed` or `unpaired`) was stored with the `revised` event.
fn part_of_revision(event: &Decoded<'_>, revised: &Decoded<'_>) -> bool {
    match (&event.payload, event.kind()) {
        (_, EventKind::ExchangeRemoved) => {
            event.event.document_id == revised.event.document_id
                && event.event.revision_id == revised.event.revision_id
        }
        (payload, EventKind::Unpaired) => {
            let revised_url = match &revised.payload {
                Some(EventPayload::Revised(revised)) => Some(revised.url.as_str()),
                _ => None,
            };
            let other_url = match payload {
                Some(EventPayload::Unpaired(unpaired)) => Some(unpaired.other_url.as_str()),
                _ => None,
            };
            event.event.created_at == revised.event.created_at
                && (event.event.document_id == revised.event.document_id
                    || (revised_url.is_some() && other_url == revised_url))
        }
        _ => false,
    }
}

/// Groups events (newest first) into feed items, newest first.
fn group_events<'a>(events: &'a [Decoded<'a>]) -> Vec<EventGroup<'a>> {
    let follows = |event: &Decoded<'_>| {
        matches!(
            event.kind(),
            EventKind::ExchangeRemoved | EventKind::Unpaired
        )
    };
    let mut groups: Vec<EventGroup<'a>> = events
        .iter()
        .filter(|event| !follows(event))
        .map(|lead| EventGroup {
            lead,
            members: Vec::new(),
        })
        .collect();
    for event in events.iter().filter(|event| follows(event)) {
        let home = groups.iter_mut().find(|group| {
            let lead = group.lead;
            (lead.kind() == EventKind::Revised && part_of_revision(event, lead))
                || (event.kind() == EventKind::Unpaired
                    && lead.kind() == EventKind::Unpaired
                    && lead.event.created_at == event.event.created_at
                    && lead.event.document_id == event.event.document_id)
        });
        match home {
            Some(group) => group.members.push(event),
            None => groups.push(EventGroup {
                lead: event,
                members: Vec::new(),
            }),
        }
    }
    groups.sort_by_key(|group| std::cmp::Reverse(group.lead.event.id));
    groups
}

fn unpaired_note(event: &Decoded<'_>) -> Option<UnpairedNote> {
    match &event.payload {
        Some(EventPayload::Unpaired(unpaired)) => Some(UnpairedNote {
            lang: unpaired.lang,
            ordinal: unpaired.exchange.ordinal,
            asker: unpaired.exchange.asker.clone(),
        }),
        _ => None,
    }
}

fn seq(number: Option<i64>) -> Option<u32> {
    number.and_then(|seq| u32::try_from(seq).ok())
}

/// One change as the revisions feed shows it; `None` for changes it does not announce (cosmetic
/// edits) or cannot place (no document).
fn event_entry(
    store: &Store,
    group: &EventGroup<'_>,
    diff_config: &DiffConfig,
) -> Result<Option<EventEntry>, FeedError> {
    let event = group.lead.event;
    let payload = group.lead.payload.as_ref();
    // The feed tells a page leading to the error page as taken down, like a 404.
    let kind = match event.kind {
        EventKind::SoftGone => EventKind::Gone,
        kind if REVISION_EVENT_TYPES.contains(&kind) => kind,
        _ => return Ok(None),
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
    let latest = store.latest_heading(document_id).map_err(store_error)?;
    let revisions = payload.and_then(EventPayload::revisions);
    let mut from_seq = seq(revisions.map(|(from, _)| from));
    let mut to_seq = seq(revisions.map(|(_, to)| to));
    let mut blocks = Vec::new();
    let mut seen = None;
    let mut pairing = Vec::new();
    match kind {
        EventKind::Revised | EventKind::ExchangeRemoved => {
            if let Some(EventPayload::Revised(revised)) = payload
                && revised.significance() <= Significance::Cosmetic
            {
                // Whitespace and punctuation edits are archived, not announced.
                return Ok(None);
            }
            if (from_seq, to_seq) == (None, None)
                && let Some(revision_id) = event.revision_id
                && let Some(seq) = store.revision_seq(revision_id).map_err(store_error)?
            {
                to_seq = u32::try_from(seq).ok();
                from_seq = to_seq
                    .and_then(|seq| seq.checked_sub(1))
                    .filter(|&seq| seq > 0);
            }
            if kind == EventKind::ExchangeRemoved {
                blocks.extend(
                    group
                        .lead
                        .exchange()
                        .cloned()
                        .map(ChangeBlock::ExchangeRemoved),
                );
            } else if let Some(EventPayload::Revised(revised)) = payload {
                blocks = blocks_from_change(&revised.change);
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
            for member in &group.members {
                match member.kind() {
                    // Quoted once: the diff usually has it already.
                    EventKind::ExchangeRemoved => {
                        if let Some(exchange) = member.exchange() {
                            quote_removed_once(&mut blocks, exchange.clone());
                        }
                    }
                    _ => pairing.extend(unpaired_note(member)),
                }
            }
        }
        EventKind::Gone => {
            // The last archived version is the one the page showed before it went.
            from_seq = latest
                .as_ref()
                .and_then(|heading| u32::try_from(heading.seq).ok());
            to_seq = None;
            let page = match payload {
                Some(EventPayload::TakenDown(page)) => Some(page),
                _ => None,
            };
            seen = Some(taken_down_cause(event.kind, page));
        }
        EventKind::Restored => {
            seen = Some(restored_cause().to_string());
        }
        EventKind::Unpaired => {
            let missing_in = other_language(document.lang);
            for member in std::iter::once(&group.lead).chain(&group.members) {
                if let Some(exchange) = member.exchange() {
                    blocks.push(ChangeBlock::Unpaired {
                        exchange: exchange.clone(),
                        missing_in,
                    });
                }
            }
            blocks.sort_by_key(|block| match block {
                ChangeBlock::Unpaired { exchange, .. } => exchange.ordinal,
                _ => 0,
            });
        }
        _ => return Ok(None),
    }
    pairing.sort_by_key(|note| (note.lang.as_str(), note.ordinal));
    let (latest_title, spokesperson) = latest
        .map(|heading| (heading.title, heading.spokesperson))
        .unwrap_or_default();
    let title = document
        .title
        .clone()
        .or(latest_title)
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
        spokesperson,
        from_seq,
        to_seq,
        blocks,
        seen,
        pairing,
    }))
}

/// The structured diff of two revisions (see [`crate::diff`]) as feed blocks.
pub fn revision_blocks(old: &Briefing, new: &Briefing, config: &DiffConfig) -> Vec<ChangeBlock> {
    blocks_from_change(&diff::diff(old, new, config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::present::{Place, Segment};
    use crate::model::Kind;

    fn event(
        id: i64,
        kind: EventKind,
        document: i64,
        revision: i64,
        at: &str,
        payload: serde_json::Value,
    ) -> Event {
        Event {
            id,
            document_id: Some(document),
            revision_id: Some(revision),
            kind,
            created_at: at.to_string(),
            payload,
        }
    }

    #[test]
    fn a_revision_takes_along_its_removed_and_unpaired_exchanges() {
        const EN: &str = "https://www.fmprc.gov.cn/mfa_eng/t1.shtml";
        const ZH: &str = "https://www.fmprc.gov.cn/web/t2.shtml";
        let at = "2020-07-04T02:00:00Z";
        let later = "2020-07-05T02:00:00Z";
        let unpaired = |url: &str, other: &str| {
            serde_json::to_value(crate::diff::UnpairedPayload {
                date: None,
                lang: Lang::Zh,
                url: url.to_string(),
                other_url: other.to_string(),
                exchange: exchange(1, "新华社", "问？", "答。"),
            })
            .unwrap()
        };
        let old = briefing(vec![
            exchange(1, "CCTV", "First?", "Yes."),
            exchange(2, "AFP", "Second?", "No."),
        ]);
        let new = briefing(vec![exchange(1, "CCTV", "First?", "Yes.")]);
        let drafts = diff::events_for_revision(&old, &new, &DiffConfig::default());
        assert_eq!(new.url, EN);
        // Newest first, as the store returns them.
        let events = [
            // A new Chinese transcript of another day, two exchanges unpaired at once.
            event(9, EventKind::Unpaired, 3, 30, later, unpaired("z3", "e3")),
            event(8, EventKind::Unpaired, 3, 30, later, unpaired("z3", "e3")),
            // The English revision: one exchange removed, leaving a Chinese one unpaired.
            event(7, EventKind::Unpaired, 2, 20, at, unpaired(ZH, EN)),
            event(
                6,
                EventKind::ExchangeRemoved,
                1,
                11,
                at,
                drafts[1].payload.clone(),
            ),
            event(5, EventKind::Revised, 1, 11, at, drafts[0].payload.clone()),
            // An older take-down of the same page.
            event(
                4,
                EventKind::Gone,
                1,
                10,
                "2020-07-01T00:00:00Z",
                serde_json::json!({ "url": EN, "status": 404 }),
            ),
        ];
        let decoded: Vec<Decoded<'_>> = events.iter().map(Decoded::of).collect();
        assert!(decoded.iter().all(|event| event.payload.is_some()));
        let groups = group_events(&decoded);
        let shape: Vec<(i64, Vec<i64>)> = groups
            .iter()
            .map(|group| {
                let members = group.members.iter().map(|e| e.event.id).collect();
                (group.lead.event.id, members)
            })
            .collect();
        assert_eq!(shape, vec![(9, vec![8]), (5, vec![7, 6]), (4, vec![])]);
    }

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
