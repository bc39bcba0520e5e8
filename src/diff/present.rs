//! How a change is put into words, once for every output: the structure of a revision (exchanges
//! added, reworded, removed; removed exchanges quoted once; the pairing line) and the sentences
//! that name an event (revised, taken down, restored, delisted, unpaired). The feed, the mail, the
//! web view and the CLI only lay these out as RSS HTML, mail text, pages or terminal lines.

use super::events::{BlockedPayload, EventKind, ExtractorFailedPayload, PageEventPayload};
use super::{Change, ExchangeChange, Op, Significance, TextDiff};
use crate::model::{Exchange, Lang};

/// A run of text in a reworded paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Same(String),
    Deleted(String),
    Inserted(String),
}

/// Where in a transcript a rewording happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Title,
    Opening,
    Question {
        ordinal: u32,
        asker: String,
    },
    Answer {
        ordinal: u32,
        asker: String,
    },
    /// One old exchange now printed as several.
    Split {
        old: u32,
        new: Vec<u32>,
    },
    /// Several old exchanges now printed as one.
    Merged {
        old: Vec<u32>,
        new: u32,
    },
}

/// One piece of a change, in transcript order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeBlock {
    /// Quoted in full: a removal is the news.
    ExchangeRemoved(Exchange),
    ExchangeAdded(Exchange),
    /// Paragraphs of one place, each a sequence of kept, deleted and inserted runs.
    Reworded {
        place: Place,
        paragraphs: Vec<Vec<Segment>>,
    },
    /// An exchange present in one language version with no counterpart in `missing_in`.
    Unpaired {
        exchange: Exchange,
        missing_in: Lang,
    },
}

/// `Exchange 4 removed (Reuters)`.
pub fn removed_heading(ordinal: u32, asker: &str) -> String {
    format!("Exchange {ordinal} removed ({asker})")
}

/// `Exchange 5 added (CCTV)`.
fn added_heading(ordinal: u32, asker: &str) -> String {
    format!("Exchange {ordinal} added ({asker})")
}

fn split_heading(old: u32, new: &[u32]) -> String {
    format!("Exchange {old} split into exchanges {}", ordinals(new))
}

fn merged_heading(old: &[u32], new: u32) -> String {
    format!("Exchanges {} merged into exchange {new}", ordinals(old))
}

/// What became of one exchange, as the heading of its part of a change: `Exchange 4 removed
/// (Reuters)`, `Exchange 2 (AFP) reworded`, `Exchange 3 (CCTV) moved, now exchange 5`,
/// `Exchange 6 split into exchanges 6, 7`. Empty for an unchanged exchange.
pub fn entry_heading(entry: &ExchangeChange) -> String {
    match entry {
        ExchangeChange::Unchanged { .. } => String::new(),
        ExchangeChange::Reworded(edit) | ExchangeChange::Moved(edit) => {
            let kind = entry.kind();
            if edit.old == edit.new {
                format!("Exchange {} ({}) {kind}", edit.new, edit.asker)
            } else {
                format!(
                    "Exchange {} ({}) {kind}, now exchange {}",
                    edit.old, edit.asker, edit.new
                )
            }
        }
        ExchangeChange::Added { new, exchange } => added_heading(*new, &exchange.asker),
        ExchangeChange::Removed { old, exchange } => removed_heading(*old, &exchange.asker),
        ExchangeChange::Split { old, new, .. } => split_heading(*old, new),
        ExchangeChange::Merged { old, new, .. } => merged_heading(old, *new),
    }
}

impl ChangeBlock {
    /// The block's heading: `Exchange 4 removed (Reuters)`, `Exchange 3 (AFP): answer reworded`.
    pub fn heading(&self) -> String {
        match self {
            ChangeBlock::ExchangeRemoved(exchange) => {
                removed_heading(exchange.ordinal, &exchange.asker)
            }
            ChangeBlock::ExchangeAdded(exchange) => {
                added_heading(exchange.ordinal, &exchange.asker)
            }
            ChangeBlock::Reworded { place, .. } => match place {
                Place::Title => "Title reworded".to_string(),
                Place::Opening => "Opening remarks reworded".to_string(),
                Place::Question { ordinal, asker } => {
                    format!("Exchange {ordinal} ({asker}): question reworded")
                }
                Place::Answer { ordinal, asker } => {
                    format!("Exchange {ordinal} ({asker}): answer reworded")
                }
                Place::Split { old, new } => split_heading(*old, new),
                Place::Merged { old, new } => merged_heading(old, *new),
            },
            ChangeBlock::Unpaired {
                exchange,
                missing_in,
            } => format!(
                "Exchange {} ({}) has no counterpart in the {} transcript",
                exchange.ordinal,
                exchange.asker,
                language_name(*missing_in)
            ),
        }
    }
}

fn ordinals(list: &[u32]) -> String {
    list.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The blocks of a computed change: removed and added exchanges whole, rewordings as inline
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

/// The one-line summary of a revision, stored with it as `Change::summary`:
/// `substantive: 1 exchange removed, 2 reworded; title changed`.
pub fn summary_line(change: &Change) -> String {
    let counts = &change.counts;
    let by_kind: Vec<(u32, &str)> = [
        (counts.removed, "removed"),
        (counts.added, "added"),
        (counts.reworded, "reworded"),
        (counts.moved, "moved"),
        (counts.split, "split"),
        (counts.merged, "merged"),
    ]
    .into_iter()
    .filter(|(count, _)| *count > 0)
    .collect();
    let mut parts = Vec::new();
    if !by_kind.is_empty() {
        let total: u32 = by_kind.iter().map(|(count, _)| count).sum();
        let noun = if total == 1 { "exchange" } else { "exchanges" };
        // The noun once, after the first number: `3 exchanges removed, 1 added`.
        let exchanges: Vec<String> = by_kind
            .iter()
            .enumerate()
            .map(|(index, (count, verb))| match index {
                0 => format!("{count} {noun} {verb}"),
                _ => format!("{count} {verb}"),
            })
            .collect();
        parts.push(exchanges.join(", "));
    }
    if change.title.is_some() {
        parts.push("title changed".into());
    }
    if change.date.is_some() {
        parts.push("date changed".into());
    }
    if change.spokesperson.is_some() {
        parts.push("spokesperson changed".into());
    }
    if change.opening.is_some() {
        parts.push("opening remarks changed".into());
    }
    if parts.is_empty() {
        return format!("{}: no visible change", change.significance.as_str());
    }
    format!("{}: {}", change.significance.as_str(), parts.join("; "))
}

/// Adds an exchange a revision removed unless the blocks quote it already: a removal is quoted
/// once, however many events report it.
pub fn quote_removed_once(blocks: &mut Vec<ChangeBlock>, exchange: Exchange) {
    let quoted = blocks.iter().any(|block| {
        matches!(block, ChangeBlock::ExchangeRemoved(removed)
            if removed.asker == exchange.asker && removed.question == exchange.question)
    });
    if !quoted {
        blocks.push(ChangeBlock::ExchangeRemoved(exchange));
    }
}

/// An exchange with no counterpart in the other language's transcript of the day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpairedNote {
    /// The language of the transcript that has the exchange.
    pub lang: Lang,
    pub ordinal: u32,
    pub asker: String,
}

/// `English`, `Chinese`.
pub fn language_name(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "English",
        Lang::Zh => "Chinese",
    }
}

/// The language of the other transcript of the same briefing.
pub fn other_language(lang: Lang) -> Lang {
    match lang {
        Lang::En => Lang::Zh,
        Lang::Zh => Lang::En,
    }
}

/// `1 exchange`, `2 exchanges`: the number and the word that agrees with it.
pub fn count(number: usize, one: &str, many: &str) -> String {
    if number == 1 {
        format!("1 {one}")
    } else {
        format!("{number} {many}")
    }
}

/// What a revision of a `lang` transcript changed in the pairing with the other language, as one
/// line; `None` when it changed nothing.
pub fn pairing_line(lang: Lang, notes: &[UnpairedNote]) -> Option<String> {
    if notes.is_empty() {
        return None;
    }
    let notes: Vec<String> = notes
        .iter()
        .map(|note| {
            format!(
                "{} exchange {} ({}) now has no {} counterpart",
                language_name(note.lang),
                note.ordinal,
                note.asker,
                language_name(other_language(note.lang))
            )
        })
        .collect();
    Some(format!(
        "Pairing with the {} transcript: {}.",
        language_name(other_language(lang)),
        notes.join("; ")
    ))
}

/// The short name of an event kind, as badges and listings show it.
pub fn kind_label(kind: EventKind) -> &'static str {
    match kind {
        EventKind::New => "new",
        EventKind::Revised => "revised",
        EventKind::ExchangeRemoved => "exchange removed",
        EventKind::Gone => "taken down",
        EventKind::SoftGone => "taken down (error page)",
        EventKind::Delisted => "delisted",
        EventKind::Restored => "back online",
        EventKind::Unpaired => "unpaired exchange",
        EventKind::Blocked => "blocked",
        EventKind::ExtractorFailed => "extraction failed",
    }
}

/// What an alert says happened to a briefing: `new`, `revised`, `cosmetic revision`, `taken
/// down`.
pub fn alert_label(kind: EventKind, cosmetic: bool) -> &'static str {
    match kind {
        EventKind::Revised if cosmetic => "cosmetic revision",
        EventKind::SoftGone => "taken down",
        kind => kind_label(kind),
    }
}

/// What the server answered, in words: `404 Not Found`, `HTTP 599`.
fn http_answer(status: u16) -> String {
    let reason = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        410 => "Gone",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => return format!("HTTP {status}"),
    };
    format!("{status} {reason}")
}

/// What the archive saw of a page taken down: `the ministry's server answers 404 Not Found`,
/// `the page now leads to the ministry's error page`.
pub fn taken_down_cause(kind: EventKind, payload: Option<&PageEventPayload>) -> String {
    match (kind, payload.and_then(|payload| payload.status)) {
        (EventKind::SoftGone, _) => "the page now leads to the ministry's error page".to_string(),
        (_, Some(status)) => format!("the ministry's server answers {}", http_answer(status)),
        (_, None) => "the page can no longer be found".to_string(),
    }
}

/// What the archive saw of a page that came back.
pub fn restored_cause() -> &'static str {
    "the page answers with its transcript again"
}

/// `once`, `twice`, `3 times`.
pub fn times(count: u32) -> String {
    match count {
        1 => "once".to_string(),
        2 => "twice".to_string(),
        more => format!("{more} times"),
    }
}

/// One sentence for a page taken down, with how often it answered so:
/// `The page is taken down: the ministry's server answers 404 Not Found, twice in a row.`
pub fn taken_down_sentence(kind: EventKind, payload: Option<&PageEventPayload>) -> String {
    let repeated = payload
        .and_then(|payload| payload.consecutive)
        .map(|count| format!(", {} in a row", times(count)))
        .unwrap_or_default();
    format!(
        "The page is taken down: {}{repeated}.",
        taken_down_cause(kind, payload)
    )
}

/// The sentence of a page back online.
pub fn restored_sentence() -> String {
    format!(
        "The page is back online after being taken down: {}.",
        restored_cause()
    )
}

/// The words of a revisions-feed change, the item's title prefix and its opening sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headline {
    /// `Revised, 1 exchange removed`, `Taken down`.
    pub prefix: String,
    /// `The transcript was revised (version 1 → 2): 1 exchange was removed.`
    pub summary: String,
}

/// What a change says about itself, as an item headline.
pub struct ChangeFacts<'a> {
    /// The kind of the leading event (`soft_gone` is told as `gone`).
    pub kind: EventKind,
    /// Revision numbers compared, or for a page taken down the last one archived.
    pub from_seq: Option<u32>,
    pub to_seq: Option<u32>,
    pub blocks: &'a [ChangeBlock],
    /// For a taken-down or restored page, what was seen ([`taken_down_cause`]).
    pub seen: Option<&'a str>,
}

/// The headline of a change: its title prefix and opening sentence.
pub fn headline(facts: &ChangeFacts<'_>) -> Headline {
    let versions = match (facts.from_seq, facts.to_seq) {
        (Some(from), Some(to)) => format!(" (version {from} → {to})"),
        _ => String::new(),
    };
    let removed = facts
        .blocks
        .iter()
        .filter(|block| matches!(block, ChangeBlock::ExchangeRemoved(_)))
        .count();
    let unpaired = facts
        .blocks
        .iter()
        .filter(|block| matches!(block, ChangeBlock::Unpaired { .. }))
        .count();
    let seen = facts.seen.unwrap_or("the page is gone");
    let (prefix, summary) = match facts.kind {
        EventKind::Revised if removed > 0 => (
            format!(
                "Revised, {} removed",
                count(removed, "exchange", "exchanges")
            ),
            format!(
                "The transcript was revised{versions}: {} removed.",
                count(removed, "exchange was", "exchanges were")
            ),
        ),
        EventKind::Revised => (
            "Revised".to_string(),
            format!("The transcript was revised{versions}."),
        ),
        EventKind::ExchangeRemoved => (
            "Exchange removed".to_string(),
            if removed == 1 {
                format!("An exchange was removed from the transcript{versions}.")
            } else {
                format!("{removed} exchanges were removed from the transcript{versions}.")
            },
        ),
        EventKind::Gone | EventKind::SoftGone => (
            "Taken down".to_string(),
            match facts.from_seq {
                Some(last) => format!(
                    "The page was taken down: {seen}. briefwatch keeps version {last}, the last one it archived."
                ),
                None => format!("The page was taken down: {seen}."),
            },
        ),
        EventKind::Restored => (
            "Restored".to_string(),
            format!("The page is back online after being taken down: {seen}{versions}."),
        ),
        EventKind::Unpaired => (
            "Missing from the other language".to_string(),
            format!(
                "{} in only one language version of this briefing.",
                count(unpaired, "exchange appears", "exchanges appear")
            ),
        ),
        // Events the revisions feed does not report are named by their label alone.
        other => (capitalized(kind_label(other)), String::new()),
    };
    Headline { prefix, summary }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A host that refused us: `The ministry's server refused briefwatch: requests to
/// www.fmprc.gov.cn are held back until 2020-07-04T02:00:00Z.`
pub fn blocked_sentence(payload: &BlockedPayload) -> String {
    let until = payload
        .until
        .as_deref()
        .map(|until| format!(" until {until}"))
        .unwrap_or_default();
    format!(
        "The ministry's server refused briefwatch: requests to {} are held back{until}.",
        payload.host
    )
}

/// A page no briefing could be extracted from, with the extractor's reason.
pub fn unreadable_sentence(payload: &ExtractorFailedPayload) -> String {
    match &payload.error {
        Some(error) => format!("The page could not be read as a transcript: {error}."),
        None => "The page could not be read as a transcript.".to_string(),
    }
}

/// A sentence with one phrase an output may turn into a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Linked {
    pub before: &'static str,
    pub phrase: &'static str,
    pub after: &'static str,
}

impl std::fmt::Display for Linked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}{}", self.before, self.phrase, self.after)
    }
}

/// A page that left the listing while still online; the phrase names the listing.
pub const DELISTED: Linked = Linked {
    before: "The page is still online but no longer on ",
    phrase: "the listing",
    after: ".",
};

/// An exchange missing from the other language; the phrase names the other transcript.
pub const UNPAIRED: Linked = Linked {
    before: "Not in the other language's ",
    phrase: "transcript of the day",
    after: ".",
};

/// An exchange removed, as a listing line names it: `Exchange 4 was removed from the transcript`.
pub fn removed_sentence(old_ordinal: Option<u32>) -> String {
    match old_ordinal {
        Some(ordinal) => format!("Exchange {ordinal} was removed from the transcript"),
        None => "An exchange was removed from the transcript".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(ordinal: u32, asker: &str) -> Exchange {
        Exchange {
            ordinal,
            asker: asker.to_string(),
            question: vec!["Q?".to_string()],
            answer: vec!["A.".to_string()],
            after_conference: false,
        }
    }

    #[test]
    fn a_revision_that_removed_exchanges_says_how_many_in_title_and_summary() {
        let blocks = vec![
            ChangeBlock::ExchangeRemoved(exchange(2, "AFP")),
            ChangeBlock::ExchangeRemoved(exchange(5, "CCTV")),
        ];
        let words = headline(&ChangeFacts {
            kind: EventKind::Revised,
            from_seq: Some(1),
            to_seq: Some(2),
            blocks: &blocks,
            seen: None,
        });
        assert_eq!(words.prefix, "Revised, 2 exchanges removed");
        assert_eq!(
            words.summary,
            "The transcript was revised (version 1 → 2): 2 exchanges were removed."
        );
    }

    #[test]
    fn the_summary_line_names_exchanges_once_then_counts_each_kind() {
        let change = Change {
            significance: Significance::Substantive,
            summary: String::new(),
            lang: Lang::En,
            title: None,
            date: None,
            spokesperson: None,
            opening: None,
            counts: crate::diff::Counts {
                removed: 2,
                reworded: 1,
                ..Default::default()
            },
            exchanges: vec![],
        };
        assert_eq!(
            summary_line(&change),
            "substantive: 2 exchanges removed, 1 reworded"
        );
        let quiet = Change {
            counts: crate::diff::Counts::default(),
            significance: Significance::Cosmetic,
            ..change
        };
        assert_eq!(summary_line(&quiet), "cosmetic: no visible change");
    }

    #[test]
    fn a_removed_exchange_is_quoted_once() {
        let mut blocks = vec![ChangeBlock::ExchangeRemoved(exchange(2, "AFP"))];
        quote_removed_once(&mut blocks, exchange(2, "AFP"));
        quote_removed_once(&mut blocks, exchange(3, "CCTV"));
        assert_eq!(blocks.len(), 2, "{blocks:?}");
    }

    #[test]
    fn taken_down_pages_say_what_the_server_answered() {
        let payload = |status, consecutive| PageEventPayload {
            url: "u".to_string(),
            last_title: None,
            detail: String::new(),
            status,
            consecutive,
        };
        assert_eq!(
            taken_down_sentence(EventKind::Gone, Some(&payload(Some(404), Some(2)))),
            "The page is taken down: the ministry's server answers 404 Not Found, twice in a row."
        );
        assert_eq!(
            taken_down_cause(EventKind::Gone, Some(&payload(Some(599), None))),
            "the ministry's server answers HTTP 599"
        );
        assert_eq!(
            taken_down_sentence(EventKind::SoftGone, Some(&payload(None, None))),
            "The page is taken down: the page now leads to the ministry's error page."
        );
        assert_eq!(
            taken_down_cause(EventKind::Gone, None),
            "the page can no longer be found"
        );
    }

    #[test]
    fn the_pairing_line_names_each_exchange_left_alone() {
        let notes = [UnpairedNote {
            lang: Lang::Zh,
            ordinal: 3,
            asker: "新华社".to_string(),
        }];
        assert_eq!(
            pairing_line(Lang::En, &notes).as_deref(),
            Some(
                "Pairing with the Chinese transcript: Chinese exchange 3 (新华社) now has no English counterpart."
            )
        );
        assert_eq!(pairing_line(Lang::En, &[]), None);
    }
}
