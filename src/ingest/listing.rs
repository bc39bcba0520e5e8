//! The pipeline's listing half: a listing page's items become documents (due at once), and items
//! that left the first page while older ones stayed are delisted; delisted pages listed again
//! are restored.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::Result;
use crate::diff::EventDraft;
use crate::model::{Lang, Listing, Outcome, Validators};
use crate::store::{FetchRecord, ListingPageUpdate, NewDocument, Store};

/// A listing page, fetched or imported, ready to ingest.
#[derive(Debug, Clone)]
pub struct ListingFetch<'a> {
    pub source: &'a str,
    pub lang: Lang,
    /// 0 for the first page.
    pub page: u32,
    pub log: FetchRecord,
    pub validators: Validators,
    /// The parsed listing, for `Outcome::Ok`.
    pub listing: Option<&'a Listing>,
    pub next_check: DateTime<Utc>,
}

/// What ingesting one listing page did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListingOutcome {
    /// Items seen for the first time.
    pub new_documents: Vec<String>,
    /// Items that vanished from the first page while older items stayed: removed, not pushed off.
    pub delisted: Vec<String>,
}

/// An item is removed, not pushed off the first page, when an item listed below it is still
/// there. Pure: the items before and now, newest first.
pub fn removed_items<'a>(previous: &'a [String], current: &[String]) -> Vec<&'a String> {
    let current: HashSet<&str> = current.iter().map(String::as_str).collect();
    let Some(last_kept) = previous
        .iter()
        .rposition(|url| current.contains(url.as_str()))
    else {
        return Vec::new();
    };
    previous[..last_kept]
        .iter()
        .filter(|url| !current.contains(url.as_str()))
        .collect()
}

/// Ingests one listing page in one transaction: the fetch log row, the listing state, new
/// documents, items removed from the first page and delisted items listed again, with their events.
pub fn listing(store: &mut Store, fetch: &ListingFetch<'_>) -> Result<ListingOutcome> {
    let tx = store.transaction()?;
    let now = fetch.log.at;
    let url = fetch.log.url.as_str();
    // Read before the items are written: which of them were delisted and now come back.
    let mut relisted = Vec::new();
    for item in fetch.listing.map_or(&[][..], |listing| &listing.items) {
        if let Some((id, title)) = tx.delisted_document(&item.url)? {
            relisted.push((id, item.url.as_str(), title));
        }
    }
    tx.log_fetch(&fetch.log, None)?;
    let previous_items = tx.listing_page_items(url)?;
    tx.schedule_listing_page(url, fetch.source, fetch.page, now, fetch.next_check)?;
    let mut outcome = ListingOutcome::default();
    if fetch.log.outcome == Outcome::NotModified {
        tx.confirm_listing_page(url, now)?;
    }
    let (Outcome::Ok, Some(listing)) = (fetch.log.outcome, fetch.listing) else {
        tx.commit()?;
        return Ok(outcome);
    };
    let current: Vec<String> = listing.items.iter().map(|item| item.url.clone()).collect();
    for item in &listing.items {
        let (_, created) = tx.ensure_document(&NewDocument {
            source: fetch.source,
            lang: fetch.lang,
            url: &item.url,
            title: Some(&item.title),
            listed_date: item.date,
            listed: true,
            now,
        })?;
        if created {
            outcome.new_documents.push(item.url.clone());
        }
    }
    if fetch.page == 0 {
        let previous = previous_items.unwrap_or_default();
        for removed in removed_items(&previous, &current) {
            tx.mark_delisted(removed, now)?;
            outcome.delisted.push(removed.clone());
        }
    }
    tx.update_listing_page(&ListingPageUpdate {
        url,
        validators: &fetch.validators,
        item_urls: &current,
        page_count: listing.page_count,
        at: now,
    })?;
    for removed in &outcome.delisted {
        let Some((id, title, state)) = tx.document_by_url(removed)? else {
            continue;
        };
        // A page already taken down has its `gone` event; leaving the listing is no news then.
        if state != "live" {
            continue;
        }
        let draft = EventDraft::delisted(removed, title.as_deref(), url);
        tx.insert_event(Some(id), None, draft.kind, now, &draft.payload)?;
    }
    for (id, item_url, title) in relisted {
        let draft = EventDraft::restored(item_url, title.as_deref(), "delisted");
        tx.insert_event(Some(id), None, draft.kind, now, &draft.payload)?;
    }
    tx.commit()?;
    Ok(outcome)
}
