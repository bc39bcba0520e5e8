//! The events a document raises (revised, exchange removed, taken down, delisted, restored,
//! unpaired) with their payloads, built once and stored so feeds and mails never recompute them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::pair::{PairRow, Pairing};
use super::{Change, ExchangeChange, Significance, diff};
use crate::config::DiffConfig;
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

/// Payload of `new`: the revision number the archive gave the first version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPayload {
    #[serde(default)]
    pub seq: Option<i64>,
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
    /// Same as `change.significance`, at the top for filtering in SQL (absent from the oldest
    /// archives: read `change` then).
    #[serde(default)]
    pub significance: Significance,
    /// Same as `change.summary` (absent from the oldest archives).
    #[serde(default)]
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

impl RevisedPayload {
    /// The one-line summary, from the top or, in the oldest archives, from the change.
    pub fn summary(&self) -> &str {
        if self.summary.is_empty() {
            &self.change.summary
        } else {
            &self.summary
        }
    }

    /// How much the revision matters, from the top or, in the oldest archives, from the change.
    pub fn significance(&self) -> Significance {
        self.significance.max(self.change.significance)
    }
}

/// Payload of `gone`, `soft_gone`, `delisted` and `restored`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageEventPayload {
    pub url: String,
    /// The title of the last stored revision, so the event reads well after the page is gone.
    #[serde(default)]
    pub last_title: Option<String>,
    /// What was observed: `HTTP 404`, `redirects to …/error.htm`, the listing it left, the state it
    /// came back from.
    #[serde(default)]
    pub detail: String,
    /// For a taken-down page, written by the archive: the HTTP status of the last answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// For a taken-down page, written by the archive: how many answers in a row said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive: Option<u32>,
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

/// Payload of `blocked`: the host that refused us and until when it is left alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockedPayload {
    pub host: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
}

/// Payload of `extractor_failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractorFailedPayload {
    pub url: String,
    #[serde(default)]
    pub error: Option<String>,
}

/// A stored event's payload, decoded once by its kind: what every reader (feeds, web view, API,
/// CLI) works with instead of looking fields up in the JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventPayload {
    New(NewPayload),
    Revised(Box<RevisedPayload>),
    ExchangeRemoved(ExchangeRemovedPayload),
    /// `gone` and `soft_gone`, told apart by the event's kind.
    TakenDown(PageEventPayload),
    Delisted(PageEventPayload),
    Restored(PageEventPayload),
    Unpaired(UnpairedPayload),
    Blocked(BlockedPayload),
    ExtractorFailed(ExtractorFailedPayload),
}

impl EventPayload {
    /// The payload stored with an event of `kind`; an error names what the JSON lacks.
    pub fn decode(kind: EventKind, json: &serde_json::Value) -> serde_json::Result<EventPayload> {
        fn read<T: serde::de::DeserializeOwned>(json: &serde_json::Value) -> serde_json::Result<T> {
            T::deserialize(json)
        }
        Ok(match kind {
            EventKind::New => EventPayload::New(read(json)?),
            EventKind::Revised => EventPayload::Revised(Box::new(read(json)?)),
            EventKind::ExchangeRemoved => EventPayload::ExchangeRemoved(read(json)?),
            EventKind::Gone | EventKind::SoftGone => EventPayload::TakenDown(read(json)?),
            EventKind::Delisted => EventPayload::Delisted(read(json)?),
            EventKind::Restored => EventPayload::Restored(read(json)?),
            EventKind::Unpaired => EventPayload::Unpaired(read(json)?),
            EventKind::Blocked => EventPayload::Blocked(read(json)?),
            EventKind::ExtractorFailed => EventPayload::ExtractorFailed(read(json)?),
        })
    }

    /// The exchange the event quotes, if it quotes one.
    pub fn exchange(&self) -> Option<&Exchange> {
        match self {
            EventPayload::ExchangeRemoved(payload) => Some(&payload.exchange),
            EventPayload::Unpaired(payload) => Some(&payload.exchange),
            _ => None,
        }
    }

    /// The revision numbers a `revised` event compares, when the archive recorded them.
    pub fn revisions(&self) -> Option<(i64, i64)> {
        match self {
            EventPayload::Revised(payload) => payload.from_seq.zip(payload.to_seq),
            _ => None,
        }
    }
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
            status: None,
            consecutive: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(ordinal: u32, asker: &str, answer: &str) -> Exchange {
        Exchange {
            ordinal,
            asker: asker.to_string(),
            question: vec![format!("{asker} asks?")],
            answer: vec![answer.to_string()],
            after_conference: false,
        }
    }

    fn briefing(exchanges: Vec<Exchange>, hash: &str) -> Briefing {
        Briefing {
            url: "https://www.fmprc.gov.cn/mfa_eng/t1.shtml".to_string(),
            lang: Lang::En,
            kind: crate::model::Kind::PressConference,
            title: "Regular Press Conference".to_string(),
            date: NaiveDate::from_ymd_opt(2020, 7, 3),
            published_at: None,
            spokesperson: None,
            opening: vec![],
            exchanges,
            content_hash: hash.to_string(),
            found_by: None,
            selector: None,
            date_from: None,
        }
    }

    #[test]
    fn drafts_decode_into_their_typed_payload_and_write_back_the_same_json() {
        let old = briefing(
            vec![exchange(1, "CCTV", "Yes."), exchange(2, "AFP", "No.")],
            "a",
        );
        let new = briefing(vec![exchange(1, "CCTV", "Yes.")], "b");
        let drafts = events_for_revision(&old, &new, &DiffConfig::default());
        let decoded: Vec<EventPayload> = drafts
            .iter()
            .map(|draft| EventPayload::decode(draft.kind, &draft.payload).unwrap())
            .collect();
        let EventPayload::Revised(revised) = &decoded[0] else {
            panic!("{decoded:?}");
        };
        assert_eq!(revised.summary(), "substantive: 1 exchange removed");
        assert_eq!(revised.significance(), Significance::Substantive);
        assert_eq!(serde_json::to_value(revised).unwrap(), drafts[0].payload);
        let EventPayload::ExchangeRemoved(removed) = &decoded[1] else {
            panic!("{decoded:?}");
        };
        assert_eq!(removed.exchange.asker, "AFP");
        assert_eq!(decoded[1].exchange().map(|e| e.ordinal), Some(2));
    }

    #[test]
    fn a_take_down_reads_the_archive_fields_stored_beside_the_page_event() {
        let draft = EventDraft::gone("u", Some("Title"), GoneReason::NotFound, "HTTP 404");
        let mut stored = draft.payload.clone();
        // What the archive adds when it stores the event.
        for (key, value) in [
            ("outcome", serde_json::json!("gone")),
            ("status", serde_json::json!(404)),
            ("consecutive", serde_json::json!(2)),
        ] {
            stored[key] = value;
        }
        let EventPayload::TakenDown(page) = EventPayload::decode(EventKind::Gone, &stored).unwrap()
        else {
            panic!("a take-down");
        };
        assert_eq!((page.status, page.consecutive), (Some(404), Some(2)));
        assert_eq!(page.last_title.as_deref(), Some("Title"));
        assert!(
            draft.payload.get("status").is_none(),
            "the diff stage writes no status of its own: {}",
            draft.payload
        );
    }

    #[test]
    fn the_oldest_revised_payloads_read_their_summary_from_the_change() {
        let old = briefing(vec![exchange(1, "CCTV", "Yes.")], "a");
        let new = briefing(vec![exchange(1, "CCTV", "Yes, indeed.")], "b");
        let change = crate::diff::diff(&old, &new, &DiffConfig::default());
        let stored = serde_json::json!({
            "url": "u", "lang": "en", "title": "t", "date": null,
            "old_hash": "a", "new_hash": "b", "change": change,
        });
        let EventPayload::Revised(revised) =
            EventPayload::decode(EventKind::Revised, &stored).unwrap()
        else {
            panic!("a revision");
        };
        assert_eq!(revised.summary(), change.summary);
        assert_eq!(revised.significance(), change.significance);
        assert_eq!(revised.from_seq, None);
    }

    #[test]
    fn a_payload_without_what_its_kind_carries_is_an_error_naming_the_field() {
        let error = EventPayload::decode(EventKind::ExchangeRemoved, &serde_json::json!({}))
            .unwrap_err()
            .to_string();
        assert!(error.contains("missing field"), "{error}");
    }
}
