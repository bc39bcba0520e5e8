//! What a page is, decided from its title: kind, briefing date and spokesperson of the day.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

use crate::model::{Kind, Lang, SPOKESPERSONS};

/// Facts a title tells about its page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleFacts {
    pub kind: Kind,
    /// The briefing date named in the title (not the publication date, not the URL's).
    pub date: Option<NaiveDate>,
    /// The spokesperson named in the title, in the title's language.
    pub spokesperson: Option<String>,
}

/// Classify a page by its title.
pub fn classify_title(title: &str, lang: Lang) -> TitleFacts {
    match lang {
        Lang::En => TitleFacts {
            kind: english_kind(title),
            date: english_date(title),
            spokesperson: english_spokesperson(title),
        },
        Lang::Zh => TitleFacts {
            kind: chinese_kind(title),
            date: chinese_date(title),
            spokesperson: chinese_spokesperson(title),
        },
    }
}

fn english_kind(title: &str) -> Kind {
    let lower = title.to_lowercase();
    if lower.contains("press conference") || lower.contains("daily briefing") {
        Kind::PressConference
    } else if lower.contains("remarks") || lower.contains("comments") {
        Kind::Remarks
    } else if lower.contains("answers to journalists")
        || lower.contains("answer to journalists")
        || lower.contains("answers journalist")
        || lower.contains("answers a journalist")
        || lower.contains("q&a")
    {
        Kind::Qa
    } else if lower.contains("statement") {
        Kind::Statement
    } else {
        Kind::Other
    }
}

fn chinese_kind(title: &str) -> Kind {
    if title.contains("例行记者会") {
        Kind::PressConference
    } else if title.contains("答记者问") {
        Kind::Qa
    } else if title.contains("发表谈话") || title.contains("声明") {
        Kind::Statement
    } else if title.contains("表态") || title.contains("评论") {
        Kind::Remarks
    } else {
        Kind::Other
    }
}

static ENGLISH_MONTH_FIRST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?\s*(\d{1,2}),?\s+(\d{4})\b",
    )
    .expect("valid regex")
});

static ENGLISH_DAY_FIRST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(\d{1,2})\s+(January|February|March|April|May|June|July|August|September|October|November|December)\s+(\d{4})\b",
    )
    .expect("valid regex")
});

pub(super) fn month_number(name: &str) -> Option<u32> {
    let prefix: String = name.chars().take(3).collect::<String>().to_lowercase();
    let months = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    months
        .iter()
        .position(|month| *month == prefix)
        .map(|index| index as u32 + 1)
}

fn english_date(title: &str) -> Option<NaiveDate> {
    if let Some(captures) = ENGLISH_MONTH_FIRST.captures(title) {
        let month = month_number(&captures[1])?;
        return NaiveDate::from_ymd_opt(
            captures[3].parse().ok()?,
            month,
            captures[2].parse().ok()?,
        );
    }
    let captures = ENGLISH_DAY_FIRST.captures(title)?;
    let month = month_number(&captures[2])?;
    NaiveDate::from_ymd_opt(captures[3].parse().ok()?, month, captures[1].parse().ok()?)
}

static CHINESE_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日").expect("valid regex")
});

fn chinese_date(title: &str) -> Option<NaiveDate> {
    let captures = CHINESE_DATE.captures(title)?;
    NaiveDate::from_ymd_opt(
        captures[1].parse().ok()?,
        captures[2].parse().ok()?,
        captures[3].parse().ok()?,
    )
}

static ENGLISH_UNKNOWN_SPOKESPERSON: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Spokesperson\s+((?:[A-Z][a-z]+)(?:\s+[A-Z][a-z]+){1,2})(?:'s|’s|\s+(?:Answers|Remarks|Comments))")
        .expect("valid regex")
});

fn english_spokesperson(title: &str) -> Option<String> {
    let lower = title.to_lowercase();
    if let Some((english, _)) = SPOKESPERSONS
        .iter()
        .find(|(english, _)| lower.contains(&english.to_lowercase()))
    {
        return Some((*english).to_string());
    }
    ENGLISH_UNKNOWN_SPOKESPERSON
        .captures(title)
        .map(|captures| captures[1].to_string())
}

static CHINESE_UNKNOWN_SPOKESPERSON: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"发言人(\p{Han}{2,3}?)(?:主持|就|答|发表|表示|：)").expect("valid regex")
});

fn chinese_spokesperson(title: &str) -> Option<String> {
    if let Some((_, chinese)) = SPOKESPERSONS
        .iter()
        .find(|(_, chinese)| title.contains(chinese))
    {
        return Some((*chinese).to_string());
    }
    CHINESE_UNKNOWN_SPOKESPERSON
        .captures(title)
        .map(|captures| captures[1].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn english_titles() {
        let facts = classify_title(
            "Foreign Ministry Spokesperson Zhao Lijian's Regular Press Conference on July 3, 2020",
            Lang::En,
        );
        assert_eq!(facts.kind, Kind::PressConference);
        assert_eq!(facts.date, date(2020, 7, 3));
        assert_eq!(facts.spokesperson.as_deref(), Some("Zhao Lijian"));

        let facts = classify_title(
            "Foreign Ministry Spokesperson Geng Shuang's Daily Briefing Online on February 21, 2020",
            Lang::En,
        );
        assert_eq!(facts.kind, Kind::PressConference);
        assert_eq!(facts.date, date(2020, 2, 21));

        let facts = classify_title(
            "Foreign Ministry Spokesperson Hua Chunying's Remarks on US House Speaker Nancy Pelosi's Erroneous Remarks on Hong Kong",
            Lang::En,
        );
        assert_eq!(facts.kind, Kind::Remarks);
        assert_eq!(facts.date, None);
        assert_eq!(facts.spokesperson.as_deref(), Some("Hua Chunying"));

        let facts = classify_title(
            "Foreign Ministry Spokesperson Li Ming’s Regular Press Conference on 5 March 2031",
            Lang::En,
        );
        assert_eq!(facts.spokesperson.as_deref(), Some("Li Ming"));
        assert_eq!(facts.date, date(2031, 3, 5));
    }

    #[test]
    fn chinese_titles() {
        let facts = classify_title("2020年7月3日外交部发言人赵立坚主持例行记者会", Lang::Zh);
        assert_eq!(facts.kind, Kind::PressConference);
        assert_eq!(facts.date, date(2020, 7, 3));
        assert_eq!(facts.spokesperson.as_deref(), Some("赵立坚"));

        let facts = classify_title("外交部发言人耿爽就台湾选举答记者问", Lang::Zh);
        assert_eq!(facts.kind, Kind::Qa);
        assert_eq!(facts.date, None);
        assert_eq!(facts.spokesperson.as_deref(), Some("耿爽"));

        let facts = classify_title("外交部发言人就全国人大会议涉港议程发表谈话", Lang::Zh);
        assert_eq!(facts.kind, Kind::Statement);
        assert_eq!(facts.spokesperson, None);

        let facts = classify_title("中国政府向苏丹派遣抗疫医疗专家组", Lang::Zh);
        assert_eq!(facts.kind, Kind::Other);

        let facts = classify_title("2031年3月5日外交部发言人李明主持例行记者会", Lang::Zh);
        assert_eq!(facts.spokesperson.as_deref(), Some("李明"));
    }
}
