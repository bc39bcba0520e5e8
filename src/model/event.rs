//! The kinds of event the archive records about a document, named once for every stage that writes or reads them.

use serde::{Deserialize, Serialize};

/// The type of a stored event, as written in the `events.type` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A document seen for the first time.
    New,
    /// A new revision of a known document; carries the structured diff.
    Revised,
    /// An exchange that disappeared from a transcript, quoted in full.
    ExchangeRemoved,
    /// The page answers 404/410.
    Gone,
    /// The page redirects to the site's error page (a soft 404).
    SoftGone,
    /// The page vanished from the listing while it is still reachable.
    Delisted,
    /// A gone, soft-gone or delisted page is back.
    Restored,
    /// An exchange present in one language's transcript of a day and not in the other's.
    Unpaired,
    /// The site refused us (403/429/blocked) and the host is backed off.
    Blocked,
    /// A page was fetched but no briefing could be extracted from it.
    ExtractorFailed,
}

impl EventKind {
    /// Every kind, in the order people read about them.
    pub const ALL: [EventKind; 10] = [
        EventKind::New,
        EventKind::Revised,
        EventKind::ExchangeRemoved,
        EventKind::Gone,
        EventKind::SoftGone,
        EventKind::Delisted,
        EventKind::Restored,
        EventKind::Unpaired,
        EventKind::Blocked,
        EventKind::ExtractorFailed,
    ];

    /// The name stored in the archive and used in URLs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::New => "new",
            EventKind::Revised => "revised",
            EventKind::ExchangeRemoved => "exchange_removed",
            EventKind::Gone => "gone",
            EventKind::SoftGone => "soft_gone",
            EventKind::Delisted => "delisted",
            EventKind::Restored => "restored",
            EventKind::Unpaired => "unpaired",
            EventKind::Blocked => "blocked",
            EventKind::ExtractorFailed => "extractor_failed",
        }
    }

    /// The kind stored under `text`, if it is one.
    pub fn parse(text: &str) -> Option<EventKind> {
        EventKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    /// Whether the event says the page is no longer reachable at its address.
    pub fn is_taken_down(self) -> bool {
        matches!(self, EventKind::Gone | EventKind::SoftGone)
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_stored_name() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(EventKind::parse("renamed"), None);
    }
}
