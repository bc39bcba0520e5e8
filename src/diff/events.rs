//! The events a document raises (revised, exchange removed, taken down, delisted, restored,
//! unpaired) with their payloads, built once and stored so feeds and mails never recompute them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::pair::{PairRow, Pairing};
use super::{Change, DiffConfig, ExchangeChange, Significance, diff};
pub use crate::model::EventKind;
use crate::model::{Briefing, Exchange, Lang};

/// An event ready to be stored: its type and its JSON payload (one of the `*Payload` structs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDraft {
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub significance: Significance,
    pub payload: serde_json::Value,
}

/// Payload of `revised`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisedPayload {
    pub url: String,
    pub lang: Lang,
    pub title: String,
    pub date: Option<NaiveDate>,
    /// Revision numbers compared; filled in by the archive when it stores the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_seq: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_seq: Option<i64>,
    pub old_hash: String,
    pub new_hash: String,
    /// Same as `change.significance`, at the top for filtering in SQL.
    pub significance: Significance,
    /// Same as `change.summary`.
    pub summary: String,
    pub change: Change,
}

/// Payload of `exchange_removed`: the question and answer that disappeared, in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeRemovedPayload {
    pub url: String,
    pub lang: Lang,
    pub title: String,
    pub date: Option<NaiveDate>,
    /// Its ordinal in the revision it was last seen in.
    pub old_ordinal: u32,
    pub exchange: Exchange,
}

/// Payload of `gone`, `soft_gone`, `delisted` and `restored`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageEventPayload {
    pub url: String,
    /// The title of the last stored revision, so the event reads well after the page is gone.
    pub last_title: Option<String>,
    /// What was observed: `HTTP 404`, `redirects to …/error.htm`, the listing it left, the state it
    /// came back from.
    pub detail: String,
}

/// Payload of `unpaired`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnpairedPayload {
    pub date: Option<NaiveDate>,
    /// The language whose transcript has the exchange.
    pub lang: Lang,
    pub url: String,
    /// The other language's transcript of the same day.
    pub other_url: String,
    pub exchange: Exchange,
}

/// How a page was found taken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoneReason {
    /// A real 404 or 410.
    NotFound,
    /// A redirect to, or a 200 with, the site's error page.
    SoftNotFound,
}

fn to_value<T: Serialize>(payload: &T) -> serde_json::Value {
    // Serializing these plain structs (strings, numbers, dates, enums) to a Value cannot fail.
    serde_json::to_value(payload).unwrap_or(serde_json::Value::Null)
}

impl EventDraft {
    pub fn gone(url: &str, last_title: Option<&str>, reason: GoneReason, detail: &str) -> Self {
        let kind = match reason {
            GoneReason::NotFound => EventKind::Gone,
            GoneReason::SoftNotFound => EventKind::SoftGone,
        };
        Self::page_event(kind, url, last_title, detail)
    }

    pub fn delisted(url: &str, last_title: Option<&str>, listing_url: &str) -> Self {
        Self::page_event(EventKind::Delisted, url, last_title, listing_url)
    }

    pub fn restored(url: &str, last_title: Option<&str>, previous_state: &str) -> Self {
        Self::page_event(EventKind::Restored, url, last_title, previous_state)
    }

    fn page_event(kind: EventKind, url: &str, last_title: Option<&str>, detail: &str) -> Self {
        let payload = PageEventPayload {
            url: url.to_string(),
            last_title: last_title.map(str::to_string),
            detail: detail.to_string(),
        };
        let significance = match kind {
            EventKind::Restored => Significance::Minor,
            _ => Significance::Substantive,
        };
        EventDraft {
            kind,
            significance,
            payload: to_value(&payload),
        }
    }
}

/// The events of a new revision: one `revised` carrying the structured diff, and one
/// `exchange_removed` per exchange that disappeared.
pub fn events_for_revision(old: &Briefing, new: &Briefing, cfg: &DiffConfig) -> Vec<EventDraft> {
    events_for_change(diff(old, new, cfg), old, new)
}

/// [`events_for_revision`] of a change already computed.
pub fn events_for_change(change: Change, old: &Briefing, new: &Briefing) -> Vec<EventDraft> {
    let mut events = Vec::new();
    for entry in &change.exchanges {
        if let ExchangeChange::Removed {
            old: ordinal,
            exchange,
        } = entry
        {
            let payload = ExchangeRemovedPayload {
                url: new.url.clone(),
                lang: new.lang,
                title: new.title.clone(),
                date: new.date,
                old_ordinal: *ordinal,
                exchange: exchange.clone(),
            };
            events.push(EventDraft {
                kind: EventKind::ExchangeRemoved,
                significance: Significance::Substantive,
                payload: to_value(&payload),
            });
        }
    }
    let significance = change.significance;
    let revised = RevisedPayload {
        url: new.url.clone(),
        lang: new.lang,
        title: new.title.clone(),
        date: new.date,
        from_seq: None,
        to_seq: None,
        old_hash: old.content_hash.clone(),
        new_hash: new.content_hash.clone(),
        significance,
        summary: change.summary.clone(),
        change,
    };
    events.insert(
        0,
        EventDraft {
            kind: EventKind::Revised,
            significance,
            payload: to_value(&revised),
        },
    );
    events
}

/// One `unpaired` event per exchange found in only one language's transcript of the day.
pub fn events_for_pairing(pairing: &Pairing, en: &Briefing, zh: &Briefing) -> Vec<EventDraft> {
    let mut events = Vec::new();
    for row in &pairing.rows {
        let (lang, briefing, other, ordinal) = match row {
            PairRow::EnOnly { en: ordinal, .. } => (Lang::En, en, zh, *ordinal),
            PairRow::ZhOnly { zh: ordinal, .. } => (Lang::Zh, zh, en, *ordinal),
            PairRow::Paired { .. } | PairRow::Joined { .. } => continue,
        };
        let Some(exchange) = briefing.exchanges.iter().find(|e| e.ordinal == ordinal) else {
            continue;
        };
        let payload = UnpairedPayload {
            date: pairing.date,
            lang,
            url: briefing.url.clone(),
            other_url: other.url.clone(),
            exchange: exchange.clone(),
        };
        events.push(EventDraft {
            kind: EventKind::Unpaired,
            significance: Significance::Minor,
            payload: to_value(&payload),
        });
    }
    events
}
