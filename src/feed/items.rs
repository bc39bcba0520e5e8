//! Plain inputs of the feeds (briefings, archive events, keyword hits) and their rendering into
//! feed items with stable guids and readable HTML.

use std::ops::Range;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

use super::html::Html;
use super::{FeedItem, FeedSettings};
use crate::model::{Briefing, Exchange, Lang};

/// The guid namespace: `tag:` URIs (RFC 4151) are stable, unique and obviously not links.
const GUID_PREFIX: &str = "tag:briefwatch,2024:";

fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// One briefing as the latest stored revision has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BriefingEntry {
    pub briefing: Briefing,
    /// When the archive first saw the page: the date of the item when the page shows none.
    pub first_seen: DateTime<Utc>,
}

impl BriefingEntry {
    /// The guid depends only on the page's URL, so an edited transcript never shows up as a new item.
    pub fn guid(&self) -> String {
        format!("{GUID_PREFIX}briefing:{}", self.briefing.url)
    }

    pub fn to_item(&self) -> FeedItem {
        let briefing = &self.briefing;
        let pub_date = briefing
            .published_at
            .unwrap_or_else(|| self.first_seen.with_timezone(&beijing()));
        let mut categories = vec![("kind".to_string(), briefing.kind.as_str().to_string())];
        if let Some(spokesperson) = &briefing.spokesperson {
            categories.push(("spokesperson".to_string(), spokesperson.clone()));
        }
        FeedItem {
            guid: self.guid(),
            title: briefing.title.clone(),
            link: Some(briefing.url.clone()),
            pub_date,
            creator: briefing.spokesperson.clone(),
            categories,
            description_html: briefing_html(briefing),
        }
    }
}

/// What happened to a stored document, as the revisions feed reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The text changed beyond cosmetics.
    Revised,
    /// A revision dropped one or more exchanges.
    ExchangeRemoved,
    /// The page now leads to the soft-404 error page.
    Gone,
    /// A gone page answers with a transcript again.
    Restored,
    /// An exchange of one language version has no counterpart in the other.
    Unpaired,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Revised => "revised",
            EventKind::ExchangeRemoved => "exchange_removed",
            EventKind::Gone => "gone",
            EventKind::Restored => "restored",
            EventKind::Unpaired => "unpaired",
        }
    }

    /// The kinds the revisions feed reports; other stored events (`new`, `cosmetic`, …) are `None`.
    pub fn parse(text: &str) -> Option<EventKind> {
        [
            EventKind::Revised,
            EventKind::ExchangeRemoved,
            EventKind::Gone,
            EventKind::Restored,
            EventKind::Unpaired,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }

    fn title_prefix(self) -> &'static str {
        match self {
            EventKind::Revised => "Revised",
            EventKind::ExchangeRemoved => "Exchange removed",
            EventKind::Gone => "Taken down",
            EventKind::Restored => "Restored",
            EventKind::Unpaired => "Missing from the other language",
        }
    }
}

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

/// One piece of a structured diff, in transcript order.
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

/// One archive event of a kind the revisions feed reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEntry {
    pub event_id: i64,
    pub kind: EventKind,
    pub occurred_at: DateTime<Utc>,
    /// The store's id of the document, for briefwatch's own diff view.
    pub document_id: i64,
    pub url: String,
    pub lang: Lang,
    pub title: String,
    pub date: Option<NaiveDate>,
    pub spokesperson: Option<String>,
    /// Revision numbers compared; both set when there is a diff to link to.
    pub from_seq: Option<u32>,
    pub to_seq: Option<u32>,
    pub blocks: Vec<ChangeBlock>,
}

impl EventEntry {
    /// One guid per event: every revision is news, even of the same page.
    pub fn guid(&self) -> String {
        format!("{GUID_PREFIX}event:{}", self.event_id)
    }

    /// briefwatch's diff view of this event, when it compares two revisions.
    pub fn diff_url(&self, settings: &FeedSettings) -> Option<String> {
        match (self.from_seq, self.to_seq) {
            (Some(from), Some(to)) => {
                Some(settings.url(&format!("b/{}/diff?from={from}&to={to}", self.document_id)))
            }
            _ => None,
        }
    }

    pub fn to_item(&self, settings: &FeedSettings) -> FeedItem {
        let mut html = Html::new();
        html.element("p", &self.summary());
        for block in &self.blocks {
            write_block(&mut html, block, self.lang, self.spokesperson.as_deref());
        }
        html.open("p");
        html.link(&self.url, "Ministry page");
        if let Some(diff_url) = self.diff_url(settings) {
            html.text(" · ");
            html.link(&diff_url, "Diff on briefwatch");
        }
        html.close("p");
        FeedItem {
            guid: self.guid(),
            title: format!("{}: {}", self.kind.title_prefix(), self.title),
            link: Some(self.url.clone()),
            pub_date: self.occurred_at.fixed_offset(),
            creator: self.spokesperson.clone(),
            categories: vec![
                ("event".to_string(), self.kind.as_str().to_string()),
                ("lang".to_string(), self.lang.as_str().to_string()),
            ],
            description_html: html.finish(),
        }
    }

    fn summary(&self) -> String {
        let versions = match (self.from_seq, self.to_seq) {
            (Some(from), Some(to)) => format!(" (version {from} → {to})"),
            _ => String::new(),
        };
        let removed = self
            .blocks
            .iter()
            .filter(|block| matches!(block, ChangeBlock::ExchangeRemoved(_)))
            .count();
        match self.kind {
            EventKind::Revised => format!("The transcript was revised{versions}."),
            EventKind::ExchangeRemoved if removed == 1 => {
                format!("An exchange was removed from the transcript{versions}.")
            }
            EventKind::ExchangeRemoved => {
                format!("{removed} exchanges were removed from the transcript{versions}.")
            }
            EventKind::Gone => match self.from_seq {
                Some(last) => format!(
                    "The page was taken down: it now leads to the ministry's error page. Version {last} is the last one archived."
                ),
                None => "The page was taken down: it now leads to the ministry's error page."
                    .to_string(),
            },
            EventKind::Restored => {
                format!("The page is back online after being taken down{versions}.")
            }
            EventKind::Unpaired => {
                "An exchange appears in only one language version of this briefing.".to_string()
            }
        }
    }
}

/// Which half of an exchange a highlight lies in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Question,
    Answer,
}

/// A matched term: a byte range of one paragraph of the exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub part: Part,
    pub paragraph: usize,
    pub range: Range<usize>,
}

/// One exchange that matched an alert rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordEntry {
    pub rule: String,
    /// Identifies the exchange across polls (the store's stable exchange key), so one exchange is
    /// one item however often it is re-matched.
    pub exchange_key: String,
    pub found_at: DateTime<Utc>,
    pub url: String,
    pub lang: Lang,
    pub title: String,
    pub published_at: Option<DateTime<FixedOffset>>,
    pub spokesperson: Option<String>,
    pub exchange: Exchange,
    /// The terms that matched, as the rule names them.
    pub terms: Vec<String>,
    pub marks: Vec<Mark>,
}

impl KeywordEntry {
    pub fn guid(&self) -> String {
        format!("{GUID_PREFIX}keyword:{}:{}", self.rule, self.exchange_key)
    }

    pub fn to_item(&self) -> FeedItem {
        let terms = self.terms.join(", ");
        let mut html = Html::new();
        html.open("p").text("Matched: ");
        html.element("strong", &terms).close("p");
        html.open("blockquote");
        write_exchange(
            &mut html,
            &self.exchange,
            self.lang,
            self.spokesperson.as_deref(),
            &self.marks,
        );
        html.close("blockquote");
        html.open("p").link(&self.url, &self.title).close("p");
        FeedItem {
            guid: self.guid(),
            title: format!("{terms}: {} ({})", self.exchange.asker, self.title),
            link: Some(self.url.clone()),
            pub_date: self
                .published_at
                .unwrap_or_else(|| self.found_at.with_timezone(&beijing())),
            creator: self.spokesperson.clone(),
            categories: vec![("rule".to_string(), self.rule.clone())],
            description_html: html.finish(),
        }
    }
}

/// Fixed phrases of a transcript in its own language.
struct Labels {
    colon: &'static str,
    answer: &'static str,
    after_conference: &'static str,
    opening: &'static str,
}

fn labels(lang: Lang) -> Labels {
    match lang {
        Lang::En => Labels {
            colon: ": ",
            answer: "A",
            after_conference: "The following question was raised after the press conference:",
            opening: "Opening remarks",
        },
        Lang::Zh => Labels {
            colon: "：",
            answer: "答",
            after_conference: "会后有记者问及：",
            opening: "开场发布",
        },
    }
}

/// The readable transcript: opening remarks, then each asker and question in bold and the answer.
fn briefing_html(briefing: &Briefing) -> String {
    let words = labels(briefing.lang);
    let mut html = Html::new();
    if !briefing.opening.is_empty() {
        html.element("h3", words.opening);
        for paragraph in &briefing.opening {
            html.element("p", paragraph);
        }
    }
    let mut after_conference_announced = false;
    for exchange in &briefing.exchanges {
        if exchange.after_conference && !after_conference_announced {
            html.open("p")
                .element("em", words.after_conference)
                .close("p");
            after_conference_announced = true;
        }
        write_exchange(
            &mut html,
            exchange,
            briefing.lang,
            briefing.spokesperson.as_deref(),
            &[],
        );
    }
    html.finish()
}

fn write_exchange(
    html: &mut Html,
    exchange: &Exchange,
    lang: Lang,
    spokesperson: Option<&str>,
    marks: &[Mark],
) {
    let words = labels(lang);
    let marks_of = |part: Part, paragraph: usize| -> Vec<Range<usize>> {
        marks
            .iter()
            .filter(|mark| mark.part == part && mark.paragraph == paragraph)
            .map(|mark| mark.range.clone())
            .collect()
    };
    if exchange.question.is_empty() {
        html.open("p").element("strong", &exchange.asker).close("p");
    }
    for (index, paragraph) in exchange.question.iter().enumerate() {
        html.open("p").open("strong");
        if index == 0 {
            html.text(&exchange.asker).text(words.colon);
        }
        write_marked(html, paragraph, &marks_of(Part::Question, index));
        html.close("strong").close("p");
    }
    for (index, paragraph) in exchange.answer.iter().enumerate() {
        html.open("p");
        if index == 0 {
            html.text(spokesperson.unwrap_or(words.answer))
                .text(words.colon);
        }
        write_marked(html, paragraph, &marks_of(Part::Answer, index));
        html.close("p");
    }
}

/// Text with `<mark>` around the given byte ranges; ranges out of bounds, off character
/// boundaries or overlapping an earlier one are ignored rather than trusted.
fn write_marked(html: &mut Html, text: &str, ranges: &[Range<usize>]) {
    let mut ranges: Vec<Range<usize>> = ranges
        .iter()
        .filter(|range| {
            range.start < range.end
                && range.end <= text.len()
                && text.is_char_boundary(range.start)
                && text.is_char_boundary(range.end)
        })
        .cloned()
        .collect();
    ranges.sort_by_key(|range| (range.start, range.end));
    let mut position = 0;
    for range in ranges {
        if range.start < position {
            continue;
        }
        html.text(&text[position..range.start]);
        html.element("mark", &text[range.clone()]);
        position = range.end;
    }
    html.text(&text[position..]);
}

fn ordinals(list: &[u32]) -> String {
    list.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn write_block(html: &mut Html, block: &ChangeBlock, lang: Lang, spokesperson: Option<&str>) {
    match block {
        ChangeBlock::ExchangeRemoved(exchange) => {
            html.element(
                "h3",
                &format!("Exchange {} removed ({})", exchange.ordinal, exchange.asker),
            );
            html.open("blockquote");
            write_exchange(html, exchange, lang, spokesperson, &[]);
            html.close("blockquote");
        }
        ChangeBlock::ExchangeAdded(exchange) => {
            html.element(
                "h3",
                &format!("Exchange {} added ({})", exchange.ordinal, exchange.asker),
            );
            html.open("blockquote");
            write_exchange(html, exchange, lang, spokesperson, &[]);
            html.close("blockquote");
        }
        ChangeBlock::Reworded { place, paragraphs } => {
            let heading = match place {
                Place::Title => "Title reworded".to_string(),
                Place::Opening => "Opening remarks reworded".to_string(),
                Place::Question { ordinal, asker } => {
                    format!("Exchange {ordinal} ({asker}): question reworded")
                }
                Place::Answer { ordinal, asker } => {
                    format!("Exchange {ordinal} ({asker}): answer reworded")
                }
                Place::Split { old, new } => {
                    format!("Exchange {old} split into exchanges {}", ordinals(new))
                }
                Place::Merged { old, new } => {
                    format!("Exchanges {} merged into exchange {new}", ordinals(old))
                }
            };
            html.element("h3", &heading);
            for paragraph in paragraphs {
                html.open("p");
                for segment in paragraph {
                    match segment {
                        Segment::Same(text) => {
                            html.text(text);
                        }
                        Segment::Deleted(text) => {
                            html.element("del", text);
                        }
                        Segment::Inserted(text) => {
                            html.element("ins", text);
                        }
                    }
                }
                html.close("p");
            }
        }
        ChangeBlock::Unpaired {
            exchange,
            missing_in,
        } => {
            let missing = match missing_in {
                Lang::En => "English",
                Lang::Zh => "Chinese",
            };
            html.element(
                "h3",
                &format!(
                    "Exchange {} ({}) has no counterpart in the {missing} transcript",
                    exchange.ordinal, exchange.asker
                ),
            );
            html.open("blockquote");
            write_exchange(html, exchange, lang, spokesperson, &[]);
            html.close("blockquote");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    fn exchange(ordinal: u32, asker: &str, question: &[&str], answer: &[&str]) -> Exchange {
        Exchange {
            ordinal,
            asker: asker.to_string(),
            question: question.iter().map(|text| text.to_string()).collect(),
            answer: answer.iter().map(|text| text.to_string()).collect(),
            after_conference: false,
        }
    }

    #[test]
    fn briefing_description_puts_asker_and_question_in_bold_then_the_answer() {
        let mut late = exchange(2, "Q", &["Late question?"], &["Late answer."]);
        late.after_conference = true;
        let briefing = Briefing {
            url: "https://www.fmprc.gov.cn/mfa_eng/t1.shtml".to_string(),
            lang: Lang::En,
            kind: Kind::PressConference,
            title: "Regular Press Conference".to_string(),
            date: None,
            published_at: None,
            spokesperson: Some("Zhao Lijian".to_string()),
            opening: vec!["Announcement.".to_string()],
            exchanges: vec![
                exchange(1, "CCTV", &["First?", "Follow-up?"], &["Yes.", "More."]),
                late,
            ],
            content_hash: String::new(),
            found_by: None,
            selector: None,
            date_from: None,
        };
        assert_eq!(
            briefing_html(&briefing),
            "<h3>Opening remarks</h3><p>Announcement.</p>\
             <p><strong>CCTV: First?</strong></p><p><strong>Follow-up?</strong></p>\
             <p>Zhao Lijian: Yes.</p><p>More.</p>\
             <p><em>The following question was raised after the press conference:</em></p>\
             <p><strong>Q: Late question?</strong></p><p>Zhao Lijian: Late answer.</p>"
        );
    }

    #[test]
    fn marks_wrap_valid_ranges_and_skip_bad_ones() {
        let mut html = Html::new();
        let text = "台湾 and Taiwan";
        write_marked(
            &mut html,
            text,
            &[
                0..6,
                11..17,
                1..3,
                Range { start: 5, end: 4 },
                15..99,
                12..14,
            ],
        );
        assert_eq!(html.finish(), "<mark>台湾</mark> and <mark>Taiwan</mark>");
    }

    #[test]
    fn reworded_paragraphs_use_del_and_ins() {
        let mut html = Html::new();
        write_block(
            &mut html,
            &ChangeBlock::Reworded {
                place: Place::Answer {
                    ordinal: 3,
                    asker: "AFP".to_string(),
                },
                paragraphs: vec![vec![
                    Segment::Same("We ".to_string()),
                    Segment::Deleted("firmly oppose".to_string()),
                    Segment::Inserted("note".to_string()),
                    Segment::Same(" <this>.".to_string()),
                ]],
            },
            Lang::En,
            None,
        );
        assert_eq!(
            html.finish(),
            "<h3>Exchange 3 (AFP): answer reworded</h3>\
             <p>We <del>firmly oppose</del><ins>note</ins> &lt;this&gt;.</p>"
        );
    }
}
