//! The briefing date when the title leaves it out: completed from the publication time, the
//! date beside the link on the listing, or the listing's neighbours, and where it came from.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use regex::Regex;

use super::TitleFacts;
use crate::model::{DateFrom, Lang};

/// What is known about a page besides its title, for dating it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DateEvidence {
    /// The page's publication time.
    pub published_at: Option<DateTime<FixedOffset>>,
    /// The date the listing shows beside the link.
    pub listing: Option<NaiveDate>,
    /// The dates of the items listed just above (newer) and just below (older) it.
    pub newer_neighbour: Option<NaiveDate>,
    pub older_neighbour: Option<NaiveDate>,
}

/// The date of a page: the title's, else the title's month and day in the year the evidence
/// points to, else the publication date, the listing's date, the neighbours' date.
pub fn infer_date(
    title: &str,
    lang: Lang,
    facts: &TitleFacts,
    evidence: &DateEvidence,
) -> Option<(NaiveDate, DateFrom)> {
    if let Some(date) = facts.date {
        return Some((date, DateFrom::Title));
    }
    let published = evidence.published_at.map(|time| time.date_naive());
    let neighbours = match (evidence.newer_neighbour, evidence.older_neighbour) {
        (Some(newer), Some(older)) if older <= newer => Some((older, newer)),
        (Some(only), None) | (None, Some(only)) => Some((only, only)),
        _ => None,
    };
    if let Some((month, day)) = month_and_day(title, lang) {
        // The briefing precedes its publication (and its listing date) by days, not years.
        for (anchor, from) in [
            (published, DateFrom::PublishedAt),
            (evidence.listing, DateFrom::Listing),
            (neighbours.map(|(_, newer)| newer), DateFrom::Neighbours),
        ] {
            if let Some(date) = anchor.and_then(|anchor| latest_on_or_before(anchor, month, day)) {
                return Some((date, from));
            }
        }
    }
    if let Some(date) = published {
        return Some((date, DateFrom::PublishedAt));
    }
    if let Some(date) = evidence.listing {
        return Some((date, DateFrom::Listing));
    }
    // Listed newest first: the page was published between its neighbours; the one below it
    // was published no later than it.
    neighbours.map(|(older, _)| (older, DateFrom::Neighbours))
}

/// [`infer_date`] with what the page itself shows: the extractor's first guess.
pub(super) fn article_date(
    title: &str,
    lang: Lang,
    facts: &TitleFacts,
    published_at: Option<DateTime<FixedOffset>>,
) -> (Option<NaiveDate>, Option<DateFrom>) {
    let evidence = DateEvidence {
        published_at,
        ..DateEvidence::default()
    };
    match infer_date(title, lang, facts, &evidence) {
        Some((date, from)) => (Some(date), Some(from)),
        None => (None, None),
    }
}

/// `month day` on or before `anchor`: this year's, else last year's.
fn latest_on_or_before(anchor: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    [anchor.year(), anchor.year() - 1]
        .into_iter()
        .filter_map(|year| NaiveDate::from_ymd_opt(year, month, day))
        .find(|date| *date <= anchor)
}

static ENGLISH_MONTH_DAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?\s*(\d{1,2})\b",
    )
    .expect("valid regex")
});

static CHINESE_MONTH_DAY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d{1,2})\s*月\s*(\d{1,2})\s*日").expect("valid regex"));

/// A month and day a title names without a year ("…Press Conference on September 10").
fn month_and_day(title: &str, lang: Lang) -> Option<(u32, u32)> {
    match lang {
        Lang::En => {
            let captures = ENGLISH_MONTH_DAY.captures(title)?;
            Some((
                super::classify::month_number(&captures[1])?,
                captures[2].parse().ok()?,
            ))
        }
        Lang::Zh => {
            let captures = CHINESE_MONTH_DAY.captures(title)?;
            Some((captures[1].parse().ok()?, captures[2].parse().ok()?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::classify_title;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn published(text: &str) -> Option<DateTime<FixedOffset>> {
        DateTime::parse_from_rfc3339(text).ok()
    }

    fn infer(title: &str, lang: Lang, evidence: DateEvidence) -> Option<(NaiveDate, DateFrom)> {
        infer_date(title, lang, &classify_title(title, lang), &evidence)
    }

    #[test]
    fn a_title_without_a_year_takes_it_from_the_evidence() {
        let title =
            "Foreign Ministry Spokesperson Lu Kang's Regular Press Conference on September 10";
        let by_publication = DateEvidence {
            published_at: published("2018-09-10T21:19:00+08:00"),
            ..DateEvidence::default()
        };
        assert_eq!(
            infer(title, Lang::En, by_publication),
            Some((date("2018-09-10"), DateFrom::PublishedAt))
        );
        // Published on 2 January: the briefing of "December 31" was the year before.
        let new_year =
            "Foreign Ministry Spokesperson Lu Kang's Regular Press Conference on December 31";
        let january = DateEvidence {
            published_at: published("2019-01-02T09:00:00+08:00"),
            ..DateEvidence::default()
        };
        assert_eq!(
            infer(new_year, Lang::En, january),
            Some((date("2018-12-31"), DateFrom::PublishedAt))
        );
        let by_neighbours = DateEvidence {
            newer_neighbour: Some(date("2018-09-11")),
            older_neighbour: Some(date("2018-09-07")),
            ..DateEvidence::default()
        };
        assert_eq!(
            infer(title, Lang::En, by_neighbours),
            Some((date("2018-09-10"), DateFrom::Neighbours))
        );
        assert_eq!(infer(title, Lang::En, DateEvidence::default()), None);
    }

    #[test]
    fn a_malformed_title_date_is_still_the_titles() {
        let title =
            "Foreign Ministry Spokesperson Lu Kang's Regular Press Conference on June11, 2018";
        assert_eq!(
            infer(title, Lang::En, DateEvidence::default()),
            Some((date("2018-06-11"), DateFrom::Title))
        );
    }

    #[test]
    fn undated_items_take_the_publication_date_then_the_listing() {
        let statement = "外交部发言人就全国人大会议涉港议程发表谈话";
        let evidence = DateEvidence {
            published_at: published("2020-05-21T22:00:00+08:00"),
            listing: Some(date("2020-05-22")),
            ..DateEvidence::default()
        };
        assert_eq!(
            infer(statement, Lang::Zh, evidence),
            Some((date("2020-05-21"), DateFrom::PublishedAt))
        );
        let listed = DateEvidence {
            listing: Some(date("2020-05-22")),
            ..DateEvidence::default()
        };
        assert_eq!(
            infer(statement, Lang::Zh, listed),
            Some((date("2020-05-22"), DateFrom::Listing))
        );
        let remarks = "Foreign Ministry Spokesperson Hua Chunying's Remarks on Hong Kong";
        let between = DateEvidence {
            newer_neighbour: Some(date("2020-05-29")),
            older_neighbour: Some(date("2020-05-28")),
            ..DateEvidence::default()
        };
        assert_eq!(
            infer(remarks, Lang::En, between),
            Some((date("2020-05-28"), DateFrom::Neighbours))
        );
    }
}
