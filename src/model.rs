//! The structured record every pipeline stage passes along: a briefing, its exchanges, listing items.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

mod answer;
mod event;
pub use answer::{Outcome, Validators};
pub use event::EventKind;

/// Language of a page; each source is one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    pub fn parse(text: &str) -> Option<Lang> {
        match text {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }
}

/// What a page of the spokesperson's column is, decided from its title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    PressConference,
    Remarks,
    Qa,
    Statement,
    Other,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PressConference => "press_conference",
            Kind::Remarks => "remarks",
            Kind::Qa => "qa",
            Kind::Statement => "statement",
            Kind::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        [
            Kind::PressConference,
            Kind::Remarks,
            Kind::Qa,
            Kind::Statement,
            Kind::Other,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

/// One question and its answer, in the order the transcript gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    /// 1-based position in the transcript.
    pub ordinal: u32,
    /// The outlet that asked, or `Q` / `问` when the transcript is anonymous.
    pub asker: String,
    /// Question paragraphs, follow-ups included, labels stripped from the first.
    pub question: Vec<String>,
    /// Answer paragraphs, interjections included, the spokesperson label stripped from the first.
    pub answer: Vec<String>,
    /// Raised after the press conference ("The following question was raised…", 会后有记者问及).
    pub after_conference: bool,
}

/// Where the text of a briefing outside its exchanges stands as a passage of its own: search and
/// alerts number it 0, before the first exchange (numbered from 1).
pub const TEXT_PASSAGE: u32 = 0;

/// One page of the ministry, extracted and normalized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Briefing {
    pub url: String,
    pub lang: Lang,
    pub kind: Kind,
    pub title: String,
    /// The briefing date, from the title; never from the URL path.
    pub date: Option<NaiveDate>,
    /// Publication time as the page shows it (Beijing time).
    pub published_at: Option<DateTime<FixedOffset>>,
    pub spokesperson: Option<String>,
    /// Announcements before the first question.
    pub opening: Vec<String>,
    pub exchanges: Vec<Exchange>,
    /// SHA-256 (hex) of the canonical text rendering; equal hashes mean equal content.
    pub content_hash: String,
    /// How the transcript was found: by a selector of the profile, or by the content fallback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_by: Option<FoundBy>,
    /// The body selector that found the transcript, when `found_by` is `selector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Where `date` came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_from: Option<DateFrom>,
}

/// How a page's transcript was located.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FoundBy {
    /// A CSS selector of the profile (configured or built in).
    Selector,
    /// The content-based fallback: the block carrying the transcript's own signals.
    Fallback,
}

impl FoundBy {
    pub fn as_str(self) -> &'static str {
        match self {
            FoundBy::Selector => "selector",
            FoundBy::Fallback => "fallback",
        }
    }

    pub fn parse(text: &str) -> Option<FoundBy> {
        [FoundBy::Selector, FoundBy::Fallback]
            .into_iter()
            .find(|found_by| found_by.as_str() == text)
    }
}

/// The evidence a briefing date was taken from, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateFrom {
    /// The title names the full date.
    Title,
    /// The page's publication time (the date itself, or the year a title leaves out).
    PublishedAt,
    /// The date the listing shows beside the link.
    Listing,
    /// The dates of the items next to it on the listing (newest first).
    Neighbours,
}

impl DateFrom {
    pub fn as_str(self) -> &'static str {
        match self {
            DateFrom::Title => "title",
            DateFrom::PublishedAt => "published_at",
            DateFrom::Listing => "listing",
            DateFrom::Neighbours => "neighbours",
        }
    }

    pub fn parse(text: &str) -> Option<DateFrom> {
        [
            DateFrom::Title,
            DateFrom::PublishedAt,
            DateFrom::Listing,
            DateFrom::Neighbours,
        ]
        .into_iter()
        .find(|from| from.as_str() == text)
    }
}

impl Briefing {
    /// The briefing's own text outside the question-and-answer exchanges, shaped as an exchange
    /// numbered [`TEXT_PASSAGE`] with no asker and no question, so that search and alert rules
    /// treat it like the others: the title, then the opening (a press conference's opening
    /// remarks, or the whole body of a statement, or of remarks that take no questions), as the
    /// ministry's words in the `answer` paragraphs.
    pub fn text_passage(&self) -> Exchange {
        Exchange {
            ordinal: TEXT_PASSAGE,
            asker: String::new(),
            question: Vec::new(),
            answer: std::iter::once(self.title.clone())
                .chain(self.opening.iter().cloned())
                .filter(|paragraph| !paragraph.trim().is_empty())
                .collect(),
            after_conference: false,
        }
    }

    /// Every passage that search and alerts look at: the text passage, then each exchange.
    pub fn passages(&self) -> impl Iterator<Item = std::borrow::Cow<'_, Exchange>> {
        std::iter::once(std::borrow::Cow::Owned(self.text_passage()))
            .chain(self.exchanges.iter().map(std::borrow::Cow::Borrowed))
    }
}

impl Kind {
    /// What a briefing's text outside its exchanges is called, in the briefing's language.
    pub fn text_label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Kind::PressConference, Lang::En) => "Opening remarks",
            (Kind::PressConference, Lang::Zh) => "开场发布",
            (Kind::Statement, Lang::En) => "Statement",
            (Kind::Statement, Lang::Zh) => "谈话",
            (Kind::Remarks, Lang::En) => "Remarks",
            (Kind::Remarks, Lang::Zh) => "表态",
            (Kind::Qa | Kind::Other, Lang::En) => "Text",
            (Kind::Qa | Kind::Other, Lang::Zh) => "正文",
        }
    }
}

/// One link of a listing page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingItem {
    /// Absolute URL, resolved against the listing page.
    pub url: String,
    pub title: String,
    /// The date the listing shows beside the link, if any.
    pub date: Option<NaiveDate>,
}

/// A parsed listing page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    pub items: Vec<ListingItem>,
    /// Total number of pages announced by the pager script.
    pub page_count: Option<u32>,
}

/// The ministry's spokespersons so far, as (English, Chinese) names: the one list that names them,
/// for telling the spokesperson's answers from questions, reading titles and filtering searches.
pub const SPOKESPERSONS: &[(&str, &str)] = &[
    ("Lu Kang", "陆慷"),
    ("Hua Chunying", "华春莹"),
    ("Geng Shuang", "耿爽"),
    ("Zhao Lijian", "赵立坚"),
    ("Wang Wenbin", "汪文斌"),
    ("Mao Ning", "毛宁"),
    ("Lin Jian", "林剑"),
    ("Guo Jiakun", "郭嘉昆"),
];
