//! The one ingest pipeline: every page a poll fetches, a backfill walks or an import reads goes
//! through it, and they differ only in where the page comes from and whether alerts are queued.
//!
//! A page is first classified ([`extract_article`], [`extract_listing`]: the HTTP outcome refined
//! by the page itself, so the site's error page is `soft_gone` however it arrived). Then, in one
//! store transaction: read what the decision needs (the document, its latest revision, the held
//! suspect version, the other language's transcript of the day), decide with pure stages (is it a
//! new revision or a glitch to hold, the diff and its events, the alerts), and write it all.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::alert::{AlertError, BriefingEvent, IngestAlerts, pairs_from_change};
use crate::config::DiffConfig;
use crate::diff::{self, EventDraft, GoneReason};
use crate::model::{Briefing, EventKind, Kind, Lang, Listing, Outcome, Validators};
use crate::site::{Profile, SiteError};
use crate::store::{
    EventRef, FetchRecord, NewDocument, NewRevision, RevisionHead, Store, StoreError, Tx,
};

mod listing;
#[cfg(test)]
mod tests;

pub use listing::{ListingFetch, ListingOutcome, listing};

/// Why a page could not be ingested.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot queue alerts: {0}")]
    Alerts(#[from] AlertError),
}

type Result<T> = std::result::Result<T, IngestError>;

/// How pages are judged and what their ingestion queues.
#[derive(Clone)]
pub struct Settings {
    /// Consecutive gone answers before a document is declared gone.
    pub gone_after: u32,
    /// Hold a version that looks like a glitch (see [`crate::suspect`]) and fetch the page again
    /// after this long; the version is stored when that fetch gives the same content. `None` (for
    /// imports of saved pages, which cannot be fetched again) stores every version.
    pub suspect_recheck: Option<Duration>,
    /// How revisions are compared when their events are written.
    pub diff: DiffConfig,
    /// Alerts queued for what is stored (none when unset or switched off).
    pub alerts: Option<IngestAlerts>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            gone_after: 2,
            suspect_recheck: None,
            diff: DiffConfig::default(),
            alerts: None,
        }
    }
}

/// An article page, fetched or imported, ready to ingest.
#[derive(Debug, Clone)]
pub struct ArticleFetch<'a> {
    pub source: &'a str,
    pub lang: Lang,
    pub log: FetchRecord,
    /// The body as received, for `Outcome::Ok`.
    pub raw: Option<&'a [u8]>,
    pub validators: Validators,
    /// The extracted record, for `Outcome::Ok`.
    pub briefing: Option<&'a Briefing>,
    /// When this document should be fetched again.
    pub next_check: DateTime<Utc>,
}

/// What ingesting one article did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestOutcome {
    pub document_id: i64,
    /// The revision written, if the content changed: (revision id, seq).
    pub new_revision: Option<(i64, i64)>,
    /// The revision it replaces as the latest, if any: (revision id, seq).
    pub previous_revision: Option<(i64, i64)>,
    pub events: Vec<EventRef>,
    /// Why the page was held as suspect instead of stored as a revision (see [`crate::suspect`]).
    pub held: Option<String>,
}

/// An article answer once its page is read: the outcome (the fetch's, refined by the page), the
/// record for an `Ok` page, and why it is not one otherwise.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted<T> {
    pub outcome: Outcome,
    pub value: Option<T>,
    pub error: Option<String>,
}

/// Classifies an article answer by its page: the site's error page (however it was served) is
/// `soft_gone`, a page whose layout is not recognized `unparseable`. Answers other than `Ok` pass
/// unchanged. Pure, and the same for polls, backfills and imports.
pub fn extract_article(
    profile: &Profile,
    url: &str,
    outcome: Outcome,
    html: &str,
) -> Extracted<Briefing> {
    if outcome != Outcome::Ok {
        return Extracted {
            outcome,
            value: None,
            error: None,
        };
    }
    // A saved or fetched answer that is the site's error page, told as the fetcher tells it.
    if crate::site::is_soft_404(html) {
        return Extracted {
            outcome: Outcome::SoftGone,
            value: None,
            error: Some("error page".to_string()),
        };
    }
    match profile.parse_article(html, url) {
        Ok(briefing) => Extracted {
            outcome,
            value: Some(briefing),
            error: None,
        },
        Err(error) => unreadable(error),
    }
}

/// Classifies a listing answer by its page, as [`extract_article`] does an article's.
pub fn extract_listing(
    profile: &Profile,
    url: &str,
    outcome: Outcome,
    html: &str,
) -> Extracted<Listing> {
    if outcome != Outcome::Ok {
        return Extracted {
            outcome,
            value: None,
            error: None,
        };
    }
    match profile.parse_listing(html, url) {
        Ok(listing) => Extracted {
            outcome,
            value: Some(listing),
            error: None,
        },
        Err(error) => unreadable(error),
    }
}

/// The outcome of a page that could not be read: the site's error page is `soft_gone`, anything
/// else `unparseable`.
pub fn unreadable<T>(error: SiteError) -> Extracted<T> {
    match error {
        SiteError::NotATranscript { reason, .. } => Extracted {
            outcome: Outcome::SoftGone,
            value: None,
            error: Some(reason),
        },
        error => Extracted {
            outcome: Outcome::Unparseable,
            value: None,
            error: Some(error.to_string()),
        },
    }
}

/// Ingests one article page in one transaction: the fetch log row, the document, a revision if
/// the content changed, the events that follow from it and the alerts they cause.
pub fn article(
    store: &mut Store,
    fetch: &ArticleFetch<'_>,
    settings: &Settings,
) -> Result<IngestOutcome> {
    let mut outcomes = articles(store, std::slice::from_ref(fetch), settings)?;
    Ok(outcomes.remove(0))
}

/// Ingests several article pages in one transaction, each as [`article`] does one. For runs of
/// pages (a backfill's listing page, unchanged 304s) where one commit per page would cost more
/// than the pages: a crash loses the batch, which the next run fetches again.
pub fn articles<'s, 'raw: 's>(
    store: &'s mut Store,
    fetches: &[ArticleFetch<'raw>],
    settings: &Settings,
) -> Result<Vec<IngestOutcome>> {
    let mut tx = store.transaction()?;
    let mut outcomes = Vec::with_capacity(fetches.len());
    let mut queued = 0;
    for fetch in fetches {
        let (outcome, alerts) = article_in(&mut tx, fetch, settings)?;
        queued += alerts;
        outcomes.push(outcome);
    }
    tx.commit()?;
    if let (Some(alerts), true) = (&settings.alerts, queued > 0) {
        alerts.wake.notify_one();
    }
    Ok(outcomes)
}

/// One article inside the caller's transaction: read, decide, write. Returns what was done and
/// how many alerts were queued.
fn article_in<'s>(
    tx: &mut Tx<'s>,
    fetch: &ArticleFetch<'s>,
    settings: &Settings,
) -> Result<(IngestOutcome, usize)> {
    let now = fetch.log.at;
    let url = fetch.log.url.as_str();
    let log_id = tx.log_fetch(&fetch.log, fetch.briefing)?;
    let (document_id, _) = tx.ensure_document(&NewDocument {
        source: fetch.source,
        lang: fetch.lang,
        url,
        title: None,
        listed_date: None,
        listed: false,
        now,
    })?;
    let document = tx.document_state(document_id)?;
    let previous = tx.latest_revision_head(document_id)?;
    let mut outcome = IngestOutcome {
        document_id,
        previous_revision: previous.as_ref().map(|head| (head.id, head.seq)),
        ..IngestOutcome::default()
    };
    let content = match (fetch.log.outcome, fetch.briefing, fetch.raw) {
        (Outcome::Ok, Some(briefing), Some(raw)) => Some((briefing, raw)),
        _ => None,
    };
    let changed = content.filter(|(briefing, _)| {
        previous
            .as_ref()
            .is_none_or(|head| head.content_hash != briefing.content_hash)
    });
    // The record the new version replaces: what the glitch check, the diff and the alerts compare.
    let previous_record = match (&previous, changed) {
        (Some(head), Some(_)) => Some(tx.record(head.id)),
        _ => None,
    };

    if let (Some(recheck), Some((briefing, _))) = (settings.suspect_recheck, content) {
        let held = tx.held_suspect(document_id)?;
        // A record that cannot be read back leaves only the checks of the new version itself.
        let before = previous_record
            .as_ref()
            .and_then(|record| record.as_ref().ok());
        let reason = changed.and_then(|_| crate::suspect::suspect_reason(before, briefing));
        match reason {
            Some(reason) if held.as_deref() != Some(briefing.content_hash.as_str()) => {
                tx.hold_suspect(document_id, &briefing.content_hash, &reason, now)?;
                tx.note_fetch_error(log_id, &format!("held as suspect: {reason}"))?;
                let held_until = now + chrono::Duration::from_std(recheck).unwrap_or_default();
                tx.schedule_full_check(document_id, now, fetch.next_check.min(held_until))?;
                outcome.held = Some(reason);
                return Ok((outcome, 0));
            }
            _ if held.is_some() => tx.clear_suspect(document_id)?,
            _ => {}
        }
    }

    let found = match fetch.log.outcome {
        Outcome::Ok => content.is_some(),
        Outcome::NotModified => true,
        _ => false,
    };
    if found {
        tx.mark_found(
            document_id,
            now,
            &fetch.validators,
            fetch.log.outcome == Outcome::Ok,
        )?;
    }
    let restored = found && document.state == "gone";

    let mut revision = None;
    if let Some((briefing, raw)) = changed {
        // A page that names no date takes its neighbours' on the listing.
        let dated = listing_dated(tx, fetch.source, url, briefing)?;
        let seq = previous.as_ref().map_or(1, |head| head.seq + 1);
        let revision_id = tx.insert_revision(
            &NewRevision {
                document_id,
                seq,
                fetched_at: now,
                source: fetch.source,
                briefing: dated.as_ref().unwrap_or(briefing),
                validators: &fetch.validators,
            },
            raw,
        )?;
        outcome.new_revision = Some((revision_id, seq));
        revision = Some((revision_id, seq, briefing));
    }

    let gone = match fetch.log.outcome {
        Outcome::Gone | Outcome::SoftGone => {
            let count = document.gone_count + 1;
            tx.set_gone_count(document_id, count)?;
            let gone =
                count >= settings.gone_after && document.state != "gone" && previous.is_some();
            if gone {
                tx.mark_gone(document_id)?;
            }
            gone.then_some(count)
        }
        _ => None,
    };
    let extractor_failed = fetch.log.outcome == Outcome::Unparseable
        && tx.previous_extraction(url)? != Some(Outcome::Unparseable);
    tx.schedule_document(document_id, now, fetch.next_check)?;

    // The events, in the order they happened: back, the new version and what changed in it, gone.
    let previous_record = previous_record.transpose()?;
    let title = match &revision {
        Some((_, _, briefing)) => Some(briefing.title.clone()),
        None => document.title.clone(),
    };
    let mut drafts: Vec<(Option<i64>, EventKind, serde_json::Value)> = Vec::new();
    if restored {
        let draft = EventDraft::restored(url, title.as_deref(), "gone");
        let payload = merged(draft.payload, serde_json::json!({ "url": url }));
        drafts.push((None, draft.kind, payload));
    }
    let mut change = None;
    let mut extra = Vec::new();
    if let Some((revision_id, seq, briefing)) = revision {
        match (&previous, &previous_record) {
            (Some(head), Some(old)) => {
                let computed = diff::diff(old, briefing, &settings.diff);
                let seqs = serde_json::json!({ "from_seq": head.seq, "to_seq": seq });
                let mut revised = seqs.clone();
                for draft in diff::events_for_change(computed.clone(), old, briefing) {
                    if draft.kind == EventKind::Revised {
                        revised = merged(draft.payload, seqs.clone());
                    } else {
                        extra.push((Some(revision_id), draft.kind, draft.payload));
                    }
                }
                drafts.push((Some(revision_id), EventKind::Revised, revised));
                change = Some(computed);
            }
            _ => drafts.push((
                Some(revision_id),
                EventKind::New,
                serde_json::json!({ "seq": seq }),
            )),
        }
    }
    if let Some(consecutive) = gone {
        let (reason, detail) = gone_reason(&fetch.log);
        let draft = EventDraft::gone(url, title.as_deref(), reason, &detail);
        let archive = serde_json::json!({
            "url": url,
            "outcome": fetch.log.outcome.as_str(),
            "status": fetch.log.status,
            "consecutive": consecutive,
        });
        drafts.push((None, draft.kind, merged(draft.payload, archive)));
    }
    if extractor_failed {
        let payload = serde_json::json!({ "url": url, "error": fetch.log.error });
        drafts.push((None, EventKind::ExtractorFailed, payload));
    }
    drafts.extend(extra);
    for (revision_id, kind, payload) in &drafts {
        outcome.events.push(tx.insert_event(
            Some(document_id),
            *revision_id,
            *kind,
            now,
            payload,
        )?);
    }
    if let Some((revision_id, _, briefing)) = revision {
        outcome.events.extend(unpaired_events(
            tx,
            document_id,
            revision_id,
            briefing,
            now,
        )?);
    }

    let queued = match &settings.alerts {
        Some(alerts) if alerts.is_enabled() => queue_alerts(
            tx,
            alerts,
            &outcome,
            revision,
            previous,
            previous_record,
            change,
            now,
        )?,
        _ => 0,
    };
    Ok((outcome, queued))
}

/// Why a gone answer means the page is gone, in the words of its event.
fn gone_reason(log: &FetchRecord) -> (GoneReason, String) {
    match log.outcome {
        Outcome::SoftGone => (
            GoneReason::SoftNotFound,
            "leads to the site's error page".to_string(),
        ),
        _ => (
            GoneReason::NotFound,
            match log.status {
                Some(status) => format!("HTTP {status}"),
                None => "not found".to_string(),
            },
        ),
    }
}

/// Keeps the archive's own payload fields (`from_seq`, `status`, …) beside the diff stage's.
fn merged(mut draft: serde_json::Value, archive: serde_json::Value) -> serde_json::Value {
    if let (Some(target), serde_json::Value::Object(extra)) = (draft.as_object_mut(), archive) {
        for (key, value) in extra {
            target.entry(key).or_insert(value);
        }
    }
    draft
}

/// Queues the alerts of what was stored: a first revision is a new briefing, a later one a
/// revision (with the diff already computed), a page taken down a removal.
#[allow(clippy::too_many_arguments)]
fn queue_alerts(
    tx: &Tx<'_>,
    alerts: &IngestAlerts,
    outcome: &IngestOutcome,
    revision: Option<(i64, i64, &Briefing)>,
    previous: Option<RevisionHead>,
    previous_record: Option<Briefing>,
    change: Option<diff::Change>,
    now: DateTime<Utc>,
) -> Result<usize> {
    let document_id = outcome.document_id;
    let conn = tx.connection();
    let mut queued = 0;
    match (revision, &previous, &previous_record, &change) {
        (Some((_, _, briefing)), None, _, _) => {
            queued +=
                alerts.queue_in(conn, &BriefingEvent::New(briefing), document_id, None, now)?;
        }
        (Some((_, seq, briefing)), Some(head), Some(old), Some(change)) => {
            let event = BriefingEvent::Revised {
                old,
                new: briefing,
                pairs: pairs_from_change(change, old, briefing),
            };
            let seqs = Some((head.seq as u32, seq as u32));
            queued += alerts.queue_in(conn, &event, document_id, seqs, now)?;
        }
        _ => {}
    }
    if outcome
        .events
        .iter()
        .any(|event| event.kind.is_taken_down())
    {
        if let Some(head) = &previous {
            let last = tx.record(head.id)?;
            queued += alerts.queue_in(conn, &BriefingEvent::Gone(&last), document_id, None, now)?;
        }
    }
    Ok(queued)
}

/// When a day's press conference is archived in both languages, the exchanges found in one only,
/// each reported once (a later revision that keeps them unpaired adds nothing).
fn unpaired_events(
    tx: &Tx<'_>,
    document_id: i64,
    revision_id: i64,
    briefing: &Briefing,
    at: DateTime<Utc>,
) -> Result<Vec<EventRef>> {
    let (Kind::PressConference, Some(date)) = (briefing.kind, briefing.date) else {
        return Ok(Vec::new());
    };
    let other_lang = match briefing.lang {
        Lang::En => Lang::Zh,
        Lang::Zh => Lang::En,
    };
    let Some((other_document, other_revision)) = tx.press_conference_of_day(other_lang, date)?
    else {
        return Ok(Vec::new());
    };
    let other_briefing = tx.record(other_revision)?;
    let (en, zh) = match briefing.lang {
        Lang::En => (briefing, &other_briefing),
        Lang::Zh => (&other_briefing, briefing),
    };
    let pairing = diff::pair(en, zh);
    let mut written = Vec::new();
    for draft in diff::events_for_pairing(&pairing, en, zh) {
        let (owner, owner_revision) = if draft.payload["lang"] == briefing.lang.as_str() {
            (document_id, revision_id)
        } else {
            (other_document, other_revision)
        };
        if !tx.has_unpaired_event(owner, &draft.payload)? {
            written.push(tx.insert_event(
                Some(owner),
                Some(owner_revision),
                draft.kind,
                at,
                &draft.payload,
            )?);
        }
    }
    Ok(written)
}

/// How far along the listing to look for a dated neighbour.
const NEIGHBOUR_REACH: usize = 5;

/// `briefing` dated from the archived items next to it on its source's listing (newest first),
/// when it has no date of its own; `None` when it has one or no neighbour is dated.
fn listing_dated(
    tx: &Tx<'_>,
    source: &str,
    url: &str,
    briefing: &Briefing,
) -> Result<Option<Briefing>> {
    if briefing.date.is_some() {
        return Ok(None);
    }
    let items = tx.source_listing_items(source)?;
    let Some(position) = items.iter().position(|item| item == url) else {
        return Ok(None);
    };
    let mut newer = None;
    for item in items[..position].iter().rev().take(NEIGHBOUR_REACH) {
        if let Some(date) = tx.document_date(item)? {
            newer = Some(date);
            break;
        }
    }
    let mut older = None;
    for item in items[position + 1..].iter().take(NEIGHBOUR_REACH) {
        if let Some(date) = tx.document_date(item)? {
            older = Some(date);
            break;
        }
    }
    let evidence = crate::site::DateEvidence {
        published_at: briefing.published_at,
        newer_neighbour: newer,
        older_neighbour: older,
        ..Default::default()
    };
    let facts = crate::site::classify_title(&briefing.title, briefing.lang);
    Ok(
        crate::site::infer_date(&briefing.title, briefing.lang, &facts, &evidence).map(
            |(date, from)| Briefing {
                date: Some(date),
                date_from: Some(from),
                ..briefing.clone()
            },
        ),
    )
}
