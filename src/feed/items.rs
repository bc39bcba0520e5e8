//! Plain inputs of the feeds (briefings, archive events, keyword hits) and their rendering into
//! feed items with stable guids and readable HTML.

use std::ops::Range;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};

use super::html::Html;
use super::{FeedItem, FeedSettings};
pub use crate::diff::present::{ChangeBlock, Place, Segment, UnpairedNote};
use crate::diff::present::{ChangeFacts, Headline, headline, pairing_line};
pub use crate::model::EventKind;
use crate::model::{Briefing, Exchange, Kind, Lang};

/// The guid namespace: `tag:` URIs (RFC 4151) are stable, unique and obviously not links.
const GUID_PREFIX: &str = "tag:briefwatch,2024:";

fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// The time of day, in Beijing time, of an item known only by its date: 15:00, when the regular
/// press conference begins. Midnight would show the previous day to every reader west of
/// Beijing; 15:00 is the day's own afternoon in Asia and Europe, early morning in the Americas.
pub const DATE_ONLY_TIME: NaiveTime = match NaiveTime::from_hms_opt(15, 0, 0) {
    Some(time) => time,
    None => panic!("15:00 is a valid time"),
};

/// `date` at [`DATE_ONLY_TIME`] in Beijing.
fn beijing_date(date: NaiveDate) -> DateTime<FixedOffset> {
    beijing()
        .from_local_datetime(&date.and_time(DATE_ONLY_TIME))
        .single()
        .expect("a fixed offset maps every local time once")
}

/// When a document happened, as the feeds date and order it; never when briefwatch fetched it.
///
/// A press conference is dated by its briefing date (from the title), at the publication time
/// when the page gives one on that day. Any other document is dated by its publication time,
/// else by its title's date, else by the date the archive holds for it (`archive_date`, e.g.
/// from the listing). A publication time of exactly midnight is how a page showing only a date
/// is read, so it gets [`DATE_ONLY_TIME`]. A date more than a day after `fetched_at` (when the
/// page was fetched) is a misprint, not news from the future, and the next source is used.
/// `None`: no date is known, and the document is left out of the date-ordered feeds.
pub fn document_date(
    briefing: &Briefing,
    archive_date: Option<NaiveDate>,
    fetched_at: Option<DateTime<Utc>>,
) -> Option<DateTime<FixedOffset>> {
    let page = PageDates {
        kind: Some(briefing.kind),
        date: briefing.date,
        published_at: briefing.published_at,
    };
    page.document_date(archive_date, fetched_at)
}

/// What a page says about its own date: what [`document_date`] reads of a briefing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageDates {
    pub kind: Option<Kind>,
    /// The briefing date, from the title.
    pub date: Option<NaiveDate>,
    pub published_at: Option<DateTime<FixedOffset>>,
}

impl PageDates {
    /// See [`document_date`].
    pub fn document_date(
        &self,
        archive_date: Option<NaiveDate>,
        fetched_at: Option<DateTime<Utc>>,
    ) -> Option<DateTime<FixedOffset>> {
        let believable = |at: &DateTime<FixedOffset>| {
            fetched_at.is_none_or(|fetched| *at <= fetched + chrono::TimeDelta::days(1))
        };
        let published = self
            .published_at
            .map(|at| {
                let at = at.with_timezone(&beijing());
                if at.time() == NaiveTime::MIN {
                    beijing_date(at.date_naive())
                } else {
                    at
                }
            })
            .filter(believable);
        if self.kind == Some(Kind::PressConference)
            && let Some(date) = self.date.map(beijing_date).filter(believable)
        {
            return Some(
                published
                    .filter(|at| at.date_naive() == date.date_naive())
                    .unwrap_or(date),
            );
        }
        published
            .or_else(|| self.date.map(beijing_date).filter(believable))
            .or_else(|| archive_date.map(beijing_date).filter(believable))
    }
}

/// One briefing as the latest stored revision has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BriefingEntry {
    pub briefing: Briefing,
    /// The date the archive holds for the document besides the page's own (`documents.briefing_date`),
    /// used when the page shows none: see [`document_date`].
    pub archive_date: Option<NaiveDate>,
    /// When this revision was fetched: page dates far beyond it are not believed.
    pub fetched_at: Option<DateTime<Utc>>,
}

impl BriefingEntry {
    /// The guid depends only on the page's URL, so an edited transcript never shows up as a new item.
    pub fn guid(&self) -> String {
        format!("{GUID_PREFIX}briefing:{}", self.briefing.url)
    }

    /// The item's date: see [`document_date`].
    pub fn date(&self) -> Option<DateTime<FixedOffset>> {
        document_date(&self.briefing, self.archive_date, self.fetched_at)
    }

    /// `None` for a document with no known date: it cannot be placed in a date-ordered feed.
    pub fn to_item(&self) -> Option<FeedItem> {
        let briefing = &self.briefing;
        let pub_date = self.date()?;
        let mut categories = vec![("kind".to_string(), briefing.kind.as_str().to_string())];
        if let Some(spokesperson) = &briefing.spokesperson {
            categories.push(("spokesperson".to_string(), spokesperson.clone()));
        }
        Some(FeedItem {
            guid: self.guid(),
            title: briefing.title.clone(),
            link: Some(briefing.url.clone()),
            pub_date,
            creator: briefing.spokesperson.clone(),
            categories,
            description_html: briefing_html(briefing),
        })
    }
}

/// One change the revisions feed reports: an archive event, with the events stored alongside it
/// (removed exchanges, pairing) folded in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEntry {
    /// The leading event's id, which makes the guid.
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
    /// What the archive saw, for `gone` and `restored` (`the ministry's server answers 404 Not
    /// Found`, `the page now leads to the ministry's error page`).
    pub seen: Option<String>,
    /// Exchanges a revision left without a counterpart in the other language.
    pub pairing: Vec<UnpairedNote>,
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

    /// briefwatch's copy of the page: the last version archived before it was taken down, the
    /// latest one otherwise.
    pub fn archive_url(&self, settings: &FeedSettings) -> String {
        match (self.kind, self.from_seq) {
            (EventKind::Gone, Some(last)) => {
                settings.url(&format!("b/{}?rev={last}", self.document_id))
            }
            _ => settings.url(&format!("b/{}", self.document_id)),
        }
    }

    /// The item's words, from the presenter.
    fn headline(&self) -> Headline {
        headline(&ChangeFacts {
            kind: self.kind,
            from_seq: self.from_seq,
            to_seq: self.to_seq,
            blocks: &self.blocks,
            seen: self.seen.as_deref(),
        })
    }

    pub fn to_item(&self, settings: &FeedSettings) -> FeedItem {
        let words = self.headline();
        let mut html = Html::new();
        html.element("p", &words.summary);
        if let Some(line) = pairing_line(self.lang, &self.pairing) {
            html.element("p", &line);
        }
        for block in &self.blocks {
            write_block(&mut html, block, self.lang, self.spokesperson.as_deref());
        }
        html.open("p");
        html.link(&self.url, "Ministry page");
        html.text(" · ");
        html.link(&self.archive_url(settings), "Archived copy on briefwatch");
        if let Some(diff_url) = self.diff_url(settings) {
            html.text(" · ");
            html.link(&diff_url, "Diff on briefwatch");
        }
        html.close("p");
        FeedItem {
            guid: self.guid(),
            title: format!("{}: {}", words.prefix, self.title),
            // The ministry's page of a taken-down transcript is dead: the item leads to the copy.
            link: Some(match self.kind {
                EventKind::Gone => self.archive_url(settings),
                _ => self.url.clone(),
            }),
            pub_date: self.occurred_at.fixed_offset(),
            creator: self.spokesperson.clone(),
            categories: vec![
                ("event".to_string(), self.kind.as_str().to_string()),
                ("lang".to_string(), self.lang.as_str().to_string()),
            ],
            description_html: html.finish(),
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
    /// The briefing's date (see [`document_date`]), which dates the item.
    pub date: DateTime<FixedOffset>,
    pub url: String,
    pub lang: Lang,
    pub title: String,
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
        Quote {
            exchange: &self.exchange,
            lang: self.lang,
            spokesperson: self.spokesperson.as_deref(),
            marks: &self.marks,
            url: &self.url,
            title: &self.title,
            view: None,
        }
        .write(&mut html);
        FeedItem {
            guid: self.guid(),
            title: format!("{terms}: {} ({})", self.exchange.asker, self.title),
            link: Some(self.url.clone()),
            pub_date: self.date,
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

/// One passage quoted in full: the exchange in a blockquote with its matched terms marked, then
/// a line linking to the ministry's page, and to briefwatch's view of it when there is one.
pub(super) struct Quote<'a> {
    pub exchange: &'a Exchange,
    pub lang: Lang,
    pub spokesperson: Option<&'a str>,
    pub marks: &'a [Mark],
    pub url: &'a str,
    pub title: &'a str,
    pub view: Option<&'a str>,
}

impl Quote<'_> {
    pub(super) fn write(&self, html: &mut Html) {
        html.open("blockquote");
        write_exchange(
            html,
            self.exchange,
            self.lang,
            self.spokesperson,
            self.marks,
        );
        html.close("blockquote");
        html.open("p").link(self.url, self.title);
        if let Some(view) = self.view {
            html.text(" · ").link(view, "briefwatch");
        }
        html.close("p");
    }
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
        // The briefing's own text (numbered 0) is named above by its `asker` line.
        if index == 0 && exchange.ordinal != crate::model::TEXT_PASSAGE {
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

/// A block of a change as HTML: its heading, then the exchange quoted or the reworded
/// paragraphs with `<del>` and `<ins>`.
fn write_block(html: &mut Html, block: &ChangeBlock, lang: Lang, spokesperson: Option<&str>) {
    html.element("h3", &block.heading());
    match block {
        ChangeBlock::ExchangeRemoved(exchange)
        | ChangeBlock::ExchangeAdded(exchange)
        | ChangeBlock::Unpaired { exchange, .. } => {
            html.open("blockquote");
            write_exchange(html, exchange, lang, spokesperson, &[]);
            html.close("blockquote");
        }
        ChangeBlock::Reworded { paragraphs, .. } => {
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

    fn dated(kind: Kind, date: Option<&str>, published_at: Option<&str>) -> Briefing {
        Briefing {
            url: "https://www.fmprc.gov.cn/mfa_eng/t1.shtml".to_string(),
            lang: Lang::En,
            kind,
            title: "Title".to_string(),
            date: date.map(|date| date.parse().unwrap()),
            published_at: published_at.map(|at| DateTime::parse_from_rfc3339(at).unwrap()),
            spokesperson: None,
            opening: vec![],
            exchanges: vec![],
            content_hash: String::new(),
            found_by: None,
            selector: None,
            date_from: None,
        }
    }

    fn rfc3339(date: Option<DateTime<FixedOffset>>) -> Option<String> {
        date.map(|date| date.to_rfc3339())
    }

    #[test]
    fn press_conferences_are_dated_by_the_briefing_date_at_the_page_time_of_that_day() {
        let conference =
            |published_at| dated(Kind::PressConference, Some("2020-07-03"), published_at);
        assert_eq!(
            rfc3339(document_date(&conference(None), None, None)),
            Some("2020-07-03T15:00:00+08:00".to_string()),
            "a date-only briefing gets 15:00 Beijing time"
        );
        assert_eq!(
            rfc3339(document_date(
                &conference(Some("2020-07-03T21:19:00+08:00")),
                None,
                None
            )),
            Some("2020-07-03T21:19:00+08:00".to_string())
        );
        assert_eq!(
            rfc3339(document_date(
                &conference(Some("2020-07-03T00:00:00+08:00")),
                None,
                None
            )),
            Some("2020-07-03T15:00:00+08:00".to_string()),
            "midnight is a page that shows the date only"
        );
        assert_eq!(
            rfc3339(document_date(
                &conference(Some("2020-07-06T09:30:00+08:00")),
                None,
                None
            )),
            Some("2020-07-03T15:00:00+08:00".to_string()),
            "a transcript posted days later still belongs to its briefing's day"
        );
    }

    #[test]
    fn other_documents_are_dated_by_publication_then_title_then_archive_date() {
        let statement = dated(Kind::Statement, None, Some("2020-06-30T23:10:00+08:00"));
        assert_eq!(
            rfc3339(document_date(&statement, None, None)),
            Some("2020-06-30T23:10:00+08:00".to_string())
        );
        let in_utc = dated(Kind::Qa, None, Some("2020-06-30T16:00:00+00:00"));
        assert_eq!(
            rfc3339(document_date(&in_utc, None, None)),
            Some("2020-07-01T15:00:00+08:00".to_string()),
            "midnight in Beijing, whatever offset it was written with"
        );
        let titled = dated(Kind::Remarks, Some("2019-08-05"), None);
        assert_eq!(
            rfc3339(document_date(
                &titled,
                NaiveDate::from_ymd_opt(2019, 8, 9),
                None
            )),
            Some("2019-08-05T15:00:00+08:00".to_string())
        );
        let undated = dated(Kind::Remarks, None, None);
        assert_eq!(
            rfc3339(document_date(
                &undated,
                NaiveDate::from_ymd_opt(2019, 8, 9),
                None
            )),
            Some("2019-08-09T15:00:00+08:00".to_string())
        );
        assert_eq!(document_date(&undated, None, None), None);
        let entry = BriefingEntry {
            briefing: undated,
            archive_date: None,
            fetched_at: None,
        };
        assert_eq!(entry.to_item(), None, "no date, no item");
    }

    #[test]
    fn dates_far_beyond_the_fetch_are_misprints() {
        let fetched = DateTime::parse_from_rfc3339("2020-07-03T13:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut misprint = dated(Kind::PressConference, Some("2202-07-03"), None);
        misprint.published_at = DateTime::parse_from_rfc3339("2020-07-03T21:19:00+08:00").ok();
        assert_eq!(
            rfc3339(document_date(&misprint, None, Some(fetched))),
            Some("2020-07-03T21:19:00+08:00".to_string()),
            "the publication time instead of a title year from the future"
        );
        let same_day = dated(Kind::PressConference, Some("2020-07-03"), None);
        assert_eq!(
            rfc3339(document_date(&same_day, None, Some(fetched))),
            Some("2020-07-03T15:00:00+08:00".to_string()),
            "a page of today fetched before 15:00 Beijing time keeps its date"
        );
        let only_misprints = dated(Kind::Statement, Some("2202-07-03"), None);
        assert_eq!(document_date(&only_misprints, None, Some(fetched)), None);
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
