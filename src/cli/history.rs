//! `briefwatch history URL|ID [--json]`: a document's revisions and events.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use briefwatch::diff::present;
use briefwatch::diff::{EventKind, EventPayload};
use briefwatch::store::{Document, DocumentKey, Event, Store};
use serde_json::json;

use super::Global;

#[derive(clap::Args)]
pub struct HistoryArgs {
    /// The document's URL or numeric id.
    pub document: String,
    /// One JSON object per line: each revision (`"type":"revision"`), then each event (`"type"`
    /// is the event type, the stored payload alongside).
    #[arg(long)]
    pub json: bool,
}

/// The document a command names by URL or id.
pub fn find_document(store: &Store, name: &str) -> anyhow::Result<Document> {
    let key = match name.parse::<i64>() {
        Ok(id) => DocumentKey::Id(id),
        Err(_) => DocumentKey::Url(name),
    };
    store
        .document(key)?
        .with_context(|| format!("no document {name} in the archive"))
}

/// Significance and summary of a revision, from its stored `revised` event among a document's
/// events.
pub fn described(events: &[Event], revision_id: i64, seq: i64) -> (String, String) {
    let revised = events
        .iter()
        .filter(|event| event.revision_id == Some(revision_id) && event.kind == EventKind::Revised)
        .find_map(
            |event| match EventPayload::decode(event.kind, &event.payload) {
                Ok(EventPayload::Revised(revised)) => Some(revised),
                _ => None,
            },
        );
    match revised {
        Some(revised) => (
            revised.significance().as_str().to_string(),
            revised.summary().to_string(),
        ),
        None if seq == 1 => ("new".to_string(), "first archived version".to_string()),
        None => ("unknown".to_string(), String::new()),
    }
}

/// One event as a line of `history` names it: the summary of a revision, the exchange a removal
/// or pairing concerns, what was seen of a page taken down, back or delisted.
fn event_line(event: &Event) -> String {
    let Ok(payload) = EventPayload::decode(event.kind, &event.payload) else {
        return String::new();
    };
    match &payload {
        EventPayload::Revised(revised) => revised.summary().to_string(),
        EventPayload::ExchangeRemoved(removed) => {
            present::removed_heading(removed.old_ordinal, &removed.exchange.asker)
        }
        EventPayload::Unpaired(unpaired) => present::ChangeBlock::Unpaired {
            exchange: unpaired.exchange.clone(),
            missing_in: present::other_language(unpaired.lang),
        }
        .heading(),
        EventPayload::TakenDown(page) => present::taken_down_cause(event.kind, Some(page)),
        EventPayload::Delisted(page) => format!("{} {}", present::DELISTED, page.detail),
        EventPayload::Restored(page) if page.detail.is_empty() => String::new(),
        EventPayload::Restored(page) => format!("back from {}", page.detail),
        EventPayload::Blocked(blocked) => present::blocked_sentence(blocked),
        EventPayload::ExtractorFailed(failed) => present::unreadable_sentence(failed),
        EventPayload::New(_) => String::new(),
    }
}

pub fn run(global: &Global, args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let config = global.config()?;
    let store = Global::open_existing_store(&config)?;
    let document = find_document(&store, &args.document)?;
    let revisions = store.revisions(document.id)?;
    let events = store.document_events(document.id)?;

    let described = |revision_id: i64, seq: i64| described(&events, revision_id, seq);

    let mut out = std::io::stdout().lock();
    if args.json {
        for revision in &revisions {
            let (significance, summary) = described(revision.id, revision.seq);
            let line = json!({
                "type": "revision",
                "document_id": document.id,
                "seq": revision.seq,
                "fetched_at": revision.fetched_at,
                "content_hash": revision.content_hash,
                "significance": significance,
                "summary": summary,
            });
            writeln!(out, "{line}")?;
        }
        for event in &events {
            let line = json!({
                "type": event.kind,
                "id": event.id,
                "document_id": event.document_id,
                "revision_id": event.revision_id,
                "created_at": event.created_at,
                "payload": event.payload,
            });
            writeln!(out, "{line}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }

    writeln!(out, "{}", document.title.as_deref().unwrap_or("(untitled)"))?;
    writeln!(
        out,
        "url: {}  id: {}  state: {}",
        document.url, document.id, document.state
    )?;
    writeln!(
        out,
        "\nrev  fetched at            content      significance  summary"
    )?;
    for revision in &revisions {
        let (significance, summary) = described(revision.id, revision.seq);
        let short_hash: String = revision.content_hash.chars().take(12).collect();
        writeln!(
            out,
            "{:<4} {:<21} {short_hash} {significance:<13} {summary}",
            revision.seq, revision.fetched_at
        )?;
    }
    writeln!(out, "\nevents:")?;
    for event in &events {
        let detail = event_line(event);
        writeln!(
            out,
            "{:<21} {:<17} {detail}",
            event.created_at,
            event.kind.as_str()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
